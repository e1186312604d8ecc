//! The scheduled jobs' part of the template, generated from the job table
//! (`functions/src/jobs.rs`): for each job its function, invoked by an
//! EventBridge schedule, its role, its log group and the alarm on its
//! metric.

use std::fmt::Write;

use conduit_common::events::{Job, JobAccess};
use conduit_common::telemetry::metrics::NAMESPACE;

use super::{log_group, logical_id};

/// A run's longest: Lambda's limit. A run cut short by it is done again,
/// whole, by the next (each fix is conditional, so nothing is done twice).
const TIMEOUT_SECONDS: u32 = 900;

/// Every job's resources.
pub fn jobs(jobs: &[&Job]) -> String {
    let mut out =
        String::from("\n  # ------------------------------------------------- scheduled jobs\n");
    for job in jobs {
        job_resources(&mut out, job);
    }
    out
}

fn job_resources(out: &mut String, job: &Job) {
    let name = job.name;
    let id = logical_id(name);
    let (metric, meaning) = job.alarm;
    write!(
        out,
        r#"
  # Scheduled job: {summary}
  {id}Function:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: rust-cargolambda
      BuildProperties:
        Binary: {name}
      checkov:
        skip: # why: see "checkov skips" at the top of this file
          - {{ id: CKV_AWS_115, comment: "no reserved concurrency; one run a schedule" }}
          - {{ id: CKV_AWS_116, comment: "invoked by its schedule; a failed run is counted in Errors and done again by the next" }}
          - {{ id: CKV_AWS_117, comment: "no VPC; talks only to public AWS endpoints under IAM" }}
          - {{ id: CKV_AWS_173, comment: "environment holds no secrets; AWS-managed key at rest" }}
    Properties:
      Description: !Sub "${{AWS::StackName}} {name}: scheduled job"
      Role: !GetAtt {id}Role.Arn
      Timeout: {TIMEOUT_SECONDS}
      LoggingConfig:
        LogGroup: !Ref {id}LogGroup
{deployment_preference}      Events:
        Schedule:
          Type: Schedule
          Properties:
            Schedule: {schedule}

  {id}Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {{ Service: lambda.amazonaws.com }}
            Action: sts:AssumeRole
{managed_policies}      Policies:
        - PolicyName: scheduled-job
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
{access_statements}              - Sid: WriteItsLogs
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
  # Every run writes its {metric}; above zero is worth a look.
  {id}Alarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmDescription: !Sub "${{AWS::StackName}} {name}: {meaning}"
      Namespace: {NAMESPACE}
      MetricName: {metric}
      Dimensions:
        - {{ Name: Service, Value: !Ref AWS::StackName }}
      Statistic: Sum
      Period: 86400
      EvaluationPeriods: 1
      Threshold: 0
      ComparisonOperator: GreaterThanThreshold
      TreatMissingData: notBreaching
      AlarmActions:
        - !Ref AlarmTopic
"#,
        summary = job.summary,
        schedule = job.schedule,
        managed_policies = managed_policies(job.access),
        access_statements = access_statements(job.access),
        log_group = log_group(&id, name),
        deployment_preference = super::deployment::deployment_preference(&id),
    )
    .expect("writing to a String cannot fail");
    super::deployment::rollback_alarm(out, &id, name, &[]);
}

/// The table policies of head.yaml, for a job on the table.
fn managed_policies(access: JobAccess) -> &'static str {
    match access {
        JobAccess::Table => {
            "      ManagedPolicyArns:\n        - !Ref ReadAccessPolicy\n        - !Ref WriteAccessPolicy\n"
        }
        JobAccess::SigningKeys => "",
    }
}

/// A job's own statements beyond its logs and traces: for the key
/// rotation, reading and replacing the key set's SecureString (decrypted
/// and encrypted only through SSM, only for that parameter).
fn access_statements(access: JobAccess) -> &'static str {
    match access {
        JobAccess::Table => "",
        JobAccess::SigningKeys => {
            r#"              - Sid: RotateSigningKeys
                Effect: Allow
                Action:
                  - ssm:GetParameter
                  - ssm:PutParameter
                Resource: !Sub "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${JwtSecretParameterName}"
              - Sid: EncryptSigningKeys
                Effect: Allow
                Action:
                  - kms:Decrypt
                  - kms:Encrypt
                  - kms:GenerateDataKey
                Resource: !Sub "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*"
                Condition:
                  StringEquals:
                    kms:ViaService: !Sub "ssm.${AWS::Region}.amazonaws.com"
                    kms:EncryptionContext:PARAMETER_ARN: !Sub "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${JwtSecretParameterName}"
"#
        }
    }
}
