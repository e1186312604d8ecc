//! Follows: `USER#<follower>` / `FOLLOWS#<followee>` items, and the
//! follower's `following_count` that caps them.

use std::collections::HashSet;

use super::{Db, Tx, get_s, key_of, keys, n, s, sdk_error};
use crate::error::ApiError;

/// How many users one user may follow. The feed reads every followed
/// author's newest articles, so this bounds its cost (see docs/data-model.md).
pub const MAX_FOLLOWING: u64 = 200;

/// The actions of a follow or an unfollow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Follow {
    /// The follow item itself.
    Item,
    /// The follower's `following_count`.
    Count,
}

impl Db {
    pub async fn is_following(&self, follower: &str, followee: &str) -> Result<bool, ApiError> {
        Ok(self
            .get(key_of(keys::follow(follower, followee)))
            .await?
            .is_some())
    }

    /// Follows; following someone already followed changes nothing.
    pub async fn follow(&self, follower: &str, followee: &str) -> Result<(), ApiError> {
        let actions = vec![
            (
                Follow::Item,
                self.put(key_of(keys::follow(follower, followee)))
                    .condition_expression("attribute_not_exists(PK)")
                    .tx(),
            ),
            (
                Follow::Count,
                self.update(key_of(keys::user(follower)))
                    .update_expression("ADD following_count :one")
                    .condition_expression(
                        "attribute_exists(PK) AND (attribute_not_exists(following_count) OR following_count < :max)",
                    )
                    .expression_attribute_values(":one", n(1))
                    .expression_attribute_values(":max", n(MAX_FOLLOWING))
                    .tx(),
            ),
        ];
        match self.transact(actions).await {
            Ok(()) => Ok(()),
            Err(err) if err.failed(Follow::Item) => Ok(()),
            Err(err) if err.failed(Follow::Count) => Err(ApiError::field(
                "profile",
                format!("cannot follow more than {MAX_FOLLOWING} users"),
            )),
            Err(err) => Err(err.into()),
        }
    }

    /// Unfollows; unfollowing someone not followed changes nothing.
    pub async fn unfollow(&self, follower: &str, followee: &str) -> Result<(), ApiError> {
        let actions = vec![
            (
                Follow::Item,
                self.delete(key_of(keys::follow(follower, followee)))
                    .condition_expression("attribute_exists(PK)")
                    .tx(),
            ),
            (
                Follow::Count,
                self.update(key_of(keys::user(follower)))
                    .update_expression("ADD following_count :minus_one")
                    .expression_attribute_values(":minus_one", n(-1))
                    .tx(),
            ),
        ];
        match self.transact(actions).await {
            Ok(()) => Ok(()),
            Err(err) if err.failed(Follow::Item) => Ok(()),
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
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", s(&pk))
            .expression_attribute_values(":prefix", s(keys::FOLLOWS_PREFIX))
            .consistent_read(true)
            .into_paginator()
            .send();
        let mut ids = vec![];
        while let Some(page) = pages.try_next().await.map_err(sdk_error)? {
            ids.extend(page.items().iter().filter_map(|item| {
                get_s(item, "SK")
                    .and_then(|sk| sk.strip_prefix(keys::FOLLOWS_PREFIX))
                    .map(str::to_owned)
            }));
            if ids.len() as u64 >= MAX_FOLLOWING {
                break;
            }
        }
        Ok(ids)
    }
}
