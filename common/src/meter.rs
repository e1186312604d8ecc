//! What one request costs: DynamoDB round trips and capacity units, cache
//! hits, and the CPU time of our own code. Serverless bills for exactly
//! these, so every request's log line carries them, and the local server can
//! also return them in a `Server-Timing` header for the benchmark.
//!
//! The figures live in a task-local [`Meter`] that the pipeline installs
//! around each request; the DynamoDB client records into it through an SDK
//! interceptor ([`crate::db::capacity`]), so no data-layer call site has to.
//!
//! Latency is counted in round trips *in sequence*, not calls: calls made
//! together cost one network delay. Each call's place in its chain is the
//! deepest place of the calls that had answered when it was sent, plus one;
//! the deepest place reached is the request's figure. When every call takes
//! about as long (DynamoDB's few milliseconds, or a delay a test injects),
//! that is the number of network delays the request waited through.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

tokio::task_local! {
    static METER: Meter;
}

/// The cost of one request so far: a handle that work the request hands to
/// another task (GraphQL's data loaders) carries along with [`within`].
#[derive(Debug, Clone, Default)]
pub struct Meter(Arc<Mutex<Tally>>);

#[derive(Debug, Default)]
struct Tally {
    usage: Usage,
    /// The deepest place in sequence of the calls that have answered.
    answered: u32,
}

/// A finished request's figures.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    /// HTTP round trips to DynamoDB, retries included.
    pub db_calls: u32,
    /// Of those, how many the request waited for one after another (see the
    /// module's introduction).
    pub db_sequential: u32,
    pub read_units: f64,
    pub write_units: f64,
    pub cache_hits: u32,
    /// Time our code held a thread: the handler's polls plus password
    /// hashing, but not the time spent waiting on DynamoDB.
    pub cpu: Duration,
}

impl Usage {
    /// The `Server-Timing` header value (durations in milliseconds).
    pub fn server_timing(&self, total: Duration) -> String {
        format!(
            "total;dur={:.3}, cpu;dur={:.3}, db;desc=\"calls={} sequential={} rcu={} wcu={} cache_hits={}\"",
            total.as_secs_f64() * 1e3,
            self.cpu.as_secs_f64() * 1e3,
            self.db_calls,
            self.db_sequential,
            self.read_units,
            self.write_units,
            self.cache_hits,
        )
    }
}

impl Usage {
    /// Reads back a `Server-Timing` value written by [`Usage::server_timing`]:
    /// the request's total time and its usage (for tests and the benchmark).
    pub fn from_server_timing(value: &str) -> Option<(Duration, Usage)> {
        let number = |name: &str| -> Option<f64> {
            let start = value.find(name)? + name.len();
            let rest = &value[start..];
            let end = rest.find([' ', '"', ',']).unwrap_or(rest.len());
            rest[..end].parse().ok()
        };
        let ms = |name: &str| number(name).map(|ms| Duration::from_secs_f64(ms / 1e3));
        let usage = Usage {
            db_calls: number("calls=")? as u32,
            db_sequential: number("sequential=")? as u32,
            read_units: number("rcu=")?,
            write_units: number("wcu=")?,
            cache_hits: number("cache_hits=")? as u32,
            cpu: ms("cpu;dur=")?,
        };
        Some((ms("total;dur=")?, usage))
    }
}

/// Runs `fut` with a fresh meter and returns its output with what it cost.
/// Every poll of `fut` is timed on the thread's CPU clock.
pub async fn measure<F: Future>(fut: F) -> (F::Output, Usage) {
    let meter = Meter::default();
    let out = METER.scope(meter.clone(), CpuTimed { inner: fut }).await;
    let usage = meter.0.lock().unwrap_or_else(|e| e.into_inner()).usage;
    (out, usage)
}

/// The meter of the request being served, if any.
pub fn current() -> Option<Meter> {
    METER.try_with(Clone::clone).ok()
}

/// Runs `fut`, on whatever task, as part of the request `meter` measures:
/// its calls and CPU count as the request's.
pub fn within<F: Future>(meter: Meter, fut: F) -> impl Future<Output = F::Output> {
    METER.scope(meter, CpuTimed { inner: fut })
}

/// Records into the current request's meter; a no-op outside a request
/// (start-up work, the admin command).
fn record(f: impl FnOnce(&mut Usage)) {
    tally(|tally| f(&mut tally.usage));
}

