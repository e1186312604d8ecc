//! The traces themselves: see [`super`].

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{SpanId, TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter, SpanProcessor};
use tracing::{Metadata, Span};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::Layer;
use tracing_subscriber::registry::LookupSpan;

/// Where finished spans go.
enum Sink {
    Otlp(Box<opentelemetry_otlp::SpanExporter>),
    Print,
    /// Kept for whoever reads them ([`Traces::in_memory`]: tests).
    Memory(Arc<Mutex<Vec<SpanData>>>),
}

/// This process's traces: the provider that makes the spans, the spans an
/// invocation finished, and where they go.
pub struct Traces {
    provider: SdkTracerProvider,
    finished: Finished,
    sink: Sink,
}

static TRACES: OnceLock<Traces> = OnceLock::new();

impl Traces {
    /// As the environment asks (module docs); `None`: off.
    pub fn from_env(service: &str) -> Result<Option<Traces>, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let sink = if var("OTEL_EXPORTER_OTLP_ENDPOINT").is_some()
            || var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some()
        {
            use opentelemetry_otlp::WithHttpConfig;
            let mut exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_http_client(super::otlp_client::OtlpClient::default())
                .build()
                .map_err(|err| format!("the OTLP exporter: {err}"))?;
            exporter.set_resource(&resource(service));
            Sink::Otlp(Box::new(exporter))
        } else if var("TRACES").as_deref() == Some("print") {
            Sink::Print
        } else {
            return Ok(None);
        };
        Ok(Some(Traces::with_sink(service, sink)))
    }

    /// Spans kept in memory, for a test to read ([`export`] moves them to
    /// the returned list).
    pub fn in_memory(service: &str) -> (Traces, Arc<Mutex<Vec<SpanData>>>) {
        let kept = Arc::new(Mutex::new(Vec::new()));
        (Traces::with_sink(service, Sink::Memory(kept.clone())), kept)
    }

    fn with_sink(service: &str, sink: Sink) -> Traces {
        let finished = Finished::default();
        let provider = SdkTracerProvider::builder()
            // X-Ray's ids (the time in the trace id's first half): X-Ray
            // takes no other, and a W3C id would do as well elsewhere.
            .with_id_generator(opentelemetry_aws::trace::XrayIdGenerator::default())
            .with_span_processor(finished.clone())
            .with_resource(resource(service))
            .build();
        Traces {
            provider,
            finished,
            sink,
        }
    }

    /// The `tracing` layer that turns the traced spans into this provider's.
    pub fn layer<S>(&self) -> impl Layer<S> + use<S>
    where
        S: tracing::Subscriber + for<'span> LookupSpan<'span>,
    {
        tracing_opentelemetry::layer()
            .with_tracer(self.provider.tracer("conduit"))
            // Neither idle time nor the source location and thread of
            // every span: each is attributes made per span, and a request
            // makes about eight.
            .with_tracked_inactivity(false)
            .with_location(false)
            .with_threads(false)
            // Decided by metadata alone, so tracing caches each callsite's
            // interest and an untraced span or event costs a load. Right
            // where the process has one subscriber (a function, the local
            // server, tests/traces.rs); among many set and dropped on many
            // threads (the API tests) that cache lost spans.
            .with_filter(
                tracing_subscriber::filter::filter_fn(traced)
                    // The SDK's spans are at debug: the trace-level events
                    // of the SDK, hyper and the engine are not even looked up.
                    .with_max_level_hint(tracing::level_filters::LevelFilter::DEBUG),
            )
    }

    /// The spans finished since the last call. When printing, whole
    /// traces only, each once its root has ended: a local server runs
    /// requests side by side.
    fn take_finished(&self) -> Vec<SpanData> {
        let mut finished = self.finished.0.lock().unwrap_or_else(|p| p.into_inner());
        if !matches!(self.sink, Sink::Print) {
            return std::mem::take(&mut *finished);
        }
        let ended: std::collections::HashSet<_> = finished
            .iter()
            .filter(|s| s.parent_span_is_remote || s.parent_span_id == SpanId::INVALID)
            .map(|s| s.span_context.trace_id())
            .collect();
        let (done, open) = finished
            .drain(..)
            .partition(|s| ended.contains(&s.span_context.trace_id()));
        *finished = open;
        done
    }

    /// A subscriber of these traces alone, for a test to set as its
    /// default.
    pub fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync + use<> {
        use tracing_subscriber::layer::SubscriberExt;
        tracing_subscriber::registry().with(self.layer())
    }

    /// Makes these the process's traces, which [`export`] hands over.
    pub fn install(self) -> Result<&'static Traces, String> {
        TRACES
            .set(self)
            .map_err(|_| "traces installed twice".to_owned())?;
        Ok(TRACES.get().expect("just set"))
    }

    /// Hands the spans finished since the last call to where they go.
    pub async fn export(&self) {
        let spans = self.take_finished();
        if spans.is_empty() {
            return;
        }
        match &self.sink {
            Sink::Otlp(exporter) => {
                if let Err(err) = exporter.export(spans).await {
                    tracing::warn!(error = %err, "could not export the traces");
                }
            }
            Sink::Print => eprint!("{}", span_tree(&spans)),
            Sink::Memory(kept) => kept.lock().unwrap().extend(spans),
        }
    }
}

