//! Where the signing key set ([`super::keys`]) is kept, and its rotation:
//! an SSM SecureString in AWS (`JWT_SECRET_PARAM`, which the deploy
//! creates), a file under the data directory locally.

use std::path::PathBuf;

use super::keys::KeySet;
use crate::state::{put_secure_parameter, secure_parameter};

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

    /// Rotates the stored set one step ([`KeySet::rotated`]) and returns
    /// the new one. The instances pick it up when they next reload.
    pub async fn rotate(&self) -> Result<KeySet, String> {
        let rotated = self.load().await?.rotated();
        self.save(&rotated).await?;
        Ok(rotated)
    }
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
        let rotated = store.rotate().await.unwrap();
        assert_eq!(store.load().await.unwrap(), rotated);
        assert_eq!(rotated.previous, Some(created.current));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
