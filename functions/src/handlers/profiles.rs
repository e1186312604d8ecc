//! Profiles and follows.

use conduit_common::db::users::User;
use conduit_common::http::{ApiResult, Ctx, json};
use conduit_common::lambda_http::http::StatusCode;
use conduit_common::model::ProfileBody;
use conduit_common::{ApiError, views};

async fn profile_user(ctx: &Ctx) -> Result<User, ApiError> {
    let username = ctx.path("username")?;
    ctx.db()
        .profile_by_username(&username)
        .await?
        .ok_or(ApiError::NotFound("profile"))
}

fn profile(user: &User, following: bool) -> ApiResult {
    json(
        StatusCode::OK,
        &ProfileBody {
            profile: views::profile_view(user, following),
        },
    )
}

#[tracing::instrument(skip_all)]
pub async fn get_profile(ctx: Ctx) -> ApiResult {
    let user = profile_user(&ctx).await?;
    let following = match ctx.viewer() {
        Some(viewer) => ctx.db().is_following(&viewer.id, &user.id).await?,
        None => false,
    };
    profile(&user, following)
}

#[tracing::instrument(skip_all)]
pub async fn follow(ctx: Ctx) -> ApiResult {
    let me = &ctx.user()?.user;
    let user = profile_user(&ctx).await?;
    if user.id == me.id {
        return Err(ApiError::field("profile", "can't follow yourself"));
    }
    ctx.db().follow(&me.id, &user.id).await?;
    profile(&user, true)
}

#[tracing::instrument(skip_all)]
pub async fn unfollow(ctx: Ctx) -> ApiResult {
    let me = &ctx.user()?.user;
    let user = profile_user(&ctx).await?;
    ctx.db().unfollow(&me.id, &user.id).await?;
    profile(&user, false)
}
