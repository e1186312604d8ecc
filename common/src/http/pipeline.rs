//! The request pipeline every endpoint runs through, in Lambda and locally:
//! size limit, authentication, the handler, error mapping, headers, a log line.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures::FutureExt;
use headers::{ETag, HeaderMapExt, IfNoneMatch};
use lambda_http::Body;
use lambda_http::http::header::{self, HeaderMap, HeaderValue};
use lambda_http::http::{Method, StatusCode};
use tracing::Instrument;

use super::{Ctx, Response, Route, response};
use crate::auth::{self, Access};
use crate::config::Config;
use crate::error::ApiError;
use crate::meter;
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
    let if_none_match = req.headers().typed_get::<IfNoneMatch>();
    let span = tracing::info_span!("request", route = route.name);
    let config = state.clone();
    let ((result, user_id), usage) = meter::measure(run(route, state, req).instrument(span)).await;
    let mut response = match result {
        Ok(response) => response,
        Err(err) => {
            if err.status_code().is_server_error() {
                tracing::error!(route = route.name, error = %err, "request failed");
            }
            response::error(&err)
        }
    };
    let caching = Caching::of(route, anonymous, &response);
    caching.apply(&mut response, if_none_match.as_ref());
    let elapsed = started.elapsed();
    tracing::info!(
        route = route.name,
        method = %route.method,
        status = response.status().as_u16(),
        latency_ms = elapsed.as_millis() as u64,
        cpu_us = usage.cpu.as_micros() as u64,
        db_calls = usage.db_calls,
        rcu = usage.read_units,
        wcu = usage.write_units,
        cache_hits = usage.cache_hits,
        user_id,
        "request"
    );
    secure_headers(response.headers_mut());
    cors_headers(&config.config, origin.as_ref(), response.headers_mut());
    if config.config.server_timing
        && let Ok(value) = HeaderValue::from_str(&usage.server_timing(elapsed))
    {
        response.headers_mut().insert("server-timing", value);
    }
    response
}

/// How a response may be cached, from who asked and what it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Caching {
    /// Never stored: writes, errors, anything carrying a token, and the
    /// admin views (other users' emails and roles).
    NoStore,
    /// A signed-in reader's view (it says whom they follow and what they
    /// favorited): their own client may keep it but must revalidate.
    Private,
    /// An anonymous read, the same for everyone: a CDN may serve it briefly.
    Public,
}

/// How long a CDN or browser may serve an anonymous read without asking.
const PUBLIC_MAX_AGE: &str = "public, max-age=5";

impl Caching {
    fn of(route: &Route, anonymous: bool, response: &Response) -> Self {
        let carries_token = response.extensions().get::<CarriesToken>().is_some();
        let privileged = matches!(route.access, Access::Role(_));
        if route.method != Method::GET
            || response.status() != StatusCode::OK
            || carries_token
            || privileged
        {
            Caching::NoStore
        } else if anonymous {
            Caching::Public
        } else {
            Caching::Private
        }
    }

    /// Sets `Cache-Control` and, on a cacheable read, an `ETag` from the
    /// body; when the client already holds that version, the answer becomes
    /// a bodiless 304.
    pub(crate) fn apply(self, response: &mut Response, if_none_match: Option<&IfNoneMatch>) {
        let cache_control = match self {
            Caching::NoStore => "no-store",
            Caching::Private => "private, no-cache",
            Caching::Public => PUBLIC_MAX_AGE,
        };
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(cache_control),
        );
        if self == Caching::NoStore {
            return;
        }
        let Some(etag) = entity_tag(response.body()) else {
            return;
        };
        if if_none_match.is_some_and(|condition| !condition.precondition_passes(&etag)) {
            *response.status_mut() = StatusCode::NOT_MODIFIED;
            *response.body_mut() = Body::Empty;
            response.headers_mut().remove(header::CONTENT_TYPE);
            response.headers_mut().remove(header::CONTENT_ENCODING);
        }
        response.headers_mut().typed_insert(etag);
    }
}

/// Marks a response whose body holds a token (the user endpoints): never
/// cached, never given an `ETag`.
#[derive(Debug, Clone, Copy)]
pub struct CarriesToken;

/// A strong validator: the first 128 bits of the body's SHA-256 (`None`
/// for a kind of body this cannot read).
fn entity_tag(body: &Body) -> Option<ETag> {
    let bytes: &[u8] = match body {
        Body::Empty => b"",
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => return None,
    };
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    let etag = format!("\"{}\"", URL_SAFE_NO_PAD.encode(&digest.as_ref()[..16]))
        .parse()
        .expect("base64url between quotes is a valid entity tag");
    Some(etag)
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

/// Headers on every response.
pub(crate) fn secure_headers(headers: &mut HeaderMap) {
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
            HeaderValue::from_static("Retry-After, ETag"),
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
