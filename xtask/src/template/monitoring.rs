//! The dashboard and alarms on the functions' own metrics, named by
//! `conduit_common::telemetry::metrics` (never by a literal here), and on
//! the table's throttling.

use conduit_common::db::keys;
use conduit_common::events::{Consumer, Job};
use conduit_common::http::{Route, by_function};
use conduit_common::telemetry::metrics::{NAMESPACE, name};
use serde_json::{Value, json};

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

/// The 5xx-rate graph's line at the alarm's threshold: a number once `!Sub`
/// has replaced it, so written unquoted in the body (the one place the body
/// is not JSON before the `!Sub`).
const THRESHOLD: &str = "${ErrorRatePercentThreshold}";

/// The table's global secondary indexes: DynamoDB reports their throttling
/// apart from the table's (a Query on an index never counts on the table).
const INDEXES: &[&str] = &[keys::GSI1, keys::GSI2];

/// Minutes in a row with throttling that raise `TableThrottleAlarm`.
const THROTTLED_MINUTES: u32 = 3;

/// The dashboard's graphs with a line per route: title, metric, statistic.
#[rustfmt::skip]
const ROUTE_GRAPHS: &[(&str, &str, &str)] = &[
    ("Requests", name::REQUESTS, "Sum"),
    ("Latency p50 (ms)", name::LATENCY, "p50"),
    ("Latency p99 (ms)", name::LATENCY, "p99"),
    ("4xx answers", name::STATUS_4XX, "Sum"),
    ("Faults: 500s, bugs", name::FAULTS, "Sum"),
    ("Dependency failures: 503s, DynamoDB down, slow or throttling", name::DEPENDENCY_FAILURES, "Sum"),
    ("DynamoDB calls", name::DB_CALLS, "Sum"),
    ("Read capacity units consumed", name::READ_UNITS, "Sum"),
    ("Write capacity units consumed", name::WRITE_UNITS, "Sum"),
    ("Read-cache hits", name::CACHE_HITS, "Sum"),
    ("Cold starts", name::COLD_STARTS, "Sum"),
    ("Handler CPU time p50 (microseconds)", name::CPU_TIME, "p50"),
];

/// Lambda's own graphs, a line per function: what a function cannot count
/// itself (it crashed, timed out or never ran). Title, metric, statistic.
#[rustfmt::skip]
const FUNCTION_GRAPHS: &[(&str, &str, &str)] = &[
    ("Lambda errors: crashes and timeouts", "Errors", "Sum"),
    ("Lambda throttles", "Throttles", "Sum"),
    ("Lambda concurrent executions (max)", "ConcurrentExecutions", "Maximum"),
    ("Lambda duration p99 (ms): the DurationAlarms", "Duration", "p99"),
];

