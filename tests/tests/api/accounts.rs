//! Accounts that leave: the delete itself (its names free and its tokens
//! dead at once), and what the `clean_up_users` consumer removes after,
//! with every other user's counts exact, after a crash midway and a replay.

use conduit_common::db::users::User;
use conduit_common::lambda_http::http::{Method, StatusCode};
use conduit_tests::{TestApp, TestResponse, heavy_test, slugs, spawn_app_with_consumers};
use serde_json::json;

/// `DELETE /api/user` with `password`.
async fn delete_account(app: &TestApp, token: &str, password: &str) -> TestResponse {
    let body = json!({"user": {"password": password}});
    app.request(Method::DELETE, "/api/user", Some(body), Some(token))
        .await
}

#[tokio::test]
async fn a_deleted_account_is_gone_at_once_and_its_names_are_free() {
    let app = spawn_app_with_consumers(&[]).await;
    let token = app.register("leaver").await;

    let wrong = delete_account(&app, &token, "not my password").await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert_eq!(wrong.error("password"), "is not this account's");
    assert_eq!(app.get("/api/user", Some(&token)).await.status, 200);

    let deleted = delete_account(&app, &token, "password123").await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{:?}", deleted.body);
    // No consumer has run: all of this is the delete's own doing.
    assert_eq!(app.get("/api/user", Some(&token)).await.status, 401);
    assert_eq!(app.get("/api/profiles/leaver", None).await.status, 404);
    let login = app.login("leaver", "password123").await;
    assert_eq!(login.status, 401);
    let again = app.register("leaver").await;
    assert_ne!(again, token);
    assert_eq!(app.get("/api/user", Some(&token)).await.status, 401);
    assert_eq!(app.get("/api/user", Some(&again)).await.status, 200);
}

#[tokio::test]
async fn an_admin_deletes_an_account_and_the_audit_trail_says_so() {
    let app = spawn_app_with_consumers(&[]).await;
    let admin = app
        .seed_user("boss", conduit_common::domain::Role::Admin)
        .await;
    let token = app.register("spammer").await;
    let deleted = app.delete("/api/admin/users/spammer", Some(&admin)).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/api/user", Some(&token)).await.status, 401);
    let audit = app.get("/api/admin/audit", Some(&admin)).await;
    let newest = &audit.body["entries"][0];
    assert_eq!(
        (&newest["action"], &newest["target"], &newest["actor"]),
        (
            &json!("user.delete"),
            &json!("user:spammer"),
            &json!("boss")
        )
    );
    let own = app.delete("/api/admin/users/boss", Some(&admin)).await;
    assert_eq!(own.status, StatusCode::FORBIDDEN, "not their own, not here");
}

/// A leaver with articles (favorited, commented on, in feeds), comments
/// and favorites of their own, follows both ways (one follower pulls
/// them); and the people around them.
struct Neighbourhood {
    leaver: String,
    /// Follows the leaver, favorites and comments on their article.
    fan: String,
    /// The article the leaver favorited and commented on, by someone they
    /// follow (`author`; `puller` pulls the leaver's articles instead).
    kept: String,
}

async fn neighbourhood(app: &TestApp) -> Neighbourhood {
    let leaver = app.register("leaver").await;
    let fan = app.register("fan").await;
    let author = app.register("author").await;
    let puller = app.register("puller").await;
    let kept = app.create_article(&author, "Kept", &["kept"]).await;
    app.post("/api/profiles/author/follow", json!({}), Some(&leaver))
        .await;
    app.post("/api/profiles/leaver/follow", json!({}), Some(&fan))
        .await;
    // Very followed, as the puller finds them.
    app.set_followers_count("leaver", 20_000).await;
    app.post("/api/profiles/leaver/follow", json!({}), Some(&puller))
        .await;
    app.set_followers_count("leaver", 2).await;
    for title in ["Gone one", "Gone two"] {
        let slug = app.create_article(&leaver, title, &["gone"]).await;
        let path = format!("/api/articles/{slug}");
        app.post(&format!("{path}/favorite"), json!({}), Some(&fan))
            .await;
        let comment = json!({"comment": {"body": "nice"}});
        app.post(&format!("{path}/comments"), comment, Some(&fan))
            .await;
    }
    let path = format!("/api/articles/{kept}");
    app.post(&format!("{path}/favorite"), json!({}), Some(&leaver))
        .await;
    let comment = json!({"comment": {"body": "mine"}});
    app.post(&format!("{path}/comments"), comment, Some(&leaver))
        .await;
    Neighbourhood { leaver, fan, kept }
}

/// The counters of `username`: articles, favorites, following, followers,
/// feed, and how many authors they pull.
async fn counts(app: &TestApp, username: &str) -> [u64; 6] {
    let user: User = app.user(username).await;
    [
        user.articles_count,
        user.favorites_count,
        user.following_count,
        user.followers_count,
        user.feed_count,
        user.pulls.len() as u64,
    ]
}

