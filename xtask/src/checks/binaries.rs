//! `xtask check-binaries`: `sam build` runs `cargo lambda build --bin
//! <Binary>` per function, so every `Binary` in infra/template.yaml must be a
//! `[[bin]]` of conduit-functions (as `cargo metadata` lists them), and every
//! such binary must be deployed.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

pub fn run(root: &Path) -> Result<(), String> {
    let template = crate::checks::read(&root.join("infra/template.yaml"))?;
    let metadata = crate::checks::cargo(
        root,
        &["metadata", "--no-deps", "--format-version=1", "--offline"],
    )?;
    let in_template = template_binaries(&template);
    let in_cargo = cargo_binaries(&metadata)?;
    let differences = differences(&in_template, &in_cargo);
    if differences.is_empty() {
        println!("{} binaries, all matched", in_template.len());
        Ok(())
    } else {
        Err(format!(
            "template Binary entries and conduit-functions [[bin]]s differ:\n{}",
            differences.join("\n")
        ))
    }
}

/// The `Binary: <name>` values (SAM's `BuildProperties`) of a template.
pub fn template_binaries(template: &str) -> BTreeSet<String> {
    template
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("Binary:"))
        .map(|rest| {
            let rest = rest.trim_start();
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                .unwrap_or(rest.len());
            rest[..end].to_owned()
        })
        .collect()
}

/// The bin targets of conduit-functions in `cargo metadata` JSON.
pub fn cargo_binaries(metadata: &str) -> Result<BTreeSet<String>, String> {
    let metadata: Value =
        serde_json::from_str(metadata).map_err(|err| format!("cargo metadata: {err}"))?;
    let package = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == "conduit-functions")
        .ok_or("cargo metadata lists no conduit-functions package")?;
    let is_bin = |target: &&Value| {
        target["kind"]
            .as_array()
            .is_some_and(|kinds| kinds.iter().any(|k| k == "bin"))
    };
    Ok(package["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(is_bin)
        .filter_map(|target| target["name"].as_str().map(str::to_owned))
        .collect())
}

/// One line per name in only one of the two sets.
pub fn differences(in_template: &BTreeSet<String>, in_cargo: &BTreeSet<String>) -> Vec<String> {
    let only = |a: &BTreeSet<String>, b: &BTreeSet<String>, what: &str| {
        a.difference(b)
            .map(|name| format!("  {name}: {what}"))
            .collect::<Vec<_>>()
    };
    let mut lines = only(in_template, in_cargo, "in the template, not a [[bin]]");
    lines.extend(only(
        in_cargo,
        in_template,
        "a [[bin]], not in the template",
    ));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn reads_the_binaries_of_a_template() {
        let template = "\
Resources:
  RegisterFunction:
    Metadata:
      BuildMethod: rust-cargolambda
      BuildProperties:
        Binary: register
  LoginFunction:
    Metadata:
      BuildProperties:
        Binary: login-v2 # a comment
  Other:
    Description: Binary: not one
";
        assert_eq!(template_binaries(template), set(&["register", "login-v2"]));
    }

    #[test]
    fn reads_the_bin_targets_of_conduit_functions() {
        let metadata = r#"{"packages": [
            {"name": "conduit-local", "targets": [{"name": "conduit-local", "kind": ["bin"]}]},
            {"name": "conduit-functions", "targets": [
                {"name": "functions", "kind": ["lib"]},
                {"name": "register", "kind": ["bin"]},
                {"name": "login", "kind": ["bin"]},
                {"name": "build-script-build", "kind": ["custom-build"]}
            ]}
        ]}"#;
        assert_eq!(cargo_binaries(metadata), Ok(set(&["login", "register"])));
        assert!(cargo_binaries(r#"{"packages": []}"#).is_err());
        assert!(cargo_binaries("not json").is_err());
    }

    #[test]
    fn names_what_is_on_one_side_only() {
        assert!(differences(&set(&["a", "b"]), &set(&["b", "a"])).is_empty());
        assert_eq!(
            differences(&set(&["a", "b"]), &set(&["b", "c"])),
            [
                "  a: in the template, not a [[bin]]",
                "  c: a [[bin]], not in the template"
            ]
        );
    }
}
