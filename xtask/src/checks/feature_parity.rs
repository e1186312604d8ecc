//! `xtask check-feature-parity`: building a dev tool on its own (`cargo run
//! -p xtask`, `cargo build -p conduit-local`, `cargo test -p conduit-tests`,
//! `cargo test --workspace --lib`)
//! gives every shared dependency the features the test build (`cargo test
//! --workspace --exclude conduit-functions`) gave it, so it reuses that
//! build's artefacts instead of compiling them again.
//!
//! Cargo resolves features per selection of packages: a tool that asks
//! for fewer features of tokio gets its own tokio, and its own copy of all
//! that depends on tokio (hyper, the AWS SDK, our own crates): 3 minutes on
//! 2 cores. A mismatch costs build time only, never correctness; this
//! check finds it, and the fix is to declare the missing features in the
//! tool's Cargo.toml (see xtask's). The functions are left out on purpose:
//! their release builds keep the fewest features.

use std::collections::BTreeSet;
use std::path::Path;

/// The test build's selection.
const TEST_BUILD: &[&str] = &["--workspace", "--exclude", "conduit-functions"];

/// The selections the scripts build on their own.
const SELECTIONS: &[&[&str]] = &[
    // The functions' library tests (make unit-tests).
    &["--workspace"],
    &["-p", "xtask"],
    &["-p", "conduit-local"],
    &["-p", "conduit-tests"],
    &["-p", "conduit-local", "-p", "xtask"],
];

pub fn run(root: &Path) -> Result<(), String> {
    let test_build = features(root, TEST_BUILD)?;
    let mut problems = vec![];
    for selection in SELECTIONS {
        let tool = features(root, selection)?;
        for difference in differences(&test_build, &tool) {
            problems.push(format!("`cargo … {}`: {difference}", selection.join(" ")));
        }
    }
    let passed = format!(
        ": {} selections build their dependencies as the test build does",
        SELECTIONS.len()
    );
    crate::checks::report("feature parity", &problems, &passed)
}

/// `cargo tree` of a selection: each package (name and version) with the
/// features it is built with.
fn features(root: &Path, selection: &[&str]) -> Result<String, String> {
    let mut args = vec!["tree", "--quiet", "--prefix=none", "--format={p} [{f}]"];
    args.extend_from_slice(selection);
    crate::checks::cargo(root, &args)
}

/// (package, features) pairs from [`features`]' output. A package can be
/// built twice with different features (for the target and for the host,
/// when it is a build script's or a proc macro's dependency).
fn parse(tree: &str) -> BTreeSet<(String, String)> {
    tree.lines()
        .filter_map(|line| {
            let (package, rest) = line.split_once(" [")?;
            let features = rest.split_once(']')?.0;
            // Our own crates (with a path) differ by design: they are what is built.
            (!package.contains(" (/")).then(|| (package.to_owned(), features.to_owned()))
        })
        .collect()
}

/// Each package that `tool` builds with features the test build never
/// built it with.
fn differences(test_build: &str, tool: &str) -> Vec<String> {
    let test_build = parse(test_build);
    parse(tool)
        .into_iter()
        .filter(|built| !test_build.contains(built))
        .filter_map(|(package, features)| {
            let wanted: Vec<String> = test_build
                .iter()
                .filter(|(other, _)| *other == package)
                .map(|(_, features)| format!("[{features}]"))
                .collect();
            (!wanted.is_empty()).then(|| {
                format!(
                    "{package} is built with [{features}], the test build with {}",
                    wanted.join(" or ")
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEST_BUILD: &str = "\
conduit-local v0.1.0 (/repo/local) []
tokio v1.54.1 [full,macros,rt]
tokio v1.54.1 [full,macros,rt] (*)
uuid v1.26.1 [v4,v7]
";

    #[test]
    fn the_same_features_are_no_difference() {
        let tool = "xtask v0.1.0 (/repo/xtask) []\ntokio v1.54.1 [full,macros,rt]\n";
        assert!(differences(TEST_BUILD, tool).is_empty());
    }

    #[test]
    fn fewer_features_of_a_shared_dependency_are_found() {
        let tool =
            "xtask v0.1.0 (/repo/xtask) []\ntokio v1.54.1 [macros,rt]\nuuid v1.26.1 [v4,v7]\n";
        assert_eq!(
            differences(TEST_BUILD, tool),
            ["tokio v1.54.1 is built with [macros,rt], the test build with [full,macros,rt]"]
        );
    }

    #[test]
    fn a_package_built_twice_matches_either_build() {
        let test_build = "serde v1.0.0 [std]\nserde v1.0.0 [derive,std]\n";
        assert!(differences(test_build, "serde v1.0.0 [std]\n").is_empty());
        assert!(differences(test_build, "serde v1.0.0 [derive,std]\n").is_empty());
        assert_eq!(
            differences(test_build, "serde v1.0.0 [alloc]\n"),
            ["serde v1.0.0 is built with [alloc], the test build with [derive,std] or [std]"]
        );
    }

    #[test]
    fn our_own_crates_and_the_tools_own_dependencies_are_not_compared() {
        let tool = "conduit-local v0.1.0 (/repo/local) [extra]\nzip v9.0.0 [deflate]\n";
        assert!(differences(TEST_BUILD, tool).is_empty());
    }
}
