//! Tags.

use conduit_common::http::{ApiResult, Ctx, json};
use conduit_common::lambda_http::http::StatusCode;
use conduit_common::model::TagsBody;

/// Every tag in use, most used first.
#[tracing::instrument(skip_all)]
pub async fn list_tags(ctx: Ctx) -> ApiResult {
    let tags = ctx.db().cached_tags().await?;
    json(
        StatusCode::OK,
        &TagsBody {
            tags: tags.to_vec(),
        },
    )
}
