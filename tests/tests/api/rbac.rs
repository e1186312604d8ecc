//! Who may call what: every route, for every kind of caller, with the status
//! each must get. The table must name every route in the route table.

use conduit_common::domain::Role;
use conduit_common::lambda_http::http::Method;
use conduit_tests::{TestApp, spawn_app};
use serde_json::{Value, json};

const PERSONAS: [&str; 6] = [
    "anonymous",
    "user",
    "owner",
    "moderator",
    "admin",
    "suspended",
];

/// Expected status per persona, in the order of `PERSONAS`.
const TABLE: &[(&str, [u16; 6])] = &[
    ("register", [201, 201, 201, 201, 201, 201]),
    ("login", [200, 200, 200, 200, 200, 200]),
    ("get_current_user", [401, 200, 200, 200, 200, 401]),
    ("update_user", [401, 200, 200, 200, 200, 401]),
    ("delete_current_user", [401, 204, 204, 204, 204, 401]),
    ("export_current_user", [401, 200, 200, 200, 200, 401]),
    ("list_sessions", [401, 200, 200, 200, 200, 401]),
    ("end_session", [401, 204, 204, 204, 204, 401]),
    ("logout", [401, 204, 204, 204, 204, 401]),
    ("get_profile", [200, 200, 200, 200, 200, 401]),
    ("follow_user", [401, 200, 403, 200, 200, 401]),
    ("unfollow_user", [401, 200, 200, 200, 200, 401]),
    ("list_articles", [200, 200, 200, 200, 200, 401]),
    ("feed_articles", [401, 200, 200, 200, 200, 401]),
    ("get_article", [200, 200, 200, 200, 200, 401]),
    ("create_article", [401, 201, 201, 201, 201, 401]),
    ("update_article", [401, 403, 200, 403, 403, 401]),
    ("delete_article", [401, 403, 204, 204, 204, 401]),
    ("add_comment", [401, 201, 201, 201, 201, 401]),
    ("list_comments", [200, 200, 200, 200, 200, 401]),
    ("delete_comment", [401, 403, 204, 204, 204, 401]),
    ("favorite_article", [401, 200, 200, 200, 200, 401]),
    ("unfavorite_article", [401, 200, 200, 200, 200, 401]),
    ("list_tags", [200, 200, 200, 200, 200, 200]),
    ("list_users", [401, 403, 403, 403, 200, 401]),
    ("set_user_role", [401, 403, 403, 403, 200, 401]),
    ("suspend_user", [401, 403, 403, 403, 200, 401]),
    ("reinstate_user", [401, 403, 403, 403, 200, 401]),
    ("delete_user", [401, 403, 403, 403, 204, 401]),
    ("end_user_sessions", [401, 403, 403, 403, 204, 401]),
    ("list_audit", [401, 403, 403, 403, 200, 401]),
    // GraphQL answers everyone (each field applies its route's rule, see
    // tests/api/graphql.rs), but refuses a revoked token like every route.
    ("graphql", [200, 200, 200, 200, 200, 401]),
    ("graphql_query", [200, 200, 200, 200, 200, 401]),
    ("graphiql_asset", [200, 200, 200, 200, 200, 200]),
    ("openapi", [200, 200, 200, 200, 200, 200]),
    ("api_docs", [200, 200, 200, 200, 200, 200]),
    ("api_docs_asset", [200, 200, 200, 200, 200, 200]),
];

/// A fresh world for one call: an owner with an article and a comment,
/// the other personas, and a user for admin actions to target.
struct World {
    tokens: [Option<String>; 6],
    owner: String,
    slug: String,
    comment_id: u64,
    target: String,
}

async fn world(app: &TestApp, n: usize) -> World {
    let name = |who: &str| format!("{who}{n}");
    let owner_token = app.seed_user(&name("owner"), Role::User).await;
    let slug = app
        .create_article(&owner_token, &format!("Owned {n}"), &["t"])
        .await;
    let comment = app
        .post(
            &format!("/api/articles/{slug}/comments"),
            json!({"comment": {"body": "c"}}),
            Some(&owner_token),
        )
        .await;
    let suspended = app.seed_user(&name("suspended"), Role::User).await;
    let admin = app.seed_user(&name("admin"), Role::Admin).await;
    let banned = app
        .post(
            &format!("/api/admin/users/{}/suspend", name("suspended")),
            json!({}),
            Some(&admin),
        )
        .await;
    assert_eq!(banned.status, 200);
    app.seed_user(&name("target"), Role::User).await;
    World {
        tokens: [
            None,
            Some(app.seed_user(&name("user"), Role::User).await),
            Some(owner_token),
            Some(app.seed_user(&name("moderator"), Role::Moderator).await),
            Some(admin),
            Some(suspended),
        ],
        owner: name("owner"),
        slug,
        comment_id: comment.body["comment"]["id"].as_u64().unwrap(),
        target: name("target"),
    }
}

/// The session of persona `who`'s token (anyone's for the anonymous one).
fn session_of(app: &TestApp, w: &World, who: usize) -> String {
    let token = w.tokens[who].as_ref().or(w.tokens[1].as_ref()).unwrap();
    app.state.jwt.decode(token).unwrap().sid
}

