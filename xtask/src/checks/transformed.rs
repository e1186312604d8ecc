//! The API's template as SAM's transform leaves it
//! (`infra/rehearsal/transform.py`), resolved for each way an environment
//! is deployed: what CloudFormation creates, which the linters cannot see,
//! against the route, consumer and job tables. Its edge: [`super::edge`].

use conduit_common::events::JobAccess;
use conduit_common::http::{Route, by_function};
use serde_json::{Map, Value, json};

use super::{count, expect, holds, list, resources};
use crate::template::deployment::ALIAS;
use crate::template::logical_id;

/// Every problem of the transformed template, per environment and way of
/// deploying it; and a bare `sam deploy --config-env ENV` (samconfig.toml
/// alone) must be refused, not deploy an edge without its firewall or an
/// open origin.
pub fn problems(template: &Value, samconfig: &str) -> Result<Vec<String>, String> {
    let mut problems = Vec::new();
    for env in super::samconfig::ENVIRONMENTS {
        for (label, parameters) in super::edge::deployments(samconfig, env)? {
            let resolver = Resolver::new(template, &parameters);
            let stack = resolver.stack(template);
            let mut found = resolver.broken_rules(template);
            stack_problems(&stack, &resolver, env, &mut found);
            super::edge::distribution_problems(&stack, &resolver, &mut found);
            problems.extend(
                found
                    .into_iter()
                    .map(|problem| format!("{label}: {problem}")),
            );
        }
        let bare = Resolver::new(
            template,
            &super::samconfig::with_overrides(samconfig, env, &[])?,
        );
        let refused = bare.broken_rules(template);
        for needed in ["WebAclArn", "OriginVerifySha256"] {
            if bare.parameter("Edge") == "enabled" && !refused.iter().any(|r| r.contains(needed)) {
                problems.push(format!(
                    "{env}: samconfig.toml alone deploys an edge without {needed}"
                ));
            }
        }
    }
    Ok(problems)
}

/// The functions the template must have: `(logical id prefix, routes)`,
/// no routes for a consumer or a job.
pub(super) fn functions_expected() -> Vec<(String, Vec<&'static Route>)> {
    let others = crate::template::function_names().skip(by_function(functions::ROUTES).len());
    let all = by_function(functions::ROUTES)
        .into_iter()
        .chain(others.map(|n| (n, Vec::new())));
    all.map(|(name, routes)| (logical_id(name), routes))
        .collect()
}

/// A route's path as a permission's source ARN has it: each parameter `*`.
fn source_path(route: &Route) -> String {
    let segments = route
        .path
        .split('/')
        .map(|s| if s.starts_with('{') { "*" } else { s });
    segments.collect::<Vec<_>>().join("/")
}

