//! A user sees their own change in their very next read, whatever the
//! stream consumers have done: each test here reads with the consumers
//! paused (the stream is never drained before the checks), then lets them
//! catch up and checks that they change nothing the user already saw.

use conduit_common::db::feeds::{INLINE_REFILL_MAX_ARTICLES, MAX_PULLED, PULL_MIN_FOLLOWERS};
use conduit_tests::{TestApp, slugs, spawn_app_with_consumers};
use serde_json::{Value, json};

async fn feed(app: &TestApp, token: &str) -> Value {
    app.get("/api/articles/feed", Some(token)).await.body
}

/// The feed's count and slugs, as the reader sees them.
async fn feed_seen(app: &TestApp, token: &str) -> (u64, Vec<String>) {
    let body = feed(app, token).await;
    let count = body["articlesCount"].as_u64().expect("articlesCount");
    (count, slugs(&body).iter().map(|s| s.to_string()).collect())
}

#[tokio::test]
async fn a_follow_and_an_unfollow_show_in_the_next_feed_read() {
    let app = spawn_app_with_consumers(&[]).await;
    let reader = app.register("reader").await;
    let author = app.register("author").await;
    let older = app.create_article(&author, "Older", &[]).await;
    let newer = app.create_article(&author, "Newer", &[]).await;

    app.post("/api/profiles/author/follow", json!({}), Some(&reader))
        .await;
    assert_eq!(
        feed_seen(&app, &reader).await,
        (2, vec![newer.clone(), older.clone()]),
        "articles from before the follow, at once"
    );

    app.delete("/api/profiles/author/follow", Some(&reader))
        .await;
    assert_eq!(feed_seen(&app, &reader).await, (0, vec![]), "gone at once");

    // Followed again, then the consumers catch up with all three changes:
    // they find nothing left to do, and count nothing twice.
    app.post("/api/profiles/author/follow", json!({}), Some(&reader))
        .await;
    assert_eq!(feed_seen(&app, &reader).await.0, 2);
    assert!(app.drain().await > 0);
    assert_eq!(
        feed_seen(&app, &reader).await,
        (2, vec![newer.clone(), older.clone()])
    );
    app.delete("/api/profiles/author/follow", Some(&reader))
        .await;
    app.drain().await;
    assert_eq!(feed_seen(&app, &reader).await, (0, vec![]));
}

/// Up to `INLINE_REFILL_MAX_ARTICLES` articles move with the follow's own
/// transaction; an author with more is pulled by the new follower's feed
/// (read with it), at once too. Only a reader who already pulls
/// `MAX_PULLED` authors is backfilled with them by the stream.
#[tokio::test]
async fn a_prolific_author_is_pulled_at_once_unless_the_reader_pulls_too_many() {
    let app = spawn_app_with_consumers(&[]).await;
    let few = app.register("few").await;
    let many = app.register("many").await;
    let reader = app.register("reader").await;
    for i in 0..INLINE_REFILL_MAX_ARTICLES {
        app.create_article(&few, &format!("Few {i}"), &[]).await;
        app.create_article(&many, &format!("Many {i}"), &[]).await;
    }
    app.create_article(&many, "One more", &[]).await;
    let inline = INLINE_REFILL_MAX_ARTICLES as u64;

    app.post("/api/profiles/few/follow", json!({}), Some(&reader))
        .await;
    assert_eq!(
        feed_seen(&app, &reader).await.0,
        inline,
        "delivered at once"
    );
    app.post("/api/profiles/many/follow", json!({}), Some(&reader))
        .await;
    assert_eq!(app.user("reader").await.pulls.len(), 1);
    let (count, shown) = feed_seen(&app, &reader).await;
    assert_eq!(count, 2 * inline + 1, "pulled at once");
    assert_eq!(shown[0], "one-more", "newest first, across both");
    app.delete("/api/profiles/many/follow", Some(&reader)).await;
    app.delete("/api/profiles/few/follow", Some(&reader)).await;
    assert_eq!(feed_seen(&app, &reader).await, (0, vec![]), "both at once");

    // A reader who pulls as many as they may: delivered, by the stream.
    for n in 0..MAX_PULLED {
        let name = format!("star{n}");
        app.register(&name).await;
        app.set_followers_count(&name, PULL_MIN_FOLLOWERS).await;
        app.post(
            &format!("/api/profiles/{name}/follow"),
            json!({}),
            Some(&reader),
        )
        .await;
    }
    app.post("/api/profiles/many/follow", json!({}), Some(&reader))
        .await;
    assert_eq!(feed_seen(&app, &reader).await.0, 0, "left to the stream");
    app.drain().await;
    assert_eq!(feed_seen(&app, &reader).await.0, inline + 1);
    app.delete("/api/profiles/many/follow", Some(&reader)).await;
    app.drain().await;
    assert_eq!(feed_seen(&app, &reader).await, (0, vec![]));
    app.finish().await;
}

/// A deleted article's favorites and feed entries are the clean-up
/// consumer's to remove, and the counters with them; until then, a page
/// that reaches the end of its list counts what it shows.
#[tokio::test]
async fn a_deleted_article_leaves_every_list_and_count_in_agreement() {
    let app = spawn_app_with_consumers(&[]).await;
    let author = app.register("author").await;
    let fan = app.register("fan").await;
    app.post("/api/profiles/author/follow", json!({}), Some(&fan))
        .await;
    let kept = app.create_article(&author, "Kept", &["shared"]).await;
    let gone = app.create_article(&author, "Gone", &["shared"]).await;
    for slug in [&kept, &gone] {
        let path = format!("/api/articles/{slug}/favorite");
        app.post(&path, json!({}), Some(&fan)).await;
    }

    let deleted = app
        .delete(&format!("/api/articles/{gone}"), Some(&author))
        .await;
    assert_eq!(deleted.status, 204);
    let lists = [
        "/api/articles/feed",
        "/api/articles?favorited=fan",
        "/api/articles?author=author",
        "/api/articles?tag=shared",
        "/api/articles",
    ];
    for stage in ["before the clean-up", "after it"] {
        for path in lists {
            let body = app.get(path, Some(&fan)).await.body;
            assert_eq!(
                (body["articlesCount"].as_u64(), slugs(&body)),
                (Some(1), vec![kept.as_str()]),
                "{path}, {stage}"
            );
        }
        app.drain().await;
    }
}

/// A page whose only entry is an article deleted a moment ago (its clean-up
/// not yet run) shows nothing, and still leads on to the next page.
#[tokio::test]
async fn a_page_that_skips_a_deleted_article_still_leads_to_the_next() {
    let app = spawn_app_with_consumers(&[]).await;
    let author = app.register("author").await;
    let fan = app.register("fan").await;
    app.post("/api/profiles/author/follow", json!({}), Some(&fan))
        .await;
    let older = app.create_article(&author, "Older", &[]).await;
    let newer = app.create_article(&author, "Newer", &[]).await;
    app.delete(&format!("/api/articles/{newer}"), Some(&author))
        .await;

    let first = app.get("/api/articles/feed?limit=1", Some(&fan)).await;
    assert_eq!(slugs(&first.body), Vec::<&str>::new());
    let cursor = first.body["nextCursor"].as_str().expect("the list goes on");
    let path = format!("/api/articles/feed?limit=1&cursor={cursor}");
    let next = app.get(&path, Some(&fan)).await;
    assert_eq!(slugs(&next.body), [older.as_str()]);
}
