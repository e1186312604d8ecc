//! DynamoDB round trips per request, measured through the API's own meter,
//! against the figures docs/data-model.md documents for each access
//! pattern: the calls, and how many of them the request waits for one
//! after another (latency is paid per round trip in sequence). A change
//! that adds either fails here until the document (and the reasoning
//! behind it) changes too.

use aws_sdk_dynamodb::types::AttributeValue;
use conduit_common::domain::Role;
use conduit_common::lambda_http::http::Method;
use conduit_tests::{TestApp, TestResponse, heavy_test, repo_file, spawn_app_with};
use serde_json::{Value, json};

/// A request's cost as the access-pattern table states it: anonymous and
/// signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Documented {
    calls: (u32, u32),
    sequential: (u32, u32),
}

impl Documented {
    fn anonymous(&self) -> Cost {
        Cost {
            calls: self.calls.0,
            sequential: self.sequential.0,
        }
    }

    fn signed_in(&self) -> Cost {
        Cost {
            calls: self.calls.1,
            sequential: self.sequential.1,
        }
    }
}

/// One request's round trips: all of them, and those in sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cost {
    calls: u32,
    sequential: u32,
}

impl Cost {
    fn of(response: &TestResponse) -> Cost {
        let usage = response.cost();
        Cost {
            calls: usage.db_calls,
            sequential: usage.db_sequential,
        }
    }
}

/// The documented cost of `pattern` (the first column of its row in the
/// access-pattern table, e.g. "`GET /api/tags`").
fn documented(pattern: &str) -> Documented {
    let (calls, sequential) = documented_cell(pattern);
    Documented {
        calls: counts(&calls),
        sequential: counts(&sequential),
    }
}

/// The round trips and in sequence cells of `pattern`'s row, as written.
fn documented_cell(pattern: &str) -> (String, String) {
    let doc = repo_file("docs/data-model.md");
    let row = doc
        .lines()
        .find(|line| line.starts_with(&format!("| `{pattern}` |")))
        .unwrap_or_else(|| panic!("no row for {pattern} in docs/data-model.md"));
    let cells: Vec<&str> = row.trim_end_matches('|').rsplit('|').collect();
    (cells[1].trim().to_owned(), cells[0].trim().to_owned())
}

/// "anonymous / signed in" counts from a cell.
fn counts(cell: &str) -> (u32, u32) {
    // "3 / 4 (+1 per extra month ...)", "4 + F (...)" or "2".
    let head = cell.split(" (").next().unwrap();
    let leading = |text: &str| -> u32 {
        let digits: String = text
            .trim()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits
            .parse()
            .unwrap_or_else(|_| panic!("no count in {cell:?}"))
    };
    match head.split_once(" / ") {
        Some((anonymous, signed_in)) => (leading(anonymous), leading(signed_in)),
        None => (leading(head), leading(head)),
    }
}

async fn cost(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
    token: Option<&str>,
) -> Cost {
    let response = app.request(method, path, body, token).await;
    assert!(
        response.status.is_success(),
        "{path}: {} {:?}",
        response.status,
        response.body
    );
    Cost::of(&response)
}

/// An app that reports each request's cost, with the read cache off (the
/// documented figures are those of a cold process), an author with one
/// tagged article, and a reader. Returns the app, both tokens and the slug.
async fn measured_app() -> (TestApp, String, String, String) {
    let app = spawn_app_with(&[("SERVER_TIMING", "1"), ("CACHE_TTL_SECONDS", "0")]).await;
    let author = app.register("author").await;
    let reader = app.register("reader").await;
    let slug = app.create_article(&author, "Measured", &["rust"]).await;
    (app, author, reader, slug)
}

