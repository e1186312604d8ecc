//! Articles, lists, feed, tags and pagination.

use conduit_common::lambda_http::http::StatusCode;
use conduit_tests::{TestApp, slugs, spawn_app, spawn_app_with_consumers};
use serde_json::json;

async fn seeded() -> (TestApp, String, Vec<String>) {
    let app = spawn_app().await;
    let token = app.register("jake").await;
    let mut created = vec![];
    for i in 0..5 {
        let tags: &[&str] = if i % 2 == 0 {
            &["even", "all"]
        } else {
            &["all"]
        };
        created.push(
            app.create_article(&token, &format!("Article {i}"), tags)
                .await,
        );
    }
    (app, token, created)
}

#[tokio::test]
async fn lists_are_newest_first_with_true_counts_and_no_body() {
    let (app, _, created) = seeded().await;
    let list = app.get("/api/articles", None).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body["articlesCount"], 5);
    let newest_first: Vec<&str> = created.iter().rev().map(String::as_str).collect();
    assert_eq!(slugs(&list.body), newest_first);
    assert!(list.body["articles"][0].get("body").is_none());

    let by_tag = app.get("/api/articles?tag=even", None).await;
    assert_eq!(by_tag.body["articlesCount"], 3);
    assert_eq!(slugs(&by_tag.body), [&created[4], &created[2], &created[0]]);

    let by_author = app
        .get("/api/articles?author=jake&limit=2&offset=1", None)
        .await;
    assert_eq!(by_author.body["articlesCount"], 5);
    assert_eq!(slugs(&by_author.body), [&created[3], &created[2]]);

    let nobody = app.get("/api/articles?author=nobody", None).await;
    assert_eq!(nobody.body["articlesCount"], 0);
}

