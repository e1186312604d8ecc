//! Lambda's event source mapping for DynamoDB Streams, emulated, so that
//! `make dev` and the tests run the stream consumers the way AWS does: the
//! same functions, fed the same records, with the same rules.
//!
//! It reads the table's stream through the SDK's DynamoDB Streams client
//! (the embedded engine and DynamoDB Local both serve it), shard by shard
//! in order, and for each consumer:
//! - drops the records its filters do not match (`FilterCriteria`);
//! - hands it the rest in batches of at most its `batch_size`;
//! - on a partial batch failure, retries from the failed record (what came
//!   before it is not redone); on a crash (a panic: the function died),
//!   splits the batch in two and retries each half
//!   (`BisectBatchOnFunctionError`), down to the record that crashes it;
//! - after `max_attempts`, sends what is left of the batch to the
//!   on-failure destination and moves on: here `stream-failures.jsonl` in
//!   the data directory (or memory, for tests), which `make dev` reports at
//!   start;
//! - keeps a checkpoint per consumer and shard (in `stream-checkpoints.json`),
//!   so a restart resumes after the last record done: nothing is skipped,
//!   and at most the batch in flight is delivered again;
//! - between polls, keeps each consumer's place in each shard (the
//!   `NextShardIterator` of its last read), so that an idle poll is one
//!   GetRecords per consumer and shard that reads only what is new. The
//!   table and its stream are described again only every [`REDESCRIBE`],
//!   when a shard has ended (to find its children), after an error (the
//!   places are dropped, and taken again from the checkpoints), and at
//!   each [`EventSource::drain`].
//!
//! The consumers run in this process, or, given a Lambda Invoke API
//! ([`Runner::Lambda`]), as the functions of their names there: the shipped
//! binaries under `cargo lambda watch` (scripts/shipped-e2e.sh).
//!
//! Tests call [`EventSource::drain`] to run everything written so far, at a
//! point of their choosing, instead of sleeping.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lambda_events::event::dynamodb::{Event, EventRecord, UserIdentity};
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use aws_sdk_dynamodbstreams::Client as StreamsClient;
use aws_sdk_dynamodbstreams::error::SdkError;
use aws_sdk_dynamodbstreams::operation::get_shard_iterator::GetShardIteratorError;
use aws_sdk_dynamodbstreams::types::{Record, Shard, ShardIteratorType};
use conduit_common::db::Db;
use conduit_common::events::Consumer;
use conduit_common::events::consumer::Consumers;
use serde::{Deserialize, Serialize};

use crate::lambda_invoke::LambdaInvoke;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Records asked of the stream per call (GetRecords allows 1,000).
const READ_LIMIT: i32 = 1000;

/// How long the poller goes on with the shards it knows before it describes
/// the stream again. Lambda also lists a stream's shards now and then, not
/// at every poll; a shard that ends makes it look sooner.
pub const REDESCRIBE: Duration = Duration::from_secs(60);

/// A batch that exhausted its attempts: what AWS sends to the on-failure
/// destination (which records, not the records themselves), plus their keys.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FailedBatch {
    pub consumer: String,
    pub shard_id: String,
    pub first_sequence_number: String,
    pub last_sequence_number: String,
    pub records: usize,
    pub keys: Vec<serde_json::Value>,
    pub reason: String,
}

/// Where checkpoints and failed batches are kept.
#[derive(Debug, Clone)]
pub enum Storage {
    /// For tests: lost with the process.
    Memory,
    /// `stream-checkpoints.json` and `stream-failures.jsonl` in this directory.
    Directory(PathBuf),
}

/// Where the consumers run.
#[derive(Clone)]
pub enum Runner {
    /// Called in this process, on the table the source reads.
    InProcess,
    /// Invoked as the function of the consumer's name through this API.
    Lambda(Box<LambdaInvoke>),
}

/// consumer -> shard -> the last sequence number it is done with.
type Checkpoints = HashMap<String, HashMap<String, String>>;

#[derive(Clone)]
pub struct EventSource {
    inner: Arc<Inner>,
}

