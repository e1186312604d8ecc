//! Items and their attributes: building attribute values and key items,
//! reading attributes back, converting whole items to and from our types
//! (through `serde_dynamo`), and DynamoDB's limits on key sizes.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::error::ApiError;
use crate::telemetry::traces;

pub type Item = HashMap<String, AttributeValue>;

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    HashMap::from([("PK".to_owned(), s(pk)), ("SK".to_owned(), s(sk))])
}

/// Marks an item written by a traced request with that request's trace
/// ([`traces::ITEM_ATTRIBUTE`]), for the stream consumers its write
/// triggers to continue it. Untraced, the item is left as it is.
pub fn with_trace(mut item: Item) -> Item {
    if let Some(traceparent) = traces::traceparent() {
        item.insert(traces::ITEM_ATTRIBUTE.to_owned(), s(traceparent));
    }
    item
}

/// A key item from a `(PK, SK)` pair as returned by [`keys`](super::keys).
pub fn key_of((pk, sk): (String, String)) -> Item {
    key(pk, sk)
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

/// Reads a signed numeric attribute, absent as zero (a counter's shard may
/// go below zero: a deletion decrements any shard).
pub fn get_i64(item: &Item, name: &str) -> i64 {
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

/// DynamoDB's limits on key sizes, in bytes.
pub(super) const MAX_PARTITION_KEY_BYTES: usize = 2048;
const MAX_SORT_KEY_BYTES: usize = 1024;

/// Whether a key is within DynamoDB's size limits. Keys built from client
/// input (a slug, a username, a tag in the URL) may not be; no stored item
/// can have such a key, so a lookup answers "absent" instead of letting
/// DynamoDB reject the request (which would be a 500).
pub(super) fn key_fits(key: &Item) -> bool {
    get_s(key, "PK").is_none_or(|pk| pk.len() <= MAX_PARTITION_KEY_BYTES)
        && get_s(key, "SK").is_none_or(|sk| sk.len() <= MAX_SORT_KEY_BYTES)
}
