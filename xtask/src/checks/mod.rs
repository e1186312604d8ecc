//! The checks that `scripts/` runs around the tools it starts: each one a
//! subcommand, its logic in plain functions with unit tests.
//!
//! - [`artifacts`]: `check-artifacts`, every function's zip within budget.
//! - [`openssl`]: `check-no-openssl`, no OpenSSL in the functions' tree.
//! - [`samconfig`]: `check-samconfig`, every deployed environment described.
//! - [`binaries`]: `check-binaries`, template `Binary`s vs Cargo `[[bin]]`s.
//! - [`lambda_smoke`]: `lambda-smoke`, the functions under `cargo lambda watch`.
//! - [`transformed`]: the checks of the template after SAM's transform.
//! - [`edge`]: the edge: CloudFront in the API's stack, the edge stack's web ACL.
//! - [`breaks`]: `check-transformed`, the templates and known mistakes in them.
//! - [`deployed`]: `check-deployed` and `check-retained`, a rehearsal deploy read back.

pub mod artifacts;
pub mod binaries;
pub mod breaks;
pub mod deployed;
pub mod edge;
pub mod feature_parity;
pub mod lambda_smoke;
pub mod openssl;
pub mod samconfig;
pub mod transformed;

use std::path::Path;
use std::process::Command;

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
