//! Sign-in sessions: one per registration or login, named in its token
//! (`sid`), so that it can be ended before the token expires.
//!
//! Each session is kept twice, and both are written in one transaction:
//! - an entry in the user item's `sessions` map (session id -> expiry):
//!   what authentication checks, inside the one read of the user item it
//!   makes anyway, so a session costs no extra round trip;
//! - a session item in the user's partition (`SESSION#<id>`): when, from
//!   where and with what client it was made, for `GET /api/user/sessions`.
//!   It carries the token's expiry in `expires_at`, so the table's TTL
//!   removes it once the token is dead.
//!
//! Ending sessions removes their map entries (which is what revokes them)
//! and their items. A listing shows only the items the map still names:
//! an expired item the TTL has not reached yet, or one orphaned by a
//! sign-in that raced a password change, is never shown.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use serde::{Deserialize, Serialize};

use super::paging::all_items;
use super::users::User;
use super::{Db, Item, Tx, from_item, key_of, keys, n, s, to_item};
use crate::domain::UserStatus;
use crate::error::ApiError;
use crate::time::epoch_secs;

/// Sessions one user may hold at once. A sign-in beyond this ends the
/// oldest, which bounds the user item (about 40 bytes a session, so that
/// authentication's read of it stays at one read unit).
pub const MAX_SESSIONS: usize = 50;

/// The longest user agent kept; the rest is cut.
const MAX_USER_AGENT_CHARS: usize = 256;

/// One sign-in, as its item stores it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Session {
    /// A ULID, so sessions sort by when they began.
    pub id: String,
    pub user_id: String,
    pub created_at: String,
    /// When its token expires (epoch seconds); also the item's TTL.
    pub expires_at: u64,
    /// The client's address and user agent as seen at sign-in.
    pub client_ip: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

impl Session {
    /// A session for `user_id` beginning now, lasting `ttl` (the token's).
    pub fn begin(
        user_id: &str,
        ttl: Duration,
        client_ip: String,
        user_agent: Option<&str>,
    ) -> Self {
        let now = SystemTime::now();
        Self {
            id: crate::time::new_id(now).to_string(),
            user_id: user_id.to_owned(),
            created_at: crate::time::iso(now),
            expires_at: epoch_secs(now) + ttl.as_secs(),
            client_ip,
            user_agent: user_agent.map(|agent| agent.chars().take(MAX_USER_AGENT_CHARS).collect()),
        }
    }

    pub(super) fn item(&self) -> Result<Item, ApiError> {
        let mut item = to_item(self)?;
        item.extend(key_of(keys::session(&self.user_id, &self.id)));
        Ok(item)
    }
}

impl User {
    /// How many of the user's sessions have not expired.
    pub fn live_sessions(&self) -> usize {
        let now = epoch_secs(SystemTime::now());
        self.sessions.values().filter(|e| **e > now).count()
    }
}

/// A `sessions` map attribute of the given entries.
fn session_map<'a>(entries: impl IntoIterator<Item = (&'a String, &'a u64)>) -> AttributeValue {
    AttributeValue::M(
        entries
            .into_iter()
            .map(|(id, expires)| (id.clone(), n(expires)))
            .collect(),
    )
}

/// The sessions a new sign-in ends: those beyond [`MAX_SESSIONS`] once it
/// is counted, oldest first (ids are ULIDs); expired ones are left out,
/// since they no longer count.
fn evicted(sessions: &BTreeMap<String, u64>, now: u64) -> Vec<&String> {
    let live: Vec<&String> = sessions
        .iter()
        .filter(|(_, expires)| **expires > now)
        .map(|(id, _)| id)
        .collect();
    let excess = (live.len() + 1).saturating_sub(MAX_SESSIONS);
    live.into_iter().take(excess).collect()
}

/// Sessions to end inside another transaction: the user item's update
/// adds [`EndSessions::SET`] with `kept` as [`EndSessions::VALUE`], and the
/// transaction takes the `deletions` of the ended sessions' items.
pub struct EndSessions {
    pub kept: AttributeValue,
    pub deletions: Vec<TransactWriteItem>,
}

