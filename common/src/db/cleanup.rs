//! What is left of a deleted article: its comments, its favorites (each
//! favoriter's `favorites_count` with it) and its feed entries. The delete
//! request removes the article itself; the `clean_up_articles` stream
//! consumer calls this after, and again on a retry or a replay, which finds
//! less to do and never uncounts a favorite twice.

use super::paging::all_items;
use super::{Db, Item, get_s, keys, s};
use crate::error::ApiError;

/// What one cleanup removed (this time; a replay finds nothing left).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Cleanup {
    pub comments: usize,
    pub favorites: usize,
    pub feed_entries: usize,
}

impl Db {
    /// Removes what is left of the deleted article `article_id`.
    pub async fn clean_up_article(&self, article_id: &str) -> Result<Cleanup, ApiError> {
        let (pk, _) = keys::article(article_id);
        // Strongly consistent: a favorite or comment committed just before
        // the delete must not be missed and left behind.
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk")
            .expression_attribute_values(":pk", s(&pk))
            .projection_expression("PK, SK")
            .consistent_read(true);
        let children = all_items(query).await?;
        let (favorites, comments): (Vec<Item>, Vec<Item>) =
            children.into_iter().partition(|item| {
                get_s(item, "SK").is_some_and(|sk| sk.starts_with(keys::FAVORITE_PREFIX))
            });
        let count = comments.len();
        self.batch_delete(comments).await?;
        let unfavorites = favorites
            .iter()
            .filter_map(|item| get_s(item, "SK")?.strip_prefix(keys::FAVORITE_PREFIX))
            .map(|user_id| {
                let favorite = keys::favorite(article_id, user_id);
                self.delete_once(favorite, keys::user(user_id), "favorites_count")
            })
            .collect();
        let favorites = self.apply_once(None, unfavorites).await?.count();
        Ok(Cleanup {
            comments: count,
            favorites,
            feed_entries: self.undeliver(article_id).await?,
        })
    }
}
