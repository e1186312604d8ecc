//! `xtask check-transformed PYTHON`: infra/template.yaml, transformed by
//! `infra/rehearsal/transform.py` (run with PYTHON), passes
//! [`transformed`](super::transformed)'s checks, and infra/edge.yaml (read
//! by the same script) [`edge`](super::edge)'s; then mistakes that sam
//! validate, cfn-lint and checkov all let through, each applied to a copy
//! (of a template, or of samconfig.toml), fail them with the problem it
//! causes. The unbroken files are checked first, so that a break cannot
//! pass for caught when everything fails. The rehearsal also deploys each
//! break of the API's stack it can (`write-template-break`,
//! `check-deployed-break`).

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::template::edge::EDGE_TEMPLATE;

/// The file a mistake is made in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum In {
    /// infra/template.yaml, the API's stack.
    Template,
    /// infra/edge.yaml, the edge stack (us-east-1).
    Edge,
    Samconfig,
}

/// A mistake: what it is, the text it replaces and with what (in its file,
/// and in the template `sam build` writes, which spells intrinsics out),
/// and a fragment of the problem the checks must report, on the
/// transformed template and on the deployed stack alike.
pub struct Break {
    pub what: &'static str,
    pub file: In,
    pub find: &'static str,
    pub replace: &'static str,
    /// The same mistake in the built template, for the rehearsal to deploy.
    /// `None` for the edge's: the rehearsal deploys without it (its
    /// emulated account has no CloudFront or WAF).
    pub built: Option<(&'static str, &'static str)>,
    pub reported: &'static str,
}

