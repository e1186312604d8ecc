//! What every endpoint has in common: the route table's types, request
//! parsing, the pipeline that authenticates and maps errors, and routing.

mod ctx;
mod pipeline;
mod response;
mod router;

pub use ctx::{
    ClientAddr, Ctx, DEFAULT_LIMIT, ListParams, MAX_FEED_OFFSET, MAX_LIMIT, MAX_OFFSET, next_cursor,
};
pub use pipeline::{CarriesToken, MAX_BODY_BYTES, REQUEST_ID_HEADER, RequestIds, handle};
pub use response::{created, json, no_content};
pub use router::{Router, reject};

use std::future::Future;
use std::pin::Pin;

pub use lambda_http::http::Method;

use crate::auth::Access;
use crate::error::ApiError;

pub type Request = lambda_http::Request;
pub type Response = lambda_http::Response<lambda_http::Body>;
pub type ApiResult = Result<Response, ApiError>;
pub type Handler = fn(Ctx) -> Pin<Box<dyn Future<Output = ApiResult> + Send>>;

/// One endpoint: the single source of truth from which the Lambda binaries,
/// the local server, the SAM template check and the docs all derive.
pub struct Route {
    /// The Lambda function's name, and its binary's.
    pub name: &'static str,
    pub method: Method,
    /// API Gateway path syntax: `/api/articles/{slug}`.
    pub path: &'static str,
    pub access: Access,
    pub handler: Handler,
    pub summary: &'static str,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} ({})", self.method, self.path, self.name)
    }
}

/// Declares a route as a `static`, boxing the handler's future so that
/// every route has the same type.
#[macro_export]
macro_rules! route {
    ($static:ident = $name:literal, $method:ident $path:literal, $access:expr, $handler:path, $summary:literal) => {
        pub static $static: $crate::http::Route = $crate::http::Route {
            name: $name,
            method: $crate::http::Method::$method,
            path: $path,
            access: $access,
            handler: |ctx| Box::pin($handler(ctx)),
            summary: $summary,
        };
    };
}
