//! Signing and checking session tokens (HS256 with a secret from config).

use std::time::{Duration, SystemTime};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

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

/// Keys and validation rules, built once per process.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
    issuer: String,
    audience: String,
}

impl JwtKeys {
    pub fn new(config: &Config) -> Self {
        let secret = config.jwt_secret.as_bytes();
        // Pinning one algorithm rejects `alg: none` and algorithm confusion.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&config.jwt_issuer]);
        validation.set_audience(&[&config.jwt_audience]);
        validation.validate_nbf = true;
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
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

    pub fn encode(&self, claims: &Claims) -> Result<String, ApiError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(ApiError::internal)
    }

    /// A fresh token for one of a user's sessions.
    pub fn issue(&self, user_id: &str, session_id: &str) -> Result<String, ApiError> {
        self.encode(&self.claims_for(user_id, session_id))
    }

    /// Checks signature, algorithm, expiry, not-before, issuer and audience.
    pub fn decode(&self, token: &str) -> Result<Claims, ApiError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|err| {
                tracing::debug!(error = %err, "token rejected");
                ApiError::InvalidToken
            })
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
            &EncodingKey::from_secret(config().jwt_secret.as_bytes()),
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
    fn rejects_malformed_tokens() {
        let keys = keys();
        for bad in ["", "abc", "a.b.c", "e30.e30.", "!!!.???.***"] {
            assert!(keys.decode(bad).is_err(), "{bad}");
        }
    }
}
