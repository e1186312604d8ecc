//! `xtask check-samconfig [FILE]`: every environment that CI deploys (dev,
//! prod) is fully described in samconfig.toml, its edge stack too (its own
//! section `[ENV-edge.deploy.parameters]`, in us-east-1), every parameter
//! it overrides is one of its template's, and `sam build` builds the
//! generated template.

use toml::{Table, Value};

use crate::template::edge::{EDGE_REGION, EDGE_TEMPLATE, SIGN_IN_ROUTES, edge_template};

const ENVIRONMENTS: &[&str] = &["dev", "prod"];
const REQUIRED: &[&str] = &[
    "stack_name",
    "region",
    "capabilities",
    "parameter_overrides",
];
const TEMPLATE: &str = "infra/template.yaml";
/// Overrides scripts/deploy.sh reads (the secrets' names, the domain).
const REQUIRED_OVERRIDES: &[&str] = &[
    "JwtSecretParameterName",
    "OriginSecretParameterName",
    "DomainName",
    "HostedZoneId",
];

pub fn run(path: &std::path::Path) -> Result<(), String> {
    let problems = problems(&crate::checks::read(path)?)?;
    crate::checks::report("samconfig.toml", &problems, "")
}

/// What is wrong with this samconfig.toml, if anything.
pub fn problems(text: &str) -> Result<Vec<String>, String> {
    let config = parse(text)?;
    let mut problems = Vec::new();
    let main = crate::template::sam_template(functions::ROUTES, functions::CONSUMERS);
    let edge = edge_template(SIGN_IN_ROUTES);
    for env in ENVIRONMENTS {
        let deploy = section(&config, &[env, "deploy", "parameters"]);
        let table = format!("[{env}.deploy.parameters]");
        for key in REQUIRED {
            if !deploy.and_then(|d| d.get(*key)).is_some_and(is_set) {
                problems.push(format!("{table} lacks {key}"));
            }
        }
        let overrides = deploy.and_then(|d| d.get("parameter_overrides"));
        if !overrides.is_some_and(|o| mentions(o, &format!("Environment={env}"))) {
            problems.push(format!("{table} must override Environment={env}"));
        }
        if deploy.is_some_and(|d| d.contains_key("template_file")) {
            problems.push(format!(
                "{table} must not set template_file (deploy the built one)"
            ));
        }
        if let Ok(overrides) = overrides_in(&config, env) {
            for name in REQUIRED_OVERRIDES {
                if !overrides.iter().any(|(n, _)| n == name) {
                    problems.push(format!(
                        "{table} must override {name} (scripts/deploy.sh reads it; empty is a value)"
                    ));
                }
            }
            unknown_parameters(&mut problems, &table, &overrides, TEMPLATE, &main);
        }
        // The edge stack: its own section, its own template, us-east-1.
        let edge_env = format!("{env}-edge");
        let deploy = section(&config, &[&edge_env, "deploy", "parameters"]);
        let table = format!("[{edge_env}.deploy.parameters]");
        for key in ["stack_name", "parameter_overrides"] {
            if !deploy.and_then(|d| d.get(key)).is_some_and(is_set) {
                problems.push(format!("{table} lacks {key}"));
            }
        }
        let setting = |key: &str| deploy.and_then(|d| d.get(key)).and_then(Value::as_str);
        if setting("region") != Some(EDGE_REGION) {
            problems.push(format!(
                "{table} region must be {EDGE_REGION}: CloudFront takes its web ACL and \
                 certificate from there only"
            ));
        }
        if setting("template_file") != Some(EDGE_TEMPLATE) {
            problems.push(format!("{table} template_file must be {EDGE_TEMPLATE}"));
        }
        let overrides = deploy.and_then(|d| d.get("parameter_overrides"));
        if !overrides.is_some_and(|o| mentions(o, &format!("Environment={env}"))) {
            problems.push(format!("{table} must override Environment={env}"));
        }
        if let Ok(overrides) = overrides_in(&config, &edge_env) {
            unknown_parameters(&mut problems, &table, &overrides, EDGE_TEMPLATE, &edge);
        }
    }
    let build = section(&config, &["default", "build", "parameters"]);
    if build
        .and_then(|b| b.get("template_file"))
        .and_then(Value::as_str)
        != Some(TEMPLATE)
    {
        problems.push(format!(
            "[default.build.parameters] template_file must be {TEMPLATE}"
        ));
    }
    Ok(problems)
}

