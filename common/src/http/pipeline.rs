//! The request pipeline every endpoint runs through, in Lambda and locally:
//! size limit, authentication, the handler, error mapping, headers, a log line.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use futures::FutureExt;
use lambda_http::http::header::{self, HeaderMap, HeaderValue};
use lambda_http::http::{Method, StatusCode};
use tracing::Instrument;

use super::{Ctx, Response, Route, response};
use crate::auth;
use crate::config::Config;
use crate::error::ApiError;
use crate::state::AppState;

/// Larger bodies are refused with 413 before they are parsed. The largest
/// legitimate body, an article of 64 Ki characters (up to 4 bytes each in
/// UTF-8, more when JSON-escaped) plus its other fields, fits; a stored
/// article stays under DynamoDB's 400 KB item limit.
pub const MAX_BODY_BYTES: usize = 320 * 1024;

/// Runs one request through `route`. Never fails: every error becomes a
/// response in the API's error format (a Lambda error would reach the client
/// as an opaque 502 from API Gateway).
pub async fn handle(route: &'static Route, state: Arc<AppState>, req: super::Request) -> Response {
    let started = Instant::now();
    let origin = req.headers().get(header::ORIGIN).cloned();
    let anonymous = !req.headers().contains_key(header::AUTHORIZATION);
    let span = tracing::info_span!("request", route = route.name);
    let config = state.clone();
    let (result, user_id) = run(route, state, req).instrument(span).await;
    let mut response = match result {
        Ok(response) => response,
        Err(err) => {
            if err.status_code().is_server_error() {
                tracing::error!(route = route.name, error = %err, "request failed");
            }
            response::error(&err)
        }
    };
    let status = response.status();
    tracing::info!(
        route = route.name,
        method = %route.method,
        status = status.as_u16(),
        latency_ms = started.elapsed().as_millis() as u64,
        user_id,
        "request"
    );
    let cacheable = anonymous && route.method == Method::GET && status == StatusCode::OK;
    secure_headers(response.headers_mut(), cacheable);
    cors_headers(&config.config, origin.as_ref(), response.headers_mut());
    response
}

async fn run(
    route: &'static Route,
    state: Arc<AppState>,
    req: super::Request,
) -> (Result<Response, ApiError>, Option<String>) {
    if req.body().len() > MAX_BODY_BYTES {
        return (Err(ApiError::PayloadTooLarge), None);
    }
    let auth = match auth::authenticate(&state, &req, route.access).await {
        Ok(auth) => auth,
        Err(err) => return (Err(err), None),
    };
    let user_id = auth.as_ref().map(|a| a.user.id.clone());
    // A panic is a bug, but the client still gets the API's 500, not a
    // dropped connection (locally) or a 502 (from API Gateway).
    let handled = AssertUnwindSafe((route.handler)(Ctx { state, req, auth }))
        .catch_unwind()
        .await
        .unwrap_or_else(|_| Err(ApiError::internal("handler panicked")));
    (handled, user_id)
}

/// Headers on every response. Answers that may carry a token or personal
/// data are never stored by caches; anonymous reads may be, briefly.
pub(crate) fn secure_headers(headers: &mut HeaderMap, cacheable: bool) {
    let cache = if cacheable {
        "public, max-age=5"
    } else {
        "no-store"
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000; includeSubDomains"),
    );
    headers.append(header::VARY, HeaderValue::from_static("Authorization"));
}

/// The `Access-Control-Allow-Origin` to send back, if the origin is allowed.
fn allowed_origin(config: &Config, origin: Option<&HeaderValue>) -> Option<HeaderValue> {
    if config.allowed_origins.iter().any(|o| o == "*") {
        return Some(HeaderValue::from_static("*"));
    }
    let origin = origin?;
    let value = origin.to_str().ok()?;
    config
        .allowed_origins
        .iter()
        .any(|allowed| allowed == value)
        .then(|| origin.clone())
}

pub(crate) fn cors_headers(config: &Config, origin: Option<&HeaderValue>, headers: &mut HeaderMap) {
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(allowed) = allowed_origin(config, origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allowed);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("Retry-After"),
        );
    }
}

/// Answers a CORS preflight for a path served with `methods`, as API
/// Gateway's CORS configuration does in AWS.
pub(crate) fn preflight(config: &Config, origin: Option<&HeaderValue>, methods: &str) -> Response {
    let mut response = lambda_http::Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(lambda_http::Body::Empty)
        .expect("static response parts are valid");
    let headers = response.headers_mut();
    cors_headers(config, origin, headers);
    if headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN) {
        if let Ok(methods) = HeaderValue::from_str(methods) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, methods);
        }
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization, content-type"),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
    }
    response
}
