//! Every key format of the single table, in one place.
//!
//! Base table: `PK`/`SK`. `GSI1` (`GSI1PK`/`GSI1SK`) is the global article
//! list, partitioned by month so that the index's partitions stay bounded
//! (the month's counter is sharded: see [`BUCKET_SHARDS`]).
//! `GSI2` (`GSI2PK`/`GSI2SK`) lists an author's articles, a user's
//! favorites, comments and followers, and the feeds an article was delivered to. Sort keys that order articles are article ids: ULIDs, which
//! sort by creation time.

pub const USER: &str = "USER";
pub const ARTICLE: &str = "ARTICLE";
pub const GSI1: &str = "GSI1";
pub const GSI2: &str = "GSI2";

pub fn user(id: &str) -> (String, String) {
    (format!("USER#{id}"), USER.to_owned())
}

/// The user whose partition `partition_key` is (`USER#<id>`): a user's
/// item and their follows live there.
pub fn user_of(partition_key: &str) -> Option<&str> {
    partition_key.strip_prefix("USER#")
}

/// Guard item that makes a username unique (case-insensitively).
pub fn username(name: &str) -> (String, String) {
    (
        format!("USERNAME#{}", name.to_lowercase()),
        "USERNAME".to_owned(),
    )
}

/// Guard item that makes an email unique; emails are normalised before this.
pub fn email(email: &str) -> (String, String) {
    (format!("EMAIL#{email}"), "EMAIL".to_owned())
}

pub const SESSION_PREFIX: &str = "SESSION#";

/// One of a user's sign-in sessions, in the user's partition.
pub fn session(user_id: &str, session_id: &str) -> (String, String) {
    (
        format!("USER#{user_id}"),
        format!("{SESSION_PREFIX}{session_id}"),
    )
}

pub const FOLLOWS_PREFIX: &str = "FOLLOWS#";

/// `follower` follows `followee`; lives in the follower's partition.
pub fn follow(follower: &str, followee: &str) -> (String, String) {
    (
        format!("USER#{follower}"),
        format!("{FOLLOWS_PREFIX}{followee}"),
    )
}

/// GSI2 partition listing a user's followers (the follow items, by follower id).
pub fn followers_of(user_id: &str) -> String {
    format!("FOLLOWERS#{user_id}")
}

/// GSI2 partition listing the users whose feeds pull `user_id`'s articles
/// at read time instead of receiving them.
pub fn pullers_of(user_id: &str) -> String {
    format!("PULLERS#{user_id}")
}

/// An article delivered to a reader's feed: the reader's feed partition,
/// newest first by article id.
pub fn feed_entry(reader_id: &str, article_id: &str) -> (String, String) {
    (feed_partition(reader_id), article_id.to_owned())
}

pub fn feed_partition(reader_id: &str) -> String {
    format!("FEED#{reader_id}")
}

/// GSI2 partition listing the feed entries of one article, so that its
/// deletion can take it out of exactly the feeds it reached.
pub fn delivered(article_id: &str) -> String {
    format!("INFEEDS#{article_id}")
}

/// A key no item ever has: read at start-up to open the connection
/// ([`Db::connect`](super::Db::connect)).
pub fn nothing() -> (String, String) {
    ("NOTHING".to_owned(), "NOTHING".to_owned())
}

pub fn article(id: &str) -> (String, String) {
    (format!("ARTICLE#{id}"), ARTICLE.to_owned())
}

/// Guard item mapping a slug to its article, and making slugs unique.
pub fn slug(slug: &str) -> (String, String) {
    (format!("SLUG#{slug}"), "SLUG".to_owned())
}

pub const COMMENT_PREFIX: &str = "COMMENT#";

/// Comments live in their article's partition, ordered by their integer id.
pub fn comment(article_id: &str, comment_id: u64) -> (String, String) {
    (
        format!("ARTICLE#{article_id}"),
        format!("{COMMENT_PREFIX}{comment_id:020}"),
    )
}

/// GSI2 partition listing a user's comments (written since the index was
/// added; older comments get it from a data migration), so that a leaving
/// user's comments can be found.
pub fn commented_by(user_id: &str) -> String {
    format!("COMMENTBY#{user_id}")
}

/// A comment's sort key under [`commented_by`]: its article and its id.
pub fn comment_index_key(article_id: &str, comment_id: u64) -> String {
    format!("{article_id}#{comment_id:020}")
}

