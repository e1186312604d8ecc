//! Roles, suspension and the audit trail.

use conduit_common::domain::Role;
use conduit_common::lambda_http::http::StatusCode;
use conduit_tests::spawn_app;
use serde_json::json;

#[tokio::test]
async fn suspension_revokes_tokens_at_once_and_blocks_login() {
    let app = spawn_app().await;
    let admin = app.seed_user("admin", Role::Admin).await;
    let token = app.seed_user("jake", Role::User).await;
    assert_eq!(
        app.get("/api/user", Some(&token)).await.status,
        StatusCode::OK
    );

    let suspended = app
        .post("/api/admin/users/jake/suspend", json!({}), Some(&admin))
        .await;
    assert_eq!(suspended.body["user"]["status"], "suspended");
    assert_eq!(
        app.get("/api/user", Some(&token)).await.error("token"),
        "is invalid"
    );
    let login = json!({"user": {"email": "jake@example.com", "password": "password123"}});
    assert_eq!(
        app.post("/api/users/login", login.clone(), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    app.post("/api/admin/users/jake/reinstate", json!({}), Some(&admin))
        .await;
    // Reinstating does not bring old tokens back; logging in again works.
    assert_eq!(
        app.get("/api/user", Some(&token)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let fresh = app.post("/api/users/login", login, None).await;
    assert_eq!(fresh.status, StatusCode::OK);
}

#[tokio::test]
async fn role_changes_apply_to_existing_tokens_and_are_audited() {
    let app = spawn_app().await;
    let admin = app.seed_user("admin", Role::Admin).await;
    let author = app.seed_user("author", Role::User).await;
    let helper = app.seed_user("helper", Role::User).await;
    let slug = app.create_article(&author, "Spam", &[]).await;
    let path = format!("/api/articles/{slug}");
    assert_eq!(
        app.delete(&path, Some(&helper)).await.status,
        StatusCode::FORBIDDEN
    );

    let promoted = app
        .put(
            "/api/admin/users/helper/role",
            json!({"role": "moderator"}),
            Some(&admin),
        )
        .await;
    assert_eq!(promoted.body["user"]["role"], "moderator");
    assert_eq!(
        app.delete(&path, Some(&helper)).await.status,
        StatusCode::NO_CONTENT
    );

    let audit = app.get("/api/admin/audit", Some(&admin)).await;
    let entries = audit.body["entries"].as_array().unwrap();
    let actions: Vec<(&str, &str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap(),
                e["action"].as_str().unwrap(),
                e["target"].as_str().unwrap(),
            )
        })
        .collect();
    let article_target = format!("article:{slug}");
    assert_eq!(
        actions,
        [
            ("helper", "article.delete", article_target.as_str()),
            ("admin", "user.role", "user:helper"),
        ]
    );
    assert_eq!(entries[1]["detail"], "user -> moderator");
}

#[tokio::test]
async fn admins_are_refused_changing_themselves_and_bad_roles_are_422() {
    let app = spawn_app().await;
    let admin = app.seed_user("admin", Role::Admin).await;
    app.seed_user("jake", Role::User).await;
    let own = app
        .post("/api/admin/users/admin/suspend", json!({}), Some(&admin))
        .await;
    // Refused (403), not malformed (422): the request itself is fine.
    assert_eq!(own.status, StatusCode::FORBIDDEN);
    assert_eq!(
        own.error("user"),
        "admins can't change their own role or status, or delete themselves here"
    );
    let bad = app
        .put(
            "/api/admin/users/jake/role",
            json!({"role": "emperor"}),
            Some(&admin),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let missing = app
        .post("/api/admin/users/nobody/suspend", json!({}), Some(&admin))
        .await;
    assert_eq!(missing.error("user"), "not found");
}

#[tokio::test]
async fn admins_page_through_users() {
    let app = spawn_app().await;
    let admin = app.seed_user("admin", Role::Admin).await;
    for i in 0..4 {
        app.seed_user(&format!("u{i}"), Role::User).await;
    }
    let first = app.get("/api/admin/users?limit=3", Some(&admin)).await;
    let names: Vec<&str> = first.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["u3", "u2", "u1"]);
    let cursor = first.body["nextCursor"].as_str().unwrap();
    let rest = app
        .get(
            &format!("/api/admin/users?limit=3&cursor={cursor}"),
            Some(&admin),
        )
        .await;
    let names: Vec<&str> = rest.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["u0", "admin"]);
}
