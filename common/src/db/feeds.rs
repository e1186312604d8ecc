//! Feeds, materialised (fan-out on write): `FEED#<reader>` / `<article id>`
//! entries, newest first, one per article of someone the reader follows,
//! also listed under the article's `INFEEDS#` partition of GSI2. The
//! reader's `feed_count` moves with them in the same transactions, so the
//! feed's total is exact without counting.
//!
//! A feed page then costs the same whatever the reader follows: one query
//! of their partition and one batch read of the articles. Authors followed
//! by very many ([`PULL_MIN_FOLLOWERS`]) are the exception: their new
//! followers pull them instead (at most [`MAX_PULLED`] each), a query per
//! pulled author at read time, so that one article is not a million writes. The work moves to
//! writes, mostly to the stream consumers (functions/src/consumers): a new
//! article is delivered to its author's followers, a follow backfills the
//! followee's articles, an unfollow takes them out, a deleted article is
//! taken out of every feed it reached. Every one of those is [`Db::apply_once`],
//! so a batch delivered twice changes nothing. docs/data-model.md ("Feeds")
//! states what a reader may see, and when.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};

use super::articles::Article;
use super::lists::ArticlePage;
use super::once::{Counter, Once};
use super::paging::{Page, all_items, first_items};
use super::users::User;
use super::{Db, Item, Tx, from_item, get_s, key_of, keys, s};
use crate::error::ApiError;

/// Authors with at most this many followers have a new article delivered
/// inside the create request (about one transaction per 49 followers), so
/// their followers see it at once; the stream then only confirms it.
/// Beyond, delivery is the stream consumer's alone: within about a second.
pub const INLINE_DELIVERY_MAX_FOLLOWERS: u64 = 100;

/// A follower of an author with at least this many followers pulls that
/// author's articles into their feed at read time instead of receiving
/// them: delivering one article to a million feeds would cost a million
/// writes (see docs/data-model.md, "Feeds").
pub const PULL_MIN_FOLLOWERS: u64 = 10_000;

/// Authors one reader pulls at most: each costs the reader's feed page one
/// more query, run at the same time as the others. Beyond, very followed
/// (or prolific) authors are delivered to that reader like anyone else.
pub const MAX_PULLED: usize = 8;

/// Whether a new follower of `author` pulls them (while they have room):
/// an author with very many followers, whose every article would otherwise
/// be delivered to all of them; or one with more articles than the follow's
/// own transaction can bring into the feed, whose articles a pull shows at
/// once, where a backfill would take the stream a moment (and a write per
/// article).
pub fn pulled_by_new_followers(author: &User) -> bool {
    author.followers_count >= PULL_MIN_FOLLOWERS
        || author.articles_count > INLINE_REFILL_MAX_ARTICLES as u64
}

/// A followee with at most this many articles moves into a new follower's
/// feed, or out of a former follower's, inside the follow or unfollow
/// request: the entries are written in the follow's own transaction (this
/// many, the follow's three actions and nothing else fit DynamoDB's 100),
/// so the very next feed read shows the change. Beyond, the stream consumer
/// does it alone, within about a second.
pub const INLINE_REFILL_MAX_ARTICLES: usize = 97;

/// Times the create request reads the followers again when GSI2 (eventually
/// consistent in AWS) still lists fewer than the author's strongly
/// consistent `followers_count`: a follow made just before the article.
const FOLLOWER_INDEX_ATTEMPTS: u32 = 3;
const FOLLOWER_INDEX_WAIT: Duration = Duration::from_millis(50);

