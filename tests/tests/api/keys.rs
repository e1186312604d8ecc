//! Rotating the token signing keys, end to end: two instances of the API
//! over HTTP, the key set in a store they reload from, rotated by the code
//! the scheduled job runs. Nobody is signed out by a rotation; a token
//! stops working only once its key is retired.

use std::time::SystemTime;

use conduit_common::auth::key_store::KeyStore;
use conduit_tests::over_http::HttpClient;
use conduit_tests::spawn_app;
use hyper::StatusCode;

/// The current user, as `token`'s holder asks an instance for it.
async fn me(instance: &HttpClient, token: &str) -> StatusCode {
    instance.get("/api/user", Some(token), &[]).await.status
}

#[tokio::test]
async fn a_rotation_signs_nobody_out_and_a_retired_key_stops_verifying() {
    let dir = std::env::temp_dir().join(format!("conduit-keys-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = KeyStore::File(dir.join("keys"));
    let first = store.load_or_create().await.unwrap();

    let app = spawn_app().await;
    // Two instances; the second will not have reloaded when it matters.
    let (fresh, stale) = (app.another_process(), app.another_process());
    for instance in [&app, &fresh, &stale] {
        instance.state.jwt.install(&first);
    }
    let (fresh_http, stale_http) = (fresh.serve_http().await, stale.serve_http().await);
    let (fresh_client, stale_client) = (
        HttpClient::to(&fresh_http.url()),
        HttpClient::to(&stale_http.url()),
    );
    let token = app.register("jake").await;
    assert_eq!(me(&fresh_client, &token).await, StatusCode::OK);

    // The first rotation: the fresh instance reloads; the stale one still
    // has the old set.
    let rotated = store.rotate(SystemTime::now(), false).await.unwrap();
    fresh.state.jwt.install(&store.load().await.unwrap());
    let (status, login) = fresh_client.login("jake@example.com", "password123").await;
    assert_eq!(status, StatusCode::OK, "{login:?}");
    let new_token = login["user"]["token"].as_str().unwrap().to_owned();
    let kid = |token: &str| jsonwebtoken_kid(token);
    assert_eq!(
        kid(&new_token),
        rotated.current.kid,
        "signed with the new key"
    );
    assert_eq!(kid(&token), first.current.kid);
    for instance in [&fresh_client, &stale_client] {
        assert_eq!(me(instance, &token).await, StatusCode::OK, "signed before");
        assert_eq!(
            me(instance, &new_token).await,
            StatusCode::OK,
            "signed after"
        );
    }

    // The second, forced (the scheduled job would wait the interval): the
    // first token's key is retired everywhere.
    store.rotate(SystemTime::now(), true).await.unwrap();
    let set = store.load().await.unwrap();
    fresh.state.jwt.install(&set);
    stale.state.jwt.install(&set);
    for instance in [&fresh_client, &stale_client] {
        assert_eq!(
            me(instance, &token).await,
            StatusCode::UNAUTHORIZED,
            "retired"
        );
        assert_eq!(me(instance, &new_token).await, StatusCode::OK);
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// The `kid` of a token's header.
fn jsonwebtoken_kid(token: &str) -> String {
    jsonwebtoken::decode_header(token)
        .expect("a JWT")
        .kid
        .expect("a key id")
}
