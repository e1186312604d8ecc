//! `xtask check-deployed STATE.json ENV`: a stack deployed by the real `sam
//! deploy` into the rehearsal's emulated account, read back
//! (`infra/rehearsal/read_back.py`), against the route table; and `xtask
//! check-retained BEFORE.json AFTER.json ENV`: after `sam delete`, the table
//! and the secret remain, nothing else. What the emulator does not model
//! (CodeDeploy, alarms, TTL, backups, encryption, tracing) is checked on the
//! transformed template instead.

use std::path::Path;

use serde_json::{Value, json};

use super::transformed::{function_config, functions_expected, source_path};
use super::{expect, list};
use crate::template::deployment::ALIAS;

pub fn run(state: &Path, env: &str) -> Result<(), String> {
    super::report(&format!("deployed {env}"), &problems_of(state, env)?, "")
}

/// The problems of the stack read back into `state`, deployed as `env`.
pub fn problems_of(state: &Path, env: &str) -> Result<Vec<String>, String> {
    Ok(problems(&read(state)?, env, &secret(env)?))
}

pub fn run_retained(before: &Path, after: &Path, env: &str) -> Result<(), String> {
    let problems = retained_problems(&read(before)?, &read(after)?, &secret(env)?);
    super::report(&format!("deleted {env}"), &problems, "")
}

fn read(path: &Path) -> Result<Value, String> {
    serde_json::from_str(&super::read(path)?).map_err(|err| format!("{}: {err}", path.display()))
}

/// The JWT secret's parameter `env` deploys with.
fn secret(env: &str) -> Result<String, String> {
    let samconfig = super::read(&crate::generated::workspace_root().join("samconfig.toml"))?;
    super::samconfig::deploy_setting(&samconfig, env, "JwtSecretParameterName")
}

/// The physical id of the stack's resource `logical`, or `?`.
fn physical<'a>(state: &'a Value, logical: &str) -> &'a str {
    let found = list(&state["resources"])
        .iter()
        .find(|r| r["logical"] == logical);
    found.and_then(|r| r["physical"].as_str()).unwrap_or("?")
}

/// The physical ids of the stack's resources of type `kind`.
fn all_of<'a>(state: &'a Value, kind: &str) -> Vec<&'a Value> {
    let of_kind = list(&state["resources"])
        .iter()
        .filter(|r| r["type"] == kind);
    of_kind.map(|r| &r["physical"]).collect()
}

/// Whether `state`'s list `key` has `value`.
fn has(state: &Value, key: &str, value: &str) -> bool {
    list(&state[key]).iter().any(|item| item == value)
}

