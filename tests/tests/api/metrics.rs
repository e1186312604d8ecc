//! What the metrics count: every failure, whichever API answered it. A
//! GraphQL outage answers 503 in a response of its own, and a field's
//! failure comes back in a 200; both must reach the same metrics as
//! REST's, which the alarms (the service's error rate, each function's
//! rollback alarm on `Faults`) watch.

use std::collections::HashMap;

use conduit_common::config::Budget;
use conduit_common::telemetry::metrics::name;
use conduit_tests::{
    Fault, TestApp, repo_file, spawn_app, spawn_app_with_consumers, spawn_app_with_faults,
};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use serde_json::json;

/// What `request` recorded: each metric's name, labels and value.
/// Recorded on this thread only: the tests run on tokio's current-thread
/// runtime, so the request (and what it spawns) does too.
async fn recorded<F: Future>(request: F) -> (F::Output, Vec<(String, Labels, DebugValue)>) {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let output = {
        let _local = metrics::set_default_local_recorder(&recorder);
        request.await
    };
    let values = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let key = key.key();
            let labels = key
                .labels()
                .map(|label| (label.key().to_owned(), label.value().to_owned()))
                .collect();
            (key.name().to_owned(), labels, value)
        })
        .collect();
    (output, values)
}

type Labels = Vec<(String, String)>;

/// The counters `request` recorded, by name and route (`None`: the
/// service-wide series).
async fn counted<F: Future>(request: F) -> (F::Output, HashMap<(String, Option<String>), u64>) {
    let (output, values) = recorded(request).await;
    let counts = values
        .into_iter()
        .filter_map(|(name, labels, value)| {
            let DebugValue::Counter(count) = value else {
                return None;
            };
            let route = labels.into_iter().find(|(key, _)| key == "Route");
            Some(((name, route.map(|(_, value)| value)), count))
        })
        .collect();
    (output, counts)
}

fn count(counts: &HashMap<(String, Option<String>), u64>, metric: &str, route: &str) -> u64 {
    counts
        .get(&(metric.to_owned(), Some(route.to_owned())))
        .copied()
        .unwrap_or(0)
}

const QUERY: &str = "{ articles { articlesCount } tags }";

#[tokio::test]
async fn a_graphql_outage_counts_as_a_dependency_failure_as_a_rest_one_does() {
    let faulty = spawn_app_with_faults(Budget::UNHURRIED).await;
    faulty.proxy.set(Fault::Down).await;
    let app = &faulty.app;

    let (rest, counts) = counted(app.get("/api/articles", None)).await;
    assert_eq!(rest.status, 503);
    assert_eq!(
        count(&counts, name::DEPENDENCY_FAILURES, "list_articles"),
        1
    );

    let (graphql, counts) = counted(app.graphql(QUERY, json!({}), None)).await;
    assert_eq!(graphql.status, 503, "{:?}", graphql.body);
    assert_eq!(graphql.header("retry-after"), Some("1"));
    assert_eq!(count(&counts, name::DEPENDENCY_FAILURES, "graphql"), 1);
    assert_eq!(count(&counts, name::STATUS_5XX, "graphql"), 1);
    assert_eq!(count(&counts, name::FAULTS, "graphql"), 0, "not a bug");
}

#[tokio::test]
async fn a_failing_graphql_field_counts_as_a_fault_as_a_rest_500_does() {
    // A table that does not exist is a misconfiguration: a bug, not an
    // outage (outages.rs).
    let app = spawn_app().await.another_process_configured(|config| {
        config.table_name = "no-such-table".into();
    });
    let (rest, counts) = counted(app.get("/api/tags", None)).await;
    assert_eq!(rest.status, 500);
    assert_eq!(count(&counts, name::FAULTS, "list_tags"), 1);

    let (graphql, counts) = counted(app.graphql(QUERY, json!({}), None)).await;
    assert_eq!(
        graphql.status, 200,
        "the failure is a field's: {:?}",
        graphql.body
    );
    assert_eq!(
        graphql.body["errors"][0]["extensions"]["code"],
        "INTERNAL_SERVER_ERROR"
    );
    assert_eq!(count(&counts, name::FAULTS, "graphql"), 1);
    assert_eq!(count(&counts, name::STATUS_5XX, "graphql"), 1);

    // What the GraphQL function's rollback alarm watches: its routes'
    // Faults, the series this failure was counted in.
    let template = repo_file("infra/template.yaml");
    let alarm = template
        .split("\n  GraphqlRollbackAlarm:\n")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .expect("the GraphQL function's rollback alarm");
    assert!(
        alarm.contains(&format!("MetricName: {}", name::FAULTS))
            && alarm.contains("{ Name: Route, Value: graphql }"),
        "{alarm}"
    );
}

#[tokio::test]
async fn a_graphql_answer_without_failures_counts_as_ok() {
    let app: TestApp = spawn_app().await;
    let (graphql, counts) = counted(app.graphql(QUERY, json!({}), None)).await;
    assert_eq!(graphql.status, 200);
    assert_eq!(count(&counts, name::REQUESTS, "graphql"), 1);
    for failure in [
        name::STATUS_5XX,
        name::FAULTS,
        name::DEPENDENCY_FAILURES,
        name::STATUS_4XX,
    ] {
        assert_eq!(count(&counts, failure, "graphql"), 0, "{failure}");
    }
}

#[tokio::test]
async fn a_consumer_counts_its_records_its_failures_and_its_lag() {
    let app = spawn_app_with_consumers(&[]).await;
    let author = app.register("author").await;
    for title in ["One", "Two", "Poison"] {
        app.create_article(&author, title, &[]).await;
    }
    // Refuses the article titled "Poison", every time.
    let events = app.event_source(app.state.db.clone(), crate::streams::ONLY_REFUSING);
    let (drained, values) = recorded(events.drain()).await;
    drained.unwrap();

    let of = |metric: &str| -> Vec<&DebugValue> {
        values
            .iter()
            .filter(|(name, labels, _)| {
                name == metric && labels == &[("Consumer".to_owned(), "refusing".to_owned())]
            })
            .map(|(_, _, value)| value)
            .collect()
    };
    // One batch of the three, then the poison alone twice more (its
    // attempts), each stopped by it.
    assert_eq!(of(name::STREAM_RECORDS), [&DebugValue::Counter(5)]);
    assert_eq!(of(name::STREAM_FAILURES), [&DebugValue::Counter(3)]);
    let [DebugValue::Histogram(lags)] = of(name::STREAM_LAG)[..] else {
        panic!("one lag series: {values:?}");
    };
    assert_eq!(lags.len(), 3, "one per batch");
    // From the records' creation times, not from the epoch (a record
    // without one): under a day, however slow the machine.
    let day_ms = 86_400_000.0;
    assert!(
        lags.iter()
            .all(|lag| (0.0..day_ms).contains(&lag.into_inner())),
        "{lags:?}"
    );
}
