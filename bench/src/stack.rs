//! The system under test: the release build of the local server (the whole
//! API on the embedded engine) on free loopback ports and a scratch data
//! directory, and the API Gateway events the cold-start runs send.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use conduit_common::http::Route;
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::load::{Api, Seed};
use crate::tls::TlsEndpoints;

/// Shared by the server and the functions, so tokens work in both.
const SECRET: &str = "benchmark-secret-benchmark-secret-0123456789";

/// The configuration the function binaries read (common/src/config.rs,
/// common/src/lambda.rs, common/src/state.rs, common/src/telemetry.rs);
/// `conduit-bench coldstart` passes these on from its own environment.
pub const FORWARDED: &[&str] = &[
    "TABLE_NAME",
    "DYNAMODB_ENDPOINT",
    "JWT_SECRET",
    "JWT_SECRET_PARAM",
    "AWS_ENDPOINT_URL_SSM",
    "TOKEN_TTL_SECONDS",
    "JWT_ISSUER",
    "JWT_AUDIENCE",
    "ALLOWED_ORIGINS",
    "LOGIN_MAX_FAILURES_PER_ACCOUNT",
    "LOGIN_MAX_FAILURES_PER_CLIENT",
    "LOGIN_WINDOW_SECONDS",
    "CACHE_TTL_SECONDS",
    "SERVER_TIMING",
    "RUST_LOG",
    "SSL_CERT_FILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
];

pub struct Stack {
    pub api: Api,
    dynamodb: String,
    data_dir: PathBuf,
    child: Child,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl Stack {
    /// Starts `server` (target/release/conduit-local) on a fresh database.
    pub async fn start(server: &Path, cache: bool) -> anyhow::Result<Self> {
        Self::start_on(server, cache, None).await
    }

    /// The same, on the database at `endpoint` (`http://…`) if given,
    /// instead of the server's embedded one.
    pub async fn start_on(
        server: &Path,
        cache: bool,
        endpoint: Option<&str>,
    ) -> anyhow::Result<Self> {
        let (port, dynamodb_port) = (free_port()?, free_port()?);
        let data_dir =
            std::env::temp_dir().join(format!("conduit-bench-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&data_dir)?;
        let dynamodb = match endpoint {
            Some(endpoint) => endpoint.to_owned(),
            None => format!("http://127.0.0.1:{dynamodb_port}"),
        };
        let child = Command::new(server)
            .env("DYNAMODB_ENDPOINT", endpoint.unwrap_or_default())
            .env("PORT", port.to_string())
            .env("DYNAMODB_PORT", dynamodb_port.to_string())
            .env("DATA_DIR", &data_dir)
            .env("JWT_SECRET", SECRET)
            .env("SERVER_TIMING", "1")
            .env("CACHE_TTL_SECONDS", if cache { "10" } else { "0" })
            // The mix logs in constantly from one address.
            .env("LOGIN_MAX_FAILURES_PER_CLIENT", "100000")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| {
                format!(
                    "starting {} (build it: cargo build --release -p conduit-local)",
                    server.display()
                )
            })?;
        let api = Api::new(&format!("http://127.0.0.1:{port}"))?;
        api.wait_ready(Duration::from_secs(30)).await?;
        Ok(Self {
            api,
            dynamodb,
            data_dir,
            child,
        })
    }

    /// DynamoDB (this stack's engine) and Parameter Store (holding the
    /// stack's JWT secret) over TLS, as a function reaches them in AWS.
    pub async fn tls_endpoints(&self) -> anyhow::Result<TlsEndpoints> {
        TlsEndpoints::start(&self.dynamodb, SECRET, &self.data_dir).await
    }

    /// The environment of a function of `memory_mb` on this stack's table,
    /// through `tls`: the secret comes from Parameter Store, and the
    /// bench's root certificate is the only one the process trusts.
    pub fn tls_function_env(&self, tls: &TlsEndpoints, memory_mb: u32) -> Vec<(String, String)> {
        [
            ("TABLE_NAME", "conduit".to_owned()),
            ("DYNAMODB_ENDPOINT", tls.dynamodb.clone()),
            ("AWS_ENDPOINT_URL_SSM", tls.ssm.clone()),
            ("JWT_SECRET_PARAM", "/conduit/bench/jwt-secret".to_owned()),
            ("SSL_CERT_FILE", tls.ca_file.to_string_lossy().into_owned()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory_mb.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// A valid body for the routes that take one, so that the first invocation
/// does the route's real work (hashing, writes), not just a 422.
fn body_for(route: &Route) -> Option<Value> {
    Some(match route.name {
        "register" => {
            json!({"user": {"username": "coldstart", "email": "coldstart@bench.example", "password": "benchmark-password"}})
        }
        // Not the user whose token the other events carry: each sign-in adds
        // a session, and past 50 the oldest (that token's) would end.
        "login" => {
            json!({"user": {"email": "author2@bench.example", "password": "benchmark-password"}})
        }
        "graphql" => json!({
            "query": "{ articles(limit: 20) { articlesCount articles { slug title favorited favoritesCount author { username following } } } }"
        }),
        "update_user" => json!({"user": {"bio": "Measured at cold start"}}),
        "create_article" => {
            json!({"article": {"title": "Cold start", "description": "d", "body": "b", "tagList": ["rust"]}})
        }
        "update_article" => json!({"article": {"body": "Edited at cold start"}}),
        "add_comment" => json!({"comment": {"body": "Written at cold start"}}),
        "set_user_role" => json!({"role": "moderator"}),
        _ => return None,
    })
}

/// An API Gateway HTTP API (payload 2.0) event for `route`, signed in as the
/// first seeded user, about things that exist in the seeded data: another
/// user's profile, the signed-in user's first article and its first comment
/// (their second article for the delete, which would otherwise remove them).
/// Each function runs the same event many times: a delete finds nothing
/// after its first run (404), as does signing out (401).
pub fn event_for(route: &Route, seed: &Seed) -> Value {
    // Signing out ends the session it is signed in with: the last seeded
    // user's, which no other event uses (its later runs answer 401).
    let (_, token) = match route.name {
        "logout" => seed.users.last().expect("seeded users"),
        _ => &seed.users[0],
    };
    let (other, _) = &seed.users[1];
    let slug = match route.name {
        "delete_article" => &seed.slugs[1],
        _ => &seed.slugs[0],
    };
    let mut params = serde_json::Map::new();
    let mut path = route.path.to_owned();
    for (name, value) in [
        ("username", other.as_str()),
        ("slug", slug.as_str()),
        ("id", "1"),
        (
            "file",
            match route.name {
                "graphiql_asset" => "graphiql.min.css",
                _ => "index.html",
            },
        ),
    ] {
        let placeholder = format!("{{{name}}}");
        if path.contains(&placeholder) {
            path = path.replace(&placeholder, value);
            params.insert(name.to_owned(), json!(value));
        }
    }
    let route_key = format!("{} {}", route.method, route.path);
    let body = body_for(route).map(|b| b.to_string());
    json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "accept": "application/json",
            "content-type": "application/json",
            "authorization": format!("Token {token}"),
            "host": "localhost",
            "user-agent": "conduit-bench"
        },
        "pathParameters": params,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "bench",
            "domainName": "localhost",
            "domainPrefix": "localhost",
            "http": {
                "method": route.method.as_str(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "conduit-bench"
            },
            "requestId": format!("bench-{}", route.name),
            "routeKey": route_key,
            "stage": "$default",
            "time": "25/Nov/2026:00:00:00 +0000",
            "timeEpoch": 1795564800000u64
        },
        "body": body,
        "isBase64Encoded": false
    })
}
