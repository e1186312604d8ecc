//! `infra/template.yaml`, generated from the route table and the consumer
//! table, so a new route or consumer cannot be forgotten in the
//! infrastructure. The shared resources are plain YAML in `head.yaml` and
//! `tail.yaml`; only the per-route resources, the stream consumers'
//! ([`consumers`]), the scheduled jobs' ([`jobs`]), and the dashboard and
//! alarms on the functions' own metrics ([`monitoring`]), are generated here.
//! The edge ([`edge`]): CloudFront in this template, and its companion
//! stack `infra/edge.yaml` (the web ACL and the certificate, in us-east-1).

mod consumers;
pub(crate) mod deployment;
pub(crate) mod edge;
mod jobs;
mod monitoring;

use std::fmt::Write;

use conduit_common::events::Consumer;
use conduit_common::http::{Route, TableAccess, by_function};

use monitoring::monitoring;

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
        function(&mut out, name, &served);
    }
    out.push_str(&consumers::consumers(stream_consumers));
    out.push_str(&jobs::jobs(functions::JOBS));
    out.push_str(&include_str!("tail.yaml").replace("{{MONITORING}}\n", &monitoring(routes)));
    out
}

/// The name of every function of the template: one per route's function,
/// consumer and job. Its logical id is `<logical_id(name)>Function`.
pub(crate) fn function_names() -> impl Iterator<Item = &'static str> {
    by_function(functions::ROUTES)
        .into_iter()
        .map(|(name, _)| name)
        .chain(functions::CONSUMERS.iter().map(|consumer| consumer.name))
        .chain(functions::JOBS.iter().map(|job| job.name))
}

/// IAM policies (logical IDs in head.yaml) a route's function
/// needs, from its declared table access.
pub(crate) fn policies(route: &Route) -> &'static [&'static str] {
    // The runtime reads the JWT secret at every cold start, whatever the route
    // (common/src/lambda.rs), so even the documentation functions need it.
    match route.deploy.table {
        TableAccess::None => &["JwtSecretAccessPolicy"],
        TableAccess::Read => &["JwtSecretAccessPolicy", "ReadAccessPolicy"],
        TableAccess::ReadWrite => &[
            "JwtSecretAccessPolicy",
            "ReadAccessPolicy",
            "WriteAccessPolicy",
        ],
    }
}

/// The `MemorySize` line for a route that overrides the Globals' 256 MB.
fn memory_size(route: &Route) -> Option<String> {
    route
        .deploy
        .memory
        .map(|(megabytes, why)| format!("{megabytes} # {why}"))
}

/// `create_article` -> `CreateArticle`, the prefix of its logical IDs.
pub(crate) fn logical_id(name: &str) -> String {
    name.split('_')
        .flat_map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase())
                .into_iter()
                .chain(chars)
        })
        .collect()
}

/// Waivers, identical on every function; the reasons are at the top of the template.
const FUNCTION_CHECKOV_SKIPS: &str = r#"      checkov:
        skip: # why: see "checkov skips" at the top of this file
          - { id: CKV_AWS_115, comment: "no reserved concurrency; stage throttling caps load" }
          - { id: CKV_AWS_116, comment: "no DLQ; only invoked synchronously by API Gateway" }
          - { id: CKV_AWS_117, comment: "no VPC; talks only to public AWS endpoints under IAM" }
          - { id: CKV_AWS_173, comment: "environment holds no secrets; AWS-managed key at rest" }
"#;

const LOG_GROUP_CHECKOV_SKIPS: &str = r#"      checkov:
        skip: [{ id: CKV_AWS_158, comment: "AWS-managed encryption at rest; no secrets logged" }]
"#;

/// A function's log group, so that retention is ours, not "never expire".
fn log_group(id: &str, name: &str) -> String {
    format!(
        "  {id}LogGroup:\n    Type: AWS::Logs::LogGroup\n    Metadata:\n{LOG_GROUP_CHECKOV_SKIPS}    \
         Properties:\n      LogGroupName: !Sub /aws/lambda/${{AWS::StackName}}/{name}\n      \
         RetentionInDays: !Ref LogRetentionDays\n"
    )
}

