//! DynamoDB and Parameter Store as a function meets them in AWS: over TLS,
//! each on its own host name, with a certificate chain of AWS's shape (an
//! RSA-2048 leaf under an intermediate under a root; the server sends the
//! leaf and the intermediate).
//!
//! - [`TlsEndpoints::dynamodb`] terminates TLS and passes the bytes on to
//!   the local engine, so every call does its real work.
//! - [`TlsEndpoints::ssm`] answers `GetParameter` with the JWT secret, as
//!   Parameter Store does for a SecureString.
//!
//! The root is written to a file that only the measured process trusts
//! (`SSL_CERT_FILE`, common/src/https.rs).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
    PKCS_RSA_SHA256, RsaKeySize,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The host name both endpoints answer to (the leaf's subject alternative
/// name); loopback, so no DNS is involved beyond /etc/hosts.
const HOST: &str = "localhost";

pub struct TlsEndpoints {
    /// `https://localhost:port` of the DynamoDB terminator.
    pub dynamodb: String,
    /// `https://localhost:port` of the Parameter Store stand-in.
    pub ssm: String,
    /// The root certificate, PEM: the measured process' whole trust store.
    pub ca_file: PathBuf,
    tasks: Vec<JoinHandle<()>>,
}

impl TlsEndpoints {
    /// Starts both endpoints: DynamoDB in front of `engine`
    /// (`http://host:port`), Parameter Store holding `secret`.
    pub async fn start(engine: &str, secret: &str, dir: &Path) -> anyhow::Result<Self> {
        let engine: SocketAddr = engine
            .trim_start_matches("http://")
            .parse()
            .context("the engine's address")?;
        let (config, root_pem) = server_config()?;
        let ca_file = dir.join("bench-root-ca.pem");
        std::fs::write(&ca_file, root_pem)?;
        let acceptor = TlsAcceptor::from(Arc::new(config));

        let dynamodb = TcpListener::bind(("127.0.0.1", 0)).await?;
        let ssm = TcpListener::bind(("127.0.0.1", 0)).await?;
        let urls = (
            format!("https://{HOST}:{}", dynamodb.local_addr()?.port()),
            format!("https://{HOST}:{}", ssm.local_addr()?.port()),
        );
        let answer = Bytes::from(get_parameter_answer(secret));
        let tasks = vec![
            tokio::spawn(serve(dynamodb, acceptor.clone(), move |tls| async move {
                if let Ok(mut upstream) = TcpStream::connect(engine).await {
                    let _ = upstream.set_nodelay(true);
                    let mut tls = tls;
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
                }
            })),
            tokio::spawn(serve(ssm, acceptor, move |tls| {
                let answer = answer.clone();
                async move {
                    let service = service_fn(move |req| parameter_store(req, answer.clone()));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                }
            })),
        ];
        Ok(Self {
            dynamodb: urls.0,
            ssm: urls.1,
            ca_file,
            tasks,
        })
    }
}

impl Drop for TlsEndpoints {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

type Tls = tokio_rustls::server::TlsStream<TcpStream>;

/// Accepts connections, completes each handshake and hands the stream to
/// `connection`, each on a task of its own.
async fn serve<F, Fut>(listener: TcpListener, acceptor: TlsAcceptor, connection: F)
where
    F: Fn(Tls) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let connection = Arc::new(connection);
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (acceptor, connection) = (acceptor.clone(), connection.clone());
        tokio::spawn(async move {
            if let Ok(tls) = acceptor.accept(stream).await {
                connection(tls).await;
            }
        });
    }
}

/// Every request is `GetParameter` (the only call a function makes).
async fn parameter_store(
    _req: Request<Incoming>,
    answer: Bytes,
) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::builder()
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amzn-requestid", "00000000-0000-0000-0000-000000000000")
        .body(Full::new(answer))
        .expect("valid response head"))
}

/// Parameter Store's answer to `GetParameter` with decryption.
fn get_parameter_answer(secret: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "Parameter": {
            "Name": "/conduit/bench/jwt-secret",
            "Type": "SecureString",
            "Value": secret,
            "Version": 1,
            "ARN": "arn:aws:ssm:us-east-1:000000000000:parameter/conduit/bench/jwt-secret",
            "DataType": "text"
        }
    }))
    .expect("JSON")
}

/// A root, an intermediate and an RSA-2048 leaf for [`HOST`]: the server's
/// configuration (leaf and intermediate sent), and the root as PEM.
fn server_config() -> anyhow::Result<(ServerConfig, String)> {
    let ca = |name: &str| -> anyhow::Result<CertificateParams> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        Ok(params)
    };
    let rsa = || KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048);
    let root = CertifiedIssuer::self_signed(ca("Bench Root CA")?, rsa()?)?;
    let intermediate = CertifiedIssuer::signed_by(ca("Bench RSA 2048 M01")?, rsa()?, &root)?;
    let leaf_key = rsa()?;
    let mut leaf = CertificateParams::new(vec![HOST.to_owned()])?;
    leaf.distinguished_name.push(DnType::CommonName, HOST);
    let leaf = leaf.signed_by(&leaf_key, &intermediate)?;

    let chain: Vec<CertificateDer<'static>> = vec![leaf.der().clone(), intermediate.der().clone()];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the server's certificate")?;
    Ok((config, root.pem()))
}
