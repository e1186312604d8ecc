//! Structured logs and metrics.
//!
//! Logs: one JSON object per line, which CloudWatch Logs Insights queries
//! directly. `RUST_LOG` sets the levels (default `info`), by target if
//! need be: `info,aws_smithy_runtime=warn`. Every line logged
//! while a request runs carries the request's span (`span.request_id`, and
//! in AWS `span.trace_id`), so one user's report finds all of its lines.
//!
//! Metrics: see [`metrics`]. Traces: see [`traces`].

pub mod metrics;
pub mod traces;

use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;

/// Sends this process's logs to stdout, where Lambda collects them, and its
/// traces where the environment says ([`traces`]; by default nowhere).
/// `service` names the process in the traces.
pub fn init(service: &str) -> Result<(), String> {
    let traces = traces::Traces::from_env(service)?;
    let subscriber = tracing_subscriber::registry()
        .with(json_layer(std::io::stdout))
        .with(traces.as_ref().map(traces::Traces::layer));
    let _ = tracing::subscriber::set_global_default(subscriber);
    if let Some(traces) = traces {
        traces.install()?;
    }
    Ok(())
}

/// The log format, writing to `writer` (tests capture it).
pub fn json_logs<W>(writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    tracing_subscriber::registry().with(json_layer(writer))
}

fn json_layer<S, W>(writer: W) -> impl Layer<S> + Send + Sync
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span>,
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    // `RUST_LOG` as a list of levels by target (`warn`, `info,aws=warn`):
    // `Targets`, not `EnvFilter`, whose span and field filters need the
    // `regex` crate's Unicode tables, half a megabyte in every binary.
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|directives| directives.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .json()
        // The innermost span only: the pipeline's `request` span, which
        // holds the ids; the runtime's own spans would repeat them.
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        // Lambda stamps every line itself.
        .without_time()
        // This layer's own: the traces' layer may want more spans.
        .with_filter(filter)
}
