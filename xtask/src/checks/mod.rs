//! The checks `scripts/` runs around the tools it starts, a subcommand
//! each, their logic in plain functions with unit tests. The templates'
//! checks state what they expect as JSON fragments ([`expect`]).

pub mod artifacts;
pub mod breaks;
pub mod deployed;
pub mod edge;
pub mod feature_parity;
pub mod lambda_smoke;
pub mod otlp_sink;
pub mod samconfig;
pub mod transformed;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// `cargo ARGS...` in `dir` (the `cargo` running xtask, if any): its
/// standard output, or its standard error if it failed.
pub fn cargo(dir: &Path, args: &[&str]) -> Result<String, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(&cargo).args(args).current_dir(dir).output();
    let output = output.map_err(|err| format!("running {cargo}: {err}"))?;
    let command = format!("`cargo {}`", args.join(" "));
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!("{command} failed: {}", stderr.trim()));
    }
    String::from_utf8(output.stdout).map_err(|err| format!("{command}: {err}"))
}

/// Prints each problem under `what`; fails if there are any, and otherwise
/// prints `what: ok` and `passed`.
pub fn report(what: &str, problems: &[String], passed: &str) -> Result<(), String> {
    for problem in problems {
        println!("{what}: {problem}");
    }
    if !problems.is_empty() {
        return Err(format!("{what}: {} problem(s)", problems.len()));
    }
    println!("{what}: ok{passed}");
    Ok(())
}

/// Reads a file, naming it in the error.
pub fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|err| format!("reading {}: {err}", path.display()))
}

/// A problem for each place where `actual` does not hold `want`: each key
/// of its objects with a value `actual` holds (a missing key is null), its
/// arrays element by element, anything else equal. Each names its place:
/// `{what}.Path[0].Key is X, expected Y`.
pub fn expect(problems: &mut Vec<String>, what: &str, actual: &Value, want: Value) {
    match (actual, &want) {
        (Value::Object(actual), Value::Object(wanted)) => {
            for (key, want) in wanted {
                let at = if what.is_empty() {
                    key.clone()
                } else {
                    format!("{what}.{key}")
                };
                expect(
                    problems,
                    &at,
                    actual.get(key).unwrap_or(&Value::Null),
                    want.clone(),
                );
            }
        }
        (Value::Array(actual), Value::Array(wanted)) if actual.len() == wanted.len() => {
            for (n, (actual, want)) in actual.iter().zip(wanted).enumerate() {
                expect(problems, &format!("{what}[{n}]"), actual, want.clone());
            }
        }
        _ if *actual == want => {}
        _ => problems.push(format!("{what} is {actual}, expected {want}")),
    }
}

/// Whether `actual` holds `want`, as [`expect`] reads it.
pub fn holds(actual: &Value, want: &Value) -> bool {
    let mut problems = Vec::new();
    expect(&mut problems, "", actual, want.clone());
    problems.is_empty()
}

/// An array's items; none if it is not one.
pub fn list(value: &Value) -> &[Value] {
    value.as_array().map(Vec::as_slice).unwrap_or_default()
}

/// Every resource of a template (or stack) whose type starts with `kind`,
/// with its logical id.
pub fn resources<'a>(template: &'a Value, kind: &str) -> Vec<(&'a str, &'a Value)> {
    let all = template["Resources"].as_object().into_iter().flatten();
    let of_kind = all.filter(|(_, r)| r["Type"].as_str().is_some_and(|t| t.starts_with(kind)));
    of_kind
        .map(|(id, resource)| (id.as_str(), resource))
        .collect()
}

/// A problem for each `(kind, n)` of which the template has not `n` resources.
pub fn count(problems: &mut Vec<String>, template: &Value, counts: &[(&str, usize)]) {
    for (kind, want) in counts {
        let found: Vec<&str> = resources(template, kind)
            .iter()
            .map(|(id, _)| *id)
            .collect();
        if found.len() != *want {
            let n = found.len();
            problems.push(format!("{kind}*: {n} resources {found:?}, expected {want}"));
        }
    }
}
