//! The edge, checked where the linters cannot see it: what CloudFront
//! forwards, caches and adds on its way to the API, and what the web ACL
//! lets through.
//!
//! - In the API's stack (the transformed `infra/template.yaml`, per
//!   deployment, [`distribution_problems`]): with the edge, one
//!   distribution whose origin is the HTTP API over TLS 1.2, sending the
//!   origin secret at a pinned version of its parameter; its origin request
//!   policy forwarding every viewer header but Host; its cache policy keyed
//!   on Authorization (which appears nowhere else at the edge) and the
//!   query, deferring to the API's Cache-Control; only GET and HEAD cached;
//!   its logs, its domain. Without the edge, none of it. The functions'
//!   ORIGIN_VERIFY_SHA256 is checked with them ([`transformed`](super::transformed)).
//! - In the edge stack (`infra/edge.yaml`, [`edge_stack_problems`]): a web
//!   ACL of Scope CLOUDFRONT, deployed to us-east-1 (samconfig.toml,
//!   scripts/deploy.sh); a rate limit per address on every route and a
//!   tighter one on the sign-in routes of the route table; AWS's common,
//!   known-bad-inputs and SQL injection rules, the common rules' body size
//!   limit only counting; blocking in prod, counting in dev; the
//!   certificate of the domain, if any.

use conduit_common::http::{
    MAX_BODY_BYTES, ORIGIN_VERIFY_HEADER, Route, SHARED_MAX_AGE, VIEWER_ADDRESS_HEADER,
};
use serde_json::{Value, json};

use super::transformed::{ENVIRONMENTS, Resolver, text};
use crate::template::edge::{CLOUDFRONT_ZONE, EDGE_REGION, EDGE_TEMPLATE, SIGN_IN_ROUTES};

/// What scripts/deploy-check.sh adds to an environment's parameters: its
/// emulated account has no CloudFront and no WAF.
pub const REHEARSAL: &[(&str, &str)] = &[("Edge", "disabled")];

/// The origin of every distribution: the stack's HTTP API.
const ORIGIN: &str = "${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}";

/// The AWS managed rule groups the web ACL must apply.
pub const MANAGED_RULE_GROUPS: &[&str] = &[
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
];

/// The common rule set's rule that blocks bodies over 8 KB.
const BODY_SIZE_RULE: &str = "SizeRestrictions_BODY";

/// The methods CloudFront must pass to the API: all of them.
const ALL_METHODS: &[&str] = &["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"];

/// A domain, as the checks deploy one.
const EXAMPLE_DOMAIN: &[(&str, &str)] = &[
    ("DomainName", "api.example.com"),
    ("HostedZoneId", "Z0123456789ABCDEFGHIJ"),
];

/// One way an environment is deployed: what the checks call it, and its
/// parameters.
pub(super) struct Deployment {
    pub label: String,
    pub parameters: Vec<(String, String)>,
}

/// Each environment as scripts/deploy.sh deploys it (samconfig.toml's
/// parameters, and those deploy.sh adds from the edge stack and the origin
/// secret), once more with a domain if it has none, and as the rehearsal
/// deploys it (without the edge).
pub(super) fn deployments(samconfig: &str, env: &str) -> Result<Vec<Deployment>, String> {
    let domain = super::samconfig::parameter_overrides(samconfig, env)?
        .into_iter()
        .find_map(|(name, value)| (name == "DomainName").then_some(value))
        .unwrap_or_default();
    let with =
        |extra: Vec<(String, String)>| super::samconfig::with_overrides(samconfig, env, &extra);
    let mut deployments = vec![Deployment {
        label: env.to_owned(),
        parameters: with(from_deploy_sh(env, !domain.is_empty()))?,
    }];
    if domain.is_empty() {
        let mut extra = from_deploy_sh(env, true);
        extra.extend(pairs(EXAMPLE_DOMAIN));
        deployments.push(Deployment {
            label: format!("{env} with a domain"),
            parameters: with(extra)?,
        });
    }
    deployments.push(Deployment {
        label: format!("{env} without the edge (as rehearsed)"),
        parameters: with(pairs(REHEARSAL))?,
    });
    Ok(deployments)
}

fn pairs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

/// What scripts/deploy.sh passes besides samconfig.toml's parameters, in
/// the shapes the edge stack and scripts/origin-secret.py give them.
fn from_deploy_sh(env: &str, domain: bool) -> Vec<(String, String)> {
    let certificate = if domain {
        "arn:aws:acm:us-east-1:123456789012:certificate/0b3c9b1e-6a3e-4b43-9d1e-1c2d3e4f5a6b"
    } else {
        ""
    };
    vec![
        (
            "WebAclArn".to_owned(),
            format!(
                "arn:aws:wafv2:us-east-1:123456789012:global/webacl/conduit-{env}-edge/\
                 4f2c8a9e-1b3d-4e5f-8a7b-9c0d1e2f3a4b"
            ),
        ),
        ("CertificateArn".to_owned(), certificate.to_owned()),
        ("OriginSecretVersion".to_owned(), "7".to_owned()),
        (
            "OriginVerifySha256".to_owned(),
            format!("{},{}", "5e".repeat(32), "a1".repeat(32)),
        ),
    ]
}

