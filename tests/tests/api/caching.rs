//! HTTP caching (ETag, 304, Cache-Control), the per-process read cache,
//! and the cost figures each response reports.

use conduit_tests::{spawn_app, spawn_app_with};
use serde_json::json;

const METERED: (&str, &str) = ("SERVER_TIMING", "1");
/// An anonymous read's Cache-Control: shared caches for a few seconds,
/// browsers never without asking.
const PUBLIC: &str = "public, max-age=0, must-revalidate, s-maxage=5";
/// The longest cache TTL allowed, for tests that expect a cached copy: it
/// must outlive the test, however slow the machine.
const LONG_TTL: (&str, &str) = ("CACHE_TTL_SECONDS", "300");

#[tokio::test]
async fn anonymous_reads_revalidate_to_304_until_the_data_changes() {
    let app = spawn_app().await;
    let token = app.register("jake").await;
    app.create_article(&token, "First", &["rust"]).await;

    let first = app.get("/api/tags", None).await;
    assert_eq!(first.status, 200);
    // Browsers must ask every time (a cheap 304 when nothing changed), so a
    // user never sees an old page after their own change; only a shared
    // cache (CloudFront, a proxy) may hold the answer, briefly.
    assert_eq!(first.header("cache-control"), Some(PUBLIC));
    let etag = first.header("etag").expect("an ETag").to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");

    let again = app
        .get_with("/api/tags", &[("if-none-match", etag.as_str())])
        .await;
    assert_eq!(again.status, 304);
    assert_eq!(again.body, serde_json::Value::Null, "a 304 has no body");
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    assert_eq!(again.header("cache-control"), Some(PUBLIC));

    // Weak comparison and lists, as RFC 9110 has If-None-Match work.
    let weak = format!("\"other\", W/{etag}");
    let listed = app
        .get_with("/api/tags", &[("if-none-match", weak.as_str())])
        .await;
    assert_eq!(listed.status, 304);

    app.create_article(&token, "Second", &["dynamodb"]).await;
    let changed = app
        .get_with("/api/tags", &[("if-none-match", etag.as_str())])
        .await;
    assert_eq!(changed.status, 200);
    assert_eq!(changed.body["tags"].as_array().unwrap().len(), 2);
    assert_ne!(changed.header("etag"), Some(etag.as_str()));
}

#[tokio::test]
async fn personal_reads_are_private_and_tokens_are_never_stored() {
    let app = spawn_app().await;
    let token = app.register("jake").await;
    let slug = app.create_article(&token, "Mine", &[]).await;

    let article = app
        .get(&format!("/api/articles/{slug}"), Some(&token))
        .await;
    assert_eq!(article.status, 200);
    assert_eq!(article.header("cache-control"), Some("private, no-cache"));
    assert!(article.header("etag").is_some());

    let me = app.get("/api/user", Some(&token)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.header("cache-control"), Some("no-store"));
    assert_eq!(
        me.header("etag"),
        None,
        "a body with a token gets no validator"
    );

    let login = app.login("jake", "password123").await;
    assert_eq!(login.header("cache-control"), Some("no-store"));

    let missing = app.get("/api/articles/nope", None).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.header("cache-control"), Some("no-store"));
    assert_eq!(missing.header("etag"), None);
}

#[tokio::test]
async fn hot_public_reads_come_from_memory_until_this_process_changes_them() {
    let app = spawn_app_with(&[METERED, LONG_TTL]).await;
    let token = app.register("jake").await;
    app.create_article(&token, "Hello", &["rust"]).await;

    // Article lists embed authors: a warm list skips the author reads (a
    // profile read first would warm them too: both read by id).
    let list = app.get("/api/articles", None).await;
    let list_again = app.get("/api/articles", None).await;
    assert_eq!(list_again.body, list.body);
    assert!(list_again.cost().db_calls < list.cost().db_calls);

    let cold = app.get("/api/profiles/jake", None).await;
    assert_eq!(cold.status, 200);
    assert!(cold.cost().db_calls > 0);
    let warm = app.get("/api/profiles/jake", None).await;
    assert_eq!(warm.body, cold.body);
    assert_eq!(warm.cost().db_calls, 0, "{:?}", warm.cost());
    assert_eq!(warm.cost().cache_hits, 1);

    // Whether the reader follows is never cached: it is read every time.
    let reader = app.register("reader").await;
    let signed_in = app.get("/api/profiles/jake", Some(&reader)).await;
    assert_eq!(signed_in.cost().cache_hits, 1);
    assert!(signed_in.cost().db_calls > 0);

    // An edit is seen at once by the process that made it.
    app.set_bio(&token, "new bio").await;
    let fresh = app.get("/api/profiles/jake", None).await;
    assert_eq!(fresh.body["profile"]["bio"], "new bio");

    let tags = app.get("/api/tags", None).await;
    let tags_again = app.get("/api/tags", None).await;
    assert!(tags.cost().db_calls > 0);
    assert_eq!(tags_again.cost().db_calls, 0);
    assert_eq!(tags_again.body, tags.body);
}

