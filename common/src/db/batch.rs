//! Reading and deleting items by key: one item (`GetItem`), or many in as
//! few calls as DynamoDB's limits allow (`BatchGetItem`, 100 keys a call;
//! `BatchWriteItem`, 25), retrying whatever it leaves unprocessed; and
//! bulk puts, for seeding. And the one read of many kinds of item that
//! decorating a whole response takes.

use std::collections::HashSet;
use std::time::Duration;

use aws_sdk_dynamodb::types::{DeleteRequest, KeysAndAttributes, PutRequest, WriteRequest};

use super::item::key_fits;
use super::profiles::Profile;
use super::users::User;
use super::{Db, Item, from_item, get_s, key_of, keys, sdk_error};
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

    /// Reads many items by key in as few calls as DynamoDB allows (100 keys
    /// a call), sent at once: more than 100 keys still wait one round trip.
    /// Retries whatever DynamoDB leaves unprocessed.
    pub async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>, ApiError> {
        self.batch_get_only(keys, &[]).await
    }

    /// [`Self::batch_get`], reading only `attributes` of each item (all of
    /// them when empty): a page of a list then does not carry every body
    /// through the SDK's parser. DynamoDB bills the whole item either way.
    pub async fn batch_get_only(
        &self,
        keys: Vec<Item>,
        attributes: &[&str],
    ) -> Result<Vec<Item>, ApiError> {
        let keys = dedup_keys(keys.into_iter().filter(key_fits).collect());
        let calls = keys
            .chunks(100)
            .map(|chunk| self.batch_get_call(chunk.to_vec(), attributes));
        let found = futures::future::try_join_all(calls).await?;
        Ok(found.into_iter().flatten().collect())
    }

    /// One `BatchGetItem` of at most 100 keys, and its retries.
    async fn batch_get_call(
        &self,
        mut keys: Vec<Item>,
        attributes: &[&str],
    ) -> Result<Vec<Item>, ApiError> {
        let mut found = Vec::with_capacity(keys.len());
        let mut backoff = Duration::from_millis(20);
        // Every name through a placeholder: some are reserved words.
        let projection = (!attributes.is_empty()).then(|| {
            let names: Vec<String> = (0..attributes.len()).map(|i| format!("#a{i}")).collect();
            let map: std::collections::HashMap<String, String> = names
                .iter()
                .zip(attributes)
                .map(|(name, attribute)| (name.clone(), (*attribute).to_owned()))
                .collect();
            (names.join(", "), map)
        });
        while !keys.is_empty() {
            let request = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut keys)))
                .consistent_read(true)
                .set_projection_expression(projection.as_ref().map(|(p, _)| p.clone()))
                .set_expression_attribute_names(projection.as_ref().map(|(_, n)| n.clone()))
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
                keys = unprocessed.keys;
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_millis(500));
            }
        }
        Ok(found)
    }

    /// Profiles of `user_ids` (reading only those not cached), and for a
    /// viewer whom they follow among them and which of `article_ids` they
    /// favorited: every decoration of a response, REST's or GraphQL's, in
    /// one `BatchGetItem` (100 keys a call, sent at once), not one a kind.
    pub async fn read_decorations(
        &self,
        user_ids: &[&str],
        viewer: Option<&str>,
        article_ids: &[&str],
    ) -> Result<Decorations, ApiError> {
        let (mut profiles, missing) = self.cached_profiles(user_ids);
        let mut keys: Vec<Item> = missing.iter().map(|id| key_of(keys::user(id))).collect();
        if let Some(viewer) = viewer {
            keys.extend(user_ids.iter().map(|id| key_of(keys::follow(viewer, id))));
            keys.extend(
                article_ids
                    .iter()
                    .map(|id| key_of(keys::favorite(id, viewer))),
            );
        }
        let (users, others): (Vec<Item>, Vec<Item>) = self
            .batch_get(keys)
            .await?
            .into_iter()
            .partition(|item| get_s(item, "SK") == Some(keys::USER));
        for user in users {
            profiles.push(self.remember_profile(&from_item::<User>(user)?));
        }
        let (article_prefix, _) = keys::article("");
        Ok(Decorations {
            profiles,
            followed: ids_after(&others, "SK", keys::FOLLOWS_PREFIX),
            favorited: ids_after(&others, "PK", &article_prefix),
        })
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

/// What [`Db::read_decorations`] found.
#[derive(Debug, Default)]
pub struct Decorations {
    pub profiles: Vec<Profile>,
    /// Of the users asked about, those the viewer follows.
    pub followed: HashSet<String>,
    /// Of the articles asked about, those the viewer favorited.
    pub favorited: HashSet<String>,
}

/// Of `items`, the part of each one's `attribute` after `prefix`.
fn ids_after(items: &[Item], attribute: &str, prefix: &str) -> HashSet<String> {
    items
        .iter()
        .filter_map(|item| {
            get_s(item, attribute)?
                .strip_prefix(prefix)
                .map(str::to_owned)
        })
        .collect()
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