pub const BREAKS: &[Break] = &[
    Break {
        what: "the functions' TABLE_NAME set to the table's ARN",
        file: In::Template,
        find: "TABLE_NAME: !Ref Table",
        replace: "TABLE_NAME: !GetAtt Table.Arn",
        built: Some((
            "        TABLE_NAME:\n          Ref: Table\n",
            "        TABLE_NAME:\n          Fn::GetAtt: [Table, Arn]\n",
        )),
        reported: "TABLE_NAME is",
    },
    Break {
        // SAM then creates a second API for that route, missing from ours.
        what: "a route's event without ApiId",
        file: In::Template,
        find: "            ApiId: !Ref HttpApi\n",
        replace: "",
        built: Some(("            ApiId:\n              Ref: HttpApi\n", "")),
        reported: "expected one HTTP API",
    },
    Break {
        what: "the prod deletion protection inverted",
        file: In::Template,
        find: "DeletionProtectionEnabled: !If [IsProd, true, false]",
        replace: "DeletionProtectionEnabled: !If [IsProd, false, true]",
        built: Some((
            "      DeletionProtectionEnabled:\n        Fn::If:\n        - IsProd\n        - true\n        - false\n",
            "      DeletionProtectionEnabled:\n        Fn::If:\n        - IsProd\n        - false\n        - true\n",
        )),
        reported: "DeletionProtectionEnabled",
    },
    Break {
        what: "the execute-api URL left open with the edge (no ORIGIN_VERIFY_SHA256)",
        file: In::Template,
        find: "ORIGIN_VERIFY_SHA256: !If [HasEdge, !Ref OriginVerifySha256, \"\"]",
        replace: "ORIGIN_VERIFY_SHA256: \"\"",
        built: None,
        reported: "ORIGIN_VERIFY_SHA256 is",
    },
    Break {
        what: "a bare sam deploy of the edge without the origin's digests let through",
        file: In::Template,
        find: "      - Assert: !Not [!Equals [!Ref OriginVerifySha256, \"\"]]\n        AssertDescription: The edge needs OriginVerifySha256, or the API would serve requests that bypass it.\n",
        replace: "",
        built: None,
        reported: "do not refuse an edge without OriginVerifySha256",
    },
    Break {
        // A rotation would then change nothing CloudFront sends.
        what: "the origin secret read at no version",
        file: In::Template,
        find: "{{resolve:ssm:${OriginSecretParameterName}:${OriginSecretVersion}}}",
        replace: "{{resolve:ssm:${OriginSecretParameterName}}}",
        built: None,
        reported: "x-origin-verify is",
    },
    Break {
        what: "the origin request policy forwarding the viewer's Host",
        file: In::Template,
        find: "          HeaderBehavior: allExcept\n          Headers: [Host]\n",
        replace: "          HeaderBehavior: allViewer\n",
        built: None,
        reported: "forwards the viewer's Host",
    },
    Break {
        what: "Authorization forwarded by the origin request policy",
        file: In::Template,
        find: "          HeaderBehavior: allExcept\n          Headers: [Host]\n",
        replace: "          HeaderBehavior: whitelist\n          Headers: [Authorization, Content-Type]\n",
        built: None,
        reported: "EdgeOriginRequestPolicy: names Authorization",
    },
    Break {
        what: "the cache key without Authorization",
        file: In::Template,
        find: "            Headers: [Authorization, Origin]\n",
        replace: "            Headers: [Origin]\n",
        built: None,
        reported: "the cache key does not hold Authorization",
    },
    Break {
        what: "the distribution on AWS's CachingOptimized policy instead of the stack's",
        file: In::Template,
        find: "CachePolicyId: !Ref EdgeCachePolicy",
        replace: "CachePolicyId: 658327ea-f89d-4fab-a63d-7e88639e58f6",
        built: None,
        reported: "is not the stack's cache policy",
    },
    Break {
        what: "the viewer-address function left off the distribution",
        file: In::Template,
        find: "          FunctionAssociations:\n            - EventType: viewer-request\n",
        replace: "          FunctionAssociations:\n            - EventType: viewer-response\n",
        built: None,
        reported: "login limits would count CloudFront's address",
    },
    Break {
        what: "a write among the cached methods",
        file: In::Template,
        find: "CachedMethods: [GET, HEAD]",
        replace: "CachedMethods: [GET, HEAD, POST]",
        built: None,
        reported: "never a write",
    },
    Break {
        what: "the web ACL of Scope REGIONAL",
        file: In::Edge,
        find: "      Scope: CLOUDFRONT\n",
        replace: "      Scope: REGIONAL\n",
        built: None,
        reported: "Scope is \"REGIONAL\"",
    },
    Break {
        what: "the common rules' 8 KB body limit left blocking",
        file: In::Edge,
        find: "              RuleActionOverrides:\n                - Name: SizeRestrictions_BODY\n                  ActionToUse:\n                    Count: {}\n",
        replace: "",
        built: None,
        reported: "SizeRestrictions_BODY is not overridden to Count",
    },
    Break {
        what: "the sign-in rate limit on a path no route has",
        file: In::Edge,
        find: "SearchString: /api/users/login\n",
        replace: "SearchString: /api/user/login\n",
        built: None,
        reported: "expected the sign-in routes",
    },
    Break {
        what: "the rate limits counting in prod",
        file: In::Edge,
        find: "Action: !If [IsProd, { Block: { CustomResponse: { ResponseCode: 429, CustomResponseBodyKey: too-many-requests } } }, { Count: {} }]",
        replace: "Action: { Count: {} }",
        built: None,
        reported: "expected Block in prod",
    },
    Break {
        what: "a managed rule group counting in prod",
        file: In::Edge,
        find: "OverrideAction: !If [IsProd, { None: {} }, { Count: {} }]",
        replace: "OverrideAction: { Count: {} }",
        built: None,
        reported: "OverrideAction is {\"Count\":{}}, expected {\"None\":{}}",
    },
    Break {
        what: "the SQL injection rules left out",
        file: In::Edge,
        find: "Name: AWSManagedRulesSQLiRuleSet\n",
        replace: "Name: AWSManagedRulesLinuxRuleSet\n",
        built: None,
        reported: "no rule applies AWS's AWSManagedRulesSQLiRuleSet",
    },
    Break {
        what: "prod's edge stack deployed to another region than us-east-1",
        file: In::Samconfig,
        find: "stack_name = \"conduit-prod-edge\"\nregion = \"us-east-1\"\n",
        replace: "stack_name = \"conduit-prod-edge\"\nregion = \"eu-west-1\"\n",
        built: None,
        reported: "region is eu-west-1",
    },
];

/// The files the checks read, as they are or with one mistake made.
#[derive(Clone)]
struct Files {
    template: String,
    edge: String,
    samconfig: String,
    deploy_sh: String,
}

