//! Reading and deleting items by key: one item (`GetItem`), or many in as
//! few calls as DynamoDB's limits allow (`BatchGetItem`, 100 keys a call;
//! `BatchWriteItem`, 25), retrying whatever it leaves unprocessed; and
//! bulk puts, for seeding.

use std::collections::HashSet;
use std::time::Duration;

use aws_sdk_dynamodb::types::{DeleteRequest, KeysAndAttributes, PutRequest, WriteRequest};

use super::item::key_fits;
use super::{Db, Item, get_s, sdk_error};
use crate::error::ApiError;

impl Db {
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
    ) -> Result<HashSet<String>, ApiError> {
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

    /// Deletes items by key, 25 a call (BatchWriteItem's limit), retrying
    /// whatever DynamoDB leaves unprocessed.
    pub(super) async fn batch_delete(&self, keys: Vec<Item>) -> Result<(), ApiError> {
        let requests = keys.into_iter().map(|key| {
            WriteRequest::builder()
                .delete_request(
                    DeleteRequest::builder()
                        .set_key(Some(key))
                        .build()
                        .expect("key set"),
                )
                .build()
        });
        self.batch_write(requests.collect()).await
    }

    /// Puts whole items as they are, unconditionally, 25 a call: for
    /// seeding large data sets (tests, benchmarks), never for the API's
    /// writes, which keep their invariants in transactions.
    pub async fn put_all(&self, items: Vec<Item>) -> Result<(), ApiError> {
        let requests = items.into_iter().map(|item| {
            WriteRequest::builder()
                .put_request(
                    PutRequest::builder()
                        .set_item(Some(item))
                        .build()
                        .expect("item set"),
                )
                .build()
        });
        self.batch_write(requests.collect()).await
    }

    async fn batch_write(&self, mut pending: Vec<WriteRequest>) -> Result<(), ApiError> {
        let mut backoff = Duration::from_millis(20);
        while !pending.is_empty() {
            let rest = pending.split_off(pending.len().min(25));
            let chunk = std::mem::replace(&mut pending, rest);
            let out = self
                .client
                .batch_write_item()
                .request_items(&self.table, chunk)
                .send()
                .await
                .map_err(sdk_error)?;
            if let Some(unprocessed) = out
                .unprocessed_items
                .and_then(|mut u| u.remove(&self.table))
                .filter(|u| !u.is_empty())
            {
                pending.extend(unprocessed);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_millis(500));
            }
        }
        Ok(())
    }
}

fn dedup_keys(keys: Vec<Item>) -> Vec<Item> {
    let mut seen = HashSet::new();
    keys.into_iter()
        .filter(|k| {
            seen.insert((
                get_s(k, "PK").map(str::to_owned),
                get_s(k, "SK").map(str::to_owned),
            ))
        })
        .collect()
}
