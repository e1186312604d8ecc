//! Where the signing key set ([`super::keys`]) is kept, and its rotation:
//! an SSM SecureString in AWS (`JWT_SECRET_PARAM`, which the deploy
//! creates), a file under the data directory locally.

use std::path::PathBuf;
use std::time::SystemTime;

use super::keys::KeySet;

#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    /// Not rotated: the last rotation is too recent.
    #[error("not rotated: {0}")]
    TooSoon(String),
    #[error("{0}")]
    Failed(String),
}

pub enum KeyStore {
    Parameter {
        sdk: Box<aws_config::SdkConfig>,
        name: String,
    },
    File(PathBuf),
}

impl KeyStore {
    pub async fn load(&self) -> Result<KeySet, String> {
        let stored = match self {
            KeyStore::Parameter { sdk, name } => secure_parameter(sdk, name).await?,
            KeyStore::File(path) => std::fs::read_to_string(path)
                .map_err(|err| format!("reading {}: {err}", path.display()))?,
        };
        KeySet::parse(stored.trim()).map_err(|err| err.to_string())
    }

    async fn save(&self, set: &KeySet) -> Result<(), String> {
        match self {
            KeyStore::Parameter { sdk, name } => {
                put_secure_parameter(sdk, name, &set.to_json()).await
            }
            KeyStore::File(path) => write_private(path, &set.to_json())
                .map_err(|err| format!("writing {}: {err}", path.display())),
        }
    }

    /// The stored set, or a new one saved first (a fresh data directory).
    pub async fn load_or_create(&self) -> Result<KeySet, String> {
        if let KeyStore::File(path) = self
            && !path.exists()
        {
            let set = KeySet::generate();
            self.save(&set).await?;
            return Ok(set);
        }
        self.load().await
    }

    /// Rotates the stored set one step ([`KeySet::rotated`]) at `now` and
    /// returns the new one; the instances pick it up when they next reload.
    /// Refused when the last rotation is too recent ([`KeySet::too_soon`]),
    /// unless `force`d.
    pub async fn rotate(&self, now: SystemTime, force: bool) -> Result<KeySet, RotateError> {
        let now = crate::time::epoch_secs(now);
        let set = self.load().await.map_err(RotateError::Failed)?;
        if let Some(why) = set.too_soon(now).filter(|_| !force) {
            return Err(RotateError::TooSoon(why));
        }
        let rotated = set.rotated(now);
        self.save(&rotated).await.map_err(RotateError::Failed)?;
        Ok(rotated)
    }
}

/// Reads a SecureString parameter: the JWT secret in AWS, which never
/// appears in the template, the environment or a log. The SDK's own
/// `AWS_ENDPOINT_URL_SSM` points it at a local endpoint (the bench's).
async fn secure_parameter(sdk: &aws_config::SdkConfig, name: &str) -> Result<String, String> {
    let out = ssm_client(sdk)
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .map_err(|err| {
            format!(
                "reading SSM parameter {name}: {}",
                aws_sdk_ssm::error::DisplayErrorContext(err)
            )
        })?;
    out.parameter
        .and_then(|p| p.value)
        .ok_or_else(|| format!("SSM parameter {name} has no value"))
}

/// Replaces the value of the SecureString parameter `name` (the key set's
/// rotation).
async fn put_secure_parameter(
    sdk: &aws_config::SdkConfig,
    name: &str,
    value: &str,
) -> Result<(), String> {
    ssm_client(sdk)
        .put_parameter()
        .name(name)
        .value(value)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .overwrite(true)
        .send()
        .await
        .map(|_| ())
        .map_err(|err| {
            format!(
                "writing SSM parameter {name}: {}",
                aws_sdk_ssm::error::DisplayErrorContext(err)
            )
        })
}

fn ssm_client(sdk: &aws_config::SdkConfig) -> aws_sdk_ssm::Client {
    let mut config = aws_sdk_ssm::config::Builder::from(sdk);
    if let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL_SSM") {
        config.set_endpoint_url(Some(endpoint));
    }
    aws_sdk_ssm::Client::from_conf(config.build())
}

/// Writes a file only its owner can read, replacing it whole (a reader
/// never sees half a key set).
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let partial = path.with_extension("partial");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&partial)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(partial, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_file_store_rotates_what_it_holds() {
        let dir = std::env::temp_dir().join(format!("conduit-keys-{}", ulid::Ulid::new()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = KeyStore::File(dir.join("keys"));
        let created = store.load_or_create().await.unwrap();
        assert_eq!(store.load_or_create().await.unwrap(), created);
        let rotated = store.rotate(SystemTime::now(), false).await.unwrap();
        assert_eq!(store.load().await.unwrap(), rotated);
        assert_eq!(rotated.previous, Some(created.current));

        // Run again at once (a retried job): refused, the set unchanged.
        let again = store.rotate(SystemTime::now(), false).await;
        assert!(matches!(again, Err(RotateError::TooSoon(_))), "{again:?}");
        assert_eq!(store.load().await.unwrap(), rotated);
        let forced = store.rotate(SystemTime::now(), true).await.unwrap();
        assert_eq!(forced.previous, Some(rotated.current));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
