//! The DynamoDB data layer: one table, single-table design.
//!
//! `docs/data-model.md` lists every item type and access pattern; the key
//! formats live in [`keys`] and nowhere else.

pub mod admin;
pub mod articles;
pub mod cache;
pub mod capacity;
pub mod comments;
pub mod errors;
pub mod keys;
pub mod profiles;
pub mod schema;
pub mod throttle;
pub mod users;

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, TransactWriteItem};

use crate::error::ApiError;
pub use errors::{is_condition_failure, sdk_error};

pub type Item = HashMap<String, AttributeValue>;

/// Attempts for a transaction that lost a race with another one on the same
/// item (DynamoDB's `TransactionConflict`), e.g. many users favoriting at once.
const CONFLICT_ATTEMPTS: u32 = 8;

/// A handle on the table; cheap to clone (the SDK client is an `Arc` inside).
#[derive(Clone, Debug)]
pub struct Db {
    pub client: Client,
    pub table: String,
    cache: Option<cache::ReadCache>,
}

/// Why a transaction did not commit.
#[derive(Debug)]
pub enum TxError {
    /// A condition failed; one reason code per action, in order
    /// (`Some("ConditionalCheckFailed")`, `None` for actions that were fine).
    Cancelled(Vec<Option<String>>),
    Other(ApiError),
}

impl TxError {
    /// Whether the condition on the action at `index` failed.
    pub fn failed_at(&self, index: usize) -> bool {
        matches!(self, TxError::Cancelled(codes)
            if codes.get(index).and_then(|c| c.as_deref()) == Some("ConditionalCheckFailed"))
    }
}

impl From<TxError> for ApiError {
    fn from(err: TxError) -> Self {
        match err {
            TxError::Other(err) => err,
            // Still losing races after every retry: ask the client to retry.
            TxError::Cancelled(codes)
                if codes
                    .iter()
                    .any(|code| code.as_deref() == Some("TransactionConflict")) =>
            {
                ApiError::Busy
            }
            TxError::Cancelled(codes)
                if codes
                    .iter()
                    .flatten()
                    .any(|code| errors::is_throttling_code(code)) =>
            {
                ApiError::Unavailable {
                    cause: format!("transaction throttled: {codes:?}"),
                }
            }
            TxError::Cancelled(codes) => {
                ApiError::Internal(format!("transaction cancelled unexpectedly: {codes:?}"))
            }
        }
    }
}

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    HashMap::from([("PK".to_owned(), s(pk)), ("SK".to_owned(), s(sk))])
}

/// Reads a string attribute.
pub fn get_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

/// Reads a numeric attribute as `u64`, treating absent as zero (counters start absent).
pub fn get_u64(item: &Item, name: &str) -> u64 {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

pub fn from_item<T: serde::de::DeserializeOwned>(item: Item) -> Result<T, ApiError> {
    serde_dynamo::from_item(item).map_err(ApiError::internal)
}

pub fn to_item<T: serde::Serialize>(value: &T) -> Result<Item, ApiError> {
    serde_dynamo::to_item(value).map_err(ApiError::internal)
}

impl Db {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            cache: None,
        }
    }

    /// Serves hot public reads from memory for up to `ttl` (zero: never).
    pub fn with_cache(mut self, ttl: Duration) -> Self {
        self.cache = cache::ReadCache::new(ttl);
        self
    }

    /// A strongly consistent read of one item.
    pub async fn get(&self, key: Item) -> Result<Option<Item>, ApiError> {
        if !key_fits(&key) {
            return Ok(None);
        }
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(out.item)
    }

    /// Reads many items by key in as few round trips as DynamoDB allows
    /// (100 keys a call), retrying whatever it leaves unprocessed.
    pub async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>, ApiError> {
        let mut keys = dedup_keys(keys.into_iter().filter(key_fits).collect());
        let mut found = Vec::with_capacity(keys.len());
        let mut backoff = Duration::from_millis(20);
        while !keys.is_empty() {
            let rest = keys.split_off(keys.len().min(100));
            let chunk = std::mem::replace(&mut keys, rest);
            let request = KeysAndAttributes::builder()
                .set_keys(Some(chunk))
                .consistent_read(true)
                .build()
                .map_err(ApiError::internal)?;
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(sdk_error)?;
            if let Some(mut responses) = out.responses {
                found.extend(responses.remove(&self.table).unwrap_or_default());
            }
            if let Some(unprocessed) = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.table))
                .filter(|u| !u.keys.is_empty())
            {
                keys.extend(unprocessed.keys);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_millis(500));
            }
        }
        Ok(found)
    }

    /// Which of `keys` exist, in one batch read: for each item found, the
    /// part of its `attribute` after `prefix` (e.g. the followed user's id).
    pub(crate) async fn which_exist(
        &self,
        keys: Vec<Item>,
        attribute: &str,
        prefix: &str,
    ) -> Result<std::collections::HashSet<String>, ApiError> {
        Ok(self
            .batch_get(keys)
            .await?
            .iter()
            .filter_map(|item| {
                get_s(item, attribute)?
                    .strip_prefix(prefix)
                    .map(str::to_owned)
            })
            .collect())
    }

    /// Runs a transaction, retrying it when it lost a race with another
    /// transaction; a failed condition is returned to the caller to interpret.
    pub async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), TxError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            let err = match result {
                Ok(_) => return Ok(()),
                Err(err) => err,
            };
            let codes = match err.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancel)) => cancel
                    .cancellation_reasons()
                    .iter()
                    .map(|reason| reason.code().map(str::to_owned))
                    .collect::<Vec<_>>(),
                _ => return Err(TxError::Other(sdk_error(err))),
            };
            let conflicted = codes
                .iter()
                .any(|code| code.as_deref() == Some("TransactionConflict"));
            let condition_failed = codes
                .iter()
                .any(|code| code.as_deref() == Some("ConditionalCheckFailed"));
            if conflicted && !condition_failed && attempt < CONFLICT_ATTEMPTS {
                tokio::time::sleep(jitter(attempt)).await;
                continue;
            }
            return Err(TxError::Cancelled(codes));
        }
    }
}

