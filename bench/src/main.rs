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
//! `conduit-bench tokens` compares the token algorithms' cost and size:
//! see [`tokens`].
//!
//! `conduit-bench events` measures the event-driven half (feeds at many
//! follows, fan-out, deletes, concurrent creations): see [`events`].
//!
//! `conduit-bench cold [runs] [function ...]` measures only the cold
//! requests (of the functions named, or all) and prints their table;
//! `BENCH_FUNCTIONS_DIR` points it at another build of the functions (one
//! with symbols, under `perf record -a`), `BENCH_CPU_PERIOD_US` sets the
//! quota's period. `BENCH_DELAY_MS` sets `run`'s delay per DynamoDB call.
//!
//! `conduit-bench coldstart <binary> <function-name> <event.json> [runs]`
//! measures one binary and prints the figures as JSON.

mod coldstart;
mod cpu_share;
mod delay;
mod events;
mod load;
mod report;
mod stack;
mod tls;
mod tokens;
mod traces;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};

const USAGE: &str = "usage: conduit-bench run [--quick]\n       \
                     conduit-bench cold [runs] [function ...]\n       \
                     conduit-bench events\n       \
                     conduit-bench tokens\n       \
                     conduit-bench traces\n       \
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
/// The CFS period of the CPU-share runs, in µs; `BENCH_CPU_PERIOD_US`
/// overrides it. Not the kernel's default of 100 ms: a 256 MB share of it
/// is 14.5 ms, during which a cold start that needs less runs at a whole
/// core's speed unthrottled. At 20 ms the share holds after 2.9 ms (1.4 ms
/// at 128 MB, near the kernel's 1 ms floor for a quota), closer to a
/// process that only ever gets its share, the conservative reading.
const CPU_PERIOD_US: u64 = 20_000;
/// The memory of a function that does not say (the template's Globals).
const DEFAULT_MEMORY_MB: u32 = 256;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("run") => run(args.iter().any(|a| a == "--quick")).await,
        Some("coldstart") => coldstart_one(&args[1..]).await,
        Some("cold") => cold(&args[1..]).await,
        Some("tokens") => {
            let report = tokens::run()?;
            std::fs::write("docs/benchmarks-tokens.md", &report)?;
            println!("{report}");
            eprintln!("written: docs/benchmarks-tokens.md");
            Ok(())
        }
        Some("traces") => {
            println!("{}", traces::run().await?);
            eprintln!("written: docs/benchmarks-traces.md");
            Ok(())
        }
        Some("events") => {
            println!("{}", events::run().await?);
            eprintln!("written: docs/benchmarks-events.md");
            Ok(())
        }
        _ => bail!(USAGE),
    }
}

/// Where `cargo build --release` put the binaries.
fn release_dir() -> PathBuf {
    PathBuf::from(std::env::var("CARGO_TARGET_DIR").unwrap_or("target".into())).join("release")
}

