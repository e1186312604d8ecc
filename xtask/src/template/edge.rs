//! The edge in front of the API: CloudFront in the API's stack
//! (`distribution.yaml`, under the condition `HasEdge`), and the edge stack
//! `infra/edge.yaml` in [`EDGE_REGION`]: the web ACL, with a tighter rate
//! limit on the route table's [`SIGN_IN_ROUTES`], and the certificate.

use conduit_common::error::ApiError;
use conduit_common::http::{MAX_BODY_BYTES, ORIGIN_VERIFY_HEADER, Route, VIEWER_ADDRESS_HEADER};

/// Where the edge stack goes: the only region CloudFront takes a web ACL
/// (Scope `CLOUDFRONT`) or an ACM certificate from.
pub const EDGE_REGION: &str = "us-east-1";

/// The edge stack's template, from the workspace root.
pub const EDGE_TEMPLATE: &str = "infra/edge.yaml";

/// The hosted zone of every CloudFront distribution, for alias records.
pub const CLOUDFRONT_ZONE: &str = "Z2FDTNDATAQYW2";

/// The routes a password guess or a new account goes through, limited per
/// client address more tightly at the edge than the rest of the API.
pub static SIGN_IN_ROUTES: &[&Route] = &[&functions::routes::LOGIN, &functions::routes::REGISTER];

/// The main template's edge resources (`{{EDGE}}` in head.yaml).
pub fn distribution() -> String {
    include_str!("distribution.yaml")
        .replace("{{ORIGIN_VERIFY_HEADER}}", ORIGIN_VERIFY_HEADER)
        .replace("{{VIEWER_ADDRESS_HEADER}}", VIEWER_ADDRESS_HEADER)
        .replace("{{CLOUDFRONT_ZONE}}", CLOUDFRONT_ZONE)
}

/// The whole `infra/edge.yaml`, its sign-in rule over `sign_in`.
pub fn edge_template(sign_in: &[&Route]) -> String {
    let routes: Vec<String> = sign_in
        .iter()
        .map(|route| format!("{} {}", route.method, route.path))
        .collect();
    // Single-quoted YAML: a quote is doubled.
    let too_many = ApiError::TooManyRequests {
        retry_after_secs: 300,
    }
    .body()
    .replace('\'', "''");
    include_str!("edge.yaml")
        .replace("{{SIGN_IN_ROUTES}}", &routes.join(", "))
        .replace("{{SIGN_IN_SCOPE}}\n", &scope_down(sign_in))
        .replace("{{TOO_MANY_REQUESTS}}", &too_many)
        .replace("{{MAX_BODY}}", &format!("{} KiB", MAX_BODY_BYTES / 1024))
}

/// The requests of `routes`: each its method and exact path (API Gateway's
/// routing is exact and case-sensitive); several, any of them. At the
/// indentation of `ScopeDownStatement`'s value in edge.yaml.
fn scope_down(routes: &[&Route]) -> String {
    let pad = " ".repeat(16);
    match routes {
        [] => panic!("a scope-down statement needs a route"),
        [route] => format!("{pad}{}", and_statement(16, route)),
        _ => routes.iter().fold(
            format!("{pad}OrStatement:\n{pad}  Statements:\n"),
            |out, route| out + &format!("{pad}    - {}", and_statement(22, route)),
        ),
    }
}

/// `AndStatement` (its key written at column `indent`): the route's method
/// and path. The path is matched once decoded and normalised, so that
/// `/api/users/%6Cogin` or `/api//users/login` cannot slip past the tighter
/// limit while still reaching the route.
fn and_statement(indent: usize, route: &Route) -> String {
    let pad = " ".repeat(indent);
    let (method, path) = (route.method.as_str(), route.path);
    format!(
        "AndStatement:\n\
         {pad}  Statements:\n\
         {pad}    - ByteMatchStatement:\n\
         {pad}        FieldToMatch: {{ Method: {{}} }}\n\
         {pad}        PositionalConstraint: EXACTLY\n\
         {pad}        SearchString: {method}\n\
         {pad}        TextTransformations: [{{ Priority: 0, Type: NONE }}]\n\
         {pad}    - ByteMatchStatement:\n\
         {pad}        FieldToMatch: {{ UriPath: {{}} }}\n\
         {pad}        PositionalConstraint: EXACTLY\n\
         {pad}        SearchString: {path}\n\
         {pad}        TextTransformations: [{{ Priority: 0, Type: URL_DECODE }}, \
         {{ Priority: 1, Type: NORMALIZE_PATH }}]\n"
    )
}

#[cfg(test)]
mod tests {
    use conduit_common::auth::Access;

    use super::*;

    #[test]
    fn the_sign_in_rule_matches_each_anonymous_post_by_method_and_exact_path() {
        let template = edge_template(SIGN_IN_ROUTES);
        let edge = distribution();
        assert!(!template.contains("{{"), "a placeholder is left");
        assert!(
            !edge.contains("{{ORIGIN")
                && !edge.contains("{{CLOUDFRONT")
                && !edge.contains("{{VIEWER")
        );
        for route in SIGN_IN_ROUTES {
            assert!(
                functions::ROUTES.iter().any(|r| std::ptr::eq(*r, *route)),
                "{route:?}"
            );
            assert_eq!(route.method.as_str(), "POST", "{route:?}");
            assert!(matches!(route.access, Access::Anonymous), "{route:?}");
            assert!(
                template.contains(&format!("SearchString: {}\n", route.path)),
                "{route:?}"
            );
        }
        assert!(template.contains("OrStatement:"));
        let one = edge_template(&SIGN_IN_ROUTES[..1]);
        assert!(!one.contains("OrStatement:") && one.contains("AndStatement:"));
    }
}
