//! Repository chores that are easier in Rust than in shell.
//!
//! `make generate` runs the two generators here, and tests below fail when
//! a committed output is not what its generator makes:
//!
//! - `sam-template` writes `infra/template.yaml` from the route table, so a
//!   new route cannot be forgotten in the infrastructure. The shared
//!   resources are plain YAML in `template_head.yaml` and
//!   `template_tail.yaml`; only the per-route resources, and the dashboard
//!   and alarms on the functions' own metrics (named by
//!   `conduit_common::telemetry::metrics`, never by a literal), are
//!   generated here.
//! - `openapi` writes `functions/openapi.json`, which the `openapi` function
//!   serves as it is: no document is built at run time, and that function's
//!   binary does not carry every handler and schema.

use std::fmt::Write;

use conduit_common::db::keys;
use conduit_common::http::{Method, Route};
use conduit_common::telemetry::metrics::{NAMESPACE, name};

mod emf;

const USAGE: &str = "usage: cargo run -q -p xtask -- sam-template|openapi (or: make generate)\n       \
                     cargo run -q -p xtask -- check-emf LOG ROUTE...";

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("sam-template") => print!("{}", sam_template(functions::ROUTES)),
        Some("openapi") => print!("{}", openapi_json()),
        Some("check-emf") => {
            let args: Vec<String> = std::env::args().skip(2).collect();
            let Some((log, routes)) = args.split_first() else {
                eprintln!("{USAGE}");
                std::process::exit(2);
            };
            let log = std::fs::read_to_string(log).unwrap_or_else(|err| {
                eprintln!("reading {log}: {err}");
                std::process::exit(2);
            });
            match emf::check(&log, routes) {
                Ok(found) => println!("{found}"),
                Err(problem) => {
                    eprintln!("{problem}");
                    std::process::exit(1);
                }
            }
        }
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
    out.push_str(
        &include_str!("template_tail.yaml").replace("{{MONITORING}}\n", &monitoring(routes)),
    );
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

/// The functions' own metrics (common/src/telemetry/metrics.rs) all have the
/// dimension `Service`, which the template sets to the stack's name
/// (`SERVICE_NAME` in the Globals); the per-route ones also have `Route`, the
/// route's name.
const SERVICE: &str = "Service";
const ROUTE: &str = "Route";

/// What the dashboard's `!Sub` turns into the stack's name.
const STACK: &str = "${AWS::StackName}";

/// The dashboard's name, in a `!Sub`. Dashboards are global to the account,
/// hence the region. (The alarms cannot `!Ref` the dashboard: it shows them.)
const DASHBOARD_NAME: &str = "${AWS::StackName}-${AWS::Region}";

/// The table's global secondary indexes: DynamoDB reports their throttling
/// apart from the table's (a Query on an index never counts on the table).
const INDEXES: &[&str] = &[keys::GSI1, keys::GSI2];

/// Minutes in a row with throttling that raise `TableThrottleAlarm`.
const THROTTLED_MINUTES: u32 = 3;

/// The dashboard's graphs with a line per route: title, metric, statistic.
const ROUTE_GRAPHS: &[(&str, &str, &str)] = &[
    ("Requests", name::REQUESTS, "Sum"),
    ("Latency p50 (ms)", name::LATENCY, "p50"),
    ("Latency p99 (ms)", name::LATENCY, "p99"),
    ("4xx answers", name::STATUS_4XX, "Sum"),
    ("Faults: 500s, bugs", name::FAULTS, "Sum"),
    (
        "Dependency failures: 503s, DynamoDB down, slow or throttling",
        name::DEPENDENCY_FAILURES,
        "Sum",
    ),
    ("DynamoDB calls", name::DB_CALLS, "Sum"),
    ("Read capacity units consumed", name::READ_UNITS, "Sum"),
    ("Write capacity units consumed", name::WRITE_UNITS, "Sum"),
    ("Read-cache hits", name::CACHE_HITS, "Sum"),
    ("Cold starts", name::COLD_STARTS, "Sum"),
    ("Handler CPU time p50 (microseconds)", name::CPU_TIME, "p50"),
];