/// Every trace of the leaver is gone, and everyone else's counts are what
/// they would be had the leaver never been.
async fn assert_gone(app: &TestApp, n: &Neighbourhood) {
    assert_eq!(counts(app, "fan").await, [0, 0, 0, 0, 0, 0]);
    assert_eq!(counts(app, "author").await, [1, 0, 0, 0, 0, 0]);
    assert_eq!(counts(app, "puller").await, [0, 0, 0, 0, 0, 0]);
    let article = app.get(&format!("/api/articles/{}", n.kept), None).await;
    assert_eq!(article.body["article"]["favoritesCount"], 0);
    let comments = app
        .get(&format!("/api/articles/{}/comments", n.kept), None)
        .await;
    assert_eq!(comments.body["comments"], json!([]));
    let all = app.get("/api/articles", None).await;
    assert_eq!(
        (all.body["articlesCount"].as_u64(), slugs(&all.body)),
        (Some(1), vec![n.kept.as_str()])
    );
    let tags = app.get("/api/tags", None).await;
    assert_eq!(tags.body["tags"], json!(["kept"]));
    let feed = app.get("/api/articles/feed", Some(&n.fan)).await;
    assert_eq!(feed.body["articlesCount"], 0);
    // Nothing is left under any key that named them.
    let db = &app.state.db;
    let items = db
        .client
        .scan()
        .table_name(&db.table)
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    let leaver_id = app
        .state
        .jwt
        .decode(&n.leaver)
        .expect("the leaver's token still decodes")
        .sub;
    let mentions: Vec<_> = items
        .iter()
        .filter(|item| format!("{item:?}").contains(&leaver_id))
        .filter(|item| !format!("{item:?}").contains("AUDIT"))
        .collect();
    assert!(mentions.is_empty(), "left behind: {mentions:#?}");
}

#[tokio::test]
async fn what_a_deleted_account_had_goes_and_every_count_stays_exact() {
    let app = spawn_app_with_consumers(&[]).await;
    let n = neighbourhood(&app).await;
    app.drain().await;
    assert_eq!(counts(&app, "fan").await, [0, 2, 1, 0, 2, 0]);
    assert_eq!(counts(&app, "puller").await, [0, 0, 1, 0, 0, 1]);
    let deleted = delete_account(&app, &n.leaver, "password123").await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(app.drain().await > 0);
    assert_gone(&app, &n).await;
}

#[tokio::test]
async fn a_clean_up_that_fails_midway_converges_on_retry_and_a_replay_changes_nothing() {
    let _alone = heavy_test().await;
    let app = spawn_app_with_consumers(&[]).await;
    let n = neighbourhood(&app).await;
    app.drain().await;
    delete_account(&app, &n.leaver, "password123").await;
    // The consumers' database fails their second transaction: the first
    // of the leaver's articles is deleted, the second fails, and the rest
    // of the clean-up waits for the retry.
    let (failing, events) = app.event_source_failing_at(2);
    events.drain().await.unwrap();
    assert!(failing.fired(), "the fault was injected");
    assert_eq!(events.failures(), vec![], "the retry succeeded");
    assert_gone(&app, &n).await;

    let replay = app.event_source(app.state.db.clone(), functions::CONSUMERS);
    assert!(replay.drain().await.unwrap() > 0);
    assert_eq!(replay.failures(), vec![]);
    assert_gone(&app, &n).await;
    app.finish().await;
}

/// An account with 1,000 articles, 5,000 follows and 10,000 followers
/// (seeded before the stream is on, so the seed sets off no fan-out), some
/// of its articles favorited and commented on. Its deletion, with the
/// consumers' database failing midway, leaves every other user's counts
/// exact. (A tenth of that on DynamoDB Local, whose every write slows down
/// with the stream records it keeps: the whole size took it 105 s, the
/// embedded engine 50 s.)
#[tokio::test]
async fn a_large_account_is_deleted_exactly_despite_a_crash_midway() {
    let _alone = heavy_test().await;
    let scale = match std::env::var("TEST_DYNAMODB_ENDPOINT") {
        Ok(endpoint) if !endpoint.is_empty() => 10,
        _ => 1,
    };
    let app = conduit_tests::spawn_app_with(&[]).await;
    let (leaver, around) = app
        .seed_large_account(1_000 / scale, 5_000 / scale, 10_000 / scale)
        .await;
    let app = app.with_stream().await;

    let deleted = delete_account(&app, &leaver, "password123").await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let started = std::time::Instant::now();
    // A transaction fails midway through the articles' deletions.
    let (failing, events) = app.event_source_failing_at(500 / scale as i64);
    events.drain().await.unwrap();
    assert!(failing.fired(), "the fault was injected");
    assert_eq!(events.failures(), vec![], "the retry succeeded");
    eprintln!("clean-up of the large account: {:?}", started.elapsed());

    let ids: Vec<&str> = around.iter().map(|u| u.id.as_str()).collect();
    let mut others = vec![];
    for chunk in ids.chunks(100) {
        others.extend(app.state.db.users_by_ids(chunk).await.unwrap());
    }
    assert_eq!(others.len(), 15_000 / scale);
    let counted: Vec<(u64, u64)> = others
        .iter()
        .map(|u| (u.following_count, u.followers_count))
        .filter(|counts| *counts != (0, 0))
        .collect();
    assert!(
        counted.is_empty(),
        "{} still count the leaver",
        counted.len()
    );
    assert_eq!(counts(&app, "fan").await, [0, 0, 0, 0, 0, 0]);
    let all = app.get("/api/articles", None).await;
    assert_eq!(all.body["articlesCount"], 0);
    assert_eq!(app.get("/api/tags", None).await.body["tags"], json!([]));
    app.finish().await;
}

