//! Counting failed logins, per account and per client address, in fixed
//! windows. Counter items carry the window in their key, so an old window is
//! simply never read again; DynamoDB's TTL removes them later.

use std::time::{SystemTime, UNIX_EPOCH};

use super::transaction::named;
use super::{Db, Tx, key_of, keys, n};
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

/// The actions of the login counters' transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Counter {
    /// Every subject's counter when reserving: any at its limit refuses.
    Limited,
    /// The account's counter when releasing.
    Account,
    /// The client's counter when releasing.
    Client,
}

impl Db {
    /// Counts a login attempt against every subject before the password is
    /// checked, refusing with 429 (and when to retry) once any is at its
    /// limit. Reserving first, atomically, means parallel guesses cannot all
    /// slip past a check made before any of them was counted.
    pub async fn reserve_login_attempt(
        &self,
        subjects: &[Subject],
        limits: &LoginLimits,
    ) -> Result<(), ApiError> {
        let (index, ends) = window(limits);
        let actions = subjects.iter().map(|subject| {
            self.update(counter_key(subject, index))
                .update_expression("ADD n :one SET expires_at = :ends")
                .condition_expression("attribute_not_exists(n) OR n < :limit")
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":ends", n(ends))
                .expression_attribute_values(":limit", n(subject.limit))
                .tx()
        });
        match self
            .transact(named(Counter::Limited, actions).collect())
            .await
        {
            Ok(()) => Ok(()),
            Err(err) if err.failed(Counter::Limited) => {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .expect("clock after 1970")
                    .as_secs();
                Err(ApiError::TooManyRequests {
                    retry_after_secs: ends.saturating_sub(now).max(1),
                })
            }
            Err(err) => Err(err.into()),
        }
    }

    /// After a successful login: the account starts afresh, and the attempt
    /// no longer counts against the client (many users may share an address).
    pub async fn release_login_attempt(
        &self,
        account: &Subject,
        client: &Subject,
        limits: &LoginLimits,
    ) -> Result<(), ApiError> {
        let (index, _) = window(limits);
        let actions = vec![
            (
                Counter::Account,
                self.delete(counter_key(account, index)).tx(),
            ),
            (
                Counter::Client,
                self.update(counter_key(client, index))
                    .update_expression("ADD n :minus_one")
                    .condition_expression("n > :zero")
                    .expression_attribute_values(":minus_one", n(-1))
                    .expression_attribute_values(":zero", n(0))
                    .tx(),
            ),
        ];
        match self.transact(actions).await {
            // The window turned over in between: nothing left to release.
            Err(err) if err.failed(Counter::Client) => Ok(()),
            other => other.map_err(Into::into),
        }
    }
}
