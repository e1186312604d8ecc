//! `xtask check-feature-parity`: the Makefile's builds of one package
//! (`cargo build -p conduit-local`, `cargo test -p conduit-tests`) and of
//! the whole workspace (`cargo test --workspace --lib`) give every shared
//! dependency the features the test build (`cargo test --workspace
//! --exclude conduit-functions`) gave it, so they reuse its artefacts.
//! Cargo resolves features per selection of packages: one that asks for
//! fewer features of tokio builds its own tokio, and all that depends on
//! it (hyper, the AWS SDK, our crates): 3 minutes on 2 cores. The fix is
//! to declare the features in the package's Cargo.toml. The scripts build
//! in the test build's own selection (scripts/lib.sh, `cargo_build`).

use std::collections::BTreeSet;
use std::path::Path;

const TEST_BUILD: &[&str] = &["--workspace", "--exclude", "conduit-functions"];
const SELECTIONS: &[&[&str]] = &[
    &["--workspace"],
    &["-p", "conduit-local"],
    &["-p", "conduit-tests"],
];

pub fn run(root: &Path) -> Result<(), String> {
    let test_build = features(root, TEST_BUILD)?;
    let mut problems = vec![];
    for selection in SELECTIONS {
        for difference in differences(&test_build, &features(root, selection)?) {
            problems.push(format!("`cargo … {}`: {difference}", selection.join(" ")));
        }
    }
    let passed = format!(
        ": {} selections build as the test build does",
        SELECTIONS.len()
    );
    crate::checks::report("feature parity", &problems, &passed)
}

/// Each package (name and version) of a selection with its features, but
/// our own (with a path): they are what is built. A package can be built
/// twice (for the target and for the host).
fn features(root: &Path, selection: &[&str]) -> Result<BTreeSet<(String, String)>, String> {
    let mut args = vec!["tree", "--quiet", "--prefix=none", "--format={p} [{f}]"];
    args.extend_from_slice(selection);
    Ok(parse(&crate::checks::cargo(root, &args)?))
}

fn parse(tree: &str) -> BTreeSet<(String, String)> {
    (tree.lines())
        .filter_map(|line| {
            let (package, rest) = line.split_once(" [")?;
            let features = rest.split_once(']')?.0;
            (!package.contains(" (/")).then(|| (package.to_owned(), features.to_owned()))
        })
        .collect()
}

/// Each package the tool builds with features the test build never built it with.
fn differences(
    test_build: &BTreeSet<(String, String)>,
    tool: &BTreeSet<(String, String)>,
) -> Vec<String> {
    tool.difference(test_build)
        .filter_map(|(package, features)| {
            let wanted: Vec<String> = (test_build.iter())
                .filter(|(other, _)| other == package)
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

    #[test]
    fn finds_a_shared_dependency_built_with_other_features() {
        let test_build = parse(
            "conduit-local v0.1.0 (/repo/local) []\ntokio v1.54.1 [full,macros,rt]\n\
             serde v1.0.0 [std]\nserde v1.0.0 [derive,std]\n",
        );
        let same =
            "xtask v0.1.0 (/repo/xtask) [x]\ntokio v1.54.1 [full,macros,rt]\nserde v1.0.0 [std]\n";
        assert!(differences(&test_build, &parse(same)).is_empty());
        // The tool's own dependencies are not compared.
        assert!(differences(&test_build, &parse("zip v9.0.0 [deflate]\n")).is_empty());
        let fewer = parse("tokio v1.54.1 [macros,rt]\nserde v1.0.0 [alloc]\n");
        assert_eq!(
            differences(&test_build, &fewer),
            [
                "serde v1.0.0 is built with [alloc], the test build with [derive,std] or [std]",
                "tokio v1.54.1 is built with [macros,rt], the test build with [full,macros,rt]",
            ]
        );
    }
}
