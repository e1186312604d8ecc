//! Favorites.

use conduit_common::ApiError;
use conduit_common::api_types::ArticleBody;
use conduit_common::db::articles::SlugGuard;
use conduit_common::db::users::User;
use conduit_common::decorate::Known;
use conduit_common::http::{ApiResult, Ctx, json};
use conduit_common::lambda_http::http::StatusCode;

use super::articles::{guard_from_path, read_article_view};

/// Answers with the article as it now is, re-read so that `favoritesCount`
/// includes concurrent favorites by others (a transaction returns nothing).
/// Whether the caller favorites it is known: it is what they just did.
async fn current_article(ctx: &Ctx, guard: &SlugGuard, me: &User, favorited: bool) -> ApiResult {
    let known = Known {
        favorited: Some(favorited),
        ..Known::default()
    };
    let article = read_article_view(ctx.db(), guard, Some(me), known).await?;
    json(StatusCode::OK, &ArticleBody { article })
}

#[tracing::instrument(skip_all)]
pub async fn favorite_article(ctx: Ctx) -> ApiResult {
    let me = &ctx.user().await?.user;
    let guard = guard_from_path(&ctx).await?;
    if !ctx.db().favorite(&guard.article_id, &me.id).await? {
        return Err(ApiError::NotFound("article"));
    }
    current_article(&ctx, &guard, me, true).await
}

#[tracing::instrument(skip_all)]
pub async fn unfavorite_article(ctx: Ctx) -> ApiResult {
    let me = &ctx.user().await?.user;
    let guard = guard_from_path(&ctx).await?;
    ctx.db().unfavorite(&guard.article_id, &me.id).await?;
    current_article(&ctx, &guard, me, false).await
}
