//! Creating the table (local development and tests; in AWS the template
//! makes it) is safe to repeat and to race: the SDK retries a timed-out
//! CreateTable that may have gone through, and two processes may start at
//! once on an empty engine.

use conduit_common::db::Db;
use conduit_tests::spawn_app;

#[tokio::test]
async fn two_processes_creating_the_same_table_at_once_both_start() {
    let app = spawn_app().await;
    let table = format!("race-{}", ulid::Ulid::new());
    let first = Db::new(app.state.db.client.clone(), &table);
    let second = Db::new(app.state.db.client.clone(), &table);

    let (a, b) = tokio::join!(first.ensure_table(), second.ensure_table());
    let (a, b) = (a.expect("first start"), b.expect("second start"));
    assert!(a || b, "neither found the table missing");

    // Ready for use by both, stream and TTL included; a third start finds it.
    assert!(!first.ensure_table().await.expect("third start"));
    let ttl = first
        .client
        .describe_time_to_live()
        .table_name(&table)
        .send()
        .await
        .expect("ttl described");
    let ttl = ttl.time_to_live_description().expect("a ttl description");
    assert_eq!(ttl.attribute_name(), Some("expires_at"));
    let described = first
        .client
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .expect("table described");
    let described = described.table().expect("a table");
    assert_eq!(
        described.table_status(),
        Some(&aws_sdk_dynamodb::types::TableStatus::Active)
    );
    assert!(
        described
            .stream_specification()
            .is_some_and(|s| s.stream_enabled())
    );
    if std::env::var("TEST_DYNAMODB_ENDPOINT").is_ok_and(|e| !e.is_empty()) {
        first
            .client
            .delete_table()
            .table_name(&table)
            .send()
            .await
            .expect("table deleted");
    }
}
