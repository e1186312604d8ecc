//! `xtask check-artifacts BUILD_DIR [SIZES_JSON]`, after `sam build`: each
//! function's `BUILD_DIR/<function>/bootstrap`, raw and zipped, in a table;
//! fails if a function of the template has none, or if any zip is over
//! [`BUDGET`] (cold starts grow with the code
//! Lambda has to fetch and load). With SIZES_JSON, also writes the sizes
//! there for `make bench`, which reports them beside the cold starts.
//!
//! The zip is deflate level 9 (zlib-rs). What `sam deploy` uploads (Python's
//! zipfile, zlib's default level) comes out about 1% larger; zlib-rs at its
//! default level, 5% larger. Lambda's own limits are 50 MB zipped (direct
//! upload) and 250 MB unzipped.

use std::io::{Cursor, Write};
use std::path::Path;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// Bytes, per zipped function.
pub const BUDGET: u64 = 4_000_000;

#[derive(Debug, PartialEq)]
pub struct Artifact {
    /// The function's directory under the build dir (its logical id).
    pub name: String,
    pub bootstrap_bytes: u64,
    pub zip_bytes: u64,
}

pub fn run(build_dir: &str, sizes_json: Option<&str>) -> Result<(), String> {
    let artifacts = measure(Path::new(build_dir))?;
    let expected: Vec<String> = crate::template::function_names()
        .map(|name| format!("{}Function", crate::template::logical_id(name)))
        .collect();
    check_complete(&artifacts, &expected)?;
    print!("{}", table(&artifacts));
    if let Some(path) = sizes_json {
        std::fs::write(path, sizes(&artifacts)).map_err(|err| format!("writing {path}: {err}"))?;
    }
    check_budget(&artifacts, BUDGET)?;
    println!("every zip within the {} budget", mb(BUDGET).trim());
    Ok(())
}

/// Every `<dir>/<function>/bootstrap`, by function name.
pub fn measure(build_dir: &Path) -> Result<Vec<Artifact>, String> {
    let entries = std::fs::read_dir(build_dir)
        .map_err(|err| format!("reading {}: {err}", build_dir.display()))?;
    let mut artifacts = Vec::new();
    for entry in entries {
        let dir = entry.map_err(|err| format!("reading {}: {err}", build_dir.display()))?;
        let bootstrap = dir.path().join("bootstrap");
        if !bootstrap.is_file() {
            continue;
        }
        let bytes = std::fs::read(&bootstrap)
            .map_err(|err| format!("reading {}: {err}", bootstrap.display()))?;
        artifacts.push(Artifact {
            name: dir.file_name().to_string_lossy().into_owned(),
            bootstrap_bytes: bytes.len() as u64,
            zip_bytes: zipped_size(&bytes)?,
        });
    }
    if artifacts.is_empty() {
        return Err(format!("no {}/*/bootstrap", build_dir.display()));
    }
    artifacts.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(artifacts)
}

/// Every function of the template was built: a missing bootstrap would
/// otherwise pass the budget unnoticed, and fail only at deploy.
pub fn check_complete(artifacts: &[Artifact], expected: &[String]) -> Result<(), String> {
    let missing: Vec<&str> = expected
        .iter()
        .filter(|name| !artifacts.iter().any(|artifact| &artifact.name == *name))
        .map(String::as_str)
        .collect();
    match missing.as_slice() {
        [] => Ok(()),
        missing => Err(format!(
            "{} of {} functions have no bootstrap: {}",
            missing.len(),
            expected.len(),
            missing.join(", ")
        )),
    }
}

/// The size of a zip holding `bootstrap` (executable) with these bytes.
pub fn zipped_size(bootstrap: &[u8]) -> Result<u64, String> {
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(9))
        .unix_permissions(0o755)
        .large_file(bootstrap.len() as u64 >= u64::from(u32::MAX));
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    zip.start_file("bootstrap", options)
        .and_then(|()| zip.write_all(bootstrap).map_err(Into::into))
        .map_err(|err| format!("zipping: {err}"))?;
    let zipped = zip.finish().map_err(|err| format!("zipping: {err}"))?;
    Ok(zipped.into_inner().len() as u64)
}

/// Fails naming every function whose zip is over `budget` bytes.
pub fn check_budget(artifacts: &[Artifact], budget: u64) -> Result<(), String> {
    let over: Vec<&str> = artifacts
        .iter()
        .filter(|a| a.zip_bytes > budget)
        .map(|a| a.name.as_str())
        .collect();
    if over.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "over the {} zip budget: {}",
            mb(budget).trim(),
            over.join(", ")
        ))
    }
}

fn mb(bytes: u64) -> String {
    format!("{:9.2} MB", bytes as f64 / 1e6)
}

