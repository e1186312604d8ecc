//! `xtask check-deployed STATE.json ENV`: a stack deployed by the real
//! `sam deploy` into the rehearsal's emulated account, read back
//! (`infra/rehearsal/read_back.py`) and checked against the route table:
//! one API with every route and no other, each a payload 2.0 proxy to its
//! function's alias on an automatically deployed stage, which API Gateway
//! may invoke for that route only; the functions as the template declares
//! them, on a published version, pointed at the stack's own table and
//! secret (which exists) and, with the edge, closed to requests without the
//! origin secret; each consumer's one mapping on the table's stream; the
//! table protected from deletion in prod only; the outputs resolved, ApiUrl
//! the public root (the execute-api URL without the edge, as rehearsed).
//!
//! `xtask check-retained BEFORE.json AFTER.json ENV`: after `sam delete`,
//! the table and the secret are still there and nothing else is.
//!
//! What the emulator does not model (CodeDeploy, alarms, TTL, backups,
//! encryption, tracing) is checked on the transformed template instead
//! ([`transformed`](super::transformed)).

use std::path::Path;

use serde_json::{Value, json};

use super::transformed::{function_config, functions_expected, source_path};
use crate::template::deployment::ALIAS;
use crate::template::logical_id;

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

fn list(value: &Value) -> &[Value] {
    value.as_array().map(Vec::as_slice).unwrap_or_default()
}

/// The physical id of the stack's resource `logical`.
fn physical<'a>(state: &'a Value, logical: &str) -> Option<&'a str> {
    list(&state["resources"])
        .iter()
        .find(|r| r["logical"] == logical)?["physical"]
        .as_str()
}

/// The stack's functions, in `state`.
fn functions_in(state: &Value) -> impl Iterator<Item = &Value> {
    list(&state["resources"])
        .iter()
        .filter(|r| r["type"] == "AWS::Lambda::Function")
}

