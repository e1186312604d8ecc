//! What a process builds once and every request shares.

use aws_sdk_dynamodb::Client;

use crate::auth::JwtKeys;
use crate::config::{Budget, Config};
use crate::db::Db;

pub struct AppState {
    pub config: Config,
    pub db: Db,
    pub jwt: JwtKeys,
}

impl AppState {
    /// `client` should keep to `config.budget` ([`dynamodb_client_from`]).
    pub fn new(config: Config, client: Client) -> Self {
        Self {
            db: Db::new(client, config.table_name.clone()).with_cache(config.cache_ttl),
            jwt: JwtKeys::new(&config),
            config,
        }
    }
}

/// The SDK defaults every client is built with, pinned: `latest()` would let
/// an SDK upgrade change retries or timeouts unseen. (2026-01-12: retries on
/// by default, a 3.1 s connect timeout; our [`Budget`] sets both anyway.)
pub fn behavior_version() -> aws_config::BehaviorVersion {
    aws_config::BehaviorVersion::v2026_01_12()
}

/// Loads the AWS SDK configuration. In AWS, credentials and region come from
/// the Lambda environment; with an `endpoint` (local development) any
/// credentials will do, so placeholders are used when none are configured.
pub async fn aws_config(endpoint: Option<&str>) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(behavior_version());
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
        if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
            loader = loader.credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "local", "local", None, None, "local",
            ));
        }
        if std::env::var_os("AWS_REGION").is_none()
            && std::env::var_os("AWS_DEFAULT_REGION").is_none()
        {
            loader = loader.region(aws_config::Region::new("us-east-1"));
        }
    }
    loader.load().await
}

/// The DynamoDB client for `endpoint` (AWS itself when `None`).
pub async fn dynamodb_client(endpoint: Option<&str>, budget: &Budget) -> Client {
    dynamodb_client_from(&aws_config(endpoint).await, budget)
}

/// The DynamoDB client every process uses: each call's round trip and
/// consumed capacity is recorded in the request's meter, and every call
/// keeps to `budget`.
pub fn dynamodb_client_from(sdk: &aws_config::SdkConfig, budget: &Budget) -> Client {
    use aws_sdk_dynamodb::config::retry::RetryConfig;
    use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
    let config = aws_sdk_dynamodb::config::Builder::from(sdk)
        .interceptor(crate::db::capacity::CapacityMeter)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(budget.connect)
                .operation_attempt_timeout(budget.attempt)
                .operation_timeout(budget.call)
                .build(),
        )
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(budget.max_attempts)
                .with_initial_backoff(budget.initial_backoff)
                .with_max_backoff(budget.max_backoff),
        )
        .build();
    Client::from_conf(config)
}

#[cfg(test)]
impl AppState {
    /// A state for unit tests of what touches no table: its DynamoDB
    /// client is never called.
    pub(crate) fn without_table(config: Config) -> std::sync::Arc<AppState> {
        let client = Client::from_conf(
            aws_sdk_dynamodb::Config::builder()
                .behavior_version_latest()
                .build(),
        );
        std::sync::Arc::new(AppState::new(config, client))
    }
}