/// Lambda's own graphs, a line per function: what a function cannot count
/// itself (it crashed, timed out or never ran). Title, metric, statistic.
const FUNCTION_GRAPHS: &[(&str, &str, &str)] = &[
    ("Lambda errors: crashes and timeouts", "Errors", "Sum"),
    ("Lambda throttles", "Throttles", "Sum"),
    (
        "Lambda concurrent executions (max)",
        "ConcurrentExecutions",
        "Maximum",
    ),
    (
        "Lambda duration p99 (ms): the DurationAlarms",
        "Duration",
        "p99",
    ),
];

/// The alarms on the service as a whole and the dashboard, placed in
/// template_tail.yaml.
fn monitoring(routes: &[&Route]) -> String {
    let mut out = String::new();
    service_error_rate_alarm(&mut out);
    table_throttle_alarm(&mut out);
    dashboard(&mut out, routes);
    out.push('\n');
    out
}

/// One metric (its `Sum` per `period` seconds) of an alarm's metric math, as
/// an item of `Metrics:`; dimension values are YAML (`!Ref Table`, `GSI1`).
fn alarm_metric(
    id: &str,
    namespace: &str,
    metric: &str,
    dimensions: &[(&str, &str)],
    period: u32,
) -> String {
    let dimensions: String = dimensions
        .iter()
        .map(|(name, value)| format!("                - {{ Name: {name}, Value: {value} }}\n"))
        .collect();
    format!(
        r#"        - Id: {id}
          ReturnData: false
          MetricStat:
            Metric:
              Namespace: {namespace}
              MetricName: {metric}
              Dimensions:
{dimensions}            Period: {period}
            Stat: Sum
"#
    )
}

/// The 5xx rate of the whole service, from the functions' own counts.
fn service_error_rate_alarm(out: &mut String) {
    let service = [(SERVICE, "!Ref AWS::StackName")];
    let errors = alarm_metric("errors", NAMESPACE, name::STATUS_5XX, &service, 300);
    let requests = alarm_metric("requests", NAMESPACE, name::REQUESTS, &service, 300);
    write!(
        out,
        r#"
  # Share of requests the functions answered with a 5xx, by their own count;
  # the dashboard splits it per route into Faults (bugs) and
  # DependencyFailures (DynamoDB down, slow or throttling). A period without
  # errors may have no Status5xx data point, hence FILL; one with fewer than
  # ErrorRateMinRequests requests counts as 0; one without requests has no
  # data at all (not breaching).
  ServiceErrorRateAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmDescription: !Sub "${{AWS::StackName}}: more than ${{ErrorRatePercentThreshold}}% of requests answered 5xx. Dashboard {DASHBOARD_NAME}: Faults are bugs, DependencyFailures are DynamoDB failing."
      Metrics:
{errors}{requests}        - Id: rate
          Label: 5xx rate (%)
          ReturnData: true
          Expression: !Sub "IF(requests >= ${{ErrorRateMinRequests}}, 100 * FILL(errors, 0) / requests, 0)"
      EvaluationPeriods: 3
      DatapointsToAlarm: 2
      Threshold: !Ref ErrorRatePercentThreshold
      ComparisonOperator: GreaterThanThreshold
      TreatMissingData: notBreaching
      AlarmActions:
        - !Ref AlarmTopic
"#
    )
    .expect("writing to a String cannot fail");
}

/// DynamoDB's throttle metrics of the table and of each index: the id
/// (for metric math), the metric and the index (`None`: the table).
fn throttle_metrics() -> Vec<(String, &'static str, Option<&'static str>)> {
    std::iter::once(None)
        .chain(INDEXES.iter().copied().map(Some))
        .flat_map(|index| {
            let prefix = index.map_or_else(|| "table".to_owned(), str::to_lowercase);
            [
                ("reads", "ReadThrottleEvents"),
                ("writes", "WriteThrottleEvents"),
            ]
            .map(|(kind, metric)| (format!("{prefix}{kind}"), metric, index))
        })
        .collect()
}

