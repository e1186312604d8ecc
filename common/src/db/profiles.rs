//! Follows: `USER#<follower>` / `FOLLOWS#<followee>` items.

use std::collections::HashSet;

use super::{Db, Tx, get_s, key_of, keys, n, s, sdk_error};
use crate::error::ApiError;

/// How many users one user may follow. The feed reads every followed
/// author's newest articles, so this bounds its cost (see docs/data-model.md).
pub const MAX_FOLLOWING: u64 = 200;

impl Db {
    pub async fn is_following(&self, follower: &str, followee: &str) -> Result<bool, ApiError> {
        Ok(self
            .get(key_of(keys::follow(follower, followee)))
            .await?
            .is_some())
    }

    /// Follows; following someone already followed changes nothing.
    pub async fn follow(&self, follower: &str, followee: &str) -> Result<(), ApiError> {
        let items = vec![
            self.put(key_of(keys::follow(follower, followee)))
                .condition_expression("attribute_not_exists(PK)")
                .tx(),
            self.update(key_of(keys::user(follower)))
                .update_expression("ADD following_count :one")
                .condition_expression(
                    "attribute_exists(PK) AND (attribute_not_exists(following_count) OR following_count < :max)",
                )
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":max", n(MAX_FOLLOWING))
                .tx(),
        ];
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(err) if err.failed_at(0) => Ok(()),
            Err(err) if err.failed_at(1) => Err(ApiError::field(
                "profile",
                format!("cannot follow more than {MAX_FOLLOWING} users"),
            )),
            Err(err) => Err(err.into()),
        }
    }

    /// Unfollows; unfollowing someone not followed changes nothing.
    pub async fn unfollow(&self, follower: &str, followee: &str) -> Result<(), ApiError> {
        let items = vec![
            self.delete(key_of(keys::follow(follower, followee)))
                .condition_expression("attribute_exists(PK)")
                .tx(),
            self.update(key_of(keys::user(follower)))
                .update_expression("ADD following_count :minus_one")
                .expression_attribute_values(":minus_one", n(-1))
                .tx(),
        ];
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(err) if err.failed_at(0) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    /// Of `followee_ids`, those that `follower` follows, in one batch read.
    pub async fn followed_among(
        &self,
        follower: &str,
        followee_ids: &[&str],
    ) -> Result<HashSet<String>, ApiError> {
        let keys = followee_ids
            .iter()
            .map(|id| key_of(keys::follow(follower, id)))
            .collect();
        self.which_exist(keys, "SK", keys::FOLLOWS_PREFIX).await
    }

    /// Ids of everyone `follower` follows (at most [`MAX_FOLLOWING`]).
    pub async fn followed_ids(&self, follower: &str) -> Result<Vec<String>, ApiError> {
        let (pk, _) = keys::follow(follower, "");
        let mut ids = vec![];
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                .expression_attribute_values(":pk", s(&pk))
                .expression_attribute_values(":prefix", s(keys::FOLLOWS_PREFIX))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(sdk_error)?;
            ids.extend(out.items().iter().filter_map(|item| {
                get_s(item, "SK")
                    .and_then(|sk| sk.strip_prefix(keys::FOLLOWS_PREFIX))
                    .map(str::to_owned)
            }));
            start = out.last_evaluated_key;
            if start.is_none() || ids.len() as u64 >= MAX_FOLLOWING {
                return Ok(ids);
            }
        }
    }
}
