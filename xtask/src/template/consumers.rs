//! The event-driven half of the template, generated from the consumer
//! table (`functions/src/consumers.rs`): for each consumer its function,
//! role, log group, event source mapping on the table's stream (with the
//! consumer's filters) and iterator-age alarm; and, shared, the encrypted
//! queue that receives the batches they give up on, with its alarm.

use conduit_common::events::Consumer;

use super::{alarm, deployment, function_head, log_group, logical_id, one_metric, role};

/// The longest a record may wait for its consumer, retries included, before
/// it goes to the on-failure queue instead (the stream keeps 24 hours).
const MAXIMUM_RECORD_AGE_SECONDS: u32 = 6 * 60 * 60;

/// Wall-clock time of one batch: a fan-out to thousands of feeds takes a
/// few seconds; the API's 10 s would cut it short.
const TIMEOUT_SECONDS: u32 = 120;

/// Every consumer's resources, then the shared queue and its alarm.
pub fn consumers(consumers: &[&Consumer]) -> String {
    let mut out = String::from(
        "\n  # ------------------------------------------------- stream consumers\n\
         \x20 # Each: the function, its own role (only consumers read the stream),\n\
         \x20 # its log group, and an alarm on how far behind the stream it is.\n",
    );
    for consumer in consumers {
        out.push_str(&consumer_resources(consumer));
    }
    let watched = one_metric(
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        ["QueueName", "!GetAtt StreamFailuresQueue.QueueName"],
        "Statistic: Maximum",
        300,
    );
    let description =
        "${AWS::StackName}: a stream consumer gave up on a batch (see StreamFailuresQueue)";
    out + SHARED
        + "\n"
        + &alarm(
            "StreamFailuresAlarm",
            description,
            &watched,
            (1, None),
            "0",
            true,
        )
}

const SHARED: &str = r#"
  # Batches a consumer gave up on (after its retries, or older than the
  # maximum record age): their shard and sequence numbers, kept 14 days, so
  # they can be replayed from the stream's archive or repaired by hand.
  StreamFailuresQueue:
    Type: AWS::SQS::Queue
    Properties:
      # Encrypted with the AWS managed key: its key policy lets any role of
      # the account that may send to the queue use it, so the consumers
      # need no KMS permission of their own.
      KmsMasterKeyId: alias/aws/sqs
      MessageRetentionPeriod: 1209600
      Tags:
        - { Key: app, Value: conduit }
        - { Key: environment, Value: !Ref Environment }
"#;

/// What a consumer's role may do beyond its logs and traces.
const STATEMENTS: &str = r#"              - Sid: ReadTheTablesStream
                Effect: Allow
                Action:
                  - dynamodb:DescribeStream
                  - dynamodb:GetRecords
                  - dynamodb:GetShardIterator
                  - dynamodb:ListStreams
                Resource: !GetAtt Table.StreamArn
              - Sid: RecordFailedBatches
                Effect: Allow
                Action: sqs:SendMessage
                Resource: !GetAtt StreamFailuresQueue.Arn
"#;

fn consumer_resources(consumer: &Consumer) -> String {
    let name = consumer.name;
    let id = logical_id(name);
    let head = function_head(
        &format!("  # Stream consumer: {}\n", consumer.summary),
        name,
        [
            "no reserved concurrency; one invocation per shard at a time",
            "stream-invoked: failed batches go to the mapping's on-failure queue",
        ],
        "stream consumer",
        &format!("      Role: !GetAtt {id}Role.Arn\n      Timeout: {TIMEOUT_SECONDS}\n"),
    );
    // JSON inside a single-quoted YAML string: quotes are doubled.
    let filters: String = consumer
        .filters
        .iter()
        .map(|filter| filter.pattern().to_string().replace('\'', "''"))
        .map(|pattern| format!("                - Pattern: '{pattern}'\n"))
        .collect();
    format!(
        r#"{head}      Events:
        Stream:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Table.StreamArn
            StartingPosition: TRIM_HORIZON
            BatchSize: {batch_size}
            MaximumBatchingWindowInSeconds: 1
            # The function reports the first record it failed on; only
            # that one and the ones after it are retried.
            FunctionResponseTypes: [ReportBatchItemFailures]
            BisectBatchOnFunctionError: true
            MaximumRetryAttempts: {retries}
            MaximumRecordAgeInSeconds: {MAXIMUM_RECORD_AGE_SECONDS}
            FilterCriteria:
              Filters:
{filters}            DestinationConfig:
              OnFailure:
                Destination: !GetAtt StreamFailuresQueue.Arn

  # Its own role, not SAM's: SAM would attach AWSLambdaDynamoDBExecutionRole,
  # which reads every stream in the account.
{role}
{log_group}
{alarm}{rollback}"#,
        batch_size = consumer.batch_size,
        retries = consumer.max_attempts - 1,
        role = role(&id, true, "stream-consumer", STATEMENTS),
        log_group = log_group(&id, name),
        rollback = deployment::rollback_alarm(&id, name, &[]),
        alarm = iterator_age_alarm(&id, name),
    )
}

/// Its alarm on Lambda's `IteratorAge`. (Its own `StreamLag` says the same
/// from inside, but only for a batch it ran to the end: no alarm on that.)
fn iterator_age_alarm(id: &str, name: &str) -> String {
    let watched = one_metric(
        "AWS/Lambda",
        "IteratorAge",
        ["FunctionName", &format!("!Ref {id}Function")],
        "Statistic: Maximum",
        60,
    );
    let description = format!(
        "${{AWS::StackName}} {name}: more than ${{StreamLagThresholdMs}} ms behind the table's stream"
    );
    let comment = "  # How old the newest record it has processed was when it got it: a\n  \
                   # consumer falling behind (or stuck retrying) shows here first.\n";
    comment.to_owned()
        + &alarm(
            &format!("{id}IteratorAgeAlarm"),
            &description,
            &watched,
            (5, Some(3)),
            "!Ref StreamLagThresholdMs",
            true,
        )
}
