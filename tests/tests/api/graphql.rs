//! GraphQL: the official suite's flows replayed over `/api/graphql`, their
//! error cases with GraphQL's error codes, and the limits a hostile query
//! meets.

use conduit_common::domain::Role;
use conduit_common::lambda_http::Body;
use conduit_common::lambda_http::http::{Method, Request, StatusCode};
use conduit_tests::{TestApp, TestResponse, spawn_app, spawn_app_with_consumers};
use serde_json::{Value, json};

/// The `data` of a response that must have no errors.
fn data(response: &TestResponse) -> &Value {
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert!(
        response.body.get("errors").is_none(),
        "unexpected errors: {}",
        response.body["errors"]
    );
    &response.body["data"]
}

/// The first message for `field` of the first error, in its `extensions.fields`.
fn field_error<'a>(response: &'a TestResponse, field: &str) -> &'a str {
    response.body["errors"][0]["extensions"]["fields"][field][0]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} error in {}", response.body))
}

/// Each error's `extensions.code`, in order.
fn codes(response: &TestResponse) -> Vec<&str> {
    response.body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {}", response.body))
        .iter()
        .map(|e| e["extensions"]["code"].as_str().unwrap_or("(none)"))
        .collect()
}

const REGISTER: &str = "mutation($user: NewUserInput!) {
    register(user: $user) { username email token bio image } }";
const LOGIN: &str = "mutation($user: LoginInput!) { login(user: $user) { username token } }";
const CREATE: &str = "mutation($article: NewArticleInput!) {
    createArticle(article: $article) { slug title body tagList favorited favoritesCount
      author { username following } } }";

