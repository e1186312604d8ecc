//! Process configuration, read once from the environment at cold start.

use std::time::Duration;

use crate::auth::keys::{InvalidKeySet, KeySet, MAX_TOKEN_TTL};

/// Staleness a reader may see in another process after a write (the writing
/// process drops its own entries at once).
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(10);
const MAX_CACHE_TTL: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} must be set")]
    Missing(&'static str),
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

impl From<InvalidKeySet> for ConfigError {
    fn from(InvalidKeySet(reason): InvalidKeySet) -> Self {
        ConfigError::Invalid {
            name: "JWT_SECRET",
            reason,
        }
    }
}

#[derive(Clone)]
pub struct Config {
    pub table_name: String,
    /// The token signing keys (`JWT_SECRET`: a key set as JSON, or a bare
    /// secret; see [`crate::auth::keys`]).
    pub jwt_keys: KeySet,
    pub token_ttl: Duration,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    /// Origins allowed by CORS; `*` allows any origin (credentials are never used).
    pub allowed_origins: Vec<String>,
    /// Set for local development: the DynamoDB-compatible endpoint to talk to.
    pub dynamodb_endpoint: Option<String>,
    pub login_limits: LoginLimits,
    /// How long a process may serve hot public reads (tags, author profiles)
    /// from memory; zero turns the cache off.
    pub cache_ttl: Duration,
    /// Whether responses carry a `Server-Timing` header with the request's
    /// cost (local development and benchmarks; off in AWS, where the same
    /// figures are in the log line).
    pub server_timing: bool,
    /// How long DynamoDB may take: [`Budget::PRODUCTION`] unless a test or
    /// a bulk tool says otherwise (never from the environment).
    pub budget: Budget,
    /// SHA-256 digests of the secrets CloudFront sends in
    /// [`ORIGIN_VERIFY_HEADER`](crate::http::ORIGIN_VERIFY_HEADER) (the
    /// current one and, during a rotation, the previous one). When set, any
    /// other request is refused, so nothing reaches the functions around
    /// the edge and its firewall. Empty locally: every request is served.
    /// Digests, not secrets: the functions' environment holds no secret.
    pub origin_verify: Vec<[u8; 32]>,
}

/// How long the API waits on DynamoDB before it gives up and answers 503.
/// In AWS it is [`Budget::PRODUCTION`]: a request fails well inside the
/// function's 10 s timeout (and API Gateway's 30 s), and at once when the
/// endpoint refuses connections. DynamoDB answers in milliseconds; these
/// bounds only ever bite in an outage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// A TCP (and TLS) connection must be up within this.
    pub connect: Duration,
    /// One attempt, from sending to the last byte of the answer.
    pub attempt: Duration,
    /// One call, all its attempts and back-offs included.
    pub call: Duration,
    /// Attempts per call: throttling, 5xx, timeouts and broken connections
    /// are retried.
    pub max_attempts: u32,
    /// First back-off between attempts (then doubled, with jitter, up to
    /// `max_backoff`): short, since the client gets `Retry-After` anyway.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// The whole request, every call included (the pipeline answers 503
    /// past it): under the function's 10 s timeout, so the client always
    /// gets the API's answer, never API Gateway's.
    pub request: Duration,
}

impl Budget {
    pub const PRODUCTION: Budget = Budget {
        connect: Duration::from_secs(1),
        attempt: Duration::from_secs(2),
        call: Duration::from_secs(4),
        max_attempts: 3,
        initial_backoff: Duration::from_millis(25),
        max_backoff: Duration::from_millis(250),
        request: Duration::from_secs(8),
    };

    /// The same retries with every time bound two minutes away: for tests
    /// and bulk tools, where a slow engine on a busy machine is slow, not
    /// an outage. Still a bound, so that a hung engine fails a run instead
    /// of hanging it.
    pub const UNHURRIED: Budget = {
        let bound = Duration::from_secs(120);
        Budget {
            connect: bound,
            attempt: bound,
            call: bound,
            request: bound,
            ..Budget::PRODUCTION
        }
    };