pub fn run(root: &Path, python: &str) -> Result<(), String> {
    let unbroken = Files {
        template: super::read(&root.join("infra/template.yaml"))?,
        edge: super::read(&root.join(EDGE_TEMPLATE))?,
        samconfig: super::read(&root.join("samconfig.toml"))?,
        deploy_sh: super::read(&root.join("scripts/deploy.sh"))?,
    };
    let dir = std::env::temp_dir().join(format!("template-breaks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|err| format!("{}: {err}", dir.display()))?;
    // A template as CloudFormation reads it (transformed, if SAM's).
    let read = |name: &str, text: &str| -> Result<Value, String> {
        let source = dir.join(format!("{name}.yaml"));
        let output = dir.join(format!("{name}.json"));
        std::fs::write(&source, text).map_err(|err| format!("{}: {err}", source.display()))?;
        transform(root, python, &source, &output)?;
        serde_json::from_str(&super::read(&output)?)
            .map_err(|err| format!("{}: {err}", output.display()))
    };
    let result = (|| {
        let template = read("unbroken", &unbroken.template)?;
        let edge = read("unbroken-edge", &unbroken.edge)?;
        let main_problems = |template: &Value, files: &Files| {
            super::transformed::problems(template, &files.samconfig)
        };
        let edge_problems = |edge: &Value, files: &Files| {
            super::edge::edge_stack_problems(edge, &files.samconfig, &files.deploy_sh)
        };
        super::transformed::report(&main_problems(&template, &unbroken)?)?;
        super::report(
            "edge template",
            &edge_problems(&edge, &unbroken)?,
            " (dev and prod, with and without a domain)",
        )?;
        for (n, b) in BREAKS.iter().enumerate() {
            let broken = apply_to(&unbroken, b)?;
            let mut problems = Vec::new();
            match b.file {
                In::Template => {
                    problems.extend(main_problems(
                        &read(&format!("break{n}"), &broken.template)?,
                        &broken,
                    )?);
                }
                In::Edge => {
                    problems.extend(edge_problems(
                        &read(&format!("break{n}"), &broken.edge)?,
                        &broken,
                    )?);
                }
                In::Samconfig => {
                    problems.extend(main_problems(&template, &broken)?);
                    problems.extend(edge_problems(&edge, &broken)?);
                }
            }
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

/// The files with mistake `b` made in its own.
fn apply_to(files: &Files, b: &Break) -> Result<Files, String> {
    let mut broken = files.clone();
    let text = match b.file {
        In::Template => &mut broken.template,
        In::Edge => &mut broken.edge,
        In::Samconfig => &mut broken.samconfig,
    };
    *text = apply(text, b)?;
    Ok(broken)
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
    let Some((find, replace)) = b.built else {
        return Err(format!(
            "{} cannot be rehearsed: the rehearsal deploys without the edge",
            b.what
        ));
    };
    let broken = replace_once(&super::read(built)?, b.what, find, replace)?;
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
    fn every_break_applies_to_its_generated_file() {
        let root = crate::generated::workspace_root();
        let files = Files {
            template: crate::template::sam_template(functions::ROUTES, functions::CONSUMERS),
            edge: crate::template::edge::edge_template(crate::template::edge::SIGN_IN_ROUTES),
            samconfig: std::fs::read_to_string(root.join("samconfig.toml")).unwrap(),
            deploy_sh: String::new(),
        };
        for b in BREAKS {
            let broken = apply_to(&files, b).unwrap();
            let changed = [
                broken.template != files.template,
                broken.edge != files.edge,
                broken.samconfig != files.samconfig,
            ];
            assert_eq!(changed.iter().filter(|c| **c).count(), 1, "{}", b.what);
        }
    }

    #[test]
    fn only_the_api_stacks_breaks_without_the_edge_are_rehearsed() {
        for b in BREAKS.iter().filter(|b| b.built.is_some()) {
            assert_eq!(b.file, In::Template, "{}", b.what);
        }
        let edge = BREAKS.iter().position(|b| b.built.is_none()).unwrap();
        let out = std::env::temp_dir().join("never-written.yaml");
        let err = write_built(&edge.to_string(), Path::new("unused"), &out).unwrap_err();
        assert!(err.contains("cannot be rehearsed"), "{err}");
    }

    #[test]
    fn a_break_whose_text_is_gone_is_an_error() {
        let gone = Break {
            what: "gone",
            file: In::Template,
            find: "no such text",
            replace: "",
            built: None,
            reported: "",
        };
        assert!(apply("template", &gone).is_err());
    }
}
