//! The dashboard and alarms on the functions' own metrics, named by
//! `conduit_common::telemetry::metrics` (never by a literal here), and on
//! the table's throttling.

use std::fmt::Write;

use conduit_common::db::keys;
use conduit_common::http::{Route, by_function};
use conduit_common::telemetry::metrics::{NAMESPACE, name};

use super::logical_id;

/// The functions' own metrics (common/src/telemetry/metrics.rs) all have the
/// dimension `Service`, which the template sets to the stack's name
/// (`SERVICE_NAME` in the Globals); the per-route ones also have `Route`, the
/// route's name.
pub(super) const SERVICE: &str = "Service";
pub(super) const ROUTE: &str = "Route";

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
/// tail.yaml.
pub(super) fn monitoring(routes: &[&Route]) -> String {
    let mut out = String::new();
    service_error_rate_alarm(&mut out);
    table_throttle_alarm(&mut out);
    dashboard(&mut out, routes);
    out.push('\n');
    out
}

/// One metric (its statistic `stat` per `period` seconds) of an alarm's
/// metric math, as an item of `Metrics:`; dimension values are YAML
/// (`!Ref Table`, `GSI1`).
pub(super) fn alarm_metric(
    id: &str,
    namespace: &str,
    metric: &str,
    dimensions: &[(&str, &str)],
    period: u32,
    stat: &str,
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
            Stat: {stat}
"#
    )
}

/// The 5xx rate of the whole service, from the functions' own counts.
fn service_error_rate_alarm(out: &mut String) {
    let service = [(SERVICE, "!Ref AWS::StackName")];
    let errors = alarm_metric("errors", NAMESPACE, name::STATUS_5XX, &service, 300, "Sum");
    let requests = alarm_metric("requests", NAMESPACE, name::REQUESTS, &service, 300, "Sum");
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
        metrics.push_str(&alarm_metric(
            &id,
            "AWS/DynamoDB",
            metric,
            &dimensions,
            60,
            "Sum",
        ));
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
        let lines: Vec<String> = by_function(routes)
            .iter()
            .map(|(name, _)| {
                let function = format!("${{{}Function}}", logical_id(name));
                metric(
                    "AWS/Lambda",
                    metric_name,
                    &[("FunctionName", &function)],
                    &label(name),
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
        by_function(routes)
            .into_iter()
            .map(|(name, _)| format!("{}DurationAlarm", logical_id(name))),
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
    use super::super::sam_template;
    use super::*;

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
        let body = dashboard_body(&sam_template(functions::ROUTES, functions::CONSUMERS));
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
                let function = format!("sub:{}Function", logical_id(route.function));
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
            let alarm = format!("\"sub:{}DurationAlarm.Arn\"", logical_id(route.function));
            assert!(
                alarms.contains(&alarm),
                "the dashboard lacks the alarm {alarm}"
            );
        }
    }

    #[test]
    fn the_dashboard_graphs_every_metric_the_functions_emit_and_no_other() {
        let body = dashboard_body(&sam_template(functions::ROUTES, functions::CONSUMERS));
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
        let template = sam_template(functions::ROUTES, functions::CONSUMERS);
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
            // A job's alarm watches the metric the job itself records.
            let a_jobs = functions::JOBS.iter().any(|job| job.alarm.0 == metric);
            assert!(
                DEFINED.contains(&metric) || a_jobs,
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