#[tokio::test]
async fn reads_cost_the_documented_round_trips() {
    let (app, author, reader, slug) = measured_app().await;
    app.post(
        &format!("/api/articles/{slug}/comments"),
        json!({"comment": {"body": "hi"}}),
        Some(&author),
    )
    .await;
    app.post("/api/profiles/author/follow", json!({}), Some(&reader))
        .await;
    app.post(
        &format!("/api/articles/{slug}/favorite"),
        json!({}),
        Some(&reader),
    )
    .await;

    for (pattern, path) in [
        ("GET /api/tags", "/api/tags".to_owned()),
        ("GET /api/articles", "/api/articles".to_owned()),
        (
            "GET /api/articles?tag=",
            "/api/articles?tag=rust".to_owned(),
        ),
        (
            "GET /api/articles?author=",
            "/api/articles?author=author".to_owned(),
        ),
        (
            "GET /api/articles?favorited=",
            "/api/articles?favorited=reader".to_owned(),
        ),
        ("GET /api/articles/{slug}", format!("/api/articles/{slug}")),
        (
            "GET /api/articles/{slug}/comments",
            format!("/api/articles/{slug}/comments"),
        ),
        (
            "GET /api/profiles/{username}",
            "/api/profiles/author".to_owned(),
        ),
    ] {
        let documented = documented(pattern);
        assert_eq!(
            cost(&app, Method::GET, &path, None, None).await,
            documented.anonymous(),
            "{pattern}, anonymous"
        );
        assert_eq!(
            cost(&app, Method::GET, &path, None, Some(&reader)).await,
            documented.signed_in(),
            "{pattern}, signed in"
        );
    }
}

/// Your own profile is the auth read's: once the username's guard, read
/// alongside, names you, nothing more is read.
#[tokio::test]
async fn your_own_profile_costs_what_its_row_says_in_brackets() {
    let (app, _, reader, _) = measured_app().await;
    let row = documented_cell("GET /api/profiles/{username}");
    let own = |cell: &str| counts(cell.split_once(" (").unwrap().1);
    let documented = Cost {
        calls: own(&row.0).0,
        sequential: own(&row.1).0,
    };
    let spent = cost(
        &app,
        Method::GET,
        "/api/profiles/reader",
        None,
        Some(&reader),
    )
    .await;
    assert_eq!(spent, documented);
}

