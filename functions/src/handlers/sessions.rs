//! The caller's sign-in sessions: listing them, ending one, logging out.
//! (A new password or email ends the others: see `users::update_user`.)

use conduit_common::api_types::SessionsBody;
use conduit_common::http::{ApiResult, Ctx, NeverStore, json, no_content};
use conduit_common::lambda_http::http::StatusCode;
use conduit_common::{ApiError, views};

#[tracing::instrument(skip_all)]
pub async fn list_sessions(ctx: Ctx) -> ApiResult {
    let auth = ctx.user().await?;
    let sessions = ctx.db().sessions(&auth.user).await?;
    let sessions = sessions
        .into_iter()
        .map(|session| views::session_view(session, &auth.session))
        .collect();
    let mut response = json(StatusCode::OK, &SessionsBody { sessions })?;
    response.extensions_mut().insert(NeverStore);
    Ok(response)
}

/// Ends one of the caller's sessions (the current one too, if named).
#[tracing::instrument(skip_all)]
pub async fn end_session(ctx: Ctx) -> ApiResult {
    let auth = ctx.user().await?;
    let id = ctx.path("id")?;
    // Looked up in the caller's own partition: another user's session is
    // not found.
    if !ctx.db().end_session(&auth.user.id, &id).await? {
        return Err(ApiError::NotFound("session"));
    }
    tracing::info!(user_id = %auth.user.id, session = %id, "session ended");
    no_content()
}

/// Ends the session of the token making the request.
#[tracing::instrument(skip_all)]
pub async fn logout(ctx: Ctx) -> ApiResult {
    let auth = ctx.user().await?;
    // Ended already by a concurrent request: logged out all the same.
    ctx.db().end_session(&auth.user.id, &auth.session).await?;
    tracing::info!(user_id = %auth.user.id, "logged out");
    no_content()
}
