//! The AWS SDK's configuration, built by [`sdk_config`] alone: once per
//! process (during a function's Init, at a server's or a tool's start) and
//! shared by every client the process makes from it.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::{Credentials, SharedCredentialsProvider};

/// The SDK defaults every client is built with, pinned: `latest()` would let
/// an SDK upgrade change retries or timeouts unseen. (2026-01-12: retries on
/// by default, a 3.1 s connect timeout; our `Budget` sets both anyway.)
pub fn behavior_version() -> BehaviorVersion {
    BehaviorVersion::v2026_01_12()
}

/// The SDK's configuration, from the environment, without I/O (but for
/// reading `SSL_CERT_FILE`, when set), so a function's Init pays nothing
/// for it:
///
/// - the region and credentials Lambda puts in a function's environment
///   (`AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
///   `AWS_SESSION_TOKEN`), which hold for the life of the execution
///   environment. Not aws-config's default provider chain: its profile,
///   SSO, web-identity (STS) and instance metadata providers never apply in
///   Lambda, and linking them cost every zip 0.3 MB (an operator's tool that
///   wants them adds them, as `conduit-admin` does);
/// - with an `endpoint` (a local engine: the local server, the tests,
///   `cargo lambda watch`), every service is pointed at it; any credentials
///   will do there, so placeholders stand in for missing ones, and
///   `us-east-1` for a missing region;
/// - the HTTPS client that trusts the Amazon roots only ([`crate::https`]).
pub fn sdk_config(endpoint: Option<&str>) -> Result<SdkConfig, String> {
    let config = settings(|name| std::env::var(name).ok(), endpoint);
    let mut builder = SdkConfig::builder()
        .behavior_version(behavior_version())
        .http_client(crate::https::client()?)
        .region(config.region.map(Region::new));
    builder.set_endpoint_url(config.endpoint);
    if let Some((key, secret, token)) = config.credentials {
        builder = builder.credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            key,
            secret,
            token,
            None,
            "environment",
        )));
    }
    Ok(builder.build())
}

/// What [`sdk_config`] takes from the environment.
#[derive(Debug, PartialEq)]
struct Settings {
    endpoint: Option<String>,
    region: Option<String>,
    /// Access key, secret key, session token.
    credentials: Option<(String, String, Option<String>)>,
}

fn settings(var: impl Fn(&str) -> Option<String>, endpoint: Option<&str>) -> Settings {
    let var = |name: &str| var(name).filter(|value| !value.is_empty());
    let endpoint = endpoint.filter(|e| !e.is_empty()).map(str::to_owned);
    let placeholder = |value: &str| endpoint.as_ref().map(|_| value.to_owned());
    let credentials = match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
        (Some(key), Some(secret)) => Some((key, secret, var("AWS_SESSION_TOKEN"))),
        _ => placeholder("local").map(|local| (local.clone(), local, None)),
    };
    let region = var("AWS_REGION")
        .or_else(|| var("AWS_DEFAULT_REGION"))
        .or_else(|| placeholder("us-east-1"));
    Settings {
        endpoint,
        region,
        credentials,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn a_function_takes_what_lambda_sets() {
        let lambda = env(&[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "AKIA"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_SESSION_TOKEN", "token"),
        ]);
        assert_eq!(
            settings(lambda, None),
            Settings {
                endpoint: None,
                region: Some("eu-west-1".into()),
                credentials: Some(("AKIA".into(), "secret".into(), Some("token".into()))),
            }
        );
    }

    #[test]
    fn a_local_engine_gets_placeholders_for_what_is_missing() {
        let local = settings(env(&[]), Some("http://127.0.0.1:8000"));
        assert_eq!(
            local,
            Settings {
                endpoint: Some("http://127.0.0.1:8000".into()),
                region: Some("us-east-1".into()),
                credentials: Some(("local".into(), "local".into(), None)),
            }
        );
        let given = env(&[
            ("AWS_DEFAULT_REGION", "eu-north-1"),
            ("AWS_ACCESS_KEY_ID", "AKIA"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
        ]);
        let local = settings(given, Some("http://127.0.0.1:8000"));
        assert_eq!(local.region.as_deref(), Some("eu-north-1"));
        assert_eq!(
            local.credentials,
            Some(("AKIA".into(), "secret".into(), None))
        );
    }

    #[test]
    fn without_an_endpoint_nothing_is_made_up() {
        let half = env(&[("AWS_ACCESS_KEY_ID", "AKIA"), ("AWS_REGION", "")]);
        assert_eq!(
            settings(half, None),
            Settings {
                endpoint: None,
                region: None,
                credentials: None,
            }
        );
    }
}
