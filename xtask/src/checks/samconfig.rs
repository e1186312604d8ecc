//! samconfig.toml, read for the scripts (`samconfig ENV`) and checked
//! (`check-samconfig [FILE]`): each environment CI deploys (dev, prod) is
//! fully described, its edge stack too (`[ENV-edge.deploy.parameters]`,
//! infra/edge.yaml, in us-east-1), every override is a parameter of its
//! template, and `sam build` builds the generated template.

use toml::{Table, Value};

use crate::template::edge::{EDGE_REGION, EDGE_TEMPLATE, SIGN_IN_ROUTES, edge_template};

pub const ENVIRONMENTS: &[&str] = &["dev", "prod"];
const TEMPLATE: &str = "infra/template.yaml";

/// What a setting (a key of a deploy section, or else an override) must be.
#[derive(Clone, Copy, Debug)]
enum Want {
    /// Not empty.
    Set,
    /// Given, even empty (scripts/deploy.sh reads it).
    Given,
    Is(&'static str),
    Unset,
}
use Want::{Given, Is, Set, Unset};

/// An environment's deploy section: sam deploy then takes the built
/// template (no template_file).
const API: &[(&str, Want)] = &[
    ("stack_name", Set),
    ("region", Set),
    ("capabilities", Set),
    ("parameter_overrides", Set),
    ("template_file", Unset),
    ("JwtSecretParameterName", Given),
    ("OriginSecretParameterName", Given),
    ("DomainName", Given),
    ("HostedZoneId", Given),
];
/// Its edge stack's: CloudFront takes its web ACL and certificate from
/// us-east-1 only.
const EDGE: &[(&str, Want)] = &[
    ("stack_name", Set),
    ("parameter_overrides", Set),
    ("region", Is(EDGE_REGION)),
    ("template_file", Is(EDGE_TEMPLATE)),
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
            (env.to_string(), API, TEMPLATE, &main),
            (format!("{env}-edge"), EDGE, EDGE_TEMPLATE, &edge),
        ];
        for (section, wants, path, template) in sections {
            let table = format!("[{section}.deploy.parameters]");
            for &(key, want) in wants.iter().chain(&[("Environment", Is(env))]) {
                let got = setting(&config, &section, key);
                let ok = match want {
                    Set => got.as_ref().is_some_and(|v| match v {
                        Value::String(s) => !s.is_empty(),
                        Value::Array(items) => !items.is_empty(),
                        _ => false,
                    }),
                    Given => got.is_some(),
                    Is(value) => got.as_ref().and_then(Value::as_str) == Some(value),
                    Unset => got.is_none(),
                };
                if !ok {
                    let got = got.map_or("unset".into(), |v| v.to_string());
                    problems.push(format!("{table} {key} is {got}, expected {want:?}"));
                }
            }
            let declared = parameter_names(template);
            for (name, _) in overrides_in(&config, &section).unwrap_or_default() {
                if !declared.contains(&name.as_str()) {
                    problems.push(format!(
                        "{table} overrides {name}, which {path} does not declare"
                    ));
                }
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
    let (_, parameters) = template.split_once("\nParameters:\n").unwrap_or_default();
    let lines = parameters
        .lines()
        .take_while(|line| line.is_empty() || line.starts_with([' ', '#']));
    let names = lines.filter_map(|line| line.strip_prefix("  ")?.strip_suffix(':'));
    names
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

/// `xtask samconfig ENV`: what the scripts read of ENV's sections, as shell
/// assignments to `eval` (values single-quoted): `stack`, `region`,
/// `jwt_secret`, `origin_secret`, `edge_stack`, `edge_region`, and the
/// arrays `overrides` and `edge_overrides` (the edge's with the API's
/// DomainName and HostedZoneId), words of sam deploy's
/// `--parameter-overrides`, which replace samconfig.toml's whole: an empty
/// value as `Name=""` (sam reads a bare `Name=` as no value at all).
pub fn shell_settings(text: &str, env: &str) -> Result<String, String> {
    let edge = format!("{env}-edge");
    let quote = |word: &str| format!("'{}'", word.replace('\'', r"'\''"));
    let mut lines = Vec::new();
    let settings = [
        ("stack", env, "stack_name"),
        ("region", env, "region"),
        ("jwt_secret", env, "JwtSecretParameterName"),
        ("origin_secret", env, "OriginSecretParameterName"),
        ("edge_stack", &edge, "stack_name"),
        ("edge_region", &edge, "region"),
    ];
    for (var, section, key) in settings {
        lines.push(format!(
            "{var}={}",
            quote(&deploy_setting(text, section, key)?)
        ));
    }
    let domain = ["DomainName", "HostedZoneId"].map(|key| deploy_setting(text, env, key));
    let [domain, zone] = domain;
    let domain = vec![
        ("DomainName".into(), domain?),
        ("HostedZoneId".into(), zone?),
    ];
    let lists = [
        ("overrides", env, vec![]),
        ("edge_overrides", &edge, domain),
    ];
    for (var, section, extra) in lists {
        let mut words = Vec::new();
        for (name, value) in with_overrides(text, section, &extra)? {
            if value.contains(|c: char| c.is_whitespace() || c == '"' || c == '\'') {
                return Err(format!(
                    "{name}: {value:?} cannot be one word of sam's overrides"
                ));
            }
            let value = if value.is_empty() { "\"\"" } else { &value };
            words.push(quote(&format!("{name}={value}")));
        }
        lines.push(format!("{var}=({})", words.join(" ")));
    }
    Ok(lines.join("\n"))
}

fn pair(word: &str) -> Result<(String, String), String> {
    let (name, value) = word
        .split_once('=')
        .ok_or_else(|| format!("{word:?} is not Name=value"))?;
    Ok((name.to_owned(), value.trim_matches('"').to_owned()))
}

fn overrides_in(config: &Table, env: &str) -> Result<Overrides, String> {
    let table = format!("samconfig.toml: [{env}.deploy.parameters]");
    let words: Vec<&str> =
        match deploy_section(config, env).and_then(|d| d.get("parameter_overrides")) {
            Some(Value::String(s)) => s.split_whitespace().collect(),
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => return Err(format!("{table} has no parameter_overrides")),
        };
    let pairs = words
        .into_iter()
        .map(|word| pair(word).map_err(|err| format!("{table}: {err}")));
    pairs.collect()
}

/// A setting of `sam deploy --config-env env`: a key of
/// `[env.deploy.parameters]`, or else one of its overrides.
fn setting(config: &Table, env: &str, key: &str) -> Option<Value> {
    let overrides = || {
        overrides_in(config, env)
            .ok()?
            .into_iter()
            .find(|(name, _)| name == key)
    };
    let deploy = deploy_section(config, env)?;
    deploy
        .get(key)
        .cloned()
        .or_else(|| overrides().map(|(_, value)| Value::String(value)))
}

/// A setting of ENV ([`setting`]), a string.
pub fn deploy_setting(text: &str, env: &str, key: &str) -> Result<String, String> {
    let value = setting(&parse(text)?, env, key);
    let value =
        value.ok_or_else(|| format!("samconfig.toml: [{env}.deploy.parameters] has no {key}"))?;
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("samconfig.toml: {env}'s {key} is {value}"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repositorys_samconfig_passes_and_is_read_as_sam_reads_it() {
        let root = crate::generated::workspace_root();
        let good = std::fs::read_to_string(root.join("samconfig.toml")).unwrap();
        assert_eq!(problems(&good), Ok(vec![]));
        let setting = |text: &str, env, key| deploy_setting(text, env, key);
        assert!(setting(&good, "dev", "NoSuchParameter").is_err());
        assert!(setting(&good, "staging", "stack_name").is_err());
        // A list of words reads as the one string does.
        let listed = good.replace("= \"Environment=prod\"", "= [\"Environment=prod\"]");
        assert_eq!(
            setting(&listed, "prod-edge", "Environment").unwrap(),
            "prod"
        );
        // As the scripts read it: bash's eval.
        let read = |text: &str, env| {
            let script = r#"eval "$1" && printf '%s|' "$stack" "$region" "$jwt_secret" \
                "$origin_secret" "$edge_stack" "$edge_region" "${overrides[@]}" : "${edge_overrides[@]}""#;
            let out = std::process::Command::new("bash")
                .args(["-c", script, "bash", &shell_settings(text, env)?])
                .output()
                .unwrap();
            assert!(out.status.success(), "{out:?}");
            Ok::<_, String>(String::from_utf8(out.stdout).unwrap())
        };
        let want = "conduit-dev|us-east-1|/conduit/dev/jwt-secret|/conduit/dev/origin-secret|\
            conduit-dev-edge|us-east-1|Environment=dev|JwtSecretParameterName=/conduit/dev/jwt-secret|\
            OriginSecretParameterName=/conduit/dev/origin-secret|DomainName=\"\"|HostedZoneId=\"\"|:|\
            Environment=dev|DomainName=\"\"|HostedZoneId=\"\"|";
        assert_eq!(read(&good, "dev").unwrap(), want);
        let other = good
            .replace("stack_name = \"conduit-dev\"", "stack_name = \"it's\"")
            .replace(
                r#"DomainName=\"\" HostedZoneId=\"\"""#,
                "DomainName=a.example.com HostedZoneId=Z1\"",
            );
        let read = read(&other, "dev").unwrap();
        assert!(read.starts_with("it's|"), "{read}");
        assert!(
            read.ends_with(":|Environment=dev|DomainName=a.example.com|HostedZoneId=Z1|"),
            "{read}"
        );
        let quoted = good.replace("Environment=dev J", "Environment=dev Edge=it's J");
        assert!(shell_settings(&quoted, "dev").is_err());
        assert!(shell_settings(&good, "staging").is_err());
        assert_eq!(parameter_names(&edge_template(SIGN_IN_ROUTES)).len(), 5);
        assert!(problems("not toml = = 1").is_err());
        // Each mistake, and its problem. (The edge stack's region is a
        // template break, breaks.rs.)
        #[rustfmt::skip]
        let mistakes = [
            ("stack_name = \"conduit-prod\"\n", "", "[prod.deploy.parameters] stack_name is unset, expected Set"),
            ("capabilities = \"CAPABILITY_IAM\"", "capabilities = \"\"", "capabilities is \"\", expected Set"),
            ("Environment=prod J", "Environment=dev J", "[prod.deploy.parameters] Environment is \"dev\", expected Is(\"prod\")"),
            (" DomainName=\\\"\\\"", "", "[dev.deploy.parameters] DomainName is unset, expected Given"),
            ("Environment=dev J", "Environment=dev WebAclId=x J", "overrides WebAclId, which infra/template.yaml"),
            ("\"Environment=prod\"", "\"Environment=prod RateLimits=1\"", "overrides RateLimits, which infra/edge.yaml"),
            ("[dev.deploy.parameters]\n", "[dev.deploy.parameters]\ntemplate_file = \"x\"\n", "template_file is \"x\", expected Unset"),
            ("template_file = \"infra/edge.yaml\"", "template_file = \"x\"", "template_file is \"x\", expected Is(\"infra/edge.yaml\")"),
            ("[prod-edge.deploy.parameters]", "[prod-edges.deploy.parameters]", "[prod-edge.deploy.parameters] stack_name is unset"),
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
