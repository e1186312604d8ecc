//! The edge, checked where the linters cannot see it, per deployment
//! ([`deployments`], [`edge_stack_problems`]'s).
//!
//! - In the API's stack ([`distribution_problems`]): with the edge, one
//!   distribution whose one origin is the HTTP API over TLS 1.2, sent the
//!   origin secret at its deployed version; one behaviour, HTTPS only,
//!   every method passed, only GET and HEAD cached, compressed, the
//!   viewer's address set by a viewer-request function; its origin request
//!   policy forwarding every viewer header but Host; its cache policy keyed
//!   on Authorization (named by no other CloudFront resource) and the query,
//!   deferring to the API's Cache-Control; its logs, private, encrypted,
//!   expiring; its domain, certificate and records. Without the edge, none
//!   of it. Never a web ACL or a certificate: CloudFront takes those only
//!   from us-east-1, the edge stack's.
//! - In the edge stack (`infra/edge.yaml`, [`edge_stack_problems`]): a web
//!   ACL of Scope CLOUDFRONT; a rate limit per address on every route
//!   (RateLimit) and a tighter one (SignInRateLimit) on exactly the sign-in
//!   routes of the route table; AWS's common, known-bad-inputs and SQL
//!   injection rules, the common rules' body size limit only counting;
//!   blocking in prod, counting in dev; the certificate of the domain, if
//!   any, validated by DNS in its zone.

use conduit_common::http::{ORIGIN_VERIFY_HEADER, Route, SHARED_MAX_AGE, VIEWER_ADDRESS_HEADER};
use serde_json::{Value, json};

use super::samconfig::Overrides;
use super::transformed::Resolver;
use super::{count, expect, resources};
use crate::template::edge::{CLOUDFRONT_ZONE, EDGE_REGION, EDGE_TEMPLATE, SIGN_IN_ROUTES};

/// The origin of the distribution: the stack's HTTP API.
const ORIGIN: &str = "${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}";

/// A domain, as the checks deploy one when samconfig.toml has none.
const EXAMPLE_DOMAIN: [(&str, &str); 2] = [
    ("DomainName", "api.example.com"),
    ("HostedZoneId", "Z0123456789ABCDEFGHIJ"),
];