struct Inner {
    streams: StreamsClient,
    db: Db,
    consumers: &'static Consumers,
    runner: Runner,
    storage: Storage,
    checkpoints: Mutex<Checkpoints>,
    failures: Mutex<Vec<FailedBatch>>,
    /// Wait before the first retry of a failed batch (doubled each time).
    retry_wait: Duration,
    /// One pass at a time ([`EventSource::drain`] may run beside the
    /// poller), and where the passes have got to.
    pass: tokio::sync::Mutex<Places>,
}

/// What the poller keeps between passes.
#[derive(Default)]
struct Places {
    /// The stream's ARN and shards (parents first), and when they were
    /// described; `None` until then, and after an error.
    stream: Option<(String, Vec<Shard>, Instant)>,
    /// (consumer, shard) -> the iterator to read next; `None` once the
    /// shard has ended and everything in it is done.
    next: HashMap<(&'static str, String), Option<String>>,
}

impl Places {
    /// How many (consumer, shard) places are at the end of a closed shard.
    fn ended(&self) -> usize {
        self.next.values().filter(|place| place.is_none()).count()
    }
}

impl EventSource {
    /// An event source on `db`'s table, reaching its stream through `sdk`
    /// (which carries the endpoint), running the consumers in this process.
    pub fn new(
        sdk: &aws_config::SdkConfig,
        db: Db,
        consumers: &'static Consumers,
        storage: Storage,
    ) -> Result<Self, Error> {
        Self::with_runner(sdk, db, consumers, Runner::InProcess, storage)
    }

    /// The same, with the consumers run by `runner`.
    pub fn with_runner(
        sdk: &aws_config::SdkConfig,
        db: Db,
        consumers: &'static Consumers,
        runner: Runner,
        storage: Storage,
    ) -> Result<Self, Error> {
        let checkpoints = match &storage {
            Storage::Memory => Checkpoints::default(),
            Storage::Directory(dir) => match std::fs::read(dir.join(CHECKPOINTS)) {
                Ok(bytes) => serde_json::from_slice(&bytes)?,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => Checkpoints::default(),
                Err(err) => return Err(err.into()),
            },
        };
        Ok(Self {
            inner: Arc::new(Inner {
                streams: StreamsClient::new(sdk),
                db,
                consumers,
                runner,
                storage,
                checkpoints: Mutex::new(checkpoints),
                failures: Mutex::new(vec![]),
                retry_wait: Duration::from_millis(20),
                pass: tokio::sync::Mutex::new(Places::default()),
            }),
        })
    }

    /// Batches that went to the on-failure destination since this started.
    pub fn failures(&self) -> Vec<FailedBatch> {
        self.inner.failures.lock().unwrap().clone()
    }

    /// How many failed batches the destination file holds (from earlier
    /// runs too); `make dev` reports it at start.
    pub fn recorded_failures(&self) -> usize {
        match &self.inner.storage {
            Storage::Memory => self.failures().len(),
            Storage::Directory(dir) => std::fs::read_to_string(dir.join(FAILURES))
                .map(|text| text.lines().count())
                .unwrap_or(0),
        }
    }

    /// Runs every consumer over everything in the stream, until a pass
    /// finds nothing new (the consumers' own writes make records too, which
    /// they do not take). Returns how many records were read.
    pub async fn drain(&self) -> Result<usize, Error> {
        let mut total = 0;
        loop {
            let read = self.pass(true).await?;
            if read == 0 {
                return Ok(total);
            }
            total += read;
        }
    }

    /// Polls the stream every `interval`, forever (Lambda polls each shard
    /// about four times a second). Errors are logged and the poll goes on.
    pub async fn run(self, interval: Duration) {
        loop {
            if let Err(err) = self.pass(false).await {
                tracing::warn!(error = %err, "reading the table's stream failed; retrying");
            }
            tokio::time::sleep(interval).await;
        }
    }

    /// One pass of every consumer over every shard; returns the records
    /// read. The stream is described first if `describe`, or if what is
    /// known of it is missing or older than [`REDESCRIBE`].
    async fn pass(&self, describe: bool) -> Result<usize, Error> {
        let mut places = self.inner.pass.lock().await;
        let read = self.read_all(&mut places, describe).await;
        if read.is_err() {
            // Described and placed afresh next time (the table may be new,
            // an iterator expired): the checkpoints say where to resume.
            *places = Places::default();
        }
        read
    }

