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

/// The DynamoDB client every process uses, from its SDK configuration
/// ([`crate::aws::sdk_config`]): each call's round trip and consumed
/// capacity is recorded in the request's meter, and every call keeps to
/// `budget`.
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
