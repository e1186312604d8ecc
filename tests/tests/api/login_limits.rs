//! Login limits: guessing is bounded, and nobody can lock a user out. The
//! attackers and the victim are distinct clients over real HTTP, each
//! connecting from its own loopback address (127.0.0.<n>).

use std::time::{Duration, Instant};

use conduit_common::config::LoginLimits;
use conduit_common::domain::Role;
use conduit_common::lambda_http::http::StatusCode;
use conduit_tests::over_http::HttpClient;
use conduit_tests::{LostAnswer, TestApp, heavy_test, spawn_app_with};
use futures::StreamExt;
use serde_json::json;

const VICTIM: &str = "victim@example.com";

/// The login windows in these tests: a day, the longest allowed.
const WINDOW: Duration = Duration::from_secs(86_400);

/// The app, with `extra` settings and day-long login windows, once the
/// current window has at least ten minutes left. Counters live in fixed
/// windows (numbered from 1970), and a test that crossed into the next
/// would find them reset, whatever it asserts: this keeps every test in
/// one window however slow the machine (it waits only when started in the
/// last ten minutes of a UTC day).
async fn app_with(extra: &[(&str, &str)]) -> TestApp {
    let window = WINDOW.as_secs().to_string();
    let mut settings = vec![("LOGIN_WINDOW_SECONDS", window.as_str())];
    settings.extend_from_slice(extra);
    let now = conduit_common::time::epoch_secs(std::time::SystemTime::now());
    let left = WINDOW.as_secs() - now % WINDOW.as_secs();
    if left < 600 {
        tokio::time::sleep(Duration::from_secs(left + 1)).await;
    }
    spawn_app_with(&settings).await
}

/// The documented defaults (but the window), as the tests' app runs them.
fn limits(app: &TestApp) -> LoginLimits {
    app.state.config.login_limits
}

/// `count` wrong guesses at the victim's password from `client`, up to 10
/// at a time; how many were checked (401) and refused unchecked (429).
async fn guess(client: &HttpClient, count: usize) -> (usize, usize) {
    let statuses: Vec<StatusCode> = futures::stream::iter(0..count)
        .map(|n| async move { client.login(VICTIM, &format!("guess-{n}")).await.0 })
        .buffer_unordered(10)
        .collect()
        .await;
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(checked + refused, count, "only 401 or 429: {statuses:?}");
    (checked, refused)
}

#[tokio::test]
async fn an_attacker_on_one_address_cannot_lock_the_victim_out() {
    let _alone = heavy_test().await;
    let app = app_with(&[]).await;
    app.seed_user("victim", Role::User).await;
    let http = app.serve_http().await;

    let (checked, refused) = guess(&http.client_from(2), 1_000).await;
    let per_pair = limits(&app).per_account_and_client as usize;
    assert_eq!((checked, refused), (per_pair, 1_000 - per_pair));

    let (status, body) = http.client_from(3).login(VICTIM, "password123").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The attacker's address may still sign in to other accounts.
    app.seed_user("bystander", Role::User).await;
    let (status, _) = http
        .client_from(2)
        .login("bystander@example.com", "password123")
        .await;
    assert_eq!(status, StatusCode::OK);
}

