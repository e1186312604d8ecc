//! Administration: users, roles, suspensions and the audit trail.
//! Every route here requires the admin role (see `routes.rs`).

use conduit_common::api_types::{AdminUserBody, AdminUsersBody, AuditBody, RoleChange};
use conduit_common::db::admin::AuditEntry;
use conduit_common::db::users::User;
use conduit_common::domain::UserStatus;
use conduit_common::http::{ApiResult, Ctx, json, next_cursor, no_content};
use conduit_common::lambda_http::http::StatusCode;
use conduit_common::{ApiError, views};

/// The user named by the `username` path parameter.
async fn named_user(ctx: &Ctx) -> Result<User, ApiError> {
    let username = ctx.path("username")?;
    ctx.db()
        .user_by_username(&username)
        .await?
        .ok_or(ApiError::NotFound("user"))
}

/// The user named by the `username` path parameter, for a change of role or
/// status or a deletion: admins may not make those to themselves, so that
/// the last admin cannot lock everyone out.
async fn target_user(ctx: &Ctx) -> Result<User, ApiError> {
    let user = named_user(ctx).await?;
    if user.id == ctx.user().await?.user.id {
        return Err(ApiError::Refused {
            resource: "user",
            reason: "admins can't change their own role or status, or delete themselves here",
        });
    }
    Ok(user)
}

fn user_body(user: &User) -> ApiResult {
    json(
        StatusCode::OK,
        &AdminUserBody {
            user: views::admin_user_view(user),
        },
    )
}

#[tracing::instrument(skip_all)]
pub async fn list_users(ctx: Ctx) -> ApiResult {
    let params = ctx.list_params()?;
    let users = ctx
        .db()
        .list_users(params.limit, params.cursor.as_deref())
        .await?;
    let next_cursor = next_cursor(&users, params.limit, |u| u.id.clone());
    let users = users.iter().map(views::admin_user_view).collect();
    json(StatusCode::OK, &AdminUsersBody { users, next_cursor })
}

#[tracing::instrument(skip_all)]
pub async fn set_user_role(ctx: Ctx) -> ApiResult {
    let change = ctx.json::<RoleChange>()?;
    let mut user = target_user(&ctx).await?;
    let me = &ctx.user().await?.user;
    let audit = AuditEntry::new(
        me,
        "user.role",
        format!("user:{}", user.username),
        Some(format!(
            "{} -> {}",
            user.role.as_str(),
            change.role.as_str()
        )),
    );
    ctx.db().set_role(&user, change.role, &audit).await?;
    tracing::info!(target_user = %user.id, role = change.role.as_str(), "role changed");
    user.role = change.role;
    user_body(&user)
}

async fn set_status(ctx: Ctx, status: UserStatus, action: &str) -> ApiResult {
    let mut user = target_user(&ctx).await?;
    let me = &ctx.user().await?.user;
    let audit = AuditEntry::new(me, action, format!("user:{}", user.username), None);
    ctx.db().set_status(&user, status, &audit).await?;
    tracing::info!(target_user = %user.id, action, "status changed");
    user.status = status;
    user_body(&user)
}

#[tracing::instrument(skip_all)]
pub async fn suspend_user(ctx: Ctx) -> ApiResult {
    set_status(ctx, UserStatus::Suspended, "user.suspend").await
}

#[tracing::instrument(skip_all)]
pub async fn reinstate_user(ctx: Ctx) -> ApiResult {
    set_status(ctx, UserStatus::Active, "user.reinstate").await
}

/// Deletes a user's account (audited): what it had is removed after, by the
/// `clean_up_users` stream consumer. Not an admin's own: that is
/// `DELETE /api/user`, with their password.
#[tracing::instrument(skip_all)]
pub async fn delete_user(ctx: Ctx) -> ApiResult {
    let user = target_user(&ctx).await?;
    let me = &ctx.user().await?.user;
    let audit = AuditEntry::new(me, "user.delete", format!("user:{}", user.username), None);
    ctx.db().delete_user(&user, &audit).await?;
    tracing::info!(target_user = %user.id, "account deleted");
    no_content()
}

/// Signs a user out everywhere (e.g. after their account was taken over).
/// An admin may do it to themselves: it locks nobody out.
#[tracing::instrument(skip_all)]
pub async fn end_user_sessions(ctx: Ctx) -> ApiResult {
    let user = named_user(&ctx).await?;
    let me = &ctx.user().await?.user;
    let detail = format!("{} session(s)", user.live_sessions());
    let audit = AuditEntry::new(
        me,
        "user.sessions.end",
        format!("user:{}", user.username),
        Some(detail),
    );
    ctx.db().end_all_sessions(&user, &audit).await?;
    tracing::info!(target_user = %user.id, "sessions ended");
    no_content()
}

#[tracing::instrument(skip_all)]
pub async fn list_audit(ctx: Ctx) -> ApiResult {
    let params = ctx.list_params()?;
    let entries = ctx
        .db()
        .audit_log(params.limit, params.cursor.as_deref())
        .await?;
    let next_cursor = next_cursor(&entries, params.limit, |e| e.id.clone());
    let entries = entries.into_iter().map(views::audit_view).collect();
    json(
        StatusCode::OK,
        &AuditBody {
            entries,
            next_cursor,
        },
    )
}
