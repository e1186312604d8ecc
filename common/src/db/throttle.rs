//! Failed logins, counted so that guessing passwords is slow and bounded
//! while nobody can lock a user out (see `LoginLimits`, and
//! docs/data-model.md, "Login limits"):
//!
//! - per account *and* client: the tight limit. Past it, that client gets
//!   429 for that account; the account's owner, from anywhere else, does not.
//! - per client, over every account: past it, that client gets 429.
//! - per account, from anywhere: never refused, only slowed down.
//!
//! Counters are fixed windows: their items carry the window in their key,
//! so an old window is simply never read again, and DynamoDB's TTL removes
//! it later.
//!
//! Every write carries its attempt's token, and is conditioned on the
//! counter's last one not being it: the SDK sends an `UpdateItem` again
//! after an attempt that went through but timed out, and that second
//! sending must not count the attempt twice (or refuse it for its own
//! count). It finds its token and counts nothing; an attempt counted in
//! between would hide it, which only a retry racing another attempt on the
//! same counter can do.

use std::net::IpAddr;
use std::time::SystemTime;

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};

use super::{Db, get_u64, is_condition_failure, key_of, keys, n, sdk_error};
use crate::config::LoginLimits;
use crate::error::ApiError;

/// Whose failures are counted.
pub struct Subjects {
    /// One account (by normalised email) from one client.
    pair: String,
    client: String,
    account: String,
}

impl Subjects {
    pub fn new(email: &str, client_ip: &str) -> Self {
        let client = client_key(client_ip);
        Self {
            // An address holds no '/', so the pair cannot be read two ways.
            pair: format!("pair:{client}/{email}"),
            client: format!("client:{client}"),
            account: format!("account:{email}"),
        }
    }
}

/// Who a client is, for counting: its IPv4 address, or its IPv6 /64. One
/// subscriber is routinely given a whole /64, so counting single IPv6
/// addresses would give an attacker 2^64 fresh allowances.
fn client_key(ip: &str) -> String {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(IpAddr::V6(v6)) => v6.to_ipv4_mapped().expect("mapped").to_string(),
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => ip.to_owned(),
    }
}

/// A login attempt counted by [`Db::reserve_login_attempt`]: the window
/// it was counted in, which a success releases.
#[derive(Debug, Clone, Copy)]
#[must_use]
pub struct Reservation {
    window: u64,
    token: Token,
}

/// One attempt's mark on the counters it wrote.
#[derive(Debug, Clone, Copy)]
struct Token(ulid::Ulid);

impl Token {
    fn value(self) -> aws_sdk_dynamodb::types::AttributeValue {
        super::s(self.0.to_string())
    }

    /// Whether `item` (a counter as it was) was last written by this attempt.
    fn wrote(self, item: Option<&super::Item>, attribute: &str) -> bool {
        item.and_then(|item| super::get_s(item, attribute))
            .is_some_and(|last| last == self.0.to_string())
    }
}

/// The current window: its number and when it ends (epoch seconds).
fn window(limits: &LoginLimits) -> (u64, u64) {
    let now = now_secs();
    let length = limits.window.as_secs().max(1);
    let index = now / length;
    (index, (index + 1) * length)
}

fn now_secs() -> u64 {
    crate::time::epoch_secs(SystemTime::now())
}

fn counter_key(subject: &str, window: u64) -> super::Item {
    key_of(keys::login_attempts(&format!("{subject}#{window}")))
}

impl Db {
    /// Counts a login attempt before the password is checked: refuses with
    /// 429 (and when to retry) once the pair or the client is at its limit,
    /// and otherwise waits as long as the account's attempts in this window
    /// call for: an account under attack answers slower, whoever asks, a
    /// slow-down instead of a lockout. Counting first, each counter
    /// conditioned on its limit, means parallel guesses cannot all slip past
    /// a check made before any of them was counted. An attempt refused here
    /// counts nowhere, so it neither slows the account down nor uses up
    /// anything.
    ///
    /// Each counter is its own conditional `UpdateItem`, not one transaction:
    /// a burst of logins from one address (an office behind one NAT) would
    /// make transactions on its client counter conflict with each other,
    /// while single-item updates on a hot item simply queue.
    pub async fn reserve_login_attempt(
        &self,
        subjects: &Subjects,
        limits: &LoginLimits,
    ) -> Result<Reservation, ApiError> {
        let (index, ends) = window(limits);
        let token = Token(ulid::Ulid::new());
        let refused = || ApiError::TooManyRequests {
            retry_after_secs: ends.saturating_sub(now_secs()).max(1),
        };
        // The pair first: an attacker past the pair's limit is refused
        // without touching the client's counter, which its neighbours share.
        let pair = Some(limits.per_account_and_client);
        if self
            .count(&subjects.pair, (index, ends), pair, token)
            .await?
            .is_none()
        {
            return Err(refused());
        }
        let client = Some(limits.per_client);
        if self
            .count(&subjects.client, (index, ends), client, token)
            .await?
            .is_none()
        {
            // Refused after all: the pair's count is given back. Meanwhile
            // the pair read one too many, but this client was refused anyway.
            self.uncount(&subjects.pair, index, token).await?;
            return Err(refused());
        }
        let attempts = self
            .count(&subjects.account, (index, ends), None, token)
            .await?
            .unwrap_or(1);
        tokio::time::sleep(limits.delay(attempts)).await;
        Ok(Reservation {
            window: index,
            token,
        })
    }

