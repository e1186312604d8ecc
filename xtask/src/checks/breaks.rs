//! `xtask check-transformed PYTHON`: infra/template.yaml transformed by
//! `infra/rehearsal/transform.py` (run with PYTHON) passes
//! [`transformed`](super::transformed)'s checks, infra/edge.yaml
//! [`edge`](super::edge)'s; then each of [`BREAKS`], mistakes that sam
//! validate, cfn-lint and checkov let through, made in a copy, fails them.
//! The unbroken files pass first, so that a break cannot pass for caught
//! when everything fails.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::template::edge::EDGE_TEMPLATE;
use In::{Edge, Samconfig, Template};

/// The file a mistake is made in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum In {
    /// infra/template.yaml, the API's stack.
    Template,
    /// infra/edge.yaml, the edge stack (us-east-1).
    Edge,
    Samconfig,
}

/// A mistake: what it is, in which file, the text it replaces and with
/// what, and a fragment of the problem the checks must report.
pub struct Break {
    pub what: &'static str,
    pub file: In,
    pub find: &'static str,
    pub replace: &'static str,
    pub reported: &'static str,
}

const fn b(
    what: &'static str,
    file: In,
    find: &'static str,
    replace: &'static str,
    reported: &'static str,
) -> Break {
    Break {
        what,
        file,
        find,
        replace,
        reported,
    }
}

#[rustfmt::skip]
pub const BREAKS: &[Break] = &[
    b("the functions' TABLE_NAME set to the table's ARN", Template,
        "TABLE_NAME: !Ref Table", "TABLE_NAME: !GetAtt Table.Arn", ".Variables.TABLE_NAME"),
    // SAM then creates a second API for that route, missing from ours.
    b("a route's event without ApiId", Template,
        "            ApiId: !Ref HttpApi\n", "", "AWS::ApiGatewayV2::Api*: 2 resources"),
    b("the prod deletion protection inverted", Template,
        "DeletionProtectionEnabled: !If [IsProd, true, false]", "DeletionProtectionEnabled: !If [IsProd, false, true]",
        "DeletionProtectionEnabled is"),
    b("the execute-api URL left open with the edge (no ORIGIN_VERIFY_SHA256)", Template,
        "ORIGIN_VERIFY_SHA256: !If [HasEdge, !Ref OriginVerifySha256, \"\"]", "ORIGIN_VERIFY_SHA256: \"\"",
        "ORIGIN_VERIFY_SHA256 is"),
    b("a bare sam deploy of the edge without the origin's digests let through", Template,
        "      - Assert: !Not [!Equals [!Ref OriginVerifySha256, \"\"]]\n        AssertDescription: The edge needs OriginVerifySha256, or the API would serve requests that bypass it.\n",
        "", "alone deploys an edge without OriginVerifySha256"),
    // A rotation would then change nothing CloudFront sends.
    b("the origin secret read at no version", Template,
        "{{resolve:ssm:${OriginSecretParameterName}:${OriginSecretVersion}}}", "{{resolve:ssm:${OriginSecretParameterName}}}",
        "OriginCustomHeaders[0].HeaderValue is"),
    b("the origin request policy forwarding the viewer's Host", Template,
        "          HeaderBehavior: allExcept\n          Headers: [Host]\n", "          HeaderBehavior: allViewer\n",
        "HeaderBehavior is \"allViewer\""),
    b("Authorization forwarded by the origin request policy", Template,
        "          HeaderBehavior: allExcept\n          Headers: [Host]\n",
        "          HeaderBehavior: whitelist\n          Headers: [Authorization, Content-Type]\n",
        "EdgeOriginRequestPolicy: names Authorization"),
    b("the cache key without Authorization", Template,
        "            Headers: [Authorization, Origin]\n", "            Headers: [Origin]\n", "HeadersConfig.Headers is [\"Origin\"]"),
    b("the distribution on AWS's CachingOptimized policy instead of the stack's", Template,
        "CachePolicyId: !Ref EdgeCachePolicy", "CachePolicyId: 658327ea-f89d-4fab-a63d-7e88639e58f6",
        "CachePolicyId is \"658327ea"),
    b("the viewer-address function left off the viewer's requests", Template,
        "          FunctionAssociations:\n            - EventType: viewer-request\n",
        "          FunctionAssociations:\n            - EventType: viewer-response\n",
        "EventType is \"viewer-response\""),
    b("a write among the cached methods", Template,
        "CachedMethods: [GET, HEAD]", "CachedMethods: [GET, HEAD, POST]", "CachedMethods is [\"GET\",\"HEAD\",\"POST\"]"),
    b("the web ACL of Scope REGIONAL", Edge, "      Scope: CLOUDFRONT\n", "      Scope: REGIONAL\n", "Scope is \"REGIONAL\""),
    b("the common rules' 8 KB body limit left blocking", Edge,
        "              RuleActionOverrides:\n                - Name: SizeRestrictions_BODY\n                  ActionToUse:\n                    Count: {}\n",
        "", "RuleActionOverrides is null"),
    b("the sign-in rate limit on a path no route has", Edge,
        "SearchString: /api/users/login\n", "SearchString: /api/user/login\n", "SearchString is \"/api/user/login\""),
    b("the rate limits counting in prod", Edge,
        "Action: !If [IsProd, { Block: { CustomResponse: { ResponseCode: 429, CustomResponseBodyKey: too-many-requests } } }, { Count: {} }]",
        "Action: { Count: {} }", "Action.Block is null"),
    b("a managed rule group counting in prod", Edge,
        "OverrideAction: !If [IsProd, { None: {} }, { Count: {} }]", "OverrideAction: { Count: {} }",
        "OverrideAction.None is null"),
    b("the SQL injection rules left out", Edge,
        "Name: AWSManagedRulesSQLiRuleSet\n", "Name: AWSManagedRulesLinuxRuleSet\n",
        "expected \"AWSManagedRulesSQLiRuleSet\""),
    b("prod's edge stack deployed to another region than us-east-1", Samconfig,
        "stack_name = \"conduit-prod-edge\"\nregion = \"us-east-1\"\n", "stack_name = \"conduit-prod-edge\"\nregion = \"eu-west-1\"\n",
        "region is \"eu-west-1\""),
];

