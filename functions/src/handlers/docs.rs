//! The API's own documentation: the OpenAPI document and Swagger UI, whose
//! assets are compiled into the binary (no CDN, works offline).

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
pub async fn api_docs(_ctx: Ctx) -> ApiResult {
    swagger_file("index.html")
}

/// Swagger UI's assets, under `/api/docs/`.
#[tracing::instrument(skip_all)]
pub async fn api_docs_asset(ctx: Ctx) -> ApiResult {
    swagger_file(&ctx.path("file")?)
}

macro_rules! swagger_release_file {
    ($name:literal, $content_type:literal) => {
        (
            $name,
            $content_type,
            include_bytes!(concat!(env!("OUT_DIR"), "/swagger-ui/", $name)).as_slice(),
        )
    };
}

/// Every file the page needs: ours, and those build.rs took from the
/// Swagger UI release.
const SWAGGER_FILES: &[(&str, &str, &[u8])] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_bytes!("../../swagger/index.html"),
    ),
    (
        "swagger-initializer.js",
        "text/javascript",
        include_bytes!("../../swagger/swagger-initializer.js"),
    ),
    swagger_release_file!("swagger-ui.css", "text/css"),
    swagger_release_file!("index.css", "text/css"),
    swagger_release_file!("swagger-ui-bundle.js", "text/javascript"),
    swagger_release_file!("swagger-ui-standalone-preset.js", "text/javascript"),
    swagger_release_file!("favicon-32x32.png", "image/png"),
];

fn swagger_file(name: &str) -> ApiResult {
    let (_, content_type, bytes) = SWAGGER_FILES
        .iter()
        .find(|(file, _, _)| *file == name)
        .ok_or(ApiError::NotFound("file"))?;
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, *content_type)
        .body(Body::Binary(bytes.to_vec()))
        .expect("static response parts are valid"))
}

#[cfg(test)]
pub(crate) mod tests {
    use conduit_common::http::ResponseBody;

    use super::*;

    /// The content types a route's OpenAPI entry documents.
    pub(crate) fn documented(route: &conduit_common::http::Route) -> &'static [&'static str] {
        match route.api.response {
            ResponseBody::Document(content_types) => content_types,
            _ => panic!("{} serves no document", route.name),
        }
    }

    #[test]
    fn every_file_is_served_as_a_type_its_route_documents() {
        let documented = documented(&crate::routes::API_DOCS_ASSET);
        for (name, content_type, _) in SWAGGER_FILES {
            let essence = content_type.split(';').next().unwrap_or_default();
            assert!(documented.contains(&essence), "{name}: {content_type}");
        }
    }
}
