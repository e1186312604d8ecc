//! The lambda smoke's check of the functions' logs: CloudWatch
//! embedded-metric-format documents as CloudWatch needs them to extract
//! metrics (a namespace, dimensions whose values are on the document, a
//! value for every metric named), with request counts for each route
//! invoked and for the service.
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>

use conduit_common::telemetry::metrics::{NAMESPACE, name};
use serde_json::Value;

/// Checks `log` for `routes`; `Ok` says what was found.
pub fn check(log: &str, routes: &[String]) -> Result<String, String> {
    let mut ours = Vec::new();
    let mut count = 0;
    // Other lines share the stream; EMF documents are JSON objects.
    for (number, line) in log.lines().enumerate() {
        let Some(start) = line.find("{\"_aws\"") else {
            continue;
        };
        let document: Value = serde_json::from_str(&line[start..])
            .map_err(|err| format!("line {}: not JSON: {err}", number + 1))?;
        validate(&document).map_err(|err| format!("line {}: {err}", number + 1))?;
        count += 1;
        if document["_aws"]["CloudWatchMetrics"][0]["Namespace"] == NAMESPACE
            && document.get(name::REQUESTS).is_some()
        {
            ours.push(document);
        }
    }
    let has = |route: Option<&str>| {
        ours.iter().any(|d| match route {
            Some(route) => {
                d["Route"] == route && d["requestId"].as_str().is_some_and(|id| !id.is_empty())
            }
            None => d.get("Route").is_none(),
        })
    };
    let mut missing: Vec<&str> = routes
        .iter()
        .map(String::as_str)
        .filter(|r| !has(Some(r)))
        .collect();
    if !has(None) {
        missing.push("(service-wide)");
    }
    match missing.as_slice() {
        [] => Ok(format!(
            "{count} EMF documents, request counts for {} routes and the service",
            routes.len()
        )),
        missing => Err(format!(
            "no {NAMESPACE} EMF document with `{}` and a requestId for: {}",
            name::REQUESTS,
            missing.join(", ")
        )),
    }
}

/// One document against the specification.
fn validate(document: &Value) -> Result<(), String> {
    document["_aws"]["Timestamp"]
        .as_u64()
        .ok_or("_aws.Timestamp is not a number of milliseconds")?;
    let directives = document["_aws"]["CloudWatchMetrics"].as_array();
    let directives = directives
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
        let metrics = directive["Metrics"].as_array().filter(|m| !m.is_empty());
        for metric in metrics.ok_or("a directive without Metrics")? {
            let metric = metric["Name"].as_str().ok_or("a metric without a Name")?;
            // At most 100 values per metric in one document.
            let ok = match &document[metric] {
                Value::Number(_) => true,
                Value::Array(values) => {
                    (1..=100).contains(&values.len()) && values.iter().all(Value::is_number)
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
    fn wants_a_document_for_every_route_and_the_service() {
        let (tags, login, service) = (
            document(Some("list_tags")),
            document(Some("login")),
            document(None),
        );
        let routes = ["list_tags".to_owned(), "login".to_owned()];
        let log = format!("INFO starting\n{tags}\n{login}\n{service}\n");
        assert!(check(&log, &routes).is_ok(), "{:?}", check(&log, &routes));
        let err = check(&format!("{tags}\n{service}\n"), &routes).unwrap_err();
        assert!(err.ends_with(": login"), "{err}");
        let err = check(&login, &routes[1..]).unwrap_err();
        assert!(err.ends_with(": (service-wide)"), "{err}");
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