/// The comment (article id, comment id) a [`comment_index_key`] names.
pub fn comment_of_index_key(sort_key: &str) -> Option<(&str, u64)> {
    let (article, id) = sort_key.rsplit_once('#')?;
    Some((article, id.parse().ok()?))
}

pub const FAVORITE_PREFIX: &str = "FAV#";

pub fn favorite(article_id: &str, user_id: &str) -> (String, String) {
    (
        format!("ARTICLE#{article_id}"),
        format!("{FAVORITE_PREFIX}{user_id}"),
    )
}

/// GSI2 partition listing what a user has favorited.
pub fn favorited_by(user_id: &str) -> String {
    format!("FAVBY#{user_id}")
}

/// GSI2 partition listing an author's articles.
pub fn authored_by(user_id: &str) -> String {
    format!("AUTHOR#{user_id}")
}

/// An article's entry under one of its tags; the sort key is the article id.
pub fn tag_entry(tag: &str, article_id: &str) -> (String, String) {
    (format!("TAG#{tag}"), article_id.to_owned())
}

pub fn tag_partition(tag: &str) -> String {
    format!("TAG#{tag}")
}

/// Per-tag article counters; all of them share one partition so that
/// `GET /api/tags` is a single query.
pub const TAGS: &str = "TAGS";

/// One shard of a tag's article counter (see [`shard`]).
pub fn tag_counter(tag: &str, shard: u32) -> (String, String) {
    (TAGS.to_owned(), format!("{tag}#{shard}"))
}

/// Per-month article counters: the global list's total and its index of
/// non-empty months.
pub const BUCKETS: &str = "BUCKETS";

/// One shard of a month's article counter (see [`shard`]).
pub fn bucket_counter(bucket: &str, shard: u32) -> (String, String) {
    (BUCKETS.to_owned(), format!("{bucket}#{shard}"))
}

/// Shards of a month's counter and of a tag's. Every article creation and
/// deletion moves both in its transaction, and DynamoDB fails one of two
/// concurrent transactions on the same item (`TransactionConflict`, retried
/// with back-off): one counter item would make all creations of a month
/// queue behind each other. Each write picks a shard at random, so
/// concurrent writers rarely meet; readers sum the shards. Tags have fewer:
/// `GET /api/tags` reads every shard of every tag.
pub const BUCKET_SHARDS: u32 = 8;
pub const TAG_SHARDS: u32 = 4;

/// A random shard below `shards`.
pub fn shard(shards: u32) -> u32 {
    use rand::Rng;
    rand::thread_rng().gen_range(0..shards)
}

/// The month or tag a counter shard's sort key counts (`2026-11#3` ->
/// `2026-11`); a key without a shard (written before sharding) is its own.
pub fn counted(sort_key: &str) -> &str {
    match sort_key.rsplit_once('#') {
        Some((name, shard)) if shard.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => sort_key,
    }
}

/// GSI1 partition of the global article list for one month.
pub fn bucket_partition(bucket: &str) -> String {
    format!("ARTICLES#{bucket}")
}

/// Per-client login attempt counter (brute-force protection), expiring by TTL.
pub fn login_attempts(subject: &str) -> (String, String) {
    (format!("LOGIN#{subject}"), "ATTEMPTS".to_owned())
}

/// GSI1 partition listing every user, for admins.
pub const USERS: &str = "USERS";

/// The audit trail: one partition, newest last (sort key: entry id, a ULID).
/// Moderation is rare enough that one partition's throughput is ample.
pub const AUDIT: &str = "AUDIT";

pub fn audit_entry(id: &str) -> (String, String) {
    (AUDIT.to_owned(), id.to_owned())
}

/// The record of one data migration's progress (`db::migrations`).
pub fn migration(id: &str) -> (String, String) {
    ("MIGRATIONS".to_owned(), id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counter_shard_counts_its_month_or_tag() {
        assert_eq!(bucket_counter("2026-11", 3).1, "2026-11#3");
        assert_eq!(counted("2026-11#3"), "2026-11");
        assert_eq!(counted("c#1"), "c");
        // A tag may hold '#' itself; an unsharded key (older data) is its own.
        assert_eq!(counted(&tag_counter("c#", 0).1), "c#");
        assert_eq!(counted("rust"), "rust");
        assert!((0..100).all(|_| shard(TAG_SHARDS) < TAG_SHARDS));
    }

    #[test]
    fn a_comment_index_key_names_its_comment() {
        let key = comment_index_key("01J", 42);
        assert_eq!(comment_of_index_key(&key), Some(("01J", 42)));
        assert_eq!(comment_of_index_key("01J"), None);
    }
}