async fn run(quick: bool) -> anyhow::Result<()> {
    let release = release_dir();
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
        let measured = measure_cold_starts(&release, &cached, &seed, cold_starts, &[]).await?;
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

    let delay = match std::env::var("BENCH_DELAY_MS") {
        Ok(ms) => {
            Duration::from_secs_f64(ms.parse::<f64>().context("BENCH_DELAY_MS: a number")? / 1e3)
        }
        Err(_) => delay::DEFAULT_DELAY,
    };
    let latency = delay::run(&release.join("conduit-local"), delay, max_requests / 4).await?;
    eprintln!("{}", latency.markdown());

    let report = report::Report::new(
        runs,
        cache_on,
        cache_off,
        cold_starts,
        Some(latency),
        read_sizes(),
    );
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

/// Every function's cold start, against the running stack's database
/// reached over TLS, with the JWT secret read from Parameter Store over
/// TLS: on a whole core, then held to the CPU share of its memory size.
/// The runtime alone is measured first in each setting.
async fn measure_cold_starts(
    release: &Path,
    stack: &stack::Stack,
    seed: &load::Seed,
    runs: usize,
    only: &[String],
) -> anyhow::Result<report::ColdStarts> {
    let period_us = match std::env::var("BENCH_CPU_PERIOD_US") {
        Ok(v) => v.parse().context("BENCH_CPU_PERIOD_US must be a number")?,
        Err(_) => CPU_PERIOD_US,
    };
    let endpoints = stack.tls_endpoints().await?;
    let memory = |route: &conduit_common::http::Route| {
        route.deploy.memory.map_or(DEFAULT_MEMORY_MB, |(mb, _)| mb)
    };
    let mut sizes: Vec<u32> = functions::ROUTES.iter().map(|r| memory(r)).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let shares = sizes
        .iter()
        .map(|&mb| cpu_share::CpuShare::for_memory(mb, period_us))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let baseline_event = stack::event_for(&functions::routes::LIST_TAGS, seed);
    // Another build of the functions (one with symbols, for a profiler).
    let functions_dir = std::env::var("BENCH_FUNCTIONS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| release.to_owned());

    let mut measured = report::ColdStarts {
        period_us,
        whole_core: Vec::new(),
        at_share: Vec::new(),
    };
    let one = |binary: PathBuf, name: &'static str, event: serde_json::Value, mb: u32, share| {
        let env = stack.tls_function_env(&endpoints, mb);
        async move {
            coldstart::measure(&binary, name, &event, &env, runs, share)
                .await
                .with_context(|| {
                    format!(
                        "{} (build it: cargo build --release -p conduit-functions -p conduit-bench)",
                        binary.display()
                    )
                })
        }
    };
    for share in std::iter::once(None).chain(shares.iter().map(Some)) {
        let setting = share.map_or("whole core".to_owned(), |s| {
            format!("{} MB share ({:.3} vCPU)", s.memory_mb, s.vcpu())
        });
        let out = if share.is_some() {
            &mut measured.at_share
        } else {
            &mut measured.whole_core
        };
        let mb = share.map_or(DEFAULT_MEMORY_MB, |s| s.memory_mb);
        let baseline = one(
            release.join("lambda_baseline"),
            BASELINE,
            baseline_event.clone(),
            mb,
            share,
        )
        .await?;
        eprintln!(
            "  {setting}: {BASELINE:<22} init {:>7.2} ms",
            baseline.init_ms_median
        );
        out.push(baseline);
        // One cold start per function: a function serving several methods
        // (graphql) is measured with its first route's event.
        let first_of_function = |(i, route): &(usize, &&conduit_common::http::Route)| {
            !functions::ROUTES[..*i]
                .iter()
                .any(|r| r.function == route.function)
        };
        for (_, route) in functions::ROUTES
            .iter()
            .enumerate()
            .filter(first_of_function)
        {
            // At a share, each function runs at its own memory size's.
            if share.is_some_and(|s| s.memory_mb != memory(route))
                || !(only.is_empty() || only.iter().any(|name| name == route.function))
            {
                continue;
            }
            let c = one(
                functions_dir.join(route.function),
                route.function,
                stack::event_for(route, seed),
                memory(route),
                share,
            )
            .await?;
            eprintln!(
                "  {setting}: {:<22} init {:>7.2} ms  first {:>7.2} ms  warm {:>6.2} ms  cpu {:>6.2} ms  status {:?}",
                route.name,
                c.init_ms_median,
                c.first_invoke_ms_median,
                c.warm_invoke_ms_median,
                c.cold_cpu_ms_median,
                c.status
            );
            out.push(c);
        }
    }
    Ok(measured)
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

async fn cold(args: &[String]) -> anyhow::Result<()> {
    let (runs, only) = match args.first().map(|a| a.parse::<usize>()) {
        Some(Ok(runs)) => (runs, &args[1..]),
        _ => (COLD_STARTS, args),
    };
    let release = release_dir();
    let stack = stack::Stack::start(&release.join("conduit-local"), true).await?;
    let seed = load::seed(&stack.api).await?;
    let measured = measure_cold_starts(&release, &stack, &seed, runs, only).await;
    stack.stop().await;
    println!("{}", report::cold_table(&measured?, None));
    Ok(())
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
    let result =
        coldstart::measure(&PathBuf::from(binary), function, &event, &env, runs, None).await?;
    println!("{}", serde_json::to_string_pretty(&result)?);
    Ok(())
}
