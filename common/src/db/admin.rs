//! Administration: listing users, roles, suspensions, and the audit trail
//! that every moderator and admin action writes in the same transaction.

use aws_sdk_dynamodb::types::TransactWriteItem;
use aws_sdk_dynamodb::types::builders::UpdateBuilder;
use serde::{Deserialize, Serialize};

use super::sessions::EndSessions;
use super::users::User;
use super::{Db, Tx, from_item, get_s, key_of, keys, s, to_item};
use crate::domain::{Role, UserStatus};
use crate::error::ApiError;

/// One moderator or admin action.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AuditEntry {
    /// A ULID: entries sort by time.
    pub id: String,
    /// The user id of who acted (`cli` for the admin command).
    pub actor_id: String,
    pub actor: String,
    /// e.g. `article.delete`, `user.role`, `user.suspend`.
    pub action: String,
    /// What was acted on, e.g. `article:<slug>` or `user:<username>`.
    pub target: String,
    /// Extra facts, e.g. the new role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub at: String,
}

impl AuditEntry {
    pub fn new(actor: &User, action: &str, target: String, detail: Option<String>) -> Self {
        let now = std::time::SystemTime::now();
        Self {
            id: crate::time::new_id(now).to_string(),
            actor_id: actor.id.clone(),
            actor: actor.username.clone(),
            action: action.to_owned(),
            target,
            detail,
            at: crate::time::iso(now),
        }
    }
}

impl AuditEntry {
    /// An action taken outside the API, by the `conduit-admin` command.
    pub fn by_operator(
        operator: &str,
        action: &str,
        target: String,
        detail: Option<String>,
    ) -> Self {
        let now = std::time::SystemTime::now();
        Self {
            id: crate::time::new_id(now).to_string(),
            actor_id: "operator".to_owned(),
            actor: format!("operator:{operator}"),
            action: action.to_owned(),
            target,
            detail,
            at: crate::time::iso(now),
        }
    }
}

/// The actions of an admin's change to a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AdminAction {
    /// The user item.
    User,
    /// The audit entry.
    Audit,
    /// What else the change takes (ended sessions' items).
    Other,
}

impl Db {
    /// The put that records `entry`, to add to the action's own transaction.
    pub fn audit_action(&self, entry: &AuditEntry) -> Result<TransactWriteItem, ApiError> {
        let mut item = to_item(entry)?;
        item.extend(key_of(keys::audit_entry(&entry.id)));
        Ok(self.put(item).tx())
    }

    /// Users, newest first, after the cursor `before` (a user id).
    pub async fn list_users(
        &self,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Vec<User>, ApiError> {
        // The index holds no user attributes: read the users themselves.
        let ids: Vec<String> = self
            .query_newest(Some(keys::GSI1), keys::USERS, before, limit)
            .await?
            .iter()
            .filter_map(|item| get_s(item, "GSI1SK").map(str::to_owned))
            .collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let mut users = self.users_by_ids(&ids).await?;
        users.sort_by(|a, b| b.id.cmp(&a.id));
        Ok(users)
    }

    /// The audit trail, newest first, after the cursor `before` (an entry id).
    pub async fn audit_log(
        &self,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Vec<AuditEntry>, ApiError> {
        self.query_newest(None, keys::AUDIT, before, limit)
            .await?
            .into_iter()
            .map(from_item)
            .collect()
    }

    /// Changes a user's role, recording who did it. The role is read fresh on
    /// every request, so the change applies to existing tokens at once.
    pub async fn set_role(
        &self,
        user: &User,
        role: Role,
        audit: &AuditEntry,
    ) -> Result<(), ApiError> {
        let update = self
            .update(key_of(keys::user(&user.id)))
            .update_expression("SET #role = :role")
            .expression_attribute_names("#role", "role")
            .expression_attribute_values(":role", s(role.as_str()));
        self.audited_user_update(update, vec![], audit).await
    }

    /// Suspends or reinstates a user. Suspending also ends every session
    /// of theirs, so every token issued before stops working at once.
    pub async fn set_status(
        &self,
        user: &User,
        status: UserStatus,
        audit: &AuditEntry,
    ) -> Result<(), ApiError> {
        let update = self
            .update(key_of(keys::user(&user.id)))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", s(status.as_str()));
        match status {
            UserStatus::Active => {
                let update = update.update_expression("SET #status = :status");
                self.audited_user_update(update, vec![], audit).await
            }
            UserStatus::Suspended => {
                let end = self.end_sessions_but(user, None);
                let update = update
                    .update_expression(format!("SET #status = :status, {}", EndSessions::SET))
                    .expression_attribute_values(EndSessions::VALUE, end.kept);
                self.audited_user_update(update, end.deletions, audit).await
            }
        }
    }

    /// Ends every session of a user (as read), recording who did it.
    pub async fn end_all_sessions(&self, user: &User, audit: &AuditEntry) -> Result<(), ApiError> {
        let end = self.end_sessions_but(user, None);
        let update = self
            .update(key_of(keys::user(&user.id)))
            .update_expression(format!("SET {}", EndSessions::SET))
            .expression_attribute_values(EndSessions::VALUE, end.kept);
        self.audited_user_update(update, end.deletions, audit).await
    }

    /// Applies an admin's `update` to a user that still exists, and records
    /// it, in one transaction.
    async fn audited_user_update(
        &self,
        update: UpdateBuilder,
        more: Vec<TransactWriteItem>,
        audit: &AuditEntry,
    ) -> Result<(), ApiError> {
        let mut actions = vec![
            (
                AdminAction::User,
                update.condition_expression("attribute_exists(PK)").tx(),
            ),
            (AdminAction::Audit, self.audit_action(audit)?),
        ];
        actions.extend(more.into_iter().map(|action| (AdminAction::Other, action)));
        self.transact(actions).await.map_err(Into::into)
    }
}
