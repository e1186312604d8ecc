//! `make bench`: the Conduit benchmark. Not part of `make test`: it prints
//! figures, it does not pass or fail on them.
//!
//! `conduit-bench run [--quick]` starts the release build of the local
//! stack, seeds it, runs the request mix at several concurrency levels,
//! measures every function's cold start under a Lambda Runtime API
//! emulator, compares the mix with and without the read cache on two more
//! fresh stacks, and writes
//! `docs/benchmarks.json` and `docs/benchmarks.md`.
//!
//! `conduit-bench events` measures the event-driven half (feeds at many
//! follows, fan-out, deletes, concurrent creations): see [`events`].
//!
//! `conduit-bench coldstart <binary> <function-name> <event.json> [runs]`
//! measures one binary and prints the figures as JSON.

mod coldstart;
mod events;
mod load;
mod report;
mod stack;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};

const USAGE: &str = "usage: conduit-bench run [--quick]\n       \
                     conduit-bench events\n       \
                     conduit-bench coldstart <binary> <function-name> <event.json> [runs]";

/// Concurrency levels of the mix, and the bounds of each run.
const LEVELS: &[usize] = &[1, 8, 32];
const MAX_REQUESTS: u64 = 4_000;
const MAX_SECONDS: u64 = 20;
/// The level at which the cache is compared with no cache.
const CACHE_LEVEL: usize = 8;
/// Cold starts per function (the issue asks for the median of 20).
const COLD_STARTS: usize = 20;
/// The runtime alone (bench/src/bin/lambda_baseline.rs), measured first.
pub const BASELINE: &str = "(runtime only)";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("run") => run(args.iter().any(|a| a == "--quick")).await,
        Some("coldstart") => coldstart_one(&args[1..]).await,
        Some("events") => {
            println!("{}", events::run().await?);
            eprintln!("written: docs/benchmarks-events.md");
            Ok(())
        }
        _ => bail!(USAGE),
    }
}

async fn run(quick: bool) -> anyhow::Result<()> {
    let target = PathBuf::from(std::env::var("CARGO_TARGET_DIR").unwrap_or("target".into()));
    let release = target.join("release");
    let (max_requests, cold_starts) = if quick {
        (500, 3)
    } else {
        (MAX_REQUESTS, COLD_STARTS)
    };

    let mut runs = Vec::new();
    let cold_starts = {
        let cached = stack::Stack::start(&release.join("conduit-local"), true).await?;
        let seed = Arc::new(load::seed(&cached.api).await?);
        for &concurrency in LEVELS {
            let limits = load::Limits {
                concurrency,
                max_requests,
                max_seconds: MAX_SECONDS,
            };
            eprintln!("mix: {concurrency} concurrent, cache on ...");
            let stats = load::run(&cached.api, &seed, limits, true).await;
            eprintln!("{}", report::run_table(&stats));
            runs.push(stats);
        }
        eprintln!("cold starts: {cold_starts} per function ...");
        let measured = measure_cold_starts(&release, &cached, &seed, cold_starts).await?;
        cached.stop().await;
        measured
    };

    // The cache compared on equal terms: two fresh stacks, seeded alike, the
    // same mix at the same level, one with the read cache and one without.
    let mut compared = Vec::new();
    for cache in [true, false] {
        let stack = stack::Stack::start(&release.join("conduit-local"), cache).await?;
        let seed = Arc::new(load::seed(&stack.api).await?);
        let limits = load::Limits {
            concurrency: CACHE_LEVEL,
            max_requests,
            max_seconds: MAX_SECONDS,
        };
        eprintln!(
            "mix: {CACHE_LEVEL} concurrent on a fresh stack, cache {} ...",
            if cache { "on" } else { "off" }
        );
        let stats = load::run(&stack.api, &seed, limits, cache).await;
        stack.stop().await;
        compared.push(stats);
    }
    let (cache_off, cache_on) = (
        compared.pop().expect("two runs"),
        compared.pop().expect("two runs"),
    );

    let report = report::Report::new(runs, cache_on, cache_off, cold_starts, read_sizes());
    let out = Path::new("docs");
    std::fs::write(
        out.join("benchmarks.json"),
        serde_json::to_string_pretty(&report)? + "\n",
    )?;
    let markdown = report.markdown();
    std::fs::write(out.join("benchmarks.md"), &markdown)?;
    println!("{markdown}");
    eprintln!("written: docs/benchmarks.json, docs/benchmarks.md");
    Ok(())
}

/// Every function's cold start, against the running stack's database.
async fn measure_cold_starts(
    release: &Path,
    stack: &stack::Stack,
    seed: &load::Seed,
    runs: usize,
) -> anyhow::Result<Vec<coldstart::ColdStart>> {
    let env = stack.function_env();
    let mut results = Vec::new();
    let baseline = coldstart::measure(
        &release.join("lambda_baseline"),
        BASELINE,
        &stack::event_for(&functions::routes::LIST_TAGS, seed),
        &env,
        runs,
    )
    .await?;
    eprintln!("  {BASELINE:<22} init {:>6.2} ms", baseline.init_ms_median);
    results.push(baseline);
    for route in functions::ROUTES {
        let event = stack::event_for(route, seed);
        let binary = release.join(route.name);
        let measured = coldstart::measure(&binary, route.name, &event, &env, runs)
            .await
            .with_context(|| {
                format!(
                    "{} (build it: cargo build --release -p conduit-functions)",
                    binary.display()
                )
            })?;
        eprintln!(
            "  {:<22} init {:>6.2} ms  first invoke {:>7.2} ms  peak RSS {:>6} KiB  status {:?}",
            route.name,
            measured.init_ms_median,
            measured.first_invoke_ms_median,
            measured.peak_rss_kib_median,
            measured.status
        );
        results.push(measured);
    }
    Ok(results)
}

/// The arm64 sizes `make sam-build` recorded, keyed by function name.
fn read_sizes() -> Option<serde_json::Value> {
    let raw = std::fs::read_to_string(".aws-sam/sizes.json").ok()?;
    let by_logical_id: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&raw).ok()?;
    // `AddCommentFunction` is the directory of `add_comment`.
    let normalize = |s: &str| s.replace('_', "").to_lowercase().replace("function", "");
    Some(
        functions::ROUTES
            .iter()
            .filter_map(|route| {
                let (_, sizes) = by_logical_id
                    .iter()
                    .find(|(id, _)| normalize(id) == normalize(route.name))?;
                Some((route.name.to_owned(), sizes.clone()))
            })
            .collect::<serde_json::Map<_, _>>()
            .into(),
    )
}

async fn coldstart_one(args: &[String]) -> anyhow::Result<()> {
    let [binary, function, event, rest @ ..] = args else {
        bail!(USAGE);
    };
    let runs = match rest.first() {
        Some(runs) => runs.parse().context("runs must be a number")?,
        None => 10,
    };
    let event: serde_json::Value =
        serde_json::from_slice(&std::fs::read(event).with_context(|| format!("reading {event}"))?)
            .with_context(|| format!("parsing {event}"))?;
    let env: Vec<(String, String)> = stack::FORWARDED
        .iter()
        .filter_map(|name| Some((name.to_string(), std::env::var(name).ok()?)))
        .collect();
    let result = coldstart::measure(&PathBuf::from(binary), function, &event, &env, runs).await?;
    println!("{}", serde_json::to_string_pretty(&result)?);
    Ok(())
}
