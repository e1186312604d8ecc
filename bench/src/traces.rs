//! `conduit-bench traces`: what the traces (common/src/telemetry/traces.rs)
//! cost a request, in CPU: the API in-process on the embedded engine (the
//! tests' `spawn_app`, built in release here), the same read of an article
//! a few hundred times with traces off, with its spans made and kept, and
//! with them also sent over OTLP/HTTP to a collector on loopback (a stand-in
//! that answers 200, as the ADOT layer's receiver does). Writes
//! `docs/benchmarks-traces.md`'s table; its reading is written by hand.

use std::fmt::Write;
use std::time::Duration;

use conduit_common::meter::measure;
use conduit_common::telemetry::traces::Traces;
use conduit_tests::{TestApp, spawn_app_with};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tracing::Dispatch;

/// Requests per row, measured in rounds: each round runs a few under each
/// row's subscriber in turn, so that a busy machine weighs on every row
/// alike and the ratios hold.
const ROUNDS: usize = 40;
const PER_ROUND: usize = 10;
const REQUESTS: usize = ROUNDS * PER_ROUND;

/// One row: its subscriber, its traces to export after each request, and
/// the CPU times measured.
struct Row<'a> {
    name: &'static str,
    dispatch: Dispatch,
    traces: Option<&'a Traces>,
    requests: Vec<Duration>,
    exports: Vec<Duration>,
}

impl<'a> Row<'a> {
    fn new(name: &'static str, traces: Option<&'a Traces>) -> Self {
        let dispatch = traces.map_or_else(Dispatch::none, |t| Dispatch::new(t.subscriber()));
        Row {
            name,
            dispatch,
            traces,
            requests: Vec::new(),
            exports: Vec::new(),
        }
    }

    /// A few reads of `path` under this row's subscriber, each followed by
    /// handing its spans over.
    async fn measure(&mut self, app: &TestApp, path: &str) {
        let _subscriber = tracing::dispatcher::set_default(&self.dispatch);
        for _ in 0..PER_ROUND {
            let (response, usage) = measure(app.get(path, None)).await;
            assert_eq!(response.status, 200);
            self.requests.push(usage.cpu);
            if let Some(traces) = self.traces {
                self.exports.push(measure(traces.export()).await.1.cpu);
            }
        }
    }
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values.get(values.len() / 2).copied().unwrap_or_default()
}

/// An OTLP/HTTP receiver that takes everything: the collector's part.
async fn collector() -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(hyper::server::conn::http1::Builder::new().serve_connection(
                TokioIo::new(stream),
                service_fn(|_| async {
                    Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(Bytes::new())))
                }),
            ));
        }
    });
    Ok(format!("http://{address}"))
}

pub async fn run() -> anyhow::Result<String> {
    let app = spawn_app_with(&[("CACHE_TTL_SECONDS", "0")]).await;
    let author = app.register("author").await;
    let slug = app
        .create_article(&author, "Measured", &["one", "two"])
        .await;
    let path = format!("/api/articles/{slug}");
    let (kept_traces, kept) = Traces::in_memory("bench");
    // SAFETY: set before any other thread reads the environment's variable.
    unsafe { std::env::set_var("OTEL_EXPORTER_OTLP_ENDPOINT", collector().await?) };
    let sent_traces = Traces::from_env("bench")
        .map_err(anyhow::Error::msg)?
        .expect("the OTLP endpoint is set");
    let mut rows = [
        Row::new("off (no layer)", None),
        Row::new("spans made and kept", Some(&kept_traces)),
        Row::new(
            "sent over OTLP/HTTP to a local collector",
            Some(&sent_traces),
        ),
    ];
    for row in &mut rows {
        row.measure(&app, &path).await; // warm-up
        row.requests.clear();
        row.exports.clear();
    }
    kept.lock().unwrap().clear();
    for _ in 0..ROUNDS {
        for row in &mut rows {
            row.measure(&app, &path).await;
        }
    }
    let spans = kept.lock().unwrap().len() as f64 / REQUESTS as f64;

    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let mut report = String::new();
    writeln!(report, "# What the traces cost a request\n")?;
    writeln!(
        report,
        "`conduit-bench traces` (bench/src/traces.rs): GET /api/articles/:slug, {REQUESTS} times per row (in {ROUNDS} rounds of {PER_ROUND}, the rows in turn), in-process on the embedded engine, release build; the median CPU time of the request (its thread's, while polled) and of handing its spans over after it (`traces::export`, which in Lambda runs after the response is sent). {spans:.0} spans a request: the request, its DynamoDB operations and their attempts.\n"
    )?;
    writeln!(
        report,
        "| traces | request CPU µs | + export CPU µs | total vs off |"
    )?;
    writeln!(report, "|---|---:|---:|---:|")?;
    let off = median(rows[0].requests.clone());
    for row in rows {
        let (name, request, export) = (row.name, median(row.requests), median(row.exports));
        writeln!(
            report,
            "| {name} | {:.0} | {:.0} | {:+.0}% |",
            us(request),
            us(export),
            (us(request + export) / us(off) - 1.0) * 100.0
        )?;
    }
    // The reading below the table, kept.
    let path = "docs/benchmarks-traces.md";
    let reading = std::fs::read_to_string(path)
        .ok()
        .and_then(|old| old.find("\n## Reading").map(|at| old[at..].to_owned()))
        .unwrap_or_default();
    std::fs::write(path, format!("{report}{reading}"))?;
    Ok(report)
}
