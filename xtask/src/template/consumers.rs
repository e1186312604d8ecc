//! The event-driven half of the template, generated from the consumer
//! table (`functions/src/consumers.rs`): for each consumer its function,
//! role, log group, event source mapping on the table's stream (with the
//! consumer's filters) and iterator-age alarm; and, shared, the encrypted
//! queue that receives the batches they give up on, with its alarm.

use std::fmt::Write;

use conduit_common::events::Consumer;

use super::{log_group, logical_id};

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
        consumer_resources(&mut out, consumer);
    }
    out.push_str(SHARED);
    out
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

  StreamFailuresAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmDescription: !Sub "${AWS::StackName}: a stream consumer gave up on a batch (see StreamFailuresQueue)"
      Namespace: AWS/SQS
      MetricName: ApproximateNumberOfMessagesVisible
      Dimensions:
        - Name: QueueName
          Value: !GetAtt StreamFailuresQueue.QueueName
      Statistic: Maximum
      Period: 300
      EvaluationPeriods: 1
      Threshold: 0
      ComparisonOperator: GreaterThanThreshold
      TreatMissingData: notBreaching
      AlarmActions:
        - !Ref AlarmTopic
"#;

/// The event source mapping's filter patterns, one per line.
fn filters(consumer: &Consumer) -> String {
    consumer
        .filters
        .iter()
        .map(|filter| {
            // JSON inside a single-quoted YAML string: quotes are doubled.
            let pattern = filter.pattern().to_string().replace('\'', "''");
            format!("                - Pattern: '{pattern}'\n")
        })
        .collect()
}

fn consumer_resources(out: &mut String, consumer: &Consumer) {
    let name = consumer.name;
    let id = logical_id(name);
    let filters = filters(consumer);
    write!(
        out,
        r#"
  # Stream consumer: {summary}
  {id}Function:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: rust-cargolambda
      BuildProperties:
        Binary: {name}
      checkov:
        skip: # why: see "checkov skips" at the top of this file
          - {{ id: CKV_AWS_115, comment: "no reserved concurrency; one invocation per shard at a time" }}
          - {{ id: CKV_AWS_116, comment: "stream-invoked: failed batches go to the mapping's on-failure queue" }}
          - {{ id: CKV_AWS_117, comment: "no VPC; talks only to public AWS endpoints under IAM" }}
          - {{ id: CKV_AWS_173, comment: "environment holds no secrets; AWS-managed key at rest" }}
    Properties:
      Description: !Sub "${{AWS::StackName}} {name}: stream consumer"
      Role: !GetAtt {id}Role.Arn
      Timeout: {TIMEOUT_SECONDS}
      LoggingConfig:
        LogGroup: !Ref {id}LogGroup
{deployment_preference}      Events:
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
  {id}Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {{ Service: lambda.amazonaws.com }}
            Action: sts:AssumeRole
      ManagedPolicyArns:
        - !Ref ReadAccessPolicy
        - !Ref WriteAccessPolicy
      Policies:
        - PolicyName: stream-consumer
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Sid: ReadTheTablesStream
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
              - Sid: WriteItsLogs
                Effect: Allow
                Action:
                  - logs:CreateLogStream
                  - logs:PutLogEvents
                Resource: !GetAtt {id}LogGroup.Arn
              # X-Ray accepts no narrower resource for these.
              - Sid: SendTraces
                Effect: Allow
                Action:
                  - xray:PutTraceSegments
                  - xray:PutTelemetryRecords
                Resource: "*"

{log_group}
  # How old the newest record it has processed was when it got it: a
  # consumer falling behind (or stuck retrying) shows here first.
  {id}IteratorAgeAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmDescription: !Sub "${{AWS::StackName}} {name}: more than ${{StreamLagThresholdMs}} ms behind the table's stream"
      Namespace: AWS/Lambda
      MetricName: IteratorAge
      Dimensions:
        - Name: FunctionName
          Value: !Ref {id}Function
      Statistic: Maximum
      Period: 60
      EvaluationPeriods: 5
      DatapointsToAlarm: 3
      Threshold: !Ref StreamLagThresholdMs
      ComparisonOperator: GreaterThanThreshold
      TreatMissingData: notBreaching
      AlarmActions:
        - !Ref AlarmTopic
"#,
        summary = consumer.summary,
        log_group = log_group(&id, name),
        batch_size = consumer.batch_size,
        retries = consumer.max_attempts - 1,
        deployment_preference = super::deployment::deployment_preference(&id),
    )
    .expect("writing to a String cannot fail");
    super::deployment::rollback_alarm(out, &id, name, &[]);
}
