//! The API over real HTTP: the local server on a loopback port, and clients
//! that connect from chosen addresses, so that tests can be many clients
//! (all of 127.0.0.0/8 is loopback on Linux, and any of it can be bound).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use conduit_common::http::Router;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use crate::TestApp;

/// The app served on a loopback port, for as long as the test runs.
pub struct HttpApi {
    addr: SocketAddr,
}

/// A client connecting from one address.
pub struct HttpClient {
    base: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl TestApp {
    /// Serves this app over HTTP, as `make dev` does.
    pub async fn serve_http(&self) -> HttpApi {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let addr = listener.local_addr().unwrap();
        let state = self.state.clone();
        tokio::spawn(local::server::serve(
            listener,
            state,
            Router::new(functions::ROUTES),
            std::future::pending(),
        ));
        HttpApi { addr }
    }
}

impl HttpApi {
    /// Where it listens, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A client whose connections come from `127.0.0.<n>` (1 ≤ n ≤ 254).
    pub fn client_from(&self, n: u8) -> HttpClient {
        let mut connector = HttpConnector::new();
        connector.set_local_address(Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, n))));
        HttpClient {
            base: format!("http://{}", self.addr),
            client: Client::builder(TokioExecutor::new()).build(connector),
        }
    }
}

impl HttpClient {
    /// A client of the server at `base` (`http://host:port`), from the
    /// default address.
    pub fn to(base: &str) -> HttpClient {
        HttpClient {
            base: base.to_owned(),
            client: Client::builder(TokioExecutor::new()).build(HttpConnector::new()),
        }
    }

    /// A GET with extra headers and a token, answered whole, headers
    /// included.
    pub async fn get(
        &self,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
    ) -> crate::TestResponse {
        let mut request = Request::builder()
            .method(Method::GET)
            .uri(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.header("authorization", format!("Token {token}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = self
            .client
            .request(request.body(Full::new(Bytes::new())).unwrap())
            .await
            .expect("the server answers");
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        crate::TestResponse {
            body: crate::body_value(&parts.headers, &bytes),
            status: parts.status,
            headers: parts.headers,
        }
    }

    /// A JSON request; the status and the JSON body (`Null` when empty).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("content-type", "application/json");
        if let Some(token) = token {
            request = request.header("authorization", format!("Token {token}"));
        }
        let body = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
        let response = self
            .client
            .request(request.body(Full::new(body)).unwrap())
            .await
            .expect("the server answers");
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = match bytes.is_empty() {
            true => Value::Null,
            false => serde_json::from_slice(&bytes).expect("a JSON body"),
        };
        (status, body)
    }

    /// Logs in; the status and body.
    pub async fn login(&self, email: &str, password: &str) -> (StatusCode, Value) {
        let credentials = serde_json::json!({"user": {"email": email, "password": password}});
        self.send(Method::POST, "/api/users/login", Some(&credentials), None)
            .await
    }
}
