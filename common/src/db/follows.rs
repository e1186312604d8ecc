//! Follows: `USER#<follower>` / `FOLLOWS#<followee>` items (also listed
//! under the followee's `FOLLOWERS#` partition of GSI2), the follower's
//! `following_count` that caps them and the followee's `followers_count`.
//! What a follow does to the follower's feed happens later, from the
//! table's stream (`db::feeds`).

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};

use super::feeds::{MAX_PULLED, PULL_MIN_FOLLOWERS};
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
    item
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

    /// Follows; following someone already followed changes nothing. A
    /// very followed author is pulled by the follower's feed, while it has
    /// room for one more (see `db::feeds`); anyone else is delivered to it.
    pub async fn follow(&self, follower: &User, followee: &User) -> Result<(), ApiError> {
        let pull =
            followee.followers_count >= PULL_MIN_FOLLOWERS && follower.pulls.len() < MAX_PULLED;
        match self.follow_as(&follower.id, &followee.id, pull).await {
            // Pulls filled up meanwhile (or the cap was reached): try as a
            // delivered follow, which tells the two apart.
            Err(err) if pull && err.failed(Follow::Count) => self
                .follow_as(&follower.id, &followee.id, false)
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
    ) -> Result<(), TxError<Follow>> {
        let mut count = self
            .update(key_of(keys::user(follower)))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(MAX_FOLLOWING));
        let room = "attribute_exists(PK) AND (attribute_not_exists(following_count) OR following_count < :max)";
        count = match pull {
            true => count
                .update_expression("ADD following_count :one, pulls :who")
                .condition_expression(format!(
                    "{room} AND (attribute_not_exists(pulls) OR size(pulls) < :max_pulled)"
                ))
                .expression_attribute_values(":who", AttributeValue::Ss(vec![followee.to_owned()]))
                .expression_attribute_values(":max_pulled", n(MAX_PULLED)),
            false => count
                .update_expression("ADD following_count :one")
                .condition_expression(room),
        };
        let actions = vec![
            (
                Follow::Item,
                self.put(follow_item(follower, followee, pull))
                    .condition_expression("attribute_not_exists(PK)")
                    .tx(),
            ),
            (Follow::Count, count.tx()),
            (Follow::Followers, self.count_followers(followee, 1)),
        ];
        match self.transact(actions).await {
            Err(err) if err.failed(Follow::Item) => Ok(()),
            other => other,
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
                // Taking it out of `pulls` too: a no-op unless it was pulled.
                self.update(key_of(keys::user(follower)))
                    .update_expression("ADD following_count :minus_one DELETE pulls :who")
                    .expression_attribute_values(":minus_one", n(-1))
                    .expression_attribute_values(
                        ":who",
                        AttributeValue::Ss(vec![followee.to_owned()]),
                    )
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

    fn count_followers(&self, followee: &str, delta: i64) -> TransactWriteItem {
        self.update(key_of(keys::user(followee)))
            .update_expression("ADD followers_count :delta")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":delta", n(delta))
            .tx()
    }
}