/// One function (serving one route, or several methods of one path), its
/// log group (so retention is ours, not "never expire") and its p99
/// duration alarm. Braces in `${...}` are doubled for `format!`.
fn function(out: &mut String, name: &str, routes: &[&Route]) {
    let id = logical_id(name);
    let route = routes[0];
    // Its routes share one deployment: the first declares it.
    let memory = memory_size(route)
        .map(|size| format!("      MemorySize: {size}\n"))
        .unwrap_or_default();
    let policies: String = policies(route)
        .iter()
        .map(|policy| format!("        - !Ref {policy}\n"))
        .collect();
    let served: Vec<String> = routes
        .iter()
        .map(|route| format!("{} {}", route.method, route.path))
        .collect();
    let comments: String = routes
        .iter()
        .map(|route| format!("  # {} {}: {}\n", route.method, route.path, route.summary))
        .collect();
    let events: String = routes
        .iter()
        .map(|route| {
            let event = match routes.len() {
                1 => "Api".to_owned(),
                _ => format!("Api{}", logical_id(&route.method.as_str().to_lowercase())),
            };
            format!(
                "        {event}:\n          Type: HttpApi\n          Properties:\n            \
                 ApiId: !Ref HttpApi\n            Method: {}\n            Path: {}\n",
                route.method, route.path
            )
        })
        .collect();
    write!(
        out,
        r#"
{comments}  {id}Function:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: rust-cargolambda
      BuildProperties:
        Binary: {name}
{FUNCTION_CHECKOV_SKIPS}    Properties:
      Description: !Sub "${{AWS::StackName}} {name}: {served}"
{memory}      LoggingConfig:
        LogGroup: !Ref {id}LogGroup
{deployment_preference}      Policies:
{policies}      Events:
{events}
{log_group}
  {id}DurationAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmDescription: !Sub "${{AWS::StackName}} {name}: p99 duration above ${{DurationP99ThresholdMs}} ms"
      Namespace: AWS/Lambda
      MetricName: Duration
      Dimensions:
        - Name: FunctionName
          Value: !Ref {id}Function
      ExtendedStatistic: p99
      Period: 300
      EvaluationPeriods: 3
      DatapointsToAlarm: 2
      Threshold: !Ref DurationP99ThresholdMs
      ComparisonOperator: GreaterThanThreshold
      TreatMissingData: notBreaching
      AlarmActions:
        - !Ref AlarmTopic
"#,
        served = served.join(", "),
        log_group = log_group(&id, name),
        deployment_preference = deployment::deployment_preference(&id),
    )
    .expect("writing to a String cannot fail");
    deployment::rollback_alarm(out, &id, name, routes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logical_ids_are_camel_case() {
        assert_eq!(logical_id("create_article"), "CreateArticle");
        assert_eq!(logical_id("openapi"), "Openapi");
        assert_eq!(logical_id("api_docs_asset"), "ApiDocsAsset");
    }

    #[test]
    fn functions_get_the_table_access_and_memory_their_route_declares() {
        let template = sam_template(functions::ROUTES, functions::CONSUMERS);
        let function = |name: &str| {
            let start = template
                .find(&format!("  {}Function:", logical_id(name)))
                .unwrap_or_else(|| panic!("{name} has no function"));
            // A resource ends at the blank line before the next one.
            let end = template[start..].find("\n\n").unwrap() + start;
            template[start..end].to_owned()
        };
        let login = function("login");
        assert!(login.contains("MemorySize: 1024"), "{login}");
        assert!(login.contains("WriteAccessPolicy"), "{login}");
        let tags = function("list_tags");
        assert!(!tags.contains("MemorySize"), "{tags}");
        assert!(tags.contains("ReadAccessPolicy") && !tags.contains("WriteAccessPolicy"));
        let docs = function("api_docs");
        assert!(docs.contains("MemorySize: 128") && !docs.contains("ReadAccessPolicy"));
    }

    #[test]
    fn every_function_deploys_through_the_alias_behind_its_own_rollback_alarm() {
        let template = sam_template(functions::ROUTES, functions::CONSUMERS);
        let globals =
            &template[template.find("Globals:").unwrap()..template.find("Resources:").unwrap()];
        assert!(globals.contains(&format!("AutoPublishAlias: {}", deployment::ALIAS)));
        assert!(globals.contains("Type: !If [IsProd, Canary10Percent10Minutes, AllAtOnce]"));
        let mut count = 0;
        for name in function_names() {
            let id = logical_id(name);
            let start = template.find(&format!("  {id}Function:\n")).unwrap();
            let function = &template[start..start + template[start..].find("\n\n").unwrap()];
            assert!(
                function.contains(&format!("Alarms: [!Ref {id}RollbackAlarm]")),
                "{function}"
            );
            assert!(
                template.contains(&format!("\n  {id}RollbackAlarm:\n")),
                "{id}"
            );
            count += 1;
        }
        assert_eq!(
            count,
            template.matches("Type: AWS::Serverless::Function").count()
        );
    }
}
