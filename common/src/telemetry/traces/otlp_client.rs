//! OTLP/HTTP's client: HTTP/1.1 to the collector beside the function (the
//! ADOT layer's `http://localhost:4318`) or a local viewer, on one kept
//! connection. Plain HTTP only: the collector is on the same host, and it
//! is the collector that goes out over TLS.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::HOST;
use hyper::http::request::Parts;
use hyper_util::rt::TokioIo;
use opentelemetry_http::{HttpClient, HttpError, Request, Response};
use tokio::sync::Mutex;

#[derive(Debug, Default)]
pub struct OtlpClient {
    /// The connection of the last export, for the next: a new one per
    /// export cost about 90 µs of CPU (docs/benchmarks-traces.md).
    kept: Mutex<Option<SendRequest<Full<Bytes>>>>,
}

#[async_trait::async_trait]
impl HttpClient for OtlpClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let (mut parts, body) = request.into_parts();
        let (host, port) = origin_form(&mut parts)?;
        let request = || Request::from_parts(parts.clone(), Full::new(body.clone()));
        let mut kept = self.kept.lock().await;
        // A kept connection the collector closed meanwhile (Lambda froze
        // the process between invocations) fails at once: then a new one.
        let reused = match kept.take().filter(|sender| !sender.is_closed()) {
            Some(mut sender) => sender
                .send_request(request())
                .await
                .ok()
                .map(|r| (sender, r)),
            None => None,
        };
        let (sender, response) = match reused {
            Some(sent) => sent,
            None => {
                let mut sender = connect(&host, port).await?;
                let response = sender.send_request(request()).await?;
                (sender, response)
            }
        };
        let (parts, body) = response.into_parts();
        let body = body.collect().await?.to_bytes();
        *kept = Some(sender);
        Ok(Response::from_parts(parts, body))
    }
}

/// What a connection-level client leaves to its caller: the request line
/// in origin form, and the Host header. Returns where to connect.
fn origin_form(parts: &mut Parts) -> Result<(String, u16), HttpError> {
    if parts.uri.scheme_str() != Some("http") {
        return Err(format!("{}: the collector is reached over plain http", parts.uri).into());
    }
    let host = parts
        .uri
        .host()
        .ok_or("the endpoint has no host")?
        .to_owned();
    let port = parts.uri.port_u16().unwrap_or(80);
    if let Some(authority) = parts.uri.authority() {
        parts.headers.insert(HOST, authority.as_str().parse()?);
    }
    parts.uri = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .parse()?;
    Ok((host, port))
}

async fn connect(host: &str, port: u16) -> Result<SendRequest<Full<Bytes>>, HttpError> {
    let stream = tokio::net::TcpStream::connect((host, port)).await?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::service::service_fn;
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A collector on loopback that answers what it got; it closes each
    /// connection after one request unless `keep_alive`. Returns its
    /// address and how many connections it took.
    async fn collector(keep_alive: bool) -> (SocketAddr, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                let service = service_fn(|request: hyper::Request<hyper::body::Incoming>| async {
                    let (parts, body) = request.into_parts();
                    let length = body.collect().await?.to_bytes().len();
                    let host = parts.headers[HOST].to_str().unwrap_or_default().to_owned();
                    let seen = format!("{} {} host={host} {length}", parts.method, parts.uri);
                    Ok::<_, hyper::Error>(hyper::Response::new(Full::new(Bytes::from(seen))))
                });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .keep_alive(keep_alive)
                        .serve_connection(TokioIo::new(stream), service),
                );
            }
        });
        (address, connections)
    }

    async fn export(client: &OtlpClient, address: SocketAddr) -> Response<Bytes> {
        let request = Request::post(format!("http://{address}/v1/traces"))
            .body(Bytes::from_static(b"spans"))
            .unwrap();
        client.send_bytes(request).await.unwrap()
    }

    /// The collector gets each export as an HTTP/1.1 server expects it
    /// (origin form, Host), on one connection, and its answer comes back.
    #[tokio::test]
    async fn exports_on_one_kept_connection() {
        let (address, connections) = collector(true).await;
        let client = OtlpClient::default();
        for _ in 0..3 {
            let response = export(&client, address).await;
            assert_eq!(response.status(), 200);
            let expected = format!("POST /v1/traces host={address} 5");
            assert_eq!(response.body(), expected.as_bytes());
        }
        assert_eq!(connections.load(Ordering::SeqCst), 1);
    }

    /// A kept connection the collector has closed is replaced, and the
    /// export still arrives.
    #[tokio::test]
    async fn a_closed_connection_is_replaced() {
        let (address, connections) = collector(false).await;
        let client = OtlpClient::default();
        for _ in 0..3 {
            assert_eq!(export(&client, address).await.status(), 200);
        }
        assert_eq!(connections.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn refuses_https() {
        let request = Request::post("https://collector.example/v1/traces")
            .body(Bytes::new())
            .unwrap();
        let err = OtlpClient::default().send_bytes(request).await.unwrap_err();
        assert!(err.to_string().contains("plain http"), "{err}");
    }
}
