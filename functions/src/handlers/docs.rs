//! The API's own documentation: the OpenAPI document and Swagger UI, whose
//! assets are compiled into the binary (no CDN, works offline).

use std::sync::{Arc, LazyLock};

use conduit_common::ApiError;
use conduit_common::http::{ApiResult, Ctx};
use conduit_common::lambda_http::Body;
use conduit_common::lambda_http::http::{Response, StatusCode, header};

/// Generated from the route table and the API types at development time
/// (`make generate`; a test fails when it is out of date), so serving it
/// costs nothing and this function's binary carries no other handler.
static DOCUMENT: &str = include_str!("../../openapi.json");

#[tracing::instrument(skip_all)]
pub async fn openapi(_ctx: Ctx) -> ApiResult {
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::Text(DOCUMENT.to_owned()))
        .expect("static response parts are valid"))
}

/// Swagger UI's page at `/api/docs`.
#[tracing::instrument(skip_all)]
pub async fn swagger_index(_ctx: Ctx) -> ApiResult {
    swagger_file("index.html")
}

/// Swagger UI's assets, under `/api/docs/`.
#[tracing::instrument(skip_all)]
pub async fn swagger_ui(ctx: Ctx) -> ApiResult {
    swagger_file(&ctx.path("file")?)
}

fn swagger_file(name: &str) -> ApiResult {
    static CONFIG: LazyLock<Arc<utoipa_swagger_ui::Config<'static>>> =
        LazyLock::new(|| Arc::new(utoipa_swagger_ui::Config::from("/api/openapi.json")));
    let file = utoipa_swagger_ui::serve(name, CONFIG.clone())
        .map_err(ApiError::internal)?
        .ok_or(ApiError::NotFound("file"))?;
    let mut bytes = file.bytes.into_owned();
    if name == "index.html" {
        // The page refers to its assets relatively; anchor them under
        // /api/docs/ so the page also works when served at /api/docs.
        let html = String::from_utf8_lossy(&bytes).replacen(
            "<head>",
            "<head><base href=\"/api/docs/\">",
            1,
        );
        bytes = html.into_bytes();
    }
    let mut response = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, file.content_type);
    if file.gzpipped {
        response = response.header(header::CONTENT_ENCODING, "gzip");
    }
    Ok(response
        .body(Body::Binary(bytes))
        .expect("static response parts are valid"))
}
