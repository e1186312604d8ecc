//! The API's explorers, bundled so they work with no internet:
//!
//! - Swagger UI for `/api/docs`: the files its page loads are taken from
//!   the Swagger UI release vendored in the `utoipa-swagger-ui-vendored`
//!   crate and embedded by `src/handlers/docs.rs`. The rest of the release
//!   (three other bundles, source maps) stays out, which keeps the docs
//!   functions within the 4 MB zip budget.
//! - GraphiQL for `/api/graphql`: its release files, vendored in
//!   `graphiql/vendor/`, gzipped here and served as they are (`Content-
//!   Encoding: gzip`): 1.5 MB become 0.6 MB, what the 4 MB budget allows.

use std::io::{Cursor, Read};
use std::path::PathBuf;

/// What `swagger/index.html` loads, besides our own initializer.
const FILES: &[&str] = &[
    "swagger-ui.css",
    "index.css",
    "swagger-ui-bundle.js",
    "swagger-ui-standalone-preset.js",
    "favicon-32x32.png",
];

/// GraphiQL's files, in `graphiql/vendor/`.
const GRAPHIQL_FILES: &[&str] = &[
    "graphiql.min.js",
    "graphiql.min.css",
    "react.production.min.js",
    "react-dom.production.min.js",
];

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    gzip_graphiql();
    extract_swagger_ui();
}

fn gzip_graphiql() {
    use std::io::Write;
    println!("cargo::rerun-if-changed=graphiql/vendor");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("graphiql");
    std::fs::create_dir_all(&out).expect("creating OUT_DIR/graphiql");
    for file in GRAPHIQL_FILES {
        let bytes = std::fs::read(format!("graphiql/vendor/{file}")).expect("a vendored file");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&bytes).expect("gzip in memory");
        let gz = gz.finish().expect("gzip in memory");
        std::fs::write(out.join(format!("{file}.gz")), gz).expect("writing to OUT_DIR");
    }
}

fn extract_swagger_ui() {
    let out =
        PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("swagger-ui");
    std::fs::create_dir_all(&out).expect("creating OUT_DIR/swagger-ui");
    let release = Cursor::new(utoipa_swagger_ui_vendored::SWAGGER_UI_VENDORED);
    let mut zip = zip::ZipArchive::new(release).expect("the vendored Swagger UI is a zip");
    let mut found = 0;
    for index in 0..zip.len() {
        let mut entry = zip.by_index(index).expect("a readable zip entry");
        // Entries are `swagger-ui-<version>/dist/<file>`.
        let Some(file) = entry
            .name()
            .expect("a UTF-8 entry name")
            .split_once("/dist/")
            .map(|(_, file)| file.to_owned())
            .filter(|file| FILES.contains(&file.as_str()))
        else {
            continue;
        };
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).expect("an intact zip entry");
        std::fs::write(out.join(&file), bytes).expect("writing to OUT_DIR");
        found += 1;
    }
    assert_eq!(
        found,
        FILES.len(),
        "the Swagger UI release lacks one of {FILES:?}"
    );
}
