//! The scheduled jobs: each a Lambda function of its own in AWS, invoked on
//! its schedule by EventBridge (binary, rule and alarm generated from
//! [`JOBS`] by `make generate`), and a `conduit-admin` command locally.

use conduit_common::ApiError;
use std::time::SystemTime;

use conduit_common::auth::key_store::{KeyStore, RotateError};
use conduit_common::db::repair::RepairSettings;
use conduit_common::events::{Job, JobAccess, JobContext};
use conduit_common::telemetry::metrics;

/// Every job, for the generators.
pub static JOBS: &[&Job] = &[&REPAIR_COUNTERS, &ROTATE_SIGNING_KEYS];

/// Recounts every counter from its items and fixes those that drifted
/// (`db::repair`); counts what it fixed as `CounterDrift`, which a bug
/// behind a counter would make non-zero.
pub static REPAIR_COUNTERS: Job = Job {
    name: "repair_counters",
    summary: "Recounts every counter from its items and fixes drift",
    schedule: "rate(1 day)",
    access: JobAccess::Table,
    alarm: (
        metrics::name::COUNTER_DRIFT,
        "the counters' repair found counters that disagreed with their items, and fixed them: look for the bug in its log",
    ),
    run: |db| Box::pin(repair_counters(db)),
};

/// Read capacity units a second the repair may use, on average: below what
/// the API needs of an on-demand table (`REPAIR_READ_UNITS_PER_SECOND`).
const REPAIR_READ_UNITS: f64 = 100.0;

async fn repair_counters(context: &JobContext) -> Result<String, ApiError> {
    let db = &context.db;
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

/// Rotates the token signing keys one step (`conduit_common::auth::keys`):
/// the next key starts signing, the current one still verifies, the
/// previous one is retired. Every 31 days: longer than the longest token
/// lifetime (30 days) plus an instance's reload interval, so a token
/// always expires before its key is retired.
pub static ROTATE_SIGNING_KEYS: Job = Job {
    name: "rotate_signing_keys",
    summary: "Rotates the token signing keys one step",
    schedule: "rate(31 days)",
    access: JobAccess::SigningKeys,
    alarm: (
        metrics::name::KEY_ROTATION_FAILURES,
        "the token signing keys were not rotated: read the job's log, then rotate by hand (conduit-admin rotate-keys)",
    ),
    run: |context| Box::pin(rotate_signing_keys(context)),
};

async fn rotate_signing_keys(context: &JobContext) -> Result<String, ApiError> {
    let name = std::env::var("JWT_SECRET_PARAM")
        .map_err(|_| ApiError::internal("JWT_SECRET_PARAM must be set"))?;
    let store = KeyStore::Parameter {
        sdk: Box::new(context.sdk.clone()),
        name,
    };
    // A retried or repeated run finds the keys just rotated and leaves
    // them: rotating again would retire the key live tokens were signed with.
    let rotated = match store.rotate(SystemTime::now(), false).await {
        Err(RotateError::TooSoon(why)) => {
            metrics::record_key_rotation(false);
            tracing::info!("{why}");
            return Ok(format!("not rotated: {why}"));
        }
        rotated => rotated,
    };
    metrics::record_key_rotation(rotated.is_err());
    let set = rotated.map_err(ApiError::internal)?;
    let summary = set.to_string();
    tracing::info!("{summary}");
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use conduit_common::auth::keys::{MAX_TOKEN_TTL, RELOAD_AFTER};

    use super::*;

    #[test]
    fn a_token_always_expires_before_its_key_is_retired() {
        let days: u64 = ROTATE_SIGNING_KEYS
            .schedule
            .strip_prefix("rate(")
            .and_then(|rate| rate.strip_suffix(" days)"))
            .and_then(|days| days.parse().ok())
            .expect("a rate in days");
        // A key signs for one period and verifies for one more; an
        // instance may sign with it for RELOAD_AFTER into the second.
        let period = Duration::from_secs(days * 24 * 3600);
        assert!(period >= MAX_TOKEN_TTL + RELOAD_AFTER, "{days} days");
    }
}