impl EndSessions {
    pub const SET: &str = "sessions = :kept_sessions";
    pub const VALUE: &str = ":kept_sessions";
}

/// The actions of a sign-in's transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SessionAction {
    /// The user item's `sessions` map.
    User,
    /// A session item, put or deleted.
    Item,
}

/// Sign-ins racing each other for one user: each re-reads and retries.
const SIGN_IN_ATTEMPTS: usize = 8;

impl Db {
    /// Records a new session of `user` (as read to check the password): its
    /// map entry and its item, ending the oldest sessions beyond
    /// [`MAX_SESSIONS`] and dropping expired entries. Fails with
    /// `InvalidCredentials` when the password, the email or the status
    /// changed since `user` was read (a sign-in that checked the old
    /// password must not outlive the change that ended the others).
    pub async fn begin_session(&self, user: &User, session: &Session) -> Result<(), ApiError> {
        let mut current = user.clone();
        for _ in 0..SIGN_IN_ATTEMPTS {
            if self.try_begin_session(&current, session).await? {
                return Ok(());
            }
            // The user item changed since it was read: another sign-in
            // (retry on what it left), or what this sign-in relied on.
            let fresh = self
                .user_by_id(&user.id)
                .await?
                .ok_or(ApiError::InvalidCredentials)?;
            if fresh.password_hash != user.password_hash
                || fresh.email != user.email
                || fresh.status != UserStatus::Active
            {
                return Err(ApiError::InvalidCredentials);
            }
            current = fresh;
            // Concurrent sign-ins take turns: a short, random pause.
            let pause = rand::Rng::gen_range(&mut rand::thread_rng(), 5..25);
            tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
        }
        // Still losing to other sign-ins of the same user: 503, retry.
        Err(ApiError::Busy)
    }

