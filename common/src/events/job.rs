//! A scheduled job: work that runs on a timetable rather than after a
//! write (an EventBridge schedule in AWS; a command locally), such as the
//! counters' repair.

use std::future::Future;
use std::pin::Pin;

use crate::db::Db;
use crate::error::ApiError;

pub type RunFn =
    for<'a> fn(&'a Db) -> Pin<Box<dyn Future<Output = Result<String, ApiError>> + Send + 'a>>;

/// One job: a Lambda function of its own in AWS, invoked on `schedule`.
pub struct Job {
    pub name: &'static str,
    pub summary: &'static str,
    /// An EventBridge schedule expression: `rate(1 day)`, `cron(...)`.
    pub schedule: &'static str,
    /// A metric (namespace `Conduit`) whose every datapoint above zero
    /// deserves an operator's look, with what it means: the job's alarm.
    pub alarm: (&'static str, &'static str),
    /// Runs once; answers a summary of what it did.
    pub run: RunFn,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").field("name", &self.name).finish()
    }
}
