//! Latency as DynamoDB's network adds it: the mix, one client at a time,
//! with the API's every DynamoDB call held `delay` by a proxy in front of
//! the engine, and again with no delay through the same proxy. What a
//! request's latency grows by, divided by the delay, is the number of calls
//! it waited for one after another; the API's own count of them comes back
//! in `Server-Timing` ("in sequence").

use std::fmt::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::load::{self, RunStats};
use crate::stack::Stack;

/// The delay when `BENCH_DELAY_MS` does not say.
pub const DEFAULT_DELAY: Duration = Duration::from_millis(5);

#[derive(Debug, Serialize)]
pub struct LatencyRuns {
    pub delay_ms: f64,
    pub without: RunStats,
    pub with: RunStats,
}

/// The embedded engine, served over HTTP from this process.
struct Engine {
    endpoint: String,
    task: JoinHandle<()>,
}

impl Engine {
    async fn start(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join("engine.db");
        let database = dynoxide::Database::new(&path.to_string_lossy())?;
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let task = tokio::spawn(async move {
            let _ = dynoxide::server::serve_with_shutdown(
                listener,
                database,
                std::future::pending::<()>(),
            )
            .await;
        });
        Ok(Self { endpoint, task })
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// An HTTP proxy that holds every request `delay` before passing it on.
struct DelayProxy {
    endpoint: String,
    task: JoinHandle<()>,
}

impl DelayProxy {
    async fn start(upstream: &str, delay: Duration) -> anyhow::Result<Self> {
        let upstream: Uri = upstream.parse().context("the engine's endpoint")?;
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client: Client<_, Incoming> = Client::builder(TokioExecutor::new()).build(connector);
        let shared = Arc::new((client, upstream));
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| forward(shared.clone(), req, delay));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { endpoint, task })
    }
}

impl Drop for DelayProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Shared = Arc<(Client<HttpConnector, Incoming>, Uri)>;

/// A broken upstream fails the service, and hyper closes the connection:
/// the API's SDK meets a network fault, as it would in AWS.
async fn forward(
    shared: Shared,
    mut req: Request<Incoming>,
    delay: Duration,
) -> Result<Response<Incoming>, hyper_util::client::legacy::Error> {
    tokio::time::sleep(delay).await;
    let (client, upstream) = &*shared;
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
    *req.uri_mut() = format!("{upstream}{}", path.trim_start_matches('/'))
        .parse()
        .expect("the upstream's URI with a request path");
    client.request(req).await
}

/// The mix, one client, read cache off, without and with `delay`: each on a
/// fresh engine, seeded alike.
pub async fn run(server: &Path, delay: Duration, max_requests: u64) -> anyhow::Result<LatencyRuns> {
    let mut runs = Vec::new();
    for delay in [Duration::ZERO, delay] {
        let dir = std::env::temp_dir().join(format!(
            "conduit-bench-delay-{}-{}",
            std::process::id(),
            delay.as_micros()
        ));
        std::fs::create_dir_all(&dir)?;
        let engine = Engine::start(&dir).await?;
        let proxy = DelayProxy::start(&engine.endpoint, delay).await?;
        let stack = Stack::start_on(server, false, Some(&proxy.endpoint)).await?;
        let seed = Arc::new(load::seed(&stack.api).await?);
        eprintln!(
            "mix: 1 client, cache off, {} ms before every DynamoDB call ...",
            delay.as_secs_f64() * 1e3
        );
        let limits = load::Limits {
            concurrency: 1,
            max_requests,
            max_seconds: 60,
        };
        runs.push(load::run(&stack.api, &seed, limits, false).await);
        stack.stop().await;
        drop((proxy, engine));
        let _ = std::fs::remove_dir_all(&dir);
    }
    let with = runs.pop().expect("two runs");
    let without = runs.pop().expect("two runs");
    Ok(LatencyRuns {
        delay_ms: delay.as_secs_f64() * 1e3,
        without,
        with,
    })
}

impl LatencyRuns {
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let d = self.delay_ms;
        let _ = writeln!(
            md,
            "## Latency with a delay on every DynamoDB call\n\n\
             The mix, one client at a time, read cache off, on two fresh stacks seeded alike \
             whose every DynamoDB call passes through a proxy (bench/src/delay.rs): one adds \
             nothing, the other holds each call {d} ms (`BENCH_DELAY_MS`), as the network to \
             DynamoDB would. *Waited* is how much the median grew, in delays: the calls the \
             request waited for one after another. *In sequence* is the API's own count \
             (Server-Timing), *documented* that of [data-model.md](data-model.md).\n\n\
             | endpoint | p50 ms, no delay | p50 ms, {d} ms delay | p99 ms, {d} ms delay | waited | in sequence | documented | DB calls |\n\
             |---|---:|---:|---:|---:|---:|---|---:|"
        );
        for e in &self.with.endpoints {
            let Some(base) = self
                .without
                .endpoints
                .iter()
                .find(|b| b.endpoint == e.endpoint)
            else {
                continue;
            };
            let _ = writeln!(
                md,
                "| {} | {:.2} | {:.2} | {:.2} | {:.1} | {:.2} | {} | {:.2} |",
                e.endpoint,
                base.p50_ms,
                e.p50_ms,
                e.p99_ms,
                (e.p50_ms - base.p50_ms) / d,
                e.db_sequential,
                crate::report::documented_round_trips(&e.endpoint, true),
                e.db_calls
            );
        }
        md.push('\n');
        md
    }
}
