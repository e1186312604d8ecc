//! Articles, their tags, favorites and the list queries.

use std::collections::{HashMap, HashSet};

use aws_sdk_dynamodb::types::{DeleteRequest, TransactWriteItem, WriteRequest};
use futures::{StreamExt, TryStreamExt, stream};
use serde::{Deserialize, Serialize};

use super::users::User;
use super::{Db, Item, Tx, from_item, get_s, get_u64, key_of, keys, n, s, sdk_error, to_item};
use crate::error::ApiError;

/// Tries at a unique slug before giving up: the bare slug, then random suffixes.
const SLUG_ATTEMPTS: usize = 5;
/// Parallel queries when reading the feed, so that it neither crawls nor
/// bursts past a partition's throughput.
const FEED_CONCURRENCY: usize = 16;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Article {
    /// A ULID: unique, immutable, and sorted by creation time.
    pub id: String,
    pub slug: String,
    pub title: String,
    pub description: String,
    /// Absent from index items (see `schema::INDEX_ATTRIBUTES`): lists omit it.
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub tag_list: Vec<String>,
    pub author_id: String,
    #[serde(default)]
    pub favorites_count: u64,
    pub created_at: String,
    pub updated_at: String,
}

/// Which slice of a newest-first list to read: `offset`/`limit` as in the
/// spec, and optionally a cursor (`before`: only articles older than this id).
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub limit: usize,
    pub offset: usize,
    pub before: Option<String>,
}

impl Page {
    fn wanted(&self) -> usize {
        self.offset + self.limit
    }

    /// Drops the `offset` first of a newest-first list and keeps `limit`.
    fn cut<T>(&self, items: Vec<T>) -> Vec<T> {
        items
            .into_iter()
            .skip(self.offset)
            .take(self.limit)
            .collect()
    }
}

/// A slice of a list plus the size of the whole list.
#[derive(Debug)]
pub struct ArticlePage {
    pub articles: Vec<Article>,
    pub total: u64,
}

/// The month an article id was minted in: its partition of the global list.
pub fn bucket_of(id: &str) -> Result<String, ApiError> {
    // Ids come from the table or from a client's cursor: a bad one is the client's.
    let id = ulid::Ulid::from_string(id).map_err(|_| ApiError::field("cursor", "is invalid"))?;
    Ok(crate::time::month(id.datetime()))
}

impl Article {
    fn item(&self) -> Result<Item, ApiError> {
        let mut item = to_item(self)?;
        item.extend(key_of(keys::article(&self.id)));
        item.insert(
            "GSI1PK".into(),
            s(keys::bucket_partition(&bucket_of(&self.id)?)),
        );
        item.insert("GSI1SK".into(), s(&self.id));
        item.insert("GSI2PK".into(), s(keys::authored_by(&self.author_id)));
        item.insert("GSI2SK".into(), s(&self.id));
        Ok(item)
    }
}

/// A lowercase, URL-safe slug of a title, never empty, at most 80 bytes.
pub fn slugify(title: &str) -> String {
    let slug = slug::slugify(title);
    let mut cut = slug.len().min(80);
    while !slug.is_char_boundary(cut) {
        cut -= 1;
    }
    match slug[..cut].trim_end_matches('-') {
        "" => "article".to_owned(),
        slug => slug.to_owned(),
    }
}

fn random_suffix() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..6)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

impl Db {
    /// The counters and index entries that move with an article's tags:
    /// `delta` is +1 when the article gains them and -1 when it loses them.
    fn tag_actions(&self, article_id: &str, tags: &[String], delta: i64) -> Vec<TransactWriteItem> {
        tags.iter()
            .flat_map(|tag| {
                let entry = key_of(keys::tag_entry(tag, article_id));
                let index = if delta > 0 {
                    self.put(entry).tx()
                } else {
                    self.delete(entry).tx()
                };
                let counter = self
                    .update(key_of(keys::tag_counter(tag)))
                    .update_expression("ADD n :delta")
                    .expression_attribute_values(":delta", n(delta))
                    .tx();
                [index, counter]
            })
            .collect()
    }

