//! The HTTPS client every AWS SDK client in a function shares.
//!
//! The SDK's default client trusts every root certificate of the system
//! (rustls-native-certs: Lambda's image has some 140, Debian's directory
//! 440 files), parsed at the first call, which a function pays during Init
//! on a fraction of a vCPU. DynamoDB's and Parameter Store's certificates
//! chain to Amazon Trust Services roots, so a function trusts only those,
//! compiled in. `SSL_CERT_FILE` replaces them, for a local endpoint with a
//! certificate of its own (the bench's TLS terminator, a corporate proxy).
//!
//! Its crypto is ring, as the tokens' is (`auth/hmac.rs`): one crypto
//! library in each zip. The SDK's default, aws-lc, made GraphQL's zip
//! 0.17 MB larger.

use std::time::Duration;

use aws_sdk_dynamodb::config::SharedHttpClient;
use aws_smithy_http_client::Builder;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};

/// Amazon Root CA 1–4 and Starfield Services Root G2 (the cross-signer of
/// Amazon Root CA 1, for clients that validate older chains), from Debian's
/// ca-certificates.
const AMAZON_ROOTS: &[u8] = include_bytes!("../certs/amazon-roots.pem");

/// How long a pooled connection may sit idle before it is dropped rather
/// than reused. Lambda freezes the process between invocations; on thaw, a
/// connection the other end closed meanwhile would fail the request's
/// first attempt (and cost a retry). DynamoDB keeps idle connections for
/// about a minute; half that leaves a margin. hyper checks the timeout
/// when it takes a connection from the pool, so a frozen process honours
/// it without its background reaper.
pub const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// The trust store: the file named by `SSL_CERT_FILE` if set, otherwise
/// the Amazon roots.
fn trust_store(cert_file: Option<Vec<u8>>) -> TrustStore {
    TrustStore::empty()
        .with_native_roots(false)
        .with_pem_certificate(cert_file.unwrap_or_else(|| AMAZON_ROOTS.to_vec()))
}

/// The client for every SDK client a function builds. Fails only if
/// `SSL_CERT_FILE` names a file that cannot be read; a file without a
/// valid certificate fails the first connection instead (the TLS provider
/// parses the PEM then).
pub fn client() -> Result<SharedHttpClient, String> {
    let cert_file = match std::env::var_os("SSL_CERT_FILE") {
        Some(path) => Some(
            std::fs::read(&path)
                .map_err(|err| format!("SSL_CERT_FILE {}: {err}", path.to_string_lossy()))?,
        ),
        None => None,
    };
    let context = TlsContext::builder()
        .with_trust_store(trust_store(cert_file))
        .build()
        .map_err(|err| format!("TLS configuration: {err}"))?;
    Ok(Builder::new()
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .tls_context(context)
        .build_https())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every certificate in the compiled-in bundle parses, and it holds the
    /// five roots the module names.
    #[test]
    fn the_amazon_roots_are_five_certificates() {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject;
        let certs: Vec<_> = CertificateDer::pem_slice_iter(AMAZON_ROOTS)
            .collect::<Result<_, _>>()
            .expect("valid PEM");
        assert_eq!(certs.len(), 5);
    }
}
