//! The Conduit endpoints. Each is a plain async function over a [`Ctx`],
//! declared once in [`routes`]; a Lambda binary in `src/bin/` serves one
//! route (or, for GraphQL, both methods of its path), and the local server
//! and the tests serve them all in-process.
//! The stream consumers ([`consumers`]) and the scheduled jobs ([`jobs`])
//! are declared the same way.
//!
//! [`Ctx`]: conduit_common::http::Ctx

pub mod consumers;
pub mod graphql;
pub mod handlers;
pub mod jobs;
pub mod openapi;
pub mod routes;
pub mod static_files;

pub use consumers::CONSUMERS;
pub use jobs::JOBS;
pub use routes::ROUTES;

/// Entry point of every function binary: the routes it serves.
pub fn run(
    routes: &'static [&'static conduit_common::http::Route],
) -> Result<(), lambda_http::Error> {
    conduit_common::lambda::run(routes)
}

/// Entry point of every stream consumer's binary.
pub fn run_consumer(
    consumer: &'static conduit_common::events::Consumer,
) -> Result<(), conduit_common::lambda_runtime::Error> {
    conduit_common::lambda::run_consumer(consumer)
}

/// Entry point of every scheduled job's binary.
pub fn run_job(
    job: &'static conduit_common::events::Job,
) -> Result<(), conduit_common::lambda_runtime::Error> {
    conduit_common::lambda::run_job(job)
}

use conduit_common::lambda_http;
