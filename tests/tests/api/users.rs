//! Registration, login and the current user.

use conduit_common::lambda_http::Body;
use conduit_common::lambda_http::http::{Method, Request, StatusCode};
use conduit_tests::spawn_app;
use serde_json::json;

#[tokio::test]
async fn register_then_login_then_read_and_update_self() {
    let app = spawn_app().await;
    let token = app.register("jake").await;

    let login = app
        .post(
            "/api/users/login",
            json!({"user": {"email": "JAKE@example.com ", "password": "password123"}}),
            None,
        )
        .await;
    assert_eq!(login.status, StatusCode::OK);
    assert_eq!(login.body["user"]["username"], "jake");

    let me = app.get("/api/user", Some(&token)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["user"]["email"], "jake@example.com");
    assert_eq!(me.body["user"]["bio"], serde_json::Value::Null);

    let updated = app
        .put(
            "/api/user",
            json!({"user": {"bio": "I work at statefarm", "username": "jacob"}}),
            Some(&token),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{:?}", updated.body);
    assert_eq!(updated.body["user"]["username"], "jacob");
    assert_eq!(updated.body["user"]["bio"], "I work at statefarm");

    // The old username is free again.
    let reused = app
        .post("/api/users", json!({"user": {"username": "jake", "email": "new@example.com", "password": "password123"}}), None)
        .await;
    assert_eq!(reused.status, StatusCode::CREATED);
    let profile = app.get("/api/profiles/jacob", None).await;
    assert_eq!(profile.body["profile"]["bio"], "I work at statefarm");
}

#[tokio::test]
async fn duplicate_username_or_email_is_409_with_the_field() {
    let app = spawn_app().await;
    app.register("jake").await;
    let same_name = app
        .post("/api/users", json!({"user": {"username": "JAKE", "email": "other@example.com", "password": "password123"}}), None)
        .await;
    assert_eq!(same_name.status, StatusCode::CONFLICT);
    assert_eq!(same_name.error("username"), "has already been taken");

    let same_email = app
        .post("/api/users", json!({"user": {"username": "other", "email": "Jake@Example.com", "password": "password123"}}), None)
        .await;
    assert_eq!(same_email.status, StatusCode::CONFLICT);
    assert_eq!(same_email.error("email"), "has already been taken");
    assert!(same_email.body["errors"].get("username").is_none());
}

#[tokio::test]
async fn changing_to_a_taken_username_or_email_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    app.register("jake").await;
    let token = app.register("anna").await;
    let clash = app
        .put(
            "/api/user",
            json!({"user": {"username": "jake", "bio": "new"}}),
            Some(&token),
        )
        .await;
    assert_eq!(clash.status, StatusCode::CONFLICT);
    let me = app.get("/api/user", Some(&token)).await;
    assert_eq!(me.body["user"]["username"], "anna");
    assert_eq!(me.body["user"]["bio"], serde_json::Value::Null);
    let clash = app
        .put(
            "/api/user",
            json!({"user": {"email": "jake@example.com"}}),
            Some(&token),
        )
        .await;
    assert_eq!(clash.error("email"), "has already been taken");
}

#[tokio::test]
async fn login_failures_do_not_say_which_part_was_wrong() {
    let app = spawn_app().await;
    app.register("jake").await;
    for (email, password) in [
        ("jake@example.com", "wrong-password"),
        ("nobody@example.com", "password123"),
    ] {
        let response = app
            .post(
                "/api/users/login",
                json!({"user": {"email": email, "password": password}}),
                None,
            )
            .await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED);
        assert_eq!(response.error("credentials"), "invalid");
    }
}

#[tokio::test]
async fn invalid_input_gets_field_errors() {
    let app = spawn_app().await;
    let response = app
        .post(
            "/api/users",
            json!({"user": {"username": "bad name", "email": "nope", "password": "short"}}),
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.error("username").starts_with("may contain only"));
    assert_eq!(response.error("email"), "is invalid");
    assert!(response.error("password").starts_with("is too short"));

    let missing = app.post("/api/users", json!({"user": {}}), None).await;
    assert_eq!(missing.error("username"), "can't be blank");
    assert_eq!(missing.error("email"), "can't be blank");
}

#[tokio::test]
async fn malformed_bodies_are_422_not_500() {
    let app = spawn_app().await;
    for body in ["{not json", "[]", "", "{\"user\": 5}", "null"] {
        let request = Request::builder()
            .method(Method::POST)
            .uri("/api/users")
            .body(Body::Text(body.to_owned()))
            .unwrap();
        let response = app.send(request).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(!response.error("body").is_empty(), "{body}");
    }
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let app = spawn_app().await;
    let huge = "x".repeat(conduit_common::http::MAX_BODY_BYTES + 1);
    let response = app
        .post("/api/users", json!({"user": {"username": huge}}), None)
        .await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn tokens_are_required_and_checked() {
    let app = spawn_app().await;
    let missing = app.get("/api/user", None).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(missing.error("token"), "is missing");

    let forged = app.get("/api/user", Some("not.a.token")).await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    assert_eq!(forged.error("token"), "is invalid");

    let token = app.register("jake").await;
    let bearer = Request::builder()
        .uri("/api/user")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::Empty)
        .unwrap();
    assert_eq!(app.send(bearer).await.status, StatusCode::OK);
}

#[tokio::test]
async fn responses_carry_security_headers() {
    let app = spawn_app().await;
    let token = app.register("jake").await;
    let me = app.get("/api/user", Some(&token)).await;
    assert_eq!(me.headers["cache-control"], "no-store");
    assert_eq!(me.headers["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn a_password_change_takes_effect_for_login() {
    let app = spawn_app().await;
    let token = app.register("jake").await;
    let changed = app
        .put(
            "/api/user",
            json!({"user": {"password": "a-new-password"}}),
            Some(&token),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK);
    let login = |password: &str| {
        app.post(
            "/api/users/login",
            json!({"user": {"email": "jake@example.com", "password": password}}),
            None,
        )
    };
    assert_eq!(login("password123").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(login("a-new-password").await.status, StatusCode::OK);
}
