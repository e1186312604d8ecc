//! The development signing keys: a key set made once per data directory and
//! kept there (`dev-jwt-secret`), so tokens survive a restart; never a
//! constant in the source. `conduit-admin rotate-keys` rotates it, and the
//! local server follows ([`follow_rotations`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use conduit_common::auth::key_store::KeyStore;
use conduit_common::state::AppState;

/// `DATA_DIR`, or `.data` when it is unset or empty.
pub fn data_dir() -> PathBuf {
    std::env::var("DATA_DIR")
        .ok()
        .filter(|dir| !dir.is_empty())
        .map_or_else(|| PathBuf::from(".data"), PathBuf::from)
}

/// The key set of the data directory `data_dir`.
pub fn store(data_dir: &Path) -> KeyStore {
    KeyStore::File(data_dir.join("dev-jwt-secret"))
}

/// Reloads the key set from its file whenever it changes, as each Lambda
/// instance reloads its set from SSM (every `RELOAD_AFTER` there; every
/// second here, where a rotation is run by hand and tried at once).
pub async fn follow_rotations(store: KeyStore, state: Arc<AppState>) {
    let KeyStore::File(path) = &store else { return };
    let modified = || std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let mut seen = modified();
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = modified();
        if now == seen {
            continue;
        }
        seen = now;
        match store.load().await {
            Ok(set) => {
                state.jwt.install(&set);
                eprintln!("signing keys reloaded: signing with {}", set.current.kid);
            }
            Err(err) => eprintln!("signing keys not reloaded: {err}"),
        }
    }
}