pub fn table(artifacts: &[Artifact]) -> String {
    let mut out = format!("\n{:<28}{:>12}{:>12}\n", "function", "bootstrap", "zipped");
    for a in artifacts {
        out += &format!(
            "{:<28}{}{}\n",
            a.name,
            mb(a.bootstrap_bytes),
            mb(a.zip_bytes)
        );
    }
    let total = |size: fn(&Artifact) -> u64| mb(artifacts.iter().map(size).sum());
    out += &format!(
        "{:<28}{}{}\n",
        format!("total ({} functions)", artifacts.len()),
        total(|a| a.bootstrap_bytes),
        total(|a| a.zip_bytes)
    );
    out
}

/// `{"<function>": {"bootstrap_bytes": n, "zip_bytes": n}, ...}`.
pub fn sizes(artifacts: &[Artifact]) -> String {
    let map: serde_json::Map<String, serde_json::Value> = artifacts
        .iter()
        .map(|a| {
            let sizes =
                serde_json::json!({"bootstrap_bytes": a.bootstrap_bytes, "zip_bytes": a.zip_bytes});
            (a.name.clone(), sizes)
        })
        .collect();
    serde_json::to_string_pretty(&map).expect("sizes serialize") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::TempDir;

    fn artifact(name: &str, zip_bytes: u64) -> Artifact {
        Artifact {
            name: name.to_owned(),
            bootstrap_bytes: 2 * zip_bytes,
            zip_bytes,
        }
    }

    #[test]
    fn the_budget_is_inclusive_and_names_every_function_over_it() {
        let at = [artifact("A", 4_000_000), artifact("B", 10)];
        assert_eq!(check_budget(&at, BUDGET), Ok(()));
        let over = [
            artifact("A", 4_000_001),
            artifact("B", 10),
            artifact("C", 5_000_000),
        ];
        assert_eq!(
            check_budget(&over, BUDGET),
            Err("over the 4.00 MB zip budget: A, C".to_owned())
        );
    }

    #[test]
    fn a_zip_is_about_its_deflated_content_plus_the_headers() {
        let repetitive = vec![b'x'; 1_000_000];
        let size = zipped_size(&repetitive).unwrap();
        assert!(size < 5_000, "{size}");
        // Incompressible bytes (a fixed pseudo-random sequence) stay their size.
        let mut state = 0x2545_f491_u32;
        let noise: Vec<u8> = (0..100_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state as u8
            })
            .collect();
        let size = zipped_size(&noise).unwrap();
        assert!((100_000..100_300).contains(&size), "{size}");
    }

    #[test]
    fn measures_each_functions_bootstrap_and_skips_other_entries() {
        let build = TempDir::new("artifacts");
        for (name, bytes) in [("GetTagsFunction", 3000), ("AddCommentFunction", 1000)] {
            std::fs::create_dir(build.0.join(name)).unwrap();
            std::fs::write(build.0.join(name).join("bootstrap"), vec![7u8; bytes]).unwrap();
        }
        std::fs::create_dir(build.0.join("NoBinary")).unwrap();
        std::fs::write(build.0.join("template.yaml"), "").unwrap();

        let artifacts = measure(&build.0).unwrap();
        let names: Vec<&str> = artifacts.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["AddCommentFunction", "GetTagsFunction"]);
        assert_eq!(artifacts[0].bootstrap_bytes, 1000);
        assert!(artifacts[0].zip_bytes < 1000);

        let table = table(&artifacts);
        assert!(table.contains("total (2 functions)"), "{table}");
        assert!(
            table.contains("AddCommentFunction               0.00 MB"),
            "{table}"
        );
        let sizes: serde_json::Value = serde_json::from_str(&sizes(&artifacts)).unwrap();
        assert_eq!(sizes["GetTagsFunction"]["bootstrap_bytes"], 3000);
    }

    #[test]
    fn a_build_missing_a_function_is_an_error() {
        let expected = [
            "AddCommentFunction".to_owned(),
            "GetTagsFunction".to_owned(),
        ];
        let one = [artifact("AddCommentFunction", 1)];
        let err = check_complete(&one, &expected).unwrap_err();
        assert_eq!(err, "1 of 2 functions have no bootstrap: GetTagsFunction");
        let both = [
            artifact("AddCommentFunction", 1),
            artifact("GetTagsFunction", 1),
        ];
        check_complete(&both, &expected).unwrap();
    }

    #[test]
    fn an_empty_build_dir_is_an_error() {
        let build = TempDir::new("artifacts-empty");
        assert!(measure(&build.0).unwrap_err().starts_with("no "));
        assert!(measure(&build.0.join("missing")).is_err());
    }
}
