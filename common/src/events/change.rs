//! A stream record, decoded: what changed, and the item before and after.

use aws_lambda_events::event::dynamodb::EventRecord;

use crate::db::{Item, from_item, get_s};
use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Insert,
    Modify,
    Remove,
}

impl ChangeKind {
    /// The stream's name for it (`eventName`).
    pub const fn event_name(self) -> &'static str {
        match self {
            ChangeKind::Insert => "INSERT",
            ChangeKind::Modify => "MODIFY",
            ChangeKind::Remove => "REMOVE",
        }
    }
}

/// One change to one item.
#[derive(Debug, Clone)]
pub struct Change {
    pub kind: ChangeKind,
    /// The item before the change (not for an insert).
    pub old: Option<Item>,
    /// The item after the change (not for a removal).
    pub new: Option<Item>,
    pub keys: Item,
}

impl Change {
    /// Decodes a record of a stream with new and old images.
    pub fn from_record(record: &EventRecord) -> Result<Self, ApiError> {
        let kind = match record.event_name.as_str() {
            "INSERT" => ChangeKind::Insert,
            "MODIFY" => ChangeKind::Modify,
            "REMOVE" => ChangeKind::Remove,
            other => {
                return Err(ApiError::Internal(format!(
                    "unknown stream event {other:?}"
                )));
            }
        };
        let image = |item: &serde_dynamo::Item| -> Option<Item> {
            (!item.is_empty()).then(|| item.clone().into())
        };
        Ok(Change {
            kind,
            old: image(&record.change.old_image),
            new: image(&record.change.new_image),
            keys: record.change.keys.clone().into(),
        })
    }

    /// The item's sort key.
    pub fn sort_key(&self) -> &str {
        get_s(&self.keys, "SK").unwrap_or_default()
    }

    /// The item's partition key.
    pub fn partition_key(&self) -> &str {
        get_s(&self.keys, "PK").unwrap_or_default()
    }

    /// The item as it is now, or as it was before its removal.
    pub fn item(&self) -> Option<&Item> {
        self.new.as_ref().or(self.old.as_ref())
    }

    /// That item decoded as one of our types.
    pub fn decode<T: serde::de::DeserializeOwned>(&self) -> Result<T, ApiError> {
        let item = self
            .item()
            .ok_or_else(|| ApiError::Internal("a stream record without images".into()))?;
        from_item(item.clone())
    }
}
