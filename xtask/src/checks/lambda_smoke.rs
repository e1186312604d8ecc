//! `xtask lambda-smoke PORT DIR` (scripts/shipped-e2e.sh): with the
//! functions polling `cargo lambda watch` (its Invoke API on PORT) and
//! writing to DIR/function-NAME.log, every event of `events/` through
//! `cargo lambda invoke`, then the functions' EMF metrics ([`crate::emf`]).
//!
//! `events/NAME.json` is an API Gateway request to the route NAME, invoked
//! on that route's function, or a stream batch for the consumer NAME.
//! Requests go register and login first (their user, jake, and the token
//! that replaces `REPLACE_WITH_TOKEN` in the others), logout last; each
//! must be answered 2xx, holding its [`HOLDS`]. Then get_current_user
//! again must be 401: another process refuses the session logout ended.
//! A consumer must answer a partial batch response without failures.
//! Last, every function's traces: what it sent the collector stand-in
//! (`xtask otlp-sink` in DIR) names each route's request and the DynamoDB
//! calls.

use std::path::Path;

use conduit_common::http::Route;
use serde_json::Value;

/// What an answer must hold besides its 2xx status, by event.
const HOLDS: &[(&str, &str)] = &[
    // Login's session, with the client address API Gateway gave login (its
    // event's requestContext.http.sourceIp).
    ("list_sessions", r#""clientIp":"198.51.100.7""#),
    ("graphql", r#"{"data":{"viewer":{"username":"jake"}}}"#),
    ("graphql_query", r#"{"data":{"tags":["#),
];

/// The events' names, in the order they are invoked.
pub fn events(root: &Path) -> Result<Vec<String>, String> {
    let dir = root.join("events");
    let entries = std::fs::read_dir(&dir).map_err(|err| format!("{}: {err}", dir.display()))?;
    let mut names: Vec<String> = entries
        .filter_map(|entry| {
            let name = entry.ok()?.file_name();
            Some(name.to_str()?.strip_suffix(".json")?.to_owned())
        })
        .collect();
    let rank = |name: &str| match name {
        "register" => 0,
        "login" => 1,
        "logout" => 3,
        _ => 2,
    };
    names.sort_by(|a, b| (rank(a), a).cmp(&(rank(b), b)));
    Ok(names)
}

fn route(name: &str) -> Option<&'static Route> {
    functions::ROUTES
        .iter()
        .copied()
        .find(|route| route.name == name)
}

pub fn run(root: &Path, port: &str, dir: &Path) -> Result<(), String> {
    let names = events(root)?;
    let routes: Vec<String> = names
        .iter()
        .filter(|n| route(n).is_some())
        .cloned()
        .collect();
    let mut steps: Vec<(String, Option<u16>)> = names.into_iter().map(|n| (n, None)).collect();
    steps.push(("get_current_user".to_owned(), Some(401)));
    let mut token = String::new();
    let mut failures = 0;
    let mut report = |what: &str, outcome: Result<String, String>| match outcome {
        Ok(found) => println!("PASS: {what}: {found}"),
        Err(problem) => {
            println!("FAIL: {what}: {problem}");
            failures += 1;
        }
    };
    for (name, status) in &steps {
        let outcome = invoke(root, port, dir, name, &token).and_then(|answer| {
            let body = answer["body"].as_str().unwrap_or_default();
            let body: Value = serde_json::from_str(body).unwrap_or_default();
            if let Some(new) = body["user"]["token"].as_str() {
                token = new.to_owned();
            }
            verdict(name, &answer, *status)
        });
        report(&format!("invoke {name}"), outcome);
    }
    let emf = functions_output(dir).and_then(|log| crate::emf::check(&log, &routes));
    report("EMF metrics in the functions' logs", emf);
    report("traces sent to the collector", traces(dir, &routes));
    match failures {
        0 => {
            println!("lambda smoke: all checks passed");
            Ok(())
        }
        n => Err(format!("lambda smoke: {n} check(s) FAILED")),
    }
}

/// `cargo lambda invoke` of the event `name`, its token put in: the answer.
fn invoke(root: &Path, port: &str, dir: &Path, name: &str, token: &str) -> Result<Value, String> {
    let text = crate::checks::read(&root.join(format!("events/{name}.json")))?;
    let event = dir.join(format!("event-{name}.json"));
    std::fs::write(&event, text.replace("REPLACE_WITH_TOKEN", token))
        .map_err(|err| format!("writing {}: {err}", event.display()))?;
    let function = route(name).map_or(name, |route| route.function);
    let port = format!("--invoke-port={port}");
    let data = format!("--data-file={}", event.display());
    let args = [
        "lambda",
        "invoke",
        function,
        "--invoke-address=127.0.0.1",
        &port,
        &data,
    ];
    let output = crate::checks::cargo(root, &args)?;
    serde_json::from_str(&output).map_err(|_| format!("no answer: {}", excerpt(&output)))
}

/// `Ok` saying what it found if the answer to the event `name` is a batch
/// without failures, or has `status` (any 2xx if none) and `name`'s [`HOLDS`].
pub fn verdict(name: &str, answer: &Value, status: Option<u16>) -> Result<String, String> {
    if let Some(failures) = answer.get("batchItemFailures") {
        return match failures.as_array() {
            Some(failures) if failures.is_empty() => Ok("a batch without failures".to_owned()),
            _ => Err(format!("failures: {failures}")),
        };
    }
    let got = answer["statusCode"].as_u64();
    let body = answer["body"].as_str().unwrap_or_default();
    let missing: Vec<&str> = HOLDS
        .iter()
        .filter(|(event, text)| *event == name && !body.contains(text))
        .map(|(_, text)| *text)
        .collect();
    let ok = match (got, status) {
        (Some(got), Some(want)) => got == u64::from(want),
        (Some(got), None) => (200..300).contains(&got),
        (None, _) => false,
    };
    let want = status.map_or("2xx".to_owned(), |s| s.to_string());
    match (ok, missing.as_slice()) {
        (true, []) => Ok(format!("{}", got.unwrap_or_default())),
        (true, missing) => Err(format!("no {} in {}", missing.join(", "), excerpt(body))),
        (false, _) => Err(format!("want {want}, got {}", excerpt(&answer.to_string()))),
    }
}

/// `Ok` if the functions' exports to the collector (otlp-sink) hold every
/// route's request span, DynamoDB operations, their attempts, and the
/// consumers' record spans.
/// A function sends its spans after its response: the last ones may still
/// be on their way, so this waits for them (a minute at most).
fn traces(dir: &Path, routes: &[String]) -> Result<String, String> {
    let spans = [
        "DynamoDB.GetItem",
        "try_attempt",
        "batch",
        "fan_out_feeds INSERT",
    ];
    let started = std::time::Instant::now();
    loop {
        let exports = crate::checks::otlp_sink::exports(dir)?;
        let missing: Vec<&str> = (routes.iter().map(String::as_str))
            .chain(spans)
            .filter(|name| !crate::checks::otlp_sink::span_named(&exports, name))
            .collect();
        let count = exports.len();
        match missing.as_slice() {
            [] => return Ok(format!("{count} exports, with every route's request span")),
            _ if started.elapsed().as_secs() < 60 => {
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            missing => {
                return Err(format!(
                    "no span named {} in {count} exports",
                    missing.join(", ")
                ));
            }
        }
    }
}

/// What the functions wrote: each DIR/function-NAME.log.
fn functions_output(dir: &Path) -> Result<String, String> {
    let entries = std::fs::read_dir(dir).map_err(|err| format!("{}: {err}", dir.display()))?;
    let mut logs: Vec<_> = entries
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| {
            let name = path.file_name().and_then(|name| name.to_str());
            name.is_some_and(|name| name.starts_with("function-") && name.ends_with(".log"))
        })
        .collect();
    logs.sort();
    logs.iter()
        .map(|log| crate::checks::read(log).map(|text| text + "\n"))
        .collect()
}

fn excerpt(text: &str) -> String {
    text.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_event_is_a_request_to_its_route_or_a_batch_its_consumer_takes_whole() {
        use conduit_common::lambda_http::aws_lambda_events::event::dynamodb::Event;
        let root = crate::generated::workspace_root();
        let names = events(&root).unwrap();
        for name in &names {
            let text = std::fs::read_to_string(root.join(format!("events/{name}.json"))).unwrap();
            let event: Value = serde_json::from_str(&text).unwrap();
            if let Some(route) = route(name) {
                let key = format!("{} {}", route.method, route.path);
                assert_eq!(event["routeKey"], key, "{name}");
                assert_eq!(event["requestContext"]["routeKey"], key, "{name}");
                continue;
            }
            let consumer = functions::CONSUMERS.iter().find(|c| c.name == name);
            let consumer = consumer.unwrap_or_else(|| panic!("{name}: no route or consumer"));
            let event: Event = serde_json::from_value(event).unwrap();
            assert!(!event.records.is_empty(), "{name}");
            for record in &event.records {
                assert!(consumer.accepts(record), "{name} would not get {record:?}");
            }
        }
        assert_eq!(names[..2], ["register", "login"]);
        assert_eq!(names.last().unwrap(), "logout");
        assert!(
            HOLDS
                .iter()
                .all(|(name, _)| names.iter().any(|n| n == name))
        );
    }

    #[test]
    fn an_answer_passes_with_its_status_and_what_it_must_hold() {
        let answer = |status: u16, body: &str| json!({"statusCode": status, "body": body});
        let sessions = r#"{"sessions":[{"clientIp":"198.51.100.7"}]}"#;
        assert!(verdict("list_sessions", &answer(200, sessions), None).is_ok());
        assert!(verdict("list_sessions", &answer(200, "{}"), None).is_err());
        assert!(verdict("register", &answer(201, ""), None).is_ok());
        assert!(verdict("register", &answer(409, ""), None).is_err());
        assert!(verdict("get_current_user", &answer(401, ""), Some(401)).is_ok());
        assert!(verdict("get_current_user", &answer(200, ""), Some(401)).is_err());
        assert!(verdict("list_tags", &json!({"errorType": "Panic"}), None).is_err());
        let batch = |failures| json!({ "batchItemFailures": failures });
        assert!(verdict("fan_out_feeds", &batch(json!([])), None).is_ok());
        let failed = batch(json!([{"itemIdentifier": "12"}]));
        assert!(verdict("fan_out_feeds", &failed, None).is_err());
    }
}
