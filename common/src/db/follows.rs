//! Follows: `USER#<follower>` / `FOLLOWS#<followee>` items (also listed
//! under the followee's `FOLLOWERS#` partition of GSI2), the follower's
//! `following_count` that caps them and the followee's `followers_count`.
//! What a follow does to the follower's feed happens in the follow's own
//! transaction when the followee has few articles, so the next feed read
//! shows it; otherwise later, from the table's stream (`db::feeds`).

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};

use super::feeds::{MAX_PULLED, pulled_by_new_followers};
use super::users::User;
use super::{Db, Item, Tx, TxError, key_of, keys, n, s};
use crate::error::ApiError;

/// How many users one user may follow. The feed is materialised, so its
/// read cost does not depend on this; it bounds what one user's follows
/// cost the stream consumers that fill and empty their feed.
pub const MAX_FOLLOWING: u64 = 5_000;

/// The actions of a follow or an unfollow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Follow {
    /// The follow item itself.
    Item,
    /// The follower's `following_count`.
    Count,
    /// The followee's `followers_count`.
    Followers,
    /// One of the followee's articles into (or out of) the follower's feed.
    Entry(usize),
}

/// The follow item. A materialised follow is listed under the followee's
/// `FOLLOWERS#` (their new articles are delivered to it); a pulled one under
/// `PULLERS#` instead, and marked `pulled` (see `db::feeds`).
pub fn follow_item(follower: &str, followee: &str, pulled: bool) -> Item {
    let mut item = key_of(keys::follow(follower, followee));
    let partition = match pulled {
        true => keys::pullers_of(followee),
        false => keys::followers_of(followee),
    };
    item.insert("GSI2PK".into(), s(partition));
    item.insert("GSI2SK".into(), s(follower));
    if pulled {
        item.insert("pulled".into(), AttributeValue::Bool(true));
    }
    // A follow fills the follower's feed through the stream (fan_out_feeds).
    super::with_trace(item)
}

fn follow_error(err: TxError<Follow>) -> ApiError {
    if err.failed(Follow::Followers) {
        ApiError::NotFound("profile")
    } else if err.failed(Follow::Count) {
        ApiError::field(
            "profile",
            format!("cannot follow more than {MAX_FOLLOWING} users"),
        )
    } else {
        err.into()
    }
}

impl Db {
    pub async fn is_following(&self, follower: &str, followee: &str) -> Result<bool, ApiError> {
        Ok(self
            .get(key_of(keys::follow(follower, followee)))
            .await?
            .is_some())
    }

    /// Follows; following someone already followed changes nothing. A very
    /// followed or prolific author is pulled by the follower's feed, while
    /// it has room for one more (see `db::feeds`); anyone else is delivered to it,
    /// their `articles` ([`Db::few_article_ids_of`]: `None` when too many)
    /// in the same transaction, so the follower's next feed read has them.
    pub async fn follow(
        &self,
        follower: &User,
        followee: &User,
        articles: Option<&[String]>,
    ) -> Result<(), ApiError> {
        let pull = pulled_by_new_followers(followee) && follower.pulls.len() < MAX_PULLED;
        let articles = articles.unwrap_or_default();
        match self
            .follow_as(&follower.id, &followee.id, pull, articles)
            .await
        {
            // Pulls filled up meanwhile (or the cap was reached): try as a
            // delivered follow, which tells the two apart.
            Err(err) if pull && err.failed(Follow::Count) => self
                .follow_as(&follower.id, &followee.id, false, articles)
                .await
                .map_err(follow_error),
            other => other.map_err(follow_error),
        }
    }

