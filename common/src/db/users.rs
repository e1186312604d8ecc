//! Users, and the guard items that keep usernames and emails unique.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_dynamodb::types::TransactWriteItem;
use serde::{Deserialize, Serialize};

use super::sessions::{EndSessions, Session};
use super::{Db, Item, Tx, TxError, from_item, get_s, key_of, keys, s, to_item};
use crate::domain::{Role, UserStatus};
use crate::error::ApiError;

#[derive(Clone, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub username: String,
    pub email: String,
    pub password_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bio: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default)]
    pub role: Role,
    #[serde(default)]
    pub status: UserStatus,
    /// The user's sessions: id -> expiry (epoch seconds). A token is good
    /// only while its session is here (`auth::authenticate`, `db::sessions`).
    #[serde(default)]
    pub sessions: BTreeMap<String, u64>,
    #[serde(default)]
    pub articles_count: u64,
    #[serde(default)]
    pub favorites_count: u64,
    #[serde(default)]
    pub following_count: u64,
    /// Who follows this user: decides how their new articles reach feeds
    /// (`db::feeds`).
    #[serde(default)]
    pub followers_count: u64,
    /// Entries in this user's feed: kept by the same transactions that add
    /// and remove them.
    #[serde(default)]
    pub feed_count: u64,
    /// Very followed authors whose articles this user's feed reads at read
    /// time instead of receiving them (`db::feeds`), at most `MAX_PULLED`.
    #[serde(
        default,
        with = "serde_dynamo::string_set",
        skip_serializing_if = "BTreeSet::is_empty"
    )]
    pub pulls: BTreeSet<String>,
    pub created_at: String,
}

// Hand-written so the password hash never reaches a log.
impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("role", &self.role)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// A profile edit. `None` leaves a field alone; for `bio` and `image`,
/// `Some(None)` clears it.
#[derive(Default)]
pub struct UserChanges {
    pub username: Option<String>,
    pub email: Option<String>,
    pub password_hash: Option<String>,
    pub bio: Option<Option<String>>,
    pub image: Option<Option<String>>,
}

// Hand-written so a new password's hash never reaches a log.
impl std::fmt::Debug for UserChanges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserChanges")
            .field("username", &self.username)
            .field("email", &self.email)
            .field("password_changed", &self.password_hash.is_some())
            .field("bio", &self.bio)
            .field("image", &self.image)
            .finish()
    }
}

impl User {
    /// The user's item, as stored.
    pub fn item(&self) -> Result<Item, ApiError> {
        let mut item = to_item(self)?;
        item.extend(key_of(keys::user(&self.id)));
        // Listed for admins, newest first.
        item.insert("GSI1PK".into(), s(keys::USERS));
        item.insert("GSI1SK".into(), s(&self.id));
        Ok(item)
    }
}

/// The actions of a user's transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UserAction {
    /// The user item.
    User,
    /// The guard of the new username or email (`attribute_not_exists`).
    UsernameGuard,
    EmailGuard,
    /// The guard of the username or email being given up.
    OldUsernameGuard,
    OldEmailGuard,
    /// A session item.
    Session,
}

impl Db {
    fn guard_put(&self, guard: (String, String), user_id: &str) -> TransactWriteItem {
        let mut item = key_of(guard);
        item.insert("user_id".into(), s(user_id));
        self.put(item)
            .condition_expression("attribute_not_exists(PK)")
            .tx()
    }

    pub(super) fn guard_delete(&self, guard: (String, String), user_id: &str) -> TransactWriteItem {
        self.delete(key_of(guard))
            .condition_expression("user_id = :me")
            .expression_attribute_values(":me", s(user_id))
            .tx()
    }
}

impl Db {
    pub async fn user_by_id(&self, id: &str) -> Result<Option<User>, ApiError> {
        self.get(key_of(keys::user(id)))
            .await?
            .map(from_item)
            .transpose()
    }

    async fn user_by_guard(&self, guard: (String, String)) -> Result<Option<User>, ApiError> {
        match self.user_id_by_guard(guard).await? {
            Some(id) => self.user_by_id(&id).await,
            None => Ok(None),
        }
    }

    async fn user_id_by_guard(&self, guard: (String, String)) -> Result<Option<String>, ApiError> {
        let guard = self.get(key_of(guard)).await?;
        Ok(guard.and_then(|guard| get_s(&guard, "user_id").map(str::to_owned)))
    }

    /// The id of the user `username` names, from its guard alone, for
    /// reads that can go on with the id while the user is read.
    pub async fn user_id_by_username(&self, username: &str) -> Result<Option<String>, ApiError> {
        self.user_id_by_guard(keys::username(username)).await
    }

    /// Users by id, in one batch read.
    pub async fn users_by_ids(&self, ids: &[&str]) -> Result<Vec<User>, ApiError> {
        self.batch_get(ids.iter().map(|id| key_of(keys::user(id))).collect())
            .await?
            .into_iter()
            .map(from_item)
            .collect()
    }

    /// Whether every one of `ids` is a user (strongly consistent).
    pub async fn users_exist(&self, ids: &[&str]) -> Result<bool, ApiError> {
        Ok(self.users_by_ids(ids).await?.len() == ids.len())
    }

