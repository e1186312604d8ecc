//! The token signing keys and their rotation.
//!
//! A key set holds up to three HMAC keys, each with an id (`kid`) that
//! every token names in its header:
//!
//! - `next`: published, not yet used. Verifiers accept it, so that when a
//!   rotation makes it current, an instance that has not reloaded the set
//!   yet still accepts the tokens it signs;
//! - `current`: signs new tokens;
//! - `previous`: the last current one, still accepted, so that a token
//!   signed before a rotation keeps working until it expires.
//!
//! A rotation moves each key one step (next → current → previous →
//! retired) and makes a fresh `next`. A token signed with a retired key is
//! refused. A key signs for one rotation period and is accepted for one
//! more, so the period must exceed the tokens' lifetime plus the time an
//! instance may go without reloading ([`RELOAD_AFTER`]): a rotation sooner
//! than [`MIN_ROTATION_INTERVAL`] after the last is refused unless forced
//! (a leaked key), so a job run twice cannot sign everyone out.
//!
//! The set is stored as JSON in the JWT secret's parameter (SSM in AWS, a
//! file locally). A bare secret, as stored before key ids, is read as a
//! set whose one key is current.
//!
//! This module imports nothing from the crate: the configuration
//! ([`crate::config`]) reads the set with it, beneath the rest of `auth`.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

/// A secret shorter than this is refused at start-up: HS256 keys should carry
/// at least as many bits as the hash output.
pub const MIN_SECRET_BYTES: usize = 32;

/// The longest token lifetime (`TOKEN_TTL_SECONDS`, the template's
/// `TokenTtlSeconds`): shorter than the signing keys' rotation period, so
/// that a token outlives its key's retirement never (`functions::jobs`).
pub const MAX_TOKEN_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// How long an instance serves with the set it loaded before it reads it
/// again (on its first request after, in the background: `lambda.rs`);
/// the rotation period must exceed the token lifetime by at least this.
pub const RELOAD_AFTER: Duration = Duration::from_secs(600);

/// The shortest time between two rotations that signs nobody out: a key
/// retired by the second may have signed, just before the first (or up to
/// [`RELOAD_AFTER`] after it, on an instance not yet reloaded), a token of
/// the longest lifetime.
pub const MIN_ROTATION_INTERVAL: Duration =
    Duration::from_secs(MAX_TOKEN_TTL.as_secs() + RELOAD_AFTER.as_secs());

/// Why a stored set was refused: where in it, never what (a message never
/// quotes a secret). Read from `JWT_SECRET`, so named after it.
#[derive(Debug, thiserror::Error)]
#[error("JWT_SECRET is invalid: {0}")]
pub struct InvalidKeySet(pub String);

#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SigningKey {
    pub kid: String,
    pub secret: String,
}