    /// Actions that keep the global list's and the author's counters true.
    fn count_actions(
        &self,
        article: &Article,
        delta: i64,
    ) -> Result<Vec<TransactWriteItem>, ApiError> {
        Ok(vec![
            self.update(key_of(keys::bucket_counter(&bucket_of(&article.id)?)))
                .update_expression("ADD n :delta")
                .expression_attribute_values(":delta", n(delta))
                .tx(),
            self.update(key_of(keys::user(&article.author_id)))
                .update_expression("ADD articles_count :delta")
                .condition_expression("attribute_exists(PK)")
                .expression_attribute_values(":delta", n(delta))
                .tx(),
        ])
    }

    /// Stores a new article under a unique slug: the slug's guard item, the
    /// article, its tag entries and every counter commit together. When the
    /// slug is taken (also by a concurrent create) it retries with a suffix.
    pub async fn create_article(&self, mut article: Article) -> Result<Article, ApiError> {
        let base = article.slug.clone();
        for attempt in 0..SLUG_ATTEMPTS {
            if attempt > 0 {
                article.slug = format!("{base}-{}", random_suffix());
            }
            let mut guard = key_of(keys::slug(&article.slug));
            guard.insert("article_id".into(), s(&article.id));
            let mut items = vec![
                self.put(article.item()?)
                    .condition_expression("attribute_not_exists(PK)")
                    .tx(),
                self.put(guard)
                    .condition_expression("attribute_not_exists(PK)")
                    .tx(),
            ];
            items.extend(self.count_actions(&article, 1)?);
            items.extend(self.tag_actions(&article.id, &article.tag_list, 1));
            match self.transact(items).await {
                Ok(()) => {
                    self.tags_changed();
                    return Ok(article);
                }
                Err(err) if err.failed_at(1) => continue,
                Err(err) => return Err(err.into()),
            }
        }
        Err(ApiError::Internal(format!(
            "no free slug for {base:?} after {SLUG_ATTEMPTS} attempts"
        )))
    }

    pub async fn article_by_id(&self, id: &str) -> Result<Option<Article>, ApiError> {
        self.get(key_of(keys::article(id)))
            .await?
            .map(from_item)
            .transpose()
    }

    pub async fn article_by_slug(&self, slug: &str) -> Result<Option<Article>, ApiError> {
        let Some(guard) = self.get(key_of(keys::slug(slug))).await? else {
            return Ok(None);
        };
        match get_s(&guard, "article_id") {
            Some(id) => self.article_by_id(id).await,
            None => Ok(None),
        }
    }

    /// Saves an edit made to `current`. The condition on `updated_at` makes a
    /// concurrent edit fail instead of silently mixing two tag lists.
    pub async fn update_article(
        &self,
        current: &Article,
        updated: &Article,
    ) -> Result<(), ApiError> {
        let mut items = vec![
            self.update(key_of(keys::article(&current.id)))
                .update_expression(
                    "SET title = :title, description = :description, body = :body, \
                     tag_list = :tags, updated_at = :now",
                )
                .condition_expression("attribute_exists(PK) AND updated_at = :previous")
                .expression_attribute_values(":title", s(&updated.title))
                .expression_attribute_values(":description", s(&updated.description))
                .expression_attribute_values(":body", s(&updated.body))
                .expression_attribute_values(
                    ":tags",
                    serde_dynamo::to_attribute_value(&updated.tag_list)
                        .map_err(ApiError::internal)?,
                )
                .expression_attribute_values(":now", s(&updated.updated_at))
                .expression_attribute_values(":previous", s(&current.updated_at))
                .tx(),
        ];
        let before: HashSet<&String> = current.tag_list.iter().collect();
        let after: HashSet<&String> = updated.tag_list.iter().collect();
        let removed: Vec<String> = current
            .tag_list
            .iter()
            .filter(|t| !after.contains(t))
            .cloned()
            .collect();
        let added: Vec<String> = updated
            .tag_list
            .iter()
            .filter(|t| !before.contains(t))
            .cloned()
            .collect();
        items.extend(self.tag_actions(&current.id, &removed, -1));
        items.extend(self.tag_actions(&current.id, &added, 1));
        match self.transact(items).await {
            Ok(()) => {
                if !removed.is_empty() || !added.is_empty() {
                    self.tags_changed();
                }
                Ok(())
            }
            Err(err) if err.failed_at(0) => match self.article_by_id(&current.id).await? {
                Some(_) => Err(ApiError::Stale("article")),
                None => Err(ApiError::NotFound("article")),
            },
            Err(err) => Err(err.into()),
        }
    }