pub fn problems(state: &Value, env: &str, secret: &str) -> Vec<String> {
    let status = state["stack"]["status"].as_str().unwrap_or("missing");
    if !matches!(status, "CREATE_COMPLETE" | "UPDATE_COMPLETE") {
        return vec![format!("the stack is {status}")];
    }
    let table_name = physical(state, "Table");
    let table = &state["tables"][table_name];
    // arn:aws:dynamodb:REGION:ACCOUNT:table/NAME
    let arn: Vec<&str> = table["TableArn"]
        .as_str()
        .unwrap_or_default()
        .split(':')
        .collect();
    let [_, _, _, region, account, ..] = arn.as_slice() else {
        return vec![format!("the stack's table {table_name} does not exist")];
    };
    let mut problems = Vec::new();
    let mut check = |ok: bool, problem: String| {
        if !ok {
            problems.push(problem)
        }
    };
    // The account also holds other stacks' APIs.
    let ours = all_of(state, "AWS::ApiGatewayV2::Api");
    let apis: Vec<&Value> = list(&state["apis"])
        .iter()
        .filter(|a| ours.contains(&&a["ApiId"]))
        .collect();
    check(
        apis.len() == 1,
        format!(
            "AWS::ApiGatewayV2::Api*: {} resources in the stack, expected 1",
            apis.len()
        ),
    );
    let api = apis.first().copied().unwrap_or(&Value::Null);
    let api_id = api["ApiId"].as_str().unwrap_or("None");

    // Outputs resolved, naming this stack's API, table and secret; ApiUrl
    // CloudFront's (or the domain's) with the edge, else the API's own.
    let outputs = &state["stack"]["outputs"];
    for (key, value) in outputs.as_object().into_iter().flatten() {
        let value = value.as_str().unwrap_or_default();
        let resolved = !value.is_empty() && !value.contains("None") && !value.contains("${");
        check(resolved, format!("output {key} is unresolved: {value:?}"));
    }
    let origin = format!("https://{api_id}.execute-api.{region}.amazonaws.com");
    let parameters = &state["stack"]["parameters"];
    let edge = parameters["Edge"] == "enabled";
    let digests = if edge {
        parameters["OriginVerifySha256"]
            .as_str()
            .unwrap_or_default()
    } else {
        ""
    };
    let public = outputs["ApiUrl"].as_str().unwrap_or_default();
    check(
        !edge || (public != origin && public.starts_with("https://")),
        format!("output ApiUrl is {public:?}: with the edge, not the origin's"),
    );
    check(
        !edge || outputs["DistributionId"].is_string(),
        "output DistributionId is missing, with the edge".into(),
    );
    check(
        !edge || !digests.is_empty(),
        "with the edge, no OriginVerifySha256: the origin is open".into(),
    );
    check(
        has(state, "ssm_parameters", secret),
        format!("the secret {secret} does not exist"),
    );
    let mut want =
        json!({ "OriginUrl": origin, "TableName": table_name, "JwtSecretParameterName": secret });
    if !edge {
        want["ApiUrl"] = json!(origin);
        want["DistributionId"] = Value::Null;
    }
    // What `expect` finds, after the rest.
    let mut mismatches = Vec::new();
    expect(&mut mismatches, "output", outputs, want);

    // The functions as declared, on this stack's table and secret, each
    // route on the API, a payload 2.0 proxy to its alias, which API Gateway
    // may invoke for that route only.
    let expected = functions_expected();
    let deployed = all_of(state, "AWS::Lambda::Function").len();
    check(
        deployed == expected.len() && deployed > 0,
        format!("{deployed} functions deployed, expected {}", expected.len()),
    );
    let routes = list(&api["Routes"]);
    check(
        routes.len() == functions::ROUTES.len(),
        format!(
            "the API has {} routes, the route table {}",
            routes.len(),
            functions::ROUTES.len()
        ),
    );
    for (id, served) in &expected {
        let name = physical(state, &format!("{id}Function"));
        let mut config = state["functions"][name].clone();
        if config.is_null() {
            check(false, format!("{id}Function was not deployed"));
            continue;
        }
        // Unset and empty alike: the origin open, as it is without the edge.
        let variables = &mut config["Environment"]["Variables"];
        if variables["ORIGIN_VERIFY_SHA256"].is_null() && !served.is_empty() {
            variables["ORIGIN_VERIFY_SHA256"] = json!("");
        }
        let want = function_config(served, json!(table_name), secret, digests);
        expect(&mut mismatches, &format!("{id}Function"), &config, want);
        let aliases = list(&config["Aliases"]);
        let live = aliases.iter().find(|a| a["Name"] == ALIAS);
        let published = live.and_then(|a| a["FunctionVersion"].as_str()?.parse::<u32>().ok());
        check(
            published.is_some(),
            format!("{id}Function: no alias {ALIAS} on a published version: {aliases:?}"),
        );
        let alias = format!("{name}:{ALIAS}");
        for route in served {
            let key = format!("{} {}", route.method, route.path);
            let source = format!(
                "arn:aws:execute-api:{region}:{account}:{api_id}/*/{}{}",
                route.method,
                source_path(route)
            );
            let allowed = list(&config["Policy"]["Statement"])
                .iter()
                .any(|statement| {
                    statement["Principal"]["Service"] == "apigateway.amazonaws.com"
                        && statement["Action"] == "lambda:InvokeFunction"
                        && statement["FunctionName"]
                            .as_str()
                            .is_some_and(|f| f.ends_with(&alias))
                        && statement["Condition"]["ArnLike"]["AWS:SourceArn"] == source.as_str()
                });
            check(
                allowed,
                format!("{key}: API Gateway may not invoke {id}Function's alias from {source}"),
            );
            let target = routes
                .iter()
                .find(|r| r["RouteKey"] == key.as_str())
                .map(|r| &r["Target"]);
            let integration = list(&api["Integrations"]).iter().find(|i| {
                let id = i["IntegrationId"].as_str().unwrap_or_default();
                target.is_some_and(|target| *target == format!("integrations/{id}").as_str())
            });
            let integration = integration.unwrap_or(&Value::Null);
            let kind = integration["IntegrationType"].as_str().unwrap_or_default();
            let uri = integration["IntegrationUri"].as_str().unwrap_or_default();
            let proxy = kind.eq_ignore_ascii_case("aws_proxy")
                && integration["PayloadFormatVersion"] == "2.0";
            check(
                proxy && uri.ends_with(&format!(":function:{alias}/invocations")),
                format!("{key}: not on the API, a payload 2.0 proxy to {alias}: {integration}"),
            );
        }
    }
    let stages = list(&api["Stages"]);
    let auto = stages
        .iter()
        .any(|s| s["StageName"] == "$default" && s["AutoDeploy"] == true);
    check(
        auto,
        format!("no automatically deployed $default stage: {stages:?}"),
    );
    // Each consumer has one mapping on the table's stream, with its
    // filters, sending what fails to the queue.
    let queue = physical(state, "StreamFailuresQueue")
        .rsplit('/')
        .next()
        .unwrap_or("?");
    for consumer in functions::CONSUMERS {
        let id = crate::template::logical_id(consumer.name);
        let function = format!(":function:{}:", physical(state, &format!("{id}Function")));
        let mappings = list(&state["event_source_mappings"]).iter();
        let mine: Vec<&Value> = mappings
            .filter(|m| {
                m["FunctionArn"]
                    .as_str()
                    .is_some_and(|arn| arn.contains(&function))
            })
            .collect();
        let [mapping] = mine.as_slice() else {
            check(
                false,
                format!("{id}Function: {} stream mappings, expected 1", mine.len()),
            );
            continue;
        };
        let destination = mapping["DestinationConfig"]["OnFailure"]["Destination"].as_str();
        let ok = mapping["EventSourceArn"] == table["LatestStreamArn"]
            && list(&mapping["FilterCriteria"]["Filters"]).len() == consumer.filters.len()
            && destination.is_some_and(|d| d.ends_with(&format!(":{queue}")));
        check(ok, format!("{id}Function: its stream mapping is {mapping}"));
    }
    let protected = table["DeletionProtectionEnabled"] == true;
    check(
        protected == (env == "prod"),
        format!("table {table_name}: DeletionProtectionEnabled is {protected} in {env}"),
    );
    problems.extend(mismatches);
    problems
}