/// Throttling of the table or an index that lasts.
fn table_throttle_alarm(out: &mut String) {
    let mut metrics = String::new();
    let mut sum = Vec::new();
    for (id, metric, index) in throttle_metrics() {
        let mut dimensions = vec![("TableName", "!Ref Table")];
        dimensions.extend(index.map(|index| ("GlobalSecondaryIndexName", index)));
        metrics.push_str(&alarm_metric(&id, "AWS/DynamoDB", metric, &dimensions, 60));
        sum.push(format!("FILL({id}, 0)"));
    }
    write!(
        out,
        r#"
  # Throttling that lasts: DynamoDB throttled the table or an index in each of
  # {THROTTLED_MINUTES} minutes in a row. On-demand tables still throttle past twice their
  # previous peak or on a hot partition; the functions retry a short burst,
  # and what still fails answers 503 (DependencyFailures on the dashboard).
  TableThrottleAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmDescription: !Sub "${{AWS::StackName}}: DynamoDB throttled the table or its indexes {THROTTLED_MINUTES} minutes in a row"
      Metrics:
{metrics}        - Id: throttled
          Label: Throttled requests (table and indexes)
          ReturnData: true
          # DynamoDB publishes these only when something was throttled.
          Expression: {sum}
      EvaluationPeriods: {THROTTLED_MINUTES}
      DatapointsToAlarm: {THROTTLED_MINUTES}
      Threshold: 0
      ComparisonOperator: GreaterThanThreshold
      TreatMissingData: notBreaching
      AlarmActions:
        - !Ref AlarmTopic
"#,
        sum = sum.join(" + "),
    )
    .expect("writing to a String cannot fail");
}

