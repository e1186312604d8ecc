//! The shared library of the Conduit back end: configuration, errors,
//! authentication, validation, the DynamoDB data layer, API types, the
//! request pipeline that every Lambda function and the local server use, and
//! the stream consumers' machinery ([`events`]).
//!
//! Its modules read bottom-up: each uses only those before it in this list
//! (a test below keeps it so):
//!
//! 1. what imports nothing from the crate: [`domain`] (the roles and user
//!    statuses every layer names), [`time`], [`meter`], [`https`], then
//!    [`aws`] (the SDK's configuration) and [`auth::keys`] (the signing key
//!    set's format, which the configuration reads);
//! 2. [`error`], [`validate`], [`api_types`] (the API's bodies), [`config`],
//!    [`telemetry`];
//! 3. [`db`], the table;
//! 4. [`auth`] (tokens, passwords, and the per-request check, which reads
//!    the caller from the table), [`views`], [`decorate`], [`events`];
//! 5. [`state`], what a process builds once;
//! 6. [`http`], the request pipeline;
//! 7. [`lambda`], the entry points.

pub mod api_types;
pub mod auth;
pub mod aws;
pub mod config;
pub mod db;
pub mod decorate;
pub mod domain;
pub mod error;
pub mod events;
pub mod http;
pub mod https;
pub mod lambda;
pub mod meter;
pub mod state;
pub mod telemetry;
pub mod time;
pub mod validate;
pub mod views;

pub use error::ApiError;
pub use lambda_http;
pub use lambda_runtime;

#[cfg(test)]
mod layering {
    use std::path::Path;

    /// The modules in the order of the module doc: each may use only those
    /// before it. `auth::keys` is placed apart from the rest of `auth`.
    const ORDER: &[&str] = &[
        "domain",
        "time",
        "meter",
        "https",
        "aws",
        "auth::keys",
        "error",
        "validate",
        "api_types",
        "config",
        "telemetry",
        "db",
        "auth",
        "views",
        "decorate",
        "events",
        "state",
        "http",
        "lambda",
    ];

    fn rank(module: &str) -> usize {
        ORDER
            .iter()
            .position(|m| *m == module)
            .unwrap_or_else(|| panic!("module {module} is not in ORDER: give it its place"))
    }

    /// The module a path names, from its first segments (`auth::keys` or
    /// the top-level module).
    fn unit(path: &str) -> String {
        let mut segments = path.split("::").map(|s| {
            s.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .next()
                .unwrap_or_default()
        });
        let top = segments.next().unwrap_or_default();
        match (top, segments.next()) {
            ("auth", Some("keys")) => "auth::keys".into(),
            _ => top.into(),
        }
    }

    /// `(file's module, module it names)` for every `crate::` or `super::`
    /// path in a file's code: not its comments, not its tests (last in
    /// each file, and free to use anything).
    fn uses(root: &Path, file: &Path) -> Vec<(String, String)> {
        let relative = file.strip_prefix(root).unwrap().with_extension("");
        let parts: Vec<_> = relative.iter().map(|p| p.to_str().unwrap()).collect();
        let own = unit(&parts.join("::"));
        let parent = parts[..parts.len() - 1].join("::");
        let text = std::fs::read_to_string(file).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let mut found = vec![];
        for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for (prefix, base) in [("crate::", ""), ("super::", parent.as_str())] {
                for (at, _) in line.match_indices(prefix) {
                    let rest = &line[at + prefix.len()..];
                    let path = match base {
                        "" => rest.to_owned(),
                        base => format!("{base}::{rest}"),
                    };
                    // `super::` in a top-level file would name the crate
                    // root (none does).
                    if !(prefix == "super::" && base.is_empty()) {
                        found.push((own.clone(), unit(&path)));
                    }
                }
            }
        }
        found
    }

    fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn every_module_uses_only_those_before_it() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut all = vec![];
        files(&root, &mut all);
        let mut wrong = vec![];
        for file in all.iter().filter(|f| !f.ends_with("lib.rs")) {
            for (own, used) in uses(&root, file) {
                if used != own && rank(&used) >= rank(&own) {
                    wrong.push(format!("{}: {own} uses {used}", file.display()));
                }
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
}
