//! A stream consumer: which records it takes, what it does with each, how
//! its event source mapping is configured, and how it runs one batch.

use std::future::Future;
use std::pin::Pin;

use aws_lambda_events::event::dynamodb::EventRecord;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};

use super::{Change, RecordFilter};
use crate::db::Db;
use crate::error::ApiError;

pub type ConsumeFn = for<'a> fn(
    &'a Db,
    &'a Change,
) -> Pin<Box<dyn Future<Output = Result<(), ApiError>> + Send + 'a>>;

/// One consumer of the table's stream: a Lambda function of its own in AWS
/// (with an event source mapping generated from this), a task of the local
/// server. Every effect must be idempotent: a batch may be delivered again.
pub struct Consumer {
    pub name: &'static str,
    pub summary: &'static str,
    /// The records it receives; the rest never reach it.
    pub filters: &'static [RecordFilter],
    /// Records per invocation at most (the mapping's `BatchSize`).
    pub batch_size: u32,
    /// Attempts of a failing record before it goes to the on-failure
    /// destination (the mapping's `MaximumRetryAttempts`, plus the first).
    pub max_attempts: u32,
    pub handle: ConsumeFn,
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("name", &self.name)
            .finish()
    }
}

/// The consumers that exist, for whoever needs them all (the local poller,
/// the template).
pub type Consumers = [&'static Consumer];

impl Consumer {
    /// Whether the consumer receives `record` at all.
    pub fn accepts(&self, record: &EventRecord) -> bool {
        self.filters.iter().any(|filter| filter.matches(record))
    }

    /// Runs a batch in stream order. At the first record that fails it
    /// stops and reports that record as the batch's failure: the event
    /// source mapping then retries from it, and what came before is not
    /// done again. (Records of one item must be applied in order, so the
    /// ones after a failure wait for it.)
    pub async fn run_batch(&self, db: &Db, records: &[EventRecord]) -> DynamoDbEventResponse {
        let mut response = DynamoDbEventResponse::default();
        let mut done = 0;
        for record in records {
            let outcome = match Change::from_record(record) {
                Ok(change) => (self.handle)(db, &change).await,
                Err(err) => Err(err),
            };
            if let Err(err) = outcome {
                let sequence_number = record.change.sequence_number.clone();
                tracing::error!(
                    consumer = self.name,
                    sequence_number = sequence_number.as_deref().unwrap_or_default(),
                    event = %record.event_name,
                    error = %err,
                    "stream record failed; it and the {} after it will be retried",
                    records.len() - done - 1,
                );
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = sequence_number;
                response.batch_item_failures.push(failure);
                break;
            }
            done += 1;
        }
        tracing::info!(consumer = self.name, records = records.len(), done, "batch");
        response
    }
}
