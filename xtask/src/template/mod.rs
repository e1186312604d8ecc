//! `infra/template.yaml`, generated from the route, consumer and job tables
//! so that none of them can be forgotten in the infrastructure. The shared
//! resources are plain YAML (`head.yaml`, `tail.yaml`); generated here: each
//! route's function, the consumers' ([`consumers`]), the jobs' ([`jobs`]),
//! the alarms and the dashboard ([`monitoring`]), the edge ([`edge`]).
//! Braces in `${...}` are doubled in the `format!`s.

mod consumers;
pub(crate) mod deployment;
pub(crate) mod edge;
mod jobs;
mod monitoring;

#[cfg(test)]
pub(crate) use monitoring::tests::{alarms, dashboard_in, template};

use conduit_common::events::Consumer;
use conduit_common::http::{Route, TableAccess, by_function};
use monitoring::{alarm, one_metric};

/// The whole `infra/template.yaml`.
pub fn sam_template(routes: &[&Route], stream_consumers: &[&Consumer]) -> String {
    let projection = format!(
        "{{ ProjectionType: INCLUDE, NonKeyAttributes: [{}] }}",
        conduit_common::db::schema::INDEX_ATTRIBUTES.join(", ")
    );
    let mut out = include_str!("head.yaml")
        .replace("{{INDEX_PROJECTION}}", &projection)
        .replace("{{EDGE}}\n", &edge::distribution());
    for (name, served) in by_function(routes) {
        out.push_str(&function(name, &served));
    }
    out.push_str(&consumers::consumers(stream_consumers));
    out.push_str(&jobs::jobs(functions::JOBS));
    let tail = include_str!("tail.yaml");
    let monitoring = monitoring::monitoring(routes, stream_consumers, &(out.clone() + tail));
    out + &tail.replace("{{MONITORING}}\n", &monitoring)
}

/// Every function of the template: a route's function, a consumer or a
/// job. Its logical id is `<logical_id(name)>Function`.
pub(crate) fn function_names() -> impl Iterator<Item = &'static str> {
    let routes = by_function(functions::ROUTES)
        .into_iter()
        .map(|(name, _)| name);
    let consumers = functions::CONSUMERS.iter().map(|consumer| consumer.name);
    routes
        .chain(consumers)
        .chain(functions::JOBS.iter().map(|job| job.name))
}

/// The IAM policies (head.yaml's) a route's function needs, from its
/// declared table access. The runtime reads the JWT secret at every cold
/// start, whatever the route (common/src/lambda.rs).
pub(crate) fn policies(route: &Route) -> &'static [&'static str] {
    let all = [
        "JwtSecretAccessPolicy",
        "ReadAccessPolicy",
        "WriteAccessPolicy",
    ]
    .as_slice();
    match route.deploy.table {
        TableAccess::None => &all[..1],
        TableAccess::Read => &all[..2],
        TableAccess::ReadWrite => all,
    }
}

/// `create_article` -> `CreateArticle`, the prefix of its logical ids.
pub(crate) fn logical_id(name: &str) -> String {
    let capitalized = |word: &str| {
        let mut chars = word.chars();
        chars
            .next()
            .map(|first| first.to_ascii_uppercase())
            .into_iter()
            .chain(chars)
            .collect::<String>()
    };
    name.split('_').map(capitalized).collect()
}

/// A function's resource up to its `Policies` or `Events`, after `comment`:
/// `waivers` its reasons for the checkov skips that depend on how it is
/// invoked (the others: see the top of head.yaml); `what` ends its
/// description; `properties` its own lines. It deploys behind its rollback
/// alarm ([`deployment`]).
fn function_head(
    comment: &str,
    name: &str,
    [concurrency, dlq]: [&str; 2],
    what: &str,
    properties: &str,
) -> String {
    let id = logical_id(name);
    format!(
        r#"
{comment}  {id}Function:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: rust-cargolambda
      BuildProperties:
        Binary: {name}
      checkov:
        skip: # why: see "checkov skips" at the top of this file
          - {{ id: CKV_AWS_115, comment: "{concurrency}" }}
          - {{ id: CKV_AWS_116, comment: "{dlq}" }}
          - {{ id: CKV_AWS_117, comment: "no VPC; talks only to public AWS endpoints under IAM" }}
          - {{ id: CKV_AWS_173, comment: "environment holds no secrets; AWS-managed key at rest" }}
    Properties:
      Description: !Sub "${{AWS::StackName}} {name}: {what}"
{properties}      LoggingConfig:
        LogGroup: !Ref {id}LogGroup
      DeploymentPreference:
        Alarms: [!Ref {id}RollbackAlarm]
"#
    )
}