/// Every page of the caller's export, following the cursors.
async fn export_pages(app: &TestApp, token: &str) -> Vec<serde_json::Value> {
    let mut pages = vec![];
    let mut path = "/api/user/export".to_owned();
    loop {
        let page = app.get(&path, Some(token)).await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        assert_eq!(page.header("cache-control"), Some("no-store"));
        let next = page.body["nextCursor"].as_str().map(str::to_owned);
        pages.push(page.body);
        match next {
            Some(cursor) => path = format!("/api/user/export?cursor={cursor}"),
            None => return pages,
        }
    }
}

/// The `field` of every page of `part`, one list.
fn all_of(pages: &[serde_json::Value], part: &str, field: &str) -> Vec<serde_json::Value> {
    pages
        .iter()
        .filter(|page| page["part"] == part)
        .flat_map(|page| page[field].as_array().cloned().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn an_account_exports_everything_it_holds_by_pages() {
    let app = spawn_app_with_consumers(&[]).await;
    let me = app.register("me").await;
    let other = app.register("other").await;
    app.login("me", "password123").await;
    let mut mine = vec![];
    for n in 0..12 {
        mine.push(app.create_article(&me, &format!("Mine {n}"), &["t"]).await);
    }
    let theirs = app.create_article(&other, "Theirs", &[]).await;
    for slug in [&theirs, &mine[0]] {
        let path = format!("/api/articles/{slug}");
        app.post(&format!("{path}/favorite"), json!({}), Some(&me))
            .await;
        let comment = json!({"comment": {"body": format!("on {slug}")}});
        app.post(&format!("{path}/comments"), comment, Some(&me))
            .await;
    }
    // Someone else's comment is not mine to export.
    let path = format!("/api/articles/{}/comments", mine[1]);
    app.post(
        &path,
        json!({"comment": {"body": "not mine"}}),
        Some(&other),
    )
    .await;
    app.post("/api/profiles/other/follow", json!({}), Some(&me))
        .await;

    let pages = export_pages(&app, &me).await;
    let parts: Vec<&str> = pages.iter().map(|p| p["part"].as_str().unwrap()).collect();
    assert_eq!(
        parts,
        [
            "profile",
            "articles",
            "articles",
            "comments",
            "favorites",
            "following",
            "sessions"
        ]
    );
    assert_eq!(pages[0]["profile"]["email"], "me@example.com");
    let articles = all_of(&pages, "articles", "articles");
    let slugs: Vec<&str> = articles
        .iter()
        .map(|a| a["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, mine.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(articles[0]["body"], "b", "whole, with their bodies");
    let comments = all_of(&pages, "comments", "comments");
    let on: Vec<(&str, &str)> = comments
        .iter()
        .map(|c| (c["article"].as_str().unwrap(), c["body"].as_str().unwrap()))
        .collect();
    let on_theirs = format!("on {theirs}");
    let on_mine = format!("on {}", mine[0]);
    assert_eq!(
        on,
        [
            (theirs.as_str(), on_theirs.as_str()),
            (mine[0].as_str(), on_mine.as_str())
        ]
    );
    let mut favorites = all_of(&pages, "favorites", "favorites");
    favorites.sort_by_key(|f| f.to_string());
    let mut expected = vec![json!(theirs), json!(mine[0])];
    expected.sort_by_key(|f| f.to_string());
    assert_eq!(favorites, expected);
    assert_eq!(all_of(&pages, "following", "following"), [json!("other")]);
    assert_eq!(all_of(&pages, "sessions", "sessions").len(), 2);

    let bad = app.get("/api/user/export?cursor=nope", Some(&me)).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.error("cursor"), "is invalid");
}
