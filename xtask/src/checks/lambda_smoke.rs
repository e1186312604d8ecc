//! `xtask lambda-smoke PORT DIR`: the checks of `scripts/lambda-smoke.sh`
//! (functions watch compiles and runs) and of `scripts/shipped-e2e.sh` (the
//! shipped ones, started by the script), once conduit-local and `cargo
//! lambda watch` are up (invoke port PORT; the functions' output in
//! DIR/watch.log or DIR/function-NAME.log; the edited events go in DIR
//! too). With a new user:
//!
//! 1. each of [`FUNCTIONS`] once through `cargo lambda invoke`, with its
//!    fixture from `events/` edited for that user (and the token of the
//!    login);
//! 2. each of [`CONSUMERS`] through `cargo lambda invoke` with its stream
//!    event from `events/`, answering a partial batch response with no
//!    failures;
//! 3. the functions' EMF metrics in watch's output ([`crate::emf`]);
//! 4. the same calls through watch's HTTP router, with curl.
//!
//! Prints one PASS/FAIL line per check and fails if any failed.
//! `xtask lambda-smoke --functions` lists the functions, for the script to
//! build them before watch starts.

use std::path::Path;
use std::time::Instant;

use serde_json::{Value, json};

/// The functions invoked, each with its fixture `events/<name>.json`.
pub const FUNCTIONS: &[&str] = &[
    "register",
    "login",
    "get_current_user",
    "list_sessions",
    "get_profile",
    "list_tags",
    "list_articles",
];

/// The stream consumers invoked, each with its DynamoDB stream event
/// `events/<name>.json`.
pub const CONSUMERS: &[&str] = &["fan_out_feeds", "clean_up_articles", "clean_up_users"];

/// In an edit or header, replaced by the token of the last response that
/// carried one (the login's).
const TOKEN: &str = "{token}";