    /// [`Self::pass`]'s work, from and to `places`.
    async fn read_all(&self, places: &mut Places, describe: bool) -> Result<usize, Error> {
        let stale = match &places.stream {
            Some((_, _, described)) => describe || described.elapsed() >= REDESCRIBE,
            None => true,
        };
        if stale {
            let Some(arn) = self.stream_arn().await? else {
                *places = Places::default();
                return Ok(0);
            };
            let shards = self.shards(&arn).await?;
            if places
                .stream
                .as_ref()
                .is_some_and(|(known, ..)| *known != arn)
            {
                places.next.clear();
            }
            // Shards trimmed away are forgotten.
            places
                .next
                .retain(|(_, id), _| shards.iter().any(|s| s.shard_id() == Some(id.as_str())));
            places.stream = Some((arn, shards, Instant::now()));
        }
        let Some((arn, shards, _)) = places.stream.clone() else {
            return Ok(0);
        };
        let ended = places.ended();
        let mut read = 0;
        for consumer in self.inner.consumers {
            for shard in &shards {
                read += self
                    .read_shard(consumer, &arn, shard, &mut places.next)
                    .await?;
            }
        }
        if places.ended() > ended {
            // A shard has ended: its children are found by describing again.
            places.stream = None;
        }
        Ok(read)
    }

    async fn stream_arn(&self) -> Result<Option<String>, Error> {
        let table = self
            .inner
            .db
            .client
            .describe_table()
            .table_name(&self.inner.db.table)
            .send()
            .await?;
        Ok(table
            .table()
            .and_then(|t| t.latest_stream_arn())
            .map(str::to_owned))
    }

    /// The stream's shards, parents before children (by their first
    /// sequence number), so that records of one item stay in order.
    async fn shards(&self, arn: &str) -> Result<Vec<Shard>, Error> {
        let mut shards = vec![];
        let mut start: Option<String> = None;
        loop {
            let out = self
                .inner
                .streams
                .describe_stream()
                .stream_arn(arn)
                .set_exclusive_start_shard_id(start.clone())
                .send()
                .await?;
            let Some(description) = out.stream_description else {
                break;
            };
            shards.extend(description.shards.unwrap_or_default());
            start = description.last_evaluated_shard_id;
            if start.is_none() {
                break;
            }
        }
        shards.sort_by_key(|shard| {
            shard
                .sequence_number_range()
                .and_then(|r| r.starting_sequence_number())
                .map(|n| (n.len(), n.to_owned()))
        });
        Ok(shards)
    }

    /// Delivers to `consumer` what it has not done yet of one shard, from
    /// its place in `next` (or else its checkpoint), and leaves its new
    /// place there.
    async fn read_shard(
        &self,
        consumer: &'static Consumer,
        arn: &str,
        shard: &Shard,
        next: &mut HashMap<(&'static str, String), Option<String>>,
    ) -> Result<usize, Error> {
        let shard_id = shard.shard_id().unwrap_or_default().to_owned();
        let place = (consumer.name, shard_id.clone());
        let mut position = match next.get(&place) {
            // Ended, and all of it done.
            Some(None) => return Ok(0),
            Some(Some(iterator)) => Some(iterator.clone()),
            None => self.first_iterator(consumer, arn, &shard_id).await?,
        };
        let mut read = 0;
        while let Some(iterator) = position {
            let out = self
                .inner
                .streams
                .get_records()
                .shard_iterator(&iterator)
                .limit(READ_LIMIT)
                .send()
                .await?;
            let records = out.records.unwrap_or_default();
            if records.is_empty() {
                // Caught up with an open shard (its next iterator is where
                // the next poll reads), or at the end of a closed one (none).
                position = out.next_shard_iterator;
                break;
            }
            read += records.len();
            let records: Vec<EventRecord> = records
                .iter()
                .map(|record| event_record(record, arn))
                .collect();
            let accepted: Vec<EventRecord> = records
                .iter()
                .filter(|record| consumer.accepts(record))
                .cloned()
                .collect();
            for batch in accepted.chunks(consumer.batch_size as usize) {
                self.deliver(consumer, &shard_id, batch.to_vec()).await;
                let last = batch.last().and_then(|r| r.change.sequence_number.clone());
                self.set_checkpoint(consumer, &shard_id, last)?;
            }
            let last = records
                .last()
                .and_then(|r| r.change.sequence_number.clone());
            self.set_checkpoint(consumer, &shard_id, last)?;
            position = out.next_shard_iterator;
        }
        next.insert(place, position);
        Ok(read)
    }

    /// Where `consumer` starts in a shard it has no place in yet: after its
    /// checkpoint, or at the oldest record.
    async fn first_iterator(
        &self,
        consumer: &'static Consumer,
        arn: &str,
        shard_id: &str,
    ) -> Result<Option<String>, Error> {
        let checkpoint = self.checkpoint(consumer, shard_id);
        match self.iterator(arn, shard_id, checkpoint.as_deref()).await {
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_trimmed_data_access_exception()) =>
            {
                // Stopped for longer than the stream keeps records: what
                // was trimmed is lost, as it would be in AWS.
                tracing::warn!(
                    consumer = consumer.name,
                    "the stream no longer holds the checkpoint; resuming from its oldest record"
                );
                Ok(self.iterator(arn, shard_id, None).await?)
            }
            other => Ok(other?),
        }
    }