#[tokio::test]
async fn offset_and_cursor_pages_agree() {
    let (app, _, created) = seeded().await;
    let first = app.get("/api/articles?limit=2", None).await;
    let cursor = first.body["nextCursor"].as_str().unwrap().to_owned();
    let by_cursor = app
        .get(&format!("/api/articles?limit=2&cursor={cursor}"), None)
        .await;
    let by_offset = app.get("/api/articles?limit=2&offset=2", None).await;
    assert_eq!(slugs(&by_cursor.body), slugs(&by_offset.body));
    assert_eq!(slugs(&by_cursor.body), [&created[2], &created[1]]);

    let tag_first = app.get("/api/articles?tag=all&limit=3", None).await;
    let cursor = tag_first.body["nextCursor"].as_str().unwrap();
    let tag_rest = app
        .get(
            &format!("/api/articles?tag=all&limit=3&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(slugs(&tag_rest.body), [&created[1], &created[0]]);
    assert!(tag_rest.body.get("nextCursor").is_none());
}

#[tokio::test]
async fn bad_paging_parameters_are_422() {
    let app = spawn_app().await;
    for query in [
        "limit=0",
        "limit=abc",
        "limit=101",
        "offset=-1",
        "cursor=%25%25",
    ] {
        let response = app.get(&format!("/api/articles?{query}"), None).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
    }
}

#[tokio::test]
async fn same_title_gives_distinct_slugs() {
    let app = spawn_app().await;
    let token = app.register("jake").await;
    let a = app.create_article(&token, "Same Title", &[]).await;
    let b = app.create_article(&token, "Same Title", &[]).await;
    assert_eq!(a, "same-title");
    assert_ne!(a, b);
    assert!(b.starts_with("same-title-"));
}

#[tokio::test]
async fn update_keeps_or_replaces_tags_and_tags_endpoint_follows() {
    let app = spawn_app().await;
    let token = app.register("jake").await;
    let slug = app
        .create_article(&token, "Tagged", &["rust", "dynamo"])
        .await;
    let tags = app.get("/api/tags", None).await;
    assert_eq!(tags.body["tags"], json!(["dynamo", "rust"]));

    let path = format!("/api/articles/{slug}");
    let kept = app
        .put(&path, json!({"article": {"body": "new"}}), Some(&token))
        .await;
    assert_eq!(kept.body["article"]["tagList"], json!(["rust", "dynamo"]));
    let replaced = app
        .put(
            &path,
            json!({"article": {"tagList": ["lambda"]}}),
            Some(&token),
        )
        .await;
    assert_eq!(replaced.body["article"]["tagList"], json!(["lambda"]));
    assert_eq!(
        app.get("/api/tags", None).await.body["tags"],
        json!(["lambda"])
    );
    assert_eq!(
        app.get("/api/articles?tag=rust", None).await.body["articlesCount"],
        0
    );

    let null_tags = app
        .put(&path, json!({"article": {"tagList": null}}), Some(&token))
        .await;
    assert_eq!(null_tags.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(null_tags.error("tagList"), "can't be null");
}

#[tokio::test]
async fn only_the_author_may_edit_or_delete() {
    let app = spawn_app().await;
    let author = app.register("jake").await;
    let other = app.register("anna").await;
    let slug = app.create_article(&author, "Mine", &[]).await;
    let path = format!("/api/articles/{slug}");
    let edit = app
        .put(
            &path,
            json!({"article": {"body": "hijacked"}}),
            Some(&other),
        )
        .await;
    assert_eq!(edit.status, StatusCode::FORBIDDEN);
    assert_eq!(edit.error("article"), "forbidden");
    assert_eq!(
        app.delete(&path, Some(&other)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.get(&path, None).await.body["article"]["body"], "b");
}

#[tokio::test]
async fn delete_removes_the_article_everywhere() {
    let app = spawn_app_with_consumers(&[]).await;
    let token = app.register("jake").await;
    let fan = app.register("anna").await;
    let slug = app.create_article(&token, "Doomed", &["gone"]).await;
    let path = format!("/api/articles/{slug}");
    app.post(
        &format!("{path}/comments"),
        json!({"comment": {"body": "hi"}}),
        Some(&fan),
    )
    .await;
    app.post(&format!("{path}/favorite"), json!({}), Some(&fan))
        .await;

    assert_eq!(
        app.delete(&path, Some(&token)).await.status,
        StatusCode::NO_CONTENT
    );
    // Its comments and favorites are the stream consumer's to remove.
    app.drain().await;
    assert_eq!(app.get(&path, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&format!("{path}/comments"), None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/api/articles", None).await.body["articlesCount"],
        0
    );
    assert_eq!(
        app.get("/api/articles?favorited=anna", None).await.body["articlesCount"],
        0
    );
    assert_eq!(app.get("/api/tags", None).await.body["tags"], json!([]));
    // The slug is free again.
    assert_eq!(app.create_article(&token, "Doomed", &[]).await, slug);
}

#[tokio::test]
async fn feed_shows_followed_authors_only() {
    let app = spawn_app().await;
    let reader = app.register("reader").await;
    let followed = app.register("followed").await;
    let stranger = app.register("stranger").await;
    let a = app.create_article(&followed, "Followed one", &[]).await;
    app.create_article(&stranger, "Stranger", &[]).await;
    let b = app.create_article(&followed, "Followed two", &[]).await;

    let follow = app
        .post("/api/profiles/followed/follow", json!({}), Some(&reader))
        .await;
    assert_eq!(follow.body["profile"]["following"], true);
    // Articles from before the follow came with it (own_changes.rs).
    let feed = app.get("/api/articles/feed", Some(&reader)).await;
    assert_eq!(feed.body["articlesCount"], 2);
    assert_eq!(slugs(&feed.body), [&b, &a]);
    assert_eq!(feed.body["articles"][0]["author"]["following"], true);

    let page = app
        .get("/api/articles/feed?limit=1&offset=1", Some(&reader))
        .await;
    assert_eq!(slugs(&page.body), [&a]);

    app.delete("/api/profiles/followed/follow", Some(&reader))
        .await;
    let feed = app.get("/api/articles/feed", Some(&reader)).await;
    assert_eq!(feed.body["articlesCount"], 0);
    assert_eq!(slugs(&feed.body), [""; 0]);
}

#[tokio::test]
async fn favorites_move_counts_and_lists() {
    let app = spawn_app().await;
    let author = app.register("jake").await;
    let fan = app.register("anna").await;
    let slug = app.create_article(&author, "Loved", &[]).await;
    let path = format!("/api/articles/{slug}/favorite");

    let favorited = app.post(&path, json!({}), Some(&fan)).await;
    assert_eq!(favorited.body["article"]["favorited"], true);
    assert_eq!(favorited.body["article"]["favoritesCount"], 1);
    // Favoriting twice counts once.
    let again = app.post(&path, json!({}), Some(&fan)).await;
    assert_eq!(again.body["article"]["favoritesCount"], 1);

    let list = app.get("/api/articles?favorited=anna", Some(&fan)).await;
    assert_eq!(list.body["articlesCount"], 1);
    assert_eq!(list.body["articles"][0]["favorited"], true);
    assert_eq!(
        app.get("/api/articles?favorited=anna", None).await.body["articles"][0]["favorited"],
        false
    );

    let removed = app.delete(&path, Some(&fan)).await;
    assert_eq!(removed.body["article"]["favoritesCount"], 0);
    assert_eq!(
        app.delete(&path, Some(&fan)).await.body["article"]["favoritesCount"],
        0
    );
    assert_eq!(
        app.get("/api/articles?favorited=anna", None).await.body["articlesCount"],
        0
    );
}

#[tokio::test]
async fn unknown_articles_are_404_for_every_verb() {
    let app = spawn_app().await;
    let token = app.register("jake").await;
    let path = "/api/articles/nope";
    assert_eq!(app.get(path, None).await.error("article"), "not found");
    assert_eq!(
        app.put(path, json!({"article": {"body": "x"}}), Some(&token))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete(path, Some(&token)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post("/api/articles/nope/favorite", json!({}), Some(&token))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn hostile_lookups_are_4xx_or_empty_never_500() {
    let app = spawn_app().await;
    let token = app.register("jake").await;
    let slug = app.create_article(&token, "Target", &[]).await;
    // A cursor that decodes but is no article id.
    assert_eq!(
        app.get("/api/articles?cursor=YWJj", None).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Keys longer than DynamoDB allows cannot exist.
    let long = "x".repeat(3000);
    assert_eq!(
        app.get(&format!("/api/articles/{long}"), None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/api/profiles/{long}"), None).await.status,
        StatusCode::NOT_FOUND
    );
    let by_tag = app.get(&format!("/api/articles?tag={long}"), None).await;
    assert_eq!(
        (by_tag.status, by_tag.body["articlesCount"].as_u64()),
        (StatusCode::OK, Some(0))
    );
    // The last possible comment id as a cursor: nothing after it.
    let cursor = conduit_common::http::next_cursor(&[u64::MAX], 1, |id| id.to_string()).unwrap();
    let comments = app
        .get(
            &format!("/api/articles/{slug}/comments?cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(comments.status, StatusCode::OK);
    assert_eq!(comments.body["comments"], json!([]));
}

#[tokio::test]
async fn deleting_a_stale_copy_removes_the_current_tags() {
    let app = spawn_app().await;
    let token = app.register("jake").await;
    let slug = app.create_article(&token, "Edited", &["old"]).await;
    let db = &app.state.db;
    let stale = db.article_by_slug(&slug).await.unwrap().unwrap();
    // An edit lands between the delete's read and its write.
    let edited = app
        .put(
            &format!("/api/articles/{slug}"),
            json!({"article": {"tagList": ["new"]}}),
            Some(&token),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK);
    db.delete_article(&stale, None).await.unwrap();
    assert_eq!(app.get("/api/tags", None).await.body["tags"], json!([]));
    assert_eq!(
        app.get("/api/articles?tag=new", None).await.body["articlesCount"],
        0
    );
    assert_eq!(
        app.get("/api/articles?tag=old", None).await.body["articlesCount"],
        0
    );
}
