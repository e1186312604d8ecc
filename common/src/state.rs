//! What a process builds once and every request shares.

use aws_sdk_dynamodb::Client;

use crate::auth::JwtKeys;
use crate::config::Config;
use crate::db::Db;

pub struct AppState {
    pub config: Config,
    pub db: Db,
    pub jwt: JwtKeys,
}

impl AppState {
    pub fn new(config: Config, client: Client) -> Self {
        Self {
            db: Db::new(client, config.table_name.clone()),
            jwt: JwtKeys::new(&config),
            config,
        }
    }
}

/// Builds the DynamoDB client. In AWS, credentials and region come from the
/// Lambda environment; with `DYNAMODB_ENDPOINT` set (local development) any
/// credentials will do, so placeholders are used when none are configured.
pub async fn dynamodb_client(endpoint: Option<&str>) -> Client {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
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
    Client::new(&loader.load().await)
}
