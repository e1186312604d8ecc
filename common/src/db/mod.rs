//! The DynamoDB data layer: one table, single-table design.
//!
//! `docs/data-model.md` lists every item type and access pattern; the key
//! formats live in [`keys`] and nowhere else. One concern a module:
//!
//! - the machinery: [`item`] (attributes, key items, conversions, key size
//!   limits), [`batch`] (reads and deletes by key), [`paging`] (queries read
//!   page by page, newest-first slices), [`transaction`] (named actions,
//!   retries on conflicts), [`once`] (effects applied exactly once, for
//!   retried and replayed work), [`errors`] (what a failed SDK call means);
//! - the domain: [`users`], [`sessions`], [`profiles`], [`follows`], [`articles`],
//!   [`favorites`], [`tags`], [`comments`], [`lists`] (article lists),
//!   [`feeds`] (materialised feeds), [`cleanup`] (what a deleted article
//!   leaves), [`accounts`] (deleting one, and what it leaves), [`export`]
//!   (everything one holds, by pages), [`admin`],
//!   [`throttle`] (login limits);
//! - around them: [`schema`] (the table definition), [`migrations`] (what
//!   older items need), [`cache`] (hot public reads in memory), [`capacity`]
//!   (the cost of every call).

pub mod accounts;
pub mod admin;
pub mod articles;
pub mod batch;
pub mod cache;
pub mod capacity;
pub mod cleanup;
pub mod comments;
pub mod errors;
pub mod export;
pub mod favorites;
pub mod feeds;
pub mod follows;
pub mod item;
pub mod keys;
pub mod lists;
pub mod migrations;
pub mod once;
pub mod paging;
pub mod profiles;
pub mod repair;
pub mod schema;
pub mod sessions;
pub mod tags;
pub mod throttle;
pub mod transaction;
pub mod users;

use std::time::Duration;

use aws_sdk_dynamodb::Client;

pub use errors::{is_condition_failure, sdk_error};
pub use item::{Item, from_item, get_i64, get_s, get_u64, key, key_of, n, s, to_item, with_trace};
pub use transaction::{Tx, TxError};

/// A handle on the table; cheap to clone (the SDK client is an `Arc` inside).
#[derive(Clone, Debug)]
pub struct Db {
    pub client: Client,
    pub table: String,
    cache: Option<cache::ReadCache>,
}

impl Db {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            cache: None,
        }
    }

    /// Opens the connection to DynamoDB, TLS handshake and all, before a
    /// request needs it. A function calls this during Lambda's Init, so
    /// that its first invocation does not pay for it: over TLS at a 256 MB
    /// function's CPU share, that was most of a cold request's time
    /// (docs/benchmarks.md). It reads a key that no item has (half a read
    /// unit, once per cold start); if that fails, the first request
    /// connects on its own.
    pub async fn connect(&self) {
        let read = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_of(keys::nothing())))
            .send()
            .await;
        if let Err(err) = read {
            tracing::debug!(error = %sdk_error(err), "no connection to the table yet");
        }
    }

    /// Serves hot public reads from memory for up to `ttl` (zero: never).
    pub fn with_cache(mut self, ttl: Duration) -> Self {
        self.cache = cache::ReadCache::new(ttl);
        self
    }
}
