//! The embedded DynamoDB-compatible engine (dynoxide, SQLite underneath).
//!
//! This process's own DynamoDB clients reach it in-process: their requests
//! go to the engine's HTTP handler as values, not through a socket. Over
//! loopback, each call cost two HTTP stacks and the kernel's TCP on top of
//! the engine's work, and every request of the API makes two to five calls.
//! Other processes (`cargo lambda watch`'s functions, the AWS CLI, the
//! bench's proxies) reach it on the DynamoDB wire protocol, [`Engine::serve`].

use std::convert::Infallible;
use std::future::Future;
use std::path::Path;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::body::SdkBody;
use tower::ServiceExt;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// One engine database, answered in-process and, when served, over HTTP.
#[derive(Clone)]
pub struct Engine {
    database: dynoxide::Database,
}

impl Engine {
    /// The database in the SQLite file at `path`, created if missing.
    pub fn open(path: &Path) -> Result<Self, Error> {
        Ok(Self {
            database: dynoxide::Database::new(&path.to_string_lossy())?,
        })
    }

    /// An HTTP client for the AWS SDK that answers every request with the
    /// engine's own handler, in this process. The SDK still builds, signs
    /// and parses each call as it would for DynamoDB.
    pub fn http_client(&self) -> SharedHttpClient {
        SharedHttpClient::new(InProcess {
            router: dynoxide::server::build_router(self.database.clone()),
        })
    }

    /// Serves the DynamoDB wire protocol on `listener` until `shutdown`.
    pub fn serve(
        &self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> impl Future<Output = Result<(), String>> + Send + 'static {
        dynoxide::server::serve_with_shutdown(listener, self.database.clone(), shutdown)
    }
}

#[derive(Clone)]
struct InProcess {
    router: axum::Router,
}

impl std::fmt::Debug for InProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InProcess(dynoxide)")
    }
}

impl HttpClient for InProcess {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

impl HttpConnector for InProcess {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let router = self.router.clone();
        HttpConnectorFuture::new(async move {
            let request = request
                .try_into_http1x()
                .map_err(|e| ConnectorError::user(e.into()))?;
            // The SDK's DynamoDB request bodies are always in memory.
            let (parts, body) = request.into_parts();
            let body = axum::body::Body::from(body.bytes().unwrap_or_default().to_vec());
            // A task of its own, as a remote database's work would be: the
            // engine's CPU is not counted as the request's (meter::CpuTimed).
            let answer = tokio::spawn(router.oneshot(axum::http::Request::from_parts(parts, body)));
            let response: Result<_, Infallible> = answer
                .await
                .map_err(|e| ConnectorError::other(e.into(), None))?;
            let Ok(response) = response;
            let (parts, body) = response.into_parts();
            let body = axum::body::to_bytes(body, usize::MAX)
                .await
                .map_err(|e| ConnectorError::io(e.into()))?;
            Response::try_from(axum::http::Response::from_parts(parts, SdkBody::from(body)))
                .map_err(|e| ConnectorError::other(e.into(), None))
        })
    }
}
