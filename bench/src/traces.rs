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

const REQUESTS: usize = 400;

/// The median CPU time of `REQUESTS` reads of `path`, and of handing each
/// one's spans over after it.
async fn per_request(app: &TestApp, path: &str, traces: Option<&Traces>) -> (Duration, Duration) {
    let mut requests = Vec::with_capacity(REQUESTS);
    let mut exports = Vec::with_capacity(REQUESTS);
    for _ in 0..REQUESTS {
        let (response, usage) = measure(app.get(path, None)).await;
        assert_eq!(response.status, 200);
        requests.push(usage.cpu);
        if let Some(traces) = traces {
            exports.push(measure(traces.export()).await.1.cpu);
        }
    }
    (median(requests), median(exports))
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
    per_request(&app, &path, None).await; // warm-up

    let (off, _) = per_request(&app, &path, None).await;
    let (kept_traces, kept) = Traces::in_memory("bench");
    let (on, kept_export) = {
        let _traced = tracing::subscriber::set_default(kept_traces.subscriber());
        per_request(&app, &path, Some(&kept_traces)).await
    };
    let spans = kept.lock().unwrap().len() as f64 / REQUESTS as f64;

    // SAFETY: set before any other thread reads the environment's variable.
    unsafe { std::env::set_var("OTEL_EXPORTER_OTLP_ENDPOINT", collector().await?) };
    let sent_traces = Traces::from_env("bench")
        .map_err(anyhow::Error::msg)?
        .expect("the OTLP endpoint is set");
    let (sent, sent_export) = {
        let _traced = tracing::subscriber::set_default(sent_traces.subscriber());
        per_request(&app, &path, Some(&sent_traces)).await
    };

    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let mut report = String::new();
    writeln!(report, "# What the traces cost a request\n")?;
    writeln!(
        report,
        "`conduit-bench traces` (bench/src/traces.rs): GET /api/articles/:slug, {REQUESTS} times per row, in-process on the embedded engine, release build; the median CPU time of the request (its thread's, while polled) and of handing its spans over after it (`traces::export`, which in Lambda runs after the response is sent). {spans:.0} spans a request: the request, its DynamoDB operations and their attempts.\n"
    )?;
    writeln!(
        report,
        "| traces | request CPU µs | + export CPU µs | total vs off |"
    )?;
    writeln!(report, "|---|---:|---:|---:|")?;
    for (name, request, export) in [
        ("off (no layer)", off, Duration::ZERO),
        ("spans made and kept", on, kept_export),
        (
            "sent over OTLP/HTTP to a local collector",
            sent,
            sent_export,
        ),
    ] {
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
