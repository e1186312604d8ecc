//! `xtask check-artifacts BUILD_DIR [SIZES_JSON]`, after `sam build`: each
//! function's `BUILD_DIR/<logical id>/bootstrap`, raw and zipped, in a
//! table (and in SIZES_JSON for `make bench`); fails if a function has
//! none, or a zip is over [`BUDGET`]: cold starts grow with the code Lambda
//! loads. (Deflate level 9: `sam deploy`'s zip comes out about 1% larger.)

use std::io::{Cursor, Write};
use std::path::Path;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// Bytes, per zipped function.
pub const BUDGET: u64 = 4_000_000;

/// A function's logical id, its bootstrap's size and its zip's.
type Artifact = (String, u64, u64);

pub fn run(build_dir: &str, sizes_json: Option<&str>) -> Result<(), String> {
    let ids = crate::template::function_names()
        .map(|name| format!("{}Function", crate::template::logical_id(name)));
    let mut artifacts = Vec::new();
    for id in ids {
        let bootstrap = Path::new(build_dir).join(&id).join("bootstrap");
        let bytes = std::fs::read(&bootstrap)
            .map_err(|err| format!("{}: {err} (every function needs one)", bootstrap.display()))?;
        artifacts.push((id, bytes.len() as u64, zipped_size(&bytes)?));
    }
    artifacts.sort();
    print!("{}", table(&artifacts));
    if let Some(path) = sizes_json {
        std::fs::write(path, sizes(&artifacts)).map_err(|err| format!("writing {path}: {err}"))?;
    }
    check_budget(&artifacts, BUDGET)?;
    println!("every zip within the {} budget", mb(BUDGET).trim());
    Ok(())
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
    let over: Vec<&str> = (artifacts.iter())
        .filter(|(_, _, zip)| *zip > budget)
        .map(|(id, _, _)| id.as_str())
        .collect();
    match over.as_slice() {
        [] => Ok(()),
        over => Err(format!(
            "over the {} zip budget: {}",
            mb(budget).trim(),
            over.join(", ")
        )),
    }
}

fn mb(bytes: u64) -> String {
    format!("{:9.2} MB", bytes as f64 / 1e6)
}

pub fn table(artifacts: &[Artifact]) -> String {
    let row = |name: &str, raw, zip| format!("{name:<28}{}{}\n", mb(raw), mb(zip));
    let mut out = format!("\n{:<28}{:>12}{:>12}\n", "function", "bootstrap", "zipped");
    for (id, raw, zip) in artifacts {
        out += &row(id, *raw, *zip);
    }
    let total = format!("total ({} functions)", artifacts.len());
    let sum = |size: fn(&Artifact) -> u64| artifacts.iter().map(size).sum();
    out + &row(&total, sum(|a| a.1), sum(|a| a.2))
}

/// `{"<function>": {"bootstrap_bytes": n, "zip_bytes": n}, ...}`.
pub fn sizes(artifacts: &[Artifact]) -> String {
    let map: serde_json::Map<String, serde_json::Value> = (artifacts.iter())
        .map(|(id, raw, zip)| {
            (
                id.clone(),
                serde_json::json!({"bootstrap_bytes": raw, "zip_bytes": zip}),
            )
        })
        .collect();
    serde_json::to_string_pretty(&map).expect("sizes serialize") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_inclusive_and_names_every_function_over_it() {
        let a = |id: &str, zip| (id.to_owned(), 2 * zip, zip);
        assert_eq!(
            check_budget(&[a("A", 4_000_000), a("B", 10)], BUDGET),
            Ok(())
        );
        let over = [a("A", 4_000_001), a("B", 10), a("C", 5_000_000)];
        let err = check_budget(&over, BUDGET).unwrap_err();
        assert_eq!(err, "over the 4.00 MB zip budget: A, C");
        let table = table(&over);
        assert!(
            table.contains("A                                8.00 MB     4.00 MB"),
            "{table}"
        );
        assert!(table.contains("total (3 functions)"), "{table}");
        let sizes: serde_json::Value = serde_json::from_str(&sizes(&over)).unwrap();
        assert_eq!(sizes["B"]["bootstrap_bytes"], 20);
        assert!(zipped_size(&[b'x'; 1_000_000]).unwrap() < 5_000);
    }

    #[test]
    fn a_build_missing_a_function_is_an_error() {
        let err = run("/nonexistent", None).unwrap_err();
        assert!(err.contains("Function/bootstrap") && err.contains("every function needs one"));
    }
}