impl Db {
    /// Newest-first items of one partition of the table or an index, after
    /// the cursor if any, reading no more than `wanted` items.
    pub(crate) async fn query_newest(
        &self,
        index: Option<&str>,
        partition: &str,
        before: Option<&str>,
        wanted: usize,
    ) -> Result<Vec<Item>, ApiError> {
        let (pk, sk) = match index {
            Some(index) => (format!("{index}PK"), format!("{index}SK")),
            None => ("PK".to_owned(), "SK".to_owned()),
        };
        if partition.len() > MAX_PARTITION_KEY_BYTES {
            return Ok(vec![]);
        }
        let mut condition = format!("{pk} = :pk");
        let mut values = HashMap::from([(":pk".to_owned(), s(partition))]);
        if let Some(before) = before {
            condition += &format!(" AND {sk} < :before");
            values.insert(":before".to_owned(), s(before));
        }
        let mut items = Vec::new();
        let mut start = None;
        while items.len() < wanted {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(index.map(str::to_owned))
                .key_condition_expression(&condition)
                .set_expression_attribute_values(Some(values.clone()))
                .scan_index_forward(false)
                .limit((wanted - items.len()).min(1000) as i32)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(sdk_error)?;
            items.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        Ok(items)
    }
}

/// Exponential backoff with full jitter, so racing writers spread out.
fn jitter(attempt: u32) -> Duration {
    use rand::Rng;
    let cap = 10u64 * 2u64.pow(attempt.min(6));
    Duration::from_millis(rand::thread_rng().gen_range(1..=cap))
}

/// DynamoDB's limits on key sizes, in bytes.
const MAX_PARTITION_KEY_BYTES: usize = 2048;
const MAX_SORT_KEY_BYTES: usize = 1024;

/// Whether a key is within DynamoDB's size limits. Keys built from client
/// input (a slug, a username, a tag in the URL) may not be; no stored item
/// can have such a key, so a lookup answers "absent" instead of letting
/// DynamoDB reject the request (which would be a 500).
fn key_fits(key: &Item) -> bool {
    get_s(key, "PK").is_none_or(|pk| pk.len() <= MAX_PARTITION_KEY_BYTES)
        && get_s(key, "SK").is_none_or(|sk| sk.len() <= MAX_SORT_KEY_BYTES)
}

fn dedup_keys(keys: Vec<Item>) -> Vec<Item> {
    let mut seen = std::collections::HashSet::new();
    keys.into_iter()
        .filter(|k| {
            seen.insert((
                get_s(k, "PK").map(str::to_owned),
                get_s(k, "SK").map(str::to_owned),
            ))
        })
        .collect()
}

use aws_sdk_dynamodb::types::builders::{
    ConditionCheckBuilder, DeleteBuilder, PutBuilder, UpdateBuilder,
};
use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, Update};

/// Builders for transaction actions, with the table name already set.
impl Db {
    pub fn put(&self, item: Item) -> PutBuilder {
        Put::builder().table_name(&self.table).set_item(Some(item))
    }

    pub fn update(&self, key: Item) -> UpdateBuilder {
        Update::builder().table_name(&self.table).set_key(Some(key))
    }

    pub fn delete(&self, key: Item) -> DeleteBuilder {
        Delete::builder().table_name(&self.table).set_key(Some(key))
    }

    pub fn check(&self, key: Item) -> ConditionCheckBuilder {
        ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key))
    }
}

/// Finishes a transaction action builder. Every builder above has its table
/// and key set, so `build` cannot fail for lack of them.
pub trait Tx {
    fn tx(self) -> TransactWriteItem;
}

impl Tx for PutBuilder {
    fn tx(self) -> TransactWriteItem {
        TransactWriteItem::builder()
            .put(self.build().expect("put has table and item"))
            .build()
    }
}

impl Tx for UpdateBuilder {
    fn tx(self) -> TransactWriteItem {
        TransactWriteItem::builder()
            .update(self.build().expect("update has table, key and expression"))
            .build()
    }
}

impl Tx for DeleteBuilder {
    fn tx(self) -> TransactWriteItem {
        TransactWriteItem::builder()
            .delete(self.build().expect("delete has table and key"))
            .build()
    }
}

impl Tx for ConditionCheckBuilder {
    fn tx(self) -> TransactWriteItem {
        TransactWriteItem::builder()
            .condition_check(self.build().expect("check has table, key and condition"))
            .build()
    }
}

/// A key item from a `(PK, SK)` pair as returned by [`keys`].
pub fn key_of((pk, sk): (String, String)) -> Item {
    key(pk, sk)
}