/// The request that persona `who` makes to exercise `route` in `world`.
fn request(
    app: &TestApp,
    route: &str,
    w: &World,
    n: usize,
    who: usize,
) -> (Method, String, Option<Value>) {
    let (slug, owner, target, id) = (&w.slug, &w.owner, &w.target, w.comment_id);
    let unique = format!("new{n}");
    match route {
        "register" => (
            Method::POST,
            "/api/users".into(),
            Some(
                json!({"user": {"username": unique, "email": format!("{unique}@example.com"), "password": "password123"}}),
            ),
        ),
        "login" => (
            Method::POST,
            "/api/users/login".into(),
            Some(
                json!({"user": {"email": format!("{owner}@example.com"), "password": "password123"}}),
            ),
        ),
        "get_current_user" => (Method::GET, "/api/user".into(), None),
        "update_user" => (
            Method::PUT,
            "/api/user".into(),
            Some(json!({"user": {"bio": "hello"}})),
        ),
        "delete_current_user" => (
            Method::DELETE,
            "/api/user".into(),
            Some(json!({"user": {"password": "password123"}})),
        ),
        "export_current_user" => (Method::GET, "/api/user/export".into(), None),
        "list_sessions" => (Method::GET, "/api/user/sessions".into(), None),
        "end_session" => (
            Method::DELETE,
            format!("/api/user/sessions/{}", session_of(app, w, who)),
            None,
        ),
        "logout" => (Method::POST, "/api/user/logout".into(), None),
        "get_profile" => (Method::GET, format!("/api/profiles/{owner}"), None),
        "follow_user" => (Method::POST, format!("/api/profiles/{owner}/follow"), None),
        "unfollow_user" => (
            Method::DELETE,
            format!("/api/profiles/{owner}/follow"),
            None,
        ),
        "list_articles" => (Method::GET, "/api/articles".into(), None),
        "feed_articles" => (Method::GET, "/api/articles/feed".into(), None),
        "get_article" => (Method::GET, format!("/api/articles/{slug}"), None),
        "create_article" => (
            Method::POST,
            "/api/articles".into(),
            Some(json!({"article": {"title": unique, "description": "d", "body": "b"}})),
        ),
        "update_article" => (
            Method::PUT,
            format!("/api/articles/{slug}"),
            Some(json!({"article": {"body": "edited"}})),
        ),
        "delete_article" => (Method::DELETE, format!("/api/articles/{slug}"), None),
        "add_comment" => (
            Method::POST,
            format!("/api/articles/{slug}/comments"),
            Some(json!({"comment": {"body": "hi"}})),
        ),
        "list_comments" => (Method::GET, format!("/api/articles/{slug}/comments"), None),
        "delete_comment" => (
            Method::DELETE,
            format!("/api/articles/{slug}/comments/{id}"),
            None,
        ),
        "favorite_article" => (Method::POST, format!("/api/articles/{slug}/favorite"), None),
        "unfavorite_article" => (
            Method::DELETE,
            format!("/api/articles/{slug}/favorite"),
            None,
        ),
        "list_tags" => (Method::GET, "/api/tags".into(), None),
        "list_users" => (Method::GET, "/api/admin/users".into(), None),
        "set_user_role" => (
            Method::PUT,
            format!("/api/admin/users/{target}/role"),
            Some(json!({"role": "moderator"})),
        ),
        "suspend_user" => (
            Method::POST,
            format!("/api/admin/users/{target}/suspend"),
            None,
        ),
        "reinstate_user" => (
            Method::POST,
            format!("/api/admin/users/{target}/reinstate"),
            None,
        ),
        "delete_user" => (Method::DELETE, format!("/api/admin/users/{target}"), None),
        "end_user_sessions" => (
            Method::DELETE,
            format!("/api/admin/users/{target}/sessions"),
            None,
        ),
        "list_audit" => (Method::GET, "/api/admin/audit".into(), None),
        "graphql" => (
            Method::POST,
            "/api/graphql".into(),
            Some(json!({"query": "{ tags }"})),
        ),
        "graphql_query" => (Method::GET, "/api/graphql?query=%7Btags%7D".into(), None),
        "graphiql_asset" => (Method::GET, "/api/graphql/graphiql.min.js".into(), None),
        "openapi" => (Method::GET, "/api/openapi.json".into(), None),
        "api_docs" => (Method::GET, "/api/docs".into(), None),
        "api_docs_asset" => (Method::GET, "/api/docs/swagger-ui.css".into(), None),
        other => panic!("no request written for route {other}"),
    }
}

#[test]
fn the_table_covers_every_route() {
    let mut covered: Vec<&str> = TABLE.iter().map(|(route, _)| *route).collect();
    let mut routes: Vec<&str> = functions::ROUTES.iter().map(|r| r.name).collect();
    covered.sort();
    routes.sort();
    assert_eq!(covered, routes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_allows_and_denies_as_the_table_says() {
    let app = spawn_app().await;
    let mut failures = vec![];
    let mut n = 0;
    for (route, expected) in TABLE {
        for (persona, want) in PERSONAS.iter().zip(expected) {
            n += 1;
            // A fresh world per call: a delete must not affect the next call.
            let w = world(&app, n).await;
            let who = PERSONAS.iter().position(|p| p == persona).unwrap();
            let (method, path, body) = request(&app, route, &w, n, who);
            let token = w.tokens[who].as_deref();
            let response = app.request(method.clone(), &path, body, token).await;
            if response.status.as_u16() != *want {
                failures.push(format!(
                    "{route} as {persona}: {method} {path} gave {} (wanted {want}): {}",
                    response.status, response.body
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
