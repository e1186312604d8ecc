//! samconfig.toml, read for the scripts (`samconfig ENV KEY`,
//! `samconfig-overrides ENV [Name=value...]`) and checked
//! (`check-samconfig [FILE]`): each environment CI deploys (dev, prod) is
//! fully described, its edge stack too (`[ENV-edge.deploy.parameters]`,
//! infra/edge.yaml, in us-east-1), every override is a parameter of its
//! template, and `sam build` builds the generated template.

use toml::{Table, Value};

use crate::template::edge::{EDGE_REGION, EDGE_TEMPLATE, SIGN_IN_ROUTES, edge_template};

pub const ENVIRONMENTS: &[&str] = &["dev", "prod"];
const TEMPLATE: &str = "infra/template.yaml";

// Of each environment's deploy section, and its edge stack's: the keys it
// must set, the settings it must have (None: must not have), the overrides
// it must make.
const API_KEYS: &[&str] = &[
    "stack_name",
    "region",
    "capabilities",
    "parameter_overrides",
];
/// sam deploy then takes the built template.
const API_SETTINGS: &[(&str, Option<&str>)] = &[("template_file", None)];
/// scripts/deploy.sh reads these (empty is a value).
const API_OVERRIDES: &[&str] = &[
    "JwtSecretParameterName",
    "OriginSecretParameterName",
    "DomainName",
    "HostedZoneId",
];
const EDGE_KEYS: &[&str] = &["stack_name", "parameter_overrides"];
/// CloudFront takes its web ACL and certificate from us-east-1 only.
const EDGE_SETTINGS: &[(&str, Option<&str>)] = &[
    ("region", Some(EDGE_REGION)),
    ("template_file", Some(EDGE_TEMPLATE)),
];

/// `Name=value` parameter overrides.
pub type Overrides = Vec<(String, String)>;

pub fn run(path: &std::path::Path) -> Result<(), String> {
    let problems = problems(&super::read(path)?)?;
    super::report("samconfig.toml", &problems, "")
}

/// What is wrong with this samconfig.toml, if anything.
pub fn problems(text: &str) -> Result<Vec<String>, String> {
    let config = parse(text)?;
    let main = crate::template::sam_template(functions::ROUTES, functions::CONSUMERS);
    let edge = edge_template(SIGN_IN_ROUTES);
    let mut problems = Vec::new();
    for env in ENVIRONMENTS {
        let sections = [
            (
                env.to_string(),
                API_KEYS,
                API_SETTINGS,
                API_OVERRIDES,
                (TEMPLATE, &main),
            ),
            (
                format!("{env}-edge"),
                EDGE_KEYS,
                EDGE_SETTINGS,
                &[][..],
                (EDGE_TEMPLATE, &edge),
            ),
        ];
        for (section, required, settings, needed, (path, template)) in sections {
            let table = format!("[{section}.deploy.parameters]");
            let deploy = deploy_section(&config, &section);
            let get = |key: &str| deploy.and_then(|d| d.get(key));
            for key in required {
                if !get(key).is_some_and(is_set) {
                    problems.push(format!("{table} lacks {key}"));
                }
            }
            for (key, want) in settings {
                if get(key).map(|v| v.as_str()) != want.map(Some) {
                    problems.push(format!(
                        "{table} {key} is {}, expected {}",
                        get(key).map_or("unset".into(), Value::to_string),
                        want.unwrap_or("unset")
                    ));
                }
            }
            let overrides = match deploy.map(|_| overrides_in(&config, &section)) {
                Some(Err(problem)) => {
                    problems.push(problem);
                    continue;
                }
                Some(Ok(overrides)) => overrides,
                None => Vec::new(),
            };
            let has = |name: &str| overrides.iter().any(|(n, _)| n == name);
            if !overrides.contains(&("Environment".into(), env.to_string())) {
                problems.push(format!("{table} must override Environment={env}"));
            }
            for name in needed.iter().filter(|name| !has(name)) {
                problems.push(format!("{table} must override {name}"));
            }
            let declared = parameter_names(template);
            for (name, _) in overrides
                .iter()
                .filter(|(n, _)| !declared.contains(&n.as_str()))
            {
                problems.push(format!(
                    "{table} overrides {name}, which {path} does not declare"
                ));
            }
        }
    }
    let build = config
        .get("default")
        .and_then(|d| d.get("build")?.get("parameters")?.get("template_file"));
    if build.and_then(Value::as_str) != Some(TEMPLATE) {
        problems.push(format!(
            "[default.build.parameters] template_file must be {TEMPLATE}"
        ));
    }
    Ok(problems)
}

