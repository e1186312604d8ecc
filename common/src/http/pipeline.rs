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
use crate::telemetry::metrics::{self, Outcome};

/// Larger bodies are refused with 413 before they are parsed. The largest
/// legitimate body, an article of 64 Ki characters (up to 4 bytes each in
/// UTF-8, more when JSON-escaped) plus its other fields, fits; a stored
/// article stays under DynamoDB's 400 KB item limit.
pub const MAX_BODY_BYTES: usize = 320 * 1024;

/// Runs one request through `route`. Never fails: every error becomes a
/// response in the API's error format (a Lambda error would reach the client
/// as an opaque 502 from API Gateway).
pub async fn handle(route: &'static Route, state: Arc<AppState>, req: super::Request) -> Response {
    let ids = RequestIds::of(&req);
    let span = tracing::info_span!(
        "request",
        request_id = %ids.request_id,
        trace_id = ids.trace_id.as_deref(),
        route = route.name,
        otel.name = route.name,
        otel.kind = "server",
    );
    // In Lambda, under the X-Ray segment Lambda made for the invocation.
    if let Some(trace_id) = &ids.trace_id {
        crate::telemetry::traces::continue_xray(&span, trace_id);
    }
    // Boxed: callers' futures (the local server, tests) stay small and
    // shallow, whatever the pipeline holds across its awaits.
    let mut response = Box::pin(handle_in_span(route, state, req).instrument(span)).await;
    if let Ok(value) = HeaderValue::from_str(&ids.request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

/// The ids that tie a request's response, log lines and metrics together.
pub struct RequestIds {
    /// Lambda's `requestId` in AWS; a fresh ULID locally.
    pub request_id: String,
    /// The X-Ray trace id, in AWS.
    pub trace_id: Option<String>,
}

impl RequestIds {
    pub fn of(req: &super::Request) -> Self {
        use lambda_http::RequestExt;
        match req.lambda_context_ref() {
            Some(context) => Self {
                request_id: context.request_id.clone(),
                trace_id: context.xray_trace_id.clone(),
            },
            None => Self {
                request_id: ulid::Ulid::new().to_string(),
                trace_id: None,
            },
        }
    }
}

/// Every response says which request it answers, so a user's report can be
/// found in the logs.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Gives a response answered before any route ran (unknown route,
/// preflight, oversized body) an id of its own.
pub(crate) fn fresh_request_id(headers: &mut HeaderMap) {
    let id = ulid::Ulid::new().to_string();
    headers.insert(
        REQUEST_ID_HEADER,
        HeaderValue::from_str(&id).expect("a ULID is a valid header value"),
    );
}

async fn handle_in_span(
    route: &'static Route,
    state: Arc<AppState>,
    req: super::Request,
) -> Response {
    let started = Instant::now();
    let origin = req.headers().get(header::ORIGIN).cloned();
    let anonymous = !req.headers().contains_key(header::AUTHORIZATION);
    let if_none_match = req.headers().typed_get::<IfNoneMatch>();
    let config = state.clone();
    let ((result, user_id), usage) = meter::measure(run(route, state, req)).await;
    let (mut response, outcome) = match result {
        Ok(response) => {
            let reported = response.extensions().get::<Outcome>().copied();
            let outcome = Outcome::of(response.status(), reported);
            (response, outcome)
        }
        Err(err) => {
            // The one log line of a failure, with its cause: the client only
            // gets the generic message.
            let outcome = match &err {
                ApiError::Unavailable { .. } => Outcome::DependencyFailure,
                err if err.status_code().is_server_error() => Outcome::ServerError,
                _ => Outcome::ClientError,
            };
            if outcome != Outcome::ClientError {
                tracing::error!(route = route.name, error = %err, "request failed");
            }
            let response = match route.api.graphql {
                true => response::graphql_error(&err),
                false => response::error(&err),
            };
            (response, outcome)
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
        db_sequential = usage.db_sequential,
        rcu = usage.read_units,
        wcu = usage.write_units,
        cache_hits = usage.cache_hits,
        user_id,
        "request"
    );
    metrics::record_request(route.name, outcome, elapsed, &usage);
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
    /// Never stored: writes, errors, anything marked [`NeverStore`] (tokens,
    /// sessions), and the admin views (other users' emails and roles).
    NoStore,
    /// A signed-in reader's view (it says whom they follow and what they
    /// favorited): their own client may keep it but must revalidate.
    Private,
    /// An anonymous read, the same for everyone: a shared cache (CloudFront,
    /// a proxy) may serve it for [`SHARED_MAX_AGE`] without asking the API,
    /// then revalidates it (a bodiless 304 while it has not changed); a
    /// browser must revalidate it every time, so nobody sees an old page
    /// after their own change.
    Public,
}

/// How long a shared cache may serve an anonymous read without asking the
/// API: the staleness an anonymous reader can meet at the edge, stated in
/// docs/data-model.md ("Caching") and checked by the shared-cache test.
pub const SHARED_MAX_AGE: u64 = 5;

/// `s-maxage` is what every shared cache honours (CloudFront, nginx,
/// Varnish); browsers ignore it and see `max-age=0, must-revalidate`.
const PUBLIC_CACHE_CONTROL: &str = "public, max-age=0, must-revalidate, s-maxage=5";

impl Caching {
    fn of(route: &Route, anonymous: bool, response: &Response) -> Self {
        let never_store = response.extensions().get::<NeverStore>().is_some();
        let privileged = matches!(route.access, Access::Role(_));
        if route.method != Method::GET
            || response.status() != StatusCode::OK
            || never_store
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
            Caching::Public => PUBLIC_CACHE_CONTROL,
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

/// Marks a response that no cache may keep, not even the client's own: one
/// whose body holds a token (the user endpoints) or says where its user
/// signs in from (the sessions). Never given an `ETag` either.
#[derive(Debug, Clone, Copy)]
pub struct NeverStore;

/// A strong validator: the first 128 bits of the body's SHA-256 (`None`
/// for a kind of body this cannot read).
fn entity_tag(body: &Body) -> Option<ETag> {
    let bytes: &[u8] = match body {
        Body::Empty => b"",
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => return None,
    };
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
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
    if !came_through_the_edge(&state.config, req.headers()) {
        return (Err(ApiError::Forbidden("origin")), None);
    }
    if req.body().len() > MAX_BODY_BYTES {
        return (Err(ApiError::PayloadTooLarge), None);
    }
    let auth = match auth::Authentication::start(&state.jwt, &state.db, &req, route.access) {
        Ok(auth) => auth,
        Err(err) => return (Err(err), None),
    };
    // A panic is a bug, but the client still gets the API's 500, not a
    // dropped connection (locally) or a 502 (from API Gateway).
    let handler = (route.handler)(Ctx {
        route,
        state: state.clone(),
        req,
        auth: auth.clone(),
    });
    let handled = async {
        match AssertUnwindSafe(handler).catch_unwind().await {
            Ok(result) => result,
            Err(_panic) => Err(ApiError::internal("handler panicked")),
        }
    };
    // A read runs alongside the read of its caller (what it reads first
    // seldom depends on who asks; what it shows them waits for them), and
    // answers only if the caller checks out. A write, or an admin's view,
    // starts once the caller is known and allowed. GraphQL's POST carries
    // queries too: its handler waits for the caller before a mutation.
    let reads = route.method == Method::GET || route.api.graphql;
    let alongside = reads && !matches!(route.access, Access::Role(_));
    let served = async {
        if alongside {
            let (handled, caller) = futures::join!(handled, auth.caller());
            caller.and(handled)
        } else {
            auth.caller().await?;
            handled.await
        }
    };
    // Authentication reads the table too: it shares the request's deadline.
    let budget = state.config.budget.request;
    let deadline = tokio::time::Instant::now() + budget;
    let result = tokio::time::timeout_at(deadline, served)
        .await
        .unwrap_or_else(|_elapsed| {
            Err(ApiError::Unavailable {
                cause: format!("request took longer than {budget:?}"),
            })
        });
    // Already resolved (or never to be): the id of whoever the caller was.
    let user_id = auth
        .caller()
        .now_or_never()
        .and_then(Result::ok)
        .flatten()
        .map(|caller| caller.user.id.clone());
    (result, user_id)
}

/// The header CloudFront adds to every request it forwards, with the
/// origin secret (the template's `OriginCustomHeaders`).
pub const ORIGIN_VERIFY_HEADER: &str = "x-origin-verify";

/// The header in which CloudFront (a function on every viewer request, in
/// the template) tells the viewer's address, overwriting whatever the
/// client sent: trusted only on a request that carries the origin secret.
pub const VIEWER_ADDRESS_HEADER: &str = "x-viewer-address";

/// Whether a request carries a current origin secret, when the deployment
/// closes the origin (`Config::origin_verify` not empty). A request sent
/// straight to the execute-api URL lacks it, and would otherwise skip the
/// firewall and the shared cache.
fn came_through_the_edge(config: &Config, headers: &HeaderMap) -> bool {
    if config.origin_verify.is_empty() {
        return true;
    }
    let Some(secret) = headers.get(ORIGIN_VERIFY_HEADER) else {
        return false;
    };
    let digest = ring::digest::digest(&ring::digest::SHA256, secret.as_bytes());
    config
        .origin_verify
        .iter()
        .any(|accepted| accepted.as_slice() == digest.as_ref())
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
            HeaderValue::from_static("Retry-After, ETag, X-Request-Id"),
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
    fresh_request_id(headers);
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::http::{ApiResult, Ctx};

    async fn logs_twice(_: Ctx) -> ApiResult {
        tracing::info!("inside the handler");
        tracing::warn!("and once more");
        response::json(StatusCode::OK, &serde_json::json!({}))
    }

    crate::routes! {
        LOGGING = "logging", GET "/logging", Access::Anonymous, logs_twice, "Logs",
            crate::http::Api::no_content(), crate::http::Deploy::READS;
    }

    /// A `MakeWriter` into a shared buffer.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn state() -> Arc<AppState> {
        let config = Config::from_lookup(|name| match name {
            "TABLE_NAME" => Some("t".into()),
            "JWT_SECRET" => Some("0123456789abcdef0123456789abcdef".into()),
            _ => None,
        })
        .unwrap();
        // The route touches no table.
        AppState::without_table(config)
    }

    #[tokio::test]
    async fn every_log_line_of_a_request_carries_the_id_its_response_names() {
        let captured = Captured::default();
        let writer = captured.clone();
        let _logs =
            tracing::subscriber::set_default(crate::telemetry::json_logs(move || writer.clone()));
        let mut ids = Vec::new();
        for _ in 0..2 {
            let response = handle(ROUTES[0], state(), super::super::Request::default()).await;
            let id = response.headers()[REQUEST_ID_HEADER]
                .to_str()
                .unwrap()
                .to_owned();
            ids.push(id);
        }
        assert_ne!(ids[0], ids[1], "each request has an id of its own");

        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).expect("a JSON log line"))
            .collect();
        // Per request: the handler's two lines and the pipeline's own.
        assert_eq!(lines.len(), 6, "{text}");
        for (line, id) in lines.iter().zip(ids.iter().flat_map(|id| [id, id, id])) {
            assert_eq!(line["span"]["request_id"], id.as_str(), "{line}");
            assert_eq!(line["span"]["route"], "logging", "{line}");
        }
    }
}