/// A problem for each override that is no parameter of the template (a
/// typo CloudFormation would refuse only at deploy time).
fn unknown_parameters(
    problems: &mut Vec<String>,
    table: &str,
    overrides: &[(String, String)],
    path: &str,
    template: &str,
) {
    let declared = parameter_names(template);
    for (name, _) in overrides {
        if !declared.contains(&name.as_str()) {
            problems.push(format!(
                "{table} overrides {name}, which {path} does not declare"
            ));
        }
    }
}

/// The names under a template's `Parameters:` (two spaces in, as the
/// generated templates write them).
pub fn parameter_names(template: &str) -> Vec<&str> {
    let Some(start) = template.find("\nParameters:\n") else {
        return Vec::new();
    };
    template[start + "\nParameters:\n".len()..]
        .lines()
        .take_while(|line| line.is_empty() || line.starts_with(' ') || line.starts_with('#'))
        .filter_map(|line| {
            let name = line.strip_prefix("  ")?.strip_suffix(':')?;
            name.chars()
                .all(|c| c.is_ascii_alphanumeric())
                .then_some(name)
        })
        .collect()
}

/// The `Name=value` pairs of `[env.deploy.parameters] parameter_overrides`,
/// as `sam deploy --config-env env` passes them to CloudFormation.
pub fn parameter_overrides(text: &str, env: &str) -> Result<Vec<(String, String)>, String> {
    overrides_in(&parse(text)?, env)
}

/// `env`'s overrides with `extra` in place of those of the same name, or
/// after them: what `sam deploy --parameter-overrides` must be given, since
/// overrides on its command line replace samconfig.toml's whole.
pub fn with_overrides(
    text: &str,
    env: &str,
    extra: &[(String, String)],
) -> Result<Vec<(String, String)>, String> {
    let mut overrides = parameter_overrides(text, env)?;
    for (name, value) in extra {
        match overrides.iter_mut().find(|(n, _)| n == name) {
            Some(found) => found.1 = value.clone(),
            None => overrides.push((name.clone(), value.clone())),
        }
    }
    Ok(overrides)
}

/// `xtask samconfig-overrides ENV [Name=value...]`: [`with_overrides`] as
/// `sam deploy --parameter-overrides` words, one line, an empty value as
/// `Name=""` (sam reads a bare `Name=` as no value at all).
pub fn overrides_line(text: &str, env: &str, extra: &[&str]) -> Result<String, String> {
    let extra: Vec<(String, String)> = extra
        .iter()
        .map(|word| {
            word.split_once('=')
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .ok_or_else(|| format!("{word:?} is not Name=value"))
        })
        .collect::<Result<_, _>>()?;
    let words: Vec<String> = with_overrides(text, env, &extra)?
        .into_iter()
        .map(|(name, value)| {
            if value
                .chars()
                .any(|c| c.is_whitespace() || c == '"' || c == '\'')
            {
                Err(format!(
                    "{name}: {value:?} cannot be one word of sam's overrides"
                ))
            } else if value.is_empty() {
                Ok(format!("{name}=\"\""))
            } else {
                Ok(format!("{name}={value}"))
            }
        })
        .collect::<Result<_, _>>()?;
    Ok(words.join(" "))
}

fn overrides_in(config: &Table, env: &str) -> Result<Vec<(String, String)>, String> {
    let overrides = section(config, &[env, "deploy", "parameters"])
        .and_then(|deploy| deploy.get("parameter_overrides"))
        .ok_or_else(|| {
            format!("samconfig.toml: [{env}.deploy.parameters] has no parameter_overrides")
        })?;
    let words: Vec<&str> = match overrides {
        Value::String(s) => s.split_whitespace().collect(),
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    words
        .iter()
        .map(|word| {
            word.split_once('=')
                .map(|(name, value)| (name.to_owned(), value.trim_matches('"').to_owned()))
                .ok_or_else(|| {
                    format!("samconfig.toml: [{env}] override {word:?} is not Name=value")
                })
        })
        .collect()
}

/// One setting of `sam deploy --config-env env`, for the scripts that need
/// it (the stack's name, the JWT secret's parameter name): a key of
/// `[env.deploy.parameters]`, or else one of its parameter overrides.
pub fn deploy_setting(text: &str, env: &str, key: &str) -> Result<String, String> {
    let config = parse(text)?;
    let deploy = section(&config, &[env, "deploy", "parameters"])
        .ok_or_else(|| format!("samconfig.toml has no [{env}.deploy.parameters]"))?;
    if let Some(value) = deploy.get(key) {
        return value.as_str().map(str::to_owned).ok_or_else(|| {
            format!("samconfig.toml: [{env}.deploy.parameters] {key} is not a string")
        });
    }
    overrides_in(&config, env)?
        .into_iter()
        .find_map(|(name, value)| (name == key).then_some(value))
        .ok_or_else(|| {
            format!("samconfig.toml: [{env}.deploy.parameters] has no {key}, nor an override of it")
        })
}

fn parse(text: &str) -> Result<Table, String> {
    text.parse().map_err(|err| format!("samconfig.toml: {err}"))
}

/// The table at `path`, if every step of it is a table.
fn section<'a>(config: &'a Table, path: &[&str]) -> Option<&'a Table> {
    path.iter()
        .try_fold(config, |table, key| table.get(*key)?.as_table())
}

