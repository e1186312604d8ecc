//! Articles: the article item (also its entries in the global list and its
//! author's list) and its slug guard; creating, reading, editing and
//! deleting one, with the counters that move with it. Tags, favorites and
//! the list queries have their own modules.

use std::collections::{HashMap, HashSet};

use aws_sdk_dynamodb::types::TransactWriteItem;
use serde::{Deserialize, Serialize};

// `Page` was defined here first; callers still name it by this path.
pub use super::paging::Page;
use super::schema;
use super::transaction::named;
use super::{Db, Item, Tx, from_item, get_s, key_of, keys, n, s, to_item};
use crate::error::ApiError;

/// Tries at a unique slug before giving up: the bare slug, then random suffixes.
const SLUG_ATTEMPTS: usize = 5;

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

/// The actions of an article's transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArticleAction {
    /// The article item.
    Article,
    /// The slug guard.
    Slug,
    /// The month's and the author's article counters.
    Counters,
    /// Tag entries and tag counters.
    Tags,
    /// A moderator's audit entry.
    Audit,
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
        // A new article is delivered to feeds by the stream (fan_out_feeds).
        Ok(super::with_trace(item))
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

/// A slug's guard item: the article it names, and its author.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlugGuard {
    pub article_id: String,
    /// `None` on guards written before they named the author.
    pub author_id: Option<String>,
}

