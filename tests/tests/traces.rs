//! Traces: a request's trace shows each DynamoDB call it made, with the
//! capacity the call consumed, and the stream consumer work its write
//! caused, continued from the trace the item carries.
//!
//! A test binary of its own, not a module of tests/api: `tracing` caches
//! each callsite's interest process-wide, and among the other tests'
//! subscribers, set and dropped on many threads, the cache lost this
//! test's spans (in CI). Here the traces' subscriber is the process's
//! default before any span is made, as in a function.

use conduit_common::telemetry::traces::{Traces, span_tree};
use conduit_tests::spawn_app_with_consumers;

#[tokio::test]
async fn a_request_trace_shows_its_dynamodb_calls_and_the_consumer_work_it_caused() {
    let (traces, kept) = Traces::in_memory("test");
    tracing::subscriber::set_global_default(traces.subscriber()).unwrap();
    let app = spawn_app_with_consumers(&[]).await;
    let author = app.register("author").await;
    let reader = app.register("reader").await;
    app.post(
        "/api/profiles/author/follow",
        serde_json::json!({}),
        Some(&reader),
    )
    .await;

    app.create_article(&author, "Traced", &[]).await;
    app.drain().await;
    traces.export().await;

    let spans = kept.lock().unwrap();
    let tree = span_tree(&spans);
    let request = spans
        .iter()
        .find(|span| span.name == "create_article")
        .unwrap_or_else(|| panic!("no request span in\n{tree}"));
    let trace = request.span_context.trace_id();
    let of_trace = |name: &'static str| {
        spans.iter().filter(move |span| {
            span.span_context.trace_id() == trace && span.name.starts_with(name)
        })
    };
    let ids_in_trace: Vec<_> = of_trace("")
        .map(|span| span.span_context.span_id())
        .collect();

    // The consumer's work on the new article, in the request's trace, under
    // the span that wrote it.
    let record = of_trace("fan_out_feeds INSERT")
        .next()
        .unwrap_or_else(|| panic!("the fan-out is not in the request's trace:\n{tree}"));
    assert!(record.parent_span_is_remote, "{tree}");
    assert!(ids_in_trace.contains(&record.parent_span_id), "{tree}");
    assert!(
        of_trace("DynamoDB.").any(|op| op.parent_span_id == record.span_context.span_id()),
        "the fan-out's calls:\n{tree}"
    );

    // The request's own DynamoDB operations, each with its attempts, and
    // each attempt with the capacity it consumed. (The fan-out's write
    // finds the article delivered already, inline: refused, it consumes
    // nothing.)
    let operations: Vec<_> = of_trace("DynamoDB.")
        .filter(|op| op.parent_span_id != record.span_context.span_id())
        .collect();
    assert!(
        operations
            .iter()
            .any(|op| op.name == "DynamoDB.TransactWriteItems"),
        "the article's write:\n{tree}"
    );
    for operation in &operations {
        let attempts: Vec<_> = of_trace("try_attempt")
            .filter(|attempt| attempt.parent_span_id == operation.span_context.span_id())
            .collect();
        assert!(
            !attempts.is_empty(),
            "{} has no attempt:\n{tree}",
            operation.name
        );
        assert!(
            attempts.iter().any(|attempt| attempt
                .attributes
                .iter()
                .any(|kv| kv.key.as_str() == "aws.dynamodb.consumed_capacity")),
            "{} reports no consumed capacity:\n{tree}",
            operation.name
        );
    }
}