fn pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Overrides {
    pairs
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

/// Each way the API's stack of `env` is deployed, named, with its
/// parameters: as scripts/deploy.sh does (samconfig.toml's, and what it
/// adds from the edge stack and the origin secret, in their shapes), once
/// more with a domain if samconfig.toml has none, and as the rehearsal does
/// (`Edge=disabled`: its emulated account has no CloudFront and no WAF).
pub(super) fn deployments(samconfig: &str, env: &str) -> Result<Vec<(String, Overrides)>, String> {
    let domain = super::samconfig::deploy_setting(samconfig, env, "DomainName")?;
    let from_deploy_sh = |domain: bool| {
        let acl = format!(
            "arn:aws:wafv2:us-east-1:123456789012:global/webacl/conduit-{env}-edge/4f2c8a9e-1b3d"
        );
        let certificate = if domain {
            "arn:aws:acm:us-east-1:123456789012:certificate/0b3c9b1e-6a3e"
        } else {
            ""
        };
        let digests = format!("{},{}", "5e".repeat(32), "a1".repeat(32));
        let given = [
            ("WebAclArn", acl.as_str()),
            ("CertificateArn", certificate),
            ("OriginSecretVersion", "7"),
        ];
        pairs(
            given
                .into_iter()
                .chain([("OriginVerifySha256", digests.as_str())]),
        )
    };
    let with =
        |extra: Vec<(String, String)>| super::samconfig::with_overrides(samconfig, env, &extra);
    let mut deployments = vec![(env.to_owned(), with(from_deploy_sh(!domain.is_empty()))?)];
    if domain.is_empty() {
        let extra = [from_deploy_sh(true), pairs(EXAMPLE_DOMAIN)].concat();
        deployments.push((format!("{env} with a domain"), with(extra)?));
    }
    deployments.push((
        format!("{env} without the edge (as rehearsed)"),
        with(pairs([("Edge", "disabled")]))?,
    ));
    Ok(deployments)
}

/// The functions' ORIGIN_VERIFY_SHA256: the origin secret's digests with
/// the edge (the execute-api URL refuses what did not come through
/// CloudFront), nothing without.
pub(super) fn origin_verify(resolver: &Resolver) -> String {
    let edge = resolver.parameter("Edge") == "enabled";
    if edge {
        resolver.parameter("OriginVerifySha256")
    } else {
        String::new()
    }
}

/// The edge of the API's stack, resolved for one deployment.
pub(super) fn distribution_problems(
    stack: &Value,
    resolver: &Resolver,
    problems: &mut Vec<String>,
) {
    let edge = resolver.parameter("Edge") == "enabled";
    let name = resolver.parameter("DomainName");
    let domain = edge && !name.is_empty();
    count(
        problems,
        stack,
        &[
            ("AWS::WAFv2::", 0),
            ("AWS::CertificateManager::", 0),
            ("AWS::CloudFront::Distribution", edge.into()),
            ("AWS::CloudFront::", 4 * usize::from(edge)),
            ("AWS::S3::", edge.into()),
            ("AWS::Route53::", domain.into()),
        ],
    );
    let origin = json!({ "Fn::Sub": format!("https://{ORIGIN}") });
    let api_url = match (edge, domain) {
        (_, true) => json!(format!("https://{name}")),
        (true, false) => json!({ "Fn::Sub": "https://${Distribution.DomainName}" }),
        (false, _) => origin.clone(),
    };
    let distribution_id = if edge {
        json!({ "Value": { "Ref": "Distribution" } })
    } else {
        Value::Null
    };
    let outputs = json!({ "OriginUrl": { "Value": origin }, "ApiUrl": { "Value": api_url }, "DistributionId": distribution_id });
    expect(problems, "Outputs", &stack["Outputs"], outputs);
    if !edge {
        return;
    }
    let resource = |id: &str| &stack["Resources"][id];
    let secret = format!(
        "{{{{resolve:ssm:{}:{}}}}}",
        resolver.parameter("OriginSecretParameterName"),
        resolver.parameter("OriginSecretVersion")
    );
    let (aliases, certificate) = if domain {
        let certificate = json!({
            "AcmCertificateArn": resolver.parameter("CertificateArn"),
            "SslSupportMethod": "sni-only",
            "MinimumProtocolVersion": "TLSv1.2_2021",
        });
        (json!([name]), certificate)
    } else {
        (Value::Null, json!({ "CloudFrontDefaultCertificate": true }))
    };
    let distribution = json!({ "Properties": { "DistributionConfig": {
        "Enabled": true,
        "HttpVersion": "http2and3",
        "IPV6Enabled": true,
        "WebACLId": resolver.parameter("WebAclArn"),
        "Aliases": aliases,
        "ViewerCertificate": certificate,
        "Logging": { "Bucket": { "Fn::GetAtt": ["EdgeLogBucket", "DomainName"] } },
        "Origins": [{
            "Id": "api",
            "DomainName": { "Fn::Sub": ORIGIN },
            "CustomOriginConfig": { "OriginProtocolPolicy": "https-only", "OriginSSLProtocols": ["TLSv1.2"] },
            "OriginCustomHeaders": [{ "HeaderName": ORIGIN_VERIFY_HEADER, "HeaderValue": secret }],
        }],
        // A token sent over plain HTTP has leaked before any redirect.
        "DefaultCacheBehavior": {
            "TargetOriginId": "api",
            "ViewerProtocolPolicy": "https-only",
            "AllowedMethods": ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"],
            "CachedMethods": ["GET", "HEAD"],
            "Compress": true,
            "CachePolicyId": { "Ref": "EdgeCachePolicy" },
            "OriginRequestPolicyId": { "Ref": "EdgeOriginRequestPolicy" },
            // Else the API's per-client login limits would count
            // CloudFront's address, or one the client chose.
            "FunctionAssociations": [{
                "EventType": "viewer-request",
                "FunctionARN": { "Fn::GetAtt": ["ViewerAddressFunction", "FunctionMetadata.FunctionARN"] },
            }],
        },
        "CacheBehaviors": null,
    } } });
    expect(
        problems,
        "Distribution",
        resource("Distribution"),
        distribution,
    );
    let code = resource("ViewerAddressFunction")["Properties"]["FunctionCode"]
        .as_str()
        .unwrap_or_default();
    if !code.contains(&format!(
        "request.headers['{VIEWER_ADDRESS_HEADER}'] = {{ value: event.viewer.ip }}"
    )) {
        problems.push(format!(
            "ViewerAddressFunction does not set {VIEWER_ADDRESS_HEADER} to the viewer's address"
        ));
    }
    // What CloudFront forwards besides the cache key: every viewer header
    // but Host (API Gateway answers a foreign Host with 403), every query
    // string, no cookies (the API uses none).
    let forwarded = json!({
        "QueryStringsConfig": { "QueryStringBehavior": "all" },
        "CookiesConfig": { "CookieBehavior": "none" },
    });
    let mut origin_request = forwarded.clone();
    origin_request["HeadersConfig"] = json!({ "HeaderBehavior": "allExcept", "Headers": ["Host"] });
    let origin_request = json!({ "Properties": { "OriginRequestPolicyConfig": origin_request } });
    expect(
        problems,
        "EdgeOriginRequestPolicy",
        resource("EdgeOriginRequestPolicy"),
        origin_request,
    );
    // The cache key: Authorization (a signed-in reader's response is never
    // served to another; the only way CloudFront forwards it), Origin (the
    // CORS answer), every query string; only what the API's Cache-Control
    // says is kept.
    let mut key = forwarded;
    key["HeadersConfig"] =
        json!({ "HeaderBehavior": "whitelist", "Headers": ["Authorization", "Origin"] });
    key["EnableAcceptEncodingGzip"] = json!(true);
    key["EnableAcceptEncodingBrotli"] = json!(true);
    let cache = json!({ "Properties": { "CachePolicyConfig": {
        "MinTTL": 0, "DefaultTTL": 0, "ParametersInCacheKeyAndForwardedToOrigin": key,
    } } });
    expect(
        problems,
        "EdgeCachePolicy",
        resource("EdgeCachePolicy"),
        cache,
    );
    let max_ttl = &resource("EdgeCachePolicy")["Properties"]["CachePolicyConfig"]["MaxTTL"];
    if max_ttl.as_u64().is_none_or(|max| max < SHARED_MAX_AGE) {
        problems.push(format!(
            "EdgeCachePolicy: MaxTTL {max_ttl} is below the API's s-maxage ({SHARED_MAX_AGE})"
        ));
    }
    for (id, resource) in resources(stack, "AWS::CloudFront::") {
        if id != "EdgeCachePolicy"
            && resource
                .to_string()
                .to_ascii_lowercase()
                .contains("authorization")
        {
            problems.push(format!(
                "{id}: names Authorization; only the cache policy may (in the cache key)"
            ));
        }
    }
    // CloudFront's standard logs write with an ACL.
    let bucket = json!({ "Type": "AWS::S3::Bucket", "Properties": {
        "OwnershipControls": { "Rules": [{ "ObjectOwnership": "BucketOwnerPreferred" }] },
        "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true,
        },
        "BucketEncryption": { "ServerSideEncryptionConfiguration": [{ "ServerSideEncryptionByDefault": { "SSEAlgorithm": "AES256" } }] },
        "LifecycleConfiguration": { "Rules": [{ "Status": "Enabled", "ExpirationInDays": resolver.value("LogRetentionDays") }] },
    } });
    expect(problems, "EdgeLogBucket", resource("EdgeLogBucket"), bucket);
    if domain {
        let alias = json!({ "DNSName": { "Fn::GetAtt": ["Distribution", "DomainName"] }, "HostedZoneId": CLOUDFRONT_ZONE });
        let sets =
            ["A", "AAAA"].map(|kind| json!({ "Name": name, "Type": kind, "AliasTarget": alias }));
        let records = json!({ "Properties": { "HostedZoneId": resolver.parameter("HostedZoneId"), "RecordSets": sets } });
        expect(
            problems,
            "EdgeDnsRecords",
            resource("EdgeDnsRecords"),
            records,
        );
    }
}