/// On the embedded engine only: 4,000 logins in bursts of 200 on one
/// account's counters made DynamoDB Local, on a busy 2-core machine,
/// answer a few of them with errors past every retry (503s, twice in a
/// row, once this session's other tests had filled its stream). The limits'
/// arithmetic does not depend on the engine, and the other tests here run
/// on both.
#[tokio::test]
async fn attackers_on_twenty_addresses_slow_the_account_down_but_cannot_lock_it() {
    if std::env::var("TEST_DYNAMODB_ENDPOINT").is_ok_and(|e| !e.is_empty()) {
        return;
    }
    let _alone = heavy_test().await;
    let app = app_with(&[]).await;
    app.seed_user("victim", Role::User).await;
    let http = app.serve_http().await;
    let limits = limits(&app);

    let attackers: Vec<HttpClient> = (10..30).map(|n| http.client_from(n)).collect();
    let results = futures::future::join_all(attackers.iter().map(|a| guess(a, 200))).await;
    let checked: usize = results.iter().map(|(checked, _)| checked).sum();
    // Each address gets the pair's allowance, no more.
    assert_eq!(checked, 20 * limits.per_account_and_client as usize);

    // The victim, from their own address, signs in: later, not never.
    let started = Instant::now();
    let (status, body) = http.client_from(100).login(VICTIM, "password123").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let expected_delay = limits.delay(checked as u64 + 1);
    assert!(
        expected_delay >= Duration::from_millis(500),
        "{expected_delay:?}"
    );
    assert!(
        started.elapsed() >= expected_delay,
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn failures_from_one_client_on_one_account_get_429_with_retry_after() {
    let app = app_with(&[("LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_CLIENT", "3")]).await;
    app.seed_user("victim", Role::User).await;
    let http = app.serve_http().await;
    let attacker = http.client_from(2);
    assert_eq!(guess(&attacker, 3).await, (3, 0));

    // Even the right password: this client is done with this account for now.
    let (status, body) = attacker.login(VICTIM, "password123").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        body["errors"]["request"][0],
        "too many attempts, try again later"
    );
    // The owner, elsewhere, is not affected.
    let (status, _) = http.client_from(3).login(VICTIM, "password123").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn refusals_say_when_to_retry() {
    let app = app_with(&[("LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_CLIENT", "1")]).await;
    let wrong = json!({"user": {"email": VICTIM, "password": "wrong-password"}});
    app.post("/api/users/login", wrong.clone(), None).await;
    let refused = app.post("/api/users/login", wrong, None).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    let window = limits(&app).window.as_secs();
    assert!((1..=window).contains(&retry_after), "{retry_after}");
}

#[tokio::test]
async fn one_client_guessing_across_accounts_gets_429() {
    let app = app_with(&[("LOGIN_MAX_FAILURES_PER_CLIENT", "2")]).await;
    for name in ["a", "b"] {
        let guess =
            json!({"user": {"email": format!("{name}@example.com"), "password": "password123"}});
        assert_eq!(
            app.post("/api/users/login", guess, None).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let third = json!({"user": {"email": "c@example.com", "password": "password123"}});
    assert_eq!(
        app.post("/api/users/login", third, None).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn a_successful_login_clears_the_pair_counter() {
    let app = app_with(&[("LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_CLIENT", "2")]).await;
    app.seed_user("jake", Role::User).await;
    app.login("jake", "wrong-password").await;
    assert_eq!(
        app.login("jake", "password123").await.status,
        StatusCode::OK
    );
    app.login("jake", "wrong-password").await;
    assert_eq!(
        app.login("jake", "wrong-password").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("jake", "wrong-password").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn a_count_sent_again_after_its_answer_was_lost_counts_once() {
    let app = app_with(&[("LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_CLIENT", "3")]).await;
    app.seed_user("victim", Role::User).await;
    // The first guess's count of the pair goes through, but its answer is
    // lost: the SDK sends the same UpdateItem again.
    let lost = LostAnswer::default();
    let app = app.with_client(lost.client_like(&app.state.db.client));
    lost.arm(1);

    let mut statuses = vec![];
    for _ in 0..4 {
        statuses.push(app.login("victim", "wrong-password").await.status);
    }
    assert!(lost.fired(), "the fault was injected");
    // Three guesses allowed, each counted once: the third is still checked.
    let (checked, refused) = (StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(statuses, [checked, checked, checked, refused]);
}

#[tokio::test]
async fn behind_the_edge_each_viewer_has_their_own_limit() {
    // The origin secret's digest: a closed origin, as deployed behind
    // CloudFront (tests/api/edge.rs has the secrets).
    const SECRET: &str = "the-current-origin-secret";
    const DIGEST: &str = "a25ba3f9311bc4c9e22b1aa6fcd225fd2e6933188a5b77df66c9c4ca2488db05";
    let app = app_with(&[
        ("LOGIN_MAX_FAILURES_PER_CLIENT", "2"),
        ("ORIGIN_VERIFY_SHA256", DIGEST),
    ])
    .await;
    // Every request comes from one CloudFront address; the viewer is the
    // address CloudFront's function states, whatever the client claimed in
    // X-Forwarded-For.
    let cloudfront = conduit_common::http::ClientAddr("130.176.1.1".parse().unwrap());
    let login = |viewer: &str, email: &str| {
        let body = json!({"user": {"email": email, "password": "password123"}});
        conduit_common::lambda_http::http::Request::builder()
            .method("POST")
            .uri("/api/users/login")
            .header("content-type", "application/json")
            .header("x-origin-verify", SECRET)
            .header("x-forwarded-for", "192.0.2.1")
            .header("x-viewer-address", viewer)
            .extension(cloudfront)
            .body(conduit_common::lambda_http::Body::Text(body.to_string()))
            .unwrap()
    };
    for email in ["a@example.com", "b@example.com"] {
        let guess = app.send(login("203.0.113.9", email)).await;
        assert_eq!(guess.status, StatusCode::UNAUTHORIZED);
    }
    let third = app.send(login("203.0.113.9", "c@example.com")).await;
    assert_eq!(third.status, StatusCode::TOO_MANY_REQUESTS);
    // Another viewer through the same edge is not held to the first's limit.
    let other = app.send(login("198.51.100.7", "c@example.com")).await;
    assert_eq!(other.status, StatusCode::UNAUTHORIZED);
}
