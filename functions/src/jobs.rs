//! The scheduled jobs: each a Lambda function of its own in AWS, invoked on
//! its schedule by EventBridge (binary, rule and alarm generated from
//! [`JOBS`] by `make generate`), and a `conduit-admin` command locally.

use conduit_common::ApiError;
use conduit_common::db::Db;
use conduit_common::db::repair::RepairSettings;
use conduit_common::events::Job;
use conduit_common::telemetry::metrics;

/// Every job, for the generators.
pub static JOBS: &[&Job] = &[&REPAIR_COUNTERS];

/// Recounts every counter from its items and fixes those that drifted
/// (`db::repair`); counts what it fixed as `CounterDrift`, which a bug
/// behind a counter would make non-zero.
pub static REPAIR_COUNTERS: Job = Job {
    name: "repair_counters",
    summary: "Recounts every counter from its items and fixes drift",
    schedule: "rate(1 day)",
    alarm: (
        metrics::name::COUNTER_DRIFT,
        "the counters' repair found counters that disagreed with their items, and fixed them: look for the bug in its log",
    ),
    run: |db| Box::pin(repair_counters(db)),
};

/// Read capacity units a second the repair may use, on average: below what
/// the API needs of an on-demand table (`REPAIR_READ_UNITS_PER_SECOND`).
const REPAIR_READ_UNITS: f64 = 100.0;

async fn repair_counters(db: &Db) -> Result<String, ApiError> {
    let rate = std::env::var("REPAIR_READ_UNITS_PER_SECOND")
        .ok()
        .and_then(|rate| rate.parse::<f64>().ok())
        .filter(|rate| *rate > 0.0)
        .unwrap_or(REPAIR_READ_UNITS);
    let run = db.repair_counters(RepairSettings::at_rate(rate)).await?;
    metrics::record_drift(run.fixed.len());
    let summary = format!(
        "{} counters checked, {} fixed, {} changing meanwhile, {:.0} read units",
        run.checked,
        run.fixed.len(),
        run.unsettled,
        run.read_units
    );
    tracing::info!(fixed = ?run.fixed, "{summary}");
    Ok(summary)
}
