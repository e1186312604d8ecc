//! What the local server adds around the shared handlers, usable by the
//! tests too: HTTP on a local socket, the event source mapping that feeds
//! the stream consumers, and the embedded engine's stream kept to
//! DynamoDB's 24 hours.

pub mod dev_keys;
pub mod engine;
pub mod event_source;
pub mod lambda_invoke;
pub mod server;
pub mod stream_retention;

#[cfg(test)]
mod stream_cost;
#[cfg(test)]
mod testing;
