//! The event-driven half: work that follows a write, run by functions the
//! table's change stream (DynamoDB Streams) triggers.
//!
//! - [`change`]: a stream record as the consumers see it, images decoded;
//! - [`filter`]: which records a consumer receives, one definition for the
//!   event source mapping's `FilterCriteria` in AWS and the local poller;
//! - [`consumer`]: a consumer's declaration and how it runs a batch
//!   (in order, stopping at the first failure, reported as a partial batch
//!   failure so that only the rest is retried).
//!
//! - [`job`]: a scheduled job's declaration (work on a timetable).
//!
//! The consumers themselves are declared in `functions/src/consumers.rs`,
//! the jobs in `functions/src/jobs.rs`.

pub mod change;
pub mod consumer;
pub mod filter;
pub mod job;

pub use change::{Change, ChangeKind};
pub use consumer::Consumer;
pub use filter::{KeyMatch, RecordFilter};
pub use job::{Job, JobAccess, JobContext};