/// The edge stack (`infra/edge.yaml`, as CloudFormation reads it) for each
/// environment, as scripts/deploy.sh deploys it: its samconfig.toml section
/// (which check-samconfig checks) with the domain of the API's section, and
/// once more with a domain if that has none.
pub fn edge_stack_problems(
    template: &Value,
    samconfig: &str,
    deploy_sh: &str,
) -> Result<Vec<String>, String> {
    let mut problems = Vec::new();
    for env in super::samconfig::ENVIRONMENTS {
        let section = format!("{env}-edge");
        let mut domain = Vec::new();
        for name in ["DomainName", "HostedZoneId"] {
            domain.push((
                name.to_owned(),
                super::samconfig::deploy_setting(samconfig, env, name)?,
            ));
        }
        let mut variants = vec![(section.clone(), domain.clone())];
        if domain[0].1.is_empty() {
            variants.push((format!("{section} with a domain"), pairs(EXAMPLE_DOMAIN)));
        }
        for (label, extra) in variants {
            let resolver = Resolver::new(
                template,
                &super::samconfig::with_overrides(samconfig, &section, &extra)?,
            );
            let mut found = resolver.broken_rules(template);
            web_acl_problems(
                &resolver.stack(template),
                &resolver,
                *env == "prod",
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
fn web_acl_problems(stack: &Value, resolver: &Resolver, prod: bool, problems: &mut Vec<String>) {
    let domain = resolver.parameter("DomainName");
    count(
        problems,
        stack,
        &[
            ("AWS::WAFv2::WebACL", 1),
            ("AWS::CertificateManager::", usize::from(!domain.is_empty())),
        ],
    );
    let visible = json!({ "CloudWatchMetricsEnabled": true, "SampledRequestsEnabled": true });
    let (action, group_action) = if prod {
        ("Block", "None")
    } else {
        ("Count", "Count")
    };
    let rate = |limit: &str, scope: Value| {
        json!({
            "Action": { action: {} },
            "VisibilityConfig": visible,
            "Statement": { "RateBasedStatement": {
                "AggregateKeyType": "IP",
                "EvaluationWindowSec": 300,
                "Limit": resolver.value(limit),
                "ScopeDownStatement": scope,
            } },
        })
    };
    let group = |name: &str, overrides: Value| {
        json!({
            "OverrideAction": { group_action: {} },
            "VisibilityConfig": visible,
            "Statement": { "ManagedRuleGroupStatement": { "VendorName": "AWS", "Name": name, "RuleActionOverrides": overrides } },
        })
    };
    // The sign-in routes, each by its method and exact path.
    let exactly = |field: &str, value: String| {
        json!({ "ByteMatchStatement": {
            "FieldToMatch": { field: {} }, "PositionalConstraint": "EXACTLY", "SearchString": value,
        } })
    };
    let route = |route: &&Route| {
        let statements = [
            exactly("Method", route.method.to_string()),
            exactly("UriPath", route.path.to_owned()),
        ];
        json!({ "AndStatement": { "Statements": statements } })
    };
    let sign_in = match SIGN_IN_ROUTES {
        [one] => route(one),
        all => {
            json!({ "OrStatement": { "Statements": all.iter().map(route).collect::<Vec<_>>() } })
        }
    };
    // The common rules' SizeRestrictions_BODY blocks bodies over 8 KB; an
    // article's may be up to MAX_BODY_BYTES.
    let body_size = json!([{ "Name": "SizeRestrictions_BODY", "ActionToUse": { "Count": {} } }]);
    let acl = json!({ "Properties": {
        "Scope": "CLOUDFRONT",
        "DefaultAction": { "Allow": {} },
        "VisibilityConfig": visible,
        "Rules": [
            rate("SignInRateLimit", sign_in),
            rate("RateLimit", Value::Null),
            group("AWSManagedRulesCommonRuleSet", body_size),
            group("AWSManagedRulesKnownBadInputsRuleSet", Value::Null),
            group("AWSManagedRulesSQLiRuleSet", Value::Null),
        ],
    } });
    expect(problems, "WebAcl", &stack["Resources"]["WebAcl"], acl);
    let limit = |name: &str| resolver.parameter(name).parse::<u64>().unwrap_or_default();
    if limit("SignInRateLimit") >= limit("RateLimit") || limit("SignInRateLimit") < 10 {
        problems.push("SignInRateLimit is not between 10 and RateLimit".to_owned());
    }
    let mut outputs = json!({ "WebAclArn": { "Value": { "Fn::GetAtt": ["WebAcl", "Arn"] } }, "CertificateArn": null });
    if !domain.is_empty() {
        outputs["CertificateArn"] = json!({ "Value": { "Ref": "Certificate" } });
        let certificate = json!({ "Properties": {
            "DomainName": domain,
            "ValidationMethod": "DNS",
            "DomainValidationOptions": [{ "DomainName": domain, "HostedZoneId": resolver.parameter("HostedZoneId") }],
        } });
        expect(
            problems,
            "Certificate",
            &stack["Resources"]["Certificate"],
            certificate,
        );
    }
    expect(problems, "Outputs", &stack["Outputs"], outputs);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_the_edge_nothing_of_it_is_deployed() {
        let origin = json!({ "Fn::Sub": format!("https://{ORIGIN}") });
        let stack = json!({
            "Resources": { "Distribution": { "Type": "AWS::CloudFront::Distribution" } },
            "Outputs": { "ApiUrl": { "Value": origin }, "OriginUrl": { "Value": origin } }
        });
        let without = Resolver::new(
            &json!({}),
            &pairs([("Edge", "disabled"), ("OriginVerifySha256", "ab")]),
        );
        assert_eq!(origin_verify(&without), "");
        let mut problems = Vec::new();
        distribution_problems(&stack, &without, &mut problems);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("AWS::CloudFront::Distribution*: 1 resources"));
    }
}