/// The API's stack, resolved for one deployment to `env`, but its edge.
fn stack_problems(stack: &Value, resolver: &Resolver, env: &str, problems: &mut Vec<String>) {
    let expected = functions_expected();
    count(
        problems,
        stack,
        &[
            ("AWS::ApiGatewayV2::Api", 1),
            ("AWS::Lambda::Function", expected.len()),
            (
                "AWS::Lambda::EventSourceMapping",
                functions::CONSUMERS.len(),
            ),
        ],
    );
    // What each resource must hold, by logical id. Every change deployed.
    let mut want = json!({
        "HttpApiApiGatewayDefaultStage": { "Properties": { "StageName": "$default", "AutoDeploy": true } },
    });
    // Every route on HttpApi (and no other); API Gateway allowed to invoke
    // its function's alias on that route alone.
    let permissions = resources(stack, "AWS::Lambda::Permission");
    for route in functions::ROUTES {
        let alias = format!("{}FunctionAlias{ALIAS}", logical_id(route.function));
        let (method, path) = (route.method.as_str(), source_path(route));
        let uri = format!(
            "arn:${{AWS::Partition}}:apigateway:${{AWS::Region}}:lambda:path/2015-03-31/functions/${{{alias}}}/invocations"
        );
        want["HttpApi"]["Properties"]["Body"]["paths"][route.path][method.to_lowercase()] = json!({
            "x-amazon-apigateway-integration": { "type": "aws_proxy", "payloadFormatVersion": "2.0", "uri": { "Fn::Sub": uri } },
        });
        let source = format!(
            "arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{__ApiId__}}/${{__Stage__}}/{method}{path}"
        );
        let permission = json!({ "Properties": {
            "FunctionName": { "Ref": alias }, "Principal": "apigateway.amazonaws.com",
            "SourceArn": { "Fn::Sub": [source, { "__ApiId__": { "Ref": "HttpApi" }, "__Stage__": "*" }] },
        } });
        if !permissions
            .iter()
            .any(|(_, found)| holds(found, &permission))
        {
            problems.push(format!("{method} {path}: no permission {permission}"));
        }
    }
    let paths = stack["Resources"]["HttpApi"]["Properties"]["Body"]["paths"].as_object();
    let served: usize = paths
        .into_iter()
        .flatten()
        .map(|(_, m)| m.as_object().map_or(0, Map::len))
        .sum();
    if served != functions::ROUTES.len() {
        problems.push(format!(
            "HttpApi serves {served} routes, the table {}",
            functions::ROUTES.len()
        ));
    }
    // Each function as declared, its alias moved by CodeDeploy (in steps in
    // prod) behind its rollback alarm.
    let secret = resolver.parameter("JwtSecretParameterName");
    let edge = resolver.parameter("Edge") == "enabled";
    let digests = if edge {
        resolver.parameter("OriginVerifySha256")
    } else {
        String::new()
    };
    let deploy_config = if env == "prod" {
        "Canary10Percent10Minutes"
    } else {
        "AllAtOnce"
    };
    for (id, routes) in &expected {
        // A route's function: the memory it declares (else the Globals' 256
        // MB), the 10 s timeout, its JWT secret and, with the edge, the
        // origin secret's digests (so that the execute-api URL refuses what
        // did not come through CloudFront).
        let function = format!("{id}Function");
        let mut config = json!({
            "Runtime": "provided.al2023", "Handler": "bootstrap", "Architectures": ["arm64"],
            "Environment": { "Variables": { "TABLE_NAME": { "Ref": "Table" } } },
            "TracingConfig": { "Mode": "Active" },
            "LoggingConfig": { "LogGroup": { "Ref": format!("{id}LogGroup") } },
        });
        if let Some(route) = routes.first() {
            config["MemorySize"] =
                json!(route.deploy.memory.map_or(256, |(megabytes, _)| megabytes));
            config["Timeout"] = json!(10);
            let variables = &mut config["Environment"]["Variables"];
            variables["JWT_SECRET_PARAM"] = json!(secret);
            variables["ORIGIN_VERIFY_SHA256"] = json!(digests);
        }
        want[&function] = json!({ "Properties": config });
        let (group, alarm) = (
            format!("{function}DeploymentGroup"),
            format!("{id}RollbackAlarm"),
        );
        want[format!("{function}Alias{ALIAS}")] = json!({
            "Type": "AWS::Lambda::Alias",
            "Properties": { "FunctionName": { "Ref": function }, "Name": ALIAS },
            "UpdatePolicy": { "CodeDeployLambdaAliasUpdate": { "DeploymentGroupName": { "Ref": group } } },
        });
        let events = [
            "DEPLOYMENT_FAILURE",
            "DEPLOYMENT_STOP_ON_ALARM",
            "DEPLOYMENT_STOP_ON_REQUEST",
        ];
        want[&group] = json!({ "Properties": {
            "DeploymentConfigName": { "Fn::Sub": ["CodeDeployDefault.Lambda${ConfigName}", { "ConfigName": deploy_config }] },
            "AlarmConfiguration": { "Enabled": true, "Alarms": [{ "Name": { "Ref": alarm } }] },
            "AutoRollbackConfiguration": { "Enabled": true, "Events": events },
        } });
        want[&alarm] = json!({ "Type": "AWS::CloudWatch::Alarm" });
        // The managed policies its table access calls for, no more: a
        // route's as it declares; a consumer's read and write, no secret; a
        // job off the table none.
        let off_table = (functions::JOBS.iter())
            .any(|job| logical_id(job.name) == *id && job.access != JobAccess::Table);
        let (role, policies): (String, &[&str]) = match routes.first() {
            Some(route) => (format!("{function}Role"), crate::template::policies(route)),
            None if off_table => (format!("{id}Role"), &[]),
            None => (
                format!("{id}Role"),
                &["ReadAccessPolicy", "WriteAccessPolicy"],
            ),
        };
        let arns = list(&stack["Resources"][&role]["Properties"]["ManagedPolicyArns"]);
        let attached: Vec<&str> = arns.iter().filter_map(|arn| arn["Ref"].as_str()).collect();
        if attached != policies {
            problems.push(format!(
                "{role}: policies {attached:?}, expected {policies:?}"
            ));
        }
    }
    want["Table"] = json!({
        "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
        "Properties": {
            "DeletionProtectionEnabled": env == "prod",
            "TimeToLiveSpecification": { "AttributeName": "expires_at", "Enabled": true },
            "PointInTimeRecoverySpecification": { "PointInTimeRecoveryEnabled": true },
            "SSESpecification": { "SSEEnabled": true, "SSEType": "KMS" },
            "StreamSpecification": { "StreamViewType": "NEW_AND_OLD_IMAGES" },
        },
    });
    // Each consumer's mapping invokes its alias with its filters and
    // on-failure queue; only the consumers' roles may read the stream.
    let mut readers = Vec::new();
    for consumer in functions::CONSUMERS {
        let id = logical_id(consumer.name);
        let filters: Vec<Value> = consumer
            .filters
            .iter()
            .map(|f| json!({ "Pattern": f.pattern().to_string() }))
            .collect();
        want[format!("{id}FunctionStream")] = json!({ "Type": "AWS::Lambda::EventSourceMapping", "Properties": {
            "FunctionName": { "Ref": format!("{id}FunctionAlias{ALIAS}") },
            "EventSourceArn": { "Fn::GetAtt": ["Table", "StreamArn"] },
            "FilterCriteria": { "Filters": filters },
            "DestinationConfig": { "OnFailure": { "Destination": { "Fn::GetAtt": ["StreamFailuresQueue", "Arn"] } } },
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        } });
        readers.push(id + "Role");
    }
    expect(problems, "Resources", &stack["Resources"], want);
    for (id, resource) in resources(stack, "AWS::IAM::") {
        if resource.to_string().contains("dynamodb:GetRecords") && !readers.iter().any(|r| r == id)
        {
            problems.push(format!(
                "{id} may read the table's stream; only consumers may"
            ));
        }
    }
}