/// The edge one deployment of the API's stack must have, from its
/// parameters.
pub(super) struct Edge {
    pub enabled: bool,
    web_acl: String,
    digests: String,
    /// The dynamic reference CloudFront's origin header must hold.
    secret: String,
    domain: Option<Domain>,
    log_days: String,
}

struct Domain {
    name: String,
    zone: String,
    certificate: String,
}

impl Edge {
    pub(super) fn of(resolver: &Resolver) -> Self {
        let enabled = resolver.parameter("Edge") == "enabled";
        let name = resolver.parameter("DomainName");
        Edge {
            enabled,
            web_acl: resolver.parameter("WebAclArn"),
            digests: resolver.parameter("OriginVerifySha256"),
            secret: format!(
                "{{{{resolve:ssm:{}:{}}}}}",
                resolver.parameter("OriginSecretParameterName"),
                resolver.parameter("OriginSecretVersion")
            ),
            domain: (enabled && !name.is_empty()).then(|| Domain {
                name,
                zone: resolver.parameter("HostedZoneId"),
                certificate: resolver.parameter("CertificateArn"),
            }),
            log_days: resolver.parameter("LogRetentionDays"),
        }
    }

    /// The functions' ORIGIN_VERIFY_SHA256: the digests with the edge (the
    /// execute-api URL refuses what did not come through CloudFront),
    /// nothing without.
    pub(super) fn origin_verify(&self) -> &str {
        if self.enabled { &self.digests } else { "" }
    }
}

/// Every resource of type `kind`, with its logical id.
pub(super) fn resources_of<'a>(template: &'a Value, kind: &str) -> Vec<(&'a str, &'a Value)> {
    template["Resources"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, resource)| resource["Type"] == kind)
        .map(|(id, resource)| (id.as_str(), resource))
        .collect()
}

fn resources_in<'a>(template: &'a Value, prefix: &str) -> Vec<&'a str> {
    template["Resources"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, resource)| {
            resource["Type"]
                .as_str()
                .is_some_and(|t| t.starts_with(prefix))
        })
        .map(|(id, _)| id.as_str())
        .collect()
}

/// The resource a `{"Ref": id}` names, if it is one of `kind`.
fn referenced<'a>(
    template: &'a Value,
    reference: &Value,
    kind: &str,
) -> Option<(&'a str, &'a Value)> {
    let id = reference["Ref"].as_str()?;
    let (id, resource) = template["Resources"].as_object()?.get_key_value(id)?;
    (resource["Type"] == kind).then_some((id.as_str(), resource))
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|item| text(item).to_ascii_lowercase())
        .collect()
}

/// The edge of the API's stack, resolved for one deployment.
pub(super) fn distribution_problems(template: &Value, edge: &Edge, problems: &mut Vec<String>) {
    // The web ACL and the certificate must be where CloudFront takes them.
    for prefix in ["AWS::WAFv2::", "AWS::CertificateManager::"] {
        for id in resources_in(template, prefix) {
            problems.push(format!(
                "{id}: a {prefix}* resource in the API's stack; CloudFront takes it only \
                 from {EDGE_REGION}, the edge stack's ({EDGE_TEMPLATE})"
            ));
        }
    }
    let origin_url = json!({ "Fn::Sub": format!("https://{ORIGIN}") });
    let outputs = &template["Outputs"];
    if outputs["OriginUrl"]["Value"] != origin_url {
        problems.push(format!(
            "output OriginUrl is {}, expected the HTTP API's URL",
            outputs["OriginUrl"]["Value"]
        ));
    }
    if !edge.enabled {
        for prefix in ["AWS::CloudFront::", "AWS::Route53::", "AWS::S3::"] {
            for id in resources_in(template, prefix) {
                problems.push(format!("{id}: part of the edge, in a stack without it"));
            }
        }
        if outputs["ApiUrl"]["Value"] != origin_url {
            problems.push(format!(
                "output ApiUrl is {}, expected the HTTP API's URL without the edge",
                outputs["ApiUrl"]["Value"]
            ));
        }
        if !outputs["DistributionId"].is_null() {
            problems.push("output DistributionId without the edge".to_owned());
        }
        return;
    }
    let distributions = resources_of(template, "AWS::CloudFront::Distribution");
    let [(id, distribution)] = distributions.as_slice() else {
        problems.push(format!(
            "{} CloudFront distributions, expected one in front of the API",
            distributions.len()
        ));
        return;
    };
    let config = &distribution["Properties"]["DistributionConfig"];
    let want = [
        ("Enabled", json!(true)),
        ("HttpVersion", json!("http2and3")),
        ("IPV6Enabled", json!(true)),
        ("WebACLId", json!(edge.web_acl)),
    ];
    for (property, value) in want {
        if config[property] != value {
            problems.push(format!(
                "{id}: {property} is {}, expected {value}",
                config[property]
            ));
        }
    }
    if edge.web_acl.is_empty() {
        problems.push(format!(
            "{id}: no web ACL (WebAclArn): the edge would not filter"
        ));
    }
    let origin_id = origin_problems(id, config, edge, problems);
    let mut policies = Vec::new();
    let behaviors = std::iter::once(&config["DefaultCacheBehavior"])
        .chain(config["CacheBehaviors"].as_array().into_iter().flatten());
    for behavior in behaviors {
        policies.extend(behavior_problems(
            template, id, behavior, &origin_id, problems,
        ));
    }
    // Authorization is forwarded by the cache policy only: CloudFront
    // refuses it elsewhere, and anywhere else it would not be in the key.
    for other in resources_in(template, "AWS::CloudFront::") {
        if policies.contains(&other) {
            continue;
        }
        let json = template["Resources"][other]
            .to_string()
            .to_ascii_lowercase();
        if json.contains("authorization") {
            problems.push(format!(
                "{other}: names Authorization; only the cache policy may forward it \
                 (as part of the cache key)"
            ));
        }
    }
    logging_problems(template, id, config, edge, problems);
    domain_problems(template, id, config, edge, problems);
    let api_url = match &edge.domain {
        Some(domain) => json!(format!("https://{}", domain.name)),
        None => json!({ "Fn::Sub": format!("https://${{{id}.DomainName}}") }),
    };
    if outputs["ApiUrl"]["Value"] != api_url {
        problems.push(format!(
            "output ApiUrl is {}, expected {api_url}",
            outputs["ApiUrl"]["Value"]
        ));
    }
    if outputs["DistributionId"]["Value"] != json!({ "Ref": id }) {
        problems.push(format!("output DistributionId is not {id}"));
    }
}

