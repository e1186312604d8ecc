//! `xtask check-no-openssl`: no OpenSSL in the functions' dependency tree
//! as deployed (normal dependencies, arm64 Linux). OpenSSL would mean a
//! second TLS stack, a larger binary and a slower cold start; the SDK is
//! configured for rustls (with aws-lc) only.
//!
//! Reads `cargo tree`, not `cargo metadata`: cargo tree applies the feature
//! resolver to this one package on this one target, while the resolve graph
//! of `cargo metadata` unifies features across the whole workspace
//! (rust-lang/cargo#7754), so another member's OpenSSL would show up here.

use std::path::Path;

/// What OpenSSL looks like in a dependency tree.
const OPENSSL: &[&str] = &["openssl-sys", "openssl"];

pub fn run(root: &Path) -> Result<(), String> {
    let tree = crate::checks::cargo(
        root,
        &[
            "tree",
            "--quiet",
            "--package=conduit-functions",
            "--edges=normal",
            "--target=aarch64-unknown-linux-gnu",
            "--prefix=depth",
        ],
    )?;
    match find_openssl(&tree)? {
        None => {
            println!("no OpenSSL in conduit-functions' dependencies (arm64)");
            Ok(())
        }
        Some(chain) => Err(format!(
            "OpenSSL is in the functions' dependency tree: {}",
            chain.join(" -> ")
        )),
    }
}

/// In `cargo tree --prefix depth` output, the chain of packages from the
/// root to the first OpenSSL package, if any.
pub fn find_openssl(tree: &str) -> Result<Option<Vec<String>>, String> {
    let mut chain: Vec<String> = Vec::new();
    let mut lines = 0;
    for line in tree.lines().filter(|line| !line.trim().is_empty()) {
        let digits = line
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(line.len());
        let depth: usize = line[..digits]
            .parse()
            .map_err(|_| format!("not `cargo tree --prefix depth` output: {line:?}"))?;
        let name = line[digits..].split_whitespace().next().unwrap_or_default();
        if depth > chain.len() {
            return Err(format!("a dependency without a parent: {line:?}"));
        }
        chain.truncate(depth);
        chain.push(name.to_owned());
        lines += 1;
        if OPENSSL.contains(&name) {
            return Ok(Some(chain));
        }
    }
    if lines == 0 {
        return Err("cargo tree printed no packages".to_owned());
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLEAN: &str = "\
0conduit-functions v0.1.0 (/work/functions)
1conduit-common v0.1.0 (/work/common)
2aws-sdk-dynamodb v1.136.0
3hyper-rustls v0.27.10
4rustls v0.23.46
5aws-lc-rs v1.15.0
3openssl-probe v0.2.2
1serde_json v1.0.145
2serde v1.0.228 (*)
";

    #[test]
    fn a_tree_without_openssl_passes() {
        // openssl-probe only looks for certificate files: no OpenSSL.
        assert_eq!(find_openssl(CLEAN), Ok(None));
    }

    #[test]
    fn openssl_is_found_with_the_chain_that_pulls_it_in() {
        let tree = format!(
            "{CLEAN}1reqwest v0.12.0\n2hyper v1.0.0\n2native-tls v0.2.14\n3openssl-sys v0.9.109\n"
        );
        assert_eq!(
            find_openssl(&tree).unwrap().unwrap(),
            ["conduit-functions", "reqwest", "native-tls", "openssl-sys"]
        );
        // Also where cargo tree only refers back to it.
        let tree = "0conduit-functions v0.1.0\n1openssl v0.10.0 (*)\n";
        assert_eq!(
            find_openssl(tree).unwrap().unwrap(),
            ["conduit-functions", "openssl"]
        );
    }

    #[test]
    fn output_that_is_not_a_depth_prefixed_tree_is_an_error() {
        assert!(find_openssl("").is_err());
        assert!(find_openssl("conduit-functions v0.1.0\n").is_err());
        assert!(find_openssl("0conduit-functions v0.1.0\n2skipped v1.0.0\n").is_err());
    }
}
