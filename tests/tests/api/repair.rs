//! Counters that heal: every kind of counter broken on purpose, then
//! recounted from the items and fixed, as `make repair` and the scheduled
//! function do; a second run finds nothing.

use std::time::Duration;

use conduit_common::db::keys;
use conduit_common::db::repair::RepairSettings;
use conduit_common::db::{key_of, n};
use conduit_tests::{TestApp, spawn_app_with_consumers};
use serde_json::json;

const SETTINGS: RepairSettings = RepairSettings {
    read_units_per_second: 10_000.0,
    // No index here lags behind the table.
    settle: Duration::ZERO,
};

/// `ADD attribute delta` on the item `key`, behind the API's back.
async fn corrupt(app: &TestApp, key: (String, String), attribute: &str, delta: i64) {
    let db = &app.state.db;
    db.client
        .update_item()
        .table_name(&db.table)
        .set_key(Some(key_of(key)))
        .update_expression("ADD #a :d")
        .expression_attribute_names("#a", attribute)
        .expression_attribute_values(":d", n(delta))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn every_broken_counter_is_recounted_and_fixed_once() {
    let app = spawn_app_with_consumers(&[]).await;
    let author = app.register("author").await;
    let fan = app.register("fan").await;
    app.post("/api/profiles/author/follow", json!({}), Some(&fan))
        .await;
    let loved = app.create_article(&author, "Loved", &["rust"]).await;
    app.create_article(&author, "Other", &["rust"]).await;
    app.post(
        &format!("/api/articles/{loved}/favorite"),
        json!({}),
        Some(&fan),
    )
    .await;
    app.drain().await;
    let before = app.state.db.repair_counters(SETTINGS).await.unwrap();
    assert_eq!(before.fixed, vec![], "nothing to fix yet");

    let author_id = app.user("author").await.id;
    let fan_id = app.user("fan").await.id;
    let article = app.state.db.article_by_slug(&loved).await.unwrap().unwrap();
    corrupt(&app, keys::user(&author_id), "articles_count", 3).await;
    corrupt(&app, keys::user(&author_id), "followers_count", -1).await;
    corrupt(&app, keys::user(&fan_id), "favorites_count", 5).await;
    corrupt(&app, keys::user(&fan_id), "following_count", 2).await;
    corrupt(&app, keys::user(&fan_id), "feed_count", -2).await;
    corrupt(&app, keys::article(&article.id), "favorites_count", 9).await;
    corrupt(&app, keys::tag_counter("rust", 3), "n", 4).await;
    let month = &article.created_at[..7];
    corrupt(&app, keys::bucket_counter(month, 5), "n", -1).await;

    let repaired = app.state.db.repair_counters(SETTINGS).await.unwrap();
    let mut fixed: Vec<(String, i64, i64)> = repaired
        .fixed
        .iter()
        .map(|d| (d.counter.clone(), d.recorded, d.counted))
        .collect();
    fixed.sort();
    let user = |id: &str, what: &str| format!("user {id} {what}");
    let mut expected = vec![
        (user(&author_id, "articles_count"), 5, 2),
        (user(&author_id, "followers_count"), 0, 1),
        (user(&fan_id, "favorites_count"), 6, 1),
        (user(&fan_id, "following_count"), 3, 1),
        (user(&fan_id, "feed_count"), 0, 2),
        (format!("article {} favorites_count", article.id), 10, 1),
        ("tag rust".to_owned(), 6, 2),
        (format!("month {month}"), 1, 2),
    ];
    expected.sort();
    assert_eq!(fixed, expected);
    assert!(repaired.read_units > 0.0);

    // As users see them again.
    let feed = app.get("/api/articles/feed", Some(&fan)).await;
    assert_eq!(feed.body["articlesCount"], 2);
    let all = app.get("/api/articles", None).await;
    assert_eq!(all.body["articlesCount"], 2);
    let shown = app.get(&format!("/api/articles/{loved}"), None).await;
    assert_eq!(shown.body["article"]["favoritesCount"], 1);
    let tagged = app.get("/api/articles?tag=rust&limit=1", None).await;
    assert_eq!(tagged.body["articlesCount"], 2);

    let again = app.state.db.repair_counters(SETTINGS).await.unwrap();
    assert_eq!(again.fixed, vec![], "healed: nothing left to fix");
    assert_eq!(again.checked, repaired.checked);
}

#[tokio::test]
async fn the_scheduled_job_runs_the_repair() {
    let app = spawn_app_with_consumers(&[]).await;
    let token = app.register("author").await;
    app.create_article(&token, "One", &["rust"]).await;
    let id = app.user("author").await.id;
    corrupt(&app, keys::user(&id), "articles_count", 1).await;
    // Its rate and pause are production's: 2 s before a fix.
    let summary = (functions::jobs::REPAIR_COUNTERS.run)(&app.job_context())
        .await
        .unwrap();
    assert!(summary.contains(" 1 fixed"), "{summary}");
    assert_eq!(app.user("author").await.articles_count, 1);
}