/// The feed is materialised: a page costs the same whether the reader
/// follows one user or five thousand.
#[tokio::test]
async fn a_feed_page_costs_the_same_at_any_follow_count() {
    let _alone = heavy_test().await;
    let feed = documented("GET /api/articles/feed").signed_in();
    for follows in [1, 100, 5_000] {
        // Delivered inline (each author has one follower): no stream needed.
        let app = spawn_app_with(&[("SERVER_TIMING", "1"), ("CACHE_TTL_SECONDS", "0")]).await;
        let reader = app.register("reader").await;
        let followed = app.seed_followed("reader", follows).await;
        // A page's worth of articles by different authors, and more.
        for author in followed.iter().take(25) {
            let token = app.sign_in(author).await;
            app.create_article(&token, &format!("By {}", author.username), &[])
                .await;
        }
        // Each author has one follower: their articles were delivered inline.
        let page = app.get("/api/articles/feed", Some(&reader)).await;
        assert_eq!(
            page.body["articlesCount"],
            follows.min(25),
            "{follows} follows"
        );
        assert_eq!(
            cost(&app, Method::GET, "/api/articles/feed", None, Some(&reader)).await,
            feed,
            "a feed page at {follows} follows"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn writes_cost_the_documented_round_trips() {
    let (app, author, reader, slug) = measured_app().await;
    let cases: [(&str, Method, String, Option<Value>, &str); 7] = [
        (
            "POST /api/profiles/{username}/follow",
            Method::POST,
            "/api/profiles/author/follow".into(),
            Some(json!({})),
            &reader,
        ),
        (
            "DELETE /api/profiles/{username}/follow",
            Method::DELETE,
            "/api/profiles/author/follow".into(),
            None,
            &reader,
        ),
        (
            "POST /api/articles",
            Method::POST,
            "/api/articles".into(),
            Some(json!({"article": {"title": "Another", "description": "d", "body": "b"}})),
            &author,
        ),
        (
            "POST /api/articles/{slug}/comments",
            Method::POST,
            format!("/api/articles/{slug}/comments"),
            Some(json!({"comment": {"body": "hi"}})),
            &reader,
        ),
        (
            "POST /api/articles/{slug}/favorite",
            Method::POST,
            format!("/api/articles/{slug}/favorite"),
            None,
            &reader,
        ),
        (
            "DELETE /api/articles/{slug}/favorite",
            Method::DELETE,
            format!("/api/articles/{slug}/favorite"),
            None,
            &reader,
        ),
        (
            "PUT /api/articles/{slug}",
            Method::PUT,
            format!("/api/articles/{slug}"),
            Some(json!({"article": {"body": "edited"}})),
            &author,
        ),
    ];
    for (pattern, method, path, body, token) in cases {
        assert_eq!(
            cost(&app, method, &path, body, Some(token)).await,
            documented(pattern).signed_in(),
            "{pattern}"
        );
    }
}

/// An author with followers (1 to 100) also delivers a new article to their
/// feeds in the request: the row's "+1 + ⌈followers / 49⌉ with followers"
/// calls, one more in sequence. The follower's next feed read shows it.
#[tokio::test]
async fn creating_an_article_delivers_it_to_a_few_followers_in_the_request() {
    let (app, author, reader, _) = measured_app().await;
    app.post("/api/profiles/author/follow", json!({}), Some(&reader))
        .await;
    let base = documented("POST /api/articles").signed_in();
    let spent = cost(
        &app,
        Method::POST,
        "/api/articles",
        Some(json!({"article": {"title": "Delivered", "description": "d", "body": "b"}})),
        Some(&author),
    )
    .await;
    let followers: u32 = 1;
    assert_eq!(
        spent,
        Cost {
            calls: base.calls + 1 + followers.div_ceil(49),
            sequential: base.sequential + 1,
        }
    );
    let feed = app.get("/api/articles/feed", Some(&reader)).await;
    assert_eq!(feed.body["articles"][0]["title"], "Delivered");
}

/// Authentication is the one read of the user item, sessions included;
/// signing in and out cost what the document says.
#[tokio::test]
async fn sessions_cost_the_documented_round_trips() {
    let (app, _, reader, _) = measured_app().await;
    for (pattern, path) in [
        ("GET /api/user", "/api/user"),
        ("GET /api/user/sessions", "/api/user/sessions"),
    ] {
        let spent = cost(&app, Method::GET, path, None, Some(&reader)).await;
        assert_eq!(spent, documented(pattern).signed_in(), "{pattern}");
    }

    let credentials = json!({"user": {"email": "reader@example.com", "password": "password123"}});
    let login = app.post("/api/users/login", credentials, None).await;
    assert_eq!(
        Cost::of(&login),
        documented("POST /api/users/login").anonymous()
    );
    let token = login.body["user"]["token"].as_str().unwrap();

    let listed = app.get("/api/user/sessions", Some(token)).await;
    let other = listed.body["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/user/sessions/{other}");
    let spent = cost(&app, Method::DELETE, &path, None, Some(token)).await;
    assert_eq!(
        spent,
        documented("DELETE /api/user/sessions/{id}").signed_in()
    );
    let spent = cost(&app, Method::POST, "/api/user/logout", None, Some(token)).await;
    assert_eq!(spent, documented("POST /api/user/logout").signed_in());
}

/// GraphQL's page waits for what REST's waits for, in no more calls: the
/// decoration of its authors, follows and favorites is one batch read in
/// both.
#[tokio::test]
async fn a_graphql_page_costs_no_more_than_the_rest_page() {
    let (app, _, reader, _) = measured_app().await;
    let page = json!({"query": "{ articles(limit: 20) { articlesCount articles {
        slug favorited favoritesCount author { username following } } } }"});
    let spent = cost(
        &app,
        Method::POST,
        "/api/graphql",
        Some(page),
        Some(&reader),
    )
    .await;
    let rest = documented("GET /api/articles").signed_in();
    assert!(spent.calls <= rest.calls, "{spent:?} against {rest:?}");
    assert_eq!(spent.sequential, rest.sequential);
    assert_eq!(
        spent,
        documented("POST /api/graphql (a page of articles)").signed_in()
    );
}

/// An article with its comments and their authors costs the same with 10
/// comments as with 100 but for one batch read: the authors and whom the
/// reader follows among them are read together, 100 keys a call (two
/// calls past 50 commenters).
#[tokio::test]
async fn an_article_with_its_comments_costs_one_call_more_past_50_commenters() {
    let (app, _, reader, slug) = measured_app().await;
    let query = json!({"query": format!("{{ article(slug: \"{slug}\") {{ title
        comments(limit: 100) {{ body author {{ username following }} }} }} }}")});
    let commenters = app.seed_followers("author", 100).await;
    let mut spent = vec![];
    for (from, to) in [(0, 10), (10, 100)] {
        for commenter in &commenters[from..to] {
            let token = app.sign_in(commenter).await;
            let comment = json!({"comment": {"body": "hi"}});
            app.post(
                &format!("/api/articles/{slug}/comments"),
                comment,
                Some(&token),
            )
            .await;
        }
        let response = app.post("/api/graphql", query.clone(), Some(&reader)).await;
        let comments = response.body["data"]["article"]["comments"].as_array();
        assert_eq!(comments.map(Vec::len), Some(to), "{}", response.body);
        spent.push(Cost::of(&response));
    }
    let documented = documented("POST /api/graphql (an article with its comments)");
    assert_eq!(spent[0], documented.signed_in());
    let past_50 = Cost {
        calls: spent[0].calls + 1,
        ..spent[0]
    };
    assert_eq!(spent[1], past_50);
}

/// The home screen in one query, signed in: a page of 20 articles by four
/// authors, with whether the reader follows each author and favorited each
/// article, and every article's first 3 comments with their authors. One
/// comments query per article, all at once; every profile, follow and
/// favorite in as few batch reads as the round trips in sequence allow.
#[tokio::test]
async fn the_home_screen_query_costs_its_floor() {
    let app = spawn_app_with(&[("SERVER_TIMING", "1"), ("CACHE_TTL_SECONDS", "0")]).await;
    let names = ["ann", "bob", "cy", "di", "eve", "fay", "gus", "reader"];
    let mut tokens = std::collections::HashMap::new();
    for name in names {
        tokens.insert(name, app.seed_user(name, Role::User).await);
    }
    let reader = tokens["reader"].clone();
    // The reader follows two of the four authors and one other commenter.
    let followed = ["ann", "cy", "fay"];
    for name in followed {
        let path = format!("/api/profiles/{name}/follow");
        let follow = app.post(&path, json!({}), Some(&reader)).await;
        assert!(follow.status.is_success(), "{}", follow.body);
    }
    let authors = ["ann", "bob", "cy", "di"];
    // Commenters: authors, others, and the reader themself.
    let commenters = ["eve", "fay", "gus", "reader", "bob", "ann", "di"];
    let author_of = |i: usize| authors[i % authors.len()];
    let commenter = |i: usize, k: usize| commenters[(i + 2 * k) % commenters.len()];
    let favorited = |i: usize| i.is_multiple_of(3);
    for i in 0..20 {
        let slug = app
            .create_article(&tokens[author_of(i)], &format!("Article {i}"), &[])
            .await;
        // Article 0 has a fourth comment, past the 3 asked for.
        for k in 0..if i == 0 { 4 } else { 3 } {
            let comment = json!({"comment": {"body": format!("Comment {k} on {i}")}});
            let path = format!("/api/articles/{slug}/comments");
            let added = app
                .post(&path, comment, Some(&tokens[commenter(i, k)]))
                .await;
            assert!(added.status.is_success(), "{}", added.body);
        }
        if favorited(i) {
            let path = format!("/api/articles/{slug}/favorite");
            let favorite = app.post(&path, json!({}), Some(&reader)).await;
            assert!(favorite.status.is_success(), "{}", favorite.body);
        }
    }

    let query = json!({"query": "{ articles(limit: 20) { articlesCount articles {
        slug title favorited favoritesCount author { username following }
        comments(limit: 3) { body author { username following } } } } }"});
    let response = app.post("/api/graphql", query, Some(&reader)).await;
    assert!(response.body.get("errors").is_none(), "{}", response.body);
    let page = &response.body["data"]["articles"];
    assert_eq!(page["articlesCount"], 20);
    let profile = |name: &str| json!({"username": name, "following": followed.contains(&name)});
    let articles = page["articles"].as_array().unwrap();
    let titles: Vec<&str> = articles
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    let newest_first: Vec<String> = (0..20).rev().map(|i| format!("Article {i}")).collect();
    assert_eq!(titles, newest_first);
    for (article, i) in articles.iter().zip((0..20).rev()) {
        assert_eq!(article["author"], profile(author_of(i)), "article {i}");
        assert_eq!(article["favorited"], favorited(i), "article {i}");
        assert_eq!(
            article["favoritesCount"],
            u64::from(favorited(i)),
            "article {i}"
        );
        let comments: Vec<Value> = (0..3)
            .map(|k| json!({"body": format!("Comment {k} on {i}"), "author": profile(commenter(i, k))}))
            .collect();
        assert_eq!(article["comments"], json!(comments), "article {i}");
    }

    let spent = Cost::of(&response);
    assert!(spent.calls <= 30 && spent.sequential <= 4, "{spent:?}");
    assert_eq!(
        spent,
        documented("POST /api/graphql (the home screen)").signed_in()
    );
}