/// The names under a template's `Parameters:` (two spaces in, as the
/// generated templates write them).
pub fn parameter_names(template: &str) -> Vec<&str> {
    let start = template
        .find("\nParameters:\n")
        .map_or(template.len(), |at| at + "\nParameters:\n".len());
    template[start..]
        .lines()
        .take_while(|line| line.is_empty() || line.starts_with([' ', '#']))
        .filter_map(|line| line.strip_prefix("  ")?.strip_suffix(':'))
        .filter(|name| name.chars().all(|c| c.is_ascii_alphanumeric()))
        .collect()
}

/// The `Name=value` pairs of `[env.deploy.parameters] parameter_overrides`
/// (one string, or a list of them), as `sam deploy --config-env env` passes
/// them to CloudFormation; with `extra` in place of those of the same name,
/// or after them (overrides on sam's command line replace samconfig's whole).
pub fn with_overrides(
    text: &str,
    env: &str,
    extra: &[(String, String)],
) -> Result<Overrides, String> {
    let mut overrides = overrides_in(&parse(text)?, env)?;
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
    let extra = extra
        .iter()
        .map(|word| pair(word))
        .collect::<Result<Vec<_>, _>>()?;
    let words = with_overrides(text, env, &extra)?
        .into_iter()
        .map(|(name, value)| {
            if value.contains(|c: char| c.is_whitespace() || c == '"' || c == '\'') {
                Err(format!(
                    "{name}: {value:?} cannot be one word of sam's overrides"
                ))
            } else if value.is_empty() {
                Ok(format!("{name}=\"\""))
            } else {
                Ok(format!("{name}={value}"))
            }
        });
    Ok(words.collect::<Result<Vec<_>, _>>()?.join(" "))
}

fn pair(word: &str) -> Result<(String, String), String> {
    word.split_once('=')
        .map(|(name, value)| (name.to_owned(), value.trim_matches('"').to_owned()))
        .ok_or_else(|| format!("{word:?} is not Name=value"))
}

fn overrides_in(config: &Table, env: &str) -> Result<Overrides, String> {
    let words: Vec<&str> =
        match deploy_section(config, env).and_then(|d| d.get("parameter_overrides")) {
            Some(Value::String(s)) => s.split_whitespace().collect(),
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => {
                return Err(format!(
                    "samconfig.toml: [{env}.deploy.parameters] has no parameter_overrides"
                ));
            }
        };
    words
        .into_iter()
        .map(|word| pair(word).map_err(|err| format!("samconfig.toml: [{env}] override {err}")))
        .collect()
}

/// `xtask samconfig ENV KEY`: one setting of `sam deploy --config-env env`,
/// a key of `[env.deploy.parameters]`, or else one of its overrides.
pub fn deploy_setting(text: &str, env: &str, key: &str) -> Result<String, String> {
    let config = parse(text)?;
    let table = format!("samconfig.toml: [{env}.deploy.parameters]");
    match deploy_section(&config, env).map(|deploy| deploy.get(key)) {
        None => Err(format!("{table} is missing")),
        Some(Some(value)) => value
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("{table} {key} is not a string")),
        Some(None) => overrides_in(&config, env)?
            .into_iter()
            .find_map(|(name, value)| (name == key).then_some(value))
            .ok_or_else(|| format!("{table} has no {key}, nor an override of it")),
    }
}