pub enum Request {
    /// `cargo lambda invoke FUNCTION` with its fixture, edited (see [`edit_event`]).
    Invoke {
        function: &'static str,
        edits: Vec<(&'static str, String)>,
    },
    /// `cargo lambda invoke CONSUMER` with its stream event, as it is.
    Consume { consumer: &'static str },
    /// A request to watch's router.
    Http {
        method: &'static str,
        path: String,
        headers: Vec<String>,
        body: Option<String>,
    },
}

/// A request and what its response must have: this status, this text in the body.
pub struct Call {
    pub request: Request,
    pub status: u16,
    pub text: String,
}

#[derive(Debug, PartialEq)]
pub struct Response {
    pub status: u16,
    pub body: String,
}

/// The calls for one user: first the invocations, then the router requests.
pub fn calls(user: &str, email: &str, password: &str) -> (Vec<Call>, Vec<Call>) {
    let is_user = format!("\"username\":\"{user}\"");
    let invoke = |function, edits: &[(&'static str, &str)], status, text: &str| Call {
        request: Request::Invoke {
            function,
            edits: edits.iter().map(|&(k, v)| (k, v.to_owned())).collect(),
        },
        status,
        text: text.to_owned(),
    };
    let http =
        |method, path: &str, headers: &[&str], body: Option<Value>, status, text: &str| Call {
            request: Request::Http {
                method,
                path: path.to_owned(),
                headers: headers.iter().map(|h| h.to_string()).collect(),
                body: body.map(|b| b.to_string()),
            },
            status,
            text: text.to_owned(),
        };
    let credentials = [("email", email), ("password", password)];
    let invocations = vec![
        invoke(
            "register",
            &[("username", user), credentials[0], credentials[1]],
            201,
            &is_user,
        ),
        invoke("login", &credentials, 200, &is_user),
        invoke("get_current_user", &[("token", TOKEN)], 200, &is_user),
        // The login's session, with the client address API Gateway gave
        // (its fixture's `requestContext.http.sourceIp`).
        invoke(
            "list_sessions",
            &[("token", TOKEN)],
            200,
            "\"clientIp\":\"198.51.100.7\"",
        ),
        invoke("get_profile", &[("path.username", user)], 200, &is_user),
        invoke("list_tags", &[], 200, "\"tags\":["),
        invoke("list_articles", &[], 200, "\"articlesCount\":"),
    ];
    let consume = CONSUMERS.iter().map(|&consumer| Call {
        request: Request::Consume { consumer },
        status: 200,
        text: "\"batchItemFailures\":[]".to_owned(),
    });
    let invocations = invocations.into_iter().chain(consume).collect();
    let login = json!({"user": {"email": email, "password": password}});
    let router = vec![
        http(
            "POST",
            "/api/users/login",
            &["content-type: application/json"],
            Some(login),
            200,
            &is_user,
        ),
        http(
            "GET",
            "/api/user",
            &["authorization: Token {token}"],
            None,
            200,
            &is_user,
        ),
        http("GET", "/api/user", &[], None, 401, "\"token\""),
        // Both methods of GraphQL's one function, through the router.
        http(
            "POST",
            "/api/graphql",
            &[
                "content-type: application/json",
                "authorization: Token {token}",
            ],
            Some(json!({"query": "{ viewer { username } }"})),
            200,
            &is_user,
        ),
        http(
            "GET",
            "/api/graphql?query=%7B%20tags%20%7D",
            &[],
            None,
            200,
            "{\"data\":{\"tags\":[",
        ),
        http(
            "POST",
            "/api/user/logout",
            &["authorization: Token {token}"],
            None,
            204,
            "",
        ),
        http(
            "GET",
            "/api/user",
            &["authorization: Token {token}"],
            None,
            401,
            "\"token\"",
        ),
        http(
            "GET",
            &format!("/api/profiles/{user}"),
            &[],
            None,
            200,
            &is_user,
        ),
        http("GET", "/api/tags", &[], None, 200, "\"tags\":["),
        http(
            "GET",
            "/api/articles?limit=1&offset=0",
            &[],
            None,
            200,
            "\"articlesCount\":",
        ),
    ];
    (invocations, router)
}

pub fn run(root: &Path, port: &str, dir: &Path) -> Result<(), String> {
    let started = Instant::now();
    let unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let uid = format!("{unix}{}", std::process::id());
    let user = format!("smoke{uid}");
    let (invocations, router) = calls(&user, &format!("{user}@example.com"), &format!("pw-{uid}"));
    let mut smoke = Smoke {
        root,
        port,
        dir,
        token: "none".to_owned(),
        failures: 0,
    };

    let t = Instant::now();
    smoke.make(&invocations);
    println!("invocations: {}", since(t));

    let emf = functions_output(dir).and_then(|log| {
        let functions: Vec<String> = FUNCTIONS.iter().map(|f| f.to_string()).collect();
        crate::emf::check(&log, &functions)
    });
    smoke.outcome("EMF metrics in the functions' logs", emf);

    let t = Instant::now();
    smoke.make(&router);
    println!("router requests: {}", since(t));
    println!("checks: {}", since(started));
    match smoke.failures {
        0 => {
            println!("lambda smoke: all checks passed");
            Ok(())
        }
        n => Err(format!("lambda smoke: {n} check(s) FAILED")),
    }
}

/// What the functions wrote: watch's output when it runs them, and each
/// `function-NAME.log` when a script does (not the server's log).
fn functions_output(dir: &Path) -> Result<String, String> {
    let entries = std::fs::read_dir(dir).map_err(|err| format!("{}: {err}", dir.display()))?;
    let mut logs: Vec<_> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| {
                    name == "watch.log" || (name.starts_with("function-") && name.ends_with(".log"))
                })
        })
        .collect();
    logs.sort();
    logs.iter()
        .map(|log| crate::checks::read(log).map(|text| text + "\n"))
        .collect()
}

struct Smoke<'a> {
    root: &'a Path,
    port: &'a str,
    /// Where the edited events go.
    dir: &'a Path,
    token: String,
    failures: usize,
}

