//! A per-process cache of hot, rarely changing public reads: the tag list
//! and the users shown as authors and profiles. A warm Lambda instance
//! serving a popular page then skips most of its DynamoDB reads.
//!
//! Entries live for a short TTL (`CACHE_TTL_SECONDS`, 10 s by default). A
//! write in this process drops the entries it affects at once; other
//! processes (other Lambda instances) may serve the old value until the TTL
//! runs out. Only public data goes through here: authentication, roles,
//! counters and admin views always read DynamoDB.

use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;

use super::users::User;
use super::{Db, keys};
use crate::error::ApiError;
use crate::meter;

/// Bounds memory on a 128 MB function: a user is well under 1 KB.
const MAX_USERS: u64 = 10_000;

#[derive(Clone, Debug)]
pub struct ReadCache {
    tags: Cache<(), Arc<Vec<String>>>,
    /// By user id.
    users: Cache<String, User>,
    /// By username guard key (usernames are case-insensitive).
    usernames: Cache<String, User>,
}

impl ReadCache {
    /// `None` when `ttl` is zero: caching is off.
    pub fn new(ttl: Duration) -> Option<Self> {
        if ttl.is_zero() {
            return None;
        }
        let users = || {
            Cache::builder()
                .max_capacity(MAX_USERS)
                .time_to_live(ttl)
                .build()
        };
        Some(Self {
            tags: Cache::builder().max_capacity(1).time_to_live(ttl).build(),
            users: users(),
            usernames: users(),
        })
    }

    fn forget_user(&self, user: &User) {
        self.users.invalidate(&user.id);
        self.usernames.invalidate(&keys::username(&user.username).0);
    }
}

fn hit<T>(found: Option<T>) -> Option<T> {
    if found.is_some() {
        meter::cache_hit();
    }
    found
}

impl Db {
    /// Every tag in use, most used first; see [`Db::tags`].
    pub async fn cached_tags(&self) -> Result<Arc<Vec<String>>, ApiError> {
        let Some(cache) = &self.cache else {
            return Ok(Arc::new(self.tags().await?));
        };
        if let Some(tags) = hit(cache.tags.get(&())) {
            return Ok(tags);
        }
        let tags = Arc::new(self.tags().await?);
        cache.tags.insert((), tags.clone());
        Ok(tags)
    }

    /// Users to show as authors, by id, reading only those not cached.
    pub async fn authors_by_ids(&self, ids: &[&str]) -> Result<Vec<User>, ApiError> {
        let Some(cache) = &self.cache else {
            return self.users_by_ids(ids).await;
        };
        let mut found = Vec::with_capacity(ids.len());
        let mut missing = Vec::new();
        for id in ids {
            match hit(cache.users.get(*id)) {
                Some(user) => found.push(user),
                None => missing.push(*id),
            }
        }
        if !missing.is_empty() {
            for user in self.users_by_ids(&missing).await? {
                cache.users.insert(user.id.clone(), user.clone());
                found.push(user);
            }
        }
        Ok(found)
    }

    /// A user's public profile by username; see [`Db::user_by_username`].
    pub async fn profile_by_username(&self, username: &str) -> Result<Option<User>, ApiError> {
        let Some(cache) = &self.cache else {
            return self.user_by_username(username).await;
        };
        let key = keys::username(username).0;
        if let Some(user) = hit(cache.usernames.get(&key)) {
            return Ok(Some(user));
        }
        let user = self.user_by_username(username).await?;
        if let Some(user) = &user {
            cache.usernames.insert(key, user.clone());
        }
        Ok(user)
    }

    /// After a write that changes what tags are in use.
    pub(crate) fn tags_changed(&self) {
        if let Some(cache) = &self.cache {
            cache.tags.invalidate(&());
        }
    }

    /// After a write to `user` (its old self: the old username is the one cached).
    pub(crate) fn user_changed(&self, user: &User) {
        if let Some(cache) = &self.cache {
            cache.forget_user(user);
        }
    }
}
