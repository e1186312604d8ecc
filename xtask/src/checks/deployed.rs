//! `xtask check-deployed STATE.json ENV`: what only a deploy shows, on a
//! stack deployed by the real `scripts/deploy.sh` into the rehearsal's
//! emulated account and read back (`infra/rehearsal/read_back.py`): it is
//! complete, its outputs resolved, its secret created, and it was deployed
//! with the parameters that check-transformed checked the template under
//! ("ENV without the edge (as rehearsed)"), so that every resource
//! check-transformed proves holds for this stack. And `xtask
//! check-retained BEFORE.json AFTER.json ENV`: after `sam delete`, the
//! table and the secret remain, nothing else.

use std::path::Path;

use serde_json::{Value, json};

use super::transformed::functions_expected;
use super::{expect, list, samconfig};

pub fn run(state: &Path, env: &str) -> Result<(), String> {
    let samconfig = samconfig_text()?;
    let rehearsed = super::edge::rehearsed(&samconfig, env)?;
    let problems = problems(&read(state)?, &rehearsed, &secret(&samconfig, env)?);
    super::report(&format!("deployed {env}"), &problems, "")
}

pub fn run_retained(before: &Path, after: &Path, env: &str) -> Result<(), String> {
    let secret = secret(&samconfig_text()?, env)?;
    let problems = retained_problems(&read(before)?, &read(after)?, &secret);
    super::report(&format!("deleted {env}"), &problems, "")
}

fn read(path: &Path) -> Result<Value, String> {
    serde_json::from_str(&super::read(path)?).map_err(|err| format!("{}: {err}", path.display()))
}

fn samconfig_text() -> Result<String, String> {
    super::read(&crate::generated::workspace_root().join("samconfig.toml"))
}

/// The JWT secret's parameter `env` deploys with.
fn secret(samconfig: &str, env: &str) -> Result<String, String> {
    samconfig::deploy_setting(samconfig, env, "JwtSecretParameterName")
}

/// The physical id of the stack's resource `logical`, or `?`.
fn physical<'a>(state: &'a Value, logical: &str) -> &'a str {
    let found = list(&state["resources"])
        .iter()
        .find(|r| r["logical"] == logical);
    found.and_then(|r| r["physical"].as_str()).unwrap_or("?")
}

/// Whether `state`'s list `key` has `value`.
fn has(state: &Value, key: &str, value: &str) -> bool {
    list(&state[key]).iter().any(|item| item == value)
}

pub fn problems(state: &Value, rehearsed: &[(String, String)], secret: &str) -> Vec<String> {
    let status = state["stack"]["status"].as_str().unwrap_or("missing");
    if !matches!(status, "CREATE_COMPLETE" | "UPDATE_COMPLETE") {
        return vec![format!("the stack is {status}")];
    }
    let mut problems = Vec::new();
    // sam's --parameter-overrides replace samconfig.toml's whole: a deploy
    // that lost one runs on the template's default instead.
    let parameters = &state["stack"]["parameters"];
    for (name, value) in rehearsed {
        // An empty value and none are the same to the template.
        let deployed = parameters[name].as_str().unwrap_or_default();
        if deployed != value {
            problems.push(format!(
                "deployed with {name}={deployed:?}, check-transformed checked {value:?}"
            ));
        }
    }
    let outputs = &state["stack"]["outputs"];
    for (key, value) in outputs.as_object().into_iter().flatten() {
        let value = value.as_str().unwrap_or_default();
        if value.is_empty() || value.contains("None") || value.contains("${") {
            problems.push(format!("output {key} is unresolved: {value:?}"));
        }
    }
    // moto skips what it does not model and still completes the stack.
    for (id, _) in functions_expected() {
        let name = physical(state, &format!("{id}Function"));
        if !has(state, "functions", name) {
            problems.push(format!("{id}Function was not deployed"));
        }
    }
    let table = physical(state, "Table");
    if !has(state, "tables", table) {
        problems.push(format!("the stack's table {table} does not exist"));
    }
    if !has(state, "ssm_parameters", secret) {
        problems.push(format!("the secret {secret} does not exist"));
    }
    // deploy.sh and the operators read these.
    let api = physical(state, "HttpApi");
    let origin = outputs["OriginUrl"].as_str().unwrap_or_default();
    if !origin.starts_with(&format!("https://{api}.execute-api.")) {
        problems.push(format!("output OriginUrl is {origin:?}, not API {api}'s"));
    }
    let want = json!({ "ApiUrl": origin, "TableName": table, "JwtSecretParameterName": secret });
    expect(&mut problems, "output", outputs, want);
    problems
}

