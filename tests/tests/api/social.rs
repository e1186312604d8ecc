//! Profiles, follows and comments.

use conduit_common::lambda_http::http::StatusCode;
use conduit_tests::spawn_app;
use serde_json::json;

#[tokio::test]
async fn follow_and_unfollow_are_idempotent() {
    let app = spawn_app().await;
    let me = app.register("jake").await;
    app.register("anna").await;
    for _ in 0..2 {
        let followed = app
            .post("/api/profiles/anna/follow", json!({}), Some(&me))
            .await;
        assert_eq!(followed.body["profile"]["following"], true);
    }
    let profile = app.get("/api/profiles/anna", Some(&me)).await;
    assert_eq!(profile.body["profile"]["following"], true);
    assert_eq!(
        app.get("/api/profiles/anna", None).await.body["profile"]["following"],
        false
    );
    for _ in 0..2 {
        let unfollowed = app.delete("/api/profiles/anna/follow", Some(&me)).await;
        assert_eq!(unfollowed.body["profile"]["following"], false);
    }
    let myself = app
        .post("/api/profiles/jake/follow", json!({}), Some(&me))
        .await;
    // Nobody may follow themselves: a refusal, not malformed input.
    assert_eq!(myself.status, StatusCode::FORBIDDEN);
    assert_eq!(myself.error("profile"), "can't follow yourself");
    let unknown = app
        .post("/api/profiles/nobody/follow", json!({}), Some(&me))
        .await;
    assert_eq!(unknown.error("profile"), "not found");
}

#[tokio::test]
async fn comments_have_increasing_integer_ids_and_owner_only_delete() {
    let app = spawn_app().await;
    let author = app.register("jake").await;
    let other = app.register("anna").await;
    let slug = app.create_article(&author, "Discussed", &[]).await;
    let path = format!("/api/articles/{slug}/comments");
    let first = app
        .post(&path, json!({"comment": {"body": "one"}}), Some(&author))
        .await;
    let second = app
        .post(&path, json!({"comment": {"body": "two"}}), Some(&other))
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    let (a, b) = (
        first.body["comment"]["id"].as_u64().unwrap(),
        second.body["comment"]["id"].as_u64().unwrap(),
    );
    assert!(b > a);

    let list = app.get(&path, None).await;
    let bodies: Vec<&str> = list.body["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["one", "two"]);
    assert_eq!(list.body["comments"][1]["author"]["username"], "anna");

    let forbidden = app.delete(&format!("{path}/{a}"), Some(&other)).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    assert_eq!(forbidden.error("comment"), "forbidden");
    assert_eq!(
        app.delete(&format!("{path}/{a}"), Some(&author))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.delete(&format!("{path}/{a}"), Some(&author))
            .await
            .error("comment"),
        "not found"
    );
    assert_eq!(
        app.delete(&format!("{path}/abc"), Some(&author))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&path, None).await.body["comments"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let blank = app
        .post(&path, json!({"comment": {"body": "  "}}), Some(&author))
        .await;
    assert_eq!(blank.error("body"), "can't be blank");
}

#[tokio::test]
async fn unknown_routes_are_404_and_preflight_is_answered() {
    let app = spawn_app().await;
    let unknown = app.get("/api/nothing-here", None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let wrong_method = app.delete("/api/tags", None).await;
    assert_eq!(wrong_method.status, StatusCode::NOT_FOUND);

    let preflight = conduit_common::lambda_http::http::Request::builder()
        .method("OPTIONS")
        .uri("/api/articles/some-slug")
        .header("origin", "https://app.example")
        .header("access-control-request-method", "PUT")
        .body(conduit_common::lambda_http::Body::Empty)
        .unwrap();
    let response = app.send(preflight).await;
    assert_eq!(response.status, StatusCode::NO_CONTENT);
    assert_eq!(response.headers["access-control-allow-origin"], "*");
    let methods = response.headers["access-control-allow-methods"]
        .to_str()
        .unwrap();
    assert!(
        methods.contains("PUT") && methods.contains("DELETE"),
        "{methods}"
    );
}
