//! Traces: where a request spent its time, as OpenTelemetry spans.
//!
//! `tracing`'s spans become OpenTelemetry's (tracing-opentelemetry): the
//! pipeline's `request` span; the SDK's own span per DynamoDB operation and
//! per attempt, the attempt's with the capacity it consumed (`db::capacity`);
//! a consumer's `batch` span and a `record` span per stream record. A record
//! whose item carries the trace of the request that wrote it (`trace`,
//! [`traceparent`]) continues that trace, so a request's trace shows the
//! consumer work its write caused.
//!
//! Off unless asked for, and then the spans of an invocation are kept in
//! memory and handed over when it ends ([`export`]), after its response:
//! - `OTEL_EXPORTER_OTLP_ENDPOINT`: sent over OTLP/HTTP. In AWS, to the
//!   ADOT collector layer beside the function, which forwards them to
//!   X-Ray; locally, to any OTLP viewer (Jaeger: `http://localhost:4318`).
//!   In Lambda the request span continues the X-Ray trace Lambda started,
//!   and its ids are X-Ray's.
//! - `TRACES=print` (`make dev TRACES=print`): each request's span tree
//!   printed on stderr.
//!
//! Off, no layer is installed: a span costs what `tracing` costs without a
//! subscriber that wants it.

mod otel;
mod otlp_client;
pub use otel::{
    Traces, continue_from, continue_xray, export, record_capacity, span_tree, traceparent,
};

/// The item attribute that carries the trace of the request that wrote it
/// (a W3C `traceparent`), for the consumers its write triggers.
pub const ITEM_ATTRIBUTE: &str = "trace";