    /// One attempt of [`Db::begin_session`], on condition that the user item
    /// is still as `user` shows it (credentials, status, the size of its map
    /// and the entries this ends, which keeps the map within
    /// [`MAX_SESSIONS`] whatever races);
    /// `false` when it no longer is.
    async fn try_begin_session(&self, user: &User, session: &Session) -> Result<bool, ApiError> {
        let now = epoch_secs(SystemTime::now());
        let evicted = evicted(&user.sessions, now);
        let expired = user.sessions.iter().filter(|(_, e)| **e <= now);
        let unchanged = "#status = :active AND password_hash = :hash AND email = :email";
        let mut update = self
            .update(key_of(keys::user(&user.id)))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":active", s(UserStatus::Active.as_str()))
            .expression_attribute_values(":hash", s(&user.password_hash))
            .expression_attribute_values(":email", s(&user.email));
        update = if user.sessions.is_empty() {
            // No session: maybe no map either (a user from before sessions),
            // and a nested path cannot be set in a missing map.
            update
                .update_expression("SET sessions = :fresh")
                .condition_expression(format!(
                    "{unchanged} AND (attribute_not_exists(sessions) OR size(sessions) = :zero)"
                ))
                .expression_attribute_values(
                    ":fresh",
                    session_map([(&session.id, &session.expires_at)]),
                )
                .expression_attribute_values(":zero", n(0))
        } else {
            let mut removes = vec![];
            for (i, id) in evicted
                .iter()
                .copied()
                .chain(expired.map(|(id, _)| id))
                .enumerate()
            {
                removes.push(format!("sessions.#old{i}"));
                update = update.expression_attribute_names(format!("#old{i}"), id);
            }
            let mut expression = "SET sessions.#new = :expires".to_owned();
            if !removes.is_empty() {
                expression += &format!(" REMOVE {}", removes.join(", "));
            }
            update
                .update_expression(expression)
                .condition_expression(format!(
                    "{unchanged} AND size(sessions) = :seen{}",
                    // Each entry it ends still there: a concurrent sign-in
                    // that ended one and added its own leaves the size as
                    // it was, but not the entries.
                    removes
                        .iter()
                        .map(|path| format!(" AND attribute_exists({path})"))
                        .collect::<String>()
                ))
                .expression_attribute_names("#new", &session.id)
                .expression_attribute_values(":expires", n(session.expires_at))
                .expression_attribute_values(":seen", n(user.sessions.len()))
        };
        let mut actions = vec![
            (SessionAction::User, update.tx()),
            (SessionAction::Item, self.put(session.item()?).tx()),
        ];
        actions.extend(
            evicted
                .iter()
                .map(|id| (SessionAction::Item, self.session_delete(&user.id, id))),
        );
        match self.transact(actions).await {
            Ok(()) => Ok(true),
            Err(err) if err.failed(SessionAction::User) => Ok(false),
            Err(err) => Err(err.into()),
        }
    }

    /// The user's live sessions, newest first.
    pub async fn sessions(&self, user: &User) -> Result<Vec<Session>, ApiError> {
        let (pk, _) = keys::session(&user.id, "");
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":prefix", s(keys::SESSION_PREFIX))
            .scan_index_forward(false)
            .consistent_read(true);
        let now = epoch_secs(SystemTime::now());
        all_items(query)
            .await?
            .into_iter()
            .map(from_item::<Session>)
            .filter(|session| match session {
                Ok(session) => session.expires_at > now && user.sessions.contains_key(&session.id),
                Err(_) => true,
            })
            .collect()
    }

    /// Ends one of the user's sessions; `false` when it does not exist (or
    /// has already ended).
    pub async fn end_session(&self, user_id: &str, session_id: &str) -> Result<bool, ApiError> {
        // Session ids are ULIDs: anything else names no session.
        if ulid::Ulid::from_string(session_id).is_err() {
            return Ok(false);
        }
        let actions = vec![
            (
                SessionAction::User,
                self.update(key_of(keys::user(user_id)))
                    .update_expression("REMOVE sessions.#id")
                    .condition_expression("attribute_exists(sessions.#id)")
                    .expression_attribute_names("#id", session_id)
                    .tx(),
            ),
            (
                SessionAction::Item,
                self.session_delete(user_id, session_id),
            ),
        ];
        match self.transact(actions).await {
            Ok(()) => Ok(true),
            Err(err) if err.failed(SessionAction::User) => Ok(false),
            Err(err) => Err(err.into()),
        }
    }

    /// What ends every session of `user` (as read) but `keep`, to join the
    /// transaction that makes it necessary (a password change, a
    /// suspension).
    ///
    /// The map is replaced, not edited: a sign-in that raced the change
    /// ends too, so nothing the caller did not see survives it.
    pub fn end_sessions_but(&self, user: &User, keep: Option<&str>) -> EndSessions {
        let kept = user
            .sessions
            .iter()
            .filter(|(id, _)| Some(id.as_str()) == keep);
        EndSessions {
            kept: session_map(kept),
            deletions: user
                .sessions
                .keys()
                .filter(|id| Some(id.as_str()) != keep)
                .map(|id| self.session_delete(&user.id, id))
                .collect(),
        }
    }

    fn session_delete(&self, user_id: &str, session_id: &str) -> TransactWriteItem {
        self.delete(key_of(keys::session(user_id, session_id))).tx()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sessions(count: usize, expires: u64) -> BTreeMap<String, u64> {
        (0..count).map(|i| (format!("{i:03}"), expires)).collect()
    }

    #[test]
    fn a_sign_in_at_the_cap_ends_the_oldest_live_sessions() {
        assert!(evicted(&sessions(MAX_SESSIONS - 1, 100), 50).is_empty());
        let full = sessions(MAX_SESSIONS + 2, 100);
        assert_eq!(evicted(&full, 50), ["000", "001", "002"]);
        // Expired sessions do not count and are not "ended" again.
        assert!(evicted(&full, 100).is_empty());
    }

    #[test]
    fn a_user_agent_is_kept_short() {
        let session = Session::begin(
            "u",
            Duration::from_secs(60),
            "127.0.0.1".into(),
            Some(&"x".repeat(1000)),
        );
        assert_eq!(session.user_agent.unwrap().len(), MAX_USER_AGENT_CHARS);
        assert_eq!(session.id.len(), 26);
    }
}
