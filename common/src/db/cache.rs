//! A per-process cache of hot, rarely changing public reads: the tag list
//! and the profiles shown for authors. A warm Lambda instance serving a
//! popular page then skips most of its DynamoDB reads.
//!
//! Entries live for a short TTL (`CACHE_TTL_SECONDS`, 10 s by default), and
//! that TTL is the only bound on staleness across functions: in AWS every
//! route is its own Lambda function, so the process that writes (say,
//! `update_user`) is never the one that reads (`get_profile`). What a
//! signed-in user changes about themselves they still see at once, because
//! their own profile is taken from the user that authentication has just
//! read (see `decorate::profiles` and the profiles handler). A write also drops
//! the entries it affects in its own process, which is what keeps the local
//! server (every route in one process) exact; a read that started before
//! such a write may still put the old value back, for at most one TTL.
//!
//! Only [`Profile`]s are kept, never emails, hashes or roles, and nothing
//! that depends on the reader (follows, favorites) or guards access
//! (authentication, admin views) goes through here.

use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;

use super::profiles::Profile;
use super::users::User;
use super::{Db, keys};
use crate::error::ApiError;
use crate::meter;

/// Bytes each profile cache may hold: a profile is up to about 7 KB (a
/// long bio and image URL), most are far smaller.
const PROFILE_CACHE_BYTES: u64 = 8 * 1024 * 1024;

#[derive(Clone)]
pub struct ReadCache {
    tags: Cache<(), Arc<Vec<String>>>,
    /// By user id.
    profiles: Cache<String, Arc<Profile>>,
    /// By username guard key (usernames are case-insensitive).
    usernames: Cache<String, Arc<Profile>>,
}

// Counts only: the entries are users' data, which has no place in a log.
impl std::fmt::Debug for ReadCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadCache")
            .field("profiles", &self.profiles.entry_count())
            .field("usernames", &self.usernames.entry_count())
            .finish_non_exhaustive()
    }
}

impl ReadCache {
    /// `None` when `ttl` is zero: caching is off.
    pub fn new(ttl: Duration) -> Option<Self> {
        if ttl.is_zero() {
            return None;
        }
        let profiles = || {
            Cache::builder()
                .weigher(|key: &String, profile: &Arc<Profile>| {
                    let bytes = key.len()
                        + profile.id.len()
                        + profile.username.len()
                        + profile.bio.as_ref().map_or(0, String::len)
                        + profile.image.as_ref().map_or(0, String::len);
                    u32::try_from(bytes).unwrap_or(u32::MAX)
                })
                .max_capacity(PROFILE_CACHE_BYTES)
                .time_to_live(ttl)
                .build()
        };
        Some(Self {
            tags: Cache::builder().max_capacity(1).time_to_live(ttl).build(),
            profiles: profiles(),
            usernames: profiles(),
        })
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

    /// Profiles by user id, reading only those not cached. Users that no
    /// longer exist are absent.
    pub async fn cached_profiles_by_ids(&self, ids: &[&str]) -> Result<Vec<Profile>, ApiError> {
        let (mut found, missing) = self.cached_profiles(ids);
        if !missing.is_empty() {
            for user in self.users_by_ids(&missing).await? {
                found.push(self.remember_profile(&user));
            }
        }
        Ok(found)
    }

    /// Of the users `ids`, the profiles cached, and the ids left to read.
    pub(crate) fn cached_profiles<'i>(&self, ids: &[&'i str]) -> (Vec<Profile>, Vec<&'i str>) {
        let Some(cache) = &self.cache else {
            return (vec![], ids.to_vec());
        };
        let mut found = Vec::with_capacity(ids.len());
        let mut missing = Vec::new();
        for id in ids {
            match hit(cache.profiles.get(*id)) {
                Some(profile) => found.push(Profile::clone(&profile)),
                None => missing.push(*id),
            }
        }
        (found, missing)
    }

    /// The profile of a user just read, kept for the next reader.
    pub(crate) fn remember_profile(&self, user: &User) -> Profile {
        let profile = Profile::from(user);
        if let Some(cache) = &self.cache {
            cache
                .profiles
                .insert(profile.id.clone(), Arc::new(profile.clone()));
        }
        profile
    }

    /// A profile by username, for reading only: a write must resolve the
    /// username afresh ([`Db::user_by_username`]), since a cached name may
    /// since have passed to someone else.
    pub async fn cached_profile_by_username(
        &self,
        username: &str,
    ) -> Result<Option<Profile>, ApiError> {
        let Some(cache) = &self.cache else {
            let user = self.user_by_username(username).await?;
            return Ok(user.as_ref().map(Profile::from));
        };
        let key = keys::username(username).0;
        if let Some(profile) = hit(cache.usernames.get(&key)) {
            return Ok(Some(Profile::clone(&profile)));
        }
        let profile = self
            .user_by_username(username)
            .await?
            .as_ref()
            .map(Profile::from);
        if let Some(profile) = &profile {
            cache.usernames.insert(key, Arc::new(profile.clone()));
        }
        Ok(profile)
    }

    /// After a write that changes what tags are in use.
    pub(crate) fn tags_changed(&self) {
        if let Some(cache) = &self.cache {
            cache.tags.invalidate(&());
        }
    }

    /// After a write to `user` (as it was before: its old username is the
    /// one that may be cached).
    pub(crate) fn user_changed(&self, user: &User) {
        if let Some(cache) = &self.cache {
            cache.profiles.invalidate(&user.id);
            cache
                .usernames
                .invalidate(&keys::username(&user.username).0);
        }
    }
}
