//! The template as SAM's transform leaves it
//! (`infra/rehearsal/transform.py`), with the
//! conditions and parameters of each environment resolved (samconfig.toml's,
//! and those scripts/deploy.sh adds, [`edge::deployments`](super::edge)),
//! checked against the route table and the consumer table. This
//! is what CloudFormation creates, so it shows what the linters cannot: the
//! one API every route lands on, what each function's environment points
//! at, the aliases callers invoke and the deployments that move them, and
//! the edge in front of it all ([`edge`](super::edge)).
//! Run by `xtask check-transformed PYTHON` ([`breaks`](super::breaks)),
//! on the template and on copies with known mistakes.

use conduit_common::events::Consumer;
use conduit_common::http::{Route, by_function};
use serde_json::{Value, json};

use super::edge::Edge;
use crate::template::deployment::ALIAS;
use crate::template::logical_id;

/// The environments CI deploys, each with its parameters from samconfig.toml.
pub(super) const ENVIRONMENTS: &[&str] = &["dev", "prod"];

/// Prints the transformed template's problems, or that it passed.
pub fn report(problems: &[String]) -> Result<(), String> {
    let passed = format!(
        " ({} routes, {} functions, dev and prod, with the edge, with a domain and without the edge)",
        functions::ROUTES.len(),
        functions_expected().len()
    );
    super::report("transformed template", problems, &passed)
}

/// Every problem of the transformed template, per environment and way of
/// deploying it.
pub fn problems(template: &Value, samconfig: &str) -> Result<Vec<String>, String> {
    let mut problems = Vec::new();
    for env in ENVIRONMENTS {
        for deployment in super::edge::deployments(samconfig, env)? {
            let resolver = Resolver::new(template, &deployment.parameters);
            let resolved = resolver.stack(template);
            let edge = Edge::of(&resolver);
            let stack = Stack {
                template: &resolved,
                secret_parameter: resolver.parameter("JwtSecretParameterName"),
                edge: &edge,
            };
            let found = resolver
                .broken_rules(template)
                .into_iter()
                .chain(stack.problems(env));
            problems.extend(found.map(|problem| format!("{}: {problem}", deployment.label)));
        }
        // A bare `sam deploy --config-env ENV` (samconfig.toml's parameters
        // alone, no edge stack, no origin secret) must be refused, not
        // deploy an edge without its firewall or an open origin.
        let bare = Resolver::new(
            template,
            &super::samconfig::parameter_overrides(samconfig, env)?,
        );
        if bare.parameter("Edge") == "enabled" {
            let refused = bare.broken_rules(template);
            for needed in ["WebAclArn", "OriginVerifySha256"] {
                if !refused.iter().any(|rule| rule.contains(needed)) {
                    problems.push(format!(
                        "{env} as samconfig.toml alone deploys it: the template's rules do not \
                         refuse an edge without {needed}"
                    ));
                }
            }
        }
    }
    Ok(problems)
}

/// The functions the template must have: `(logical id prefix, routes)`,
/// with no routes for a stream consumer or a scheduled job.
pub(super) fn functions_expected() -> Vec<(String, Vec<&'static Route>)> {
    by_function(functions::ROUTES)
        .into_iter()
        .map(|(name, routes)| (logical_id(name), routes))
        .chain(
            functions::CONSUMERS
                .iter()
                .map(|consumer: &&Consumer| (logical_id(consumer.name), Vec::new())),
        )
        .chain(
            functions::JOBS
                .iter()
                .map(|job| (logical_id(job.name), Vec::new())),
        )
        .collect()
}

/// What a function's configuration holds, in the transformed template and
/// as Lambda reports it alike: its runtime and handler and, for a route's
/// function, the memory the route declares (else the Globals' 256 MB) and
/// the Globals' 10 s timeout.
pub(super) fn expected_configuration(routes: &[&Route]) -> Vec<(&'static str, Value)> {
    let mut want = vec![
        ("Runtime", json!("provided.al2023")),
        ("Handler", json!("bootstrap")),
    ];
    if let Some(route) = routes.first() {
        let memory = route.deploy.memory.map_or(256, |(megabytes, _)| megabytes);
        want.push(("MemorySize", json!(memory)));
        want.push(("Timeout", json!(10)));
    }
    want
}

/// A problem of `resource` for each property of `actual` that is not as
/// wanted.
pub(super) fn mismatches(
    problems: &mut Vec<String>,
    resource: &str,
    actual: &Value,
    want: Vec<(&str, Value)>,
) {
    for (property, value) in want {
        if actual[property] != value {
            problems.push(format!(
                "{resource}: {property} is {}, expected {value}",
                actual[property]
            ));
        }
    }
}