    /// [`Budget::UNHURRIED`], with retries that ride out an engine's hiccup
    /// of a few seconds (10 attempts, back-offs up to 2 s): for the tests
    /// that are not about outages, on a busy machine where DynamoDB Local
    /// (a JVM) can stop answering for a moment (six 503s in a row once
    /// failed a login-limit test).
    pub const PATIENT: Budget = Budget {
        max_attempts: 10,
        max_backoff: Duration::from_secs(2),
        ..Budget::UNHURRIED
    };
}

/// Brute-force protection without lockout (`db::throttle`): failed logins
/// allowed per window for one account from one client and for one client
/// over all accounts, before that pair or client gets 429; and, per
/// account, the failures after which every attempt on it is slowed down
/// (never refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    pub per_account_and_client: u64,
    pub per_client: u64,
    pub slow_down_after: u64,
    pub max_delay: Duration,
    pub window: Duration,
}

impl LoginLimits {
    /// What each failure past `slow_down_after` adds to the delay.
    pub const DELAY_STEP: Duration = Duration::from_millis(10);

    /// How long an attempt on an account waits before its password is
    /// checked, given the account's failures in the window so far: nothing
    /// up to `slow_down_after`, then [`Self::DELAY_STEP`] more per failure,
    /// up to `max_delay`.
    pub fn delay(&self, account_failures: u64) -> Duration {
        let past = account_failures.saturating_sub(self.slow_down_after);
        Self::DELAY_STEP
            .saturating_mul(u32::try_from(past).unwrap_or(u32::MAX))
            .min(self.max_delay)
    }
}

// Hand-written so the secret can never end up in a log line through `{:?}`.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("table_name", &self.table_name)
            .field("jwt_keys", &self.jwt_keys)
            .field("token_ttl", &self.token_ttl)
            .field("jwt_issuer", &self.jwt_issuer)
            .field("jwt_audience", &self.jwt_audience)
            .field("allowed_origins", &self.allowed_origins)
            .field("dynamodb_endpoint", &self.dynamodb_endpoint)
            .field("login_limits", &self.login_limits)
            .field("cache_ttl", &self.cache_ttl)
            .field("server_timing", &self.server_timing)
            .field("budget", &self.budget)
            .field("origin_verify", &self.origin_verify.len())
            .finish()
    }
}

impl Config {
    /// Reads the configuration from the process environment.
    ///
    /// In AWS, `JWT_SECRET` is not in the environment: the caller reads the
    /// key set from SSM Parameter Store at cold start (`lambda.rs`) and
    /// passes it in.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Same as [`Config::from_env`] over any variable source, so tests need not
    /// touch the process environment.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let jwt_keys =
            KeySet::parse(&var("JWT_SECRET").ok_or(ConfigError::Missing("JWT_SECRET"))?)?;
        let token_ttl_secs = match var("TOKEN_TTL_SECONDS") {
            None => 24 * 3600,
            Some(raw) => raw
                .parse::<u64>()
                .ok()
                .filter(|secs| (60..=MAX_TOKEN_TTL.as_secs()).contains(secs))
                .ok_or_else(|| ConfigError::Invalid {
                    name: "TOKEN_TTL_SECONDS",
                    reason: format!("{raw:?} is not a number of seconds between 60 and 30 days"),
                })?,
        };
        let number = |name: &'static str, default: u64, max: u64| match var(name) {
            None => Ok(default),
            Some(raw) => raw
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| ConfigError::Invalid {
                    name,
                    reason: format!("{raw:?} is not a number from 1 to {max}"),
                }),
        };
        let login_limits = LoginLimits {
            per_account_and_client: number("LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_CLIENT", 10, 1_000)?,
            per_client: number("LOGIN_MAX_FAILURES_PER_CLIENT", 100, 100_000)?,
            slow_down_after: number("LOGIN_SLOW_DOWN_AFTER_FAILURES", 20, 100_000)?,
            max_delay: Duration::from_millis(number("LOGIN_MAX_DELAY_MS", 1_000, 5_000)?),
            window: Duration::from_secs(number("LOGIN_WINDOW_SECONDS", 900, 86_400)?),
        };
        let cache_ttl = match var("CACHE_TTL_SECONDS") {
            None => DEFAULT_CACHE_TTL,
            Some(raw) => raw
                .parse::<u64>()
                .ok()
                .filter(|secs| *secs <= MAX_CACHE_TTL.as_secs())
                .map(Duration::from_secs)
                .ok_or_else(|| ConfigError::Invalid {
                    name: "CACHE_TTL_SECONDS",
                    reason: format!("{raw:?} is not a number of seconds from 0 to 300"),
                })?,
        };
        let allowed_origins = var("ALLOWED_ORIGINS")
            .unwrap_or_else(|| "*".into())
            .split(',')
            .map(|origin| origin.trim().trim_end_matches('/').to_owned())
            .filter(|origin| !origin.is_empty())
            .collect();
        let origin_verify = origin_digests(&var("ORIGIN_VERIFY_SHA256").unwrap_or_default())?;
        Ok(Self {
            table_name: var("TABLE_NAME").ok_or(ConfigError::Missing("TABLE_NAME"))?,
            jwt_keys,
            token_ttl: Duration::from_secs(token_ttl_secs),
            jwt_issuer: var("JWT_ISSUER").unwrap_or_else(|| "conduit".into()),
            jwt_audience: var("JWT_AUDIENCE").unwrap_or_else(|| "conduit-api".into()),
            allowed_origins,
            dynamodb_endpoint: var("DYNAMODB_ENDPOINT").filter(|url| !url.is_empty()),
            login_limits,
            cache_ttl,
            server_timing: var("SERVER_TIMING").is_some_and(|v| v == "1" || v == "true"),
            budget: Budget::PRODUCTION,
            origin_verify,
        })
    }
}

