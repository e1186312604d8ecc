//! The Conduit endpoints. Each is a plain async function over a [`Ctx`],
//! declared once in [`routes`]; a Lambda binary in `src/bin/` serves one
//! route, and the local server and the tests serve them all in-process.
//!
//! [`Ctx`]: conduit_common::http::Ctx

pub mod handlers;
pub mod openapi;
pub mod routes;

pub use routes::ROUTES;

/// Entry point of every function binary.
pub fn run(route: &'static conduit_common::http::Route) -> Result<(), lambda_http::Error> {
    conduit_common::lambda::run(route)
}

use conduit_common::lambda_http;
