//! Repository chores that are easier in Rust than in shell.
//!
//! `make generate` runs the two generators here, and tests below fail when
//! a committed output is not what its generator makes:
//!
//! - `sam-template` writes `infra/template.yaml` from the route table, so a
//!   new route cannot be forgotten in the infrastructure. The shared
//!   resources are plain YAML in `template_head.yaml` and
//!   `template_tail.yaml`; only the per-route resources are generated here.
//! - `openapi` writes `functions/openapi.json`, which the `openapi` function
//!   serves as it is: no document is built at run time, and that function's
//!   binary does not carry every handler and schema.

use std::fmt::Write;

use conduit_common::http::{Method, Route};

const USAGE: &str = "usage: cargo run -q -p xtask -- sam-template|openapi (or: make generate)";

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("sam-template") => print!("{}", sam_template(functions::ROUTES)),
        Some("openapi") => print!("{}", openapi_json()),
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    }
}

/// Routes that hash passwords with argon2id: CPU-bound, and Lambda's CPU share
/// grows with memory (see the Globals comment in the template).
const PASSWORD_HASHING: &[&str] = &["register", "login", "update_user"];

/// Routes that serve the API's own documentation from the binary: they never
/// touch the table and need little memory.
const DOCUMENTATION: &[&str] = &["openapi", "api_docs", "api_docs_asset"];

/// The whole `functions/openapi.json`.
fn openapi_json() -> String {
    let mut json = functions::openapi::document(functions::ROUTES)
        .to_pretty_json()
        .expect("the OpenAPI document serializes");
    json.push('\n');
    json
}

/// The whole `infra/template.yaml`.
fn sam_template(routes: &[&Route]) -> String {
    let projection = format!(
        "{{ ProjectionType: INCLUDE, NonKeyAttributes: [{}] }}",
        conduit_common::db::schema::INDEX_ATTRIBUTES.join(", ")
    );
    let mut out = include_str!("template_head.yaml").replace("{{INDEX_PROJECTION}}", &projection);
    for route in routes {
        function(&mut out, route);
    }
    out.push_str(include_str!("template_tail.yaml"));
    out
}

/// IAM policies (logical IDs in template_head.yaml) a route's function needs.
fn policies(route: &Route) -> &'static [&'static str] {
    // The runtime reads the JWT secret at every cold start, whatever the route
    // (common/src/lambda.rs), so even the documentation functions need it.
    if DOCUMENTATION.contains(&route.name) {
        &["JwtSecretAccessPolicy"]
    } else if route.method == Method::GET {
        &["JwtSecretAccessPolicy", "ReadAccessPolicy"]
    } else {
        &[
            "JwtSecretAccessPolicy",
            "ReadAccessPolicy",
            "WriteAccessPolicy",
        ]
    }
}

/// The `MemorySize` line for a route that overrides the Globals' 256 MB.
fn memory_size(route: &Route) -> Option<&'static str> {
    if PASSWORD_HASHING.contains(&route.name) {
        Some("1024 # argon2id password hashing: see Globals")
    } else if DOCUMENTATION.contains(&route.name) {
        Some("128 # serves compiled-in documents: see Globals")
    } else {
        None
    }
}

/// `create_article` -> `CreateArticle`, the prefix of its logical IDs.
fn logical_id(name: &str) -> String {
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

/// One route's function, its log group (so retention is ours, not "never
/// expire") and its p99 duration alarm. Braces in `${...}` are doubled for
/// `format!`.
fn function(out: &mut String, route: &Route) {
    let (name, method, path) = (route.name, route.method.as_str(), route.path);
    let id = logical_id(name);
    let memory = memory_size(route)
        .map(|size| format!("      MemorySize: {size}\n"))
        .unwrap_or_default();
    let policies: String = policies(route)
        .iter()
        .map(|policy| format!("        - !Ref {policy}\n"))
        .collect();
    write!(
        out,
        r#"
  # {method} {path}: {summary}
  {id}Function:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: rust-cargolambda
      BuildProperties:
        Binary: {name}
{FUNCTION_CHECKOV_SKIPS}    Properties:
      Description: !Sub "${{AWS::StackName}} {name}: {method} {path}"
{memory}      LoggingConfig:
        LogGroup: !Ref {id}LogGroup
      Policies:
{policies}      Events:
        Api:
          Type: HttpApi
          Properties:
            ApiId: !Ref HttpApi
            Method: {method}
            Path: {path}

  {id}LogGroup:
    Type: AWS::Logs::LogGroup
    Metadata:
{LOG_GROUP_CHECKOV_SKIPS}    Properties:
      LogGroupName: !Sub /aws/lambda/${{AWS::StackName}}/{name}
      RetentionInDays: !Ref LogRetentionDays

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
        summary = route.summary,
    )
    .expect("writing to a String cannot fail");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails unless the committed `path` is exactly `generated`.
    fn assert_generated(path: &str, generated: &str) {
        let full = format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"));
        let committed = std::fs::read_to_string(full).unwrap_or_default();
        // No assert_eq!: dumping two 60 kB strings would bury the message.
        if committed != generated {
            let line = committed
                .lines()
                .zip(generated.lines())
                .position(|(a, b)| a != b)
                .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()));
            panic!(
                "{path} is not what its generator makes from the code (first difference \
                 at line {}). Do not edit it by hand; regenerate it: make generate",
                line + 1
            );
        }
    }

    #[test]
    fn committed_template_is_generated_from_the_route_table() {
        assert_generated("infra/template.yaml", &sam_template(functions::ROUTES));
    }

    #[test]
    fn committed_openapi_document_is_generated_from_the_code() {
        assert_generated("functions/openapi.json", &openapi_json());
    }

    /// The name lists above silently stop applying if a route is renamed.
    #[test]
    fn special_cased_routes_exist() {
        for name in PASSWORD_HASHING.iter().chain(DOCUMENTATION) {
            assert!(
                functions::ROUTES.iter().any(|route| route.name == *name),
                "xtask special-cases {name}, which is not in the route table"
            );
        }
    }

    #[test]
    fn logical_ids_are_camel_case() {
        assert_eq!(logical_id("create_article"), "CreateArticle");
        assert_eq!(logical_id("openapi"), "Openapi");
        assert_eq!(logical_id("api_docs_asset"), "ApiDocsAsset");
    }
}
