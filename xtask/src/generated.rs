//! Every file derived from the route and consumer tables, in one list: `make generate`
//! writes them all, and a test fails while any committed one is not what
//! its generator makes (or a binary shim is left over from a removed route).

use std::path::{Path, PathBuf};

use crate::{shims, template, watch_router};

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_owned()
}

/// `functions/openapi.json`, which the `openapi` function serves as it is:
/// no document is built at run time, and that function's binary does not
/// carry every handler and schema.
pub fn openapi_json() -> String {
    let mut json = functions::openapi::document(functions::ROUTES)
        .to_pretty_json()
        .expect("the OpenAPI document serializes");
    json.push('\n');
    json
}

/// Each generated file's path (from the workspace root) and content.
pub fn files(root: &Path) -> Result<Vec<(String, String)>, String> {
    let routes = functions::ROUTES;
    let cargo_toml = std::fs::read_to_string(root.join("Cargo.toml"))
        .map_err(|err| format!("reading Cargo.toml: {err}"))?;
    let mut files = vec![
        (
            "infra/template.yaml".to_owned(),
            template::sam_template(routes, functions::CONSUMERS),
        ),
        ("functions/openapi.json".to_owned(), openapi_json()),
        (
            "Cargo.toml".to_owned(),
            watch_router::with_router(&cargo_toml, routes)?,
        ),
    ];
    files.extend(shims::all());
    Ok(files)
}

/// Writes every generated file that changed.
pub fn write_all(root: &Path) -> Result<(), String> {
    for (path, content) in files(root)? {
        let full = root.join(&path);
        if std::fs::read_to_string(&full).ok().as_deref() != Some(content.as_str()) {
            std::fs::write(&full, content).map_err(|err| format!("writing {path}: {err}"))?;
            println!("wrote {path}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_generated_file_is_what_its_generator_makes() {
        let root = workspace_root();
        let mut stale = Vec::new();
        for (path, generated) in files(&root).unwrap() {
            let committed = std::fs::read_to_string(root.join(&path)).unwrap_or_default();
            if committed != generated {
                // The first differing line, not two 100 kB strings.
                let line = committed
                    .lines()
                    .zip(generated.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()));
                stale.push(format!("{path} (first difference at line {})", line + 1));
            }
        }
        assert!(
            stale.is_empty(),
            "not what the generators make from the code: {}. Do not edit them by hand; \
             run `make generate`",
            stale.join(", ")
        );
    }

    #[test]
    fn every_binary_serves_a_route_or_a_consumer() {
        let root = workspace_root();
        let shims: Vec<String> = shims::all().into_iter().map(|(path, _)| path).collect();
        for entry in std::fs::read_dir(root.join(shims::DIR)).unwrap() {
            let path = format!(
                "{}/{}",
                shims::DIR,
                entry.unwrap().file_name().to_string_lossy()
            );
            assert!(
                shims.contains(&path),
                "{path} serves no route or consumer: remove it"
            );
        }
    }
}