pub fn problems(state: &Value, env: &str, secret: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let status = state["stack"]["status"].as_str().unwrap_or("missing");
    let table_name = physical(state, "Table").unwrap_or("?");
    let table = &state["tables"][table_name];
    // arn:aws:dynamodb:REGION:ACCOUNT:table/NAME
    let arn: Vec<&str> = table["TableArn"]
        .as_str()
        .unwrap_or_default()
        .split(':')
        .collect();
    let (region, account) = match arn.as_slice() {
        _ if !matches!(status, "CREATE_COMPLETE" | "UPDATE_COMPLETE") => {
            return vec![format!("the stack is {status}")];
        }
        [_, _, _, region, account, ..] => (*region, *account),
        _ => return vec![format!("the stack's table {table_name} does not exist")],
    };
    // The account also holds other stacks' APIs: this stack's are those
    // among its resources.
    let apis: Vec<&Value> = list(&state["apis"])
        .iter()
        .filter(|api| {
            list(&state["resources"])
                .iter()
                .any(|r| r["type"] == "AWS::ApiGatewayV2::Api" && r["physical"] == api["ApiId"])
        })
        .collect();
    if apis.len() != 1 {
        problems.push(format!(
            "AWS::ApiGatewayV2::Api*: {} resources in the stack, expected 1",
            apis.len()
        ));
    }
    let api = apis.first().copied().unwrap_or(&Value::Null);
    let api_id = api["ApiId"].as_str().unwrap_or("None");

    // Outputs: resolved, and naming this stack's API, table and secret;
    // with the edge, the public root CloudFront's (or the domain's);
    // without it (the rehearsal), the API's own.
    let outputs = &state["stack"]["outputs"];
    for (key, value) in outputs.as_object().into_iter().flatten() {
        let value = value.as_str().unwrap_or_default();
        if value.is_empty() || value.contains("None") || value.contains("${") {
            problems.push(format!("output {key} is unresolved: {value:?}"));
        }
    }
    let origin = format!("https://{api_id}.execute-api.{region}.amazonaws.com");
    let parameters = &state["stack"]["parameters"];
    let edge = parameters["Edge"] == "enabled";
    let mut want =
        json!({ "OriginUrl": origin, "TableName": table_name, "JwtSecretParameterName": secret });
    if !edge {
        want["ApiUrl"] = json!(origin);
        want["DistributionId"] = Value::Null;
    }
    super::expect(&mut problems, "output", outputs, want);
    let public = outputs["ApiUrl"].as_str().unwrap_or_default();
    if edge && (public == origin || !public.starts_with("https://")) {
        problems.push(format!(
            "output ApiUrl is {public:?}: with the edge, CloudFront's URL, not the origin's"
        ));
    }
    if edge && !outputs["DistributionId"].is_string() {
        problems.push("output DistributionId is missing, with the edge".to_owned());
    }
    let digests = if edge {
        parameters["OriginVerifySha256"]
            .as_str()
            .unwrap_or_default()
    } else {
        ""
    };
    if edge && digests.is_empty() {
        problems.push("with the edge, no OriginVerifySha256: the origin is open".to_owned());
    }

    // Functions, as declared, on this stack's table and secret.
    let expected = functions_expected();
    let deployed = functions_in(state).count();
    if deployed != expected.len() || deployed == 0 {
        problems.push(format!(
            "{deployed} functions deployed, expected {}",
            expected.len()
        ));
    }
    if !list(&state["ssm_parameters"])
        .iter()
        .any(|name| name == secret)
    {
        problems.push(format!("the secret {secret} does not exist"));
    }
    let routes = list(&api["Routes"]);
    if routes.len() != functions::ROUTES.len() {
        problems.push(format!(
            "the API has {} routes, the route table {}",
            routes.len(),
            functions::ROUTES.len()
        ));
    }
    for (id, served) in &expected {
        let Some(name) = physical(state, &format!("{id}Function")) else {
            problems.push(format!("{id}Function was not deployed"));
            continue;
        };
        let mut config = state["functions"][name].clone();
        // Unset and empty alike: the origin open, as it is without the edge.
        if config["Environment"]["Variables"]["ORIGIN_VERIFY_SHA256"].is_null()
            && !served.is_empty()
        {
            config["Environment"]["Variables"]["ORIGIN_VERIFY_SHA256"] = json!("");
        }
        let want = function_config(served, json!(table_name), secret, digests);
        super::expect(&mut problems, &format!("{id}Function"), &config, want);
        let aliases = list(&config["Aliases"]);
        let live = aliases.iter().find(|a| a["Name"] == ALIAS);
        if !live.is_some_and(|a| {
            a["FunctionVersion"]
                .as_str()
                .is_some_and(|v| v.parse::<u32>().is_ok())
        }) {
            problems.push(format!(
                "{id}Function: no alias {ALIAS} on a published version: {aliases:?}"
            ));
        }
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
                            .is_some_and(|f| f.ends_with(&format!("{name}:{ALIAS}")))
                        && statement["Condition"]["ArnLike"]["AWS:SourceArn"] == source.as_str()
                });
            if !allowed {
                problems.push(format!(
                    "{key}: API Gateway may not invoke {id}Function's alias from {source}"
                ));
            }
            // On the API, a payload 2.0 proxy to the function's alias.
            let Some(found) = routes.iter().find(|r| r["RouteKey"] == key.as_str()) else {
                problems.push(format!("{key}: not on the API"));
                continue;
            };
            let target = found["Target"].as_str().unwrap_or_default();
            let integration = list(&api["Integrations"]).iter().find(|i| {
                i["IntegrationId"]
                    .as_str()
                    .is_some_and(|id| target == format!("integrations/{id}"))
            });
            let integration = integration.unwrap_or(&Value::Null);
            if !integration["IntegrationType"]
                .as_str()
                .is_some_and(|kind| kind.eq_ignore_ascii_case("aws_proxy"))
                || integration["PayloadFormatVersion"] != "2.0"
                || !integration["IntegrationUri"].as_str().is_some_and(|uri| {
                    uri.ends_with(&format!(":function:{name}:{ALIAS}/invocations"))
                })
            {
                problems.push(format!(
                    "{key}: not a payload 2.0 proxy to {name}:{ALIAS}: {integration}"
                ));
            }
        }
    }
    let stages = list(&api["Stages"]);
    if !stages
        .iter()
        .any(|s| s["StageName"] == "$default" && s["AutoDeploy"] == true)
    {
        problems.push(format!(
            "no automatically deployed $default stage: {stages:?}"
        ));
    }
    // Each consumer has one mapping on the table's stream, filtered, sending
    // what fails to the queue.
    let queue = physical(state, "StreamFailuresQueue").unwrap_or("?");
    let queue = queue.rsplit('/').next().unwrap_or(queue);
    for consumer in functions::CONSUMERS {
        let id = logical_id(consumer.name);
        let name = physical(state, &format!("{id}Function")).unwrap_or("?");
        let mappings = list(&state["event_source_mappings"]).iter().filter(|m| {
            m["FunctionArn"]
                .as_str()
                .is_some_and(|arn| arn.contains(&format!(":function:{name}:")))
        });
        let mappings: Vec<&Value> = mappings.collect();
        let [mapping] = mappings.as_slice() else {
            problems.push(format!(
                "{id}Function: {} stream mappings, expected 1",
                mappings.len()
            ));
            continue;
        };
        if mapping["EventSourceArn"] != table["LatestStreamArn"]
            || list(&mapping["FilterCriteria"]["Filters"]).len() != consumer.filters.len()
            || !mapping["DestinationConfig"]["OnFailure"]["Destination"]
                .as_str()
                .is_some_and(|d| d.ends_with(&format!(":{queue}")))
        {
            problems.push(format!("{id}Function: its stream mapping is {mapping}"));
        }
    }
    let protected = table["DeletionProtectionEnabled"] == true;
    if protected != (env == "prod") {
        problems.push(format!(
            "table {table_name}: DeletionProtectionEnabled is {protected} in {env}"
        ));
    }
    problems
}