fn resource(service: &str) -> Resource {
    Resource::builder_empty()
        .with_service_name(service.to_owned())
        .build()
}

/// Hands the spans finished since the last call to where they go; nothing
/// when traces are off. Called when an invocation (a local request) ends.
pub async fn export() {
    if let Some(traces) = TRACES.get() {
        traces.export().await;
    }
}

/// Which spans are traced: ours (this workspace's crates, info and up) and
/// the SDK's span of each DynamoDB operation ("DynamoDB.GetItem") and of
/// each attempt ("try_attempt"). Not the SDK's dozen smaller steps.
fn traced(metadata: &Metadata<'_>) -> bool {
    if !metadata.is_span() {
        return false;
    }
    let target = metadata.target();
    if target.starts_with("aws_sdk_dynamodb") {
        return metadata.name().starts_with("DynamoDB.");
    }
    if target.starts_with("aws_smithy_runtime") {
        return metadata.name() == "try_attempt";
    }
    (target.starts_with("conduit")
        || target.starts_with("functions")
        || target.starts_with("local"))
        && *metadata.level() <= tracing::Level::INFO
}

/// Collects an invocation's finished spans, for [`export`].
#[derive(Debug, Clone, Default)]
struct Finished(Arc<Mutex<Vec<SpanData>>>);

impl SpanProcessor for Finished {
    fn on_start(&self, _: &mut opentelemetry_sdk::trace::Span, _: &opentelemetry::Context) {}

    fn on_end(&self, span: SpanData) {
        // An attempt of no traced operation: the streams client's polling.
        let orphan = span.name == "try_attempt" && span.parent_span_id == SpanId::INVALID;
        if span.span_context.is_sampled() && !orphan {
            self.0.lock().unwrap_or_else(|p| p.into_inner()).push(span);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _: Duration) -> OTelSdkResult {
        Ok(())
    }
}

/// Records on the current span (the SDK's, of a DynamoDB call's attempt)
/// the capacity the call consumed.
pub fn record_capacity(units: f64) {
    Span::current().set_attribute("aws.dynamodb.consumed_capacity", units);
}

/// Makes `span` continue the X-Ray trace of `header` (Lambda's
/// `Root=…;Parent=…;Sampled=…`): its segment is the span's parent.
pub fn continue_xray(span: &Span, header: &str) {
    let carrier = HashMap::from([("x-amzn-trace-id".to_owned(), header.to_owned())]);
    let parent = opentelemetry_aws::trace::XrayPropagator::new().extract(&carrier);
    if parent.span().span_context().is_valid() {
        let _ = span.set_parent(parent);
    }
}

/// The current span's trace as a W3C `traceparent`, for an item to carry
/// ([`super::ITEM_ATTRIBUTE`]); none when it is not traced.
pub fn traceparent() -> Option<String> {
    let context = Span::current().context();
    let span = context.span();
    let span = span.span_context();
    span.is_sampled().then(|| {
        format!(
            "00-{}-{}-{:02x}",
            span.trace_id(),
            span.span_id(),
            span.trace_flags().to_u8()
        )
    })
}

/// Makes `span` continue the trace of `traceparent` (an item's
/// [`super::ITEM_ATTRIBUTE`]).
pub fn continue_from(span: &Span, traceparent: &str) {
    let carrier = HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
    let parent = TraceContextPropagator::new().extract(&carrier);
    if parent.span().span_context().is_valid() {
        let _ = span.set_parent(parent);
    }
}

/// The spans as trees, one per root (a span whose parent is not among
/// them), children in start order: the name, the duration and the
/// attributes.
pub fn span_tree(spans: &[SpanData]) -> String {
    let ids: std::collections::HashSet<_> =
        spans.iter().map(|s| s.span_context.span_id()).collect();
    let mut out = String::new();
    let mut roots: Vec<&SpanData> = spans
        .iter()
        .filter(|s| !ids.contains(&s.parent_span_id))
        .collect();
    roots.sort_by_key(|s| s.start_time);
    for root in roots {
        write_span(&mut out, spans, root, 0);
    }
    out
}

fn write_span(out: &mut String, spans: &[SpanData], span: &SpanData, depth: usize) {
    let took = span
        .end_time
        .duration_since(span.start_time)
        .unwrap_or_default();
    let _ = write!(
        out,
        "{:indent$}{} {:.1?}",
        "",
        span.name,
        took,
        indent = depth * 2
    );
    for attribute in &span.attributes {
        if !attribute.key.as_str().starts_with("code.")
            && !attribute.key.as_str().starts_with("thread.")
        {
            let _ = write!(out, " {}={}", attribute.key, attribute.value);
        }
    }
    out.push('\n');
    let mut children: Vec<&SpanData> = spans
        .iter()
        .filter(|s| s.parent_span_id == span.span_context.span_id())
        .collect();
    children.sort_by_key(|s| s.start_time);
    for child in children {
        write_span(out, spans, child, depth + 1);
    }
}
