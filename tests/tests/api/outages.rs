//! When the database fails through no fault of ours, clients get a 503 with
//! `Retry-After` in the API's error format, within the time budget
//! (`conduit_common::config::Budget`), and the API recovers by itself when
//! the database comes back. Faults are injected between the API and a real
//! engine by a proxy (`conduit_tests::faults`). No assertion here is a
//! wall-clock bound the machine's load could break: each is measured
//! against a delay or a bound the test set far away.

use std::time::{Duration, Instant};

use conduit_common::config::Budget;
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
async fn a_stopped_database_is_a_503_without_waiting_and_the_api_recovers_when_it_returns() {
    // Every time bound two minutes away: what ends the calls is the
    // refusal, not a timeout.
    let faulty = spawn_app_with_faults(Budget::UNHURRIED).await;
    let (app, proxy) = (&faulty.app, &faulty.proxy);
    let token = faulty.direct.register("jake").await;
    faulty
        .direct
        .create_article(&token, "Before the outage", &["rust"])
        .await;

    proxy.set(Fault::Down).await;
    for (what, response, took) in everyday_calls(app, &token).await {
        assert_unavailable(&response, what);
        // Refused connections are retried with short back-offs and given
        // up on, not waited on until a timeout fires.
        assert!(took < Budget::UNHURRIED.connect, "{what} took {took:?}");
    }

    proxy.set(Fault::None).await;
    for (what, response, _) in everyday_calls(app, &token).await {
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
    let budget = Budget::PRODUCTION;
    let faulty = spawn_app_with_faults(budget).await;
    let (app, proxy) = (&faulty.app, &faulty.proxy);
    faulty.direct.register("jake").await;

    // Far longer than the budget: a 503 before it has passed is the
    // budget at work, whatever the machine's load.
    let silence = Duration::from_secs(60);
    proxy.set(Fault::Delay(silence)).await;
    let started = Instant::now();
    let response = app.get("/api/articles", None).await;
    let took = started.elapsed();
    assert_unavailable(&response, "list articles");
    assert!(took >= budget.attempt, "gave up after {took:?}");
    assert!(took < silence, "took {took:?}");

    // The client gets a 503 with Retry-After: one that honours it is
    // served again once the database answers. (A retry, since on a busy
    // machine a slow engine may exceed the production budget by itself.)
    proxy.set(Fault::None).await;
    let mut answer = app.get("/api/articles", None).await;
    for _ in 0..5 {
        if answer.status != 503 {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        answer = app.get("/api/articles", None).await;
    }
    assert_eq!(answer.status, 200, "{:?}", answer.body);
}

#[tokio::test]
async fn throttling_is_a_503_for_reads_and_writes_and_passes() {
    let faulty = spawn_app_with_faults(Budget::UNHURRIED).await;
    let (app, proxy) = (&faulty.app, &faulty.proxy);
    let token = faulty.direct.register("jake").await;

    proxy.set(Fault::Throttle).await;
    assert_unavailable(&app.get("/api/articles", None).await, "list articles");
    let post = json!({"article": {"title": "T", "description": "d", "body": "b"}});
    assert_unavailable(
        &app.post("/api/articles", post.clone(), Some(&token)).await,
        "create",
    );
    // Throttling is retried (a call as many times as the budget allows)
    // before the client hears of it.
    let throttled = proxy.throttled();
    let attempts = Budget::UNHURRIED.max_attempts as usize;
    assert!(throttled > attempts, "{throttled} throttled requests");

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
