//! A scheduled job: work that runs on a timetable rather than after a
//! write (an EventBridge schedule in AWS; a command locally), such as the
//! counters' repair.

use std::future::Future;
use std::pin::Pin;

use crate::db::Db;
use crate::error::ApiError;

pub type RunFn = for<'a> fn(
    &'a JobContext,
) -> Pin<Box<dyn Future<Output = Result<String, ApiError>> + Send + 'a>>;

/// What a job's run is given: the table, and the SDK's configuration for
/// the other AWS services it may use.
pub struct JobContext {
    pub db: Db,
    pub sdk: aws_config::SdkConfig,
}

/// What a job's role may touch, beyond its own logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobAccess {
    /// Read and write the table.
    Table,
    /// Read and replace the token signing key set (the JWT secret's
    /// parameter); nothing of the table.
    SigningKeys,
}

/// One job: a Lambda function of its own in AWS, invoked on `schedule`.
pub struct Job {
    pub name: &'static str,
    pub summary: &'static str,
    /// An EventBridge schedule expression: `rate(1 day)`, `cron(...)`.
    pub schedule: &'static str,
    pub access: JobAccess,
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
