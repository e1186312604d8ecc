//! `xtask check-samconfig [FILE]`: every environment that CI deploys (dev,
//! prod) is fully described in samconfig.toml, and `sam build` builds the
//! generated template.

use toml::{Table, Value};

const ENVIRONMENTS: &[&str] = &["dev", "prod"];
const REQUIRED: &[&str] = &[
    "stack_name",
    "region",
    "capabilities",
    "parameter_overrides",
];
const TEMPLATE: &str = "infra/template.yaml";

pub fn run(path: &std::path::Path) -> Result<(), String> {
    let problems = problems(&crate::checks::read(path)?)?;
    crate::checks::report("samconfig.toml", &problems, "")
}

/// What is wrong with this samconfig.toml, if anything.
pub fn problems(text: &str) -> Result<Vec<String>, String> {
    let config = parse(text)?;
    let mut problems = Vec::new();
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

/// The `Name=value` pairs of `[env.deploy.parameters] parameter_overrides`,
/// as `sam deploy --config-env env` passes them to CloudFormation.
pub fn parameter_overrides(text: &str, env: &str) -> Result<Vec<(String, String)>, String> {
    overrides_in(&parse(text)?, env)
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
parameter_overrides = "Environment=dev JwtSecretParameterName=/conduit/dev/jwt-secret"

[prod.deploy.parameters]
stack_name = "conduit-prod"
region = "us-east-1"
capabilities = ["CAPABILITY_IAM"]
parameter_overrides = ["Environment=prod", "JwtSecretParameterName=/conduit/prod/jwt-secret"]
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
        let config = GOOD.replace("\"Environment=prod\", ", "\"Environment=dev\", ");
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
        assert_eq!(problems(config).unwrap().len(), 5);
        assert!(problems("not toml = = 1").is_err());
    }
}