/// Resolves what CloudFormation resolves before creating anything: `Ref`
/// to a parameter, parameters in `Fn::Sub`, `Fn::If`, `AWS::NoValue`, the
/// conditions and rules. The rest (`Fn::GetAtt`, a resource's `Ref` or
/// `${Resource}`) is left as written.
pub(super) struct Resolver {
    parameters: Map<String, Value>,
    conditions: Map<String, Value>,
}

impl Resolver {
    pub(super) fn new(template: &Value, overrides: &[(String, String)]) -> Self {
        let declared = template["Parameters"].as_object().into_iter().flatten();
        let mut parameters: Map<String, Value> = declared
            .map(|(name, p)| (name.clone(), p["Default"].clone()))
            .collect();
        parameters.extend(
            overrides
                .iter()
                .map(|(name, value)| (name.clone(), json!(value))),
        );
        let conditions = template["Conditions"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        Resolver {
            parameters,
            conditions,
        }
    }

    /// A parameter's value, as a `Ref` to it resolves.
    pub(super) fn value(&self, name: &str) -> Value {
        self.parameters.get(name).cloned().unwrap_or_default()
    }

    pub(super) fn parameter(&self, name: &str) -> String {
        text(&self.value(name))
    }

    /// The stack CloudFormation would create: resolved, without the
    /// resources and outputs whose condition is false.
    pub(super) fn stack(&self, template: &Value) -> Value {
        let mut resolved = self.resolve(template);
        for section in ["Resources", "Outputs"] {
            let condition = |id: &String| template[section][id].get("Condition").cloned();
            if let Some(items) = resolved[section].as_object_mut() {
                items.retain(|id, _| condition(id).is_none_or(|c| self.condition(&c)));
            }
        }
        resolved
    }

    /// Each assertion of the template's `Rules` this deployment fails where
    /// its rule applies, by its description: CloudFormation refuses it.
    pub(super) fn broken_rules(&self, template: &Value) -> Vec<String> {
        let rules = template["Rules"].as_object().into_iter().flatten();
        let applying =
            rules.filter(|(_, r)| r.get("RuleCondition").is_none_or(|c| self.condition(c)));
        let assertions =
            applying.flat_map(|(name, r)| list(&r["Assertions"]).iter().map(move |a| (name, a)));
        let broken = assertions.filter(|(_, assertion)| !self.condition(&assertion["Assert"]));
        broken
            .map(|(name, a)| {
                format!(
                    "rule {name}: {}",
                    a["AssertDescription"].as_str().unwrap_or("fails")
                )
            })
            .collect()
    }

    fn resolve(&self, value: &Value) -> Value {
        let kept = |v: &Value| v != &json!({ "Ref": "AWS::NoValue" });
        let Some(map) = value.as_object() else {
            return match value.as_array() {
                Some(items) => {
                    Value::Array(items.iter().map(|v| self.resolve(v)).filter(kept).collect())
                }
                None => value.clone(),
            };
        };
        match map.iter().next().filter(|_| map.len() == 1) {
            Some((key, Value::String(name)))
                if key == "Ref" && self.parameters.contains_key(name) =>
            {
                self.parameters[name].clone()
            }
            Some((key, Value::Array(args))) if key == "Fn::If" && args.len() == 3 => {
                self.resolve(&args[if self.condition(&args[0]) { 1 } else { 2 }])
            }
            Some((key, Value::String(text))) if key == "Fn::Sub" => self.sub(text),
            _ => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.resolve(v)))
                    .filter(|(_, v)| kept(v))
                    .collect(),
            ),
        }
    }

    /// `Fn::Sub` with the parameters it names put in: a plain string if
    /// that was all, else `Fn::Sub` of what is left (resources, `AWS::`).
    fn sub(&self, written: &str) -> Value {
        let (mut out, mut rest, mut left) = (String::new(), written, false);
        while let Some((before, after)) = rest.split_once("${") {
            let Some((name, after)) = after.split_once('}') else {
                break;
            };
            let value = self.parameters.get(name).map(text);
            left |= value.is_none();
            out += &format!(
                "{before}{}",
                value.unwrap_or_else(|| format!("${{{name}}}"))
            );
            rest = after;
        }
        out.push_str(rest);
        if left {
            json!({ "Fn::Sub": out })
        } else {
            json!(out)
        }
    }

    /// A condition, by name or written out.
    fn condition(&self, condition: &Value) -> bool {
        if let Some(name) = condition.as_str() {
            return self
                .conditions
                .get(name)
                .is_some_and(|written| self.condition(written));
        }
        let Some((key, arg)) = condition.as_object().and_then(|m| m.iter().next()) else {
            return false;
        };
        match (key.as_str(), list(arg)) {
            ("Fn::Equals", [a, b]) => text(&self.resolve(a)) == text(&self.resolve(b)),
            ("Fn::Not", [c]) => !self.condition(c),
            ("Fn::And", all) => all.iter().all(|c| self.condition(c)),
            ("Fn::Or", any) => any.iter().any(|c| self.condition(c)),
            ("Condition", _) => self.condition(arg),
            _ => false,
        }
    }
}

