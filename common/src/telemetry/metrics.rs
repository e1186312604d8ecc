//! Per-route metrics in CloudWatch's embedded metric format (EMF): JSON
//! documents in the log stream that CloudWatch turns into metrics, with no
//! API call on the request path.
//!
//! The pipeline records every request here through the `metrics` facade; a
//! Lambda process installs the EMF recorder at cold start ([`init`]) and
//! writes one document per label set after each invocation ([`flush`]).
//! Without a recorder (the local server, tests) recording costs nothing.
//!
//! Namespace `Conduit`, dimension `Service` (the stack) on every metric,
//! and `Route` (the function) on the per-route ones. The SAM template's
//! dashboard and alarms (xtask) read these names: keep them in step.

use std::time::Duration;

use lambda_http::http::StatusCode;
use metrics::{Unit, counter, describe_counter, describe_histogram, histogram};

use crate::meter::Usage;

pub const NAMESPACE: &str = "Conduit";

/// Metric names, per route unless said otherwise.
pub mod name {
    /// Requests answered, per route and (without `Route`) for the service.
    pub const REQUESTS: &str = "Requests";
    /// Time from the request reaching the handler to its answer.
    pub const LATENCY: &str = "Latency";
    pub const STATUS_4XX: &str = "Status4xx";
    /// 5xx answers, per route and (without `Route`) for the service.
    pub const STATUS_5XX: &str = "Status5xx";
    /// 500s: bugs.
    pub const FAULTS: &str = "Faults";
    /// 503s because a dependency failed (DynamoDB down, slow, throttling):
    /// counted apart from bugs.
    pub const DEPENDENCY_FAILURES: &str = "DependencyFailures";
    pub const DB_CALLS: &str = "DynamoDBCalls";
    pub const READ_UNITS: &str = "ReadCapacityUnits";
    pub const WRITE_UNITS: &str = "WriteCapacityUnits";
    pub const CACHE_HITS: &str = "CacheHits";
    pub const CPU_TIME: &str = "CpuTime";
    /// Invocations that paid for a cold start.
    pub const COLD_STARTS: &str = "ColdStarts";
    /// Counters the repair job found wrong and fixed (service-wide).
    pub const COUNTER_DRIFT: &str = "CounterDrift";
    /// Scheduled rotations of the signing keys that failed (service-wide).
    pub const KEY_ROTATION_FAILURES: &str = "SigningKeyRotationFailures";
    /// Stream records a consumer was given, per `Consumer`: retried ones
    /// count again.
    pub const STREAM_RECORDS: &str = "StreamRecords";
    /// Batches of a consumer that stopped at a failing record, per
    /// `Consumer`: each is retried from that record.
    pub const STREAM_FAILURES: &str = "StreamRecordFailures";
    /// How old a batch's oldest record was when the consumer took it, per
    /// `Consumer`: how far behind the writes their effects run.
    pub const STREAM_LAG: &str = "StreamLag";
}

/// How a request ended, as the metrics count it: from its status, or
/// worse, from what its handler reports. A handler whose response does not
/// say it all puts an `Outcome` in the response's extensions: GraphQL
/// answers a failed field in a 200 (a failed query in a 503 that is its own
/// response, not an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    Ok,
    ClientError,
    /// A dependency failed: 503 with `Retry-After`.
    DependencyFailure,
    /// Any other 5xx: a bug.
    ServerError,
}

impl Outcome {
    /// A response's outcome, from its status and what its handler reported.
    pub fn of(status: StatusCode, reported: Option<Outcome>) -> Outcome {
        let by_status = match status.as_u16() {
            503 => Outcome::DependencyFailure,
            500..=599 => Outcome::ServerError,
            400..=499 => Outcome::ClientError,
            _ => Outcome::Ok,
        };
        by_status.max(reported.unwrap_or(Outcome::Ok))
    }
}

/// Installs the EMF recorder for this process. `service` is the stack's name.
pub fn init(service: &str) -> Result<&'static metrics_cloudwatch_embedded::Collector, String> {
    let collector = metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace(NAMESPACE)
        .with_dimension("Service", service.to_owned())
        .init()
        .map_err(|err| format!("installing the metrics recorder: {err}"))?;
    for counter_name in [
        name::REQUESTS,
        name::STATUS_4XX,
        name::STATUS_5XX,
        name::FAULTS,
        name::DEPENDENCY_FAILURES,
        name::DB_CALLS,
        name::CACHE_HITS,
        name::COLD_STARTS,
        name::COUNTER_DRIFT,
        name::KEY_ROTATION_FAILURES,
        name::STREAM_RECORDS,
        name::STREAM_FAILURES,
    ] {
        describe_counter!(counter_name, Unit::Count, "");
    }
    describe_histogram!(name::READ_UNITS, Unit::Count, "");
    describe_histogram!(name::WRITE_UNITS, Unit::Count, "");
    describe_histogram!(name::LATENCY, Unit::Milliseconds, "");
    describe_histogram!(name::CPU_TIME, Unit::Microseconds, "");
    describe_histogram!(name::STREAM_LAG, Unit::Milliseconds, "");
    Ok(collector)
}