    /// A shard iterator after `checkpoint`, or at the oldest record.
    async fn iterator(
        &self,
        arn: &str,
        shard_id: &str,
        checkpoint: Option<&str>,
    ) -> Result<Option<String>, SdkError<GetShardIteratorError>> {
        let request = self
            .inner
            .streams
            .get_shard_iterator()
            .stream_arn(arn)
            .shard_id(shard_id);
        let request = match checkpoint {
            Some(done) => request
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .sequence_number(done),
            None => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
        };
        Ok(request.send().await?.shard_iterator)
    }

    /// Runs one batch to completion with the mapping's rules: retried from
    /// a failed record, halved after a crash, and what still fails after
    /// its attempts sent to the destination.
    async fn deliver(&self, consumer: &'static Consumer, shard_id: &str, batch: Vec<EventRecord>) {
        let mut queue = VecDeque::from([(batch, 0u32)]);
        while let Some((records, failed_attempts)) = queue.pop_front() {
            let attempts = failed_attempts + 1;
            match self.invoke(consumer, records.clone()).await {
                Ok(None) => {}
                Ok(Some(failed)) => {
                    // Retried from the failed record; the ones before it are done.
                    let from = records
                        .iter()
                        .position(|r| r.change.sequence_number.as_deref() == Some(failed.as_str()))
                        .unwrap_or(0);
                    let rest = records[from..].to_vec();
                    if attempts < consumer.max_attempts {
                        self.back_off(attempts).await;
                        queue.push_front((rest, attempts));
                    } else {
                        self.send_to_destination(
                            consumer,
                            shard_id,
                            &rest,
                            "a record kept failing",
                        );
                    }
                }
                Err(crash) if records.len() > 1 => {
                    // BisectBatchOnFunctionError: each half retried alone.
                    self.back_off(attempts).await;
                    let mut first = records;
                    let second = first.split_off(first.len() / 2);
                    queue.push_front((second, attempts));
                    queue.push_front((first, attempts));
                    tracing::warn!(consumer = consumer.name, %crash, "batch halved after a crash");
                }
                Err(crash) if attempts < consumer.max_attempts => {
                    self.back_off(attempts).await;
                    queue.push_front((records, attempts));
                    tracing::warn!(consumer = consumer.name, %crash, "record retried after a crash");
                }
                Err(crash) => self.send_to_destination(consumer, shard_id, &records, &crash),
            }
        }
    }

    /// The wait before a retry: doubled with each attempt.
    async fn back_off(&self, attempts: u32) {
        tokio::time::sleep(self.inner.retry_wait * 2u32.pow(attempts.min(6))).await;
    }