/// Given a non-empty value (not `""`, `[]`, `{}`, `false` or zero).
fn is_set(value: &Value) -> bool {
    match value {
        Value::String(s) => !s.is_empty(),
        Value::Integer(n) => *n != 0,
        Value::Float(x) => *x != 0.0,
        Value::Boolean(b) => *b,
        Value::Array(items) => !items.is_empty(),
        Value::Table(table) => !table.is_empty(),
        Value::Datetime(_) => true,
    }
}

/// `parameter_overrides` as one string or as a list of strings.
fn mentions(value: &Value, text: &str) -> bool {
    match value {
        Value::String(s) => s.contains(text),
        Value::Array(items) => items.iter().any(|item| mentions(item, text)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
version = 0.1

[default.build.parameters]
template_file = "infra/template.yaml"

[dev.deploy.parameters]
stack_name = "conduit-dev"
region = "us-east-1"
capabilities = "CAPABILITY_IAM"
parameter_overrides = "Environment=dev JwtSecretParameterName=/conduit/dev/jwt-secret OriginSecretParameterName=/conduit/dev/origin-secret DomainName=\"\" HostedZoneId=\"\""

[dev-edge.deploy.parameters]
stack_name = "conduit-dev-edge"
region = "us-east-1"
template_file = "infra/edge.yaml"
parameter_overrides = "Environment=dev"

[prod.deploy.parameters]
stack_name = "conduit-prod"
region = "eu-west-1"
capabilities = ["CAPABILITY_IAM"]
parameter_overrides = ["Environment=prod", "JwtSecretParameterName=/conduit/prod/jwt-secret", "OriginSecretParameterName=/conduit/prod/origin-secret", "DomainName=api.example.com", "HostedZoneId=Z123"]

[prod-edge.deploy.parameters]
stack_name = "conduit-prod-edge"
region = "us-east-1"
template_file = "infra/edge.yaml"
parameter_overrides = "Environment=prod RateLimit=5000"
"#;

    #[test]
    fn a_deploy_setting_is_a_key_or_else_an_override() {
        assert_eq!(
            deploy_setting(GOOD, "dev", "stack_name").unwrap(),
            "conduit-dev"
        );
        assert_eq!(
            deploy_setting(GOOD, "prod", "JwtSecretParameterName").unwrap(),
            "/conduit/prod/jwt-secret"
        );
        assert!(deploy_setting(GOOD, "dev", "NoSuchParameter").is_err());
        assert!(deploy_setting(GOOD, "staging", "stack_name").is_err());
    }

    #[test]
    fn overrides_are_read_as_a_string_or_a_list() {
        let dev = parameter_overrides(GOOD, "dev").unwrap();
        assert_eq!(dev[0], ("Environment".to_owned(), "dev".to_owned()));
        let prod = parameter_overrides(GOOD, "prod").unwrap();
        assert_eq!(
            prod[1],
            (
                "JwtSecretParameterName".to_owned(),
                "/conduit/prod/jwt-secret".to_owned()
            )
        );
        assert!(parameter_overrides(GOOD, "staging").is_err());
    }

    #[test]
    fn a_complete_config_passes() {
        assert_eq!(problems(GOOD), Ok(vec![]));
    }

    #[test]
    fn the_edge_stack_goes_to_us_east_1_with_its_own_template() {
        let config = GOOD
            .replacen(
                "region = \"us-east-1\"\ntemplate_file = \"infra/edge.yaml\"",
                "region = \"eu-west-1\"\ntemplate_file = \"infra/template.yaml\"",
                1,
            )
            .replace(
                "[prod-edge.deploy.parameters]",
                "[prod-edges.deploy.parameters]",
            );
        let problems = problems(&config).unwrap();
        for expected in [
            "[dev-edge.deploy.parameters] region must be us-east-1",
            "[dev-edge.deploy.parameters] template_file must be infra/edge.yaml",
            "[prod-edge.deploy.parameters] lacks stack_name",
            "[prod-edge.deploy.parameters] must override Environment=prod",
        ] {
            assert!(
                problems.iter().any(|p| p.starts_with(expected)),
                "{expected}: {problems:?}"
            );
        }
    }

    #[test]
    fn overrides_must_be_parameters_of_their_template() {
        let config = GOOD.replace("RateLimit=5000", "RateLimits=5000").replace(
            "Environment=dev JwtSecret",
            "Environment=dev WebAclId=x JwtSecret",
        );
        assert_eq!(
            problems(&config).unwrap(),
            [
                "[dev.deploy.parameters] overrides WebAclId, which infra/template.yaml does not declare",
                "[prod-edge.deploy.parameters] overrides RateLimits, which infra/edge.yaml does not declare",
            ]
        );
        let config = GOOD.replace(r#" DomainName=\"\""#, "");
        assert_eq!(
            problems(&config).unwrap(),
            [
                "[dev.deploy.parameters] must override DomainName (scripts/deploy.sh reads it; empty is a value)"
            ]
        );
    }

    #[test]
    fn extra_overrides_replace_or_follow_samconfigs_as_sam_words() {
        assert_eq!(
            overrides_line(GOOD, "dev", &["Edge=disabled", "DomainName=a.example.com"]).unwrap(),
            "Environment=dev JwtSecretParameterName=/conduit/dev/jwt-secret \
             OriginSecretParameterName=/conduit/dev/origin-secret DomainName=a.example.com \
             HostedZoneId=\"\" Edge=disabled"
        );
        assert!(overrides_line(GOOD, "dev", &["Edge"]).is_err());
        assert!(overrides_line(GOOD, "dev", &["Edge=a b"]).is_err());
    }

    #[test]
    fn parameter_names_are_read_from_the_generated_templates() {
        let main = crate::template::sam_template(functions::ROUTES, functions::CONSUMERS);
        let names = parameter_names(&main);
        for name in [
            "Environment",
            "Edge",
            "WebAclArn",
            "OriginVerifySha256",
            "AlarmEmail",
        ] {
            assert!(names.contains(&name), "{name}: {names:?}");
        }
        assert!(!names.contains(&"Type") && !names.contains(&"Conditions"));
        let edge = parameter_names(&crate::template::edge::edge_template(SIGN_IN_ROUTES)).len();
        assert_eq!(edge, 5);
    }

    #[test]
    fn the_repositorys_samconfig_passes() {
        let root = crate::generated::workspace_root();
        let text = std::fs::read_to_string(root.join("samconfig.toml")).unwrap();
        assert_eq!(problems(&text), Ok(vec![]));
    }

    #[test]
    fn empty_or_missing_keys_are_reported() {
        let config = GOOD
            .replace(
                "region = \"us-east-1\"\ncapabilities = \"CAPABILITY_IAM\"",
                "region = \"\"",
            )
            .replace("stack_name = \"conduit-prod\"\n", "");
        assert_eq!(
            problems(&config).unwrap(),
            [
                "[dev.deploy.parameters] lacks region",
                "[dev.deploy.parameters] lacks capabilities",
                "[prod.deploy.parameters] lacks stack_name",
            ]
        );
    }

    #[test]
    fn each_environment_overrides_its_own_name() {
        let config = GOOD.replacen("\"Environment=prod\", ", "\"Environment=dev\", ", 1);
        assert_eq!(
            problems(&config).unwrap(),
            ["[prod.deploy.parameters] must override Environment=prod"]
        );
    }

    #[test]
    fn deploys_use_the_built_template_and_builds_the_generated_one() {
        let config = GOOD
            .replace(
                "[dev.deploy.parameters]\n",
                "[dev.deploy.parameters]\ntemplate_file = \"x.yaml\"\n",
            )
            .replace(
                "template_file = \"infra/template.yaml\"",
                "template_file = \"template.yaml\"",
            );
        assert_eq!(
            problems(&config).unwrap(),
            [
                "[dev.deploy.parameters] must not set template_file (deploy the built one)",
                "[default.build.parameters] template_file must be infra/template.yaml",
            ]
        );
    }

    #[test]
    fn a_missing_environment_lacks_everything() {
        let config = "[default.build.parameters]\ntemplate_file = \"infra/template.yaml\"\n\
                      [dev.deploy.parameters]\nstack_name = \"a\"\nregion = \"b\"\n\
                      capabilities = \"c\"\nparameter_overrides = \"Environment=dev\"\n";
        // prod and its edge stack lack everything (5 + 5), dev the overrides
        // deploy.sh reads (4) and its edge stack (5).
        assert_eq!(problems(config).unwrap().len(), 19);
        assert!(problems("not toml = = 1").is_err());
    }
}