impl Db {
    /// Actions that keep the global list's and the author's counters true.
    /// The month's counter, then the author's `articles_count`.
    fn count_actions(
        &self,
        article: &Article,
        delta: i64,
    ) -> Result<Vec<TransactWriteItem>, ApiError> {
        Ok(vec![
            self.update(key_of(keys::bucket_counter(
                &bucket_of(&article.id)?,
                keys::shard(keys::BUCKET_SHARDS),
            )))
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
            // The author too (it never changes): a reader of the slug can
            // then read the author's profile alongside the article.
            guard.insert("author_id".into(), s(&article.author_id));
            let mut actions = vec![
                (
                    ArticleAction::Article,
                    self.put(article.item()?)
                        .condition_expression("attribute_not_exists(PK)")
                        .tx(),
                ),
                (
                    ArticleAction::Slug,
                    self.put(guard)
                        .condition_expression("attribute_not_exists(PK)")
                        .tx(),
                ),
            ];
            actions.extend(named(
                ArticleAction::Counters,
                self.count_actions(&article, 1)?,
            ));
            actions.extend(named(
                ArticleAction::Tags,
                self.tag_actions(&article.id, &article.tag_list, 1),
            ));
            match self.transact(actions).await {
                Ok(()) => {
                    self.tags_changed();
                    return Ok(article);
                }
                Err(err) if err.failed(ArticleAction::Slug) => continue,
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
        match self.slug_guard(slug).await? {
            Some(guard) => self.article_by_id(&guard.article_id).await,
            None => Ok(None),
        }
    }

    /// What the guard of `slug` says: the guard and the article are written
    /// and deleted in one transaction, so one exists exactly when the other
    /// does. What needs only the ids (the article's comments, the
    /// decoration of its author) saves waiting for the article's read.
    pub async fn slug_guard(&self, slug: &str) -> Result<Option<SlugGuard>, ApiError> {
        let Some(guard) = self.get(key_of(keys::slug(slug))).await? else {
            return Ok(None);
        };
        Ok(get_s(&guard, "article_id").map(|id| SlugGuard {
            article_id: id.to_owned(),
            author_id: get_s(&guard, "author_id").map(str::to_owned),
        }))
    }

    /// Articles by id, in the order given, skipping any that no longer exist:
    /// the fields a list shows, as an index holds them (no body).
    pub async fn articles_by_ids(&self, ids: &[String]) -> Result<Vec<Article>, ApiError> {
        let found = self
            .batch_get_only(
                ids.iter().map(|id| key_of(keys::article(id))).collect(),
                schema::INDEX_ATTRIBUTES,
            )
            .await?;
        let mut by_id: HashMap<String, Article> = found
            .into_iter()
            .map(from_item::<Article>)
            .map(|article| article.map(|a| (a.id.clone(), a)))
            .collect::<Result<_, _>>()?;
        Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
    }

    /// Saves an edit made to `current`. The condition on `updated_at` makes a
    /// concurrent edit fail instead of silently mixing two tag lists.
    pub async fn update_article(
        &self,
        current: &Article,
        updated: &Article,
    ) -> Result<(), ApiError> {
        let mut actions = vec![(
            ArticleAction::Article,
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
        )];
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
        let tags = [
            self.tag_actions(&current.id, &removed, -1),
            self.tag_actions(&current.id, &added, 1),
        ];
        actions.extend(named(ArticleAction::Tags, tags.concat()));
        match self.transact(actions).await {
            Ok(()) => {
                if !removed.is_empty() || !added.is_empty() {
                    self.tags_changed();
                }
                Ok(())
            }
            Err(err) if err.failed(ArticleAction::Article) => {
                match self.article_by_id(&current.id).await? {
                    Some(_) => Err(ApiError::Stale("article")),
                    None => Err(ApiError::NotFound("article")),
                }
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Deletes an article. The article, its slug, its tag entries and the
    /// counters go in one transaction, so readers never see a half-deleted
    /// article. Its comments, favorites and feed entries are removed after,
    /// from the table's stream ([`Db::clean_up_article`]): no reader reaches
    /// them meanwhile, since every path to them goes through the article.
    pub async fn delete_article(
        &self,
        article: &Article,
        audit: Option<&super::admin::AuditEntry>,
    ) -> Result<(), ApiError> {
        self.remove_article(article, audit, true).await
    }

    /// Deletes an article of a user already deleted (whose item, and so
    /// its `articles_count`, is gone); one already gone is no error.
    pub(super) async fn delete_article_of_departed(
        &self,
        article: &Article,
    ) -> Result<(), ApiError> {
        match self.remove_article(article, None, false).await {
            Err(ApiError::NotFound(_)) => Ok(()),
            other => other,
        }
    }

    async fn remove_article(
        &self,
        article: &Article,
        audit: Option<&super::admin::AuditEntry>,
        author_counted: bool,
    ) -> Result<(), ApiError> {
        let mut article = article.clone();
        for _ in 0..SLUG_ATTEMPTS {
            // The condition pins the version whose tags are being removed: an
            // edit in between would otherwise leave its new tags counted.
            let mut actions = vec![
                (
                    ArticleAction::Article,
                    self.delete(key_of(keys::article(&article.id)))
                        .condition_expression("attribute_exists(PK) AND updated_at = :read")
                        .expression_attribute_values(":read", s(&article.updated_at))
                        .tx(),
                ),
                (
                    ArticleAction::Slug,
                    self.delete(key_of(keys::slug(&article.slug))).tx(),
                ),
            ];
            let mut counters = self.count_actions(&article, -1)?;
            if !author_counted {
                counters.truncate(1);
            }
            actions.extend(named(ArticleAction::Counters, counters));
            actions.extend(named(
                ArticleAction::Tags,
                self.tag_actions(&article.id, &article.tag_list, -1),
            ));
            if let Some(audit) = audit {
                actions.push((ArticleAction::Audit, self.audit_action(audit)?));
            }
            match self.transact(actions).await {
                Ok(()) => {
                    self.tags_changed();
                    return Ok(());
                }
                Err(err) if err.failed(ArticleAction::Article) => {
                    match self.article_by_id(&article.id).await? {
                        Some(current) => article = current,
                        None => return Err(ApiError::NotFound("article")),
                    }
                }
                Err(err) => return Err(err.into()),
            }
        }
        Err(ApiError::Stale("article"))
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
}