impl Smoke<'_> {
    fn make(&mut self, calls: &[Call]) {
        for call in calls {
            let (what, response) = match &call.request {
                Request::Invoke { function, edits } => {
                    (format!("invoke {function}"), self.invoke(function, edits))
                }
                Request::Consume { consumer } => {
                    (format!("invoke {consumer}"), self.consume(consumer))
                }
                Request::Http {
                    method,
                    path,
                    headers,
                    body,
                } => (
                    format!("router {method} {path}"),
                    self.http(method, path, headers, body.as_deref()),
                ),
            };
            if let Some(token) = response.as_ref().ok().and_then(|r| token(&r.body)) {
                self.token = token;
            }
            self.outcome(&what, verdict(&response, call.status, &call.text));
        }
    }

    fn outcome(&mut self, what: &str, outcome: Result<String, String>) {
        match outcome {
            Ok(found) => println!("PASS: {what}: {found}"),
            Err(problem) => {
                println!("FAIL: {what}: {problem}");
                self.failures += 1;
            }
        }
    }

    fn invoke(&self, function: &str, edits: &[(&str, String)]) -> Result<Response, String> {
        let t = Instant::now();
        let fixture = self.root.join("events").join(format!("{function}.json"));
        let event = crate::checks::read(&fixture)
            .and_then(|text| serde_json::from_str(&text).map_err(|err| format!("{err}")))
            .map_err(|err| format!("{}: {err}", fixture.display()))?;
        let edits: Vec<(&str, String)> = edits
            .iter()
            .map(|(key, value)| (*key, value.replace(TOKEN, &self.token)))
            .collect();
        let event = edit_event(event, &edits)?.to_string();
        let file = self.dir.join(format!("{function}.json"));
        std::fs::write(&file, event).map_err(|err| format!("writing {}: {err}", file.display()))?;
        let output = self.cargo_invoke(function, &file);
        println!("  invoke {function}: {}", since(t));
        parse_invocation(&output?)
    }

    /// `cargo lambda invoke FUNCTION --data-file EVENT` against watch: what
    /// it printed.
    fn cargo_invoke(&self, function: &str, event: &Path) -> Result<String, String> {
        crate::checks::cargo(
            self.root,
            &[
                "lambda",
                "invoke",
                function,
                "--invoke-address=127.0.0.1",
                &format!("--invoke-port={}", self.port),
                &format!("--data-file={}", event.display()),
            ],
        )
    }

    /// Invokes a stream consumer with its fixture; a partial batch
    /// response is a 200 with it as the body.
    fn consume(&self, consumer: &str) -> Result<Response, String> {
        let t = Instant::now();
        let fixture = self.root.join("events").join(format!("{consumer}.json"));
        let output = self.cargo_invoke(consumer, &fixture);
        println!("  invoke {consumer}: {}", since(t));
        parse_batch_response(&output?)
    }

    fn http(
        &self,
        method: &str,
        path: &str,
        headers: &[String],
        body: Option<&str>,
    ) -> Result<Response, String> {
        let url = format!("http://127.0.0.1:{}{path}", self.port);
        let mut curl = std::process::Command::new("curl");
        curl.args([
            "-s",
            "-m",
            "120",
            "-w",
            "\n%{http_code}",
            "-X",
            method,
            &url,
        ]);
        for header in headers {
            curl.args(["-H", &header.replace(TOKEN, &self.token)]);
        }
        if let Some(body) = body {
            curl.args(["-d", body]);
        }
        let output = curl
            .output()
            .map_err(|err| format!("running curl: {err}"))?;
        if !output.status.success() {
            return Err(format!("curl failed ({})", output.status));
        }
        parse_curl(&String::from_utf8_lossy(&output.stdout))
    }
}

fn since(start: Instant) -> String {
    format!("{:.1}s", start.elapsed().as_secs_f64())
}

/// A copy of an API Gateway v2 event with, per `KEY=VALUE` edit: `token`,
/// the token in the authorization header; `path.NAME`, that path parameter,
/// in the raw and request paths too; any other key, that field of the
/// body's `user`.
pub fn edit_event(mut event: Value, edits: &[(&str, String)]) -> Result<Value, String> {
    let mut body: Option<Value> = match event.get("body").and_then(Value::as_str) {
        Some(text) if !text.is_empty() => {
            Some(serde_json::from_str(text).map_err(|err| format!("the event's body: {err}"))?)
        }
        _ => None,
    };
    for (key, value) in edits {
        if *key == "token" {
            event
                .get_mut("headers")
                .and_then(Value::as_object_mut)
                .ok_or("the event has no headers")?
                .insert("authorization".to_owned(), format!("Token {value}").into());
        } else if let Some(name) = key.strip_prefix("path.") {
            let param = event
                .pointer_mut(&format!("/pathParameters/{name}"))
                .ok_or_else(|| format!("the event has no path parameter {name}"))?;
            let old = format!("/{}", param.as_str().unwrap_or_default());
            *param = value.as_str().into();
            for pointer in ["/rawPath", "/requestContext/http/path"] {
                let path = event
                    .pointer_mut(pointer)
                    .ok_or_else(|| format!("the event has no {pointer}"))?;
                *path = path
                    .as_str()
                    .unwrap_or_default()
                    .replace(&old, &format!("/{value}"))
                    .into();
            }
        } else {
            body.as_mut()
                .and_then(|body| body.get_mut("user"))
                .and_then(Value::as_object_mut)
                .ok_or_else(|| format!("{key}: the event's body has no user"))?
                .insert(key.to_string(), value.as_str().into());
        }
    }
    if let Some(body) = body {
        event["body"] = body.to_string().into();
    }
    Ok(event)
}

