//! The checks that `scripts/` runs around the tools it starts: each one a
//! subcommand, its logic in plain functions with unit tests.
//!
//! - [`artifacts`]: `check-artifacts`, every function's zip within budget.
//! - [`samconfig`]: `check-samconfig`, every deployed environment described.
//! - [`lambda_smoke`]: `lambda-smoke`, the events/ fixtures invoked.
//! - [`transformed`]: the API's template after SAM's transform, resolved
//!   per deployment, vs the route table; [`edge`]: its CloudFront, and the
//!   edge stack's web ACL. Both state what they expect as JSON fragments
//!   ([`expect`]).
//! - [`breaks`]: `check-transformed`, the templates and known mistakes in them.
//! - [`deployed`]: `check-deployed` and `check-retained`, a rehearsal deploy read back.

pub mod artifacts;
pub mod breaks;
pub mod deployed;
pub mod edge;
pub mod feature_parity;
pub mod lambda_smoke;
pub mod samconfig;
pub mod transformed;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// Runs `cargo ARGS...` in `dir` (the `cargo` that runs xtask, if any) and
/// returns its standard output, or its standard error if it failed.
pub fn cargo(dir: &Path, args: &[&str]) -> Result<String, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(&cargo)
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|err| format!("running {cargo}: {err}"))?;
    if !output.status.success() {
        return Err(format!(
            "`cargo {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    String::from_utf8(output.stdout).map_err(|err| format!("`cargo {}`: {err}", args.join(" ")))
}

/// Prints each of a check's problems under `what`; fails if there are
/// any, and otherwise prints `what: ok` and `passed`.
pub fn report(what: &str, problems: &[String], passed: &str) -> Result<(), String> {
    for problem in problems {
        println!("{what}: {problem}");
    }
    if problems.is_empty() {
        println!("{what}: ok{passed}");
        Ok(())
    } else {
        Err(format!("{what}: {} problem(s)", problems.len()))
    }
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
    differences(actual, &want, what, problems);
}

/// Whether `actual` holds `want`, as [`expect`] reads it.
pub fn holds(actual: &Value, want: &Value) -> bool {
    let mut problems = Vec::new();
    differences(actual, want, "", &mut problems);
    problems.is_empty()
}

fn differences(actual: &Value, want: &Value, at: &str, problems: &mut Vec<String>) {
    match (actual, want) {
        (Value::Object(actual), Value::Object(want)) => {
            for (key, want) in want {
                let actual = actual.get(key).unwrap_or(&Value::Null);
                let at = if at.is_empty() {
                    key.clone()
                } else {
                    format!("{at}.{key}")
                };
                differences(actual, want, &at, problems);
            }
        }
        (Value::Array(actual), Value::Array(want)) if actual.len() == want.len() => {
            for (n, (actual, want)) in actual.iter().zip(want).enumerate() {
                differences(actual, want, &format!("{at}[{n}]"), problems);
            }
        }
        _ if actual == want => {}
        _ => problems.push(format!("{at} is {actual}, expected {want}")),
    }
}

/// An array's items; none if it is not one.
pub fn list(value: &Value) -> &[Value] {
    value.as_array().map(Vec::as_slice).unwrap_or_default()
}

/// Every resource of a template (or stack) whose type starts with `kind`,
/// with its logical id.
pub fn resources<'a>(template: &'a Value, kind: &str) -> Vec<(&'a str, &'a Value)> {
    let all = template["Resources"].as_object().into_iter().flatten();
    all.filter(|(_, r)| r["Type"].as_str().is_some_and(|t| t.starts_with(kind)))
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

/// A fresh, empty directory for one test, removed when dropped.
#[cfg(test)]
pub struct TempDir(pub std::path::PathBuf);

#[cfg(test)]
impl TempDir {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("xtask-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

#[cfg(test)]
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