/// A slug guard written before guards named the author still serves its
/// article, whole, at one more round trip in sequence (the article is read
/// before its author's profile can be).
#[tokio::test]
async fn an_article_whose_guard_predates_its_author_costs_one_more_round_trip() {
    let (app, _, reader, slug) = measured_app().await;
    let path = format!("/api/articles/{slug}");
    let current = app.get(&path, Some(&reader)).await;
    let (pk, sk) = conduit_common::db::keys::slug(&slug);
    app.state
        .db
        .client
        .update_item()
        .table_name(&app.state.db.table)
        .key("PK", AttributeValue::S(pk))
        .key("SK", AttributeValue::S(sk))
        .update_expression("REMOVE author_id")
        .send()
        .await
        .expect("guard rewritten as before");

    let old = app.get(&path, Some(&reader)).await;
    assert_eq!(old.body, current.body);
    let (before, after) = (Cost::of(&current), Cost::of(&old));
    assert_eq!(after.calls, before.calls);
    assert_eq!(after.sequential, before.sequential + 1);
}

/// Deleting an account, by its owner (the password checked as a login
/// checks it) or by an admin: the request's part; the rest is the stream's.
#[tokio::test]
async fn deleting_an_account_costs_the_documented_round_trips() {
    let (app, author, _, _) = measured_app().await;
    let own = cost(
        &app,
        Method::DELETE,
        "/api/user",
        Some(json!({"user": {"password": "password123"}})),
        Some(&author),
    )
    .await;
    assert_eq!(own, documented("DELETE /api/user").signed_in());
    let admin = app.seed_user("admin", Role::Admin).await;
    let by_admin = cost(
        &app,
        Method::DELETE,
        "/api/admin/users/reader",
        None,
        Some(&admin),
    )
    .await;
    assert_eq!(
        by_admin,
        documented("DELETE /api/admin/users/{username}").signed_in()
    );
}