/// The CloudWatch dashboard: the alarms, the service as a whole, a graph per
/// metric of the functions with a line per route, and Lambda's own metrics
/// per function. Its body is JSON in a `!Sub`, one metric per line.
fn dashboard(out: &mut String, routes: &[&Route]) {
    let service = [(SERVICE, STACK)];
    let api = [("ApiId", "${HttpApi}")];
    let hidden = |id: &str| format!(r#"{{"id": {}, "visible": false}}"#, json(id));
    let mut widgets = vec![
        text(&format!(
            "# {STACK}\nThe functions' own metrics (namespace {NAMESPACE}, {SERVICE} = {STACK}, \
             common/src/telemetry/metrics.rs), per minute unless said, with DynamoDB's, API \
             Gateway's and Lambda's. Generated by xtask from the route table \
             (infra/template.yaml): changes made here are lost at the next deploy."
        )),
        alarm_status(routes),
        text("## The service"),
        graph(
            "Requests per second",
            6,
            "Sum",
            60,
            "",
            &[
                metric(NAMESPACE, name::REQUESTS, &service, &hidden("requests")),
                expression(
                    "perSecond",
                    "requests / PERIOD(requests)",
                    "Answered by the functions",
                ),
                metric("AWS/ApiGateway", "Count", &api, &hidden("api")),
                expression(
                    "apiPerSecond",
                    "api / PERIOD(api)",
                    "Received by API Gateway",
                ),
            ],
        ),
        graph(
            "5xx rate (%), 5-minute periods",
            6,
            "Sum",
            300,
            r#", "yAxis": {"left": {"min": 0}}, "annotations": {"horizontal": [{"label": "ServiceErrorRateAlarm", "value": ${ErrorRatePercentThreshold}}]}"#,
            &[
                metric(NAMESPACE, name::STATUS_5XX, &service, &hidden("errors")),
                metric(NAMESPACE, name::REQUESTS, &service, &hidden("requests")),
                expression("rate", "100 * FILL(errors, 0) / requests", "5xx rate (%)"),
            ],
        ),
        graph(
            "5xx by cause",
            6,
            "Sum",
            60,
            "",
            &[
                expression("faults", &search_sum(name::FAULTS), "Faults: 500s, bugs"),
                expression(
                    "dependencies",
                    &search_sum(name::DEPENDENCY_FAILURES),
                    "Dependency failures: 503s, DynamoDB",
                ),
                metric(
                    "AWS/ApiGateway",
                    "5xx",
                    &api,
                    &label("API Gateway 5xx, with crashes and timeouts"),
                ),
            ],
        ),
        graph(
            "DynamoDB throttled requests",
            6,
            "Sum",
            60,
            "",
            &throttle_metrics()
                .into_iter()
                .map(|(_, throttle_metric, index)| {
                    let mut dimensions = vec![("TableName", "${Table}")];
                    dimensions.extend(index.map(|index| ("GlobalSecondaryIndexName", index)));
                    let kind = if throttle_metric.starts_with("Read") {
                        "reads"
                    } else {
                        "writes"
                    };
                    let line = format!("{} {kind}", index.unwrap_or("table"));
                    metric("AWS/DynamoDB", throttle_metric, &dimensions, &label(&line))
                })
                .collect::<Vec<_>>(),
        ),
        text(
            "## Per route\nA line per route of functions/src/routes.rs. Of the 5xx, Faults \
             (500) are bugs; Dependency failures (503) are DynamoDB down, slow or throttling.",
        ),
    ];
    for (title, metric_name, stat) in ROUTE_GRAPHS {
        let lines: Vec<String> = routes
            .iter()
            .map(|route| {
                let dimensions = [(SERVICE, STACK), (ROUTE, route.name)];
                metric(NAMESPACE, metric_name, &dimensions, &label(route.name))
            })
            .collect();
        widgets.push(graph(title, 12, stat, 60, LEGEND_RIGHT, &lines));
    }
    widgets.push(text(
        "## Lambda, per function\nWhat a function cannot count itself: crashes and timeouts \
         (these answer 5xx at API Gateway, absent from the functions' own counts), throttling.",
    ));
    for (title, metric_name, stat) in FUNCTION_GRAPHS {
        let lines: Vec<String> = routes
            .iter()
            .map(|route| {
                let function = format!("${{{}Function}}", logical_id(route.name));
                metric(
                    "AWS/Lambda",
                    metric_name,
                    &[("FunctionName", &function)],
                    &label(route.name),
                )
            })
            .collect();
        widgets.push(graph(title, 12, stat, 60, LEGEND_RIGHT, &lines));
    }
    let body = format!(
        "{{\n  \"widgets\": [\n    {}\n  ]\n}}",
        widgets.join(",\n").replace('\n', "\n    ")
    );
    write!(
        out,
        r#"
  # The stack's CloudWatch dashboard (the DashboardUrl output).
  Dashboard:
    Type: AWS::CloudWatch::Dashboard
    Properties:
      DashboardName: !Sub "{DASHBOARD_NAME}"
      DashboardBody: !Sub |
        {}
"#,
        body.replace('\n', "\n        ")
    )
    .expect("writing to a String cannot fail");
}

/// Graph properties that put the legend on the right, for a line per route.
const LEGEND_RIGHT: &str = r#", "legend": {"position": "right"}"#;

/// A JSON string.
fn json(text: &str) -> String {
    let mut out = String::from('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {
                write!(out, "\\u{:04x}", u32::from(c)).expect("writing to a String cannot fail");
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Rendering options that only name the line.
fn label(label: &str) -> String {
    format!(r#"{{"label": {}}}"#, json(label))
}

/// A graph's line: one metric, with its rendering `options` (a JSON object).
fn metric(namespace: &str, metric: &str, dimensions: &[(&str, &str)], options: &str) -> String {
    let mut items = vec![json(namespace), json(metric)];
    for (name, value) in dimensions {
        items.extend([json(name), json(value)]);
    }
    items.push(options.to_owned());
    format!("[{}]", items.join(", "))
}

/// A graph's line: metric math over the lines with ids.
fn expression(id: &str, expression: &str, label: &str) -> String {
    format!(
        r#"[{{"id": {}, "expression": {}, "label": {}}}]"#,
        json(id),
        json(expression),
        json(label)
    )
}

/// The sum over every route of one of the functions' per-route metrics. (A
/// dashboard may search; an alarm may not.)
fn search_sum(metric: &str) -> String {
    format!(
        "SUM(SEARCH('{{{NAMESPACE},{SERVICE},{ROUTE}}} MetricName=\"{metric}\" \
         {SERVICE}=\"{STACK}\"', 'Sum'))"
    )
}

/// A graph widget, a line of the body per metric.
fn graph(
    title: &str,
    width: u32,
    stat: &str,
    period: u32,
    extra: &str,
    lines: &[String],
) -> String {
    format!(
        r#"{{"type": "metric", "width": {width}, "height": 6, "properties": {{"title": {title}, "view": "timeSeries", "region": "${{AWS::Region}}", "stat": {stat}, "period": {period}{extra}, "metrics": [
  {lines}
]}}}}"#,
        title = json(title),
        stat = json(stat),
        lines = lines.join(",\n  "),
    )
}