    /// Invokes the consumer on a batch as Lambda would. In this process it
    /// runs in a task of its own, so that a panic is a crash of the
    /// function, not of the poller. Returns the first failed record's
    /// sequence number, if any.
    async fn invoke(
        &self,
        consumer: &'static Consumer,
        records: Vec<EventRecord>,
    ) -> Result<Option<String>, String> {
        let response: DynamoDbEventResponse = match &self.inner.runner {
            Runner::InProcess => {
                let db = self.inner.db.clone();
                let done = tokio::spawn(async move { consumer.run_batch(&db, &records).await })
                    .await
                    .map_err(|crash| format!("the function crashed: {crash}"))?;
                conduit_common::telemetry::traces::export().await;
                done
            }
            Runner::Lambda(lambda) => {
                let mut event = Event::default();
                event.records = records;
                lambda.invoke(consumer.name, &event).await?
            }
        };
        Ok(response
            .batch_item_failures
            .into_iter()
            .find_map(|failure| failure.item_identifier))
    }

    fn send_to_destination(
        &self,
        consumer: &Consumer,
        shard_id: &str,
        records: &[EventRecord],
        reason: &str,
    ) {
        let sequence = |r: Option<&EventRecord>| {
            r.and_then(|r| r.change.sequence_number.clone())
                .unwrap_or_default()
        };
        let failed = FailedBatch {
            consumer: consumer.name.to_owned(),
            shard_id: shard_id.to_owned(),
            first_sequence_number: sequence(records.first()),
            last_sequence_number: sequence(records.last()),
            records: records.len(),
            keys: records
                .iter()
                .map(|r| serde_json::to_value(&r.change.keys).unwrap_or_default())
                .collect(),
            reason: reason.to_owned(),
        };
        tracing::error!(
            consumer = consumer.name,
            first_sequence_number = %failed.first_sequence_number,
            records = failed.records,
            "stream batch given up on; sent to the on-failure destination",
        );
        if let Storage::Directory(dir) = &self.inner.storage {
            use std::io::Write;
            let line = serde_json::to_string(&failed).unwrap_or_default();
            let written = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(dir.join(FAILURES))
                .and_then(|mut file| writeln!(file, "{line}"));
            if let Err(err) = written {
                tracing::error!(error = %err, "cannot record the failed batch");
            }
        }
        self.inner.failures.lock().unwrap().push(failed);
    }

    fn checkpoint(&self, consumer: &Consumer, shard_id: &str) -> Option<String> {
        let checkpoints = self.inner.checkpoints.lock().unwrap();
        checkpoints.get(consumer.name)?.get(shard_id).cloned()
    }

