//! The deploy's secrets in SSM (scripts/deploy.sh makes sure of both before
//! every deploy), each created randomly the first time and never printed:
//!
//! - `ensure-jwt-secret NAME`: the token signing key set, a SecureString,
//!   never overwritten (`rotate-keys` and the scheduled job rotate it);
//! - `origin-secret NAME [--rotate] [--also VERSION]`: the secret CloudFront
//!   sends the API (x-origin-verify), a String (CloudFront takes no
//!   SecureString; the template reads it with `{{resolve:ssm:NAME:VERSION}}`),
//!   a new version with `--rotate`. Prints `VERSION DIGESTS`: its latest
//!   version, and the SHA-256 digests the functions accept, the stack's
//!   `OriginVerifySha256`: the latest's and, until CloudFront sends the
//!   latest, version VERSION's (the one it sends, the stack's
//!   `OriginSecretVersion` output; empty before the first deploy). Once
//!   CloudFront sends the latest (the deploy after), only that one is
//!   accepted, and a secret leaked before a rotation stops working.

use aws_sdk_ssm::Client;
use aws_sdk_ssm::error::DisplayErrorContext;
use aws_sdk_ssm::types::ParameterType;
use conduit_common::auth::keys::KeySet;

use crate::Error;

pub async fn ensure_jwt_secret(ssm: &Client, name: &str) -> Result<(), Error> {
    let description = "Conduit token signing keys";
    let kind = ParameterType::SecureString;
    let created = create(ssm, name, kind, &new_key_set(), description).await?;
    let what = if created { "created" } else { "exists" };
    println!("JWT secret {name}: {what}");
    Ok(())
}

pub async fn origin_secret(
    ssm: &Client,
    name: &str,
    rotate: bool,
    also: Option<i64>,
) -> Result<String, Error> {
    let description = "Conduit origin secret: CloudFront sends it to the API (x-origin-verify)";
    let kind = ParameterType::String;
    let what = if create(ssm, name, kind.clone(), &new_origin_secret(), description).await? {
        "created"
    } else if rotate {
        let put = ssm.put_parameter().name(name).r#type(kind).overwrite(true);
        put.value(new_origin_secret())
            .send()
            .await
            .map_err(|err| format!("writing SSM parameter {name}: {}", DisplayErrorContext(err)))?;
        "rotated"
    } else {
        "exists"
    };
    eprintln!("origin secret {name}: {what}");
    let (version, latest) = get(ssm, name).await?;
    let sent = match also.filter(|&also| also != version) {
        Some(also) => Some(get(ssm, &format!("{name}:{also}")).await?.1),
        None => None,
    };
    Ok(format!("{version} {}", digests(&latest, sent.as_deref())))
}

/// `origin-secret`'s options: whether to rotate, and the version CloudFront
/// sends (`--also ""`: none yet).
pub fn origin_options(options: &[String]) -> Result<(bool, Option<i64>), String> {
    let (mut rotate, mut also) = (false, None);
    let mut options = options.iter().map(String::as_str);
    while let Some(option) = options.next() {
        match option {
            "--rotate" => rotate = true,
            "--also" => {
                also = match options.next().ok_or("--also needs a version")? {
                    "" => None,
                    version => Some(
                        version
                            .parse()
                            .map_err(|_| format!("not a version: {version:?}"))?,
                    ),
                }
            }
            _ => return Err(format!("unknown option {option:?}")),
        }
    }
    Ok((rotate, also))
}

/// Puts `value` in the parameter `name` unless it exists; whether it did.
async fn create(
    ssm: &Client,
    name: &str,
    kind: ParameterType,
    value: &str,
    description: &str,
) -> Result<bool, Error> {
    let put = ssm.put_parameter().name(name).r#type(kind).overwrite(false);
    match put.value(value).description(description).send().await {
        Ok(_) => Ok(true),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_parameter_already_exists()) =>
        {
            Ok(false)
        }
        Err(err) => {
            Err(format!("writing SSM parameter {name}: {}", DisplayErrorContext(err)).into())
        }
    }
}

/// The version and value of the parameter `name` (`NAME:VERSION`: that version).
async fn get(ssm: &Client, name: &str) -> Result<(i64, String), Error> {
    let got = ssm.get_parameter().name(name).send().await;
    let got =
        got.map_err(|err| format!("reading SSM parameter {name}: {}", DisplayErrorContext(err)))?;
    let parameter = got
        .parameter
        .ok_or_else(|| format!("SSM parameter {name}: none"))?;
    let value = parameter
        .value
        .ok_or_else(|| format!("SSM parameter {name} has no value"))?;
    Ok((parameter.version, value))
}

/// A new key set as the functions read it: a current key and the next one.
fn new_key_set() -> String {
    KeySet::generate().to_json()
}

/// 43 letters and digits from the system's CSPRNG (256 bits), fit for an
/// HTTP header.
fn new_origin_secret() -> String {
    use rand::Rng;
    let chars = rand::rngs::OsRng.sample_iter(rand::distributions::Alphanumeric);
    chars.take(43).map(char::from).collect()
}

/// The stack's `OriginVerifySha256`: the SHA-256 digests (hex) of the
/// latest secret and of the one CloudFront sends, if another.
fn digests(latest: &str, sent: Option<&str>) -> String {
    let hex = |value: &str| {
        let digest = <sha2::Sha256 as sha2::Digest>::digest(value.as_bytes());
        digest
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect::<String>()
    };
    let digests: Vec<String> = std::iter::once(latest).chain(sent).map(hex).collect();
    digests.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digests_are_the_latest_and_the_one_cloudfront_sends() {
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(digests("abc", None), abc);
        assert_eq!(digests("abc", Some("")), format!("{abc},{empty}"));
    }

    #[test]
    fn the_options_are_read_as_deploy_sh_passes_them() {
        let options = |words: &[&str]| {
            origin_options(&words.iter().map(|w| w.to_string()).collect::<Vec<_>>())
        };
        assert_eq!(options(&[]), Ok((false, None)));
        assert_eq!(options(&["--also", ""]), Ok((false, None)));
        assert_eq!(options(&["--rotate", "--also", "3"]), Ok((true, Some(3))));
        assert_eq!(options(&["--also", "2", "--rotate"]), Ok((true, Some(2))));
        assert!(options(&["--also"]).is_err());
        assert!(options(&["--also", "two"]).is_err());
        assert!(options(&["--force"]).is_err());
    }

    #[test]
    fn a_new_key_set_is_what_the_functions_read_a_current_and_a_next_key() {
        let stored = new_key_set();
        let set = KeySet::parse(&stored).unwrap();
        let next = set.next.as_ref().expect("a next key");
        assert!(set.previous.is_none() && set.rotated_at.is_none());
        assert_ne!(set.current.kid, next.kid);
        let json: serde_json::Value = serde_json::from_str(&stored).unwrap();
        let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["current", "next"]);
    }

    #[test]
    fn a_new_origin_secret_is_random_letters_and_digits() {
        let secret = new_origin_secret();
        assert_eq!(secret.len(), 43);
        assert!(secret.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(secret, new_origin_secret());
    }
}