/// Records one answered request of `route`.
pub fn record_request(route: &'static str, outcome: Outcome, latency: Duration, usage: &Usage) {
    let labels = [("Route", route)];
    counter!(name::REQUESTS).increment(1);
    counter!(name::REQUESTS, &labels).increment(1);
    histogram!(name::LATENCY, &labels).record(latency.as_secs_f64() * 1e3);
    histogram!(name::CPU_TIME, &labels).record(usage.cpu.as_secs_f64() * 1e6);
    counter!(name::DB_CALLS, &labels).increment(usage.db_calls.into());
    // Values, not counters: capacity comes in halves, and EMF counters are
    // integers. Their `Sum` statistic is the capacity consumed.
    histogram!(name::READ_UNITS, &labels).record(usage.read_units);
    histogram!(name::WRITE_UNITS, &labels).record(usage.write_units);
    counter!(name::CACHE_HITS, &labels).increment(usage.cache_hits.into());
    match outcome {
        Outcome::Ok => {}
        Outcome::ClientError => counter!(name::STATUS_4XX, &labels).increment(1),
        Outcome::DependencyFailure | Outcome::ServerError => {
            counter!(name::STATUS_5XX).increment(1);
            counter!(name::STATUS_5XX, &labels).increment(1);
            let kind = if outcome == Outcome::DependencyFailure {
                name::DEPENDENCY_FAILURES
            } else {
                name::FAULTS
            };
            counter!(kind, &labels).increment(1);
        }
    }
}

/// Counts the counters a repair run fixed (zero too: a datapoint every run).
pub fn record_drift(fixed: usize) {
    counter!(name::COUNTER_DRIFT).increment(fixed as u64);
}

/// Counts a scheduled rotation of the signing keys: 0 when it worked, so
/// that every run leaves a datapoint.
pub fn record_key_rotation(failed: bool) {
    counter!(name::KEY_ROTATION_FAILURES).increment(u64::from(failed));
}

/// Records one batch a consumer ran: its records, whether it stopped at a
/// failure, and its oldest record's age (none when the records carry no
/// creation time).
pub fn record_batch(consumer: &'static str, records: usize, failed: bool, lag: Option<Duration>) {
    let labels = [("Consumer", consumer)];
    counter!(name::STREAM_RECORDS, &labels).increment(records as u64);
    counter!(name::STREAM_FAILURES, &labels).increment(u64::from(failed));
    if let Some(lag) = lag {
        histogram!(name::STREAM_LAG, &labels).record(lag.as_secs_f64() * 1e3);
    }
}

/// Counts a cold start of `route`'s function.
pub fn record_cold_start(route: &'static str) {
    counter!(name::COLD_STARTS, "Route" => route).increment(1);
}

/// Writes what was recorded since the last flush as EMF documents on
/// stdout (the function's log stream), tagged with the invocation's ids.
pub fn flush(
    collector: &metrics_cloudwatch_embedded::Collector,
    request_id: &str,
    trace_id: Option<&str>,
) {
    collector.set_property("requestId", request_id.to_owned());
    if let Some(trace_id) = trace_id {
        collector.set_property("traceId", trace_id.to_owned());
    }
    if let Err(err) = collector.flush(std::io::stdout().lock()) {
        tracing::warn!(error = %err, "could not write metrics");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outcome_is_the_worse_of_the_status_and_the_report() {
        let of = Outcome::of;
        assert_eq!(of(StatusCode::OK, None), Outcome::Ok);
        assert_eq!(of(StatusCode::NOT_FOUND, None), Outcome::ClientError);
        assert_eq!(
            of(StatusCode::SERVICE_UNAVAILABLE, None),
            Outcome::DependencyFailure
        );
        assert_eq!(of(StatusCode::BAD_GATEWAY, None), Outcome::ServerError);
        // A GraphQL 200 whose field failed, on a bug or on the database.
        let reported = |outcome| of(StatusCode::OK, Some(outcome));
        assert_eq!(reported(Outcome::ServerError), Outcome::ServerError);
        assert_eq!(
            reported(Outcome::DependencyFailure),
            Outcome::DependencyFailure
        );
        // A report never makes a failure look better than its status.
        assert_eq!(
            of(StatusCode::INTERNAL_SERVER_ERROR, Some(Outcome::Ok)),
            Outcome::ServerError
        );
    }
}
