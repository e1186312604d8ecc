//! Favorites: `ARTICLE#<article>` / `FAV#<user>` items (listed by user in
//! `GSI2`), and the two counters that move with each: the article's
//! `favorites_count` and the user's.

use super::{Db, Tx, key_of, keys, n, s};
use crate::error::ApiError;

/// The actions of a favorite or an unfavorite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Favorite {
    /// The favorite item itself.
    Item,
    /// The article's `favorites_count`; its condition is that the article exists.
    ArticleCount,
    /// The user's `favorites_count`.
    UserCount,
}

impl Db {
    /// Favorites an article: the favorite and both counters move together.
    /// Favoriting twice changes nothing. Returns false if the article is gone.
    pub async fn favorite(&self, article_id: &str, user_id: &str) -> Result<bool, ApiError> {
        let mut favorite = key_of(keys::favorite(article_id, user_id));
        favorite.insert("GSI2PK".into(), s(keys::favorited_by(user_id)));
        favorite.insert("GSI2SK".into(), s(article_id));
        let actions = vec![
            (
                Favorite::Item,
                self.put(favorite)
                    .condition_expression("attribute_not_exists(PK)")
                    .tx(),
            ),
            (
                Favorite::ArticleCount,
                self.update(key_of(keys::article(article_id)))
                    .update_expression("ADD favorites_count :one")
                    .condition_expression("attribute_exists(PK)")
                    .expression_attribute_values(":one", n(1))
                    .tx(),
            ),
            (
                Favorite::UserCount,
                self.update(key_of(keys::user(user_id)))
                    .update_expression("ADD favorites_count :one")
                    .expression_attribute_values(":one", n(1))
                    .tx(),
            ),
        ];
        match self.transact(actions).await {
            Ok(()) => Ok(true),
            Err(err) if err.failed(Favorite::ArticleCount) => Ok(false),
            Err(err) if err.failed(Favorite::Item) => Ok(true),
            Err(err) => Err(err.into()),
        }
    }

    /// Removes a favorite; removing one that is not there changes nothing.
    pub async fn unfavorite(&self, article_id: &str, user_id: &str) -> Result<(), ApiError> {
        let actions = vec![
            (
                Favorite::Item,
                self.delete(key_of(keys::favorite(article_id, user_id)))
                    .condition_expression("attribute_exists(PK)")
                    .tx(),
            ),
            (
                Favorite::ArticleCount,
                self.update(key_of(keys::article(article_id)))
                    .update_expression("ADD favorites_count :minus_one")
                    .condition_expression("attribute_exists(PK)")
                    .expression_attribute_values(":minus_one", n(-1))
                    .tx(),
            ),
            (
                Favorite::UserCount,
                self.update(key_of(keys::user(user_id)))
                    .update_expression("ADD favorites_count :minus_one")
                    .expression_attribute_values(":minus_one", n(-1))
                    .tx(),
            ),
        ];
        match self.transact(actions).await {
            Ok(()) => Ok(()),
            Err(err) if err.failed(Favorite::Item) => Ok(()),
            Err(err) if err.failed(Favorite::ArticleCount) => Err(ApiError::NotFound("article")),
            Err(err) => Err(err.into()),
        }
    }
}
