//! The embedded engine keeps every stream record unless told to drop them;
//! DynamoDB keeps them 24 hours. Without this, weeks of `make dev` would
//! grow `.data/conduit.db` by every write ever made. Once an hour, records
//! older than [`RETENTION`] are deleted, through a second SQLite connection
//! to the engine's file (WAL mode: the engine keeps serving meanwhile).
//!
//! This touches the engine's own table (`_stream_records`, dynoxide 3.2,
//! pinned); the test below fails if a new version moves it. Sequence
//! numbers stay increasing after a trim (the engine floors new ones at the
//! clock), so a consumer's checkpoint keeps its meaning.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a stream record is kept: DynamoDB's retention.
pub const RETENTION: Duration = Duration::from_secs(24 * 60 * 60);

/// How often the stream is trimmed.
pub const INTERVAL: Duration = Duration::from_secs(60 * 60);

/// Deletes the stream records of the engine's file at `database` that are
/// older than [`RETENTION`] at `now`; returns how many.
pub fn trim(database: &Path, now: SystemTime) -> rusqlite::Result<usize> {
    let cutoff = now
        .checked_sub(RETENTION)
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as i64);
    let connection = rusqlite::Connection::open(database)?;
    connection.busy_timeout(Duration::from_secs(5))?;
    connection.execute(
        "DELETE FROM _stream_records WHERE created_at < ?1",
        [cutoff],
    )
}

/// Trims the stream of the engine's file now and every [`INTERVAL`].
pub async fn run(database: PathBuf) {
    loop {
        let path = database.clone();
        match tokio::task::spawn_blocking(move || trim(&path, SystemTime::now())).await {
            Ok(Ok(0)) => {}
            Ok(Ok(trimmed)) => tracing::info!(trimmed, "stream records past 24 hours deleted"),
            Ok(Err(err)) => tracing::warn!(error = %err, "trimming the stream failed"),
            Err(err) => tracing::warn!(error = %err, "trimming the stream failed"),
        }
        tokio::time::sleep(INTERVAL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Table;

    fn stream_records(database: &Path) -> i64 {
        let connection = rusqlite::Connection::open(database).unwrap();
        connection
            .query_row("SELECT COUNT(*) FROM _stream_records", [], |row| row.get(0))
            .unwrap()
    }

    #[tokio::test]
    async fn old_records_go_and_the_stream_goes_on() {
        let dir = std::env::temp_dir().join(format!("conduit-trim-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("conduit.db");
        let _ = std::fs::remove_file(&file);
        let engine = dynoxide::Database::new(&file.to_string_lossy()).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(dynoxide::server::serve_on(listener, engine));
        let table = Table::at(&endpoint).await;
        table.put("1").await;
        table.put("2").await;
        assert_eq!(stream_records(&file), 2);

        assert_eq!(trim(&file, SystemTime::now()).unwrap(), 0, "all recent");
        let in_two_days = SystemTime::now() + 2 * RETENTION;
        assert_eq!(trim(&file, in_two_days).unwrap(), 2);
        assert_eq!(stream_records(&file), 0);

        // The engine still streams, after what it had.
        table.put("3").await;
        assert_eq!(stream_records(&file), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
