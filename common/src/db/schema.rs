//! The table definition, for local development and tests. In AWS the table
//! is created by `infra/template.yaml`, which must describe the same keys.

use std::time::Duration;

use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType, TableDescription,
    TimeToLiveSpecification, TimeToLiveStatus,
};

use super::{Db, keys, sdk_error};
use crate::error::ApiError;

/// The attribute DynamoDB's TTL deletes expired items by (epoch seconds).
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// What the indexes copy besides keys: an article's list fields, all but its
/// body. A page of a list then reads a few hundred bytes an article instead
/// of up to a whole body each. (`infra/template.yaml` is generated from this.)
pub const INDEX_ATTRIBUTES: &[&str] = &[
    "id",
    "slug",
    "title",
    "description",
    "tag_list",
    "author_id",
    "favorites_count",
    "created_at",
    "updated_at",
];

fn key_schema(hash: &str, range: &str) -> Vec<KeySchemaElement> {
    [(hash, KeyType::Hash), (range, KeyType::Range)]
        .into_iter()
        .map(|(name, kind)| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .expect("complete key schema")
        })
        .collect()
}

fn index(name: &str) -> GlobalSecondaryIndex {
    GlobalSecondaryIndex::builder()
        .index_name(name)
        .set_key_schema(Some(key_schema(&format!("{name}PK"), &format!("{name}SK"))))
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::Include)
                .set_non_key_attributes(Some(
                    INDEX_ATTRIBUTES.iter().map(|a| a.to_string()).collect(),
                ))
                .build(),
        )
        .build()
        .expect("complete index")
}

/// The table's change stream: both images, so that a consumer sees what an
/// item was (a deleted article's tags and author) as well as what it is.
fn stream() -> StreamSpecification {
    StreamSpecification::builder()
        .stream_enabled(true)
        .stream_view_type(StreamViewType::NewAndOldImages)
        .build()
        .expect("complete stream specification")
}

/// How long [`Db::ensure_table`] waits for a new table to become ACTIVE
/// (the local engines make it ACTIVE at once; AWS in seconds).
const TABLE_ACTIVE_WITHIN: Duration = Duration::from_secs(300);

impl Db {
    /// Creates the table if it does not exist yet, with its stream, and
    /// waits until it is ACTIVE; returns whether it was missing. A table
    /// made before the stream existed gets it.
    ///
    /// Every step may be retried by the SDK after an attempt that went
    /// through but timed out, so each accepts "already done" as done:
    /// `ResourceInUseException` from CreateTable means the table is there.
    pub async fn ensure_table(&self) -> Result<bool, ApiError> {
        let exists = self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await;
        match exists {
            Ok(found) => {
                if !streaming(found.table()) {
                    self.enable_stream().await?;
                }
                self.enable_ttl().await?;
                return Ok(false);
            }
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) => {}
            Err(err) => return Err(sdk_error(err)),
        }
        let attributes = ["PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK"]
            .into_iter()
            .map(|name| {
                AttributeDefinition::builder()
                    .attribute_name(name)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .expect("complete attribute definition")
            })
            .collect();
        let created = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .set_attribute_definitions(Some(attributes))
            .set_key_schema(Some(key_schema("PK", "SK")))
            .global_secondary_indexes(index(keys::GSI1))
            .global_secondary_indexes(index(keys::GSI2))
            .stream_specification(stream())
            .send()
            .await;
        match created {
            Ok(_) => {}
            // Made by an attempt of ours that timed out, or by another process.
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_in_use_exception()) => {}
            Err(err) => return Err(sdk_error(err)),
        }
        self.client
            .wait_until_table_exists()
            .table_name(&self.table)
            .wait(TABLE_ACTIVE_WITHIN)
            .await
            .map_err(|err| ApiError::Unavailable {
                cause: format!(
                    "table {} not ACTIVE: {}",
                    self.table,
                    aws_sdk_dynamodb::error::DisplayErrorContext(err)
                ),
            })?;
        self.enable_ttl().await?;
        Ok(true)
    }

    async fn enable_stream(&self) -> Result<(), ApiError> {
        let updated = self
            .client
            .update_table()
            .table_name(&self.table)
            .stream_specification(stream())
            .send()
            .await;
        match updated {
            Ok(_) => Ok(()),
            // A retried attempt whose first try went through: read again.
            Err(err) => match self
                .client
                .describe_table()
                .table_name(&self.table)
                .send()
                .await
            {
                Ok(found) if streaming(found.table()) => Ok(()),
                _ => Err(sdk_error(err)),
            },
        }
    }

    /// Turns TTL on; called for an existing table too, so that a start-up
    /// cut off between CreateTable and this repairs itself.
    async fn enable_ttl(&self) -> Result<(), ApiError> {
        let ttl = self
            .client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(TTL_ATTRIBUTE)
                    .enabled(true)
                    .build()
                    .expect("complete ttl specification"),
            )
            .send()
            .await;
        let Err(err) = ttl else { return Ok(()) };
        // Already on (a retried attempt whose first try went through, or
        // another process): what the table says, not the error's wording.
        let described = self
            .client
            .describe_time_to_live()
            .table_name(&self.table)
            .send()
            .await
            .map_err(sdk_error)?;
        let on = described.time_to_live_description().is_some_and(|d| {
            d.attribute_name() == Some(TTL_ATTRIBUTE)
                && matches!(
                    d.time_to_live_status(),
                    Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
                )
        });
        if on { Ok(()) } else { Err(sdk_error(err)) }
    }
}

/// Whether a described table has its change stream on.
pub fn streaming(table: Option<&TableDescription>) -> bool {
    table
        .and_then(|t| t.stream_specification())
        .is_some_and(|s| s.stream_enabled())
}
