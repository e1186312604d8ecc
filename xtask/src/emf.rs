//! `xtask check-emf LOG ROUTE...`: checks that a function log (what `cargo
//! lambda watch` printed) holds valid CloudWatch embedded-metric-format
//! documents for each ROUTE, as CloudWatch would need them to extract
//! metrics: a namespace, dimension names whose values are on the document,
//! and a value for every metric named.
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>

use conduit_common::telemetry::metrics::{NAMESPACE, name};
use serde_json::Value;

/// Values EMF accepts per metric in one document.
const MAX_VALUES: usize = 100;

/// Checks `log` for `routes`; `Ok` says what was found.
pub fn check(log: &str, routes: &[String]) -> Result<String, String> {
    let mut documents = Vec::new();
    for (number, line) in log.lines().enumerate() {
        // Other tools' lines share the stream; EMF documents are JSON objects.
        let Some(start) = line.find("{\"_aws\"") else {
            continue;
        };
        let document: Value = serde_json::from_str(&line[start..])
            .map_err(|err| format!("line {}: not JSON: {err}", number + 1))?;
        validate(&document).map_err(|err| format!("line {}: {err}", number + 1))?;
        documents.push(document);
    }
    let ours = |document: &&Value| {
        document["_aws"]["CloudWatchMetrics"][0]["Namespace"] == NAMESPACE
            && document.get(name::REQUESTS).is_some()
    };
    let mut missing = Vec::new();
    for route in routes {
        let found = documents.iter().filter(ours).any(|d| {
            d["Route"] == route.as_str() && d["requestId"].as_str().is_some_and(|id| !id.is_empty())
        });
        if !found {
            missing.push(route.as_str());
        }
    }
    if !documents
        .iter()
        .filter(ours)
        .any(|d| d.get("Route").is_none())
    {
        missing.push("(service-wide)");
    }
    if missing.is_empty() {
        Ok(format!(
            "{} EMF documents, namespace {NAMESPACE}, with request counts for {} routes and the service",
            documents.len(),
            routes.len()
        ))
    } else {
        Err(format!(
            "no {NAMESPACE} EMF document with `{}` and a requestId for: {}",
            name::REQUESTS,
            missing.join(", ")
        ))
    }
}

/// One document against the specification.
fn validate(document: &Value) -> Result<(), String> {
    document["_aws"]["Timestamp"]
        .as_u64()
        .ok_or("_aws.Timestamp is not a number of milliseconds")?;
    let directives = document["_aws"]["CloudWatchMetrics"]
        .as_array()
        .filter(|d| !d.is_empty())
        .ok_or("_aws.CloudWatchMetrics is not a non-empty array")?;
    for directive in directives {
        directive["Namespace"]
            .as_str()
            .filter(|n| !n.is_empty())
            .ok_or("a directive without a Namespace")?;
        let sets = directive["Dimensions"]
            .as_array()
            .ok_or("a directive without Dimensions")?;
        for dimension in sets
            .iter()
            .flat_map(|set| set.as_array().into_iter().flatten())
        {
            let dimension = dimension
                .as_str()
                .ok_or("a dimension name is not a string")?;
            if !document[dimension].is_string() {
                return Err(format!("dimension {dimension} has no string value"));
            }
        }
        let metrics = directive["Metrics"]
            .as_array()
            .filter(|m| !m.is_empty())
            .ok_or("a directive without Metrics")?;
        for metric in metrics {
            let metric = metric["Name"].as_str().ok_or("a metric without a Name")?;
            let ok = match &document[metric] {
                Value::Number(_) => true,
                Value::Array(values) => {
                    !values.is_empty()
                        && values.len() <= MAX_VALUES
                        && values.iter().all(Value::is_number)
                }
                _ => false,
            };
            if !ok {
                return Err(format!("metric {metric} has no valid value"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(route: Option<&str>) -> String {
        let (dimensions, route) = match route {
            Some(route) => (r#"["Service","Route"]"#, format!(r#","Route":"{route}""#)),
            None => (r#"["Service"]"#, String::new()),
        };
        format!(
            r#"{{"_aws":{{"Timestamp":1700000000000,"CloudWatchMetrics":[{{"Namespace":"Conduit","Dimensions":[{dimensions}],"Metrics":[{{"Name":"Requests","Unit":"Count"}},{{"Name":"Latency","Unit":"Milliseconds"}}]}}]}},"Service":"conduit"{route},"requestId":"r-1","Requests":1,"Latency":[3.5]}}"#
        )
    }

    #[test]
    fn accepts_documents_for_every_route_and_the_service() {
        let log = format!(
            "INFO starting\n{}\n{}\n{}\n",
            document(Some("list_tags")),
            document(Some("login")),
            document(None)
        );
        let routes = ["list_tags".to_owned(), "login".to_owned()];
        assert!(check(&log, &routes).is_ok(), "{:?}", check(&log, &routes));
    }

    #[test]
    fn names_the_routes_without_metrics() {
        let log = format!("{}\n{}\n", document(Some("list_tags")), document(None));
        let err = check(&log, &["list_tags".to_owned(), "login".to_owned()]).unwrap_err();
        assert!(err.ends_with(": login"), "{err}");
        let err = check(&document(Some("login")), &["login".to_owned()]).unwrap_err();
        assert!(err.contains("(service-wide)"), "{err}");
    }

    #[test]
    fn rejects_documents_cloudwatch_would_drop() {
        let no_value = document(None).replace(r#""Latency":[3.5]"#, r#""Latency":"fast""#);
        assert!(check(&no_value, &[]).unwrap_err().contains("Latency"));
        let no_dimension = document(None).replace(r#""Service":"conduit","#, "");
        assert!(check(&no_dimension, &[]).unwrap_err().contains("Service"));
        let no_timestamp = document(None).replace(r#""Timestamp":1700000000000,"#, "");
        assert!(check(&no_timestamp, &[]).unwrap_err().contains("Timestamp"));
    }
}