/// Resolves what CloudFormation resolves before creating anything: `Ref`
/// to a parameter, parameters in `Fn::Sub`, `Fn::If` by the conditions,
/// `AWS::NoValue`, and the resources and outputs whose condition is false
/// (left out, [`Resolver::stack`]). Everything else (`Fn::GetAtt`, `Ref`
/// to a resource, `${Resource}` in `Fn::Sub`) is left as written.
pub(super) struct Resolver {
    pub(super) parameters: serde_json::Map<String, Value>,
    conditions: serde_json::Map<String, Value>,
}

impl Resolver {
    pub(super) fn new(template: &Value, overrides: &[(String, String)]) -> Self {
        let mut parameters = serde_json::Map::new();
        if let Some(declared) = template["Parameters"].as_object() {
            for (name, declaration) in declared {
                let default = declaration.get("Default").cloned().unwrap_or(Value::Null);
                parameters.insert(name.clone(), default);
            }
        }
        for (name, value) in overrides {
            parameters.insert(name.clone(), Value::String(value.clone()));
        }
        let conditions = template["Conditions"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        Resolver {
            parameters,
            conditions,
        }
    }

    /// A parameter's value as text (`""` if it has none).
    pub(super) fn parameter(&self, name: &str) -> String {
        self.parameters.get(name).map(text).unwrap_or_default()
    }

    /// The stack CloudFormation would create: `template` resolved, without
    /// the resources and outputs whose condition is false.
    pub(super) fn stack(&self, template: &Value) -> Value {
        let mut resolved = self.resolve(template);
        for section in ["Resources", "Outputs"] {
            let declared = &template[section];
            if let Some(items) = resolved[section].as_object_mut() {
                items.retain(|id, _| {
                    declared[id]
                        .get("Condition")
                        .is_none_or(|condition| self.condition(condition))
                });
            }
        }
        resolved
    }

    /// The template's `Rules` that this deployment breaks: each assertion
    /// that fails where its rule applies, by its description (CloudFormation
    /// refuses such a deployment before creating anything).
    pub(super) fn broken_rules(&self, template: &Value) -> Vec<String> {
        let mut broken = Vec::new();
        for (name, rule) in template["Rules"].as_object().into_iter().flatten() {
            if !rule
                .get("RuleCondition")
                .is_none_or(|condition| self.condition(condition))
            {
                continue;
            }
            for assertion in rule["Assertions"].as_array().into_iter().flatten() {
                if !self.condition(&assertion["Assert"]) {
                    broken.push(format!(
                        "rule {name}: {}",
                        assertion["AssertDescription"].as_str().unwrap_or("fails")
                    ));
                }
            }
        }
        broken
    }

    pub(super) fn resolve(&self, value: &Value) -> Value {
        match value {
            Value::Object(map) if map.len() == 1 => {
                let (key, arg) = map.iter().next().expect("one entry");
                match (key.as_str(), arg) {
                    ("Ref", Value::String(name)) if self.parameters.contains_key(name) => {
                        self.parameters[name].clone()
                    }
                    ("Fn::If", Value::Array(args)) if args.len() == 3 => {
                        let chosen = if self.condition(&args[0]) { 1 } else { 2 };
                        self.resolve(&args[chosen])
                    }
                    ("Fn::Sub", Value::String(text)) => self.sub(text),
                    _ => self.resolve_entries(map),
                }
            }
            Value::Object(map) => self.resolve_entries(map),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|v| self.resolve(v))
                    .filter(|v| !is_no_value(v))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn resolve_entries(&self, map: &serde_json::Map<String, Value>) -> Value {
        Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), self.resolve(v)))
                .filter(|(_, v)| !is_no_value(v))
                .collect(),
        )
    }

    /// `Fn::Sub` with the parameters it names put in: a plain string if
    /// that was all, else `Fn::Sub` of what is left (resources, `AWS::`).
    fn sub(&self, written: &str) -> Value {
        let mut out = String::new();
        let mut rest = written;
        let mut left = false;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                rest = "";
                break;
            };
            let name = &after[..end];
            match self.parameters.get(name) {
                Some(value) if !name.starts_with('!') => out.push_str(&text(value)),
                _ => {
                    out.push_str(&rest[start..start + 3 + end]);
                    left = true;
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        if left {
            json!({ "Fn::Sub": out })
        } else {
            Value::String(out)
        }
    }

    /// A condition, by name or written out (`Fn::Equals`, `Fn::Not`,
    /// `Fn::And`, `Fn::Or`, `Condition`).
    pub(super) fn condition(&self, condition: &Value) -> bool {
        if let Some(name) = condition.as_str() {
            return self
                .conditions
                .get(name)
                .is_some_and(|written| self.condition(written));
        }
        let Some((key, arg)) = condition.as_object().and_then(|m| m.iter().next()) else {
            return false;
        };
        let args = arg.as_array().map(Vec::as_slice).unwrap_or_default();
        match key.as_str() {
            "Fn::Equals" if args.len() == 2 => {
                text(&self.resolve(&args[0])) == text(&self.resolve(&args[1]))
            }
            "Fn::Not" if args.len() == 1 => !self.condition(&args[0]),
            "Fn::And" => args.iter().all(|c| self.condition(c)),
            "Fn::Or" => args.iter().any(|c| self.condition(c)),
            "Condition" => self.condition(arg),
            _ => false,
        }
    }
}