/// After `sam delete`: the stack and its functions are gone, the table and
/// the secret are not.
pub fn retained_problems(before: &Value, after: &Value, secret: &str) -> Vec<String> {
    let table = physical(before, "Table");
    let functions = all_of(before, "AWS::Lambda::Function");
    let left = functions.iter().filter(|f| {
        f.as_str()
            .is_some_and(|f| after["functions"][f].is_object())
    });
    let problems = [
        (
            after["stack"].is_null(),
            format!("the stack is still there: {}", after["stack"]["status"]),
        ),
        (
            after["tables"][table].is_object(),
            format!("the table {table} was deleted with the stack"),
        ),
        (
            has(after, "ssm_parameters", secret),
            format!("the secret {secret} was deleted"),
        ),
        (
            left.clone().count() == 0,
            format!("{} of the stack's functions left behind", left.count()),
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

    /// A stack read back: deployed as `parameters` say, with `outputs`.
    fn state(parameters: Value, outputs: Value, functions: Value) -> Value {
        let id = crate::template::logical_id(functions::ROUTES[0].function);
        json!({
            "stack": { "status": "CREATE_COMPLETE", "parameters": parameters, "outputs": outputs },
            "resources": [
                { "logical": "Table", "physical": "t", "type": "AWS::DynamoDB::Table" },
                { "logical": "HttpApi", "physical": "a1", "type": "AWS::ApiGatewayV2::Api" },
                { "logical": format!("{id}Function"), "physical": "f", "type": "AWS::Lambda::Function" }
            ],
            "tables": { "t": { "TableArn": "arn:aws:dynamodb:us-east-1:1:table/t" } },
            "apis": [{ "ApiId": "a1" }],
            "functions": functions,
        })
    }

    #[test]
    fn a_stack_missing_or_empty_or_unresolved_fails_rather_than_passes() {
        assert_eq!(
            problems(&json!({ "stack": null }), "dev", "/s"),
            ["the stack is missing"]
        );
        let outputs = json!({ "ApiUrl": "https://None.execute-api", "TableName": "${Table}" });
        let mut state = state(json!({}), outputs, json!({}));
        state["apis"] = json!([]);
        let problems = problems(&state, "dev", "/s");
        let expected = [
            "Api*: 0 resources",
            "ApiUrl is unresolved",
            "TableName is unresolved",
            "the API has 0 routes",
        ];
        for expected in expected {
            assert!(
                problems.iter().any(|p| p.contains(expected)),
                "{expected}: {problems:?}"
            );
        }
    }

    #[test]
    fn the_edge_decides_the_public_url_and_whether_the_origin_is_closed() {
        let origin = "https://a1.execute-api.us-east-1.amazonaws.com";
        let about = |edge: &str, url: &str, verify: &str, what: &str| {
            let parameters = json!({ "Edge": edge, "OriginVerifySha256": "ab,cd" });
            let outputs = json!({ "ApiUrl": url, "OriginUrl": origin });
            let functions = json!({ "f": { "Environment": { "Variables": { "ORIGIN_VERIFY_SHA256": verify } } } });
            let problems = problems(&state(parameters, outputs, functions), "dev", "/s");
            problems.iter().filter(|p| p.contains(what)).count()
        };
        let cloudfront = "https://d1.cloudfront.net";
        assert_eq!(about("disabled", origin, "", "ApiUrl"), 0);
        assert_eq!(about("disabled", origin, "", "ORIGIN_VERIFY"), 0);
        assert_eq!(about("enabled", origin, "", "ApiUrl"), 1);
        assert_eq!(about("enabled", origin, "", "ORIGIN_VERIFY"), 1);
        assert_eq!(about("enabled", origin, "", "DistributionId"), 1);
        assert_eq!(about("enabled", cloudfront, "ab,cd", "ApiUrl"), 0);
        assert_eq!(about("enabled", cloudfront, "ab,cd", "ORIGIN_VERIFY"), 0);
    }

    #[test]
    fn after_a_delete_the_table_and_the_secret_must_remain() {
        let before = state(json!({}), json!({}), json!({}));
        let gone = json!({ "stack": null, "functions": { "f": {} } });
        assert_eq!(retained_problems(&before, &gone, "/s").len(), 3);
        let kept = json!({ "stack": null, "tables": { "t": {} }, "ssm_parameters": ["/s"] });
        assert!(retained_problems(&before, &kept, "/s").is_empty());
        let route = functions::ROUTES
            .iter()
            .find(|r| r.path == "/api/articles/{slug}/comments/{id}");
        assert_eq!(source_path(route.unwrap()), "/api/articles/*/comments/*");
    }
}
