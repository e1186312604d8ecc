//! `xtask check-deployed STATE.json ENV`: a stack deployed by the real
//! `sam deploy` into the rehearsal's emulated account, read back
//! (`infra/rehearsal/read_back.py`) and checked against the route table:
//! one API with every route, each a payload 2.0 proxy to its function's
//! alias, which API Gateway may invoke for that route only; functions as
//! the template declares them, pointed at the stack's own table and secret
//! and, with the edge, closed to requests without the origin secret; the
//! consumers' mappings on the table's stream; the outputs resolved, ApiUrl
//! the public root (the execute-api URL without the edge, as rehearsed).
//!
//! `xtask check-retained BEFORE.json AFTER.json ENV`: after `sam delete`,
//! the table and the secret are still there and nothing else is.
//!
//! What the emulator does not model (CodeDeploy, alarms, TTL, backups,
//! encryption, tracing) is checked on the transformed template instead
//! ([`transformed`](super::transformed)).

use std::path::Path;

use conduit_common::http::Route;
use serde_json::Value;

use crate::template::deployment::ALIAS;
use crate::template::logical_id;

pub fn run(state: &Path, env: &str) -> Result<(), String> {
    super::report(&format!("deployed {env}"), &problems_of(state, env)?, "")
}

/// The problems of the stack read back into `state`, deployed as `env`.
pub fn problems_of(state: &Path, env: &str) -> Result<Vec<String>, String> {
    let state = read(state)?;
    let samconfig = super::read(&crate::generated::workspace_root().join("samconfig.toml"))?;
    let secret = secret_parameter(&samconfig, env)?;
    Ok(problems(&state, env, &secret))
}

pub fn run_retained(before: &Path, after: &Path, env: &str) -> Result<(), String> {
    let samconfig = super::read(&crate::generated::workspace_root().join("samconfig.toml"))?;
    let secret = secret_parameter(&samconfig, env)?;
    let problems = retained_problems(&read(before)?, &read(after)?, &secret);
    super::report(&format!("deleted {env}"), &problems, "")
}

fn read(path: &Path) -> Result<Value, String> {
    serde_json::from_str(&super::read(path)?).map_err(|err| format!("{}: {err}", path.display()))
}

fn secret_parameter(samconfig: &str, env: &str) -> Result<String, String> {
    super::samconfig::parameter_overrides(samconfig, env)?
        .into_iter()
        .find(|(name, _)| name == "JwtSecretParameterName")
        .map(|(_, value)| value)
        .ok_or_else(|| format!("samconfig.toml: {env} overrides no JwtSecretParameterName"))
}

/// The physical id of the stack's resource `logical`.
fn physical<'a>(state: &'a Value, logical: &str) -> Option<&'a str> {
    state["resources"]
        .as_array()?
        .iter()
        .find(|r| r["logical"] == logical)?["physical"]
        .as_str()
}

/// `arn:aws:service:REGION:ACCOUNT:...` -> (region, account).
fn region_and_account(arn: &str) -> Option<(&str, &str)> {
    let mut parts = arn.split(':').skip(3);
    Some((parts.next()?, parts.next()?))
}