fn is_no_value(value: &Value) -> bool {
    value == &json!({ "Ref": "AWS::NoValue" })
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

/// A transformed template, resolved for one environment.
struct Stack<'a> {
    template: &'a Value,
    /// The JWT secret's parameter name that environment deploys with.
    secret_parameter: String,
    /// The edge it must have.
    edge: &'a Edge,
}

impl Stack<'_> {
    fn resources_of(&self, kind: &str) -> Vec<(&str, &Value)> {
        super::edge::resources_of(self.template, kind)
    }

    fn resource(&self, id: &str) -> &Value {
        &self.template["Resources"][id]
    }

    fn problems(&self, env: &str) -> Vec<String> {
        let mut problems = Vec::new();
        self.api(&mut problems);
        self.functions(&mut problems, env);
        self.table(&mut problems, env);
        self.consumers(&mut problems);
        super::edge::distribution_problems(self.template, self.edge, &mut problems);
        problems
    }

    /// One HTTP API, holding every route and nothing else, each a payload
    /// 2.0 proxy to its function's alias; and the permission for API
    /// Gateway to invoke that alias on that route only.
    fn api(&self, problems: &mut Vec<String>) {
        let apis = self.resources_of("AWS::ApiGatewayV2::Api");
        let ids: Vec<&str> = apis.iter().map(|(id, _)| *id).collect();
        if ids != ["HttpApi"] {
            problems.push(format!("expected one HTTP API, HttpApi; found {ids:?}"));
        }
        let Some((_, api)) = apis.iter().find(|(id, _)| *id == "HttpApi") else {
            return;
        };
        let paths = &api["Properties"]["Body"]["paths"];
        let mut served = 0;
        for route in functions::ROUTES {
            let method = route.method.as_str().to_lowercase();
            let integration = &paths[route.path][&method]["x-amazon-apigateway-integration"];
            let target = format!(
                "${{{}Function{}}}",
                logical_id(route.function),
                alias_suffix()
            );
            let uri = integration["uri"]["Fn::Sub"].as_str().unwrap_or_default();
            if integration["type"] != "aws_proxy"
                || integration["payloadFormatVersion"] != "2.0"
                || !uri.contains(&format!("functions/{target}/invocations"))
            {
                problems.push(format!(
                    "{} {}: not a payload 2.0 proxy to {target} on HttpApi: {integration}",
                    route.method, route.path
                ));
            }
            served += 1;
            self.permission(problems, route);
        }
        let in_body: usize = paths
            .as_object()
            .into_iter()
            .flatten()
            .map(|(_, methods)| methods.as_object().map_or(0, |m| m.len()))
            .sum();
        if in_body != served {
            problems.push(format!(
                "HttpApi serves {in_body} routes, the route table has {served}"
            ));
        }
    }

    fn permission(&self, problems: &mut Vec<String>, route: &Route) {
        let alias = format!("{}Function{}", logical_id(route.function), alias_suffix());
        let source = format!("/{}{}", route.method, super::deployed::source_path(route));
        let found = self
            .resources_of("AWS::Lambda::Permission")
            .into_iter()
            .any(|(_, permission)| {
                let p = &permission["Properties"];
                let arn = &p["SourceArn"]["Fn::Sub"];
                p["FunctionName"] == json!({ "Ref": alias })
                    && p["Principal"] == "apigateway.amazonaws.com"
                    && arn[0].as_str().is_some_and(|arn| arn.ends_with(&source))
                    && arn[1]["__ApiId__"] == json!({ "Ref": "HttpApi" })
            });
        if !found {
            problems.push(format!(
                "{} {}: no permission for HttpApi to invoke {alias}",
                route.method, route.path
            ));
        }
    }

    /// Each function as its routes (or its consumer) declare it, published
    /// under the alias, deployed by CodeDeploy behind its rollback alarm.
    fn functions(&self, problems: &mut Vec<String>, env: &str) {
        let expected = functions_expected();
        let found = self.resources_of("AWS::Lambda::Function").len();
        if found != expected.len() {
            problems.push(format!(
                "{found} functions, expected {} (routes, consumers and jobs)",
                expected.len()
            ));
        }
        for (id, routes) in &expected {
            let function = &self.resource(&format!("{id}Function"))["Properties"];
            // What Lambda would report too, and what the emulator drops.
            let mut want = expected_configuration(routes);
            want.extend([
                ("Architectures", json!(["arm64"])),
                ("TracingConfig", json!({ "Mode": "Active" })),
                (
                    "LoggingConfig",
                    json!({ "LogGroup": { "Ref": format!("{id}LogGroup") } }),
                ),
            ]);
            mismatches(problems, &format!("{id}Function"), function, want);
            let variables = &function["Environment"]["Variables"];
            if variables["TABLE_NAME"] != json!({ "Ref": "Table" }) {
                problems.push(format!(
                    "{id}Function: TABLE_NAME is {}, expected the table's name (Ref Table)",
                    variables["TABLE_NAME"]
                ));
            }
            let secret = &self.secret_parameter;
            if !routes.is_empty() && variables["JWT_SECRET_PARAM"] != secret.as_str() {
                problems.push(format!(
                    "{id}Function: JWT_SECRET_PARAM is {}, expected {secret}",
                    variables["JWT_SECRET_PARAM"]
                ));
            }
            let digests = self.edge.origin_verify();
            if !routes.is_empty() && variables["ORIGIN_VERIFY_SHA256"] != digests {
                problems.push(format!(
                    "{id}Function: ORIGIN_VERIFY_SHA256 is {}, expected {digests:?} \
                     (OriginVerifySha256 with the edge, so that the execute-api URL refuses \
                     what did not come through CloudFront; empty without)",
                    variables["ORIGIN_VERIFY_SHA256"]
                ));
            }
            self.policies(problems, id, routes);
            self.deployment(problems, id, env);
        }
    }

    /// The managed policies on the function's role: what its routes' table
    /// access calls for, no more (consumers: read and write, no secret).
    fn policies(&self, problems: &mut Vec<String>, id: &str, routes: &[&Route]) {
        let (role, want): (String, &[&str]) = match routes.first() {
            Some(route) => (
                format!("{id}FunctionRole"),
                crate::template::policies(route),
            ),
            // A job off the table (JobAccess) gets none of its policies.
            None if functions::JOBS.iter().any(|job| {
                logical_id(job.name) == id && job.access != conduit_common::events::JobAccess::Table
            }) =>
            {
                (format!("{id}Role"), &[])
            }
            None => (
                format!("{id}Role"),
                &["ReadAccessPolicy", "WriteAccessPolicy"],
            ),
        };
        let attached: Vec<&str> = self.resource(&role)["Properties"]["ManagedPolicyArns"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|arn| arn["Ref"].as_str())
            .collect();
        if attached != want {
            problems.push(format!(
                "{role}: managed policies {attached:?}, expected {want:?}"
            ));
        }
    }

    fn deployment(&self, problems: &mut Vec<String>, id: &str, env: &str) {
        let alias = self.resource(&format!("{id}Function{}", alias_suffix()));
        let group_id = format!("{id}FunctionDeploymentGroup");
        if alias["Type"] != "AWS::Lambda::Alias"
            || alias["Properties"]["Name"] != ALIAS
            || alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]["DeploymentGroupName"]
                != json!({ "Ref": group_id })
        {
            problems.push(format!(
                "{id}Function: no alias {ALIAS} moved by CodeDeploy: {alias}"
            ));
        }
        let group = &self.resource(&group_id)["Properties"];
        let config = if env == "prod" {
            "Canary10Percent10Minutes"
        } else {
            "AllAtOnce"
        };
        if group["DeploymentConfigName"]["Fn::Sub"][1]["ConfigName"] != config {
            problems.push(format!(
                "{group_id}: deploys by {}, expected {config}",
                group["DeploymentConfigName"]
            ));
        }
        let alarm = format!("{id}RollbackAlarm");
        let rolls_back = group["AutoRollbackConfiguration"]["Enabled"] == true
            && group["AutoRollbackConfiguration"]["Events"]
                .as_array()
                .is_some_and(|events| events.contains(&json!("DEPLOYMENT_STOP_ON_ALARM")));
        if group["AlarmConfiguration"]
            != json!({ "Enabled": true, "Alarms": [{ "Name": { "Ref": alarm } }] })
            || !rolls_back
            || self.resource(&alarm)["Type"] != "AWS::CloudWatch::Alarm"
        {
            problems.push(format!("{group_id}: not rolled back by {alarm}: {group}"));
        }
    }

    /// The table: kept when the stack goes, protected from deletion in prod
    /// only, with its TTL, backups, encryption and stream.
    fn table(&self, problems: &mut Vec<String>, env: &str) {
        let table = self.resource("Table");
        let properties = &table["Properties"];
        let want = [
            ("DeletionProtectionEnabled", json!(env == "prod")),
            (
                "TimeToLiveSpecification",
                json!({ "AttributeName": "expires_at", "Enabled": true }),
            ),
            (
                "PointInTimeRecoverySpecification",
                json!({ "PointInTimeRecoveryEnabled": true }),
            ),
            (
                "SSESpecification",
                json!({ "SSEEnabled": true, "SSEType": "KMS" }),
            ),
            (
                "StreamSpecification",
                json!({ "StreamViewType": "NEW_AND_OLD_IMAGES" }),
            ),
        ];
        for (property, value) in want {
            if properties[property] != value {
                problems.push(format!(
                    "Table: {property} is {}, expected {value}",
                    properties[property]
                ));
            }
        }
        for policy in ["DeletionPolicy", "UpdateReplacePolicy"] {
            if table[policy] != "Retain" {
                problems.push(format!(
                    "Table: {policy} is {}, expected Retain",
                    table[policy]
                ));
            }
        }
    }

    /// Each consumer's mapping invokes its alias with its filter and
    /// on-failure queue; only the consumers' roles may read the stream.
    fn consumers(&self, problems: &mut Vec<String>) {
        let mappings = self.resources_of("AWS::Lambda::EventSourceMapping");
        for consumer in functions::CONSUMERS {
            let id = logical_id(consumer.name);
            let alias = json!({ "Ref": format!("{id}Function{}", alias_suffix()) });
            let mapping = mappings
                .iter()
                .find(|(_, m)| m["Properties"]["FunctionName"] == alias)
                .map(|(_, m)| &m["Properties"]);
            let Some(mapping) = mapping else {
                problems.push(format!(
                    "{id}Function: no event source mapping invokes {alias}"
                ));
                continue;
            };
            let filters = mapping["FilterCriteria"]["Filters"].as_array();
            if mapping["EventSourceArn"] != json!({ "Fn::GetAtt": ["Table", "StreamArn"] })
                || filters.is_none_or(Vec::is_empty)
                || mapping["DestinationConfig"]["OnFailure"]["Destination"]
                    != json!({ "Fn::GetAtt": ["StreamFailuresQueue", "Arn"] })
                || mapping["FunctionResponseTypes"] != json!(["ReportBatchItemFailures"])
            {
                problems.push(format!("{id}Function: its stream mapping is {mapping}"));
            }
        }
        let consumer_roles: Vec<String> = functions::CONSUMERS
            .iter()
            .map(|consumer| format!("{}Role", logical_id(consumer.name)))
            .collect();
        for kind in [
            "AWS::IAM::Role",
            "AWS::IAM::ManagedPolicy",
            "AWS::IAM::Policy",
        ] {
            for (id, resource) in self.resources_of(kind) {
                if resource.to_string().contains("dynamodb:GetRecords")
                    && !consumer_roles.iter().any(|role| role == id)
                {
                    problems.push(format!(
                        "{id} may read the table's stream; only consumers may"
                    ));
                }
            }
        }
    }
}