impl Db {
    /// A page of `reader`'s feed, newest first: their delivered entries,
    /// merged with the newest articles of the authors they pull. Entries
    /// whose article is already deleted (its cleanup still under way) are
    /// skipped, and the total agrees ([`ArticlePage::read`]).
    pub async fn feed(&self, reader: &User, page: &Page) -> Result<ArticlePage, ApiError> {
        let before = page.before.as_deref();
        let wanted = page.wanted();
        let feed = keys::feed_partition(&reader.id);
        let entries = self.query_newest(None, &feed, before, wanted);
        let pulled = reader.pulls.iter().map(|author| async move {
            let partition = keys::authored_by(author);
            self.query_newest(Some(keys::GSI2), &partition, before, wanted)
                .await
        });
        let pulled_ids: Vec<&str> = reader.pulls.iter().map(String::as_str).collect();
        let pulled_authors = async {
            match pulled_ids.is_empty() {
                true => Ok(vec![]),
                false => self.users_by_ids(&pulled_ids).await,
            }
        };
        let (entries, pulled, pulled_authors) = futures::try_join!(
            entries,
            futures::future::try_join_all(pulled),
            pulled_authors
        )?;

        // Newest first across both; an article both delivered and pulled
        // (a follow turned into a pull before its entries were taken out)
        // counts once.
        let mut merged: BTreeMap<String, Option<Article>> = BTreeMap::new();
        for entry in &entries {
            if let Some(id) = get_s(entry, "SK") {
                merged.insert(id.to_owned(), None);
            }
        }
        for item in pulled.into_iter().flatten() {
            let article: Article = from_item(item)?;
            merged.insert(article.id.clone(), Some(article));
        }
        let read = merged.len();
        let page_ids: Vec<(String, Option<Article>)> = page.cut(merged.into_iter().rev().collect());
        let last_listed = page_ids.last().map(|(id, _)| id.clone());
        let delivered: Vec<String> = page_ids
            .iter()
            .filter(|(_, article)| article.is_none())
            .map(|(id, _)| id.clone())
            .collect();
        let mut fetched: HashMap<String, Article> = self
            .articles_by_ids(&delivered)
            .await?
            .into_iter()
            .map(|article| (article.id.clone(), article))
            .collect();
        let articles = page_ids
            .into_iter()
            .filter_map(|(id, article)| article.or_else(|| fetched.remove(&id)))
            .collect();
        let pulled_total: u64 = pulled_authors.iter().map(|a| a.articles_count).sum();
        let counted = reader.feed_count + pulled_total;
        Ok(ArticlePage::read(
            page,
            read,
            last_listed,
            articles,
            counted,
        ))
    }

    /// Whom a new article by `author` is delivered to inside the create
    /// request: their followers, when they are few enough (`None`: left to
    /// the stream). It needs only the author, so the create request reads
    /// it while the article is written.
    pub async fn inline_audience(&self, author: &User) -> Result<Option<Vec<String>>, ApiError> {
        if author.followers_count == 0 {
            return Ok(Some(vec![]));
        }
        if author.followers_count > INLINE_DELIVERY_MAX_FOLLOWERS {
            return Ok(None);
        }
        let mut followers = vec![];
        for attempt in 1..=FOLLOWER_INDEX_ATTEMPTS {
            followers = self.followers(&author.id).await?;
            if followers.len() as u64 >= author.followers_count {
                break;
            }
            if attempt < FOLLOWER_INDEX_ATTEMPTS {
                tokio::time::sleep(FOLLOWER_INDEX_WAIT).await;
            }
        }
        Ok(Some(followers))
    }

    /// Delivers a new article to `audience` ([`Db::inline_audience`]);
    /// returns how many feeds it reached.
    pub async fn deliver_inline(
        &self,
        article: &Article,
        audience: Vec<String>,
    ) -> Result<usize, ApiError> {
        if audience.is_empty() {
            return Ok(0);
        }
        self.deliver_to(&article.id, &article.author_id, audience)
            .await
    }

    /// Delivers an article to every follower of its author (the stream
    /// consumer's part; a no-op for feeds that already have it).
    pub async fn deliver(&self, article_id: &str, author_id: &str) -> Result<usize, ApiError> {
        let followers = self.followers(author_id).await?;
        self.deliver_to(article_id, author_id, followers).await
    }

    async fn deliver_to(
        &self,
        article_id: &str,
        author_id: &str,
        readers: Vec<String>,
    ) -> Result<usize, ApiError> {
        // Nothing is delivered once the article is deleted: its cleanup
        // may already have run.
        let guard = self
            .check(key_of(keys::article(article_id)))
            .condition_expression("attribute_exists(PK)")
            .tx();
        let units = readers
            .iter()
            .map(|reader| self.add_entry(reader, article_id, author_id))
            .collect();
        Ok(self.apply_once(Some(guard), units).await?.count())
    }

    /// After `follower` followed `followee`: every article of the followee
    /// into the follower's feed, unless the follow is gone again by then.
    pub async fn backfill(&self, follower: &str, followee: &str) -> Result<usize, ApiError> {
        // A pulled follow gets no entries: its articles are read with the feed.
        let guard = self
            .check(key_of(keys::follow(follower, followee)))
            .condition_expression("attribute_exists(PK) AND attribute_not_exists(pulled)")
            .tx();
        let units = self
            .article_ids_of(followee)
            .await?
            .iter()
            .map(|article| self.add_entry(follower, article, followee))
            .collect();
        Ok(self.apply_once(Some(guard), units).await?.count())
    }

