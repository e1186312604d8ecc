//! `xtask check-transformed PYTHON`: infra/template.yaml, transformed by
//! `infra/rehearsal/transform.py` (run with PYTHON), passes
//! [`transformed`](super::transformed)'s checks; then mistakes that sam
//! validate, cfn-lint and checkov all let through, each applied to a copy,
//! fail them with the problem it causes. The unbroken template is checked
//! first, so that a break cannot pass for caught when everything fails.
//! The rehearsal also deploys each break (`write-template-break`,
//! `check-deployed-break`).

use std::path::Path;
use std::process::Command;

/// A mistake: what it is, the text it replaces and with what (in
/// infra/template.yaml, and in the template `sam build` writes, which spells
/// intrinsics out), and a fragment of the problem the checks must report,
/// on the transformed template and on the deployed stack alike.
pub struct Break {
    pub what: &'static str,
    pub find: &'static str,
    pub replace: &'static str,
    pub built: (&'static str, &'static str),
    pub reported: &'static str,
}

pub const BREAKS: &[Break] = &[
    Break {
        what: "the functions' TABLE_NAME set to the table's ARN",
        find: "TABLE_NAME: !Ref Table",
        replace: "TABLE_NAME: !GetAtt Table.Arn",
        built: (
            "        TABLE_NAME:\n          Ref: Table\n",
            "        TABLE_NAME:\n          Fn::GetAtt: [Table, Arn]\n",
        ),
        reported: "TABLE_NAME is",
    },
    Break {
        // SAM then creates a second API for that route, missing from ours.
        what: "a route's event without ApiId",
        find: "            ApiId: !Ref HttpApi\n",
        replace: "",
        built: ("            ApiId:\n              Ref: HttpApi\n", ""),
        reported: "expected one HTTP API",
    },
    Break {
        what: "the prod deletion protection inverted",
        find: "DeletionProtectionEnabled: !If [IsProd, true, false]",
        replace: "DeletionProtectionEnabled: !If [IsProd, false, true]",
        built: (
            "      DeletionProtectionEnabled:\n        Fn::If:\n        - IsProd\n        - true\n        - false\n",
            "      DeletionProtectionEnabled:\n        Fn::If:\n        - IsProd\n        - false\n        - true\n",
        ),
        reported: "DeletionProtectionEnabled",
    },
];

pub fn run(root: &Path, python: &str) -> Result<(), String> {
    let template = super::read(&root.join("infra/template.yaml"))?;
    let samconfig = super::read(&root.join("samconfig.toml"))?;
    let dir = std::env::temp_dir().join(format!("template-breaks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|err| format!("{}: {err}", dir.display()))?;
    let check = |name: &str, text: &str| -> Result<Vec<String>, String> {
        let source = dir.join(format!("{name}.yaml"));
        let output = dir.join(format!("{name}.json"));
        std::fs::write(&source, text).map_err(|err| format!("{}: {err}", source.display()))?;
        transform(root, python, &source, &output)?;
        let transformed = serde_json::from_str(&super::read(&output)?)
            .map_err(|err| format!("{}: {err}", output.display()))?;
        super::transformed::problems(&transformed, &samconfig)
    };
    let result = (|| {
        super::transformed::report(&check("unbroken", &template)?)?;
        for (n, b) in BREAKS.iter().enumerate() {
            let broken = apply(&template, b)?;
            let problems = check(&format!("break{n}"), &broken)?;
            match problems.iter().find(|p| p.contains(b.reported)) {
                Some(problem) => println!("caught {}: {problem}", b.what),
                None => {
                    return Err(format!(
                        "{} was not caught (problems: {problems:?})",
                        b.what
                    ));
                }
            }
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result?;
    println!("template breaks: all {} caught", BREAKS.len());
    Ok(())
}

/// The template with the mistake made once; an error if the text it
/// replaces is gone (the break would test nothing).
pub fn apply(template: &str, b: &Break) -> Result<String, String> {
    replace_once(template, b.what, b.find, b.replace)
}

fn replace_once(template: &str, what: &str, find: &str, replace: &str) -> Result<String, String> {
    if !template.contains(find) {
        return Err(format!("{what}: the template has no {find:?}"));
    }
    Ok(template.replacen(find, replace, 1))
}

/// `xtask write-template-break N BUILT OUT`: break `N` made in the template
/// `sam build` wrote, for the rehearsal to deploy.
pub fn write_built(n: &str, built: &Path, out: &Path) -> Result<(), String> {
    let b = nth(n)?;
    let broken = replace_once(&super::read(built)?, b.what, b.built.0, b.built.1)?;
    std::fs::write(out, broken).map_err(|err| format!("{}: {err}", out.display()))
}

/// `xtask check-deployed-break N STATE ENV`: the stack deployed with break
/// `N` fails [`deployed`](super::deployed)'s checks with its problem.
pub fn check_deployed(n: &str, state: &Path, env: &str) -> Result<(), String> {
    let b = nth(n)?;
    let problems = super::deployed::problems_of(state, env)?;
    match problems.iter().find(|p| p.contains(b.reported)) {
        Some(problem) => {
            println!("deployed, caught {}: {problem}", b.what);
            Ok(())
        }
        None => Err(format!("deployed, {} was not caught: {problems:?}", b.what)),
    }
}

fn nth(n: &str) -> Result<&'static Break, String> {
    n.parse::<usize>()
        .ok()
        .and_then(|n| BREAKS.get(n))
        .ok_or_else(|| format!("no template break {n:?} (0 to {})", BREAKS.len() - 1))
}

fn transform(root: &Path, python: &str, source: &Path, output: &Path) -> Result<(), String> {
    let result = Command::new(python)
        .arg(root.join("infra/rehearsal/transform.py"))
        .args([source, output])
        .output()
        .map_err(|err| format!("running {python}: {err}"))?;
    if result.status.success() {
        Ok(())
    } else {
        Err(format!(
            "transforming {}: {}",
            source.display(),
            String::from_utf8_lossy(&result.stderr).trim()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_break_applies_to_the_generated_template() {
        let template = crate::template::sam_template(functions::ROUTES, functions::CONSUMERS);
        for b in BREAKS {
            let broken = apply(&template, b).unwrap();
            assert_ne!(broken, template, "{}", b.what);
        }
    }

    #[test]
    fn a_break_whose_text_is_gone_is_an_error() {
        let gone = Break {
            what: "gone",
            find: "no such text",
            replace: "",
            built: ("", ""),
            reported: "",
        };
        assert!(apply("template", &gone).is_err());
    }
}
