//! The API's own documentation: the OpenAPI document and Swagger UI, whose
//! assets are compiled into the binary (no CDN, works offline).

use conduit_common::http::{ApiResult, Ctx};
use conduit_common::lambda_http::Body;
use conduit_common::lambda_http::http::{Response, StatusCode, header};

use crate::static_files::{self, StaticFile};

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
    static_files::serve(SWAGGER_FILES, "index.html")
}

/// Swagger UI's assets, under `/api/docs/`.
#[tracing::instrument(skip_all)]
pub async fn api_docs_asset(ctx: Ctx) -> ApiResult {
    static_files::serve(SWAGGER_FILES, &ctx.path("file")?)
}

macro_rules! swagger_release_file {
    ($name:literal) => {
        StaticFile::plain(
            $name,
            include_bytes!(concat!(env!("OUT_DIR"), "/swagger-ui/", $name)),
        )
    };
}

/// Every file the page needs: ours, and those build.rs took from the
/// Swagger UI release.
const SWAGGER_FILES: &[StaticFile] = &[
    StaticFile::plain("index.html", include_bytes!("../../swagger/index.html")),
    StaticFile::plain(
        "swagger-initializer.js",
        include_bytes!("../../swagger/swagger-initializer.js"),
    ),
    swagger_release_file!("swagger-ui.css"),
    swagger_release_file!("index.css"),
    swagger_release_file!("swagger-ui-bundle.js"),
    swagger_release_file!("swagger-ui-standalone-preset.js"),
    swagger_release_file!("favicon-32x32.png"),
];

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
        for file in SWAGGER_FILES {
            let content_type = file.content_type();
            let essence = content_type.split(';').next().unwrap_or_default();
            assert!(
                documented.contains(&essence),
                "{}: {content_type}",
                file.name
            );
        }
    }
}