    /// After `follower` unfollowed `followee`: the followee's articles out
    /// of the follower's feed, unless they follow again by then.
    pub async fn unfill(&self, follower: &str, followee: &str) -> Result<usize, ApiError> {
        // Followed again meanwhile, the entries stay; unless the new follow
        // is pulled, which reads them anyway.
        let guard = self
            .check(key_of(keys::follow(follower, followee)))
            .condition_expression("attribute_not_exists(PK) OR pulled = :yes")
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .tx();
        let units = self
            .article_ids_of(followee)
            .await?
            .iter()
            .map(|article| self.remove_entry(follower, article))
            .collect();
        Ok(self.apply_once(Some(guard), units).await?.count())
    }

    /// After an article's deletion: out of every feed it reached.
    pub async fn undeliver(&self, article_id: &str) -> Result<usize, ApiError> {
        let readers = self.index_sort_keys(&keys::delivered(article_id)).await?;
        let units = readers
            .iter()
            .map(|reader| self.remove_entry(reader, article_id))
            .collect();
        Ok(self.apply_once(None, units).await?.count())
    }

    /// Ids of everyone following `user_id` who is delivered to (not those
    /// who pull them), from GSI2.
    pub async fn followers(&self, user_id: &str) -> Result<Vec<String>, ApiError> {
        self.index_sort_keys(&keys::followers_of(user_id)).await
    }

    /// Ids of every article by `author_id` when there are at most
    /// [`INLINE_REFILL_MAX_ARTICLES`] (`None`: more), from GSI2: what a
    /// follow or an unfollow of them moves in its own transaction.
    pub async fn few_article_ids_of(
        &self,
        author_id: &str,
    ) -> Result<Option<Vec<String>>, ApiError> {
        let query = self.index_query(&keys::authored_by(author_id));
        let items = first_items(query, INLINE_REFILL_MAX_ARTICLES + 1).await?;
        Ok((items.len() <= INLINE_REFILL_MAX_ARTICLES).then(|| sort_keys(&items)))
    }

    /// Ids of every article by `author_id`, from GSI2.
    async fn article_ids_of(&self, author_id: &str) -> Result<Vec<String>, ApiError> {
        self.index_sort_keys(&keys::authored_by(author_id)).await
    }

    /// The sort keys of a whole GSI2 partition, page after page.
    pub(super) async fn index_sort_keys(&self, partition: &str) -> Result<Vec<String>, ApiError> {
        let items = all_items(self.index_query(partition)).await?;
        Ok(sort_keys(&items))
    }

    /// A query of one GSI2 partition's sort keys.
    pub(super) fn index_query(&self, partition: &str) -> QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI2)
            .key_condition_expression("GSI2PK = :pk")
            .expression_attribute_values(":pk", s(partition))
            .projection_expression("GSI2SK")
    }

    /// Puts `article_id` into `reader`'s feed, where it is not yet; the
    /// reader's `feed_count` is the caller's to move.
    pub(super) fn put_entry(
        &self,
        reader: &str,
        article_id: &str,
        author_id: &str,
    ) -> TransactWriteItem {
        let mut item = key_of(keys::feed_entry(reader, article_id));
        item.insert("author_id".into(), s(author_id));
        item.insert("GSI2PK".into(), s(keys::delivered(article_id)));
        item.insert("GSI2SK".into(), s(reader));
        self.put(item)
            .condition_expression("attribute_not_exists(PK)")
            .tx()
    }

    /// Takes `article_id` out of `reader`'s feed, where it is; the
    /// reader's `feed_count` is the caller's to move.
    pub(super) fn delete_entry(&self, reader: &str, article_id: &str) -> TransactWriteItem {
        self.delete(key_of(keys::feed_entry(reader, article_id)))
            .condition_expression("attribute_exists(PK)")
            .tx()
    }

    fn add_entry(&self, reader: &str, article_id: &str, author_id: &str) -> Once {
        Once {
            action: self.put_entry(reader, article_id, author_id),
            counter: Some(feed_counter(reader, 1)),
        }
    }

    fn remove_entry(&self, reader: &str, article_id: &str) -> Once {
        Once {
            action: self.delete_entry(reader, article_id),
            counter: Some(feed_counter(reader, -1)),
        }
    }
}

/// The `GSI2SK` of each item of a GSI2 query.
pub(super) fn sort_keys(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .filter_map(|item| get_s(item, "GSI2SK").map(str::to_owned))
        .collect()
}

fn feed_counter(reader: &str, delta: i64) -> Counter {
    Counter {
        key: keys::user(reader),
        attribute: "feed_count",
        delta,
    }
}
