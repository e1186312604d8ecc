//! The Lambda entry point every function binary calls.

use std::convert::Infallible;
use std::sync::Arc;

use lambda_http::service_fn;

use crate::config::Config;
use crate::http::{Route, handle};
use crate::state::{AppState, dynamodb_client};

/// Serves one route on the Lambda runtime. Configuration, keys and the
/// DynamoDB client are built once here, at cold start, and shared by every
/// invocation this process handles.
pub fn run(route: &'static Route) -> Result<(), lambda_http::Error> {
    crate::telemetry::init();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let config = Config::from_env().inspect_err(|err| {
            tracing::error!(error = %err, "invalid configuration");
        })?;
        let client = dynamodb_client(config.dynamodb_endpoint.as_deref()).await;
        let state = Arc::new(AppState::new(config, client));
        lambda_http::run(service_fn(move |req| {
            let state = state.clone();
            async move { Ok::<_, Infallible>(handle(route, state, req).await) }
        }))
        .await
    })
}