/// The one origin: the HTTP API, over TLS 1.2 only, told the origin secret
/// by CloudFront at the version deployed. Its id.
fn origin_problems(id: &str, config: &Value, edge: &Edge, problems: &mut Vec<String>) -> String {
    let origins = config["Origins"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let [origin] = origins else {
        problems.push(format!(
            "{id}: {} origins, expected the HTTP API alone",
            origins.len()
        ));
        return String::new();
    };
    if origin["DomainName"] != json!({ "Fn::Sub": ORIGIN }) {
        problems.push(format!(
            "{id}: its origin is {}, expected the HTTP API ({ORIGIN})",
            origin["DomainName"]
        ));
    }
    let custom = &origin["CustomOriginConfig"];
    if custom["OriginProtocolPolicy"] != "https-only"
        || custom["OriginSSLProtocols"] != json!(["TLSv1.2"])
    {
        problems.push(format!(
            "{id}: its origin is not reached over TLSv1.2 only: {custom}"
        ));
    }
    let headers = origin["OriginCustomHeaders"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let verify = headers
        .iter()
        .find(|h| text(&h["HeaderName"]).eq_ignore_ascii_case(ORIGIN_VERIFY_HEADER));
    match verify {
        Some(header) if header["HeaderValue"] == edge.secret.as_str() => {}
        Some(header) => problems.push(format!(
            "{id}: its origin's {ORIGIN_VERIFY_HEADER} is {}, expected the origin secret at \
             its deployed version, {}",
            header["HeaderValue"], edge.secret
        )),
        None => problems.push(format!(
            "{id}: its origin gets no {ORIGIN_VERIFY_HEADER}: the API would refuse every request"
        )),
    }
    if headers.len() > 1 {
        problems.push(format!(
            "{id}: its origin gets other headers than {ORIGIN_VERIFY_HEADER}: {headers:?}"
        ));
    }
    text(&origin["Id"])
}

/// A cache behaviour: to the API, HTTPS, every method passed, only reads
/// cached, compressed, under the stack's own cache and origin request
/// policies, which it checks. The ids of those policies.
fn behavior_problems<'a>(
    template: &'a Value,
    id: &str,
    behavior: &Value,
    origin_id: &str,
    problems: &mut Vec<String>,
) -> Vec<&'a str> {
    let which = match behavior["PathPattern"].as_str() {
        Some(pattern) => format!("{id}: behaviour {pattern}"),
        None => format!("{id}: default behaviour"),
    };
    if behavior["TargetOriginId"] != origin_id {
        problems.push(format!(
            "{which}: goes to {}, not the API",
            behavior["TargetOriginId"]
        ));
    }
    if !matches!(
        behavior["ViewerProtocolPolicy"].as_str(),
        Some("https-only" | "redirect-to-https")
    ) {
        problems.push(format!(
            "{which}: ViewerProtocolPolicy {} lets plain HTTP through",
            behavior["ViewerProtocolPolicy"]
        ));
    }
    let mut allowed: Vec<String> = names(&behavior["AllowedMethods"]);
    allowed.sort();
    let all: Vec<String> = ALL_METHODS.iter().map(|m| m.to_ascii_lowercase()).collect();
    if allowed != all {
        problems.push(format!(
            "{which}: AllowedMethods {allowed:?}, expected all of {ALL_METHODS:?}"
        ));
    }
    let cached = names(&behavior["CachedMethods"]);
    let writes: Vec<&String> = cached
        .iter()
        .filter(|m| !matches!(m.as_str(), "get" | "head" | "options"))
        .collect();
    if !writes.is_empty() || !cached.iter().any(|m| m == "get") {
        problems.push(format!(
            "{which}: CachedMethods {cached:?}: only reads (GET, HEAD) may be cached, never a write"
        ));
    }
    if behavior["Compress"] != true {
        problems.push(format!("{which}: Compress is not true"));
    }
    let mut policies = Vec::new();
    match referenced(
        template,
        &behavior["CachePolicyId"],
        "AWS::CloudFront::CachePolicy",
    ) {
        Some((policy_id, policy)) => {
            cache_policy_problems(policy_id, policy, problems);
            policies.push(policy_id);
        }
        None => problems.push(format!(
            "{which}: CachePolicyId {} is not the stack's cache policy (keyed on Authorization)",
            behavior["CachePolicyId"]
        )),
    }
    match referenced(
        template,
        &behavior["OriginRequestPolicyId"],
        "AWS::CloudFront::OriginRequestPolicy",
    ) {
        Some((policy_id, policy)) => origin_request_problems(policy_id, policy, problems),
        None => problems.push(format!(
            "{which}: OriginRequestPolicyId {} is not the stack's origin request policy",
            behavior["OriginRequestPolicyId"]
        )),
    }
    viewer_address_problems(template, &which, behavior, problems);
    policies
}

