//! Signing and checking session tokens: HS256, with the key set of
//! [`super::keys`] (each token names its key in the header's `kid`).

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::keys::KeySet;
use crate::config::Config;
use crate::error::ApiError;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The user's immutable id (not the username, which can change).
    pub sub: String,
    /// The sign-in this token belongs to: a session the user item must still
    /// list (see `authenticate`), so that it can be ended before `exp`.
    pub sid: String,
    pub iss: String,
    pub aud: String,
    pub iat: u64,
    pub nbf: u64,
    pub exp: u64,
}

/// Keys and validation rules, built once per process; the keys are
/// replaced when the process reloads the set ([`JwtKeys::install`]).
pub struct JwtKeys {
    ring: RwLock<Arc<Ring>>,
    validation: Validation,
    ttl: Duration,
    issuer: String,
    audience: String,
}

/// One key set, ready to use.
struct Ring {
    /// The current key, with its id.
    signing: (String, EncodingKey),
    /// Every key a token may name: current, next, previous.
    verifying: Vec<(String, DecodingKey)>,
}

impl Ring {
    fn of(set: &KeySet) -> Ring {
        let current = &set.current;
        Ring {
            signing: (
                current.kid.clone(),
                EncodingKey::from_secret(current.secret.as_bytes()),
            ),
            verifying: set
                .keys()
                .map(|key| {
                    (
                        key.kid.clone(),
                        DecodingKey::from_secret(key.secret.as_bytes()),
                    )
                })
                .collect(),
        }
    }
}

impl JwtKeys {
    pub fn new(config: &Config) -> Self {
        super::hmac::install();
        // Pinning one algorithm rejects `alg: none` and algorithm confusion.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&config.jwt_issuer]);
        validation.set_audience(&[&config.jwt_audience]);
        validation.validate_nbf = true;
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        Self {
            ring: RwLock::new(Arc::new(Ring::of(&config.jwt_keys))),
            validation,
            ttl: config.token_ttl,
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
        }
    }

