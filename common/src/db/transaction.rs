//! Transactions: the builders of their actions (table name already set),
//! running one with retries when it loses a race, and reading why one was
//! cancelled.
//!
//! Every action is named by its caller (an enum per call site), and a
//! cancellation is read by those names, never by position: reordering or
//! adding actions cannot silently change what a failed condition means.

use std::time::Duration;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::builders::{
    ConditionCheckBuilder, DeleteBuilder, PutBuilder, UpdateBuilder,
};
use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, TransactWriteItem, Update};

use super::{Db, Item, errors, sdk_error};
use crate::error::ApiError;

/// Attempts for a transaction that lost a race with another one on the same
/// item (DynamoDB's `TransactionConflict`), e.g. many users favoriting at once.
const CONFLICT_ATTEMPTS: u32 = 8;

const CONDITION_FAILED: &str = "ConditionalCheckFailed";
const CONFLICT: &str = "TransactionConflict";

/// Why a transaction did not commit.
#[derive(Debug)]
pub enum TxError<A> {
    /// DynamoDB cancelled it; [`TxError::failed`] tells which named action's
    /// condition failed.
    Cancelled(Cancellation<A>),
    Other(ApiError),
}

/// The reason code DynamoDB gave for each action of a cancelled
/// transaction, under the action's name (`Some("ConditionalCheckFailed")`,
/// `None` for actions that were fine).
#[derive(Debug)]
pub struct Cancellation<A> {
    reasons: Vec<(A, Option<String>)>,
}

impl<A> Cancellation<A> {
    fn codes(&self) -> impl Iterator<Item = &str> {
        self.reasons.iter().filter_map(|(_, code)| code.as_deref())
    }
}

impl<A: PartialEq> TxError<A> {
    /// Whether the condition on the action named `name` failed (on any of
    /// them, when several actions share the name).
    pub fn failed(&self, name: A) -> bool {
        matches!(self, TxError::Cancelled(cancellation)
        if cancellation.reasons.iter().any(|(action, code)| {
            *action == name && code.as_deref() == Some(CONDITION_FAILED)
        }))
    }
}

impl<A: std::fmt::Debug> From<TxError<A>> for ApiError {
    fn from(err: TxError<A>) -> Self {
        match err {
            TxError::Other(err) => err,
            // Still losing races after every retry: ask the client to retry.
            TxError::Cancelled(cancellation)
                if cancellation.codes().any(|code| code == CONFLICT) =>
            {
                ApiError::Busy
            }
            TxError::Cancelled(cancellation)
                if cancellation.codes().any(errors::is_throttling_code) =>
            {
                ApiError::Unavailable {
                    cause: format!("transaction throttled: {:?}", cancellation.reasons),
                }
            }
            TxError::Cancelled(cancellation) => ApiError::Internal(format!(
                "transaction cancelled unexpectedly: {:?}",
                cancellation.reasons
            )),
        }
    }
}

impl Db {
    /// Runs a transaction of named actions, retrying it when it lost a race
    /// with another transaction; a failed condition is returned to the
    /// caller to interpret by the actions' names.
    pub async fn transact<A>(
        &self,
        actions: Vec<(A, TransactWriteItem)>,
    ) -> Result<(), TxError<A>> {
        let (names, items): (Vec<A>, Vec<TransactWriteItem>) = actions.into_iter().unzip();
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
            // One reason per action, in the order they were sent.
            let codes = match err.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancel)) => cancel
                    .cancellation_reasons()
                    .iter()
                    .map(|reason| reason.code().map(str::to_owned))
                    .collect::<Vec<_>>(),
                _ => return Err(TxError::Other(sdk_error(err))),
            };
            let conflicted = codes.iter().any(|code| code.as_deref() == Some(CONFLICT));
            let condition_failed = codes
                .iter()
                .any(|code| code.as_deref() == Some(CONDITION_FAILED));
            if conflicted && !condition_failed && attempt < CONFLICT_ATTEMPTS {
                tokio::time::sleep(jitter(attempt)).await;
                continue;
            }
            let reasons = names.into_iter().zip(codes).collect();
            return Err(TxError::Cancelled(Cancellation { reasons }));
        }
    }
}

/// Names every action of `actions` `name`: for the actions a helper builds
/// together (an article's tag entries and counters, say), whose failures the
/// caller reads as one.
pub(super) fn named<A: Copy>(
    name: A,
    actions: impl IntoIterator<Item = TransactWriteItem>,
) -> impl Iterator<Item = (A, TransactWriteItem)> {
    actions.into_iter().map(move |action| (name, action))
}

/// Exponential backoff with full jitter, so racing writers spread out.
fn jitter(attempt: u32) -> Duration {
    use rand::Rng;
    let cap = 10u64 * 2u64.pow(attempt.min(6));
    Duration::from_millis(rand::thread_rng().gen_range(1..=cap))
}

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