async fn register(app: &TestApp, name: &str) -> String {
    let user = json!({"username": name, "email": format!("{name}@example.com"), "password": "password123"});
    let response = app.graphql(REGISTER, json!({"user": user}), None).await;
    data(&response)["register"]["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn create(app: &TestApp, token: &str, title: &str, tags: &[&str]) -> String {
    let article = json!({"title": title, "description": "d", "body": "b", "tagList": tags});
    let response = app
        .graphql(CREATE, json!({"article": article}), Some(token))
        .await;
    data(&response)["createArticle"]["slug"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn auth_registers_logs_in_reads_and_updates_the_user() {
    let app = spawn_app().await;
    let token = register(&app, "jake").await;

    let credentials = json!({"user": {"email": "jake@example.com", "password": "password123"}});
    let login = app.graphql(LOGIN, credentials, None).await;
    assert_eq!(data(&login)["login"]["username"], "jake");

    let viewer = app
        .graphql("{ viewer { username email bio } }", json!({}), Some(&token))
        .await;
    assert_eq!(
        data(&viewer)["viewer"],
        json!({"username": "jake", "email": "jake@example.com", "bio": null})
    );

    let update = "mutation($user: UpdateUserInput!) { updateUser(user: $user) { bio image } }";
    let edited = app
        .graphql(
            update,
            json!({"user": {"bio": "I like to skateboard", "image": null}}),
            Some(&token),
        )
        .await;
    assert_eq!(
        data(&edited)["updateUser"],
        json!({"bio": "I like to skateboard", "image": null})
    );
}

#[tokio::test]
async fn auth_errors_have_their_codes_and_field_messages() {
    let app = spawn_app().await;
    register(&app, "jake").await;

    let wrong = json!({"user": {"email": "jake@example.com", "password": "wrong-password"}});
    let refused = app.graphql(LOGIN, wrong, None).await;
    assert_eq!(refused.status, StatusCode::OK);
    assert_eq!(codes(&refused), ["UNAUTHENTICATED"]);
    assert_eq!(refused.body["data"], Value::Null);

    let taken = json!({"user": {"username": "jake", "email": "jake@example.com", "password": "password123"}});
    let conflict = app.graphql(REGISTER, taken, None).await;
    assert_eq!(codes(&conflict), ["CONFLICT"]);
    assert_eq!(
        conflict.body["errors"][0]["extensions"]["fields"],
        json!({"email": ["has already been taken"], "username": ["has already been taken"]})
    );

    let blank = json!({"user": {"username": "", "email": "", "password": ""}});
    let invalid = app.graphql(REGISTER, blank, None).await;
    assert_eq!(codes(&invalid), ["VALIDATION"]);
    let fields = &invalid.body["errors"][0]["extensions"]["fields"];
    for field in ["username", "email", "password"] {
        assert_eq!(fields[field][0], "can't be blank", "{fields}");
    }

    let anonymous = app
        .graphql("{ viewer { username } }", json!({}), None)
        .await;
    assert_eq!(codes(&anonymous), ["UNAUTHENTICATED"]);
    // A bad token is refused before any field runs, as on every route, in
    // the shape GraphQL clients read.
    let forged = app
        .graphql("{ tags }", json!({}), Some("not-a-token"))
        .await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    assert_eq!(codes(&forged), ["UNAUTHENTICATED"]);
    assert_eq!(field_error(&forged, "token"), "is invalid");
}

#[tokio::test]
async fn profiles_follow_and_unfollow() {
    let app = spawn_app().await;
    let jake = register(&app, "jake").await;
    register(&app, "anna").await;
    let profile = "query($u: String!) { profile(username: $u) { username following } }";

    let before = app
        .graphql(profile, json!({"u": "anna"}), Some(&jake))
        .await;
    assert_eq!(data(&before)["profile"]["following"], false);
    let follow = "mutation($u: String!) { follow(username: $u) { username following } }";
    let followed = app.graphql(follow, json!({"u": "anna"}), Some(&jake)).await;
    assert_eq!(data(&followed)["follow"]["following"], true);
    let after = app
        .graphql(profile, json!({"u": "anna"}), Some(&jake))
        .await;
    assert_eq!(data(&after)["profile"]["following"], true);
    let unfollow = "mutation($u: String!) { unfollow(username: $u) { following } }";
    let unfollowed = app
        .graphql(unfollow, json!({"u": "anna"}), Some(&jake))
        .await;
    assert_eq!(data(&unfollowed)["unfollow"]["following"], false);

    let missing = app.graphql(profile, json!({"u": "nobody"}), None).await;
    assert_eq!(codes(&missing), ["NOT_FOUND"]);
    let anonymous = app.graphql(follow, json!({"u": "anna"}), None).await;
    assert_eq!(codes(&anonymous), ["UNAUTHENTICATED"]);
    let myself = app.graphql(follow, json!({"u": "jake"}), Some(&jake)).await;
    assert_eq!(codes(&myself), ["FORBIDDEN"]);
}

#[tokio::test]
async fn articles_are_created_read_listed_updated_and_deleted() {
    let app = spawn_app().await;
    let jake = register(&app, "jake").await;
    let anna = register(&app, "anna").await;
    let article = json!({"title": "How to train your dragon", "description": "Ever wonder how?",
        "body": "Very carefully.", "tagList": ["dragons", "training"]});
    let created = app
        .graphql(CREATE, json!({"article": article}), Some(&jake))
        .await;
    let created = &data(&created)["createArticle"];
    assert_eq!(created["slug"], "how-to-train-your-dragon");
    assert_eq!(created["tagList"], json!(["dragons", "training"]));
    assert_eq!(
        created["author"],
        json!({"username": "jake", "following": false})
    );

    let one = "query($s: String!) { article(slug: $s) { title body favorited } }";
    let read = app
        .graphql(one, json!({"s": "how-to-train-your-dragon"}), None)
        .await;
    assert_eq!(data(&read)["article"]["body"], "Very carefully.");

    for (filter, value) in [("author", "jake"), ("tag", "dragons")] {
        let list = format!(
            "query($v: String) {{ articles({filter}: $v) {{ articlesCount articles {{ slug body }} }} }}"
        );
        let listed = app.graphql(&list, json!({"v": value}), None).await;
        assert_eq!(
            data(&listed)["articles"],
            json!({"articlesCount": 1, "articles": [{"slug": "how-to-train-your-dragon", "body": null}]}),
            "{filter}"
        );
    }
    let both = app
        .graphql(
            "{ articles(tag: \"dragons\", author: \"jake\") { articlesCount } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(codes(&both), ["VALIDATION"]);

    let update = "mutation($s: String!, $a: UpdateArticleInput!) {
        updateArticle(slug: $s, article: $a) { slug body } }";
    let edit = json!({"s": "how-to-train-your-dragon", "a": {"body": "With treats."}});
    let not_yours = app.graphql(update, edit.clone(), Some(&anna)).await;
    assert_eq!(codes(&not_yours), ["FORBIDDEN"]);
    let edited = app.graphql(update, edit, Some(&jake)).await;
    assert_eq!(data(&edited)["updateArticle"]["body"], "With treats.");

    let delete = "mutation($s: String!) { deleteArticle(slug: $s) }";
    let slug = json!({"s": "how-to-train-your-dragon"});
    let refused = app.graphql(delete, slug.clone(), Some(&anna)).await;
    assert_eq!(codes(&refused), ["FORBIDDEN"]);
    let deleted = app.graphql(delete, slug.clone(), Some(&jake)).await;
    assert_eq!(data(&deleted)["deleteArticle"], true);
    let gone = app.graphql(one, slug, None).await;
    assert_eq!(codes(&gone), ["NOT_FOUND"]);
}

#[tokio::test]
async fn comments_and_favorites() {
    let app = spawn_app().await;
    let jake = register(&app, "jake").await;
    let anna = register(&app, "anna").await;
    let slug = create(&app, &jake, "Dragons", &[]).await;

    let add = "mutation($s: String!, $c: NewCommentInput!) {
        addComment(slug: $s, comment: $c) { id body author { username } } }";
    let added = app
        .graphql(add, json!({"s": slug, "c": {"body": "Nice!"}}), Some(&anna))
        .await;
    let comment = &data(&added)["addComment"];
    assert_eq!(comment["author"]["username"], "anna");
    let id = comment["id"].as_u64().unwrap();
    let blank = app
        .graphql(add, json!({"s": slug, "c": {"body": ""}}), Some(&anna))
        .await;
    assert_eq!(codes(&blank), ["VALIDATION"]);

    // One query: the article, its comments and their authors.
    let with_comments = "query($s: String!) {
        article(slug: $s) { title comments { body author { username following } } }
        comments(slug: $s) { comments { id } } }";
    let read = app
        .graphql(with_comments, json!({"s": slug}), Some(&jake))
        .await;
    assert_eq!(
        data(&read)["article"]["comments"],
        json!([{"body": "Nice!", "author": {"username": "anna", "following": false}}])
    );
    assert_eq!(data(&read)["comments"]["comments"][0]["id"], id);

    let delete = "mutation($s: String!, $id: ID!) { deleteComment(slug: $s, id: $id) }";
    let ids = json!({"s": slug, "id": id.to_string()});
    let stranger = register(&app, "stranger").await;
    let refused = app.graphql(delete, ids.clone(), Some(&stranger)).await;
    assert_eq!(codes(&refused), ["FORBIDDEN"]);
    let deleted = app.graphql(delete, ids, Some(&anna)).await;
    assert_eq!(data(&deleted)["deleteComment"], true);

    let favorite = "mutation($s: String!) { favorite(slug: $s) { favorited favoritesCount } }";
    let favorited = app.graphql(favorite, json!({"s": slug}), Some(&anna)).await;
    assert_eq!(
        data(&favorited)["favorite"],
        json!({"favorited": true, "favoritesCount": 1})
    );
    let list =
        "query($u: String) { articles(favorited: $u) { articlesCount articles { favorited } } }";
    let listed = app.graphql(list, json!({"u": "anna"}), Some(&anna)).await;
    assert_eq!(
        data(&listed)["articles"],
        json!({"articlesCount": 1, "articles": [{"favorited": true}]})
    );
    let unfavorite = "mutation($s: String!) { unfavorite(slug: $s) { favorited favoritesCount } }";
    let unfavorited = app
        .graphql(unfavorite, json!({"s": slug}), Some(&anna))
        .await;
    assert_eq!(
        data(&unfavorited)["unfavorite"],
        json!({"favorited": false, "favoritesCount": 0})
    );
}

#[tokio::test]
async fn the_feed_tags_and_pages() {
    let app = spawn_app_with_consumers(&[]).await;
    let reader = register(&app, "reader").await;
    let author = register(&app, "author").await;
    let follow = "mutation { follow(username: \"author\") { following } }";
    data(&app.graphql(follow, json!({}), Some(&reader)).await);
    for n in 0..3 {
        create(&app, &author, &format!("Post {n}"), &["rust", "graphql"]).await;
    }
    app.drain().await;

    let feed = "query($c: String) { feed(limit: 2, cursor: $c) {
        articlesCount nextCursor articles { title } } }";
    let first = app.graphql(feed, json!({"c": null}), Some(&reader)).await;
    let first = &data(&first)["feed"];
    assert_eq!(first["articlesCount"], 3);
    assert_eq!(
        first["articles"],
        json!([{"title": "Post 2"}, {"title": "Post 1"}])
    );
    let next = app
        .graphql(feed, json!({"c": first["nextCursor"]}), Some(&reader))
        .await;
    assert_eq!(
        data(&next)["feed"]["articles"],
        json!([{"title": "Post 0"}])
    );
    assert_eq!(data(&next)["feed"]["nextCursor"], Value::Null);
    let anonymous = app.graphql(feed, json!({"c": null}), None).await;
    assert_eq!(codes(&anonymous), ["UNAUTHENTICATED"]);

    let offset = app
        .graphql(
            "{ articles(limit: 1, offset: 1) { articles { title } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        data(&offset)["articles"]["articles"],
        json!([{"title": "Post 1"}])
    );
    let too_many = app
        .graphql(
            "{ articles(limit: 1000) { articlesCount } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(codes(&too_many), ["VALIDATION"]);

    let tags = app.graphql("{ tags }", json!({}), None).await;
    let mut tags: Vec<&str> = data(&tags)["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    tags.sort();
    assert_eq!(tags, ["graphql", "rust"]);
}

#[tokio::test]
async fn sessions_and_admin_operations_keep_their_rules() {
    let app = spawn_app().await;
    let admin = app.seed_user("admin", Role::Admin).await;
    let jake = register(&app, "jake").await;

    let sessions = app
        .graphql("{ sessions { id current } }", json!({}), Some(&jake))
        .await;
    assert_eq!(data(&sessions)["sessions"][0]["current"], true);

    let users = "{ users(limit: 5) { users { username role status } } }";
    assert_eq!(
        codes(&app.graphql(users, json!({}), Some(&jake)).await),
        ["FORBIDDEN"]
    );
    let listed = app.graphql(users, json!({}), Some(&admin)).await;
    assert_eq!(
        data(&listed)["users"]["users"][0],
        json!({"username": "jake", "role": "USER", "status": "ACTIVE"})
    );
    let promote = "mutation { setUserRole(username: \"jake\", role: MODERATOR) { role } }";
    let promoted = app.graphql(promote, json!({}), Some(&admin)).await;
    assert_eq!(data(&promoted)["setUserRole"]["role"], "MODERATOR");
    let end = "mutation { endUserSessions(username: \"jake\") }";
    assert_eq!(
        data(&app.graphql(end, json!({}), Some(&admin)).await)["endUserSessions"],
        true
    );
    let audit = app
        .graphql(
            "{ audit(limit: 2) { entries { action target } } }",
            json!({}),
            Some(&admin),
        )
        .await;
    assert_eq!(
        data(&audit)["audit"]["entries"],
        json!([{"action": "user.sessions.end", "target": "user:jake"},
               {"action": "user.role", "target": "user:jake"}])
    );
    // jake's token died with his sessions.
    let gone = app.graphql("{ tags }", json!({}), Some(&jake)).await;
    assert_eq!(gone.status, StatusCode::UNAUTHORIZED);

    let again = app
        .graphql(
            LOGIN,
            json!({"user": {"email": "jake@example.com", "password": "password123"}}),
            None,
        )
        .await;
    let token = data(&again)["login"]["token"].as_str().unwrap().to_owned();
    let out = app
        .graphql("mutation { logout }", json!({}), Some(&token))
        .await;
    assert_eq!(data(&out)["logout"], true);
    let after = app.graphql("{ tags }", json!({}), Some(&token)).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn accounts_are_deleted_by_their_owner_or_an_admin() {
    let app = spawn_app().await;
    let jake = register(&app, "jake").await;
    // What the account holds, first page: its profile.
    let export = app
        .graphql(
            "{ export { part profile { username email } nextCursor } }",
            json!({}),
            Some(&jake),
        )
        .await;
    let first = &data(&export)["export"];
    assert_eq!(first["part"], "profile");
    assert_eq!(first["profile"]["email"], "jake@example.com");
    let next = first["nextCursor"].as_str().unwrap();
    let export = app
        .graphql(
            "query($c: String) { export(cursor: $c) { part articles { slug } } }",
            json!({"c": next}),
            Some(&jake),
        )
        .await;
    assert_eq!(
        data(&export)["export"],
        json!({"part": "articles", "articles": []})
    );
    let wrong = app
        .graphql(
            "mutation { deleteAccount(password: \"guess\") }",
            json!({}),
            Some(&jake),
        )
        .await;
    assert_eq!(codes(&wrong), ["FORBIDDEN"]);
    assert_eq!(field_error(&wrong, "password"), "is not this account's");
    let deleted = app
        .graphql(
            "mutation { deleteAccount(password: \"password123\") }",
            json!({}),
            Some(&jake),
        )
        .await;
    assert_eq!(data(&deleted)["deleteAccount"], true);
    let gone = app.graphql("{ tags }", json!({}), Some(&jake)).await;
    assert_eq!(gone.status, StatusCode::UNAUTHORIZED);

    let anna = register(&app, "anna").await;
    let admin = app.seed_user("admin", Role::Admin).await;
    let by_anna = "mutation { deleteUser(username: \"admin\") }";
    assert_eq!(
        codes(&app.graphql(by_anna, json!({}), Some(&anna)).await),
        ["FORBIDDEN"]
    );
    let by_admin = "mutation { deleteUser(username: \"anna\") }";
    let done = app.graphql(by_admin, json!({}), Some(&admin)).await;
    assert_eq!(data(&done)["deleteUser"], true);
    let gone = app.graphql("{ tags }", json!({}), Some(&anna)).await;
    assert_eq!(gone.status, StatusCode::UNAUTHORIZED);
}

/// A GraphQL request over GET.
async fn get(app: &TestApp, query: &str) -> TestResponse {
    let encoded: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("query", query)
        .finish();
    let request = Request::builder()
        .method(Method::GET)
        .uri(format!("/api/graphql?{encoded}"))
        .body(Body::Empty)
        .unwrap();
    app.send(request).await
}

#[tokio::test]
async fn queries_also_work_over_get_and_mutations_do_not() {
    let app = spawn_app().await;
    let tags = get(&app, "{ tags }").await;
    assert_eq!(data(&tags)["tags"], json!([]));
    let mutation = get(&app, "mutation { logout }").await;
    assert_eq!(mutation.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        field_error(&mutation, "query"),
        "mutations must be sent with POST"
    );
}

#[tokio::test]
async fn hostile_queries_get_errors_never_a_5xx() {
    let app = spawn_app().await;
    let token = register(&app, "jake").await;
    // Too deep.
    let bomb = format!(
        "{{ __schema {{ types {{ fields {{ type {} name {} }} }} }} }}",
        "{ ofType ".repeat(8),
        "}".repeat(8)
    );
    let too_deep = app.graphql(&bomb, json!({}), None).await;
    assert_eq!(too_deep.status, StatusCode::OK);
    let message = too_deep.body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("nested too deep"), "{message}");

    // Too costly: every article of a long page with a hundred comments each.
    let costly = "{ articles(limit: 100) { articles { comments(limit: 100) { body } } } }";
    let refused = app.graphql(costly, json!({}), None).await;
    assert_eq!(refused.status, StatusCode::OK);
    let message = refused.body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("too complex"), "{message}");

    // Many cheap fields, each a route call: past the budget, refused.
    let aliases: String = (0..60).map(|n| format!("t{n}: tags ")).collect();
    let many = app
        .graphql(&format!("{{ {aliases} }}"), json!({}), Some(&token))
        .await;
    assert_eq!(many.status, StatusCode::OK);
    assert!(codes(&many).contains(&"VALIDATION"), "{}", many.body);

    // Malformed, oversized or overlong requests: the API's own 422.
    let batch: Vec<Value> = (0..11).map(|_| json!({"query": "{ tags }"})).collect();
    let too_big = app.post("/api/graphql", json!(batch), None).await;
    assert_eq!(too_big.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_error(&too_big, "batch").contains("at most 10"));
    assert_eq!(codes(&too_big), ["VALIDATION"]);
    let long = format!("{{ tags {} }}", " ".repeat(17_000));
    let overlong = app.graphql(&long, json!({}), None).await;
    assert_eq!(overlong.status, StatusCode::UNPROCESSABLE_ENTITY);
    for garbage in [
        json!({"nope": 1}),
        json!([]),
        json!("{ tags }"),
        json!({"query": 7}),
    ] {
        let refused = app.post("/api/graphql", garbage.clone(), None).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{garbage}"
        );
    }

    // Syntax and schema errors are GraphQL's.
    for bad in ["{ tags", "{ nosuchfield }", "mutation { deleteArticle }"] {
        let response = app.graphql(bad, json!({}), None).await;
        assert_eq!(response.status, StatusCode::OK, "{bad}");
        assert!(
            response.body["errors"].is_array(),
            "{bad}: {}",
            response.body
        );
    }

    // A batch within the limit runs each operation.
    let batch = json!([{"query": "{ tags }"}, {"query": "{ viewer { username } }"}]);
    let answered = app.post("/api/graphql", batch, Some(&token)).await;
    assert_eq!(answered.body[1]["data"]["viewer"]["username"], "jake");
}

