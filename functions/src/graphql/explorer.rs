//! GraphiQL, the GraphQL explorer, for browsers: its page at
//! `/api/graphql` (a GET with no query that asks for HTML) and its files
//! under `/api/graphql/`, all compiled into the binaries (no CDN, works
//! offline). The release's files are served gzipped as build.rs made them.

use conduit_common::http::{ApiResult, Ctx};
use conduit_common::lambda_http::http::header;

use crate::static_files::{self, StaticFile};

/// The page, when a browser opens `/api/graphql`.
pub fn page() -> ApiResult {
    StaticFile::plain("index.html", include_bytes!("../../graphiql/index.html")).response()
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
    ($name:literal) => {
        StaticFile::gzipped(
            $name,
            include_bytes!(concat!(env!("OUT_DIR"), "/graphiql/", $name, ".gz")),
        )
    };
}

/// Every file the page loads.
const FILES: &[StaticFile] = &[
    StaticFile::plain(
        "graphiql-init.js",
        include_bytes!("../../graphiql/graphiql-init.js"),
    ),
    gzipped!("graphiql.min.js"),
    gzipped!("graphiql.min.css"),
    gzipped!("react.production.min.js"),
    gzipped!("react-dom.production.min.js"),
];

/// `GET /api/graphql/{file}`: the page's files.
#[tracing::instrument(skip_all)]
pub async fn asset(ctx: Ctx) -> ApiResult {
    static_files::serve(FILES, &ctx.path("file")?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_is_served_as_a_type_its_route_documents() {
        let documented = crate::handlers::docs::tests::documented(&crate::routes::GRAPHIQL_ASSET);
        for file in FILES {
            let content_type = file.content_type();
            assert!(
                documented.contains(&content_type),
                "{}: {content_type}",
                file.name
            );
        }
    }
}
