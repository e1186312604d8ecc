//! Profiles and follows.

use conduit_common::api_types::ProfileBody;
use conduit_common::db::keys;
use conduit_common::db::profiles::Profile;
use conduit_common::http::{ApiResult, Ctx, json};
use conduit_common::lambda_http::http::StatusCode;
use conduit_common::{ApiError, views};

/// The id of the user a follow or unfollow is about, read afresh (never
/// from the cache: a cached username may since have passed to someone else).
async fn profile_id(ctx: &Ctx) -> Result<String, ApiError> {
    let username = ctx.path("username")?;
    ctx.db()
        .user_id_by_username(&username)
        .await?
        .ok_or(ApiError::NotFound("profile"))
}

fn profile(profile: &Profile, following: bool) -> ApiResult {
    json(
        StatusCode::OK,
        &ProfileBody {
            profile: views::profile_view(profile, following),
        },
    )
}

#[tracing::instrument(skip_all)]
pub async fn get_profile(ctx: Ctx) -> ApiResult {
    let username = ctx.path("username")?;
    // The username's guard (or cached profile) is read alongside the
    // caller (they may be asking for their own; then the user
    // authentication read is the fresher copy: their edits show at once,
    // whatever the cache holds). Then the profile, unless cached, and
    // whether the caller follows its user are read together.
    let db = ctx.db();
    let (viewer, named) =
        futures::try_join!(ctx.viewer(), db.cached_profile_or_id_by_username(&username))?;
    // You never follow yourself.
    if let Some(me) = viewer
        .user()
        .filter(|me| keys::username(&me.username) == keys::username(&username))
    {
        return profile(&Profile::from(me), false);
    }
    let named = named.ok_or(ApiError::NotFound("profile"))?;
    let viewer_id = viewer.user().map(|v| v.id.as_str());
    let (found, following) = db
        .profile_as(&username, named, viewer_id)
        .await?
        .ok_or(ApiError::NotFound("profile"))?;
    profile(&found, following)
}

#[tracing::instrument(skip_all)]
pub async fn follow_user(ctx: Ctx) -> ApiResult {
    let me = &ctx.user().await?.user;
    let id = profile_id(&ctx).await?;
    // Not a malformed request (422) but one this caller may not make of
    // this profile.
    if id == me.id {
        return Err(ApiError::Refused {
            resource: "profile",
            reason: "can't follow yourself",
        });
    }
    // Their articles, if few, join the feed in the follow's transaction:
    // read alongside the user (whose follower count decides how).
    let db = ctx.db();
    let (user, articles) = futures::try_join!(db.user_by_id(&id), db.few_article_ids_of(&id))?;
    let user = user.ok_or(ApiError::NotFound("profile"))?;
    db.follow(me, &user, articles.as_deref()).await?;
    profile(&Profile::from(&user), true)
}

#[tracing::instrument(skip_all)]
pub async fn unfollow_user(ctx: Ctx) -> ApiResult {
    let me = &ctx.user().await?.user;
    let id = profile_id(&ctx).await?;
    // The unfollow needs only the id the guard gave; the profile to answer
    // with is read meanwhile.
    let db = ctx.db();
    let (user, ()) = futures::try_join!(db.user_by_id(&id), db.unfollow(me, &id))?;
    let user = user.ok_or(ApiError::NotFound("profile"))?;
    profile(&Profile::from(&user), false)
}