/// The API Gateway response that `cargo lambda invoke` printed.
pub fn parse_invocation(output: &str) -> Result<Response, String> {
    let no_response = || format!("no response: {}", excerpt(output));
    let response: Value = serde_json::from_str(output).map_err(|_| no_response())?;
    Ok(Response {
        status: response["statusCode"]
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .ok_or_else(no_response)?,
        body: response["body"].as_str().unwrap_or_default().to_owned(),
    })
}

/// The partial batch response (`ReportBatchItemFailures`) that `cargo
/// lambda invoke` printed for a stream consumer, compacted.
pub fn parse_batch_response(output: &str) -> Result<Response, String> {
    let response: Value =
        serde_json::from_str(output).map_err(|_| format!("no response: {}", excerpt(output)))?;
    if !response["batchItemFailures"].is_array() {
        return Err(format!("not a batch response: {}", excerpt(output)));
    }
    Ok(Response {
        status: 200,
        body: response.to_string(),
    })
}

/// curl's output with `-w '\n%{http_code}'`: the body, then the status.
pub fn parse_curl(output: &str) -> Result<Response, String> {
    let (body, status) = output.rsplit_once('\n').unwrap_or(("", output));
    match status.trim().parse() {
        Ok(status) if status != 0 => Ok(Response {
            status,
            body: body.to_owned(),
        }),
        _ => Err(format!("no HTTP response: {}", excerpt(output))),
    }
}

/// `Ok` saying what matched if the response has `status` and `text` in its body.
pub fn verdict(
    response: &Result<Response, String>,
    status: u16,
    text: &str,
) -> Result<String, String> {
    match response {
        Ok(r) if r.status == status && r.body.contains(text) => {
            Ok(format!("{status}, body has {text}"))
        }
        Ok(r) => Err(format!(
            "want {status} with {text}, got {}: {}",
            r.status,
            excerpt(&r.body)
        )),
        Err(problem) => Err(format!("want {status} with {text}, got {problem}")),
    }
}

/// `user.token` of a JSON response body.
pub fn token(body: &str) -> Option<String> {
    let body: Value = serde_json::from_str(body).ok()?;
    Some(body["user"]["token"].as_str()?.to_owned())
}