fn tally<T: Default>(f: impl FnOnce(&mut Tally) -> T) -> T {
    METER
        .try_with(|meter| f(&mut meter.0.lock().unwrap_or_else(|e| e.into_inner())))
        .unwrap_or_default()
}

/// A call is being sent: returns its place in sequence, for
/// [`db_call_answered`].
pub(crate) fn db_call() -> u32 {
    tally(|tally| {
        tally.usage.db_calls += 1;
        let place = tally.answered + 1;
        tally.usage.db_sequential = tally.usage.db_sequential.max(place);
        place
    })
}

/// The call sent at `place` has answered (or failed): calls sent from now
/// on come after it.
pub(crate) fn db_call_answered(place: u32) {
    tally(|tally| tally.answered = tally.answered.max(place));
}

pub(crate) fn capacity(read_units: f64, write_units: f64) {
    record(|usage| {
        usage.read_units += read_units;
        usage.write_units += write_units;
    });
}

pub(crate) fn cache_hit() {
    record(|usage| usage.cache_hits += 1);
}

/// CPU time spent on this request's behalf off the request's task (password
/// hashing runs on the blocking pool).
pub(crate) fn cpu(spent: Duration) {
    record(|usage| usage.cpu += spent);
}

/// The CPU time the calling thread has used so far.
pub(crate) fn thread_cpu_time() -> Duration {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID)
        .map(Duration::from)
        .unwrap_or_default()
}

pin_project_lite::pin_project! {
    /// Adds the thread CPU time of each poll of `inner` to the meter.
    struct CpuTimed<F> {
        #[pin]
        inner: F,
    }
}

impl<F: Future> Future for CpuTimed<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let started = thread_cpu_time();
        let poll = self.project().inner.poll(cx);
        cpu(thread_cpu_time().saturating_sub(started));
        poll
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn records_only_inside_a_request() {
        db_call(); // outside: ignored, and must not panic
        let ((), usage) = measure(async {
            db_call();
            db_call();
            capacity(0.5, 0.0);
            capacity(1.0, 2.0);
            cache_hit();
            // Burn some CPU inside a poll so the clock has something to see.
            let mut x = 0u64;
            for i in 0..2_000_000u64 {
                x = std::hint::black_box(x.wrapping_add(i));
            }
        })
        .await;
        assert_eq!(usage.db_calls, 2);
        assert_eq!(usage.read_units, 1.5);
        assert_eq!(usage.write_units, 2.0);
        assert_eq!(usage.cache_hits, 1);
        assert!(usage.cpu > Duration::ZERO, "{usage:?}");
    }

    #[tokio::test]
    async fn work_handed_to_another_task_counts_within_the_request() {
        let ((), usage) = measure(async {
            db_call();
            let meter = current().expect("inside a request");
            tokio::spawn(within(meter, async { db_call() }))
                .await
                .unwrap();
            // Spawned without its meter: not counted.
            tokio::spawn(async { db_call() }).await.unwrap();
        })
        .await;
        assert_eq!(usage.db_calls, 2);
    }

    #[tokio::test]
    async fn calls_sent_together_are_one_round_trip_in_sequence() {
        let ((), usage) = measure(async {
            // Two together, then one after the first answered, then one
            // after all of them.
            let (first, second) = (db_call(), db_call());
            db_call_answered(first);
            let third = db_call();
            db_call_answered(second);
            db_call_answered(third);
            let fourth = db_call();
            db_call_answered(fourth);
        })
        .await;
        assert_eq!((usage.db_calls, usage.db_sequential), (4, 3));

        // One after another.
        let ((), usage) = measure(async {
            for _ in 0..3 {
                let place = db_call();
                db_call_answered(place);
            }
        })
        .await;
        assert_eq!((usage.db_calls, usage.db_sequential), (3, 3));
    }

    #[test]
    fn server_timing_is_well_formed_and_reads_back() {
        let usage = Usage {
            db_calls: 3,
            db_sequential: 2,
            read_units: 1.5,
            write_units: 0.0,
            cache_hits: 1,
            cpu: Duration::from_micros(250),
        };
        let header = usage.server_timing(Duration::from_micros(1500));
        assert_eq!(
            header,
            "total;dur=1.500, cpu;dur=0.250, db;desc=\"calls=3 sequential=2 rcu=1.5 wcu=0 cache_hits=1\""
        );
        assert_eq!(
            Usage::from_server_timing(&header),
            Some((Duration::from_micros(1500), usage))
        );
        assert_eq!(Usage::from_server_timing("total;dur=1"), None);
    }
}
