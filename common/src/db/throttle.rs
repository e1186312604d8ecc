//! Counting failed logins, per account and per client address, in fixed
//! windows. Counter items carry the window in their key, so an old window is
//! simply never read again; DynamoDB's TTL removes them later.

use std::time::{SystemTime, UNIX_EPOCH};

use super::{Db, get_s, get_u64, key_of, keys, n, sdk_error};
use crate::config::LoginLimits;
use crate::error::ApiError;

/// Whose failures are counted: an account (by normalised email) or a client
/// address, with the limit that applies to it.
pub struct Subject {
    pub key: String,
    pub limit: u64,
}

impl Subject {
    pub fn account(email: &str, limits: &LoginLimits) -> Self {
        Self {
            key: format!("account:{email}"),
            limit: limits.per_account,
        }
    }

    pub fn client(address: &str, limits: &LoginLimits) -> Self {
        Self {
            key: format!("client:{address}"),
            limit: limits.per_client,
        }
    }
}

/// The current window: its number and when it ends (epoch seconds).
fn window(limits: &LoginLimits) -> (u64, u64) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    let length = limits.window.as_secs().max(1);
    let index = now / length;
    (index, (index + 1) * length)
}

fn counter_key(subject: &Subject, window: u64) -> super::Item {
    key_of(keys::login_attempts(&format!("{}#{window}", subject.key)))
}

impl Db {
    /// Refuses with 429 (and when to retry) if any subject used up its failures.
    pub async fn check_login_allowed(
        &self,
        subjects: &[Subject],
        limits: &LoginLimits,
    ) -> Result<(), ApiError> {
        let (index, ends) = window(limits);
        let counters = self
            .batch_get(subjects.iter().map(|s| counter_key(s, index)).collect())
            .await?;
        let over = subjects.iter().any(|subject| {
            let (pk, _) = keys::login_attempts(&format!("{}#{index}", subject.key));
            counters
                .iter()
                .find(|item| get_s(item, "PK") == Some(pk.as_str()))
                .is_some_and(|item| get_u64(item, "n") >= subject.limit)
        });
        if over {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .expect("clock after 1970")
                .as_secs();
            return Err(ApiError::TooManyRequests {
                retry_after_secs: ends.saturating_sub(now).max(1),
            });
        }
        Ok(())
    }

    /// Counts one failed login against every subject.
    pub async fn record_login_failure(
        &self,
        subjects: &[Subject],
        limits: &LoginLimits,
    ) -> Result<(), ApiError> {
        let (index, ends) = window(limits);
        let updates = subjects.iter().map(|subject| {
            self.client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(counter_key(subject, index)))
                .update_expression("ADD n :one SET expires_at = :ends")
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":ends", n(ends))
                .send()
        });
        futures::future::try_join_all(updates)
            .await
            .map_err(sdk_error)?;
        Ok(())
    }

    /// Forgets an account's failures after it logged in successfully.
    pub async fn clear_login_failures(
        &self,
        subject: &Subject,
        limits: &LoginLimits,
    ) -> Result<(), ApiError> {
        let (index, _) = window(limits);
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(counter_key(subject, index)))
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }
}
