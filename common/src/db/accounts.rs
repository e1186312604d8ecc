//! Accounts that leave. Deleting one (`DELETE /api/user`, or an admin's
//! `DELETE /api/admin/users/{username}`) removes the user item and their
//! username's and email's guards in one transaction: the names are free at
//! once, and every token dies with the user item authentication reads.
//! The `clean_up_users` stream consumer then removes what the user had
//! ([`Db::clean_up_user`]): articles (whose own clean-up follows from the
//! stream), comments, favorites, follows both ways, feed and sessions,
//! every count that counted them moved with them. Each step is idempotent,
//! like the article clean-up, so a consumer that dies midway and is
//! retried, or a record delivered twice, changes nothing more.

use aws_sdk_dynamodb::types::AttributeValue;
use futures::{StreamExt, TryStreamExt, stream};

use super::admin::AuditEntry;
use super::once::Once;
use super::paging::all_items;
use super::users::User;
use super::{Db, Item, Tx, get_s, key_of, keys, s};
use crate::error::ApiError;

/// Article deletions of one clean-up in flight at once.
const CONCURRENCY: usize = 8;

/// Times a delete re-reads a user whose username or email changed meanwhile.
const ATTEMPTS: usize = 3;

/// The actions of an account's deletion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Deletion {
    User,
    Guard,
    Audit,
}

/// What one clean-up removed (this time: a retry finds less to do).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Departure {
    pub articles: usize,
    pub comments: usize,
    pub favorites: usize,
    pub following: usize,
    pub followers: usize,
    pub feed_entries: usize,
    pub sessions: usize,
}

impl Db {
    /// Deletes `user`'s account, recording who did it. The user item's
    /// condition pins the username and email whose guards go with it: a
    /// concurrent change of either makes it read the user again.
    pub async fn delete_user(&self, user: &User, audit: &AuditEntry) -> Result<(), ApiError> {
        let mut user = user.clone();
        for _ in 0..ATTEMPTS {
            let actions = vec![
                (
                    Deletion::User,
                    self.delete(key_of(keys::user(&user.id)))
                        .condition_expression("username = :username AND email = :email")
                        .expression_attribute_values(":username", s(&user.username))
                        .expression_attribute_values(":email", s(&user.email))
                        .tx(),
                ),
                (
                    Deletion::Guard,
                    self.guard_delete(keys::username(&user.username), &user.id),
                ),
                (
                    Deletion::Guard,
                    self.guard_delete(keys::email(&user.email), &user.id),
                ),
                (Deletion::Audit, self.audit_action(audit)?),
            ];
            match self.transact(actions).await {
                Ok(()) => {
                    self.user_changed(&user);
                    return Ok(());
                }
                Err(err) if err.failed(Deletion::User) => match self.user_by_id(&user.id).await? {
                    Some(current) => user = current,
                    None => return Err(ApiError::NotFound("user")),
                },
                Err(err) => return Err(err.into()),
            }
        }
        Err(ApiError::Stale("user"))
    }

    /// Removes what the deleted user `user` had. Their articles go first,
    /// each as its author would delete it (its comments, favorites and
    /// feed entries then from the stream, by `clean_up_articles`), so the
    /// followers' unfollows find no entries of theirs left to take out.
    pub async fn clean_up_user(&self, user: &User) -> Result<Departure, ApiError> {
        let id = user.id.as_str();
        let articles = self.index_sort_keys(&keys::authored_by(id)).await?;
        let articles = self.articles_by_ids(&articles).await?;
        let deleted = articles.len();
        stream::iter(articles)
            .map(|article| async move { self.delete_article_of_departed(&article).await })
            .buffer_unordered(CONCURRENCY)
            .try_collect::<()>()
            .await?;

        let comments = self.index_sort_keys(&keys::commented_by(id)).await?;
        let comment_keys = comments
            .iter()
            .filter_map(|key| keys::comment_of_index_key(key))
            .map(|(article, comment)| key_of(keys::comment(article, comment)))
            .collect();
        self.batch_delete(comment_keys).await?;

        let favorites = self.index_sort_keys(&keys::favorited_by(id)).await?;
        let unfavorites = favorites
            .iter()
            .map(|article| {
                let favorite = keys::favorite(article, id);
                self.delete_once(favorite, keys::article(article), "favorites_count")
            })
            .collect();
        let favorites = self.apply_once(None, unfavorites).await?.count();

        let (following, sessions) = self.own_partition(id).await?;
        let unfollows = following
            .iter()
            .map(|followee| {
                let follow = keys::follow(id, followee);
                self.delete_once(follow, keys::user(followee), "followers_count")
            })
            .collect();
        let following = self.apply_once(None, unfollows).await?.count();

        let followers = self.index_sort_keys(&keys::followers_of(id)).await?;
        let pullers = self.index_sort_keys(&keys::pullers_of(id)).await?;
        let dropped = followers
            .iter()
            .chain(&pullers)
            .map(|follower| {
                let follow = keys::follow(follower, id);
                self.delete_once(follow, keys::user(follower), "following_count")
            })
            .collect();
        let followers = self.apply_once(None, dropped).await?.count();
        // A puller also lists them in `pulls`: out of it, once (apart: a
        // transaction touches an item once, and the count above is on it).
        let unpulls = pullers
            .iter()
            .map(|puller| {
                let update = self
                    .update(key_of(keys::user(puller)))
                    .update_expression("DELETE pulls :who")
                    .condition_expression("contains(pulls, :id)")
                    .expression_attribute_values(":who", AttributeValue::Ss(vec![id.to_owned()]))
                    .expression_attribute_values(":id", s(id));
                Once::new(update.tx())
            })
            .collect();
        self.apply_once(None, unpulls).await?;

        let feed = self.partition_keys(&keys::feed_partition(id), None).await?;
        let feed_entries = feed.len();
        self.batch_delete(feed).await?;
        let session_count = sessions.len();
        self.batch_delete(sessions).await?;
        Ok(Departure {
            articles: deleted,
            comments: comments.len(),
            favorites,
            following,
            followers,
            feed_entries,
            sessions: session_count,
        })
    }

    /// What is left in the user's own partition: whom they follow (ids),
    /// and the keys of their session items.
    async fn own_partition(&self, id: &str) -> Result<(Vec<String>, Vec<Item>), ApiError> {
        let (partition, _) = keys::user(id);
        let following = self
            .partition_keys(&partition, Some(keys::FOLLOWS_PREFIX))
            .await?
            .iter()
            .filter_map(|key| get_s(key, "SK")?.strip_prefix(keys::FOLLOWS_PREFIX))
            .map(str::to_owned)
            .collect();
        let sessions = self
            .partition_keys(&partition, Some(keys::SESSION_PREFIX))
            .await?;
        Ok((following, sessions))
    }

    /// The keys of a partition's items (those whose sort key starts with
    /// `prefix`), strongly consistent: nothing written before the delete
    /// may be missed and left behind.
    async fn partition_keys(
        &self,
        partition: &str,
        prefix: Option<&str>,
    ) -> Result<Vec<Item>, ApiError> {
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .expression_attribute_values(":pk", s(partition))
            .projection_expression("PK, SK")
            .consistent_read(true);
        query = match prefix {
            Some(prefix) => query
                .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                .expression_attribute_values(":prefix", s(prefix)),
            None => query.key_condition_expression("PK = :pk"),
        };
        all_items(query).await
    }
}