// Hand-written so that a secret never reaches a log through `{:?}`.
impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new random key: 48 bytes from the system's CSPRNG, more than the
    /// 32 HS256 needs.
    pub fn generate() -> SigningKey {
        let mut secret = [0u8; 48];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut secret)
            .expect("the system's random source");
        SigningKey::from_secret(URL_SAFE_NO_PAD.encode(secret))
    }

    /// A key whose id is derived from its secret (the first 48 bits of its
    /// SHA-256): the same secret always has the same id, and the id says
    /// nothing usable about the secret.
    fn from_secret(secret: String) -> SigningKey {
        let digest = ring::digest::digest(&ring::digest::SHA256, secret.as_bytes());
        SigningKey {
            kid: URL_SAFE_NO_PAD.encode(&digest.as_ref()[..6]),
            secret,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeySet {
    pub current: SigningKey,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<SigningKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<SigningKey>,
    /// When the set was last rotated (seconds since 1970).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotated_at: Option<u64>,
}

impl KeySet {
    /// A new set: a current key and the next one.
    pub fn generate() -> KeySet {
        KeySet {
            current: SigningKey::generate(),
            next: Some(SigningKey::generate()),
            previous: None,
            rotated_at: None,
        }
    }

    /// Reads a stored set: JSON, or a bare secret (the format before key
    /// ids). Every key must be long enough for HS256 and have an id.
    pub fn parse(stored: &str) -> Result<KeySet, InvalidKeySet> {
        let invalid = InvalidKeySet;
        let stored = stored.trim();
        let set = match stored.starts_with('{') {
            // Where, not what: serde's message may quote a value, a secret.
            true => serde_json::from_str::<KeySet>(stored).map_err(|err| {
                invalid(format!(
                    "not a key set ({:?} error at line {}, column {})",
                    err.classify(),
                    err.line(),
                    err.column()
                ))
            })?,
            false => KeySet {
                current: SigningKey::from_secret(stored.to_owned()),
                next: None,
                previous: None,
                rotated_at: None,
            },
        };
        for key in set.keys() {
            if key.secret.len() < MIN_SECRET_BYTES {
                return Err(invalid(format!(
                    "must be at least {MIN_SECRET_BYTES} bytes"
                )));
            }
            if key.kid.is_empty() {
                return Err(invalid("a key has no id".into()));
            }
        }
        Ok(set)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a key set serialises")
    }

    /// The set after one rotation at `now` (seconds since 1970). A set
    /// without a `next` key (a bare secret, stored before rotation) first
    /// gets one, unused: promoting a key no instance has seen would have
    /// the instances that did not reload yet refuse the tokens it signs.
    pub fn rotated(&self, now: u64) -> KeySet {
        match &self.next {
            Some(next) => KeySet {
                previous: Some(self.current.clone()),
                current: next.clone(),
                next: Some(SigningKey::generate()),
                rotated_at: Some(now),
            },
            None => KeySet {
                next: Some(SigningKey::generate()),
                rotated_at: Some(now),
                ..self.clone()
            },
        }
    }

    /// Why a rotation at `now` would sign someone out, if it would: the
    /// last one was less than [`MIN_ROTATION_INTERVAL`] ago.
    pub fn too_soon(&self, now: u64) -> Option<String> {
        let last = self.rotated_at?;
        let next = last + MIN_ROTATION_INTERVAL.as_secs();
        (now < next).then(|| {
            format!(
                "the keys were rotated {} hours ago: the key this rotation would retire may \
                 still have signed valid tokens for {} more hours (force it only for a leaked key)",
                now.saturating_sub(last) / 3600,
                (next - now).div_ceil(3600)
            )
        })
    }

    /// Every key a token may be signed with: current, next, previous.
    pub fn keys(&self) -> impl Iterator<Item = &SigningKey> {
        std::iter::once(&self.current)
            .chain(self.next.as_ref())
            .chain(self.previous.as_ref())
    }
}

/// The key ids, never the secrets: what a rotation reports.
impl std::fmt::Display for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kid = |key: Option<&SigningKey>| key.map_or("none", |key| key.kid.as_str()).to_owned();
        write!(
            f,
            "signing with {}, next {}, still verifying {}",
            self.current.kid,
            kid(self.next.as_ref()),
            kid(self.previous.as_ref())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "a-bare-secret-stored-before-key-ids-0123";
    /// Some moment, in seconds since 1970.
    const NOW: u64 = 1_780_000_000;

    #[test]
    fn a_rotation_moves_every_key_one_step() {
        let set = KeySet::generate();
        let rotated = set.rotated(NOW);
        assert_eq!(Some(&rotated.current), set.next.as_ref());
        assert_eq!(rotated.previous.as_ref(), Some(&set.current));
        let next = rotated.next.as_ref().unwrap();
        assert!(set.keys().all(|key| key.kid != next.kid));

        let twice = rotated.rotated(NOW);
        assert!(
            twice.keys().all(|key| key != &set.current),
            "retired after two rotations"
        );
    }

    #[test]
    fn a_bare_secret_is_the_current_key_and_its_first_rotation_only_publishes_the_next() {
        let set = KeySet::parse(SECRET).unwrap();
        assert_eq!(set.current.secret, SECRET);
        assert_eq!(
            set.current,
            KeySet::parse(SECRET).unwrap().current,
            "a stable id"
        );

        let rotated = set.rotated(NOW);
        assert_eq!(rotated.current, set.current);
        assert!(rotated.next.is_some() && rotated.previous.is_none());
    }

    #[test]
    fn a_stored_set_reads_back_as_written() {
        let set = KeySet::generate().rotated(NOW);
        assert_eq!(KeySet::parse(&set.to_json()).unwrap(), set);
        assert_eq!(
            KeySet::parse(&format!("\n{}\n", set.to_json())).unwrap(),
            set
        );
    }

    #[test]
    fn a_rotation_within_the_minimum_interval_is_too_soon() {
        let set = KeySet::generate();
        assert_eq!(set.too_soon(NOW), None, "never rotated");
        let rotated = set.rotated(NOW);
        let interval = MIN_ROTATION_INTERVAL.as_secs();
        assert!(rotated.too_soon(NOW).is_some());
        assert!(rotated.too_soon(NOW + interval - 1).is_some());
        assert_eq!(rotated.too_soon(NOW + interval), None);
    }

    #[test]
    fn parse_errors_never_quote_the_stored_value() {
        let wrong = format!(r#"{{"current": {{"kid": 7, "secret": "{SECRET}"}}}}"#);
        let err = KeySet::parse(&wrong).unwrap_err().to_string();
        assert!(
            !err.contains(SECRET) && !err.contains("bare-secret"),
            "{err}"
        );
        let wrong = format!(r#"{{"current": "{SECRET}"}}"#);
        let err = KeySet::parse(&wrong).unwrap_err().to_string();
        assert!(!err.contains("bare-secret"), "{err}");
    }

    #[test]
    fn short_or_nameless_keys_are_refused() {
        assert!(KeySet::parse("short").is_err());
        let short = r#"{"current": {"kid": "a", "secret": "short"}}"#;
        assert!(KeySet::parse(short).is_err());
        let nameless = format!(r#"{{"current": {{"kid": "", "secret": "{SECRET}"}}}}"#);
        assert!(KeySet::parse(&nameless).is_err());
        assert!(KeySet::parse("{not json").is_err());
    }

    #[test]
    fn no_secret_in_debug_output() {
        let set = KeySet::generate();
        assert!(!format!("{set:?}").contains(&set.current.secret));
    }
}
