//! The edge, checked per deployment where the linters cannot see it: in the
//! API's stack, CloudFront ([`distribution_problems`]), and none of it
//! without the edge; the edge stack, `infra/edge.yaml`: its web ACL and
//! certificate ([`edge_stack_problems`]).

use conduit_common::http::{ORIGIN_VERIFY_HEADER, Route, SHARED_MAX_AGE, VIEWER_ADDRESS_HEADER};
use serde_json::{Value, json};

use super::samconfig::{Overrides, deploy_setting, with_overrides};
use super::transformed::Resolver;
use super::{count, expect, resources};
use crate::template::edge::{CLOUDFRONT_ZONE, EDGE_TEMPLATE, SIGN_IN_ROUTES};

/// The origin of the distribution: the stack's HTTP API.
const ORIGIN: &str = "${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}";

/// A domain, as the checks deploy one when samconfig.toml has none.
const DOMAIN: [(&str, &str); 2] = [("DomainName", "api.example.com"), ("HostedZoneId", "Z0123")];

fn pairs(pairs: &[(&str, &str)]) -> Overrides {
    pairs
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

/// Each way the API's stack of `env` is deployed, named, with its
/// parameters: as scripts/deploy.sh does (samconfig.toml's, and what it
/// adds from the edge stack and the origin secret), once more with a domain
/// if samconfig.toml has none, and as the rehearsal does ([`rehearsed`]).
pub(super) fn deployments(samconfig: &str, env: &str) -> Result<Vec<(String, Overrides)>, String> {
    let has_domain = !deploy_setting(samconfig, env, "DomainName")?.is_empty();
    let acl = format!("arn:aws:wafv2:us-east-1:1:global/webacl/conduit-{env}-edge/4f2c");
    let digests = format!("{},{}", "5e".repeat(32), "a1".repeat(32));
    let certificate = "arn:aws:acm:us-east-1:1:certificate/0b3c";
    let from_deploy_sh = |certificate| {
        vec![
            ("WebAclArn", &acl[..]),
            ("OriginVerifySha256", &digests[..]),
            ("CertificateArn", certificate),
            ("OriginSecretVersion", "7"),
        ]
    };
    let mut ways = vec![(
        env.to_owned(),
        from_deploy_sh(if has_domain { certificate } else { "" }),
    )];
    if !has_domain {
        let extra = [from_deploy_sh(certificate), DOMAIN.to_vec()].concat();
        ways.push((format!("{env} with a domain"), extra));
    }
    let with = |(label, extra): (String, Vec<(&str, &str)>)| {
        Ok((label, with_overrides(samconfig, env, &pairs(&extra))?))
    };
    let mut deployments = ways
        .into_iter()
        .map(with)
        .collect::<Result<Vec<_>, String>>()?;
    let rehearsed = (
        format!("{env} without the edge (as rehearsed)"),
        rehearsed(samconfig, env)?,
    );
    deployments.push(rehearsed);
    Ok(deployments)
}

/// The parameters the rehearsal deploys `env` with (deploy-check.sh's
/// `DEPLOY_OVERRIDES`): samconfig.toml's, without the edge (moto has no
/// CloudFront or WAF). What deploy.sh adds (the edge's web ACL and
/// certificate, the origin secret's version and digests) is the edge's
/// alone, and the edge is off.
pub(super) fn rehearsed(samconfig: &str, env: &str) -> Result<Overrides, String> {
    with_overrides(samconfig, env, &pairs(&[("Edge", "disabled")]))
}

/// The edge of the API's stack, resolved for one deployment: with the
/// edge, one distribution behind the edge stack's web ACL, its one origin
/// the HTTP API over TLS 1.2, sent the origin secret at its deployed
/// version; its policies, function, logs, and domain; without it, none.
pub(super) fn distribution_problems(
    stack: &Value,
    resolver: &Resolver,
    problems: &mut Vec<String>,
) {
    let parameter = |name| resolver.parameter(name);
    let (edge, name) = (parameter("Edge") == "enabled", parameter("DomainName"));
    let domain = edge && !name.is_empty();
    let (one, four) = (usize::from(edge), 4 * usize::from(edge));
    let kinds = [
        ("AWS::WAFv2::", 0),
        ("AWS::CertificateManager::", 0),
        ("AWS::CloudFront::Distribution", one),
    ];
    count(problems, stack, &kinds);
    count(
        problems,
        stack,
        &[
            ("AWS::CloudFront::", four),
            ("AWS::S3::", one),
            ("AWS::Route53::", domain.into()),
        ],
    );
    let origin = json!({ "Fn::Sub": format!("https://{ORIGIN}") });
    if !edge {
        let want = json!({ "Outputs": { "OriginUrl": { "Value": origin }, "ApiUrl": { "Value": origin }, "DistributionId": null } });
        return expect(problems, "", stack, want);
    }
    let (secret, version) = (
        parameter("OriginSecretParameterName"),
        parameter("OriginSecretVersion"),
    );
    let (api_url, aliases, certificate, records) = match domain {
        false => (
            json!({ "Fn::Sub": "https://${Distribution.DomainName}" }),
            Value::Null,
            json!({ "CloudFrontDefaultCertificate": true }),
            Value::Null,
        ),
        true => {
            let target = json!({ "DNSName": { "Fn::GetAtt": ["Distribution", "DomainName"] }, "HostedZoneId": CLOUDFRONT_ZONE });
            let sets = ["A", "AAAA"]
                .map(|kind| json!({ "Name": name, "Type": kind, "AliasTarget": target }));
            (
                json!(format!("https://{name}")),
                json!([name]),
                json!({ "AcmCertificateArn": parameter("CertificateArn"), "SslSupportMethod": "sni-only", "MinimumProtocolVersion": "TLSv1.2_2021" }),
                json!({ "Properties": { "HostedZoneId": parameter("HostedZoneId"), "RecordSets": sets } }),
            )
        }
    };
    // What CloudFront forwards: every query string, no cookies (the API
    // uses none); to the origin every viewer header but Host (API Gateway
    // answers a foreign Host with 403); in the cache key Authorization (a
    // signed-in reader's response is never served to another; the only way
    // CloudFront forwards it) and Origin (the CORS answer).
    let query_and_cookies = json!({ "QueryStringsConfig": { "QueryStringBehavior": "all" }, "CookiesConfig": { "CookieBehavior": "none" } });
    let (mut origin_request, mut key) = (query_and_cookies.clone(), query_and_cookies);
    origin_request["HeadersConfig"] = json!({ "HeaderBehavior": "allExcept", "Headers": ["Host"] });
    key["HeadersConfig"] =
        json!({ "HeaderBehavior": "whitelist", "Headers": ["Authorization", "Origin"] });
    key["EnableAcceptEncodingGzip"] = json!(true);
    key["EnableAcceptEncodingBrotli"] = json!(true);
    let want = json!({
        "Outputs": { "OriginUrl": { "Value": origin }, "ApiUrl": { "Value": api_url }, "DistributionId": { "Value": { "Ref": "Distribution" } } },
        "Resources": {
            "Distribution": { "Properties": { "DistributionConfig": {
                "Enabled": true, "HttpVersion": "http2and3", "IPV6Enabled": true,
                "WebACLId": parameter("WebAclArn"), "Aliases": aliases, "ViewerCertificate": certificate,
                "Logging": { "Bucket": { "Fn::GetAtt": ["EdgeLogBucket", "DomainName"] } },
                "Origins": [{
                    "Id": "api", "DomainName": { "Fn::Sub": ORIGIN },
                    "CustomOriginConfig": { "OriginProtocolPolicy": "https-only", "OriginSSLProtocols": ["TLSv1.2"] },
                    "OriginCustomHeaders": [{ "HeaderName": ORIGIN_VERIFY_HEADER, "HeaderValue": format!("{{{{resolve:ssm:{secret}:{version}}}}}") }],
                }],
                // HTTPS only: a token sent over plain HTTP has leaked before any redirect.
                "DefaultCacheBehavior": {
                    "TargetOriginId": "api", "ViewerProtocolPolicy": "https-only",
                    "AllowedMethods": ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"],
                    "CachedMethods": ["GET", "HEAD"], "Compress": true,
                    "CachePolicyId": { "Ref": "EdgeCachePolicy" }, "OriginRequestPolicyId": { "Ref": "EdgeOriginRequestPolicy" },
                    // Else the API's per-client login limits would count
                    // CloudFront's address, or one the client chose.
                    "FunctionAssociations": [{
                        "EventType": "viewer-request",
                        "FunctionARN": { "Fn::GetAtt": ["ViewerAddressFunction", "FunctionMetadata.FunctionARN"] },
                    }],
                },
                "CacheBehaviors": null,
            } } },
            "EdgeOriginRequestPolicy": { "Properties": { "OriginRequestPolicyConfig": origin_request } },
            // Only what the API's Cache-Control says is kept.
            "EdgeCachePolicy": { "Properties": { "CachePolicyConfig": { "MinTTL": 0, "DefaultTTL": 0, "ParametersInCacheKeyAndForwardedToOrigin": key } } },
            // CloudFront's standard logs write with an ACL.
            "EdgeLogBucket": { "Properties": {
                "OwnershipControls": { "Rules": [{ "ObjectOwnership": "BucketOwnerPreferred" }] },
                "PublicAccessBlockConfiguration": { "BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true },
                "BucketEncryption": { "ServerSideEncryptionConfiguration": [{ "ServerSideEncryptionByDefault": { "SSEAlgorithm": "AES256" } }] },
                "LifecycleConfiguration": { "Rules": [{ "Status": "Enabled", "ExpirationInDays": resolver.value("LogRetentionDays") }] },
            } },
            "EdgeDnsRecords": records,
        },
    });
    expect(problems, "", stack, want);
    let resource = |id: &str| &stack["Resources"][id]["Properties"];
    let code = resource("ViewerAddressFunction")["FunctionCode"]
        .as_str()
        .unwrap_or_default();
    if !code.contains(&format!(
        "request.headers['{VIEWER_ADDRESS_HEADER}'] = {{ value: event.viewer.ip }}"
    )) {
        problems.push(format!(
            "ViewerAddressFunction does not set {VIEWER_ADDRESS_HEADER}"
        ));
    }
    let max_ttl = &resource("EdgeCachePolicy")["CachePolicyConfig"]["MaxTTL"];
    if max_ttl.as_u64().is_none_or(|max| max < SHARED_MAX_AGE) {
        problems.push(format!(
            "EdgeCachePolicy: MaxTTL {max_ttl} is below {SHARED_MAX_AGE}"
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
                "{id}: names Authorization; only the cache policy may"
            ));
        }
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
        let own =
            DOMAIN.map(|(name, _)| Ok((name.to_owned(), deploy_setting(samconfig, env, name)?)));
        let own = own.into_iter().collect::<Result<Overrides, String>>()?;
        let mut variants = vec![(section.clone(), own)];
        if variants[0].1[0].1.is_empty() {
            variants.push((format!("{section} with a domain"), pairs(&DOMAIN)));
        }
        for (label, extra) in variants {
            let resolver = Resolver::new(template, &with_overrides(samconfig, &section, &extra)?);
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
    let section = "--config-env \"$env-edge\"";
    if !deploy_sh.contains(section) {
        problems.push(format!(
            "scripts/deploy.sh does not deploy {EDGE_TEMPLATE} with {section}"
        ));
    }
    Ok(problems)
}

/// The web ACL, the certificate and the outputs of one deployment of the
/// edge stack.
fn web_acl_problems(stack: &Value, resolver: &Resolver, prod: bool, problems: &mut Vec<String>) {
    let (domain, zone) = (
        resolver.parameter("DomainName"),
        resolver.parameter("HostedZoneId"),
    );
    let certificates = usize::from(!domain.is_empty());
    count(
        problems,
        stack,
        &[
            ("AWS::WAFv2::WebACL", 1),
            ("AWS::CertificateManager::", certificates),
        ],
    );
    let visible = json!({ "CloudWatchMetricsEnabled": true, "SampledRequestsEnabled": true });
    let (action, group_action) = if prod {
        ("Block", "None")
    } else {
        ("Count", "Count")
    };
    let rate = |limit, scope| {
        json!({ "Action": { action: {} }, "VisibilityConfig": visible, "Statement": { "RateBasedStatement": {
            "AggregateKeyType": "IP", "EvaluationWindowSec": 300,
            "Limit": resolver.value(limit), "ScopeDownStatement": scope,
        } } })
    };
    let group = |name, overrides| {
        json!({ "OverrideAction": { group_action: {} }, "VisibilityConfig": visible, "Statement": {
            "ManagedRuleGroupStatement": { "VendorName": "AWS", "Name": name, "RuleActionOverrides": overrides },
        } })
    };
    // The sign-in routes, each by its method and exact path.
    let exactly = |field: &str, value: &str| {
        json!({ "ByteMatchStatement": {
            "FieldToMatch": { field: {} }, "PositionalConstraint": "EXACTLY", "SearchString": value,
        } })
    };
    let route = |route: &&Route| {
        let statements = [
            exactly("Method", route.method.as_str()),
            exactly("UriPath", route.path),
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
    let mut want = json!({
        "Resources": { "WebAcl": { "Properties": {
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
        } } },
        "Outputs": { "WebAclArn": { "Value": { "Fn::GetAtt": ["WebAcl", "Arn"] } }, "CertificateArn": null },
    });
    if !domain.is_empty() {
        want["Outputs"]["CertificateArn"] = json!({ "Value": { "Ref": "Certificate" } });
        want["Resources"]["Certificate"] = json!({ "Properties": {
            "DomainName": domain,
            "ValidationMethod": "DNS",
            "DomainValidationOptions": [{ "DomainName": domain, "HostedZoneId": zone }],
        } });
    }
    expect(problems, "", stack, want);
    let limit = |name| resolver.parameter(name).parse::<u64>().unwrap_or_default();
    if !(10..limit("RateLimit")).contains(&limit("SignInRateLimit")) {
        problems.push("SignInRateLimit is not between 10 and RateLimit".to_owned());
    }
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
        let mut problems = Vec::new();
        let without = Resolver::new(&json!({}), &pairs(&[("Edge", "disabled")]));
        distribution_problems(&stack, &without, &mut problems);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("AWS::CloudFront::Distribution*: 1 resources"));
    }
}