/// The alarms on the service as a whole and the dashboard, placed in
/// tail.yaml.
pub(super) fn monitoring(routes: &[&Route], consumers: &[&Consumer], jobs: &[&Job]) -> String {
    let body = layout(&dashboard(routes, consumers, jobs), 0)
        .replace(&format!("\"{THRESHOLD}\""), THRESHOLD)
        .replace('\n', "\n        ");
    format!(
        r#"{}{}
  # The stack's CloudWatch dashboard (the DashboardUrl output).
  Dashboard:
    Type: AWS::CloudWatch::Dashboard
    Properties:
      DashboardName: !Sub "{DASHBOARD_NAME}"
      DashboardBody: !Sub |
        {body}

"#,
        service_error_rate_alarm(),
        table_throttle_alarm()
    )
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
fn service_error_rate_alarm() -> String {
    let service = [(SERVICE, "!Ref AWS::StackName")];
    let errors = alarm_metric("errors", NAMESPACE, name::STATUS_5XX, &service, 300, "Sum");
    let requests = alarm_metric("requests", NAMESPACE, name::REQUESTS, &service, 300, "Sum");
    format!(
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
}

/// DynamoDB's throttle metrics of the table and of each index: the index
/// (`None`: the table), `reads` or `writes`, and the metric.
fn throttle_metrics() -> Vec<(Option<&'static str>, &'static str, &'static str)> {
    std::iter::once(None)
        .chain(INDEXES.iter().copied().map(Some))
        .flat_map(|index| {
            [
                (index, "reads", "ReadThrottleEvents"),
                (index, "writes", "WriteThrottleEvents"),
            ]
        })
        .collect()
}

/// Throttling of the table or an index that lasts.
fn table_throttle_alarm() -> String {
    let (mut metrics, mut sum) = (String::new(), Vec::new());
    for (index, kind, metric) in throttle_metrics() {
        let id = format!(
            "{}{kind}",
            index.map_or("table".to_owned(), str::to_lowercase)
        );
        let mut dimensions = vec![("TableName", "!Ref Table")];
        dimensions.extend(index.map(|index| ("GlobalSecondaryIndexName", index)));
        metrics += &alarm_metric(&id, "AWS/DynamoDB", metric, &dimensions, 60, "Sum");
        sum.push(format!("FILL({id}, 0)"));
    }
    format!(
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
}

/// The CloudWatch dashboard's body: the alarms, the service as a whole, a
/// graph per metric of the functions with a line per route, and Lambda's
/// own metrics per function. `${...}` in its strings are the `!Sub`'s.
fn dashboard(routes: &[&Route], consumers: &[&Consumer], jobs: &[&Job]) -> Value {
    let service = |metric, id| line(NAMESPACE, metric, &[SERVICE, STACK], hidden(id));
    let api = |metric, options| line("AWS/ApiGateway", metric, &["ApiId", "${HttpApi}"], options);
    let throttles = throttle_metrics().into_iter().map(|(index, kind, metric)| {
        let mut dimensions = vec!["TableName", "${Table}"];
        dimensions.extend(
            index
                .iter()
                .flat_map(|index| ["GlobalSecondaryIndexName", index]),
        );
        let label = json!({"label": format!("{} {kind}", index.unwrap_or("table"))});
        line("AWS/DynamoDB", metric, &dimensions, label)
    });
    let mut widgets = vec![
        text(&format!(
            "# {STACK}\nThe functions' own metrics (namespace {NAMESPACE}, {SERVICE} = {STACK}, \
             common/src/telemetry/metrics.rs), per minute unless said, with DynamoDB's, API \
             Gateway's and Lambda's. Generated by xtask from the route table \
             (infra/template.yaml): changes made here are lost at the next deploy."
        )),
        alarm_status(routes, consumers, jobs),
        text("## The service"),
        graph(
            "Requests per second",
            "Sum",
            json!({}),
            [
                service(name::REQUESTS, "requests"),
                expression(
                    "perSecond",
                    "requests / PERIOD(requests)",
                    "Answered by the functions",
                ),
                api("Count", hidden("api")),
                expression(
                    "apiPerSecond",
                    "api / PERIOD(api)",
                    "Received by API Gateway",
                ),
            ],
        ),
        graph(
            "5xx rate (%), 5-minute periods",
            "Sum",
            json!({"period": 300, "yAxis": {"left": {"min": 0}}, "annotations": {"horizontal": [
                {"label": "ServiceErrorRateAlarm", "value": THRESHOLD},
            ]}}),
            [
                service(name::STATUS_5XX, "errors"),
                service(name::REQUESTS, "requests"),
                expression("rate", "100 * FILL(errors, 0) / requests", "5xx rate (%)"),
            ],
        ),
        graph(
            "5xx by cause",
            "Sum",
            json!({}),
            [
                expression("faults", &search_sum(name::FAULTS), "Faults: 500s, bugs"),
                expression(
                    "dependencies",
                    &search_sum(name::DEPENDENCY_FAILURES),
                    "Dependency failures: 503s, DynamoDB",
                ),
                api(
                    "5xx",
                    json!({"label": "API Gateway 5xx, with crashes and timeouts"}),
                ),
            ],
        ),
        graph("DynamoDB throttled requests", "Sum", json!({}), throttles),
        text(
            "## Per route\nA line per route of functions/src/routes.rs. Of the 5xx, Faults \
             (500) are bugs; Dependency failures (503) are DynamoDB down, slow or throttling.",
        ),
    ];
    // A line per route or function: twice as wide, the legend on the right.
    let wide = |title, stat, lines: Vec<Value>| {
        let mut graph = graph(title, stat, json!({"legend": {"position": "right"}}), lines);
        graph["width"] = json!(12);
        graph
    };
    for (title, metric, stat) in ROUTE_GRAPHS {
        let lines = routes.iter().map(|route| {
            let dimensions = [SERVICE, STACK, ROUTE, route.name];
            line(NAMESPACE, metric, &dimensions, json!({"label": route.name}))
        });
        widgets.push(wide(title, stat, lines.collect()));
    }
    widgets.push(text(
        "## Lambda, per function\nWhat a function cannot count itself: crashes and timeouts \
         (these answer 5xx at API Gateway, absent from the functions' own counts), throttling.",
    ));
    for (title, metric, stat) in FUNCTION_GRAPHS {
        let lines = by_function(routes).into_iter().map(|(name, _)| {
            let function = format!("${{{}Function}}", logical_id(name));
            line(
                "AWS/Lambda",
                metric,
                &["FunctionName", &function],
                json!({"label": name}),
            )
        });
        widgets.push(wide(title, stat, lines.collect()));
    }
    json!({"widgets": widgets})
}

/// A graph's line's rendering options for a metric only used in metric math.
fn hidden(id: &str) -> Value {
    json!({"id": id, "visible": false})
}

/// A graph's line: one metric, its dimensions (names and values, in
/// turn), and its rendering `options`.
fn line(namespace: &str, metric: &str, dimensions: &[&str], options: Value) -> Value {
    let mut line = vec![json!(namespace), json!(metric)];
    line.extend(dimensions.iter().map(|item| json!(item)));
    line.push(options);
    Value::Array(line)
}

/// A graph's line: metric math over the lines with ids.
fn expression(id: &str, expression: &str, label: &str) -> Value {
    json!([{"id": id, "expression": expression, "label": label}])
}

/// The sum over every route of one of the functions' per-route metrics. (A
/// dashboard may search; an alarm may not.)
fn search_sum(metric: &str) -> String {
    format!(
        "SUM(SEARCH('{{{NAMESPACE},{SERVICE},{ROUTE}}} MetricName=\"{metric}\" \
         {SERVICE}=\"{STACK}\"', 'Sum'))"
    )
}

/// A graph widget, 6 wide, a point a minute, with the `extra` properties.
fn graph(title: &str, stat: &str, extra: Value, lines: impl IntoIterator<Item = Value>) -> Value {
    let lines: Vec<Value> = lines.into_iter().collect();
    let mut properties = json!({
        "title": title, "view": "timeSeries", "region": "${AWS::Region}",
        "stat": stat, "period": 60, "metrics": lines,
    });
    for (key, value) in extra.as_object().expect("properties are an object") {
        properties[key] = value.clone();
    }
    json!({"type": "metric", "width": 6, "height": 6, "properties": properties})
}

/// A full-width markdown widget, as tall as its lines.
fn text(markdown: &str) -> Value {
    let height = markdown.lines().count() + 1;
    json!({"type": "text", "width": 24, "height": height, "properties": {"markdown": markdown}})
}

/// The state of every alarm that notifies `AlarmTopic`.
fn alarm_status(routes: &[&Route], consumers: &[&Consumer], jobs: &[&Job]) -> Value {
    let whole = [
        "ServiceErrorRate",
        "TableThrottle",
        "ApiServerErrorRate",
        "ApiClientErrorRate",
    ];
    let durations = by_function(routes)
        .into_iter()
        .map(|(name, _)| logical_id(name) + "Duration");
    let lags = consumers
        .iter()
        .map(|consumer| logical_id(consumer.name) + "IteratorAge");
    let alarms: Vec<String> = (whole
        .into_iter()
        .chain(["StreamFailures"])
        .map(str::to_owned))
    .chain(durations)
    .chain(lags)
    .chain(jobs.iter().map(|job| logical_id(job.name)))
    .map(|alarm| format!("${{{alarm}Alarm.Arn}}"))
    .collect();
    json!({"type": "alarm", "width": 24, "height": 4, "properties": {
        "title": "Alarms", "sortBy": "stateUpdatedTimestamp", "alarms": alarms,
    }})
}

/// Lines of the body no longer than this, unless a single string is.
const WIDTH: usize = 200;

/// `value` as JSON to be read (and diffed) a metric a line: an array or an
/// object longer than [`WIDTH`] on one line, an item a line.
fn layout(value: &Value, indent: usize) -> String {
    let long = value.to_string().len() > WIDTH;
    let item = |item| layout(item, indent + 2);
    let (open, items, close): (_, Vec<String>, _) = match value {
        Value::Array(items) if long => ('[', items.iter().map(item).collect(), ']'),
        Value::Object(fields) if long => {
            let field = |(key, value)| format!("{}:{}", json!(key), item(value));
            ('{', fields.iter().map(field).collect(), '}')
        }
        _ => return value.to_string(),
    };
    let pad = " ".repeat(indent);
    format!(
        "{open}\n{pad}  {}\n{pad}{close}",
        items.join(&format!(",\n{pad}  "))
    )
}

#[cfg(test)]
pub(crate) mod tests {
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

    fn template() -> String {
        sam_template(functions::ROUTES, functions::CONSUMERS)
    }

    /// The Dashboard's body in a generated template, parsed (its `${...}`
    /// left as they are, the threshold as a string).
    pub(crate) fn dashboard_in(template: &str) -> Value {
        let marker = "      DashboardBody: !Sub |\n";
        let start = template.find(marker).expect("the template has a dashboard") + marker.len();
        let body: Vec<&str> = template[start..]
            .lines()
            .map_while(|line| line.strip_prefix("        "))
            .collect();
        let body = body
            .join("\n")
            .replace(THRESHOLD, &format!("\"{THRESHOLD}\""));
        serde_json::from_str(&body)
            .unwrap_or_else(|err| panic!("DashboardBody is not JSON: {err}\n{body}"))
    }

    /// Every line of every graph of the dashboard, with its widget's title.
    fn graph_lines(body: &Value) -> Vec<(&str, &[Value])> {
        let widgets = body["widgets"].as_array().expect("a widgets array");
        let graphs = widgets.iter().filter(|widget| widget["type"] == "metric");
        graphs
            .flat_map(|widget| {
                let title = widget["properties"]["title"].as_str().unwrap();
                let lines = widget["properties"]["metrics"].as_array().expect("metrics");
                lines
                    .iter()
                    .map(move |line| (title, line.as_array().unwrap().as_slice()))
            })
            .collect()
    }

    /// The value of dimension `name` on a metric line (`[ns, metric, dim, value, ..., {}]`).
    fn dimension<'a>(line: &'a [Value], name: &str) -> Option<&'a str> {
        let dimensions = line.get(2..line.len() - 1).unwrap_or_default();
        let pair = dimensions.chunks(2).find(|pair| pair[0] == name)?;
        pair[1].as_str()
    }

    #[test]
    fn the_template_holds_the_dashboard_as_generated() {
        let generated = dashboard(functions::ROUTES, functions::CONSUMERS, functions::JOBS);
        assert_eq!(dashboard_in(&template()), generated);
    }

    #[test]
    fn every_route_and_function_is_on_its_graphs_and_every_paging_alarm_on_the_dashboard() {
        let template = template();
        let body = dashboard_in(&template);
        let lines = graph_lines(&body);
        let on = |title: &&str, name, value: &str| {
            (lines.iter())
                .any(|(graph, line)| graph == title && dimension(line, name) == Some(value))
        };
        for route in functions::ROUTES {
            for (title, _, _) in ROUTE_GRAPHS {
                assert!(
                    on(title, ROUTE, route.name),
                    "{title:?} lacks {}",
                    route.name
                );
            }
            let function = format!("${{{}Function}}", logical_id(route.function));
            for (title, _, _) in FUNCTION_GRAPHS {
                assert!(
                    on(title, "FunctionName", &function),
                    "{title:?} lacks {function}"
                );
            }
        }
        let widgets = body["widgets"].as_array().unwrap();
        let status = widgets
            .iter()
            .find(|widget| widget["type"] == "alarm")
            .unwrap();
        let shown = status["properties"]["alarms"].as_array().unwrap();
        let mut paging = 0;
        for alarm in crate::runbooks::tests::alarm_ids(&template) {
            // A resource ends at a blank line.
            let start = template.find(&format!("\n  {alarm}:\n")).unwrap();
            let end = start + template[start..].find("\n\n").unwrap();
            if template[start..end].contains("AlarmActions:") {
                paging += 1;
                let arn = json!(format!("${{{alarm}.Arn}}"));
                assert!(shown.contains(&arn), "the dashboard does not show {alarm}");
            }
        }
        assert_eq!(paging, shown.len(), "{shown:?}");
    }

    #[test]
    fn the_dashboard_graphs_every_metric_the_functions_emit_and_no_other() {
        let body = dashboard_in(&template());
        let mut graphed = Vec::new();
        for (title, line) in graph_lines(&body) {
            if let Some(expression) = line[0]["expression"].as_str() {
                // Only searches name metrics: `MetricName="X"`.
                for part in expression.split("MetricName=\"").skip(1) {
                    assert!(
                        expression.contains(&format!("{{{NAMESPACE},")),
                        "{expression}"
                    );
                    graphed.push((title, part.split('"').next().unwrap()));
                }
                continue;
            }
            assert_ne!(line[0], ".", "{title}: spell every line out");
            if line[0] == NAMESPACE {
                assert_eq!(dimension(line, SERVICE), Some(STACK), "{title}");
                graphed.push((title, line[1].as_str().unwrap()));
            }
        }
        for (title, graphed) in &graphed {
            assert!(
                DEFINED.contains(graphed),
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
        let template = template();
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
}
