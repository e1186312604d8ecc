//! The alarms, and the dashboard, on the functions' own metrics (named by
//! `telemetry::metrics`, never by a literal here) and on the table's throttling.

use conduit_common::db::keys;
use conduit_common::events::Consumer;
use conduit_common::http::Route;
use conduit_common::telemetry::metrics::{NAMESPACE, name};
use serde_json::{Value, json};

use super::{function_names, logical_id};

/// The functions' metrics' dimensions: `Service` (the stack's name, the
/// Globals' `SERVICE_NAME`) on all, `Route` or `Consumer` on some.
pub(super) const SERVICE: &str = "Service";
pub(super) const ROUTE: &str = "Route";
const CONSUMER: &str = "Consumer";
/// Lambda's metrics' dimension.
const FUNCTION: &str = "FunctionName";
/// What the dashboard's `!Sub` turns into the stack's name.
const STACK: &str = "${AWS::StackName}";
/// Dashboards are global to the account, hence the region.
const DASHBOARD_NAME: &str = "${AWS::StackName}-${AWS::Region}";
/// The 5xx-rate graph's line at the alarm's threshold: a number once `!Sub`
/// has run, so unquoted (the one place the body is not JSON before it).
const THRESHOLD: &str = "${ErrorRatePercentThreshold}";
/// Minutes in a row with throttling that raise `TableThrottleAlarm`.
const THROTTLED_MINUTES: u32 = 3;

/// Graphs of one metric, a line per route, consumer or function: title, metric, statistic.
type Graphs = &'static [(&'static str, &'static str, &'static str)];