/// Every viewer request runs the stack's function that states the
/// viewer's address in `VIEWER_ADDRESS_HEADER` (overwriting the client's):
/// without it the API's per-client login limits would count CloudFront's
/// address, or one the client chose.
fn viewer_address_problems(
    template: &Value,
    which: &str,
    behavior: &Value,
    problems: &mut Vec<String>,
) {
    let sets_the_address = |function: &str| {
        let resource = &template["Resources"][function];
        let code = resource["Properties"]["FunctionCode"]
            .as_str()
            .unwrap_or_default();
        resource["Type"] == "AWS::CloudFront::Function"
            && code.contains(&format!("request.headers['{VIEWER_ADDRESS_HEADER}']"))
            && code.contains("event.viewer.ip")
    };
    let associated = behavior["FunctionAssociations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|association| association["EventType"] == "viewer-request")
        .filter_map(|association| get_att_resource(&association["FunctionARN"]))
        .any(sets_the_address);
    if !associated {
        problems.push(format!(
            "{which}: no viewer-request function sets {VIEWER_ADDRESS_HEADER} from the \
             viewer's address: the login limits would count CloudFront's address"
        ));
    }
}

/// The resource an `Fn::GetAtt` names, in either of its spellings.
fn get_att_resource(value: &Value) -> Option<&str> {
    match &value["Fn::GetAtt"] {
        Value::Array(parts) => parts.first()?.as_str(),
        Value::String(dotted) => dotted.split('.').next(),
        _ => None,
    }
}

/// The cache key holds Authorization (a signed-in reader's response is
/// never shared) and every query string; the API's Cache-Control decides
/// the rest.
fn cache_policy_problems(id: &str, policy: &Value, problems: &mut Vec<String>) {
    let config = &policy["Properties"]["CachePolicyConfig"];
    let key = &config["ParametersInCacheKeyAndForwardedToOrigin"];
    let headers = &key["HeadersConfig"];
    if headers["HeaderBehavior"] != "whitelist"
        || !names(&headers["Headers"])
            .iter()
            .any(|h| h == "authorization")
    {
        problems.push(format!(
            "{id}: the cache key does not hold Authorization ({headers}): a signed-in \
             reader's response could be served to others, and the API would not see the token"
        ));
    }
    if key["QueryStringsConfig"]["QueryStringBehavior"] != "all" {
        problems.push(format!(
            "{id}: the cache key does not hold every query string"
        ));
    }
    if key["CookiesConfig"]["CookieBehavior"] != "none" {
        problems.push(format!("{id}: cookies in the cache key; the API uses none"));
    }
    if key["EnableAcceptEncodingGzip"] != true || key["EnableAcceptEncodingBrotli"] != true {
        problems.push(format!("{id}: gzip and brotli are not both enabled"));
    }
    let ttl = |name: &str| config[name].as_u64();
    if ttl("MinTTL") != Some(0) || ttl("DefaultTTL") != Some(0) {
        problems.push(format!(
            "{id}: MinTTL {} and DefaultTTL {}, expected 0: only what the API says may be cached",
            config["MinTTL"], config["DefaultTTL"]
        ));
    }
    if ttl("MaxTTL").is_none_or(|max| max < SHARED_MAX_AGE) {
        problems.push(format!(
            "{id}: MaxTTL {} is below the API's s-maxage ({SHARED_MAX_AGE})",
            config["MaxTTL"]
        ));
    }
}

/// Every viewer header but Host (API Gateway refuses a foreign one), every
/// query string, no cookie.
fn origin_request_problems(id: &str, policy: &Value, problems: &mut Vec<String>) {
    let config = &policy["Properties"]["OriginRequestPolicyConfig"];
    let headers = &config["HeadersConfig"];
    let listed = names(&headers["Headers"]);
    let host = listed.iter().any(|h| h == "host");
    let forwards_host = match headers["HeaderBehavior"].as_str() {
        Some("allExcept") => !host,
        Some("whitelist") => host,
        Some("none") => false,
        _ => true,
    };
    if forwards_host {
        problems.push(format!(
            "{id}: forwards the viewer's Host ({headers}); API Gateway answers a foreign Host with 403"
        ));
    } else if headers["HeaderBehavior"] != "allExcept" || listed != ["host"] {
        problems.push(format!(
            "{id}: does not forward every viewer header but Host: {headers}"
        ));
    }
    if config["QueryStringsConfig"]["QueryStringBehavior"] != "all" {
        problems.push(format!("{id}: does not forward every query string"));
    }
    if config["CookiesConfig"]["CookieBehavior"] != "none" {
        problems.push(format!("{id}: forwards cookies; the API uses none"));
    }
}

/// Standard logs to the stack's bucket, which takes CloudFront's ACL
/// writes, is private and encrypted, and forgets after LogRetentionDays.
fn logging_problems(
    template: &Value,
    id: &str,
    config: &Value,
    edge: &Edge,
    problems: &mut Vec<String>,
) {
    let bucket_id = config["Logging"]["Bucket"]["Fn::GetAtt"][0]
        .as_str()
        .unwrap_or_default();
    let bucket = &template["Resources"][bucket_id];
    if bucket["Type"] != "AWS::S3::Bucket"
        || config["Logging"]["Bucket"]["Fn::GetAtt"][1] != "DomainName"
    {
        problems.push(format!(
            "{id}: does not log to a bucket of the stack: {}",
            config["Logging"]
        ));
        return;
    }
    let properties = &bucket["Properties"];
    if properties["OwnershipControls"]["Rules"][0]["ObjectOwnership"] != "BucketOwnerPreferred" {
        problems.push(format!(
            "{bucket_id}: CloudFront's standard logs need ACLs (ObjectOwnership BucketOwnerPreferred)"
        ));
    }
    let block = &properties["PublicAccessBlockConfiguration"];
    let blocked = [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ]
    .iter()
    .all(|setting| block[setting] == true);
    if !blocked {
        problems.push(format!(
            "{bucket_id}: public access is not blocked: {block}"
        ));
    }
    if properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        .as_array()
        .is_none_or(Vec::is_empty)
    {
        problems.push(format!("{bucket_id}: not encrypted"));
    }
    let expires = properties["LifecycleConfiguration"]["Rules"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|rule| {
            rule["Status"] == "Enabled" && text(&rule["ExpirationInDays"]) == edge.log_days
        });
    if !expires {
        problems.push(format!(
            "{bucket_id}: its logs do not expire after LogRetentionDays ({})",
            edge.log_days
        ));
    }
}

/// With a domain: its name and certificate on the distribution, and its
/// records pointing at it. Without: CloudFront's own.
fn domain_problems(
    template: &Value,
    id: &str,
    config: &Value,
    edge: &Edge,
    problems: &mut Vec<String>,
) {
    let records = resources_of(template, "AWS::Route53::RecordSetGroup");
    let Some(domain) = &edge.domain else {
        if config["ViewerCertificate"] != json!({ "CloudFrontDefaultCertificate": true })
            || !config["Aliases"].is_null()
        {
            problems.push(format!(
                "{id}: without a domain, expected CloudFront's own certificate and no alias: {} {}",
                config["Aliases"], config["ViewerCertificate"]
            ));
        }
        for (record, _) in records {
            problems.push(format!("{record}: DNS records without a domain"));
        }
        return;
    };
    if config["Aliases"] != json!([domain.name]) {
        problems.push(format!(
            "{id}: Aliases {}, expected [{}]",
            config["Aliases"], domain.name
        ));
    }
    let certificate = json!({
        "AcmCertificateArn": domain.certificate,
        "SslSupportMethod": "sni-only",
        "MinimumProtocolVersion": "TLSv1.2_2021",
    });
    if config["ViewerCertificate"] != certificate {
        problems.push(format!(
            "{id}: ViewerCertificate {}, expected {certificate}",
            config["ViewerCertificate"]
        ));
    }
    let alias = json!({
        "DNSName": { "Fn::GetAtt": [id, "DomainName"] },
        "HostedZoneId": CLOUDFRONT_ZONE,
    });
    let pointed = |kind: &str| {
        records.iter().any(|(_, group)| {
            let group = &group["Properties"];
            group["HostedZoneId"] == domain.zone.as_str()
                && group["RecordSets"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|set| {
                        set["Name"] == domain.name.as_str()
                            && set["Type"] == kind
                            && set["AliasTarget"] == alias
                    })
        })
    };
    for kind in ["A", "AAAA"] {
        if !pointed(kind) {
            problems.push(format!(
                "{}: no {kind} alias record to {id} in zone {}",
                domain.name, domain.zone
            ));
        }
    }
}

/// The edge stack (`infra/edge.yaml`, parsed) for each environment, as
/// scripts/deploy.sh deploys it; and that it goes to us-east-1.
pub fn edge_stack_problems(
    template: &Value,
    samconfig: &str,
    deploy_sh: &str,
) -> Result<Vec<String>, String> {
    let mut problems = Vec::new();
    for env in ENVIRONMENTS {
        let section = format!("{env}-edge");
        let setting = |key: &str| super::samconfig::deploy_setting(samconfig, &section, key);
        let region = setting("region")?;
        if region != EDGE_REGION {
            problems.push(format!(
                "samconfig.toml: [{section}.deploy.parameters] region is {region}: CloudFront \
                 takes its web ACL and certificate only from {EDGE_REGION}"
            ));
        }
        let template_file = setting("template_file")?;
        if template_file != EDGE_TEMPLATE {
            problems.push(format!(
                "samconfig.toml: [{section}.deploy.parameters] template_file is {template_file}, \
                 expected {EDGE_TEMPLATE}"
            ));
        }
        // deploy.sh passes the domain of the API's own section.
        let main = super::samconfig::parameter_overrides(samconfig, env)?;
        let domain: Vec<(String, String)> = main
            .into_iter()
            .filter(|(name, _)| name == "DomainName" || name == "HostedZoneId")
            .collect();
        let mut variants = vec![(
            section.clone(),
            super::samconfig::with_overrides(samconfig, &section, &domain)?,
        )];
        if !domain
            .iter()
            .any(|(name, value)| name == "DomainName" && !value.is_empty())
        {
            variants.push((
                format!("{section} with a domain"),
                super::samconfig::with_overrides(samconfig, &section, &pairs(EXAMPLE_DOMAIN))?,
            ));
        }
        for (label, parameters) in variants {
            let resolver = Resolver::new(template, &parameters);
            let mut found = resolver.broken_rules(template);
            web_acl_problems(
                &resolver.stack(template),
                env == &"prod",
                &resolver,
                &mut found,
            );
            problems.extend(found.into_iter().map(|p| format!("{label}: {p}")));
        }
    }
    if !deploy_sh.contains("--config-env \"$env-edge\"") {
        problems.push(format!(
            "scripts/deploy.sh does not deploy {EDGE_TEMPLATE} with its samconfig.toml section \
             (--config-env \"$env-edge\", region {EDGE_REGION})"
        ));
    }
    Ok(problems)
}

/// The web ACL, the certificate and the outputs of one deployment of the
/// edge stack.
fn web_acl_problems(template: &Value, prod: bool, resolver: &Resolver, problems: &mut Vec<String>) {
    let acls = resources_of(template, "AWS::WAFv2::WebACL");
    let [(id, acl)] = acls.as_slice() else {
        problems.push(format!("{} web ACLs, expected one", acls.len()));
        return;
    };
    let properties = &acl["Properties"];
    if properties["Scope"] != "CLOUDFRONT" {
        problems.push(format!(
            "{id}: Scope is {}, expected CLOUDFRONT (a distribution takes no other)",
            properties["Scope"]
        ));
    }
    if properties["DefaultAction"] != json!({ "Allow": {} }) {
        problems.push(format!(
            "{id}: DefaultAction is {}, expected Allow",
            properties["DefaultAction"]
        ));
    }
    visibility_problems(id, &properties["VisibilityConfig"], problems);
    let rules = properties["Rules"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    for rule in rules {
        visibility_problems(
            &format!("{id} rule {}", rule["Name"]),
            &rule["VisibilityConfig"],
            problems,
        );
    }
    rate_problems(id, rules, prod, resolver, problems);
    for group in MANAGED_RULE_GROUPS {
        let found = rules.iter().find(|rule| {
            let statement = &rule["Statement"]["ManagedRuleGroupStatement"];
            statement["VendorName"] == "AWS" && statement["Name"] == *group
        });
        let Some(rule) = found else {
            problems.push(format!("{id}: no rule applies AWS's {group}"));
            continue;
        };
        let want = if prod {
            json!({ "None": {} })
        } else {
            json!({ "Count": {} })
        };
        if rule["OverrideAction"] != want {
            problems.push(format!(
                "{id} rule {}: OverrideAction is {}, expected {want} ({} {})",
                rule["Name"],
                rule["OverrideAction"],
                if prod { "prod blocks" } else { "dev counts" },
                "what the group's rules match"
            ));
        }
        if *group == "AWSManagedRulesCommonRuleSet" {
            let counted = rule["Statement"]["ManagedRuleGroupStatement"]["RuleActionOverrides"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|o| o["Name"] == BODY_SIZE_RULE && o["ActionToUse"] == json!({ "Count": {} }));
            if !counted {
                problems.push(format!(
                    "{id}: {group}'s {BODY_SIZE_RULE} is not overridden to Count: it blocks \
                     bodies over 8 KB, and an article's may be up to {} KiB (MAX_BODY_BYTES)",
                    MAX_BODY_BYTES / 1024
                ));
            }
        }
    }
    certificate_problems(template, resolver, problems);
    let outputs = &template["Outputs"];
    if outputs["WebAclArn"]["Value"] != json!({ "Fn::GetAtt": [id, "Arn"] }) {
        problems.push(format!(
            "output WebAclArn is {}, expected {id}'s ARN",
            outputs["WebAclArn"]["Value"]
        ));
    }
}

fn visibility_problems(what: &str, config: &Value, problems: &mut Vec<String>) {
    if config["CloudWatchMetricsEnabled"] != true || config["SampledRequestsEnabled"] != true {
        problems.push(format!("{what}: metrics or sampled requests off: {config}"));
    }
}

/// A rate limit per address on everything, and a tighter one on exactly
/// the sign-in routes; each blocking in prod, counting in dev.
fn rate_problems(
    id: &str,
    rules: &[Value],
    prod: bool,
    resolver: &Resolver,
    problems: &mut Vec<String>,
) {
    let rate = |rule: &&Value| rule["Statement"]["RateBasedStatement"].is_object();
    let limit = |rule: &Value| {
        rule["Statement"]["RateBasedStatement"]["Limit"]
            .as_u64()
            .or_else(|| {
                text(&rule["Statement"]["RateBasedStatement"]["Limit"])
                    .parse()
                    .ok()
            })
    };
    let mut sign_in: Vec<(String, String)> = SIGN_IN_ROUTES
        .iter()
        .map(|route: &&Route| (route.method.to_string(), route.path.to_owned()))
        .collect();
    sign_in.sort();
    let (mut everything, mut scoped) = (None, None);
    for rule in rules.iter().filter(rate) {
        let statement = &rule["Statement"]["RateBasedStatement"];
        if statement["AggregateKeyType"] != "IP" {
            problems.push(format!(
                "{id} rule {}: not per client address: {statement}",
                rule["Name"]
            ));
        }
        if !matches!(
            statement["EvaluationWindowSec"].as_u64(),
            Some(60 | 120 | 300 | 600)
        ) {
            problems.push(format!(
                "{id} rule {}: EvaluationWindowSec {}",
                rule["Name"], statement["EvaluationWindowSec"]
            ));
        }
        if limit(rule).is_none_or(|limit| limit < 10) {
            problems.push(format!(
                "{id} rule {}: Limit {} (10 at least)",
                rule["Name"], statement["Limit"]
            ));
        }
        let action_ok = if prod {
            rule["Action"]["Block"].is_object()
        } else {
            rule["Action"] == json!({ "Count": {} })
        };
        if !action_ok {
            problems.push(format!(
                "{id} rule {}: Action is {}, expected {} in {}",
                rule["Name"],
                rule["Action"],
                if prod { "Block" } else { "Count" },
                if prod { "prod" } else { "dev" }
            ));
        }
        match statement.get("ScopeDownStatement") {
            None => everything = Some(rule),
            Some(scope) => match matched_routes(scope) {
                Some(mut routes) => {
                    routes.sort();
                    if routes == sign_in {
                        scoped = Some(rule);
                    } else {
                        problems.push(format!(
                            "{id} rule {}: limits {routes:?}, expected the sign-in routes {sign_in:?}",
                            rule["Name"]
                        ));
                    }
                }
                None => problems.push(format!(
                    "{id} rule {}: a scope-down statement that is not routes by method and exact path",
                    rule["Name"]
                )),
            },
        }
    }
    match everything {
        Some(rule)
            if text(&rule["Statement"]["RateBasedStatement"]["Limit"])
                != resolver.parameter("RateLimit") =>
        {
            problems.push(format!(
                "{id} rule {}: its limit is not RateLimit",
                rule["Name"]
            ));
        }
        Some(_) => {}
        None => problems.push(format!("{id}: no rate limit per address on every route")),
    }
    match (everything, scoped) {
        (_, None) => problems.push(format!(
            "{id}: no rate limit per address on the sign-in routes {sign_in:?}"
        )),
        (Some(all), Some(sign_in)) if limit(sign_in) >= limit(all) => problems.push(format!(
            "{id}: the sign-in routes' limit ({}) is not below every route's ({})",
            limit(sign_in).unwrap_or_default(),
            limit(all).unwrap_or_default()
        )),
        _ => {}
    }
}

/// The (method, path) pairs a scope-down statement matches: one route's
/// `AndStatement` of an exact method and an exact path, or an
/// `OrStatement` of them. `None` for anything else.
fn matched_routes(statement: &Value) -> Option<Vec<(String, String)>> {
    if let Some(any) = statement["OrStatement"]["Statements"].as_array() {
        return any.iter().map(matched_route).collect();
    }
    matched_route(statement).map(|route| vec![route])
}

fn matched_route(statement: &Value) -> Option<(String, String)> {
    let all = statement["AndStatement"]["Statements"].as_array()?;
    let exact = |field: &str| {
        all.iter().find_map(|s| {
            let matched = &s["ByteMatchStatement"];
            (matched["FieldToMatch"][field].is_object()
                && matched["PositionalConstraint"] == "EXACTLY")
                .then(|| text(&matched["SearchString"]))
        })
    };
    (all.len() == 2).then_some(())?;
    Some((exact("Method")?, exact("UriPath")?))
}

/// With a domain, its certificate, validated in its zone by DNS, and the
/// output; without, neither.
fn certificate_problems(template: &Value, resolver: &Resolver, problems: &mut Vec<String>) {
    let certificates = resources_of(template, "AWS::CertificateManager::Certificate");
    let domain = resolver.parameter("DomainName");
    let output = &template["Outputs"]["CertificateArn"];
    if domain.is_empty() {
        for (id, _) in certificates {
            problems.push(format!("{id}: a certificate without a domain"));
        }
        if !output.is_null() {
            problems.push("output CertificateArn without a domain".to_owned());
        }
        return;
    }
    let zone = resolver.parameter("HostedZoneId");
    let found = certificates.iter().find(|(_, certificate)| {
        let p = &certificate["Properties"];
        p["DomainName"] == domain.as_str()
            && p["ValidationMethod"] == "DNS"
            && p["DomainValidationOptions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|o| o["DomainName"] == domain.as_str() && o["HostedZoneId"] == zone.as_str())
    });
    match found {
        Some((id, _)) if output["Value"] != json!({ "Ref": id }) => {
            problems.push(format!(
                "output CertificateArn is {}, expected {id}",
                output["Value"]
            ));
        }
        Some(_) => {}
        None => problems.push(format!(
            "no certificate of {domain} validated by DNS in zone {zone}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn and(method: &str, path: &str) -> Value {
        json!({ "AndStatement": { "Statements": [
            { "ByteMatchStatement": { "FieldToMatch": { "Method": {} }, "PositionalConstraint": "EXACTLY", "SearchString": method } },
            { "ByteMatchStatement": { "FieldToMatch": { "UriPath": {} }, "PositionalConstraint": "EXACTLY", "SearchString": path } }
        ] } })
    }

    #[test]
    fn scope_downs_are_read_as_routes_or_not_at_all() {
        let one = and("POST", "/api/users");
        assert_eq!(
            matched_routes(&one),
            Some(vec![("POST".into(), "/api/users".into())])
        );
        let two =
            json!({ "OrStatement": { "Statements": [one, and("POST", "/api/users/login")] } });
        assert_eq!(matched_routes(&two).unwrap().len(), 2);
        let prefix = json!({ "AndStatement": { "Statements": [
            { "ByteMatchStatement": { "FieldToMatch": { "Method": {} }, "PositionalConstraint": "EXACTLY", "SearchString": "POST" } },
            { "ByteMatchStatement": { "FieldToMatch": { "UriPath": {} }, "PositionalConstraint": "STARTS_WITH", "SearchString": "/api/users" } }
        ] } });
        assert_eq!(matched_routes(&prefix), None);
    }

    fn origin_request(behavior: &str, headers: &[&str]) -> Vec<String> {
        let policy = json!({ "Properties": { "OriginRequestPolicyConfig": {
            "HeadersConfig": { "HeaderBehavior": behavior, "Headers": headers },
            "QueryStringsConfig": { "QueryStringBehavior": "all" },
            "CookiesConfig": { "CookieBehavior": "none" }
        } } });
        let mut problems = Vec::new();
        origin_request_problems("P", &policy, &mut problems);
        problems
    }

    #[test]
    fn an_origin_request_policy_must_forward_everything_but_host() {
        assert!(origin_request("allExcept", &["Host"]).is_empty());
        assert!(origin_request("allExcept", &["host"]).is_empty());
        for (behavior, headers) in [
            ("allViewer", vec![]),
            ("allExcept", vec![]),
            ("whitelist", vec!["Host"]),
        ] {
            let problems = origin_request(behavior, &headers);
            assert!(
                problems
                    .iter()
                    .any(|p| p.contains("forwards the viewer's Host")),
                "{behavior}: {problems:?}"
            );
        }
        let problems = origin_request("allExcept", &["Host", "Accept"]);
        assert!(
            problems
                .iter()
                .any(|p| p.contains("every viewer header but Host")),
            "{problems:?}"
        );
    }

    #[test]
    fn without_the_edge_nothing_of_it_is_deployed() {
        let edge = Edge {
            enabled: false,
            web_acl: String::new(),
            digests: "ab".into(),
            secret: String::new(),
            domain: None,
            log_days: "30".into(),
        };
        assert_eq!(edge.origin_verify(), "");
        let origin = json!({ "Fn::Sub": format!("https://{ORIGIN}") });
        let template = json!({
            "Resources": { "Distribution": { "Type": "AWS::CloudFront::Distribution" } },
            "Outputs": { "ApiUrl": { "Value": origin }, "OriginUrl": { "Value": origin } }
        });
        let mut problems = Vec::new();
        distribution_problems(&template, &edge, &mut problems);
        assert_eq!(
            problems,
            ["Distribution: part of the edge, in a stack without it"]
        );
    }
}
