//! Structured logs: one JSON object per line, which CloudWatch Logs Insights
//! queries directly. `RUST_LOG` sets the level (default `info`).

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        // Lambda stamps every line itself.
        .without_time()
        .try_init();
}