    pub fn claims_for(&self, user_id: &str, session_id: &str) -> Claims {
        let now = crate::time::epoch_secs(SystemTime::now());
        Claims {
            sub: user_id.to_owned(),
            sid: session_id.to_owned(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now,
            nbf: now,
            exp: now + self.ttl.as_secs(),
        }
    }

    /// Uses `set` from now on: new tokens are signed with its current key,
    /// and only its keys verify.
    pub fn install(&self, set: &KeySet) {
        *self.ring.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(Ring::of(set));
    }

    fn ring(&self) -> Arc<Ring> {
        self.ring
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn encode(&self, claims: &Claims) -> Result<String, ApiError> {
        let ring = self.ring();
        let (kid, key) = &ring.signing;
        let header = Header {
            kid: Some(kid.clone()),
            ..Header::new(Algorithm::HS256)
        };
        jsonwebtoken::encode(&header, claims, key).map_err(ApiError::internal)
    }

    /// A fresh token for one of a user's sessions.
    pub fn issue(&self, user_id: &str, session_id: &str) -> Result<String, ApiError> {
        self.encode(&self.claims_for(user_id, session_id))
    }

    /// Checks signature (with the key the token names), algorithm, expiry,
    /// not-before, issuer and audience. A token without a key id (signed
    /// before they existed) is checked against every key of the set.
    pub fn decode(&self, token: &str) -> Result<Claims, ApiError> {
        let rejected = |err: jsonwebtoken::errors::Error| {
            tracing::debug!(error = %err, "token rejected");
            ApiError::InvalidToken
        };
        let kid = jsonwebtoken::decode_header(token).map_err(rejected)?.kid;
        let ring = self.ring();
        let mut keys = ring
            .verifying
            .iter()
            .filter(|(id, _)| kid.as_ref().is_none_or(|kid| kid == id))
            .peekable();
        if keys.peek().is_none() {
            tracing::debug!(?kid, "token signed with a key not in the set");
            return Err(ApiError::InvalidToken);
        }
        let mut outcome = Err(ApiError::InvalidToken);
        for (_, key) in keys {
            outcome = jsonwebtoken::decode::<Claims>(token, key, &self.validation)
                .map(|data| data.claims)
                .map_err(rejected);
            if outcome.is_ok() {
                break;
            }
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn config() -> Config {
        Config::from_lookup(|name| match name {
            "TABLE_NAME" => Some("t".into()),
            "JWT_SECRET" => Some("a-test-secret-that-is-long-enough-0123".into()),
            _ => None,
        })
        .unwrap()
    }

    fn keys() -> JwtKeys {
        JwtKeys::new(&config())
    }

    /// Some moment, in seconds since 1970.
    const NOW: u64 = 1_780_000_000;

    fn secret() -> String {
        config().jwt_keys.current.secret
    }

    fn b64(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    #[test]
    fn round_trip() {
        let keys = keys();
        let token = keys.issue("user-1", "session-3").unwrap();
        let claims = keys.decode(&token).unwrap();
        assert_eq!(
            (claims.sub.as_str(), claims.sid.as_str()),
            ("user-1", "session-3")
        );
    }

    #[test]
    fn rejects_alg_none() {
        let keys = keys();
        let claims = serde_json::to_string(&keys.claims_for("u", "s")).unwrap();
        let token = format!("{}.{}.", b64(r#"{"alg":"none","typ":"JWT"}"#), b64(&claims));
        assert!(keys.decode(&token).is_err());
    }

    #[test]
    fn rejects_other_algorithms_signed_with_the_same_secret() {
        let keys = keys();
        let claims = keys.claims_for("u", "s");
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &claims,
            &EncodingKey::from_secret(secret().as_bytes()),
        )
        .unwrap();
        assert!(keys.decode(&token).is_err());
    }

    #[test]
    fn rejects_a_wrong_signature() {
        let keys = keys();
        let forged = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &keys.claims_for("u", "s"),
            &EncodingKey::from_secret(b"another-secret-another-secret-0123456"),
        )
        .unwrap();
        assert!(keys.decode(&forged).is_err());
    }

    #[test]
    fn rejects_expired_and_not_yet_valid_tokens() {
        let keys = keys();
        let mut expired = keys.claims_for("u", "s");
        expired.exp = expired.iat - 60;
        assert!(keys.decode(&keys.encode(&expired).unwrap()).is_err());

        let mut future = keys.claims_for("u", "s");
        future.nbf += 3600;
        assert!(keys.decode(&keys.encode(&future).unwrap()).is_err());
    }

    #[test]
    fn rejects_wrong_issuer_or_audience() {
        let keys = keys();
        let mut claims = keys.claims_for("u", "s");
        claims.iss = "someone-else".into();
        assert!(keys.decode(&keys.encode(&claims).unwrap()).is_err());

        let mut claims = keys.claims_for("u", "s");
        claims.aud = "another-api".into();
        assert!(keys.decode(&keys.encode(&claims).unwrap()).is_err());
    }

    #[test]
    fn tokens_name_their_key_and_verify_until_it_is_retired() {
        let keys = keys();
        let set = config().jwt_keys.rotated(NOW);
        keys.install(&set);
        let before = keys.issue("u", "s").unwrap();
        let kid = jsonwebtoken::decode_header(&before).unwrap().kid;
        assert_eq!(kid.as_deref(), Some(set.current.kid.as_str()));

        // An instance that has not reloaded yet accepts what the new
        // current key signs: it was published as `next`.
        let stale = JwtKeys::new(&config());
        stale.install(&set);
        let rotated = set.rotated(NOW);
        keys.install(&rotated);
        let after = keys.issue("u", "s").unwrap();
        assert!(
            stale.decode(&after).is_ok(),
            "signed by the published next key"
        );
        keys.decode(&before)
            .expect("the previous key still verifies");

        keys.install(&rotated.rotated(NOW));
        assert!(keys.decode(&before).is_err(), "its key is retired");
        keys.decode(&after).expect("now the previous key");
    }

    #[test]
    fn tokens_without_a_key_id_verify_against_the_set() {
        let keys = keys();
        let claims = keys.claims_for("u", "s");
        let legacy = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret().as_bytes()),
        )
        .unwrap();
        keys.decode(&legacy).expect("signed with the current key");
        // A bare secret's first rotation only publishes the next key.
        let set = config().jwt_keys.rotated(NOW).rotated(NOW);
        keys.install(&set);
        keys.decode(&legacy).expect("signed with the previous key");
        keys.install(&set.rotated(NOW));
        assert!(keys.decode(&legacy).is_err(), "its key is retired");
    }

    #[test]
    fn rejects_malformed_tokens() {
        let keys = keys();
        for bad in ["", "abc", "a.b.c", "e30.e30.", "!!!.???.***"] {
            assert!(keys.decode(bad).is_err(), "{bad}");
        }
    }
}