/// The files a mistake may be made in, in the order of [`In`].
const FILES: [&str; 3] = ["infra/template.yaml", EDGE_TEMPLATE, "samconfig.toml"];

/// The files with mistake `b` made in its own.
fn with(files: &[String; 3], b: &Break) -> Result<[String; 3], String> {
    let mut broken = files.clone();
    broken[b.file as usize] = replace_once(&files[b.file as usize], b.what, b.find, b.replace)?;
    Ok(broken)
}

pub fn run(root: &Path, python: &str) -> Result<(), String> {
    let files = FILES.map(|file| super::read(&root.join(file)));
    let [Ok(template), Ok(edge), Ok(samconfig)] = files else {
        return Err(files.into_iter().find_map(Result::err).unwrap_or_default());
    };
    let unbroken = [template, edge, samconfig];
    let deploy_sh = super::read(&root.join("scripts/deploy.sh"))?;
    let broken: Vec<[String; 3]> = BREAKS
        .iter()
        .map(|b| with(&unbroken, b))
        .collect::<Result<_, _>>()?;
    // The unbroken templates, then each broken one, in that order.
    let mut texts = vec![&unbroken[0], &unbroken[1]];
    let templates = BREAKS
        .iter()
        .zip(&broken)
        .filter(|(b, _)| b.file != Samconfig);
    texts.extend(templates.map(|(b, files)| &files[b.file as usize]));
    let mut read = transform(root, python, &texts)?.into_iter();
    let mut next = || {
        read.next()
            .ok_or("transform.py wrote fewer templates than given")
    };
    let main =
        |template: &Value, files: &[String; 3]| super::transformed::problems(template, &files[2]);
    let edge_stack = |edge: &Value, files: &[String; 3]| {
        super::edge::edge_stack_problems(edge, &files[2], &deploy_sh)
    };
    let (template, edge) = (next()?, next()?);
    let (routes, functions) = (
        functions::ROUTES.len(),
        super::transformed::functions_expected().len(),
    );
    let passed = format!(
        " ({routes} routes, {functions} functions, dev and prod, with the edge, with a domain and without the edge)"
    );
    super::report(
        "transformed template",
        &main(&template, &unbroken)?,
        &passed,
    )?;
    let passed = " (dev and prod, with and without a domain)";
    super::report("edge template", &edge_stack(&edge, &unbroken)?, passed)?;
    for (b, files) in BREAKS.iter().zip(&broken) {
        let problems = match b.file {
            Template => main(&next()?, files)?,
            Edge => edge_stack(&next()?, files)?,
            Samconfig => [
                main(&template, files)?,
                edge_stack(&edge, files)?,
                super::samconfig::problems(&files[2])?,
            ]
            .concat(),
        };
        caught(b, &problems)?;
    }
    println!("template breaks: all {} caught", BREAKS.len());
    Ok(())
}

