//! Registration, login and the current user.

use conduit_common::api_types::{
    DeleteUserRequest, LoginUserRequest, NewUserRequest, UpdateUserRequest, UserBody,
};
use conduit_common::auth::password;
use conduit_common::db::admin::AuditEntry;
use conduit_common::db::sessions::Session;
use conduit_common::db::throttle::Subjects;
use conduit_common::db::users::{User, UserChanges};
use conduit_common::domain::UserStatus;
use conduit_common::http::{ApiResult, Ctx, NeverStore, json, no_content};
use conduit_common::lambda_http::http::StatusCode;
use conduit_common::lambda_http::http::header::USER_AGENT;
use conduit_common::validate::{normalize_email, validated};
use conduit_common::{ApiError, time, views};

/// The user with their token: marked so that no cache ever keeps it.
fn with_token(status: StatusCode, user: &User, token: String) -> ApiResult {
    let mut response = json(
        status,
        &UserBody {
            user: views::user_view(user, token),
        },
    )?;
    response.extensions_mut().insert(NeverStore);
    Ok(response)
}

/// A new session for `user`, made by this request.
fn session_for(ctx: &Ctx, user: &User) -> Session {
    let user_agent = ctx
        .req
        .headers()
        .get(USER_AGENT)
        .and_then(|agent| agent.to_str().ok());
    Session::begin(
        &user.id,
        ctx.state.config.token_ttl,
        ctx.client_ip(),
        user_agent,
    )
}

#[tracing::instrument(skip_all)]
pub async fn register(ctx: Ctx) -> ApiResult {
    let new = validated(ctx.json::<NewUserRequest>()?.user)?;
    let now = std::time::SystemTime::now();
    let user = User {
        id: time::new_id(now).to_string(),
        username: new.username.trim().to_owned(),
        email: normalize_email(&new.email),
        password_hash: password::hash(new.password).await?,
        bio: None,
        image: None,
        role: Default::default(),
        status: Default::default(),
        sessions: Default::default(),
        articles_count: 0,
        favorites_count: 0,
        following_count: 0,
        followers_count: 0,
        feed_count: 0,
        pulls: Default::default(),
        created_at: time::iso(now),
    };
    let session = session_for(&ctx, &user);
    ctx.db().create_user(&user, &session).await?;
    tracing::info!(user_id = %user.id, "user registered");
    let token = ctx.state.jwt.issue(&user.id, &session.id)?;
    with_token(StatusCode::CREATED, &user, token)
}

#[tracing::instrument(skip_all)]
pub async fn login(ctx: Ctx) -> ApiResult {
    let login = validated(ctx.json::<LoginUserRequest>()?.user)?;
    let email = normalize_email(&login.email);
    let limits = ctx.state.config.login_limits;
    let subjects = Subjects::new(&email, &ctx.client_ip());
    let reservation = ctx.db().reserve_login_attempt(&subjects, &limits).await?;
    let user = ctx.db().user_by_email(&email).await?;
    // Unknown email or wrong password: same work (a dummy hash is checked
    // for an unknown email), same answer.
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let verified = password::verify(login.password, stored).await?;
    let user = match user {
        Some(user) if verified => user,
        _ => return Err(ApiError::InvalidCredentials),
    };
    if user.status == UserStatus::Suspended {
        return Err(ApiError::InvalidCredentials);
    }
    ctx.db()
        .release_login_attempt(&subjects, reservation)
        .await?;
    let session = session_for(&ctx, &user);
    ctx.db().begin_session(&user, &session).await?;
    let token = ctx.state.jwt.issue(&user.id, &session.id)?;
    with_token(StatusCode::OK, &user, token)
}

#[tracing::instrument(skip_all)]
pub async fn get_current_user(ctx: Ctx) -> ApiResult {
    let auth = ctx.user().await?;
    with_token(StatusCode::OK, &auth.user, auth.token.clone())
}

#[tracing::instrument(skip_all)]
pub async fn update_user(ctx: Ctx) -> ApiResult {
    let auth = ctx.user().await?;
    let edit = validated(ctx.json::<UpdateUserRequest>()?.user)?;
    edit.reject_nulls()?;
    // An empty bio or image means "none", like null.
    let clear_empty = |field: Option<Option<String>>| field.map(|v| v.filter(|s| !s.is_empty()));
    let changes = UserChanges {
        username: edit.username.flatten().map(|u| u.trim().to_owned()),
        email: edit.email.flatten().as_deref().map(normalize_email),
        password_hash: match edit.password.flatten() {
            Some(password) => Some(password::hash(password).await?),
            None => None,
        },
        bio: clear_empty(edit.bio),
        image: clear_empty(edit.image),
    };
    ctx.db()
        .update_user(&auth.user, &changes, &auth.session)
        .await?;
    let mut user = auth.user.clone();
    if let Some(username) = changes.username {
        user.username = username;
    }
    if let Some(email) = changes.email {
        user.email = email;
    }
    if let Some(bio) = changes.bio {
        user.bio = bio;
    }
    if let Some(image) = changes.image {
        user.image = image;
    }
    // The session that made the change goes on (the RealWorld suite reuses
    // its token after a password change); a new password or email has
    // ended every other one.
    let token = auth.token.clone();
    with_token(StatusCode::OK, &user, token)
}

/// Deletes the caller's account once they give their password again. The
/// check counts against the login limits, like a login: a stolen token
/// must not become a way to guess the password. What the account had is
/// removed after, by the `clean_up_users` stream consumer.
#[tracing::instrument(skip_all)]
pub async fn delete_current_user(ctx: Ctx) -> ApiResult {
    let auth = ctx.user().await?;
    let confirmation = validated(ctx.json::<DeleteUserRequest>()?.user)?;
    let me = &auth.user;
    let limits = ctx.state.config.login_limits;
    let subjects = Subjects::new(&me.email, &ctx.client_ip());
    let reservation = ctx.db().reserve_login_attempt(&subjects, &limits).await?;
    let stored = Some(me.password_hash.clone());
    if !password::verify(confirmation.password, stored).await? {
        return Err(ApiError::Refused {
            resource: "password",
            reason: "is not this account's",
        });
    }
    ctx.db()
        .release_login_attempt(&subjects, reservation)
        .await?;
    let audit = AuditEntry::new(me, "user.delete", format!("user:{}", me.username), None);
    ctx.db().delete_user(me, &audit).await?;
    tracing::info!(user_id = %me.id, "account deleted");
    no_content()
}
