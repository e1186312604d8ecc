//! Follows: `USER#<follower>` / `FOLLOWS#<followee>` items (also listed
//! under the followee's `FOLLOWERS#` partition of GSI2), the follower's
//! `following_count` that caps them and the followee's `followers_count`.
//! What a follow does to the follower's feed happens later, from the
//! table's stream (`db::feeds`).

use std::collections::HashSet;

use aws_sdk_dynamodb::types::TransactWriteItem;

use super::{Db, Item, Tx, key_of, keys, n, s};
use crate::error::ApiError;

/// How many users one user may follow. The feed is materialised, so its
/// read cost does not depend on this; it bounds what one user's follows
/// cost the stream consumers that fill and empty their feed.
pub const MAX_FOLLOWING: u64 = 5_000;

/// The actions of a follow or an unfollow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Follow {
    /// The follow item itself.
    Item,
    /// The follower's `following_count`.
    Count,
    /// The followee's `followers_count`.
    Followers,
}

/// The follow item, listed under the followee's followers too.
pub fn follow_item(follower: &str, followee: &str) -> Item {
    let mut item = key_of(keys::follow(follower, followee));
    item.insert("GSI2PK".into(), s(keys::followers_of(followee)));
    item.insert("GSI2SK".into(), s(follower));
    item
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
                self.put(follow_item(follower, followee))
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
            (Follow::Followers, self.count_followers(followee, 1)),
        ];
        match self.transact(actions).await {
            Ok(()) => Ok(()),
            Err(err) if err.failed(Follow::Item) => Ok(()),
            Err(err) if err.failed(Follow::Followers) => Err(ApiError::NotFound("profile")),
            Err(err) if err.failed(Follow::Count) => Err(ApiError::field(
                "profile",
                format!("cannot follow more than {MAX_FOLLOWING} users"),
            )),
            Err(err) => Err(err.into()),
        }
    }

    /// Unfollows; unfollowing someone not followed changes nothing.
    pub async fn unfollow(&self, follower: &str, followee: &str) -> Result<(), ApiError> {
        // Nobody follows themselves (following yourself is refused), and one
        // transaction may not update the same user item twice.
        if follower == followee {
            return Ok(());
        }
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
            (Follow::Followers, self.count_followers(followee, -1)),
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

    fn count_followers(&self, followee: &str, delta: i64) -> TransactWriteItem {
        self.update(key_of(keys::user(followee)))
            .update_expression("ADD followers_count :delta")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":delta", n(delta))
            .tx()
    }
}
