//! Sessions: every sign-in is one, listed and ended through the API; a new
//! password or email ends all but the one that made the change.

use conduit_common::db::sessions::MAX_SESSIONS;
use conduit_common::domain::Role;
use conduit_common::lambda_http::Body;
use conduit_common::lambda_http::http::{Method, Request, StatusCode};
use conduit_tests::{TestApp, spawn_app};
use serde_json::{Value, json};

/// Logs `name` in again with `password123`, as the client `agent`.
async fn login_as(app: &TestApp, name: &str, agent: &str) -> String {
    let credentials =
        json!({"user": {"email": format!("{name}@example.com"), "password": "password123"}});
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/users/login")
        .header("user-agent", agent)
        .body(Body::Text(credentials.to_string()))
        .unwrap();
    let response = app.send(request).await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
    response.body["user"]["token"].as_str().unwrap().to_owned()
}

async fn status_of(app: &TestApp, token: &str) -> StatusCode {
    app.get("/api/user", Some(token)).await.status
}

async fn sessions(app: &TestApp, token: &str) -> Vec<Value> {
    let listed = app.get("/api/user/sessions", Some(token)).await;
    assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
    // Where a user signs in from is kept by no cache, not even their own.
    assert_eq!(listed.header("cache-control"), Some("no-store"));
    listed.body["sessions"].as_array().unwrap().clone()
}