/// After `sam delete`: the stack and its functions are gone, the table and
/// the secret are not.
pub fn retained_problems(before: &Value, after: &Value, secret: &str) -> Vec<String> {
    let table = physical(before, "Table");
    let functions = list(&before["resources"])
        .iter()
        .filter(|r| r["type"] == "AWS::Lambda::Function");
    let left = functions
        .filter(|f| has(after, "functions", f["physical"].as_str().unwrap_or("?")))
        .count();
    let problems = [
        (
            after["stack"].is_null(),
            format!("the stack is still there: {}", after["stack"]["status"]),
        ),
        (
            has(after, "tables", table),
            format!("the table {table} was deleted with the stack"),
        ),
        (
            has(after, "ssm_parameters", secret),
            format!("the secret {secret} was deleted"),
        ),
        (
            left == 0,
            format!("{left} of the stack's functions left behind"),
        ),
    ];
    problems
        .into_iter()
        .filter(|(ok, _)| !ok)
        .map(|(_, problem)| problem)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "https://a1.execute-api.us-east-1.amazonaws.com";

    /// A stack read back: deployed with `parameters`, with `outputs`, its
    /// functions named as their logical ids.
    fn state(parameters: Value, outputs: Value) -> Value {
        let ids = functions_expected()
            .into_iter()
            .map(|(id, _)| id + "Function");
        let functions: Vec<String> = ids.collect();
        let mut resources = json!([
            { "logical": "Table", "physical": "t", "type": "AWS::DynamoDB::Table" },
            { "logical": "HttpApi", "physical": "a1", "type": "AWS::ApiGatewayV2::Api" },
        ]);
        for id in &functions {
            let function =
                json!({ "logical": id, "physical": id, "type": "AWS::Lambda::Function" });
            resources.as_array_mut().unwrap().push(function);
        }
        json!({
            "stack": { "status": "CREATE_COMPLETE", "parameters": parameters, "outputs": outputs },
            "resources": resources,
            "tables": ["t"],
            "functions": functions,
            "ssm_parameters": ["/s"],
        })
    }

    fn rehearsed() -> Vec<(String, String)> {
        [
            ("Environment", "dev"),
            ("Edge", "disabled"),
            ("DomainName", ""),
        ]
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .to_vec()
    }

    #[test]
    fn a_stack_as_rehearsed_passes_and_one_missing_unresolved_or_otherwise_deployed_fails() {
        let outputs = json!({ "ApiUrl": ORIGIN, "OriginUrl": ORIGIN, "TableName": "t", "JwtSecretParameterName": "/s" });
        let parameters = json!({ "Environment": "dev", "Edge": "disabled", "Version": "1" });
        let good = state(parameters, outputs.clone());
        assert_eq!(problems(&good, &rehearsed(), "/s"), Vec::<String>::new());

        assert_eq!(
            problems(&json!({ "stack": null }), &rehearsed(), "/s"),
            ["the stack is missing"]
        );
        // As a deploy without samconfig.toml's overrides runs: on defaults.
        let defaults = json!({ "Environment": "prod", "Edge": "enabled", "DomainName": "" });
        let another = "https://a2.execute-api.us-east-1.amazonaws.com";
        let unresolved = json!({ "ApiUrl": "https://None.execute-api", "OriginUrl": another, "TableName": "${Table}" });
        let mut bad = state(defaults, unresolved);
        bad["ssm_parameters"] = json!([]);
        bad["tables"] = json!([]);
        bad["functions"].as_array_mut().unwrap().pop();
        let last = functions_expected().pop().unwrap().0;
        let problems = problems(&bad, &rehearsed(), "/s");
        let expected = [
            "Environment=\"prod\", check-transformed checked \"dev\"",
            "Edge=\"enabled\"",
            "ApiUrl is unresolved",
            "TableName is unresolved",
            "the secret /s does not exist",
            "the stack's table t does not exist",
            &format!("{last}Function was not deployed"),
            "OriginUrl is \"https://a2",
            "output.JwtSecretParameterName is null",
        ];
        for expected in expected {
            assert!(
                problems.iter().any(|p| p.contains(expected)),
                "{expected}: {problems:?}"
            );
        }
    }

    #[test]
    fn after_a_delete_the_table_and_the_secret_must_remain() {
        let before = state(json!({}), json!({}));
        let gone = json!({ "stack": null, "functions": before["functions"] });
        assert_eq!(retained_problems(&before, &gone, "/s").len(), 3);
        let kept =
            json!({ "stack": null, "tables": ["t"], "ssm_parameters": ["/s"], "functions": [] });
        assert!(retained_problems(&before, &kept, "/s").is_empty());
    }
}
