//! Favorites.

use conduit_common::ApiError;
use conduit_common::api_types::ArticleBody;
use conduit_common::decorate::{self, Known};
use conduit_common::http::{ApiResult, Ctx, json};
use conduit_common::lambda_http::http::StatusCode;

use super::articles::article_from_path;

/// Answers with the article as it now is, re-read so that `favoritesCount`
/// includes concurrent favorites by others. Whether the caller favorites it
/// is known: it is what they just did.
async fn current_article(ctx: &Ctx, id: &str, favorited: bool) -> ApiResult {
    let article = ctx
        .db()
        .article_by_id(id)
        .await?
        .ok_or(ApiError::NotFound("article"))?;
    let known = Known {
        favorited: Some(favorited),
        ..Known::default()
    };
    let viewer = ctx.viewer().await?;
    let article = decorate::article(ctx.db(), article, viewer.as_ref(), known).await?;
    json(StatusCode::OK, &ArticleBody { article })
}

#[tracing::instrument(skip_all)]
pub async fn favorite_article(ctx: Ctx) -> ApiResult {
    let me = &ctx.user().await?.user;
    let article = article_from_path(&ctx).await?;
    if !ctx.db().favorite(&article, &me.id).await? {
        return Err(ApiError::NotFound("article"));
    }
    current_article(&ctx, &article.id, true).await
}

#[tracing::instrument(skip_all)]
pub async fn unfavorite_article(ctx: Ctx) -> ApiResult {
    let me = &ctx.user().await?.user;
    let article = article_from_path(&ctx).await?;
    ctx.db().unfavorite(&article, &me.id).await?;
    current_article(&ctx, &article.id, false).await
}