/// `ORIGIN_VERIFY_SHA256`: comma-separated SHA-256 digests in hex.
fn origin_digests(list: &str) -> Result<Vec<[u8; 32]>, ConfigError> {
    list.split(',')
        .map(str::trim)
        .filter(|digest| !digest.is_empty())
        .map(|digest| {
            hex::decode(digest)
                .ok()
                .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
                .ok_or_else(|| ConfigError::Invalid {
                    name: "ORIGIN_VERIFY_SHA256",
                    reason: format!("{digest:?} is not a SHA-256 digest in hex"),
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn missing_secret_is_a_startup_error() {
        let err = Config::from_lookup(lookup(&[("TABLE_NAME", "t")])).unwrap_err();
        assert_eq!(err.to_string(), "JWT_SECRET must be set");
    }

    #[test]
    fn weak_secret_is_refused() {
        let err = Config::from_lookup(lookup(&[("TABLE_NAME", "t"), ("JWT_SECRET", "short")]))
            .unwrap_err();
        assert!(err.to_string().contains("at least 32 bytes"), "{err}");
    }

    #[test]
    fn defaults_and_origin_list() {
        let config = Config::from_lookup(lookup(&[
            ("TABLE_NAME", "t"),
            ("JWT_SECRET", SECRET),
            ("ALLOWED_ORIGINS", "https://a.example/, https://b.example"),
        ]))
        .unwrap();
        assert_eq!(config.token_ttl, Duration::from_secs(86400));
        assert_eq!(
            config.allowed_origins,
            ["https://a.example", "https://b.example"]
        );
        assert!(!format!("{config:?}").contains(SECRET));
    }

    #[test]
    fn login_limits_default_to_the_documented_figures() {
        let limits = Config::from_lookup(lookup(&[("TABLE_NAME", "t"), ("JWT_SECRET", SECRET)]))
            .unwrap()
            .login_limits;
        assert_eq!(
            (
                limits.per_account_and_client,
                limits.per_client,
                limits.slow_down_after
            ),
            (10, 100, 20)
        );
        assert_eq!(limits.window, Duration::from_secs(900));
        // No delay up to 20 failures, then 10 ms more each, at most 1 s.
        let ms = |failures| limits.delay(failures).as_millis();
        assert_eq!([ms(0), ms(20), ms(21), ms(70)], [0, 0, 10, 500]);
        assert_eq!([ms(120), ms(10_000), ms(u64::MAX)], [1000, 1000, 1000]);
    }

    #[test]
    fn token_ttl_is_bounded() {
        let err = Config::from_lookup(lookup(&[
            ("TABLE_NAME", "t"),
            ("JWT_SECRET", SECRET),
            ("TOKEN_TTL_SECONDS", "5"),
        ]))
        .unwrap_err();
        assert!(err.to_string().starts_with("TOKEN_TTL_SECONDS is invalid"));
    }
}