#[tokio::test]
async fn with_the_cache_off_every_read_goes_to_the_database() {
    let app = spawn_app_with(&[METERED, ("CACHE_TTL_SECONDS", "0")]).await;
    app.register("jake").await;
    for _ in 0..2 {
        let profile = app.get("/api/profiles/jake", None).await;
        assert_eq!(profile.status, 200);
        // The username's guard item, then the user.
        assert_eq!(profile.cost().db_calls, 2);
        assert_eq!(profile.cost().cache_hits, 0);
    }
}

#[tokio::test]
async fn each_response_reports_the_capacity_it_consumed() {
    let app = spawn_app_with(&[METERED]).await;
    let register = app
        .post(
            "/api/users",
            json!({"user": {"username": "jake", "email": "jake@example.com", "password": "password123"}}),
            None,
        )
        .await;
    assert_eq!(register.status, 201);
    let cost = register.cost();
    // One transaction: the user and its two guard items.
    assert_eq!(cost.db_calls, 1);
    assert!(cost.write_units >= 3.0, "{cost:?}");
    assert_eq!(cost.read_units, 0.0);

    let token = register.body["user"]["token"].as_str().unwrap().to_owned();
    let slug = app.create_article(&token, "Costs", &[]).await;
    let read = app.get(&format!("/api/articles/{slug}"), None).await;
    let cost = read.cost();
    assert!(cost.read_units > 0.0, "{cost:?}");
    assert_eq!(cost.write_units, 0.0);
}

#[tokio::test]
async fn the_docs_page_is_served_with_every_file_it_loads() {
    let app = conduit_tests::spawn_app().await;
    let page = app.get("/api/docs", None).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let html = page.body.as_str().expect("an HTML page").to_owned();
    let assets: Vec<&str> = html
        .split(['"'])
        .filter(|part| part.ends_with(".js") || part.ends_with(".css") || part.ends_with(".png"))
        .collect();
    assert!(assets.len() >= 5, "{assets:?}");
    for asset in assets {
        let file = app.get(&format!("/api/docs/{asset}"), None).await;
        assert_eq!(file.status, 200, "{asset}");
        // Public and revalidated like every anonymous read.
        assert!(file.header("etag").is_some(), "{asset}");
    }
    let missing = app.get("/api/docs/swagger-ui.js.map", None).await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn across_processes_others_may_see_a_cached_profile_but_you_see_your_edit() {
    // In AWS the edit and the read run in different Lambda functions.
    let reader = spawn_app_with(&[METERED, LONG_TTL]).await;
    let writer = reader.another_process();
    let token = reader.register("jake").await;
    reader.create_article(&token, "Mine", &[]).await;
    let before = reader.get("/api/profiles/jake", None).await;
    assert_eq!(before.body["profile"]["bio"], serde_json::Value::Null);

    writer.set_bio(&token, "new bio").await;

    // Someone else, within the TTL, may still get the cached profile...
    let anonymous = reader.get("/api/profiles/jake", None).await;
    assert_eq!(anonymous.cost().cache_hits, 1);
    assert_eq!(anonymous.body["profile"]["bio"], serde_json::Value::Null);
    // ...but jake sees his own edit at once, on his profile and as an author.
    let own = reader.get("/api/profiles/jake", Some(&token)).await;
    assert_eq!(own.body["profile"]["bio"], "new bio");
    assert_eq!(own.body["profile"]["following"], false);
    let list = reader.get("/api/articles", Some(&token)).await;
    assert_eq!(list.body["articles"][0]["author"]["bio"], "new bio");
}

#[tokio::test]
async fn admin_views_are_never_stored() {
    let app = spawn_app().await;
    let admin = app
        .seed_user("root", conduit_common::domain::Role::Admin)
        .await;
    let users = app.get("/api/admin/users", Some(&admin)).await;
    assert_eq!(users.status, 200);
    assert_eq!(users.header("cache-control"), Some("no-store"));
    assert_eq!(users.header("etag"), None);
}