    fn set_checkpoint(
        &self,
        consumer: &Consumer,
        shard_id: &str,
        done: Option<String>,
    ) -> Result<(), Error> {
        let Some(done) = done else { return Ok(()) };
        let mut checkpoints = self.inner.checkpoints.lock().unwrap();
        checkpoints
            .entry(consumer.name.to_owned())
            .or_default()
            .insert(shard_id.to_owned(), done);
        if let Storage::Directory(dir) = &self.inner.storage {
            // Written whole, then renamed: a crash leaves the old or the new.
            let path = dir.join(CHECKPOINTS);
            let temporary = path.with_extension("json.tmp");
            std::fs::write(&temporary, serde_json::to_vec_pretty(&*checkpoints)?)?;
            std::fs::rename(temporary, path)?;
        }
        Ok(())
    }
}

const CHECKPOINTS: &str = "stream-checkpoints.json";
const FAILURES: &str = "stream-failures.jsonl";

/// A record as the Streams API gives it, in the shape Lambda hands the
/// function (`aws_lambda_events`), with images converted by `serde_dynamo`.
fn event_record(record: &Record, arn: &str) -> EventRecord {
    let mut out = EventRecord::default();
    out.event_id = record.event_id().unwrap_or_default().to_owned();
    out.event_name = record
        .event_name()
        .map(|name| name.as_str().to_owned())
        .unwrap_or_default();
    out.event_source = record.event_source().map(str::to_owned);
    out.event_version = record.event_version().map(str::to_owned);
    out.aws_region = record.aws_region().unwrap_or_default().to_owned();
    out.event_source_arn = Some(arn.to_owned());
    out.user_identity = record.user_identity().map(|who| {
        let mut identity = UserIdentity::default();
        identity.type_ = who.r#type().unwrap_or_default().to_owned();
        identity.principal_id = who.principal_id().unwrap_or_default().to_owned();
        identity
    });
    if let Some(change) = record.dynamodb() {
        let image = |item: Option<&HashMap<String, _>>| {
            item.cloned()
                .map(serde_dynamo::Item::from)
                .unwrap_or_default()
        };
        out.change.keys = image(change.keys.as_ref());
        out.change.new_image = image(change.new_image.as_ref());
        out.change.old_image = image(change.old_image.as_ref());
        out.change.sequence_number = change.sequence_number.clone();
        let created = change.approximate_creation_date_time;
        if let Some(created) = created.and_then(|at| std::time::SystemTime::try_from(at).ok()) {
            out.change.approximate_creation_date_time = created.into();
        }
        out.change.size_bytes = change.size_bytes.unwrap_or_default();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Table;
    use axum::body::{Body, to_bytes};
    use axum::extract::{Request, State};
    use axum::response::Response;
    use http_body_util::{BodyExt, Full};
    use hyper::body::Bytes;
    use hyper_util::client::legacy::Client;
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::rt::TokioExecutor;

    type Calls = Arc<Mutex<Vec<String>>>;

    #[derive(Clone)]
    struct Proxy {
        engine: String,
        client: Client<HttpConnector, Full<Bytes>>,
        calls: Calls,
    }

    /// Passes a request on to the engine, noting which call it is.
    async fn pass_on(State(proxy): State<Proxy>, request: Request) -> Response {
        let (parts, body) = request.into_parts();
        if let Some(target) = parts.headers.get("x-amz-target") {
            let call = target.to_str().unwrap_or_default();
            let call = call.rsplit('.').next().unwrap_or_default().to_owned();
            proxy.calls.lock().unwrap().push(call);
        }
        let body = to_bytes(body, usize::MAX).await.unwrap();
        let mut onward = hyper::Request::builder()
            .method(parts.method)
            .uri(format!("{}{}", proxy.engine, parts.uri));
        for (name, value) in &parts.headers {
            onward = onward.header(name, value);
        }
        let answer = proxy
            .client
            .request(onward.body(Full::new(body)).unwrap())
            .await
            .unwrap();
        let (parts, body) = answer.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        Response::from_parts(parts, Body::from(body))
    }

    /// The embedded engine, reached through a proxy that notes each call.
    async fn engine_noting_calls() -> (String, Calls) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let engine = format!("http://{}", listener.local_addr().unwrap());
        let database = dynoxide::Database::memory().unwrap();
        tokio::spawn(dynoxide::server::serve_on(listener, database));
        let calls = Calls::default();
        let proxy = Proxy {
            engine,
            client: Client::builder(TokioExecutor::new()).build_http(),
            calls: calls.clone(),
        };
        let app = axum::Router::new().fallback(pass_on).with_state(proxy);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (endpoint, calls)
    }

    #[tokio::test]
    async fn a_poll_reads_on_from_where_the_last_one_stopped() {
        let (endpoint, calls) = engine_noting_calls().await;
        let table = Table::at(&endpoint).await;
        table.put("1").await;
        calls.lock().unwrap().clear();
        let consumers = functions::CONSUMERS;
        let source =
            EventSource::new(&table.sdk, table.db.clone(), consumers, Storage::Memory).unwrap();
        assert_eq!(source.pass(false).await.unwrap(), consumers.len());
        let first = std::mem::take(&mut *calls.lock().unwrap());
        let mut expected = vec!["DescribeTable", "DescribeStream"];
        for _ in consumers {
            expected.extend(["GetShardIterator", "GetRecords", "GetRecords"]);
        }
        assert_eq!(first, expected);

        // Idle: one GetRecords a consumer, from where it stopped.
        for _ in 0..3 {
            assert_eq!(source.pass(false).await.unwrap(), 0);
        }
        let idle = std::mem::take(&mut *calls.lock().unwrap());
        assert_eq!(idle, vec!["GetRecords"; 3 * consumers.len()]);

        // What is new, and only that, is read the same way.
        table.put("2").await;
        calls.lock().unwrap().clear();
        assert_eq!(source.pass(false).await.unwrap(), consumers.len());
        let busy = std::mem::take(&mut *calls.lock().unwrap());
        assert!(busy.iter().all(|call| call == "GetRecords"), "{busy:?}");

        // A drain describes the stream again, and finds nothing left.
        assert_eq!(source.drain().await.unwrap(), 0);
        assert!(calls.lock().unwrap().contains(&"DescribeStream".to_owned()));
    }
}