#[rustfmt::skip]
const ROUTE_GRAPHS: Graphs = &[
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

#[rustfmt::skip]
const CONSUMER_GRAPHS: Graphs = &[
    ("Stream records taken (retries count again)", name::STREAM_RECORDS, "Sum"),
    ("Stream batches stopped at a failing record", name::STREAM_FAILURES, "Sum"),
    ("Stream lag (ms, max): a batch's oldest record's age", name::STREAM_LAG, "Maximum"),
];

/// What a function cannot count itself: it crashed, timed out or never ran.
#[rustfmt::skip]
const FUNCTION_GRAPHS: Graphs = &[
    ("Lambda errors: crashes and timeouts", "Errors", "Sum"),
    ("Lambda throttles", "Throttles", "Sum"),
    ("Lambda concurrent executions (max)", "ConcurrentExecutions", "Maximum"),
    ("Lambda duration p99 (ms): the DurationAlarms", "Duration", "p99"),
];

/// Lambda's view of the consumers: the graph of their `IteratorAgeAlarm`s.
const ITERATOR_AGE: (&str, &str, &str) = (
    "Lambda iterator age (ms, max): the IteratorAgeAlarms",
    "IteratorAge",
    "Maximum",
);

/// An alarm `id` on what `watched` (its properties' lines) says, above
/// `threshold` in `datapoints` (all if `None`) of `periods`; it pages
/// (notifies `AlarmTopic`) if `pages`. `description` is in a `!Sub`.
pub(super) fn alarm(
    id: &str,
    description: &str,
    watched: &str,
    (periods, datapoints): (u32, Option<u32>),
    threshold: &str,
    pages: bool,
) -> String {
    let datapoints = datapoints.map(|n| format!("      DatapointsToAlarm: {n}\n"));
    let actions = if pages {
        "      AlarmActions:\n        - !Ref AlarmTopic\n"
    } else {
        ""
    };
    format!(
        "  {id}:\n    Type: AWS::CloudWatch::Alarm\n    Properties:\n      \
         AlarmDescription: !Sub \"{description}\"\n{watched}      EvaluationPeriods: {periods}\n\
         {}      Threshold: {threshold}\n      ComparisonOperator: GreaterThanThreshold\n      \
         TreatMissingData: notBreaching\n{actions}",
        datapoints.unwrap_or_default()
    )
}

/// What an alarm on one metric watches; `stat` is `Statistic: ...` or `ExtendedStatistic: ...`.
pub(super) fn one_metric(
    namespace: &str,
    metric: &str,
    dimension: [&str; 2],
    stat: &str,
    period: u32,
) -> String {
    let [dimension, value] = dimension;
    format!(
        "      Namespace: {namespace}\n      MetricName: {metric}\n      Dimensions:\n        \
         - {{ Name: {dimension}, Value: {value} }}\n      {stat}\n      Period: {period}\n"
    )
}

/// What an alarm on metric math watches: `metrics` ([`alarm_metric`]s) and
/// the expression `expression` over them.
pub(super) fn math(metrics: &str, id: &str, label: &str, expression: &str) -> String {
    format!(
        "      Metrics:\n{metrics}        - Id: {id}\n          Label: {label}\n          \
         ReturnData: true\n          Expression: {expression}\n"
    )
}

/// One metric of an alarm's metric math, its statistic `stat` per `period`
/// seconds; dimension values are YAML (`!Ref Table`, `GSI1`).
pub(super) fn alarm_metric(
    id: &str,
    [namespace, metric]: [&str; 2],
    dimensions: &[(&str, &str)],
    period: u32,
    stat: &str,
) -> String {
    let dimensions: String = (dimensions.iter())
        .map(|(name, value)| format!("                - {{ Name: {name}, Value: {value} }}\n"))
        .collect();
    format!(
        "        - Id: {id}\n          ReturnData: false\n          MetricStat:\n            \
         Metric:\n              Namespace: {namespace}\n              MetricName: {metric}\n              \
         Dimensions:\n{dimensions}            Period: {period}\n            Stat: {stat}\n"
    )
}

/// The service's 5xx-rate and throttling alarms and the dashboard, for
/// tail.yaml; `yaml` is the rest of the template, whose paging alarms the
/// dashboard shows with these.
pub(super) fn monitoring(routes: &[&Route], consumers: &[&Consumer], yaml: &str) -> String {
    let service = [(SERVICE, "!Ref AWS::StackName")];
    let of = |metric| [NAMESPACE, metric];
    let rate = math(
        &(alarm_metric("errors", of(name::STATUS_5XX), &service, 300, "Sum")
            + &alarm_metric("requests", of(name::REQUESTS), &service, 300, "Sum")),
        "rate",
        "5xx rate (%)",
        "!Sub \"IF(requests >= ${ErrorRateMinRequests}, 100 * FILL(errors, 0) / requests, 0)\"",
    );
    let (mut throttles, mut sum) = (String::new(), Vec::new());
    for (index, kind, metric) in throttle_metrics() {
        let id = format!(
            "{}{kind}",
            index.map_or("table".to_owned(), str::to_lowercase)
        );
        let mut dimensions = vec![("TableName", "!Ref Table")];
        dimensions.extend(index.map(|index| ("GlobalSecondaryIndexName", index)));
        throttles += &alarm_metric(&id, ["AWS/DynamoDB", metric], &dimensions, 60, "Sum");
        sum.push(format!("FILL({id}, 0)"));
    }
    let throttled = math(
        &throttles,
        "throttled",
        "Throttled requests (table and indexes)",
        &sum.join(" + "),
    );
    let minutes = THROTTLED_MINUTES;
    let errors = alarm(
        "ServiceErrorRateAlarm",
        &format!(
            "${{AWS::StackName}}: more than ${{ErrorRatePercentThreshold}}% of requests answered 5xx. \
             Dashboard {DASHBOARD_NAME}: Faults are bugs, DependencyFailures are DynamoDB failing."
        ),
        &rate,
        (3, Some(2)),
        "!Ref ErrorRatePercentThreshold",
        true,
    );
    let throttle = alarm(
        "TableThrottleAlarm",
        &format!(
            "${{AWS::StackName}}: DynamoDB throttled the table or its indexes {minutes} minutes in a row"
        ),
        &throttled,
        (minutes, Some(minutes)),
        "0",
        true,
    );
    let yaml = [yaml, &errors, &throttle].concat();
    let body = layout(&dashboard(routes, consumers, &yaml), 0)
        .replace(&format!("\"{THRESHOLD}\""), THRESHOLD)
        .replace('\n', "\n        ");
    format!(
        r#"
  # Share of requests the functions answered with a 5xx, by their own count;
  # the dashboard splits it per route into Faults (bugs) and
  # DependencyFailures (DynamoDB down, slow or throttling). A period without
  # errors may have no Status5xx data point, hence FILL; one with fewer than
  # ErrorRateMinRequests requests counts as 0; one without requests has no
  # data at all (not breaching).
{errors}
  # Throttling that lasts: DynamoDB throttled the table or an index in each of
  # {minutes} minutes in a row. On-demand tables still throttle past twice their
  # previous peak or on a hot partition; the functions retry a short burst,
  # and what still fails answers 503 (DependencyFailures on the dashboard).
  # DynamoDB publishes these metrics only when something was throttled.
{throttle}
  # The stack's CloudWatch dashboard (the DashboardUrl output).
  Dashboard:
    Type: AWS::CloudWatch::Dashboard
    Properties:
      DashboardName: !Sub "{DASHBOARD_NAME}"
      DashboardBody: !Sub |
        {body}

"#
    )
}

/// DynamoDB's throttle metrics of the table (index `None`) and of each
/// index, which it counts apart: the index, `reads` or `writes`, the metric.
fn throttle_metrics() -> Vec<(Option<&'static str>, &'static str, &'static str)> {
    let indexes = [None, Some(keys::GSI1), Some(keys::GSI2)];
    let kinds = [
        ("reads", "ReadThrottleEvents"),
        ("writes", "WriteThrottleEvents"),
    ];
    (indexes.into_iter())
        .flat_map(|index| kinds.map(|(kind, metric)| (index, kind, metric)))
        .collect()
}

/// The dashboard's body: the paging alarms of the template's `yaml`, the
/// service as a whole, then a graph per metric with a line per route, per
/// consumer, per function.
fn dashboard(routes: &[&Route], consumers: &[&Consumer], yaml: &str) -> Value {
    let throttles = throttle_metrics().into_iter().map(|(index, kind, metric)| {
        let index_dimension = index.map(|index| ["GlobalSecondaryIndexName", index]);
        let label = json!({"label": format!("{} {kind}", index.unwrap_or("table"))});
        let dimensions = ["AWS/DynamoDB", metric, "TableName", "${Table}"]
            .into_iter()
            .chain(index_dimension.into_iter().flatten());
        Value::Array(dimensions.map(|item| json!(item)).chain([label]).collect())
    });
    let throttles: Vec<Value> = throttles.collect();
    let (requests, errors) = (name::REQUESTS, name::STATUS_5XX);
    let [faults, dependencies] = [name::FAULTS, name::DEPENDENCY_FAILURES].map(|metric| format!(
        "SUM(SEARCH('{{{NAMESPACE},{SERVICE},{ROUTE}}} MetricName=\"{metric}\" {SERVICE}=\"{STACK}\"', 'Sum'))"
    ));
    let mut widgets = vec![
        text(&format!(
            "# {STACK}\nThe functions' own metrics (namespace {NAMESPACE}, {SERVICE} = {STACK}, \
             common/src/telemetry/metrics.rs), per minute unless said, with DynamoDB's, API \
             Gateway's and Lambda's. Generated by xtask from the route table \
             (infra/template.yaml): changes made here are lost at the next deploy."
        )),
        alarm_status(yaml),
        text("## The service"),
        graph(
            json!({"title": "Requests per second", "stat": "Sum", "metrics": [
                [NAMESPACE, requests, SERVICE, STACK, {"id": "requests", "visible": false}],
                [{"id": "perSecond", "expression": "requests / PERIOD(requests)", "label": "Answered by the functions"}],
                ["AWS/ApiGateway", "Count", "ApiId", "${HttpApi}", {"id": "api", "visible": false}],
                [{"id": "apiPerSecond", "expression": "api / PERIOD(api)", "label": "Received by API Gateway"}],
            ]}),
        ),
        graph(
            json!({"title": "5xx rate (%), 5-minute periods", "stat": "Sum", "metrics": [
                [NAMESPACE, errors, SERVICE, STACK, {"id": "errors", "visible": false}],
                [NAMESPACE, requests, SERVICE, STACK, {"id": "requests", "visible": false}],
                [{"id": "rate", "expression": "100 * FILL(errors, 0) / requests", "label": "5xx rate (%)"}],
            ], "period": 300, "yAxis": {"left": {"min": 0}}, "annotations": {"horizontal": [
                {"label": "ServiceErrorRateAlarm", "value": THRESHOLD},
            ]}}),
        ),
        graph(json!({"title": "5xx by cause", "stat": "Sum", "metrics": [
            [{"id": "faults", "expression": faults, "label": "Faults: 500s, bugs"}],
            [{"id": "dependencies", "expression": dependencies, "label": "Dependency failures: 503s, DynamoDB"}],
            ["AWS/ApiGateway", "5xx", "ApiId", "${HttpApi}", {"label": "API Gateway 5xx, with crashes and timeouts"}],
        ]})),
        graph(json!({"title": "DynamoDB throttled requests", "stat": "Sum", "metrics": throttles})),
    ];
    let route_names: Vec<&str> = routes.iter().map(|route| route.name).collect();
    let consumers: Vec<&str> = consumers.iter().map(|consumer| consumer.name).collect();
    let functions: Vec<&str> = function_names().collect();
    widgets.push(text(
        "## Per route\nA line per route of functions/src/routes.rs. Of the 5xx, Faults \
         (500) are bugs; Dependency failures (503) are DynamoDB down, slow or throttling.",
    ));
    widgets.extend(per_name(ROUTE_GRAPHS, ROUTE, &route_names));
    widgets.push(text(
        "## Stream consumers\nA line per consumer of functions/src/consumers.rs: the records \
         it took from the table's stream, the batches it stopped at a failing record (each \
         retried from it), how far behind the writes it ran.",
    ));
    widgets.extend(per_name(CONSUMER_GRAPHS, CONSUMER, &consumers));
    widgets.extend(per_name(&[ITERATOR_AGE], FUNCTION, &consumers));
    widgets.push(text(
        "## Lambda, per function\nEvery function, the consumers' and jobs' too: what a \
         function cannot count itself, crashes and timeouts (these answer 5xx at API Gateway, \
         absent from the functions' own counts), throttling.",
    ));
    widgets.extend(per_name(FUNCTION_GRAPHS, FUNCTION, &functions));
    json!({"widgets": widgets})
}

/// A graph per metric of `graphs`, a line per name, twice as wide, the
/// legend on the right: each name is a value of `dimension` of the
/// functions' metrics, or, for Lambda's, the name of a function.
fn per_name(graphs: Graphs, dimension: &str, names: &[&str]) -> Vec<Value> {
    let line = |metric: &str, name: &str| match dimension {
        FUNCTION => {
            json!(["AWS/Lambda", metric, FUNCTION, format!("${{{}Function}}", logical_id(name)), {"label": name}])
        }
        _ => json!([NAMESPACE, metric, SERVICE, STACK, dimension, name, {"label": name}]),
    };
    let graph_of = |(title, metric, stat): &(&str, &str, &str)| {
        let lines: Vec<Value> = names.iter().map(|name| line(metric, name)).collect();
        let legend = json!({"position": "right"});
        let mut graph =
            graph(json!({"title": title, "stat": stat, "metrics": lines, "legend": legend}));
        graph["width"] = json!(12);
        graph
    };
    graphs.iter().map(graph_of).collect()
}

/// A graph widget, 6 wide, a point a minute, with `properties` (its
/// title, statistic and metrics, and any other).
fn graph(properties: Value) -> Value {
    let mut graph = json!({"type": "metric", "width": 6, "height": 6, "properties": {
        "view": "timeSeries", "region": "${AWS::Region}", "period": 60,
    }});
    for (key, value) in properties.as_object().expect("properties are an object") {
        graph["properties"][key] = value.clone();
    }
    graph
}

/// A full-width markdown widget, as tall as its lines.
fn text(markdown: &str) -> Value {
    let height = markdown.lines().count() + 1;
    json!({"type": "text", "width": 24, "height": height, "properties": {"markdown": markdown}})
}

/// The state of every alarm of `yaml` (resources as the template lays them
/// out) that pages: whose block has `AlarmActions`.
fn alarm_status(yaml: &str) -> Value {
    let (mut resource, mut alarms) = ("", Vec::new());
    for line in yaml.lines() {
        match (line.strip_prefix("  ")).and_then(|key| key.strip_suffix(':')) {
            Some(id) if !id.starts_with([' ', '#']) => resource = id,
            _ if line.trim() == "AlarmActions:" => alarms.push(format!("${{{resource}.Arn}}")),
            _ => {}
        }
    }
    json!({"type": "alarm", "width": 24, "height": 4, "properties": {
        "title": "Alarms", "sortBy": "stateUpdatedTimestamp", "alarms": alarms,
    }})
}

/// `value` as JSON to be read (and diffed) a metric a line: an array or an
/// object longer than 200 characters on one line, an item a line.
fn layout(value: &Value, indent: usize) -> String {
    let item = |item| layout(item, indent + 2);
    let (open, items, close): (_, Vec<String>, _) = match value {
        _ if value.to_string().len() <= 200 => return value.to_string(),
        Value::Array(items) => ('[', items.iter().map(item).collect(), ']'),
        Value::Object(fields) => {
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
    use super::*;

    /// Every metric name common/src/telemetry/metrics.rs defines, but the
    /// jobs' (each watched by its job's alarm).
    #[rustfmt::skip]
    const DEFINED: &[&str] = &[
        name::REQUESTS, name::LATENCY, name::STATUS_4XX, name::STATUS_5XX, name::FAULTS,
        name::DEPENDENCY_FAILURES, name::DB_CALLS, name::READ_UNITS, name::WRITE_UNITS,
        name::CACHE_HITS, name::CPU_TIME, name::COLD_STARTS,
        name::STREAM_RECORDS, name::STREAM_FAILURES, name::STREAM_LAG,
    ];

    /// The generated template, parsed; its tags in CloudFormation's JSON
    /// forms (`!Ref X` as `{"Ref": "X"}`, `!GetAtt T.Arn` as
    /// `{"Fn::GetAtt": ["T", "Arn"]}`, `!Sub s` as `{"Fn::Sub": s}`).
    pub(crate) fn template() -> Value {
        let yaml = super::super::sam_template(functions::ROUTES, functions::CONSUMERS);
        to_json(serde_yaml::from_str(&yaml).expect("the template is YAML"))
    }

    fn to_json(yaml: serde_yaml::Value) -> Value {
        use serde_yaml::Value as Yaml;
        match yaml {
            Yaml::Tagged(tagged) => match (tagged.tag.to_string().as_str(), tagged.value) {
                ("!GetAtt", Yaml::String(at)) => {
                    json!({"Fn::GetAtt": at.splitn(2, '.').collect::<Vec<_>>()})
                }
                (tag @ ("!Ref" | "!Condition"), value) => json!({&tag[1..]: to_json(value)}),
                (tag, value) => json!({tag.replacen('!', "Fn::", 1): to_json(value)}),
            },
            Yaml::Sequence(items) => items.into_iter().map(to_json).collect(),
            Yaml::Mapping(fields) => (fields.into_iter())
                .map(|(key, value)| (key.as_str().unwrap().to_owned(), to_json(value)))
                .collect(),
            scalar => serde_json::to_value(scalar).expect("a scalar is JSON"),
        }
    }

    /// The template's alarms: logical id and resource.
    pub(crate) fn alarms(template: &Value) -> impl Iterator<Item = (&String, &Value)> {
        let resources = template["Resources"].as_object().expect("resources");
        (resources.iter()).filter(|(_, resource)| resource["Type"] == "AWS::CloudWatch::Alarm")
    }

    /// The dashboard's body in the template, parsed (its `${...}` left as
    /// they are, the threshold as a string).
    pub(crate) fn dashboard_in(template: &Value) -> Value {
        let body = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
            .as_str()
            .expect("the template has a dashboard")
            .replace(THRESHOLD, &format!("\"{THRESHOLD}\""));
        serde_json::from_str(&body)
            .unwrap_or_else(|err| panic!("DashboardBody is not JSON: {err}\n{body}"))
    }

    /// Every line of every graph of the dashboard, with its graph's title.
    fn graph_lines(body: &Value) -> Vec<(&str, &[Value])> {
        let widgets = body["widgets"].as_array().unwrap();
        let graphs = widgets.iter().filter(|widget| widget["type"] == "metric");
        let lines = graphs.flat_map(|graph| {
            let title = graph["properties"]["title"].as_str().unwrap();
            let lines = graph["properties"]["metrics"].as_array().unwrap();
            (lines.iter()).map(move |line| (title, line.as_array().unwrap().as_slice()))
        });
        lines.collect()
    }

    /// The value of dimension `name` on a metric line (`[ns, metric, dim, value, ..., {}]`).
    fn dimension<'a>(line: &'a [Value], name: &str) -> Option<&'a str> {
        let dimensions = line.get(2..line.len() - 1).unwrap_or_default();
        dimensions.chunks(2).find(|pair| pair[0] == name)?[1].as_str()
    }

    #[test]
    fn the_template_holds_the_dashboard_as_generated() {
        let yaml = super::super::sam_template(functions::ROUTES, functions::CONSUMERS);
        let generated = dashboard(functions::ROUTES, functions::CONSUMERS, &yaml);
        assert_eq!(dashboard_in(&template()), generated);
    }

    #[test]
    fn every_route_and_function_is_on_its_graphs_and_every_paging_alarm_on_the_dashboard() {
        let template = template();
        let body = dashboard_in(&template);
        let lines = graph_lines(&body);
        let on = |graphs: Graphs, name, value: &str| {
            for (title, _, _) in graphs {
                let found = lines
                    .iter()
                    .any(|(graph, line)| graph == title && dimension(line, name) == Some(value));
                assert!(found, "{title:?} lacks {value}");
            }
        };
        let function = |name| format!("${{{}Function}}", logical_id(name));
        for route in functions::ROUTES {
            on(ROUTE_GRAPHS, ROUTE, route.name);
            on(FUNCTION_GRAPHS, FUNCTION, &function(route.function));
        }
        for consumer in functions::CONSUMERS {
            on(CONSUMER_GRAPHS, CONSUMER, consumer.name);
            on(&[ITERATOR_AGE], FUNCTION, &function(consumer.name));
            on(FUNCTION_GRAPHS, FUNCTION, &function(consumer.name));
        }
        for job in functions::JOBS {
            on(FUNCTION_GRAPHS, FUNCTION, &function(job.name));
        }
        // Every alarm pages but the canaries' rollback alarms (CodeDeploy
        // acts on them); every one that pages, and no other, on the widget.
        for (id, alarm) in alarms(&template) {
            let pages = alarm["Properties"]["AlarmActions"].is_array();
            assert_eq!(pages, !id.ends_with("RollbackAlarm"), "{id}");
        }
        let widgets = body["widgets"].as_array().unwrap();
        let status = (widgets.iter()).find(|widget| widget["type"] == "alarm");
        let shown = status.unwrap()["properties"]["alarms"].as_array().unwrap();
        let mut shown: Vec<&str> = shown.iter().map(|arn| arn.as_str().unwrap()).collect();
        let pages = |(_, alarm): &(_, &Value)| alarm["Properties"]["AlarmActions"].is_array();
        let paging = alarms(&template).filter(pages);
        let mut paging: Vec<String> = paging.map(|(id, _)| format!("${{{id}.Arn}}")).collect();
        shown.sort();
        paging.sort();
        assert!(paging.len() > 40, "{paging:?}");
        assert_eq!(shown, paging);
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
            } else if line[0] == NAMESPACE {
                assert_eq!(dimension(line, SERVICE), Some(STACK), "{title}");
                graphed.push((title, line[1].as_str().unwrap()));
            } else {
                assert_ne!(line[0], ".", "{title}: spell every line out");
            }
        }
        for (title, graphed) in &graphed {
            assert!(
                DEFINED.contains(graphed),
                "{title:?} shows {graphed}, which telemetry::metrics does not define"
            );
        }
        for defined in DEFINED {
            assert!(
                graphed.iter().any(|(_, graphed)| graphed == defined),
                "the dashboard does not show {defined}"
            );
        }
    }

    #[test]
    fn alarms_watch_only_metrics_the_functions_emit_for_this_stack() {
        let template = template();
        let stack = json!({"Ref": "AWS::StackName"});
        assert_eq!(
            template["Globals"]["Function"]["Environment"]["Variables"]["SERVICE_NAME"], stack,
            "the functions must report the stack's name as their {SERVICE}"
        );
        let mut watched = Vec::new();
        for (id, alarm) in alarms(&template) {
            // One metric, or metric math over several.
            let properties = &alarm["Properties"];
            let math = properties["Metrics"].as_array().into_iter().flatten();
            let metrics = math.map(|metric| &metric["MetricStat"]["Metric"]);
            let metrics = metrics.chain([properties]);
            for metric in metrics.filter(|metric| metric["Namespace"] == NAMESPACE) {
                let metric_name = metric["MetricName"].as_str().expect("a metric has a name");
                // A job's alarm watches the metric the job itself records.
                let a_jobs = functions::JOBS.iter().any(|job| job.alarm.0 == metric_name);
                assert!(
                    DEFINED.contains(&metric_name) || a_jobs,
                    "{id} watches {metric_name}, which telemetry::metrics does not define"
                );
                assert_eq!(
                    metric["Dimensions"][0],
                    json!({"Name": SERVICE, "Value": stack}),
                    "{id} on {metric_name} watches another service"
                );
                watched.push(metric_name);
            }
        }
        assert!(watched.contains(&name::STATUS_5XX) && watched.contains(&name::REQUESTS));
    }
}