    pub async fn user_by_username(&self, username: &str) -> Result<Option<User>, ApiError> {
        self.user_by_guard(keys::username(username)).await
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, ApiError> {
        self.user_by_guard(keys::email(email)).await
    }

    /// Stores a new user, signed in with `session` (which replaces any
    /// sessions `user` lists). Username and email uniqueness is enforced by
    /// DynamoDB itself: the user, both guard items and the session commit
    /// together or not at all.
    pub async fn create_user(&self, user: &User, session: &Session) -> Result<(), ApiError> {
        let mut user = user.clone();
        user.sessions = BTreeMap::from([(session.id.clone(), session.expires_at)]);
        let actions = vec![
            (
                UserAction::User,
                self.put(user.item()?)
                    .condition_expression("attribute_not_exists(PK)")
                    .tx(),
            ),
            (UserAction::Session, self.put(session.item()?).tx()),
            (
                UserAction::UsernameGuard,
                self.guard_put(keys::username(&user.username), &user.id),
            ),
            (
                UserAction::EmailGuard,
                self.guard_put(keys::email(&user.email), &user.id),
            ),
        ];
        match self.transact(actions).await {
            Ok(()) => Ok(()),
            Err(err) => Err(taken(&err).unwrap_or_else(|| err.into())),
        }
    }

    /// Applies a profile edit made from the session `by`; moving a username
    /// or email moves its guard item in the same transaction. A new password
    /// or email ends every other session in it too: whoever else held one
    /// (a stolen token) must sign in again, with the new credentials.
    pub async fn update_user(
        &self,
        current: &User,
        changes: &UserChanges,
        by: &str,
    ) -> Result<(), ApiError> {
        let mut sets = vec![];
        let mut removes = vec![];
        let mut update = self
            .update(key_of(keys::user(&current.id)))
            .expression_attribute_values(":old_username", s(&current.username))
            .expression_attribute_values(":old_email", s(&current.email));
        for (name, value) in [
            ("username", &changes.username),
            ("email", &changes.email),
            ("password_hash", &changes.password_hash),
        ] {
            if let Some(value) = value {
                sets.push(format!("{name} = :{name}"));
                update = update.expression_attribute_values(format!(":{name}"), s(value));
            }
        }
        for (name, value) in [("bio", &changes.bio), ("image", &changes.image)] {
            match value {
                Some(Some(value)) => {
                    sets.push(format!("{name} = :{name}"));
                    update = update.expression_attribute_values(format!(":{name}"), s(value));
                }
                Some(None) => removes.push(name.to_owned()),
                None => {}
            }
        }
        let ends_sessions = changes.password_hash.is_some()
            || changes
                .email
                .as_ref()
                .is_some_and(|email| *email != current.email);
        let mut ended = vec![];
        let mut condition =
            "attribute_exists(PK) AND username = :old_username AND email = :old_email".to_owned();
        if ends_sessions {
            let end = self.end_sessions_but(current, Some(by));
            sets.push(EndSessions::SET.to_owned());
            update = update
                .expression_attribute_values(EndSessions::VALUE, end.kept)
                // The session making the change must still be live: one
                // ended meanwhile (logout, suspension) is not written back.
                .expression_attribute_names("#by", by)
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":active", s(UserStatus::Active.as_str()));
            condition += " AND attribute_exists(sessions.#by) AND #status = :active";
            ended = end.deletions;
        }
        if sets.is_empty() && removes.is_empty() {
            return Ok(());
        }
        let mut expression = String::new();
        if !sets.is_empty() {
            expression += &format!("SET {}", sets.join(", "));
        }
        if !removes.is_empty() {
            expression += &format!(" REMOVE {}", removes.join(", "));
        }

        // The condition pins the username and email this edit was computed
        // from, so two concurrent edits cannot leave a stale guard behind.
        let update = update
            .update_expression(expression.trim())
            .condition_expression(condition)
            .tx();
        let mut actions = vec![(UserAction::User, update)];
        // A changed username or email moves its guard: the old one goes, the new one comes.
        let moves = [
            (
                keys::username(&current.username),
                changes.username.as_deref().map(keys::username),
                UserAction::OldUsernameGuard,
                UserAction::UsernameGuard,
            ),
            (
                keys::email(&current.email),
                changes.email.as_deref().map(keys::email),
                UserAction::OldEmailGuard,
                UserAction::EmailGuard,
            ),
        ];
        for (old, new, old_action, new_action) in moves {
            if let Some(new) = new
                && new != old
            {
                actions.push((old_action, self.guard_delete(old, &current.id)));
                actions.push((new_action, self.guard_put(new, &current.id)));
            }
        }
        actions.extend(ended.into_iter().map(|end| (UserAction::Session, end)));
        match self.transact(actions).await {
            Ok(()) => {
                self.user_changed(current);
                Ok(())
            }
            Err(err) => Err(taken(&err).unwrap_or_else(|| {
                if err.failed(UserAction::User) {
                    // Another edit of this user won the race.
                    ApiError::Stale("user")
                } else {
                    err.into()
                }
            })),
        }
    }
}

/// Turns failed guard conditions into a 409 naming the fields.
fn taken(err: &TxError<UserAction>) -> Option<ApiError> {
    let mut fields = vec![];
    if err.failed(UserAction::UsernameGuard) {
        fields.push("username");
    }
    if err.failed(UserAction::EmailGuard) {
        fields.push("email");
    }
    (!fields.is_empty()).then_some(ApiError::Conflict(fields))
}