    /// Deletes an article. The article, its slug, its tag entries and the
    /// counters go in one transaction, so readers never see a half-deleted
    /// article. Its comments and favorites are then removed in batches: no
    /// reader reaches them meanwhile, since every path to them goes through
    /// the article, which is already gone.
    pub async fn delete_article(
        &self,
        article: &Article,
        audit: Option<&super::admin::AuditEntry>,
    ) -> Result<(), ApiError> {
        let mut article = article.clone();
        for _ in 0..SLUG_ATTEMPTS {
            // The condition pins the version whose tags are being removed: an
            // edit in between would otherwise leave its new tags counted.
            let mut items = vec![
                self.delete(key_of(keys::article(&article.id)))
                    .condition_expression("attribute_exists(PK) AND updated_at = :read")
                    .expression_attribute_values(":read", s(&article.updated_at))
                    .tx(),
                self.delete(key_of(keys::slug(&article.slug))).tx(),
            ];
            items.extend(self.count_actions(&article, -1)?);
            items.extend(self.tag_actions(&article.id, &article.tag_list, -1));
            if let Some(audit) = audit {
                items.push(self.audit_action(audit)?);
            }
            match self.transact(items).await {
                Ok(()) => {
                    self.tags_changed();
                    return self.delete_article_children(&article.id).await;
                }
                Err(err) if err.failed_at(0) => match self.article_by_id(&article.id).await? {
                    Some(current) => article = current,
                    None => return Err(ApiError::NotFound("article")),
                },
                Err(err) => return Err(err.into()),
            }
        }
        Err(ApiError::Stale("article"))
    }

