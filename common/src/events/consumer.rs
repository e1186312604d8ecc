//! A stream consumer: which records it takes, what it does with each, how
//! its event source mapping is configured, and how it runs one batch.

use std::future::Future;
use std::pin::Pin;
use std::time::SystemTime;

use aws_lambda_events::event::dynamodb::EventRecord;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};

use tracing::Instrument;

use super::{Change, RecordFilter};
use crate::db::Db;
use crate::error::ApiError;
use crate::telemetry::traces;

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
        // The stream's creation times are whole seconds: lag within the
        // second it was written reads as none. A record without one (at the
        // epoch) tells nothing.
        let lag = records
            .iter()
            .map(|record| SystemTime::from(record.change.approximate_creation_date_time))
            .filter(|&created| created > SystemTime::UNIX_EPOCH)
            .min()
            .map(|oldest| oldest.elapsed().unwrap_or_default());
        let batch = tracing::info_span!("batch", consumer = self.name, records = records.len());
        let mut response = DynamoDbEventResponse::default();
        let mut done = 0;
        for record in records {
            let span = tracing::info_span!(
                parent: &batch,
                "record",
                otel.name = format!("{} {}", self.name, record.event_name),
                sequence_number = record.change.sequence_number.as_deref(),
            );
            // The trace of the request whose write this is, when the item
            // carries it: its trace then shows this work.
            if let Some(traceparent) = record.change.new_image.get(traces::ITEM_ATTRIBUTE) {
                if let serde_dynamo::AttributeValue::S(traceparent) = traceparent {
                    traces::continue_from(&span, traceparent);
                }
                span.follows_from(&batch);
            }
            let outcome = match Change::from_record(record) {
                Ok(change) => (self.handle)(db, &change).instrument(span).await,
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
        let failed = !response.batch_item_failures.is_empty();
        crate::telemetry::metrics::record_batch(self.name, records.len(), failed, lag);
        response
    }
}
