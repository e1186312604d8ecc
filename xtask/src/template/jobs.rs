//! The scheduled jobs' part of the template, generated from the job table
//! (`functions/src/jobs.rs`): for each job its function, invoked by an
//! EventBridge schedule, its role, its log group and the alarm on its
//! metric.

use conduit_common::events::{Job, JobAccess};
use conduit_common::telemetry::metrics::NAMESPACE;

use super::{alarm, deployment, function_head, log_group, logical_id, one_metric, role};

/// A run's longest: Lambda's limit. A run cut short by it is done again,
/// whole, by the next (each fix is conditional, so nothing is done twice).
const TIMEOUT_SECONDS: u32 = 900;

/// Every job's resources.
pub fn jobs(jobs: &[&Job]) -> String {
    let mut out =
        String::from("\n  # ------------------------------------------------- scheduled jobs\n");
    for job in jobs {
        out.push_str(&job_resources(job));
    }
    out
}

/// What the key rotation's role may do beyond its logs and traces: read and
/// replace the key set's SecureString (decrypted and encrypted only through
/// SSM, only for that parameter).
const SIGNING_KEYS: &str = r#"              - Sid: RotateSigningKeys
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
"#;

fn job_resources(job: &Job) -> String {
    let name = job.name;
    let id = logical_id(name);
    let (metric, meaning) = job.alarm;
    let watched = one_metric(
        NAMESPACE,
        metric,
        ["Service", "!Ref AWS::StackName"],
        "Statistic: Sum",
        86400,
    );
    let description = format!("${{AWS::StackName}} {name}: {meaning}");
    let head = function_head(
        &format!("  # Scheduled job: {}\n", job.summary),
        name,
        [
            "no reserved concurrency; one run a schedule",
            "invoked by its schedule; a failed run is counted in Errors and done again by the next",
        ],
        "scheduled job",
        &format!("      Role: !GetAtt {id}Role.Arn\n      Timeout: {TIMEOUT_SECONDS}\n"),
    );
    let role = match job.access {
        JobAccess::Table => role(&id, true, "scheduled-job", ""),
        JobAccess::SigningKeys => role(&id, false, "scheduled-job", SIGNING_KEYS),
    };
    format!(
        r#"{head}      Events:
        Schedule:
          Type: Schedule
          Properties:
            Schedule: {schedule}

{role}
{log_group}
  # Every run writes its {metric}; above zero is worth a look.
{alarm}{rollback}"#,
        schedule = job.schedule,
        log_group = log_group(&id, name),
        rollback = deployment::rollback_alarm(&id, name, &[]),
        alarm = alarm(
            &format!("{id}Alarm"),
            &description,
            &watched,
            (1, None),
            "0",
            true
        ),
    )
}