/// A route's path as API Gateway (and SAM) write it in a permission's
/// source ARN: each path parameter as `*`.
pub(super) fn source_path(route: &Route) -> String {
    route
        .path
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "*"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

pub fn problems(state: &Value, env: &str, secret: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let status = state["stack"]["status"].as_str().unwrap_or("missing");
    if !matches!(status, "CREATE_COMPLETE" | "UPDATE_COMPLETE") {
        problems.push(format!("the stack is {status}"));
        return problems;
    }
    let Some(table_name) = physical(state, "Table") else {
        problems.push("the stack has no Table".to_owned());
        return problems;
    };
    let table = &state["tables"][table_name];
    let Some((region, account)) = table["TableArn"].as_str().and_then(region_and_account) else {
        problems.push(format!("table {table_name} does not exist"));
        return problems;
    };
    // The account also holds other stacks' APIs: this stack's are those
    // among its resources.
    let apis: Vec<&Value> = state["apis"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|api| {
            state["resources"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|r| r["type"] == "AWS::ApiGatewayV2::Api" && r["physical"] == api["ApiId"])
        })
        .collect();
    if apis.len() != 1 {
        problems.push(format!(
            "{} APIs in the stack; expected one HTTP API",
            apis.len()
        ));
    }
    let api = apis.first().copied().unwrap_or(&Value::Null);
    let api_id = api["ApiId"].as_str().unwrap_or("None");

    // Outputs: resolved, and naming this stack's API and table.
    let outputs = &state["stack"]["outputs"];
    for (key, value) in outputs.as_object().into_iter().flatten() {
        let value = value.as_str().unwrap_or_default();
        if value.is_empty() || value.contains("None") || value.contains("${") {
            problems.push(format!("output {key} is unresolved: {value:?}"));
        }
    }
    let api_url = format!("https://{api_id}.execute-api.{region}.amazonaws.com");
    for (key, want) in [
        ("OriginUrl", api_url.as_str()),
        ("TableName", table_name),
        ("JwtSecretParameterName", secret),
    ] {
        if outputs[key] != want {
            problems.push(format!("output {key} is {}, expected {want}", outputs[key]));
        }
    }
    // With the edge, the public root is CloudFront's (or the domain's);
    // without it (the rehearsal), the API's own.
    let parameters = &state["stack"]["parameters"];
    let edge = parameters["Edge"] == "enabled";
    let public = outputs["ApiUrl"].as_str().unwrap_or_default();
    if edge && (public == api_url || !public.starts_with("https://")) {
        problems.push(format!(
            "output ApiUrl is {public:?}: with the edge, CloudFront's URL, not the origin's"
        ));
    } else if !edge && public != api_url {
        problems.push(format!(
            "output ApiUrl is {public:?}, expected {api_url} without the edge"
        ));
    }
    if edge != outputs["DistributionId"].is_string() {
        problems.push(format!(
            "output DistributionId is {} with Edge {}",
            outputs["DistributionId"], parameters["Edge"]
        ));
    }
    let digests = if edge {
        parameters["OriginVerifySha256"]
            .as_str()
            .unwrap_or_default()
    } else {
        ""
    };

    // Functions, as declared, on this stack's table and secret.
    let expected = super::transformed::functions_expected();
    let deployed = state["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["type"] == "AWS::Lambda::Function")
        .count();
    if deployed != expected.len() || deployed == 0 {
        problems.push(format!(
            "{deployed} functions deployed, expected {}",
            expected.len()
        ));
    }
    if !state["ssm_parameters"]
        .as_array()
        .is_some_and(|names| names.iter().any(|n| n == secret))
    {
        problems.push(format!("the secret {secret} does not exist"));
    }
    for (id, routes) in &expected {
        let Some(name) = physical(state, &format!("{id}Function")) else {
            problems.push(format!("{id}Function was not deployed"));
            continue;
        };
        let config = &state["functions"][name];
        let want = super::transformed::expected_configuration(routes);
        super::transformed::mismatches(&mut problems, &format!("{id}Function"), config, want);
        let variables = &config["Environment"]["Variables"];
        if variables["TABLE_NAME"] != table_name {
            problems.push(format!(
                "{id}Function: TABLE_NAME is {}, expected the table's name {table_name}",
                variables["TABLE_NAME"]
            ));
        }
        if !routes.is_empty() && variables["JWT_SECRET_PARAM"] != secret {
            problems.push(format!(
                "{id}Function: JWT_SECRET_PARAM is {}, expected {secret}",
                variables["JWT_SECRET_PARAM"]
            ));
        }
        // Unset and empty alike leave the origin open: right only without
        // the edge.
        let verify = variables["ORIGIN_VERIFY_SHA256"]
            .as_str()
            .unwrap_or_default();
        if !routes.is_empty() && (verify != digests || (edge && digests.is_empty())) {
            problems.push(format!(
                "{id}Function: ORIGIN_VERIFY_SHA256 is {verify:?}, expected {digests:?} \
                 (the stack's OriginVerifySha256 with the edge, empty without)"
            ));
        }
        let aliases = config["Aliases"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
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
        for route in routes {
            let source = format!(
                "arn:aws:execute-api:{region}:{account}:{api_id}/*/{}{}",
                route.method,
                source_path(route)
            );
            let allowed = config["Policy"]["Statement"]
                .as_array()
                .into_iter()
                .flatten()
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
                    "{} {}: API Gateway may not invoke {id}Function's alias from {source}",
                    route.method, route.path
                ));
            }
        }
    }
    route_problems(&mut problems, state, api, &expected);
    consumer_problems(&mut problems, state, table);
    let protected = table["DeletionProtectionEnabled"] == true;
    if protected != (env == "prod") {
        problems.push(format!(
            "table {table_name}: DeletionProtectionEnabled is {protected} in {env}"
        ));
    }
    problems
}