fn parse(text: &str) -> Result<Table, String> {
    text.parse().map_err(|err| format!("samconfig.toml: {err}"))
}

fn deploy_section<'a>(config: &'a Table, env: &str) -> Option<&'a Table> {
    config
        .get(env)?
        .get("deploy")?
        .get("parameters")?
        .as_table()
}

/// A non-empty string or list.
fn is_set(value: &Value) -> bool {
    value.as_str().map_or_else(
        || value.as_array().is_some_and(|a| !a.is_empty()),
        |s| !s.is_empty(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repositorys_samconfig_passes_and_is_read_as_sam_reads_it() {
        let root = crate::generated::workspace_root();
        let good = std::fs::read_to_string(root.join("samconfig.toml")).unwrap();
        assert_eq!(problems(&good), Ok(vec![]));
        let setting = |text: &str, env, key| deploy_setting(text, env, key);
        assert_eq!(setting(&good, "dev", "stack_name").unwrap(), "conduit-dev");
        assert_eq!(
            setting(&good, "prod", "JwtSecretParameterName").unwrap(),
            "/conduit/prod/jwt-secret"
        );
        assert!(setting(&good, "dev", "NoSuchParameter").is_err());
        assert!(setting(&good, "staging", "stack_name").is_err());
        // A list of words reads as the one string does.
        let listed = good.replace("= \"Environment=prod\"", "= [\"Environment=prod\"]");
        assert_eq!(
            setting(&listed, "prod-edge", "Environment").unwrap(),
            "prod"
        );
        let line = overrides_line(&good, "dev", &["Edge=disabled", "DomainName=a.example.com"]);
        let want = "Environment=dev JwtSecretParameterName=/conduit/dev/jwt-secret \
             OriginSecretParameterName=/conduit/dev/origin-secret DomainName=a.example.com \
             HostedZoneId=\"\" Edge=disabled";
        assert_eq!(line.unwrap(), want);
        assert!(overrides_line(&good, "dev", &["Edge"]).is_err());
        assert!(overrides_line(&good, "dev", &["Edge=a b"]).is_err());
        assert_eq!(parameter_names(&edge_template(SIGN_IN_ROUTES)).len(), 5);
        assert!(problems("not toml = = 1").is_err());
        // Each mistake, and its problem. (The edge stack's region is a
        // template break, breaks.rs.)
        #[rustfmt::skip]
        let mistakes = [
            ("stack_name = \"conduit-prod\"\n", "", "[prod.deploy.parameters] lacks stack_name"),
            ("capabilities = \"CAPABILITY_IAM\"", "capabilities = \"\"", "lacks capabilities"),
            ("Environment=prod J", "Environment=dev J", "[prod.deploy.parameters] must override Environment=prod"),
            (" DomainName=\\\"\\\"", "", "[dev.deploy.parameters] must override DomainName"),
            ("Environment=dev J", "Environment=dev WebAclId=x J", "overrides WebAclId, which infra/template.yaml"),
            ("\"Environment=prod\"", "\"Environment=prod RateLimits=1\"", "overrides RateLimits, which infra/edge.yaml"),
            ("[dev.deploy.parameters]\n", "[dev.deploy.parameters]\ntemplate_file = \"x\"\n", "template_file is \"x\", expected unset"),
            ("template_file = \"infra/edge.yaml\"", "template_file = \"x\"", "template_file is \"x\", expected infra/edge.yaml"),
            ("[prod-edge.deploy.parameters]", "[prod-edges.deploy.parameters]", "[prod-edge.deploy.parameters] lacks stack_name"),
            ("[default.build.parameters]\ntemplate_file", "[default.build.parameters]\nx", "[default.build.parameters] template_file"),
        ];
        for (find, replace, reported) in mistakes {
            assert!(good.contains(find), "{find}");
            let problems = problems(&good.replacen(find, replace, 1)).unwrap();
            assert!(
                problems.iter().any(|p| p.contains(reported)),
                "{reported}: {problems:?}"
            );
        }
    }
}
