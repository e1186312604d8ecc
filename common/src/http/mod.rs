//! What every endpoint has in common: what describes a route, request
//! parsing, the pipeline that authenticates and maps errors, and routing.

mod ctx;
mod pipeline;
mod response;
mod route;
mod router;

pub use ctx::{
    ClientAddr, Ctx, DEFAULT_LIMIT, ListParams, MAX_LIMIT, MAX_OFFSET, Viewer, decode_opaque,
    encode_cursor, next_cursor,
};
pub use pipeline::{
    MAX_BODY_BYTES, NeverStore, ORIGIN_VERIFY_HEADER, REQUEST_ID_HEADER, RequestIds,
    SHARED_MAX_AGE, VIEWER_ADDRESS_HEADER, handle,
};
pub use response::{created, json, no_content};
pub use route::{
    Api, BodyType, Deploy, Handler, Query, ResponseBody, Route, TableAccess, by_function, paging,
};
pub use router::{Router, reject};

pub use lambda_http::http::Method;

use crate::error::ApiError;

pub type Request = lambda_http::Request;
pub type Response = lambda_http::Response<lambda_http::Body>;
pub type ApiResult = Result<Response, ApiError>;