fn excerpt(text: &str) -> String {
    text.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::TempDir;

    #[test]
    fn the_functions_output_is_watchs_or_each_functions_not_the_servers() {
        let dir = TempDir::new("functions-output");
        std::fs::write(dir.0.join("watch.log"), "from watch").unwrap();
        std::fs::write(dir.0.join("function-login.log"), "from login").unwrap();
        std::fs::write(dir.0.join("server.log"), "from the server").unwrap();
        let output = functions_output(&dir.0).unwrap();
        assert!(output.contains("from watch") && output.contains("from login"));
        assert!(!output.contains("from the server"));
    }

    fn fixture(name: &str) -> Value {
        let path = crate::generated::workspace_root().join(format!("events/{name}.json"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn edits(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
        pairs.iter().map(|&(k, v)| (k, v.to_owned())).collect()
    }

    #[test]
    fn body_fields_are_set_on_the_user() {
        let event = edit_event(
            fixture("register"),
            &edits(&[("username", "ann"), ("email", "a@b.c")]),
        )
        .unwrap();
        let body: Value = serde_json::from_str(event["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["user"]["username"], "ann");
        assert_eq!(body["user"]["email"], "a@b.c");
        assert_eq!(body["user"]["password"], "jakejake");
    }

    #[test]
    fn the_token_goes_in_the_authorization_header() {
        let event = edit_event(fixture("get_current_user"), &edits(&[("token", "abc")])).unwrap();
        assert_eq!(event["headers"]["authorization"], "Token abc");
        assert_eq!(event["headers"]["accept"], "application/json");
    }

    #[test]
    fn a_path_parameter_changes_the_paths_too() {
        let event =
            edit_event(fixture("get_profile"), &edits(&[("path.username", "ann")])).unwrap();
        assert_eq!(event["pathParameters"]["username"], "ann");
        assert_eq!(event["rawPath"], "/api/profiles/ann");
        assert_eq!(event["requestContext"]["http"]["path"], "/api/profiles/ann");
        assert_eq!(event["routeKey"], "GET /api/profiles/{username}");
    }

    #[test]
    fn edits_the_event_has_no_place_for_are_errors() {
        assert!(edit_event(fixture("list_tags"), &edits(&[("email", "x")])).is_err());
        assert!(edit_event(fixture("list_tags"), &edits(&[("path.slug", "x")])).is_err());
        assert!(edit_event(json!({}), &edits(&[("token", "x")])).is_err());
        assert_eq!(
            edit_event(fixture("list_tags"), &[]).unwrap(),
            fixture("list_tags")
        );
    }

    #[test]
    fn every_call_fits_its_fixture_and_every_function_is_invoked() {
        let (invocations, router) = calls("ann", "ann@example.com", "secret");
        let mut invoked = Vec::new();
        let mut consumed = Vec::new();
        for call in &invocations {
            match &call.request {
                Request::Invoke { function, edits } => {
                    edit_event(fixture(function), edits).unwrap();
                    invoked.push(*function);
                }
                Request::Consume { consumer } => consumed.push(*consumer),
                Request::Http { .. } => panic!("a router request among the invocations"),
            }
        }
        assert_eq!(invoked, FUNCTIONS);
        assert_eq!(consumed, CONSUMERS);
        assert!(
            router
                .iter()
                .all(|c| matches!(c.request, Request::Http { .. }))
        );
    }

    #[test]
    fn reads_an_invocations_response() {
        let out = r#"{"statusCode":201,"headers":{},"body":"{\"user\":{\"token\":\"t\"}}"}"#;
        let response = parse_invocation(out).unwrap();
        assert_eq!(response.status, 201);
        assert_eq!(token(&response.body).as_deref(), Some("t"));
        assert_eq!(
            parse_invocation(r#"{"statusCode":204}"#),
            Ok(Response {
                status: 204,
                body: String::new()
            })
        );
        assert!(parse_invocation("error: connection refused").is_err());
        assert!(parse_invocation(r#"{"errorType":"Panic"}"#).is_err());
    }

    #[test]
    fn reads_curls_output() {
        assert_eq!(
            parse_curl("{\"a\":\n1}\n200"),
            Ok(Response {
                status: 200,
                body: "{\"a\":\n1}".to_owned()
            })
        );
        assert_eq!(parse_curl("\n401").unwrap().status, 401);
        assert!(parse_curl("\n000").is_err());
        assert!(parse_curl("").is_err());
    }

    #[test]
    fn a_response_passes_with_the_status_and_the_text() {
        let ok = |status, body: &str| {
            Ok(Response {
                status,
                body: body.to_owned(),
            })
        };
        assert!(verdict(&ok(200, r#"{"tags":[]}"#), 200, "\"tags\":[").is_ok());
        assert_eq!(
            verdict(&ok(500, "boom"), 200, "tags"),
            Err("want 200 with tags, got 500: boom".to_owned())
        );
        assert!(verdict(&ok(200, "{}"), 200, "tags").is_err());
        assert!(verdict(&Err("no response".to_owned()), 200, "tags").is_err());
        assert_eq!(token("{}"), None);
    }

    #[test]
    fn a_consumer_answers_a_partial_batch_response() {
        let response = parse_batch_response("{\n  \"batchItemFailures\": []\n}").unwrap();
        assert_eq!(response.body, r#"{"batchItemFailures":[]}"#);
        let failed = r#"{"batchItemFailures":[{"itemIdentifier":"12"}]}"#;
        assert!(
            verdict(
                &parse_batch_response(failed),
                200,
                r#""batchItemFailures":[]"#
            )
            .is_err()
        );
        assert!(parse_batch_response(r#"{"statusCode":200}"#).is_err());
    }

    #[test]
    fn each_consumer_fixture_is_a_stream_event_its_consumer_takes_whole() {
        use conduit_common::lambda_http::aws_lambda_events::event::dynamodb::Event;
        for name in CONSUMERS {
            let consumer = functions::CONSUMERS
                .iter()
                .find(|c| c.name == *name)
                .unwrap_or_else(|| panic!("{name} is no consumer"));
            let event: Event = serde_json::from_value(fixture(name)).unwrap();
            assert!(!event.records.is_empty(), "{name}");
            for record in &event.records {
                assert!(consumer.accepts(record), "{name} would not get {record:?}");
            }
        }
    }
}
