//! `make dev`: the whole API at http://127.0.0.1:3000 in one process.
//!
//! Requests are routed from the same route table API Gateway is configured
//! from and run through the same handlers as the Lambda functions. Data lives
//! in an embedded DynamoDB-compatible engine (dynoxide, SQLite underneath)
//! under `.data/`, which this process also serves on the DynamoDB wire
//! protocol so that `cargo lambda watch` can run the real Lambda binaries
//! against it. With `DYNAMODB_ENDPOINT` set it uses that database instead.
//! The stream consumers run here too, fed from the table's stream by an
//! emulated event source mapping (`local::event_source`); with
//! `CONSUMERS_INVOKE_URL` set (a Lambda Invoke API such as `cargo lambda
//! watch`'s) they are invoked there as functions instead; with
//! `STREAM_CONSUMERS=paused`, not at all.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use conduit_common::aws::sdk_config;
use conduit_common::config::Config;
use conduit_common::http::Router;
use conduit_common::state::{AppState, dynamodb_client_from};
use conduit_common::telemetry;
use local::engine::Engine;
use local::event_source::{EventSource, Runner, Storage};
use local::lambda_invoke::LambdaInvoke;

// A request's work here is mostly small allocations (the SDK's and the
// engine's JSON and attribute maps): mimalloc serves the whole local stack
// a tenth faster than glibc's allocator. Not in the Lambda functions, where
// it cost more at start-up (CPU, resident memory) than it saved.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Error = Box<dyn std::error::Error + Send + Sync>;

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

fn port(name: &str, default: u16) -> Result<u16, Error> {
    env_or(name, &default.to_string())
        .parse()
        .map_err(|_| format!("{name} must be a port number").into())
}

/// Opens the embedded engine on a file under `data_dir` and serves the
/// DynamoDB protocol on `port` for other processes; returns it and its
/// endpoint URL.
async fn start_embedded_dynamodb(
    data_dir: &std::path::Path,
    port: u16,
) -> Result<(Engine, String), Error> {
    let db_path = data_dir.join("conduit.db");
    let engine = Engine::open(&db_path)?;
    tokio::spawn(local::stream_retention::run(db_path.clone()));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(engine.serve(listener, shutdown()));
    Ok((engine, format!("http://{addr}")))
}

/// Feeds the stream consumers from the table's stream, as Lambda would in
/// AWS: run in this process, or invoked through `CONSUMERS_INVOKE_URL`.
fn start_consumers(
    sdk: &aws_config::SdkConfig,
    state: &AppState,
    data_dir: &std::path::Path,
) -> Result<(), Error> {
    let storage = Storage::Directory(data_dir.to_owned());
    let (runner, place) = match std::env::var("CONSUMERS_INVOKE_URL") {
        Ok(url) if !url.is_empty() => {
            let place = format!("invoked through {url}");
            (Runner::Lambda(Box::new(LambdaInvoke::new(&url))), place)
        }
        _ => (Runner::InProcess, "in this process".to_owned()),
    };
    let consumers = functions::CONSUMERS;
    let source = EventSource::with_runner(sdk, state.db.clone(), consumers, runner, storage)?;
    let names: Vec<&str> = consumers.iter().map(|c| c.name).collect();
    eprintln!("stream consumers running {place}: {}", names.join(", "));
    let failed = source.recorded_failures();
    if failed > 0 {
        eprintln!(
            "  {failed} stream batch(es) gave up and were recorded in {}",
            data_dir.join("stream-failures.jsonl").display()
        );
    }
    tokio::spawn(source.run(Duration::from_millis(250)));
    Ok(())
}

async fn shutdown() {
    let _ = tokio::signal::ctrl_c().await;
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init("conduit-local")?;
    let data_dir = local::dev_keys::data_dir();
    std::fs::create_dir_all(&data_dir)?;
    let api_port = port("PORT", 3000)?;

    let (engine, endpoint) = match std::env::var("DYNAMODB_ENDPOINT")
        .ok()
        .filter(|e| !e.is_empty())
    {
        Some(endpoint) => (None, endpoint),
        None => {
            let (engine, endpoint) =
                start_embedded_dynamodb(&data_dir, port("DYNAMODB_PORT", 8000)?).await?;
            (Some(engine), endpoint)
        }
    };
    let keys = match std::env::var("JWT_SECRET") {
        Ok(secret) => (secret, None),
        Err(_) => {
            let store = local::dev_keys::store(&data_dir);
            (store.load_or_create().await?.to_json(), Some(store))
        }
    };
    let (secret, key_store) = keys;
    let table = env_or("TABLE_NAME", "conduit");
    let config = Config::from_lookup(|name| match name {
        "DYNAMODB_ENDPOINT" => Some(endpoint.clone()),
        "JWT_SECRET" => Some(secret.clone()),
        "TABLE_NAME" => Some(table.clone()),
        // Each response says what it cost (DynamoDB calls, capacity, CPU).
        "SERVER_TIMING" => Some(env_or("SERVER_TIMING", "1")),
        other => std::env::var(other).ok(),
    })?;
    let mut sdk = sdk_config(config.dynamodb_endpoint.as_deref())?;
    if let Some(engine) = &engine {
        // This process's own calls skip the socket (see local::engine).
        sdk = sdk.into_builder().http_client(engine.http_client()).build();
    }
    let client = dynamodb_client_from(&sdk, &config.budget);
    let state = Arc::new(AppState::new(config, client));
    if let Some(store) = key_store {
        tokio::spawn(local::dev_keys::follow_rotations(store, state.clone()));
    }
    if state
        .db
        .ensure_table()
        .await
        .map_err(|e| format!("creating the table: {e}"))?
    {
        eprintln!("created table {table:?}");
    }
    // Items written before a code change get what it needs (db::migrations).
    let migrated = state
        .db
        .migrate(conduit_common::db::migrations::MIGRATIONS, &mut || false)
        .await
        .map_err(|e| format!("data migrations: {e}"))?;
    if !migrated.finished.is_empty() {
        eprintln!(
            "data migrations finished: {} ({} items changed)",
            migrated.finished.join(", "),
            migrated.changed
        );
    }
    // Paused, the stream's records wait for a later start (the checkpoints
    // stay where they were). What a user sees of their own changes must
    // not depend on the consumers: the e2e and browser tests pause them.
    match env_or("STREAM_CONSUMERS", "on").as_str() {
        "on" => start_consumers(&sdk, &state, &data_dir)?,
        "paused" => eprintln!("stream consumers paused (STREAM_CONSUMERS=paused)"),
        other => return Err(format!("STREAM_CONSUMERS={other:?}: use on or paused").into()),
    }

    let listener =
        tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], api_port))).await?;
    let url = format!("http://{}", listener.local_addr()?);
    eprintln!(
        "Conduit API listening on {url}   (DynamoDB endpoint {endpoint}, table {table:?})\n\
         Try:  curl {url}/api/tags\n      \
         curl -X POST {url}/api/users -d '{{\"user\":{{\"username\":\"jake\",\"email\":\"jake@example.com\",\"password\":\"jakejake\"}}}}'"
    );
    local::server::serve(listener, state, Router::new(functions::ROUTES), shutdown()).await?;
    Ok(())
}