    async fn delete_article_children(&self, article_id: &str) -> Result<(), ApiError> {
        let (pk, _) = keys::article(article_id);
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk")
                .expression_attribute_values(":pk", s(&pk))
                .projection_expression("PK, SK")
                // Strongly consistent: a favorite or comment committed just
                // before the delete must not be missed and left behind.
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(sdk_error)?;
            let children = out.items().to_vec();
            let favoriters: Vec<String> = children
                .iter()
                .filter_map(|item| get_s(item, "SK")?.strip_prefix(keys::FAVORITE_PREFIX))
                .map(str::to_owned)
                .collect();
            self.batch_delete(children).await?;
            stream::iter(favoriters)
                .map(|user_id| async move {
                    self.client
                        .update_item()
                        .table_name(&self.table)
                        .set_key(Some(key_of(keys::user(&user_id))))
                        .update_expression("ADD favorites_count :minus_one")
                        .condition_expression("attribute_exists(PK)")
                        .expression_attribute_values(":minus_one", n(-1))
                        .send()
                        .await
                        .map(|_| ())
                        .or_else(|err| {
                            // A deleted favoriter has no counter left to fix.
                            if super::is_condition_failure(&err) {
                                Ok(())
                            } else {
                                Err(sdk_error(err))
                            }
                        })
                })
                .buffer_unordered(FEED_CONCURRENCY)
                .try_collect::<()>()
                .await?;
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(());
            }
        }
    }

    /// Deletes items by key, 25 a call (BatchWriteItem's limit), retrying
    /// whatever DynamoDB leaves unprocessed.
    async fn batch_delete(&self, keys: Vec<Item>) -> Result<(), ApiError> {
        let mut pending: Vec<WriteRequest> = keys
            .into_iter()
            .map(|key| {
                WriteRequest::builder()
                    .delete_request(
                        DeleteRequest::builder()
                            .set_key(Some(key))
                            .build()
                            .expect("key set"),
                    )
                    .build()
            })
            .collect();
        let mut backoff = std::time::Duration::from_millis(20);
        while !pending.is_empty() {
            let rest = pending.split_off(pending.len().min(25));
            let chunk = std::mem::replace(&mut pending, rest);
            let out = self
                .client
                .batch_write_item()
                .request_items(&self.table, chunk)
                .send()
                .await
                .map_err(sdk_error)?;
            if let Some(unprocessed) = out
                .unprocessed_items
                .and_then(|mut u| u.remove(&self.table))
                .filter(|u| !u.is_empty())
            {
                pending.extend(unprocessed);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(std::time::Duration::from_millis(500));
            }
        }
        Ok(())
    }

    /// Favorites an article: the favorite and both counters move together.
    /// Favoriting twice changes nothing. Returns false if the article is gone.
    pub async fn favorite(&self, article: &Article, user_id: &str) -> Result<bool, ApiError> {
        let mut favorite = key_of(keys::favorite(&article.id, user_id));
        favorite.insert("GSI2PK".into(), s(keys::favorited_by(user_id)));
        favorite.insert("GSI2SK".into(), s(&article.id));
        let items = vec![
            self.put(favorite)
                .condition_expression("attribute_not_exists(PK)")
                .tx(),
            self.update(key_of(keys::article(&article.id)))
                .update_expression("ADD favorites_count :one")
                .condition_expression("attribute_exists(PK)")
                .expression_attribute_values(":one", n(1))
                .tx(),
            self.update(key_of(keys::user(user_id)))
                .update_expression("ADD favorites_count :one")
                .expression_attribute_values(":one", n(1))
                .tx(),
        ];
        match self.transact(items).await {
            Ok(()) => Ok(true),
            Err(err) if err.failed_at(1) => Ok(false),
            Err(err) if err.failed_at(0) => Ok(true),
            Err(err) => Err(err.into()),
        }
    }

    /// Removes a favorite; removing one that is not there changes nothing.
    pub async fn unfavorite(&self, article: &Article, user_id: &str) -> Result<(), ApiError> {
        let items = vec![
            self.delete(key_of(keys::favorite(&article.id, user_id)))
                .condition_expression("attribute_exists(PK)")
                .tx(),
            self.update(key_of(keys::article(&article.id)))
                .update_expression("ADD favorites_count :minus_one")
                .condition_expression("attribute_exists(PK)")
                .expression_attribute_values(":minus_one", n(-1))
                .tx(),
            self.update(key_of(keys::user(user_id)))
                .update_expression("ADD favorites_count :minus_one")
                .expression_attribute_values(":minus_one", n(-1))
                .tx(),
        ];
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(err) if err.failed_at(0) => Ok(()),
            Err(err) if err.failed_at(1) => Err(ApiError::NotFound("article")),
            Err(err) => Err(err.into()),
        }
    }

    /// Which of `article_ids` `user_id` has favorited, in one batch read.
    pub async fn favorited_among(
        &self,
        user_id: &str,
        article_ids: &[&str],
    ) -> Result<HashSet<String>, ApiError> {
        let keys = article_ids
            .iter()
            .map(|id| key_of(keys::favorite(id, user_id)))
            .collect();
        let (article_prefix, _) = keys::article("");
        self.which_exist(keys, "PK", &article_prefix).await
    }

    /// Articles by id, in the order given, skipping any that no longer exist.
    pub async fn articles_by_ids(&self, ids: &[String]) -> Result<Vec<Article>, ApiError> {
        let found = self
            .batch_get(ids.iter().map(|id| key_of(keys::article(id))).collect())
            .await?;
        let mut by_id: HashMap<String, Article> = found
            .into_iter()
            .map(from_item::<Article>)
            .map(|article| article.map(|a| (a.id.clone(), a)))
            .collect::<Result<_, _>>()?;
        Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
    }

    /// Counters of one counter partition (`TAGS` or `BUCKETS`), keyed by sort key.
    async fn counters(
        &self,
        partition: &str,
        newest_first: bool,
    ) -> Result<Vec<(String, u64)>, ApiError> {
        let mut counters = vec![];
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk")
                .expression_attribute_values(":pk", s(partition))
                .scan_index_forward(!newest_first)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(sdk_error)?;
            counters.extend(out.items().iter().filter_map(|item| {
                let count = get_u64(item, "n");
                (count > 0)
                    .then(|| Some((get_s(item, "SK")?.to_owned(), count)))
                    .flatten()
            }));
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(counters);
            }
        }
    }

    /// Every tag in use, most used first.
    pub async fn tags(&self) -> Result<Vec<String>, ApiError> {
        let mut counters = self.counters(keys::TAGS, false).await?;
        counters.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(counters.into_iter().map(|(tag, _)| tag).collect())
    }

    /// The global list, newest first: months are read newest first, and whole
    /// months before the offset are skipped by their counters without reading them.
    pub async fn recent_articles(&self, page: &Page) -> Result<ArticlePage, ApiError> {
        let buckets = self.counters(keys::BUCKETS, true).await?;
        let total = buckets.iter().map(|(_, count)| count).sum();
        let cursor_bucket = page.before.as_deref().map(bucket_of).transpose()?;
        let mut skip = page.offset;
        let mut articles = vec![];
        for (bucket, count) in buckets {
            if articles.len() >= page.limit {
                break;
            }
            let before = match &cursor_bucket {
                Some(cursor) if bucket > *cursor => continue,
                Some(cursor) if bucket == *cursor => page.before.as_deref(),
                _ => None,
            };
            if before.is_none() && skip >= count as usize {
                skip -= count as usize;
                continue;
            }
            let wanted = skip + page.limit - articles.len();
            let items = self
                .query_newest(
                    Some(keys::GSI1),
                    &keys::bucket_partition(&bucket),
                    before,
                    wanted,
                )
                .await?;
            let found = items.len();
            articles.extend(items.into_iter().skip(skip).map(from_item::<Article>));
            skip = skip.saturating_sub(found);
        }
        let articles = articles
            .into_iter()
            .take(page.limit)
            .collect::<Result<_, _>>()?;
        Ok(ArticlePage { articles, total })
    }

    pub async fn articles_by_author(
        &self,
        author: &User,
        page: &Page,
    ) -> Result<ArticlePage, ApiError> {
        let items = self
            .query_newest(
                Some(keys::GSI2),
                &keys::authored_by(&author.id),
                page.before.as_deref(),
                page.wanted(),
            )
            .await?;
        let articles = page
            .cut(items)
            .into_iter()
            .map(from_item)
            .collect::<Result<_, _>>()?;
        Ok(ArticlePage {
            articles,
            total: author.articles_count,
        })
    }

    pub async fn articles_by_tag(&self, tag: &str, page: &Page) -> Result<ArticlePage, ApiError> {
        let items = self
            .query_newest(
                None,
                &keys::tag_partition(tag),
                page.before.as_deref(),
                page.wanted(),
            )
            .await?;
        let ids: Vec<String> = page
            .cut(items)
            .iter()
            .filter_map(|item| get_s(item, "SK").map(str::to_owned))
            .collect();
        let total = match self.get(key_of(keys::tag_counter(tag))).await? {
            Some(counter) => get_u64(&counter, "n"),
            None => 0,
        };
        Ok(ArticlePage {
            articles: self.articles_by_ids(&ids).await?,
            total,
        })
    }

    pub async fn articles_favorited_by(
        &self,
        user: &User,
        page: &Page,
    ) -> Result<ArticlePage, ApiError> {
        let items = self
            .query_newest(
                Some(keys::GSI2),
                &keys::favorited_by(&user.id),
                page.before.as_deref(),
                page.wanted(),
            )
            .await?;
        let ids: Vec<String> = page
            .cut(items)
            .iter()
            .filter_map(|item| get_s(item, "GSI2SK").map(str::to_owned))
            .collect();
        Ok(ArticlePage {
            articles: self.articles_by_ids(&ids).await?,
            total: user.favorites_count,
        })
    }

    /// The feed: the newest articles of everyone `authors` lists, merged.
    /// Costs one query per followed author (at most `MAX_FOLLOWING`, run
    /// `FEED_CONCURRENCY` at a time), each reading at most offset + limit items.
    pub async fn feed(&self, authors: &[User], page: &Page) -> Result<ArticlePage, ApiError> {
        let total = authors.iter().map(|a| a.articles_count).sum();
        let partitions: Vec<String> = authors.iter().map(|a| keys::authored_by(&a.id)).collect();
        let before = page.before.as_deref();
        let wanted = page.wanted();
        let mut items: Vec<Item> = stream::iter(partitions)
            .map(|partition| async move {
                self.query_newest(Some(keys::GSI2), &partition, before, wanted)
                    .await
            })
            .buffer_unordered(FEED_CONCURRENCY)
            .try_concat()
            .await?;
        items.sort_by(|a, b| get_s(b, "id").cmp(&get_s(a, "id")));
        let articles = page
            .cut(items)
            .into_iter()
            .map(from_item)
            .collect::<Result<_, _>>()?;
        Ok(ArticlePage { articles, total })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_url_safe_and_never_empty() {
        assert_eq!(
            slugify("How to Train Your Dragon!"),
            "how-to-train-your-dragon"
        );
        assert_eq!(slugify("¡¿?!"), "article");
        assert!(slugify(&"long title ".repeat(30)).len() <= 80);
        assert!(!slugify(&"long title ".repeat(30)).ends_with('-'));
    }

    #[test]
    fn pages_cut_offset_then_limit() {
        let page = Page {
            limit: 2,
            offset: 1,
            before: None,
        };
        assert_eq!(page.cut(vec![1, 2, 3, 4]), vec![2, 3]);
    }
}
