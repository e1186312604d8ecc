//! When the database fails through no fault of ours, clients get a 503 with
//! `Retry-After` in the API's error format, within the time budget
//! (`conduit_common::state::budget`), and the API recovers by itself when
//! the database comes back. Faults are injected between the API and a real
//! engine by a proxy (`conduit_tests::faults`).

use std::time::{Duration, Instant};

use conduit_common::state::budget;
use conduit_tests::{Fault, TestApp, TestResponse, spawn_app_with_faults};
use serde_json::json;

/// Asserts the answer an outage must give.
fn assert_unavailable(response: &TestResponse, what: &str) {
    assert_eq!(response.status, 503, "{what}: {:?}", response.body);
    assert_eq!(response.header("retry-after"), Some("1"), "{what}");
    assert_eq!(
        response.error("server"),
        "temporarily unavailable, retry shortly",
        "{what}"
    );
    assert!(response.header("x-request-id").is_some(), "{what}");
}

/// The reads and the login a user meets first, each timed.
async fn everyday_calls(app: &TestApp, token: &str) -> Vec<(&'static str, TestResponse, Duration)> {
    let mut answers = Vec::new();
    let started = Instant::now();
    let list = app.get("/api/articles", None).await;
    answers.push(("list articles", list, started.elapsed()));
    let started = Instant::now();
    let profile = app.get("/api/profiles/jake", Some(token)).await;
    answers.push(("get profile", profile, started.elapsed()));
    let started = Instant::now();
    let login = app.login("jake", "password123").await;
    answers.push(("login", login, started.elapsed()));
    answers
}

#[tokio::test]
async fn a_stopped_database_is_a_fast_503_and_the_api_recovers_when_it_returns() {
    let (app, proxy) = spawn_app_with_faults().await;
    let token = app.register("jake").await;
    app.create_article(&token, "Before the outage", &["rust"])
        .await;

    proxy.set(Fault::Down).await;
    for (what, response, took) in everyday_calls(&app, &token).await {
        assert_unavailable(&response, what);
        // Refused connections are retried with short back-offs, not waited on.
        assert!(took < Duration::from_secs(1), "{what} took {took:?}");
    }

    proxy.set(Fault::None).await;
    for (what, response, _) in everyday_calls(&app, &token).await {
        assert_eq!(
            response.status, 200,
            "{what} after recovery: {:?}",
            response.body
        );
    }
    assert_eq!(
        app.get("/api/articles", None).await.body["articlesCount"],
        1
    );
}

#[tokio::test]
async fn a_database_that_does_not_answer_is_a_503_within_the_time_budget() {
    let (app, proxy) = spawn_app_with_faults().await;
    app.register("jake").await;

    proxy.set(Fault::Delay(Duration::from_secs(30))).await;
    let started = Instant::now();
    let response = app.get("/api/articles", None).await;
    let took = started.elapsed();
    assert_unavailable(&response, "list articles");
    // One call's budget, retries included, with room for a slow machine;
    // far inside the function's 10 s timeout.
    assert!(took >= budget::ATTEMPT, "gave up after {took:?}");
    assert!(
        took < budget::CALL + Duration::from_secs(1),
        "took {took:?}"
    );

    proxy.set(Fault::None).await;
    assert_eq!(app.get("/api/articles", None).await.status, 200);
}

#[tokio::test]
async fn throttling_is_a_503_for_reads_and_writes_and_passes() {
    let (app, proxy) = spawn_app_with_faults().await;
    let token = app.register("jake").await;

    proxy.set(Fault::Throttle).await;
    let started = Instant::now();
    assert_unavailable(&app.get("/api/articles", None).await, "list articles");
    let post = json!({"article": {"title": "T", "description": "d", "body": "b"}});
    assert_unavailable(
        &app.post("/api/articles", post.clone(), Some(&token)).await,
        "create",
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    proxy.set(Fault::None).await;
    let created = app.post("/api/articles", post, Some(&token)).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(
        app.get("/api/articles", None).await.body["articlesCount"],
        1
    );
}

#[tokio::test]
async fn bugs_stay_500_and_are_not_taken_for_outages() {
    // A table that does not exist is our misconfiguration, not an outage.
    let app = conduit_tests::spawn_app_with(&[]).await;
    let missing = conduit_common::db::Db::new(app.state.db.client.clone(), "no-such-table");
    let err = missing
        .get(conduit_common::db::key("U#x", "PROFILE"))
        .await
        .unwrap_err();
    assert_eq!(err.status_code(), 500, "{err}");
}