/// The id of the session `token` belongs to, as its owner's listing shows it.
async fn current_session(app: &TestApp, token: &str) -> String {
    let listed = sessions(app, token).await;
    let current = listed.iter().find(|s| s["current"] == true).unwrap();
    current["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_stolen_token_stops_working_when_the_victim_changes_the_password() {
    let app = spawn_app().await;
    let victims_phone = app.register("victim").await;
    let stolen = login_as(&app, "victim", "attacker's copy").await;
    assert_eq!(status_of(&app, &stolen).await, StatusCode::OK);

    let change = app
        .put(
            "/api/user",
            json!({"user": {"password": "a-new-password"}}),
            Some(&victims_phone),
        )
        .await;
    assert_eq!(change.status, StatusCode::OK, "{:?}", change.body);

    assert_eq!(status_of(&app, &stolen).await, StatusCode::UNAUTHORIZED);
    // The session that made the change goes on (the official suite relies on it),
    assert_eq!(status_of(&app, &victims_phone).await, StatusCode::OK);
    assert_eq!(sessions(&app, &victims_phone).await.len(), 1);
    // and only the new password signs in.
    assert_eq!(
        app.login("victim", "password123").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("victim", "a-new-password").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_email_change_ends_the_other_sessions_and_a_bio_change_does_not() {
    let app = spawn_app().await;
    let mine = app.register("jake").await;
    let other = login_as(&app, "jake", "laptop").await;

    app.set_bio(&mine, "still me").await;
    assert_eq!(status_of(&app, &other).await, StatusCode::OK);
    // The same email, differently written, is no change.
    let same = app
        .put(
            "/api/user",
            json!({"user": {"email": "JAKE@example.com"}}),
            Some(&mine),
        )
        .await;
    assert_eq!(same.status, StatusCode::OK);
    assert_eq!(status_of(&app, &other).await, StatusCode::OK);

    let moved = app
        .put(
            "/api/user",
            json!({"user": {"email": "jake@elsewhere.example"}}),
            Some(&mine),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK);
    assert_eq!(status_of(&app, &other).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status_of(&app, &mine).await, StatusCode::OK);
}

#[tokio::test]
async fn the_listing_shows_each_sign_in_newest_first_and_marks_the_current_one() {
    let app = spawn_app().await;
    app.register("jake").await;
    let phone = login_as(&app, "jake", "Conduit/1.0 (iPhone)").await;
    let laptop = login_as(&app, "jake", "Mozilla/5.0 (X11; Linux)").await;

    let listed = sessions(&app, &phone).await;
    assert_eq!(listed.len(), 3, "{listed:?}");
    let agents: Vec<&Value> = listed.iter().map(|s| &s["userAgent"]).collect();
    assert_eq!(
        agents,
        [
            &json!("Mozilla/5.0 (X11; Linux)"),
            &json!("Conduit/1.0 (iPhone)"),
            &Value::Null
        ]
    );
    let current: Vec<bool> = listed.iter().map(|s| s["current"] == true).collect();
    assert_eq!(current, [false, true, false]);
    for session in &listed {
        // In-process requests have no peer; over HTTP it is the client's address.
        assert_eq!(session["clientIp"], "unknown");
        assert!(session["createdAt"].as_str().unwrap() < session["expiresAt"].as_str().unwrap());
        // A listing never carries a token.
        assert!(!session.to_string().contains(&laptop));
    }
}

#[tokio::test]
async fn ending_a_session_revokes_its_token_and_only_its_owner_can() {
    let app = spawn_app().await;
    let phone = app.register("jake").await;
    let laptop = login_as(&app, "jake", "laptop").await;
    let intruder = app.register("intruder").await;
    let laptops = current_session(&app, &laptop).await;
    let path = format!("/api/user/sessions/{laptops}");

    // Someone else's session is not found, and goes on.
    assert_eq!(
        app.delete(&path, Some(&intruder)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(status_of(&app, &laptop).await, StatusCode::OK);

    assert_eq!(
        app.delete(&path, Some(&phone)).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(status_of(&app, &laptop).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status_of(&app, &phone).await, StatusCode::OK);
    let ended_again = app.delete(&path, Some(&phone)).await;
    assert_eq!(ended_again.status, StatusCode::NOT_FOUND);
    assert_eq!(ended_again.error("session"), "not found");
    for bad in ["not-a-session", "01", &"7".repeat(2000)] {
        let response = app
            .delete(&format!("/api/user/sessions/{bad}"), Some(&phone))
            .await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{bad}");
    }
}

#[tokio::test]
async fn logout_ends_the_current_session_only() {
    let app = spawn_app().await;
    let phone = app.register("jake").await;
    let laptop = login_as(&app, "jake", "laptop").await;

    let out = app.post("/api/user/logout", json!({}), Some(&laptop)).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert_eq!(status_of(&app, &laptop).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.post("/api/user/logout", json!({}), Some(&laptop))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(sessions(&app, &phone).await.len(), 1);
}

#[tokio::test]
async fn an_admin_can_end_every_session_of_a_user_and_it_is_audited() {
    let app = spawn_app().await;
    let admin = app.seed_user("admin", Role::Admin).await;
    let phone = app.register("jake").await;
    let laptop = login_as(&app, "jake", "laptop").await;

    let ended = app
        .delete("/api/admin/users/jake/sessions", Some(&admin))
        .await;
    assert_eq!(ended.status, StatusCode::NO_CONTENT, "{:?}", ended.body);
    for token in [&phone, &laptop] {
        assert_eq!(status_of(&app, token).await, StatusCode::UNAUTHORIZED);
    }
    let audit = app.get("/api/admin/audit", Some(&admin)).await;
    let entry = &audit.body["entries"][0];
    assert_eq!(
        (&entry["actor"], &entry["action"], &entry["target"]),
        (
            &json!("admin"),
            &json!("user.sessions.end"),
            &json!("user:jake")
        )
    );
    assert_eq!(entry["detail"], "2 session(s)");
    // Not a suspension: the user signs in again.
    let again = login_as(&app, "jake", "phone").await;
    assert_eq!(sessions(&app, &again).await.len(), 1);

    assert_eq!(
        app.delete("/api/admin/users/nobody/sessions", Some(&admin))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn suspension_ends_every_session_and_reinstatement_revives_none() {
    let app = spawn_app().await;
    let admin = app.seed_user("admin", Role::Admin).await;
    let token = app.register("jake").await;
    app.post("/api/admin/users/jake/suspend", json!({}), Some(&admin))
        .await;
    app.post("/api/admin/users/jake/reinstate", json!({}), Some(&admin))
        .await;
    assert_eq!(status_of(&app, &token).await, StatusCode::UNAUTHORIZED);
    let fresh = login_as(&app, "jake", "phone").await;
    assert_eq!(status_of(&app, &fresh).await, StatusCode::OK);
}

#[tokio::test]
async fn past_the_cap_a_sign_in_ends_the_oldest_session() {
    let app = spawn_app().await;
    let oldest = app.register("jake").await;
    let user = app.user("jake").await;
    let mut newest = String::new();
    for _ in 1..MAX_SESSIONS {
        newest = app.sign_in(&user).await;
    }
    assert_eq!(status_of(&app, &oldest).await, StatusCode::OK);
    assert_eq!(sessions(&app, &newest).await.len(), MAX_SESSIONS);

    let one_more = login_as(&app, "jake", "one more").await;
    assert_eq!(status_of(&app, &oldest).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status_of(&app, &one_more).await, StatusCode::OK);
    assert_eq!(sessions(&app, &newest).await.len(), MAX_SESSIONS);
}

#[tokio::test]
async fn a_token_from_before_sessions_is_refused() {
    let app = spawn_app().await;
    app.register("jake").await;
    let user = app.user("jake").await;
    // A token of the earlier format: a version claim, no session.
    let mut claims = serde_json::to_value(app.state.jwt.claims_for(&user.id, "s")).unwrap();
    let claims = claims.as_object_mut().unwrap();
    claims.remove("sid");
    claims.insert("ver".into(), json!(0));
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(conduit_tests::TEST_SECRET.as_bytes()),
    )
    .unwrap();
    assert_eq!(status_of(&app, &token).await, StatusCode::UNAUTHORIZED);
    // A well-signed token naming a session the user does not have, too.
    let forged = app
        .state
        .jwt
        .issue(&user.id, "01JDZZZZZZZZZZZZZZZZZZZZZZ")
        .unwrap();
    assert_eq!(status_of(&app, &forged).await, StatusCode::UNAUTHORIZED);
}

/// A user item written before sessions existed: no `sessions` map at all.
async fn forget_sessions(app: &TestApp, name: &str) {
    let user = app.user(name).await;
    let key = conduit_common::db::key_of(conduit_common::db::keys::user(&user.id));
    app.state
        .db
        .client
        .update_item()
        .table_name(&app.state.db.table)
        .set_key(Some(key))
        .update_expression("REMOVE sessions SET token_version = :zero")
        .expression_attribute_values(":zero", conduit_common::db::n(0))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn users_from_before_sessions_sign_in_even_twice_at_once() {
    let app = spawn_app().await;
    app.register("jake").await;
    forget_sessions(&app, "jake").await;
    // Both sign-ins read a user with no map; one makes it, the other adds to it.
    let (first, second) = tokio::join!(login_as(&app, "jake", "a"), login_as(&app, "jake", "b"));
    for token in [&first, &second] {
        assert_eq!(status_of(&app, token).await, StatusCode::OK);
    }
    assert_eq!(sessions(&app, &first).await.len(), 2);
}

#[tokio::test]
async fn a_sign_in_that_checked_the_old_password_does_not_outlive_its_change() {
    let app = spawn_app().await;
    let token = app.register("jake").await;
    // A login has read the user and checked the old password...
    let as_read = app.user("jake").await;
    // ...when the password changes.
    let change = json!({"user": {"password": "a-new-password"}});
    assert_eq!(
        app.put("/api/user", change, Some(&token)).await.status,
        StatusCode::OK
    );
    let late = app.new_session(&as_read.id);
    let refused = app.state.db.begin_session(&as_read, &late).await;
    assert!(
        matches!(refused, Err(conduit_common::ApiError::InvalidCredentials)),
        "{refused:?}"
    );
    assert_eq!(sessions(&app, &token).await.len(), 1);
}

#[tokio::test]
async fn a_password_change_from_a_session_ended_meanwhile_is_refused() {
    let app = spawn_app().await;
    let phone = app.register("jake").await;
    let laptop = login_as(&app, "jake", "laptop").await;
    // The laptop's request has authenticated (its user, as read, lists the
    // laptop's session)...
    let as_read = app.user("jake").await;
    let laptops = app.state.jwt.decode(&laptop).unwrap().sid;
    // ...when the phone ends the laptop's session.
    let path = format!("/api/user/sessions/{laptops}");
    assert_eq!(
        app.delete(&path, Some(&phone)).await.status,
        StatusCode::NO_CONTENT
    );
    let changes = conduit_common::db::users::UserChanges {
        password_hash: Some("$argon2id$not-a-real-hash".into()),
        ..Default::default()
    };
    let refused = app.state.db.update_user(&as_read, &changes, &laptops).await;
    assert!(refused.is_err(), "the ended session wrote itself back");
    assert_eq!(status_of(&app, &laptop).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status_of(&app, &phone).await, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sign_ins_at_once_never_hold_more_than_the_cap() {
    let app = spawn_app().await;
    app.register("jake").await;
    let user = app.user("jake").await;
    for _ in 1..MAX_SESSIONS {
        app.sign_in(&user).await;
    }
    let at_once = (0..10).map(|_| async {
        let session = app.new_session(&user.id);
        let as_read = app.user("jake").await;
        app.state.db.begin_session(&as_read, &session).await
    });
    let outcomes = futures::future::join_all(at_once).await;
    // Each is done, or told to retry (503) after losing to the others.
    for outcome in &outcomes {
        assert!(
            matches!(outcome, Ok(()) | Err(conduit_common::ApiError::Busy)),
            "{outcome:?}"
        );
    }
    assert!(outcomes.iter().any(Result::is_ok));
    assert_eq!(app.user("jake").await.sessions.len(), MAX_SESSIONS);
}

/// A public read runs alongside the check of its caller's session (it
/// saves a round trip in sequence): with an ended session it is refused
/// all the same, and shows nothing of what it read.
#[tokio::test]
async fn an_ended_session_is_refused_on_public_reads_too() {
    let app = spawn_app().await;
    let token = app.register("jake").await;
    let slug = app.create_article(&token, "Public", &[]).await;
    let logout = app.post("/api/user/logout", json!({}), Some(&token)).await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    for path in [
        "/api/articles".to_owned(),
        "/api/articles?author=jake".to_owned(),
        format!("/api/articles/{slug}"),
        format!("/api/articles/{slug}/comments"),
        "/api/profiles/jake".to_owned(),
    ] {
        let anonymous = app.get(&path, None).await;
        assert_eq!(anonymous.status, StatusCode::OK, "{path}");
        let refused = app.get(&path, Some(&token)).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(refused.error("token"), "is invalid", "{path}");
    }
}