    /// After a successful login, the attempt was not a failure: the pair
    /// starts afresh, and the attempt no longer counts against the client
    /// (many users may share an address) or the account. The three are
    /// independent, so they are written at once and none waits on another.
    pub async fn release_login_attempt(
        &self,
        subjects: &Subjects,
        reservation: Reservation,
    ) -> Result<(), ApiError> {
        // The window the attempt was counted in, even if another began since.
        let (index, token) = (reservation.window, reservation.token);
        let forget_pair = async {
            self.client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(counter_key(&subjects.pair, index)))
                .send()
                .await
                .map_err(sdk_error)
        };
        futures::try_join!(
            forget_pair,
            self.uncount(&subjects.client, index, token),
            self.uncount(&subjects.account, index, token),
        )?;
        Ok(())
    }

    /// Adds one to `subject`'s counter of the window (`index`, ending at
    /// `ends`) and returns the new count; with a `limit`, only while the
    /// counter is under it, and `None` when it is not. Once per `token`.
    async fn count(
        &self,
        subject: &str,
        (index, ends): (u64, u64),
        limit: Option<u64>,
        token: Token,
    ) -> Result<Option<u64>, ApiError> {
        let not_yet = "(attribute_not_exists(last_count) OR last_count <> :token)";
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(counter_key(subject, index)))
            .update_expression("ADD n :one SET expires_at = :ends, last_count = :token")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":ends", n(ends))
            .expression_attribute_values(":token", token.value())
            .return_values(ReturnValue::UpdatedNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let update = match limit {
            Some(limit) => update
                .condition_expression(format!(
                    "(attribute_not_exists(n) OR n < :limit) AND {not_yet}"
                ))
                .expression_attribute_values(":limit", n(limit)),
            None => update.condition_expression(not_yet),
        };
        match update.send().await {
            Ok(counted) => Ok(Some(
                counted.attributes.map_or(1, |item| get_u64(&item, "n")),
            )),
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    // Our own earlier sending counted it; or the limit is reached.
                    let counter = failed.item();
                    Ok(token
                        .wrote(counter, "last_count")
                        .then(|| counter.map_or(1, |item| get_u64(item, "n"))))
                }
                _ => Err(sdk_error(err)),
            },
        }
    }

    /// Takes one back from `subject`'s counter of window `index`, once per
    /// `token`; a counter already gone (expired, or at zero) has nothing to
    /// give back.
    async fn uncount(&self, subject: &str, index: u64, token: Token) -> Result<(), ApiError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(counter_key(subject, index)))
            .update_expression("ADD n :minus_one SET last_uncount = :token")
            .condition_expression(
                "n > :zero AND (attribute_not_exists(last_uncount) OR last_uncount <> :token)",
            )
            .expression_attribute_values(":minus_one", n(-1))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":token", token.value())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if is_condition_failure(&err) => Ok(()),
            Err(err) => Err(sdk_error(err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        assert_eq!(
            client_key("2001:db8:1:2:aaaa::1"),
            client_key("2001:db8:1:2:ffff:1:2:3")
        );
        assert_eq!(client_key("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_ne!(client_key("2001:db8:1:3::1"), client_key("2001:db8:1:2::1"));
        assert_eq!(client_key("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(client_key("192.0.2.7"), "192.0.2.7");
    }

    #[test]
    fn subjects_name_the_pair_unambiguously() {
        let subjects = Subjects::new("a@b.c", "192.0.2.7");
        assert_eq!(subjects.pair, "pair:192.0.2.7/a@b.c");
        assert_eq!(subjects.client, "client:192.0.2.7");
        assert_eq!(subjects.account, "account:a@b.c");
    }
}