    async fn follow_as(
        &self,
        follower: &str,
        followee: &str,
        pull: bool,
        articles: &[String],
    ) -> Result<(), TxError<Follow>> {
        // A pulled author's articles are read with the feed: no entries.
        let mut entries: Vec<&str> = match pull {
            true => vec![],
            false => articles.iter().map(String::as_str).collect(),
        };
        loop {
            let mut count = self
                .update(key_of(keys::user(follower)))
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":max", n(MAX_FOLLOWING));
            let room = "attribute_exists(PK) AND (attribute_not_exists(following_count) OR following_count < :max)";
            let add = counts("following_count :one", entries.len() as i64);
            count = match pull {
                true => count
                    .update_expression(format!("ADD {add}, pulls :who"))
                    .condition_expression(format!(
                        "{room} AND (attribute_not_exists(pulls) OR size(pulls) < :max_pulled)"
                    ))
                    .expression_attribute_values(
                        ":who",
                        AttributeValue::Ss(vec![followee.to_owned()]),
                    )
                    .expression_attribute_values(":max_pulled", n(MAX_PULLED)),
                false => count
                    .update_expression(format!("ADD {add}"))
                    .condition_expression(room),
            };
            if !entries.is_empty() {
                count = count.expression_attribute_values(":entries", n(entries.len()));
            }
            let mut actions = vec![
                (
                    Follow::Item,
                    self.put(follow_item(follower, followee, pull))
                        .condition_expression("attribute_not_exists(PK)")
                        .tx(),
                ),
                (Follow::Count, count.tx()),
                (Follow::Followers, self.count_followers(followee, 1)),
            ];
            actions.extend(entries.iter().enumerate().map(|(i, article)| {
                (
                    Follow::Entry(i),
                    self.put_entry(follower, article, followee),
                )
            }));
            match self.transact(actions).await {
                Err(err) if err.failed(Follow::Item) => return Ok(()),
                Err(err) if drop_done(&mut entries, &err) => continue,
                other => return other,
            }
        }
    }

    /// Unfollows; unfollowing someone not followed changes nothing. The
    /// followee's articles leave the follower's feed in the same
    /// transaction when they are few ([`Db::few_article_ids_of`], read
    /// first); otherwise the stream takes them out.
    pub async fn unfollow(&self, follower: &User, followee: &str) -> Result<(), ApiError> {
        // Nobody follows themselves (following yourself is refused), and one
        // transaction may not update the same user item twice.
        if follower.id == followee {
            return Ok(());
        }
        // A pulled author has no entries in the feed.
        let articles = match follower.pulls.contains(followee) {
            true => None,
            false => self.few_article_ids_of(followee).await?,
        };
        let mut entries: Vec<&str> = articles.iter().flatten().map(String::as_str).collect();
        loop {
            let mut count = self
                .update(key_of(keys::user(&follower.id)))
                // Taking it out of `pulls` too: a no-op unless it was pulled.
                .update_expression(format!(
                    "ADD {} DELETE pulls :who",
                    counts("following_count :minus_one", -(entries.len() as i64))
                ))
                .expression_attribute_values(":minus_one", n(-1))
                .expression_attribute_values(":who", AttributeValue::Ss(vec![followee.to_owned()]));
            if !entries.is_empty() {
                count = count.expression_attribute_values(":entries", n(-(entries.len() as i64)));
            }
            let mut actions = vec![
                (
                    Follow::Item,
                    self.delete(key_of(keys::follow(&follower.id, followee)))
                        .condition_expression("attribute_exists(PK)")
                        .tx(),
                ),
                (Follow::Count, count.tx()),
                (Follow::Followers, self.count_followers(followee, -1)),
            ];
            actions.extend(
                entries.iter().enumerate().map(|(i, article)| {
                    (Follow::Entry(i), self.delete_entry(&follower.id, article))
                }),
            );
            match self.transact(actions).await {
                Ok(()) => return Ok(()),
                Err(err) if err.failed(Follow::Item) => return Ok(()),
                Err(err) if drop_done(&mut entries, &err) => continue,
                Err(err) => return Err(err.into()),
            }
        }
    }

    fn count_followers(&self, followee: &str, delta: i64) -> TransactWriteItem {
        self.update(key_of(keys::user(followee)))
            .update_expression("ADD followers_count :delta")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":delta", n(delta))
            .tx()
    }
}

/// The `ADD` clause of the follower's counters: `following` and, when
/// entries move, `feed_count` by `:entries`.
fn counts(following: &str, entries: i64) -> String {
    match entries {
        0 => following.to_owned(),
        _ => format!("{following}, feed_count :entries"),
    }
}

/// Drops from `entries` those whose condition failed in `err`: already in
/// the feed (or already out of it), a stream consumer's doing; they leave
/// with their share of `feed_count`. Whether any did: the rest is retried.
fn drop_done(entries: &mut Vec<&str>, err: &TxError<Follow>) -> bool {
    let before = entries.len();
    let mut index = 0;
    entries.retain(|_| {
        index += 1;
        !err.failed(Follow::Entry(index - 1))
    });
    entries.len() < before
}