/// `texts` as CloudFormation reads them (transformed, if SAM's), in one run
/// of infra/rehearsal/transform.py: its translator takes 1.5 s to load.
fn transform(root: &Path, python: &str, texts: &[&String]) -> Result<Vec<Value>, String> {
    let dir = std::env::temp_dir().join(format!("template-breaks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|err| format!("{}: {err}", dir.display()))?;
    let result = (|| {
        let mut args = vec![root.join("infra/rehearsal/transform.py")];
        for (n, text) in texts.iter().enumerate() {
            let (source, output) = (dir.join(format!("{n}.yaml")), dir.join(format!("{n}.json")));
            std::fs::write(&source, text).map_err(|err| format!("{}: {err}", source.display()))?;
            args.extend([source, output]);
        }
        let result = Command::new(python).args(&args).output();
        let result = result.map_err(|err| format!("running {python}: {err}"))?;
        if !result.status.success() {
            let stderr = String::from_utf8_lossy(&result.stderr);
            return Err(format!("transform.py: {}", stderr.trim()));
        }
        let outputs = args.iter().skip(2).step_by(2);
        let json = |output: &PathBuf| {
            let text = super::read(output)?;
            serde_json::from_str(&text).map_err(|err| format!("{}: {err}", output.display()))
        };
        outputs.map(json).collect()
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Prints the problem that shows `b` caught; an error if none does.
fn caught(b: &Break, problems: &[String]) -> Result<(), String> {
    let problem = problems.iter().find(|p| p.contains(b.reported));
    let problem = problem.ok_or_else(|| format!("{} was not caught: {problems:?}", b.what))?;
    println!("caught {}: {problem}", b.what);
    Ok(())
}

/// The text with `find` replaced once; an error if it is gone (the break
/// would test nothing).
fn replace_once(text: &str, what: &str, find: &str, replace: &str) -> Result<String, String> {
    if !text.contains(find) {
        return Err(format!("{what}: the file has no {find:?}"));
    }
    Ok(text.replacen(find, replace, 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_break_applies_to_its_generated_file() {
        let root = crate::generated::workspace_root();
        let files = [
            crate::template::sam_template(functions::ROUTES, functions::CONSUMERS),
            crate::template::edge::edge_template(crate::template::edge::SIGN_IN_ROUTES),
            std::fs::read_to_string(root.join("samconfig.toml")).unwrap(),
        ];
        for b in BREAKS {
            assert!(with(&files, b).is_ok(), "{}", b.what);
        }
    }
}