#[tokio::test]
async fn introspection_is_open_and_matches_the_published_schema() {
    let app = spawn_app().await;
    let response = app
        .graphql(
            "{ __schema { queryType { name } mutationType { name } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        data(&response)["__schema"],
        json!({"queryType": {"name": "Query"}, "mutationType": {"name": "Mutation"}})
    );
    let published = conduit_tests::repo_file("functions/schema.graphql");
    assert!(published.contains(&functions::graphql::sdl()));
}

#[tokio::test]
async fn a_browser_gets_graphiql_and_its_files_from_the_api() {
    let app = spawn_app().await;
    let page = app
        .get_with(
            "/api/graphql",
            &[("accept", "text/html,application/xhtml+xml")],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let html = page.body.as_str().unwrap();
    for file in [
        "graphiql.min.css",
        "react.production.min.js",
        "react-dom.production.min.js",
        "graphiql.min.js",
        "graphiql-init.js",
    ] {
        assert!(html.contains(&format!("graphql/{file}")), "{file}");
        let served = app.get(&format!("/api/graphql/{file}"), None).await;
        assert_eq!(served.status, StatusCode::OK, "{file}");
        if file.ends_with(".min.js") || file.ends_with(".min.css") {
            assert_eq!(served.header("content-encoding"), Some("gzip"), "{file}");
        }
    }
    let missing = app.get("/api/graphql/../../etc/passwd", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    // A client that is not a browser, asking nothing, is told what is missing.
    let bare = app.get("/api/graphql", None).await;
    assert_eq!(bare.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_error(&bare, "query"), "can't be blank");
}

#[tokio::test]
async fn fields_after_a_logout_run_as_nobody_and_one_request_hashes_once() {
    let app = spawn_app().await;
    let token = register(&app, "jake").await;
    let out = app
        .graphql(
            "mutation { logout updateUser(user: {bio: \"after\"}) { bio } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(out.body["data"], Value::Null, "{}", out.body);
    assert_eq!(codes(&out), ["UNAUTHENTICATED"]);

    let twice = "mutation($u: LoginInput!) { a: login(user: $u) { username } b: login(user: $u) { username } }";
    let credentials = json!({"u": {"email": "jake@example.com", "password": "password123"}});
    let refused = app.graphql(twice, credentials, None).await;
    assert_eq!(codes(&refused), ["VALIDATION"]);
    assert!(field_error(&refused, "query").contains("once"));
}

#[tokio::test]
async fn huge_limits_and_many_articles_cost_errors_not_crashes() {
    let app = spawn_app().await;
    let token = register(&app, "jake").await;
    for n in 0..55 {
        create(&app, &token, &format!("Post {n}"), &[]).await;
    }
    for huge in ["4611686018427387904", "2147483647"] {
        let query = format!(
            "{{ articles(limit: 1) {{ articles {{ comments(limit: {huge}) {{ body }} }} }} }}"
        );
        let response = app.graphql(&query, json!({}), None).await;
        assert_eq!(response.status, StatusCode::OK, "{huge}");
        assert!(
            response.body["errors"].is_array(),
            "{huge}: {}",
            response.body
        );
    }
    let query =
        "query($l: Int!) { articles(limit: 1) { articles { comments(limit: $l) { body } } } }";
    let response = app
        .graphql(query, json!({"l": 4611686018427387904u64}), None)
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert!(response.body["errors"].is_array(), "{}", response.body);

    // Every article's comments count against the request's calls.
    let each = "{ articles(limit: 55) { articles { comments(limit: 1) { body } } } }";
    let response = app.graphql(each, json!({}), None).await;
    assert_eq!(response.status, StatusCode::OK);
    assert!(
        codes(&response).contains(&"VALIDATION"),
        "{}",
        response.body
    );
}