/// A resolved value as CloudFormation passes it on: a string as it is,
/// anything else (a number) as written.
pub(super) fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_conditions_subs_no_values_and_rules_resolve_as_cloudformation_does() {
        let template = json!({
            "Parameters": { "Name": { "Default": "/n" }, "Version": { "Default": 0 }, "Edge": { "Default": "enabled" } },
            "Conditions": {
                "HasEdge": { "Fn::Equals": [{ "Ref": "Edge" }, "enabled"] },
                "NoEdge": { "Fn::Not": [{ "Condition": "HasEdge" }] }
            },
            "Rules": { "Versioned": {
                "RuleCondition": { "Fn::Equals": [{ "Ref": "Edge" }, "enabled"] },
                "Assertions": [{ "Assert": { "Fn::Not": [{ "Fn::Equals": [{ "Ref": "Version" }, "0"] }] }, "AssertDescription": "needs a version" }]
            } },
            "Resources": { "Edge": { "Condition": "HasEdge", "Properties": {
                "Secret": { "Fn::Sub": "{{resolve:ssm:${Name}:${Version}}}" },
                "Url": { "Fn::Sub": "https://${Api}.${AWS::Region}/${Name}" },
                "Gone": { "Fn::If": ["HasEdge", { "Ref": "AWS::NoValue" }, 1] },
                "Off": { "Fn::If": ["NoEdge", true, false] },
                "List": [1, { "Ref": "AWS::NoValue" }],
                "Ref": { "Ref": "Edge" },
                "Name": { "Ref": "Table" }
            } } },
            "Outputs": { "Id": { "Condition": "HasEdge", "Value": { "Ref": "Edge" } } }
        });
        let with =
            |name: &str, value: &str| Resolver::new(&template, &[(name.into(), value.into())]);
        let edge = with("Version", "3");
        assert!(edge.broken_rules(&template).is_empty());
        let stack = edge.stack(&template);
        let properties = json!({
            "Secret": "{{resolve:ssm:/n:3}}", "Url": { "Fn::Sub": "https://${Api}.${AWS::Region}//n" },
            "Off": false, "List": [1], "Ref": "enabled",
            // A resource's Ref is CloudFormation's to resolve at creation.
            "Name": { "Ref": "Table" }
        });
        assert_eq!(stack["Resources"]["Edge"]["Properties"], properties);
        assert!(stack["Outputs"]["Id"].is_object());
        assert_eq!(
            with("Name", "/n").broken_rules(&template),
            ["rule Versioned: needs a version"]
        );
        let without = with("Edge", "disabled");
        assert!(without.broken_rules(&template).is_empty());
        let stack = without.stack(&template);
        assert_eq!(
            (&stack["Resources"], &stack["Outputs"]),
            (&json!({}), &json!({}))
        );
    }
}
