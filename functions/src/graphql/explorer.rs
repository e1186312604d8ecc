//! GraphiQL, the GraphQL explorer, for browsers: its page at
//! `/api/graphql` (a GET with no query that asks for HTML) and its files
//! under `/api/graphql/`, all compiled into the binaries (no CDN, works
//! offline). The release's files are served gzipped as build.rs made them.

use conduit_common::ApiError;
use conduit_common::http::{ApiResult, Ctx};
use conduit_common::lambda_http::Body;
use conduit_common::lambda_http::http::{Response, StatusCode, header};

/// The page, when a browser opens `/api/graphql`.
pub fn page() -> ApiResult {
    file(
        "text/html; charset=utf-8",
        None,
        include_bytes!("../../graphiql/index.html"),
    )
}

/// Whether a GET of `/api/graphql` with no query is a browser asking for the page.
pub fn wants_page(ctx: &Ctx) -> bool {
    ctx.req
        .headers()
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

macro_rules! gzipped {
    ($name:literal, $content_type:literal) => {
        (
            $name,
            $content_type,
            Some("gzip"),
            include_bytes!(concat!(env!("OUT_DIR"), "/graphiql/", $name, ".gz")).as_slice(),
        )
    };
}

/// Every file the page loads: name, type, encoding, bytes.
const FILES: &[(&str, &str, Option<&str>, &[u8])] = &[
    (
        "graphiql-init.js",
        "text/javascript",
        None,
        include_bytes!("../../graphiql/graphiql-init.js"),
    ),
    gzipped!("graphiql.min.js", "text/javascript"),
    gzipped!("graphiql.min.css", "text/css"),
    gzipped!("react.production.min.js", "text/javascript"),
    gzipped!("react-dom.production.min.js", "text/javascript"),
];

/// `GET /api/graphql/{file}`: the page's files.
#[tracing::instrument(skip_all)]
pub async fn asset(ctx: Ctx) -> ApiResult {
    let name = ctx.path("file")?;
    let (_, content_type, encoding, bytes) = FILES
        .iter()
        .find(|(file, ..)| *file == name)
        .ok_or(ApiError::NotFound("file"))?;
    file(content_type, *encoding, bytes)
}

fn file(content_type: &str, encoding: Option<&str>, bytes: &[u8]) -> ApiResult {
    let mut response = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type);
    if let Some(encoding) = encoding {
        response = response.header(header::CONTENT_ENCODING, encoding);
    }
    Ok(response
        .body(Body::Binary(bytes.to_vec()))
        .expect("static response parts are valid"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_is_served_as_a_type_its_route_documents() {
        let documented = crate::handlers::docs::tests::documented(&crate::routes::GRAPHIQL_ASSET);
        for (name, content_type, ..) in FILES {
            assert!(documented.contains(content_type), "{name}: {content_type}");
        }
    }
}
