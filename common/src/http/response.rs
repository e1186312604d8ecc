//! Building responses.

use lambda_http::Body;
use lambda_http::http::StatusCode;
use lambda_http::http::header::CONTENT_TYPE;
use serde::Serialize;

use super::{ApiResult, Response};
use crate::error::ApiError;

pub fn json<T: Serialize>(status: StatusCode, value: &T) -> ApiResult {
    let body = serde_json::to_string(value).map_err(ApiError::internal)?;
    Ok(with_body(status, body))
}

/// 201 with the created resource.
pub fn created<T: Serialize>(value: &T) -> ApiResult {
    json(StatusCode::CREATED, value)
}

pub fn no_content() -> ApiResult {
    Ok(lambda_http::Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Body::Empty)
        .expect("static response parts are valid"))
}

pub(crate) fn with_body(status: StatusCode, body: String) -> Response {
    lambda_http::Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "application/json")
        .body(Body::Text(body))
        .expect("static response parts are valid")
}

pub(crate) fn error(err: &ApiError) -> Response {
    respond_with(err, err.body())
}

/// An error of a GraphQL route as a whole (a bad token, a body that is not
/// a GraphQL request): the same status, in GraphQL's response shape,
/// `{"errors":[{"message":..,"extensions":{"code":..}}]}`, so that GraphQL
/// clients can read it.
pub(crate) fn graphql_error(err: &ApiError) -> Response {
    let body = serde_json::json!({ "errors": [err.graphql_error()] });
    respond_with(err, body.to_string())
}

fn respond_with(err: &ApiError, body: String) -> Response {
    let mut response = with_body(err.status_code(), body);
    if let Some(seconds) = err.retry_after() {
        response
            .headers_mut()
            .insert(lambda_http::http::header::RETRY_AFTER, seconds.into());
    }
    response
}
