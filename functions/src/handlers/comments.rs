//! Comments.

use conduit_common::api_types::{CommentBody, CommentsBody, NewCommentRequest};
use conduit_common::http::{ApiResult, Ctx, created, json, next_cursor, no_content};
use conduit_common::lambda_http::http::StatusCode;
use conduit_common::validate::validated;
use conduit_common::{ApiError, decorate, time};

use super::articles::{authorize_delete, guard_from_path};

#[tracing::instrument(skip_all)]
pub async fn add_comment(ctx: Ctx) -> ApiResult {
    let me = &ctx.user().await?.user;
    let new = validated(ctx.json::<NewCommentRequest>()?.comment)?;
    let article_id = guard_from_path(&ctx).await?.article_id;
    let comment = ctx
        .db()
        .add_comment(&article_id, new.body, &me.id, time::now().1)
        .await?;
    let comment = decorate::comments(ctx.db(), vec![comment], Some(me))
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal("comment author vanished"))?;
    created(&CommentBody { comment })
}

/// Oldest first, up to 100 (or `limit`) a page; `cursor` continues.
#[tracing::instrument(skip_all)]
pub async fn list_comments(ctx: Ctx) -> ApiResult {
    let article_id = guard_from_path(&ctx).await?.article_id;
    let params = ctx.list_params()?;
    let limit = params.limit;
    let after = match params.cursor {
        Some(cursor) => Some(
            cursor
                .parse::<u64>()
                .map_err(|_| ApiError::field("cursor", "is invalid"))?,
        ),
        None => None,
    };
    let comments = ctx.db().comments(&article_id, after, limit).await?;
    let next_cursor = next_cursor(&comments, limit, |c| c.id.to_string());
    let viewer = ctx.viewer().await?;
    let comments = decorate::comments(ctx.db(), comments, viewer.user()).await?;
    json(
        StatusCode::OK,
        &CommentsBody {
            comments,
            next_cursor,
        },
    )
}

#[tracing::instrument(skip_all)]
pub async fn delete_comment(ctx: Ctx) -> ApiResult {
    let me = &ctx.user().await?.user;
    let slug = ctx.path("slug")?;
    let article_id = guard_from_path(&ctx).await?.article_id;
    let id = ctx
        .path("id")?
        .parse::<u64>()
        .map_err(|_| ApiError::NotFound("comment"))?;
    let comment = ctx
        .db()
        .comment(&article_id, id)
        .await?
        .ok_or(ApiError::NotFound("comment"))?;
    let target = format!("comment:{slug}/{id}");
    let audit = authorize_delete(me, "comment", &comment.author_id, target)?;
    if !ctx
        .db()
        .delete_comment(&article_id, id, audit.as_ref())
        .await?
    {
        return Err(ApiError::NotFound("comment"));
    }
    no_content()
}
