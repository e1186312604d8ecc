//! Tags.

use conduit_common::api_types::TagsBody;
use conduit_common::http::{ApiResult, Ctx, json};
use conduit_common::lambda_http::http::StatusCode;

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
