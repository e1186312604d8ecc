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

/// What a username names, as the read cache or its guard tells.
#[derive(Debug)]
pub enum Named {
    /// Its user's profile, cached.
    Profile(Profile),
    /// Its user's id, from the guard: the profile is still to read.
    Id(String),
}

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

    /// What `username` names, for reading only: its profile when cached,
    /// else its user's id from the guard (`None`: nobody). A write must
    /// resolve the username afresh ([`Db::user_by_username`]), since a
    /// cached name may since have passed to someone else.
    pub async fn cached_profile_or_id_by_username(
        &self,
        username: &str,
    ) -> Result<Option<Named>, ApiError> {
        let cached = self.cache.as_ref().and_then(|cache| {
            let key = keys::username(username).0;
            hit(cache.usernames.get(&key))
        });
        if let Some(profile) = cached {
            return Ok(Some(Named::Profile(Profile::clone(&profile))));
        }
        Ok(self.user_id_by_username(username).await?.map(Named::Id))
    }

    /// The profile `username` names (`named`, as
    /// [`Db::cached_profile_or_id_by_username`] found it) and whether
    /// `viewer` follows its user, in one read: the follow, with the profile
    /// when it is not cached (one `BatchGetItem`). `None`: the user is gone.
    pub async fn profile_as(
        &self,
        username: &str,
        named: Named,
        viewer: Option<&str>,
    ) -> Result<Option<(Profile, bool)>, ApiError> {
        let id = match named {
            Named::Profile(profile) => {
                let following = match viewer {
                    Some(viewer) => self.is_following(viewer, &profile.id).await?,
                    None => false,
                };
                return Ok(Some((profile, following)));
            }
            Named::Id(id) => id,
        };
        let found = self.read_decorations(&[&id], viewer, &[]).await?;
        let Some(profile) = found.profiles.into_iter().next() else {
            return Ok(None);
        };
        if let Some(cache) = &self.cache {
            let key = keys::username(username).0;
            cache.usernames.insert(key, Arc::new(profile.clone()));
        }
        Ok(Some((profile, found.followed.contains(&id))))
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
