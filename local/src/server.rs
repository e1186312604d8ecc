//! The API over HTTP on a local socket: each request handed to the shared
//! router as API Gateway would hand it to a function, with the peer's
//! address as the client's (API Gateway's `sourceIp`).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{Body as AxumBody, to_bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::response::Response;
use conduit_common::ApiError;
use conduit_common::http::{ClientAddr, MAX_BODY_BYTES, Router, reject};
use conduit_common::lambda_http::Body;
use conduit_common::state::AppState;
use tokio::net::TcpListener;

/// Serves `router` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = axum::Router::new()
        .fallback(handle)
        .with_state((state, Arc::new(router)));
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Converts between axum's request and response types and the Lambda ones
/// the handlers use, and hands the request to the shared router.
async fn handle(
    State((state, router)): State<(Arc<AppState>, Arc<Router>)>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let (mut parts, body) = request.into_parts();
    parts.extensions.insert(ClientAddr(peer.ip()));
    let response = match to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => {
            let body = if bytes.is_empty() {
                Body::Empty
            } else {
                Body::Binary(bytes.to_vec())
            };
            let request = conduit_common::lambda_http::http::Request::from_parts(parts, body);
            router.dispatch(state, request).await
        }
        Err(_) => reject(
            &state,
            parts.headers.get("origin"),
            &ApiError::PayloadTooLarge,
        ),
    };
    // The request's span tree, when traces are on (`make dev TRACES=print`).
    conduit_common::telemetry::traces::export().await;
    let (parts, body) = response.into_parts();
    let body = match body {
        Body::Empty => AxumBody::empty(),
        Body::Text(text) => AxumBody::from(text),
        Body::Binary(bytes) => AxumBody::from(bytes),
        _ => AxumBody::empty(),
    };
    Response::from_parts(parts, body)
}