/// How SAM names a function's alias resource: `<Function>Alias<alias>`.
fn alias_suffix() -> String {
    format!("Alias{ALIAS}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> Value {
        json!({
            "Parameters": {
                "Environment": { "Type": "String", "Default": "dev" },
                "Secret": { "Type": "String", "Default": "/default" }
            },
            "Conditions": {
                "IsProd": { "Fn::Equals": [{ "Ref": "Environment" }, "prod"] },
                "IsDev": { "Fn::Not": [{ "Condition": "IsProd" }] }
            },
            "Resources": {
                "Table": { "Properties": {
                    "Protected": { "Fn::If": ["IsProd", true, false] },
                    "Dev": { "Fn::If": ["IsDev", "yes", "no"] },
                    "Secret": { "Ref": "Secret" },
                    "Name": { "Ref": "Table" }
                } }
            }
        })
    }

    fn resolved(overrides: &[(&str, &str)]) -> Value {
        let overrides: Vec<(String, String)> = overrides
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let template = template();
        Resolver::new(&template, &overrides).resolve(&template)["Resources"]["Table"]["Properties"]
            .clone()
    }

    #[test]
    fn conditions_and_parameters_resolve_per_environment() {
        let prod = resolved(&[("Environment", "prod"), ("Secret", "/prod")]);
        assert_eq!(prod["Protected"], true);
        assert_eq!(prod["Dev"], "no");
        assert_eq!(prod["Secret"], "/prod");
        let dev = resolved(&[]);
        assert_eq!(dev["Protected"], false);
        assert_eq!(dev["Dev"], "yes");
        assert_eq!(dev["Secret"], "/default");
        // A resource's Ref is CloudFormation's to resolve at creation.
        assert_eq!(dev["Name"], json!({ "Ref": "Table" }));
    }

    #[test]
    fn subs_no_values_conditional_resources_and_rules_resolve_as_cloudformation_does() {
        let template = json!({
            "Parameters": {
                "Name": { "Type": "String", "Default": "/n" },
                "Version": { "Type": "Number", "Default": 0 },
                "Edge": { "Type": "String", "Default": "enabled" }
            },
            "Conditions": { "HasEdge": { "Fn::Equals": [{ "Ref": "Edge" }, "enabled"] } },
            "Rules": { "Versioned": {
                "RuleCondition": { "Fn::Equals": [{ "Ref": "Edge" }, "enabled"] },
                "Assertions": [{
                    "Assert": { "Fn::Not": [{ "Fn::Equals": [{ "Ref": "Version" }, "0"] }] },
                    "AssertDescription": "needs a version"
                }]
            } },
            "Resources": {
                "Edge": { "Condition": "HasEdge", "Properties": {
                    "Secret": { "Fn::Sub": "{{resolve:ssm:${Name}:${Version}}}" },
                    "Url": { "Fn::Sub": "https://${Api}.${AWS::Region}/${Name}" },
                    "Gone": { "Fn::If": ["HasEdge", { "Ref": "AWS::NoValue" }, 1] },
                    "List": [1, { "Ref": "AWS::NoValue" }]
                } }
            },
            "Outputs": { "Id": { "Condition": "HasEdge", "Value": { "Ref": "Edge" } } }
        });
        let with = |overrides: &[(&str, &str)]| {
            let overrides: Vec<(String, String)> = overrides
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            Resolver::new(&template, &overrides)
        };
        let edge = with(&[("Version", "3")]);
        assert!(edge.broken_rules(&template).is_empty());
        let stack = edge.stack(&template);
        let properties = &stack["Resources"]["Edge"]["Properties"];
        assert_eq!(properties["Secret"], "{{resolve:ssm:/n:3}}");
        assert_eq!(
            properties["Url"],
            json!({ "Fn::Sub": "https://${Api}.${AWS::Region}/${Name}".replace("${Name}", "/n") })
        );
        assert!(properties.get("Gone").is_none());
        assert_eq!(properties["List"], json!([1]));
        assert!(stack["Outputs"]["Id"].is_object());
        assert_eq!(
            with(&[]).broken_rules(&template),
            ["rule Versioned: needs a version"]
        );
        let without = with(&[("Edge", "disabled")]);
        assert!(without.broken_rules(&template).is_empty());
        let stack = without.stack(&template);
        assert_eq!(stack["Resources"], json!({}));
        assert_eq!(stack["Outputs"], json!({}));
    }

    #[test]
    fn an_empty_template_is_every_problem_not_a_pass() {
        let no_edge = Edge::of(&Resolver::new(&json!({}), &[]));
        let problems = Stack {
            template: &json!({}),
            secret_parameter: String::new(),
            edge: &no_edge,
        }
        .problems("dev");
        assert!(problems.iter().any(|p| p.contains("expected one HTTP API")));
        assert!(problems.iter().any(|p| p.contains("0 functions")));
        assert!(problems.iter().any(|p| p.contains("Table: DeletionPolicy")));
    }
}