/// The role of a function not behind the API (SAM's would be too broad):
/// head.yaml's table policies if `table`, and its own `policy` of
/// `statements` (YAML list items), its logs and its traces.
fn role(id: &str, table: bool, policy: &str, statements: &str) -> String {
    let managed = match table {
        true => {
            "      ManagedPolicyArns:\n        - !Ref ReadAccessPolicy\n        - !Ref WriteAccessPolicy\n"
        }
        false => "",
    };
    format!(
        r#"  {id}Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {{ Service: lambda.amazonaws.com }}
            Action: sts:AssumeRole
{managed}      Policies:
        - PolicyName: {policy}
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
{statements}              - Sid: WriteItsLogs
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
"#
    )
}

/// A function's log group, so that retention is ours, not "never expire".
fn log_group(id: &str, name: &str) -> String {
    format!(
        r#"  {id}LogGroup:
    Type: AWS::Logs::LogGroup
    Metadata:
      checkov:
        skip: [{{ id: CKV_AWS_158, comment: "AWS-managed encryption at rest; no secrets logged" }}]
    Properties:
      LogGroupName: !Sub /aws/lambda/${{AWS::StackName}}/{name}
      RetentionInDays: !Ref LogRetentionDays
"#
    )
}

/// One function (serving one route, or several methods of one path), its
/// log group, its p99 duration alarm and its rollback alarm.
fn function(name: &str, routes: &[&Route]) -> String {
    let id = logical_id(name);
    // Its routes share one deployment: the first declares it.
    let memory = (routes[0].deploy.memory)
        .map(|(megabytes, why)| format!("      MemorySize: {megabytes} # {why}\n"))
        .unwrap_or_default();
    let policies: String = policies(routes[0])
        .iter()
        .map(|policy| format!("        - !Ref {policy}\n"))
        .collect();
    let (mut comment, mut served, mut events) = (String::new(), Vec::new(), String::new());
    for route in routes {
        let (method, path) = (&route.method, route.path);
        comment += &format!("  # {method} {path}: {}\n", route.summary);
        served.push(format!("{method} {path}"));
        let event = match routes.len() {
            1 => "Api".to_owned(),
            _ => format!("Api{}", logical_id(&method.as_str().to_lowercase())),
        };
        events += &format!(
            "        {event}:\n          Type: HttpApi\n          Properties:\n            \
             ApiId: !Ref HttpApi\n            Method: {method}\n            Path: {path}\n"
        );
    }
    let waivers = [
        "no reserved concurrency; stage throttling caps load",
        "no DLQ; only invoked synchronously by API Gateway",
    ];
    let head = function_head(&comment, name, waivers, &served.join(", "), &memory);
    let watched = one_metric(
        "AWS/Lambda",
        "Duration",
        ["FunctionName", &format!("!Ref {id}Function")],
        "ExtendedStatistic: p99",
        300,
    );
    let description =
        format!("${{AWS::StackName}} {name}: p99 duration above ${{DurationP99ThresholdMs}} ms");
    let threshold = "!Ref DurationP99ThresholdMs";
    let alarm = alarm(
        &format!("{id}DurationAlarm"),
        &description,
        &watched,
        (3, Some(2)),
        threshold,
        true,
    );
    format!(
        "{head}      Policies:\n{policies}      Events:\n{events}\n{}\n{alarm}{}",
        log_group(&id, name),
        deployment::rollback_alarm(&id, name, routes),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn logical_ids_are_camel_case() {
        assert_eq!(super::logical_id("create_article"), "CreateArticle");
        assert_eq!(super::logical_id("openapi"), "Openapi");
        assert_eq!(super::logical_id("api_docs_asset"), "ApiDocsAsset");
    }
}