/// Every route of the table on the one API, and nothing else: a payload
/// 2.0 proxy to its function's alias, on an automatically deployed stage.
fn route_problems(
    problems: &mut Vec<String>,
    state: &Value,
    api: &Value,
    expected: &[(String, Vec<&'static Route>)],
) {
    let routes = api["Routes"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if routes.len() != functions::ROUTES.len() {
        problems.push(format!(
            "the API has {} routes, the route table {}",
            routes.len(),
            functions::ROUTES.len()
        ));
    }
    for (id, served) in expected {
        let name = physical(state, &format!("{id}Function")).unwrap_or("?");
        for route in served {
            let key = format!("{} {}", route.method, route.path);
            let Some(found) = routes.iter().find(|r| r["RouteKey"] == key.as_str()) else {
                problems.push(format!("{key}: not on the API"));
                continue;
            };
            let target = found["Target"].as_str().unwrap_or_default();
            let integration = api["Integrations"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|i| {
                    Some(target)
                        == i["IntegrationId"]
                            .as_str()
                            .map(|id| format!("integrations/{id}"))
                            .as_deref()
                });
            let Some(integration) = integration else {
                problems.push(format!("{key}: its target {target:?} is no integration"));
                continue;
            };
            let uri = integration["IntegrationUri"].as_str().unwrap_or_default();
            let kind = integration["IntegrationType"].as_str().unwrap_or_default();
            if !kind.eq_ignore_ascii_case("aws_proxy")
                || integration["PayloadFormatVersion"] != "2.0"
                || !uri.ends_with(&format!(":function:{name}:{ALIAS}/invocations"))
            {
                problems.push(format!(
                    "{key}: not a payload 2.0 proxy to {name}:{ALIAS}: {integration}"
                ));
            }
        }
    }
    let stages = api["Stages"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if !stages
        .iter()
        .any(|s| s["StageName"] == "$default" && s["AutoDeploy"] == true)
    {
        problems.push(format!(
            "no automatically deployed $default stage: {stages:?}"
        ));
    }
}

/// Each consumer has one mapping on the table's stream, filtered, sending
/// what fails to the queue.
fn consumer_problems(problems: &mut Vec<String>, state: &Value, table: &Value) {
    let mappings = state["event_source_mappings"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let queue = physical(state, "StreamFailuresQueue").unwrap_or("?");
    for consumer in functions::CONSUMERS {
        let id = logical_id(consumer.name);
        let name = physical(state, &format!("{id}Function")).unwrap_or("?");
        let mine: Vec<&Value> = mappings
            .iter()
            .filter(|m| {
                m["FunctionArn"]
                    .as_str()
                    .is_some_and(|arn| arn.contains(&format!(":function:{name}:")))
            })
            .collect();
        let [mapping] = mine.as_slice() else {
            problems.push(format!(
                "{id}Function: {} stream mappings, expected 1",
                mine.len()
            ));
            continue;
        };
        let queue_name = queue.rsplit('/').next().unwrap_or(queue);
        if mapping["EventSourceArn"] != table["LatestStreamArn"]
            || mapping["FilterCriteria"]["Filters"]
                .as_array()
                .is_none_or(Vec::is_empty)
            || !mapping["DestinationConfig"]["OnFailure"]["Destination"]
                .as_str()
                .is_some_and(|d| d.ends_with(&format!(":{queue_name}")))
        {
            problems.push(format!("{id}Function: its stream mapping is {mapping}"));
        }
    }
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
    if !after["ssm_parameters"]
        .as_array()
        .is_some_and(|names| names.iter().any(|n| n == secret))
    {
        problems.push(format!("the secret {secret} was deleted"));
    }
    let left = before["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["type"] == "AWS::Lambda::Function")
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
    use serde_json::json;

    use super::*;

    #[test]
    fn a_stack_that_is_not_there_is_a_problem() {
        let problems = problems(&json!({ "stack": null }), "dev", "/s");
        assert_eq!(problems, ["the stack is missing"]);
    }

    #[test]
    fn nothing_deployed_and_nothing_resolved_fail_rather_than_pass() {
        let state = json!({
            "stack": {
                "status": "CREATE_COMPLETE",
                "outputs": { "ApiUrl": "https://None.execute-api", "TableName": "${Table}" }
            },
            "resources": [{ "logical": "Table", "physical": "t", "type": "AWS::DynamoDB::Table" }],
            "tables": { "t": { "TableArn": "arn:aws:dynamodb:us-east-1:1:table/t" } },
            "apis": [],
            "functions": {},
            "ssm_parameters": ["/s"]
        });
        let problems = problems(&state, "dev", "/s");
        for expected in [
            "0 APIs in the stack",
            "output ApiUrl is unresolved",
            "output TableName is unresolved",
            "0 functions deployed",
            "GET /api/tags: not on the API",
        ] {
            assert!(
                problems.iter().any(|p| p.contains(expected)),
                "{expected}: {problems:?}"
            );
        }
    }

    #[test]
    fn the_edge_decides_the_public_url_and_whether_the_origin_is_closed() {
        let route = functions::ROUTES[0];
        let id = logical_id(route.function);
        let state = |edge: &str, url: &str, verify: &str| {
            json!({
                "stack": {
                    "status": "CREATE_COMPLETE",
                    "parameters": { "Edge": edge, "OriginVerifySha256": "ab,cd" },
                    "outputs": { "ApiUrl": url, "OriginUrl": "https://a1.execute-api.us-east-1.amazonaws.com" }
                },
                "resources": [
                    { "logical": "Table", "physical": "t", "type": "AWS::DynamoDB::Table" },
                    { "logical": "HttpApi", "physical": "a1", "type": "AWS::ApiGatewayV2::Api" },
                    { "logical": format!("{id}Function"), "physical": "f", "type": "AWS::Lambda::Function" }
                ],
                "tables": { "t": { "TableArn": "arn:aws:dynamodb:us-east-1:1:table/t" } },
                "apis": [{ "ApiId": "a1" }],
                "functions": { "f": { "Environment": { "Variables": { "ORIGIN_VERIFY_SHA256": verify } } } },
                "ssm_parameters": ["/s"]
            })
        };
        let about = |problems: Vec<String>, what: &str| {
            problems
                .into_iter()
                .filter(|p| p.contains(what))
                .collect::<Vec<_>>()
        };
        let origin = "https://a1.execute-api.us-east-1.amazonaws.com";
        let rehearsed = problems(&state("disabled", origin, ""), "dev", "/s");
        assert!(
            about(rehearsed.clone(), "ApiUrl").is_empty(),
            "{rehearsed:?}"
        );
        assert!(about(rehearsed, "ORIGIN_VERIFY").is_empty());
        let open = problems(&state("enabled", origin, ""), "dev", "/s");
        assert_eq!(about(open.clone(), "ApiUrl").len(), 1, "{open:?}");
        assert_eq!(about(open.clone(), "ORIGIN_VERIFY").len(), 1, "{open:?}");
        assert_eq!(about(open, "DistributionId").len(), 1);
        let closed = problems(
            &state("enabled", "https://d1.cloudfront.net", "ab,cd"),
            "dev",
            "/s",
        );
        assert!(about(closed.clone(), "ApiUrl").is_empty(), "{closed:?}");
        assert!(about(closed, "ORIGIN_VERIFY").is_empty());
    }

    #[test]
    fn after_a_delete_the_table_and_the_secret_must_remain() {
        let before = json!({
            "resources": [
                { "logical": "Table", "physical": "t", "type": "AWS::DynamoDB::Table" },
                { "logical": "F", "physical": "f", "type": "AWS::Lambda::Function" }
            ]
        });
        let gone =
            json!({ "stack": null, "tables": {}, "functions": { "f": {} }, "ssm_parameters": [] });
        let problems = retained_problems(&before, &gone, "/s");
        assert_eq!(problems.len(), 3, "{problems:?}");
        let kept = json!({ "stack": null, "tables": { "t": {} }, "functions": {}, "ssm_parameters": ["/s"] });
        assert_eq!(
            retained_problems(&before, &kept, "/s"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn permissions_name_path_parameters_as_api_gateway_does() {
        let route = functions::ROUTES
            .iter()
            .find(|r| r.path == "/api/articles/{slug}/comments/{id}")
            .unwrap();
        assert_eq!(source_path(route), "/api/articles/*/comments/*");
    }
}
