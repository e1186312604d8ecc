//! Signing and checking session tokens (HS256 with a secret from config).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::ApiError;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The user's immutable id (not the username, which can change).
    pub sub: String,
    /// The user's token version when the token was issued; see `authenticate`.
    pub ver: u64,
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

    pub fn claims_for(&self, user_id: &str, token_version: u64) -> Claims {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs();
        Claims {
            sub: user_id.to_owned(),
            ver: token_version,
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

    /// A fresh token for a user.
    pub fn issue(&self, user_id: &str, token_version: u64) -> Result<String, ApiError> {
        self.encode(&self.claims_for(user_id, token_version))
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
        let token = keys.issue("user-1", 3).unwrap();
        let claims = keys.decode(&token).unwrap();
        assert_eq!((claims.sub.as_str(), claims.ver), ("user-1", 3));
    }

    #[test]
    fn rejects_alg_none() {
        let keys = keys();
        let claims = serde_json::to_string(&keys.claims_for("u", 0)).unwrap();
        let token = format!("{}.{}.", b64(r#"{"alg":"none","typ":"JWT"}"#), b64(&claims));
        assert!(keys.decode(&token).is_err());
    }

    #[test]
    fn rejects_other_algorithms_signed_with_the_same_secret() {
        let keys = keys();
        let claims = keys.claims_for("u", 0);
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
            &keys.claims_for("u", 0),
            &EncodingKey::from_secret(b"another-secret-another-secret-0123456"),
        )
        .unwrap();
        assert!(keys.decode(&forged).is_err());
    }

    #[test]
    fn rejects_expired_and_not_yet_valid_tokens() {
        let keys = keys();
        let mut expired = keys.claims_for("u", 0);
        expired.exp = expired.iat - 60;
        assert!(keys.decode(&keys.encode(&expired).unwrap()).is_err());

        let mut future = keys.claims_for("u", 0);
        future.nbf += 3600;
        assert!(keys.decode(&keys.encode(&future).unwrap()).is_err());
    }

    #[test]
    fn rejects_wrong_issuer_or_audience() {
        let keys = keys();
        let mut claims = keys.claims_for("u", 0);
        claims.iss = "someone-else".into();
        assert!(keys.decode(&keys.encode(&claims).unwrap()).is_err());

        let mut claims = keys.claims_for("u", 0);
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
