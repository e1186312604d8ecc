//! Writes that race: DynamoDB's transactions and conditions must keep the
//! data consistent however requests interleave.

use conduit_common::lambda_http::http::StatusCode;
use conduit_tests::spawn_app;
use futures::future::join_all;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_users_favoriting_at_once_count_twenty() {
    let app = spawn_app().await;
    let author = app.register("author").await;
    let slug = app.create_article(&author, "Popular", &[]).await;
    let mut fans = vec![];
    for i in 0..20 {
        fans.push(app.register(&format!("fan{i}")).await);
    }
    let path = format!("/api/articles/{slug}/favorite");
    let responses = join_all(
        fans.iter()
            .map(|token| app.post(&path, json!({}), Some(token))),
    )
    .await;
    assert!(responses.iter().all(|r| r.status == StatusCode::OK));
    let article = app.get(&format!("/api/articles/{slug}"), None).await;
    assert_eq!(article.body["article"]["favoritesCount"], 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_concurrent_creations_of_one_title_get_ten_slugs() {
    let app = spawn_app().await;
    let token = app.register("author").await;
    let body =
        json!({"article": {"title": "Race", "description": "d", "body": "b", "tagList": ["hot"]}});
    let responses =
        join_all((0..10).map(|_| app.post("/api/articles", body.clone(), Some(&token)))).await;
    let mut slugs: Vec<&str> = responses
        .iter()
        .map(|r| {
            assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
            r.body["article"]["slug"].as_str().unwrap()
        })
        .collect();
    slugs.sort();
    slugs.dedup();
    assert_eq!(slugs.len(), 10);
    // The month's and the tag's counters are sharded: their sums are exact.
    assert_eq!(
        app.get("/api/articles", None).await.body["articlesCount"],
        10
    );
    assert_eq!(
        app.get("/api/articles?tag=hot", None).await.body["articlesCount"],
        10
    );
    for slug in &slugs[..4] {
        app.delete(&format!("/api/articles/{slug}"), Some(&token))
            .await;
    }
    assert_eq!(
        app.get("/api/articles?tag=hot", None).await.body["articlesCount"],
        6
    );
    assert_eq!(
        app.get("/api/tags", None).await.body["tags"],
        json!(["hot"])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_concurrent_registrations_of_one_email_give_one_201_and_one_409() {
    let app = spawn_app().await;
    let register = |name: &str| {
        app.post(
            "/api/users",
            json!({"user": {"username": name, "email": "same@example.com", "password": "password123"}}),
            None,
        )
    };
    let (a, b) = tokio::join!(register("first"), register("second"));
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [201, 409]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_comments_get_distinct_ids() {
    let app = spawn_app().await;
    let token = app.register("author").await;
    let slug = app.create_article(&token, "Busy", &[]).await;
    let path = format!("/api/articles/{slug}/comments");
    let responses = join_all((0..10).map(|i| {
        app.post(
            &path,
            json!({"comment": {"body": format!("c{i}")}}),
            Some(&token),
        )
    }))
    .await;
    let mut ids: Vec<u64> = responses
        .iter()
        .map(|r| r.body["comment"]["id"].as_u64().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_password_guesses_cannot_overshoot_the_limit() {
    let app =
        conduit_tests::spawn_app_with(&[("LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_CLIENT", "3")]).await;
    app.register("victim").await;
    let guess = json!({"user": {"email": "victim@example.com", "password": "not-the-password"}});
    let responses =
        join_all((0..10).map(|_| app.post("/api/users/login", guess.clone(), None))).await;
    let mut statuses: Vec<u16> = responses.iter().map(|r| r.status.as_u16()).collect();
    statuses.sort();
    assert_eq!(statuses, [401, 401, 401, 429, 429, 429, 429, 429, 429, 429]);
}