/// A full-width markdown widget, as tall as its lines.
fn text(markdown: &str) -> String {
    format!(
        r#"{{"type": "text", "width": 24, "height": {}, "properties": {{"markdown": {}}}}}"#,
        markdown.lines().count() + 1,
        json(markdown)
    )
}

/// The state of every alarm of the stack, one ARN a line.
fn alarm_status(routes: &[&Route]) -> String {
    let alarms: Vec<String> = [
        "ServiceErrorRateAlarm",
        "TableThrottleAlarm",
        "ApiServerErrorRateAlarm",
        "ApiClientErrorRateAlarm",
    ]
    .into_iter()
    .map(str::to_owned)
    .chain(
        routes
            .iter()
            .map(|route| format!("{}DurationAlarm", logical_id(route.name))),
    )
    .map(|alarm| json(&format!("${{{alarm}.Arn}}")))
    .collect();
    format!(
        r#"{{"type": "alarm", "width": 24, "height": 4, "properties": {{"title": "Alarms", "sortBy": "stateUpdatedTimestamp", "alarms": [
  {}
]}}}}"#,
        alarms.join(",\n  ")
    )
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

    /// Every metric name common/src/telemetry/metrics.rs defines.
    const DEFINED: &[&str] = &[
        name::REQUESTS,
        name::LATENCY,
        name::STATUS_4XX,
        name::STATUS_5XX,
        name::FAULTS,
        name::DEPENDENCY_FAILURES,
        name::DB_CALLS,
        name::READ_UNITS,
        name::WRITE_UNITS,
        name::CACHE_HITS,
        name::CPU_TIME,
        name::COLD_STARTS,
    ];

    /// The Dashboard's body in a generated template, parsed, each `${X}` of
    /// its `!Sub` replaced by `"sub:X"` (the one number by 5).
    fn dashboard_body(template: &str) -> serde_json::Value {
        let marker = "      DashboardBody: !Sub |\n";
        let start = template.find(marker).expect("the template has a dashboard") + marker.len();
        let block: Vec<&str> = template[start..]
            .lines()
            .take_while(|line| line.starts_with("        "))
            .map(|line| &line["        ".len()..])
            .collect();
        let body = block
            .join("\n")
            .replace("${ErrorRatePercentThreshold}", "5");
        let (mut resolved, mut rest) = (String::new(), body.as_str());
        while let Some(at) = rest.find("${") {
            let end = at + rest[at..].find('}').expect("${ is closed");
            write!(resolved, "{}sub:{}", &rest[..at], &rest[at + 2..end]).unwrap();
            rest = &rest[end + 1..];
        }
        resolved.push_str(rest);
        serde_json::from_str(&resolved)
            .unwrap_or_else(|err| panic!("DashboardBody is not JSON: {err}\n{resolved}"))
    }

    /// Every line of every graph of the dashboard, with its widget's title.
    fn graph_lines(body: &serde_json::Value) -> Vec<(String, Vec<serde_json::Value>)> {
        let widgets = body["widgets"].as_array().expect("a widgets array");
        widgets
            .iter()
            .filter(|widget| widget["type"] == "metric")
            .flat_map(|widget| {
                let title = widget["properties"]["title"].as_str().unwrap_or_default();
                let lines = widget["properties"]["metrics"].as_array().expect("metrics");
                lines.iter().map(move |line| {
                    let line = line.as_array().expect("a metric line is an array").clone();
                    (title.to_owned(), line)
                })
            })
            .collect()
    }

    /// The value of dimension `name` on a metric line (`[ns, metric, dim, value, ..., {}]`).
    fn dimension<'a>(line: &'a [serde_json::Value], name: &str) -> Option<&'a str> {
        line.iter()
            .skip(2)
            .collect::<Vec<_>>()
            .chunks(2)
            .find(|pair| pair[0] == name)
            .and_then(|pair| pair.get(1))
            .and_then(|value| value.as_str())
    }

    #[test]
    fn every_route_is_on_every_per_route_graph_of_the_dashboard() {
        let body = dashboard_body(&sam_template(functions::ROUTES));
        let lines = graph_lines(&body);
        let mut graphs = 0;
        for (title, metric_name, _) in ROUTE_GRAPHS {
            graphs += 1;
            let on_graph: Vec<&str> = lines
                .iter()
                .filter(|(graph, line)| graph == title && line[1] == *metric_name)
                .filter_map(|(_, line)| dimension(line, ROUTE))
                .collect();
            for route in functions::ROUTES {
                assert!(
                    on_graph.contains(&route.name),
                    "the dashboard's graph {title:?} has no line for the route {}",
                    route.name
                );
            }
        }
        for (title, _, _) in FUNCTION_GRAPHS {
            graphs += 1;
            for route in functions::ROUTES {
                let function = format!("sub:{}Function", logical_id(route.name));
                assert!(
                    lines.iter().any(|(graph, line)| graph == title
                        && dimension(line, "FunctionName") == Some(&function)),
                    "the dashboard's graph {title:?} has no line for the function {function}"
                );
            }
        }
        assert!(graphs > 0);
        let alarms = body["widgets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|widget| widget["type"] == "alarm")
            .expect("an alarm widget")["properties"]["alarms"]
            .to_string();
        for route in functions::ROUTES {
            let alarm = format!("\"sub:{}DurationAlarm.Arn\"", logical_id(route.name));
            assert!(
                alarms.contains(&alarm),
                "the dashboard lacks the alarm {alarm}"
            );
        }
    }

    #[test]
    fn the_dashboard_graphs_every_metric_the_functions_emit_and_no_other() {
        let body = dashboard_body(&sam_template(functions::ROUTES));
        let mut graphed = Vec::new();
        for (title, line) in graph_lines(&body) {
            if let Some(expression) = line[0]["expression"].as_str() {
                // Only searches name metrics: `MetricName="X"`.
                for part in expression.split("MetricName=\"").skip(1) {
                    assert!(
                        expression.contains(&format!("{{{NAMESPACE},")),
                        "{expression}"
                    );
                    graphed.push((title.clone(), part.split('"').next().unwrap().to_owned()));
                }
                continue;
            }
            assert_ne!(line[0], ".", "{title}: spell every line out");
            if line[0] == NAMESPACE {
                assert_eq!(
                    dimension(&line, SERVICE),
                    Some("sub:AWS::StackName"),
                    "{title}"
                );
                graphed.push((title, line[1].as_str().unwrap().to_owned()));
            }
        }
        for (title, graphed) in &graphed {
            assert!(
                DEFINED.contains(&graphed.as_str()),
                "the dashboard's graph {title:?} shows {NAMESPACE}/{graphed}, which \
                 telemetry::metrics does not define"
            );
        }
        for defined in DEFINED {
            assert!(
                graphed.iter().any(|(_, graphed)| graphed == defined),
                "the dashboard does not show {NAMESPACE}/{defined}"
            );
        }
    }

    #[test]
    fn alarms_watch_only_metrics_the_functions_emit_for_this_stack() {
        let template = sam_template(functions::ROUTES);
        assert!(
            template.contains("        SERVICE_NAME: !Ref AWS::StackName\n"),
            "the functions must report the stack's name as their {SERVICE}"
        );
        let lines: Vec<&str> = template.lines().map(str::trim).collect();
        let mut watched = Vec::new();
        for (at, line) in lines.iter().enumerate() {
            if *line != format!("Namespace: {NAMESPACE}") {
                continue;
            }
            let metric = lines[at + 1]
                .strip_prefix("MetricName: ")
                .expect("MetricName follows Namespace");
            assert!(
                DEFINED.contains(&metric),
                "an alarm watches {NAMESPACE}/{metric}, which telemetry::metrics does not define"
            );
            assert_eq!(lines[at + 2], "Dimensions:");
            assert_eq!(
                lines[at + 3],
                format!("- {{ Name: {SERVICE}, Value: !Ref AWS::StackName }}"),
                "an alarm on {metric} watches another service"
            );
            watched.push(metric);
        }
        assert!(watched.contains(&name::STATUS_5XX) && watched.contains(&name::REQUESTS));
    }

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json("a \"b\" \\ c\nd\u{1}"), r#""a \"b\" \\ c\nd\u0001""#);
    }
}