/// After `sam delete`: the stack and its functions are gone, the table and
/// the secret are not.
pub fn retained_problems(before: &Value, after: &Value, secret: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if !after["stack"].is_null() {
        problems.push(format!(
            "the stack is still there: {}",
            after["stack"]["status"]
        ));
    }
    match physical(before, "Table") {
        Some(table) if after["tables"][table].is_object() => {}
        Some(table) => problems.push(format!("the table {table} was deleted with the stack")),
        None => problems.push("there was no table before".to_owned()),
    }
    if !list(&after["ssm_parameters"])
        .iter()
        .any(|name| name == secret)
    {
        problems.push(format!("the secret {secret} was deleted"));
    }
    let left = functions_in(before)
        .filter(|r| {
            r["physical"]
                .as_str()
                .is_some_and(|f| after["functions"][f].is_object())
        })
        .count();
    if left != 0 {
        problems.push(format!("{left} of the stack's functions left behind"));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stack_missing_or_empty_or_unresolved_fails_rather_than_passes() {
        assert_eq!(
            problems(&json!({ "stack": null }), "dev", "/s"),
            ["the stack is missing"]
        );
        let state = json!({
            "stack": {
                "status": "CREATE_COMPLETE",
                "outputs": { "ApiUrl": "https://None.execute-api", "TableName": "${Table}" }
            },
            "resources": [{ "logical": "Table", "physical": "t", "type": "AWS::DynamoDB::Table" }],
            "tables": { "t": { "TableArn": "arn:aws:dynamodb:us-east-1:1:table/t" } },
            "ssm_parameters": ["/s"]
        });
        let problems = problems(&state, "dev", "/s");
        for expected in [
            "AWS::ApiGatewayV2::Api*: 0 resources",
            "output ApiUrl is unresolved",
            "output TableName is unresolved",
            "0 functions deployed",
            "the API has 0 routes",
        ] {
            assert!(
                problems.iter().any(|p| p.contains(expected)),
                "{expected}: {problems:?}"
            );
        }
    }

    #[test]
    fn the_edge_decides_the_public_url_and_whether_the_origin_is_closed() {
        let id = logical_id(functions::ROUTES[0].function);
        let origin = "https://a1.execute-api.us-east-1.amazonaws.com";
        let about = |edge: &str, url: &str, verify: &str, what: &str| {
            let state = json!({
                "stack": {
                    "status": "CREATE_COMPLETE",
                    "parameters": { "Edge": edge, "OriginVerifySha256": "ab,cd" },
                    "outputs": { "ApiUrl": url, "OriginUrl": origin }
                },
                "resources": [
                    { "logical": "Table", "physical": "t", "type": "AWS::DynamoDB::Table" },
                    { "logical": "HttpApi", "physical": "a1", "type": "AWS::ApiGatewayV2::Api" },
                    { "logical": format!("{id}Function"), "physical": "f", "type": "AWS::Lambda::Function" }
                ],
                "tables": { "t": { "TableArn": "arn:aws:dynamodb:us-east-1:1:table/t" } },
                "apis": [{ "ApiId": "a1" }],
                "functions": { "f": { "Environment": { "Variables": { "ORIGIN_VERIFY_SHA256": verify } } } },
            });
            problems(&state, "dev", "/s")
                .into_iter()
                .filter(|p| p.contains(what))
                .count()
        };
        assert_eq!(about("disabled", origin, "", "ApiUrl"), 0);
        assert_eq!(about("disabled", origin, "", "ORIGIN_VERIFY"), 0);
        assert_eq!(about("enabled", origin, "", "ApiUrl"), 1);
        assert_eq!(about("enabled", origin, "", "ORIGIN_VERIFY"), 1);
        assert_eq!(about("enabled", origin, "", "DistributionId"), 1);
        assert_eq!(
            about("enabled", "https://d1.cloudfront.net", "ab,cd", "ApiUrl"),
            0
        );
        assert_eq!(
            about(
                "enabled",
                "https://d1.cloudfront.net",
                "ab,cd",
                "ORIGIN_VERIFY"
            ),
            0
        );
    }

    #[test]
    fn after_a_delete_the_table_and_the_secret_must_remain() {
        let before = json!({ "resources": [
            { "logical": "Table", "physical": "t", "type": "AWS::DynamoDB::Table" },
            { "logical": "F", "physical": "f", "type": "AWS::Lambda::Function" }
        ] });
        let gone =
            json!({ "stack": null, "tables": {}, "functions": { "f": {} }, "ssm_parameters": [] });
        assert_eq!(retained_problems(&before, &gone, "/s").len(), 3);
        let kept = json!({ "stack": null, "tables": { "t": {} }, "functions": {}, "ssm_parameters": ["/s"] });
        assert_eq!(
            retained_problems(&before, &kept, "/s"),
            Vec::<String>::new()
        );
        let route = functions::ROUTES
            .iter()
            .find(|r| r.path == "/api/articles/{slug}/comments/{id}");
        assert_eq!(source_path(route.unwrap()), "/api/articles/*/comments/*");
    }
}
