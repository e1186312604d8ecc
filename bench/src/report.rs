//! The benchmark's results: JSON for machines, a Markdown page for people.

use std::fmt::Write;

use serde::Serialize;

use crate::coldstart::ColdStart;
use crate::load::RunStats;

#[derive(Debug, Serialize)]
pub struct Report {
    pub machine: Machine,
    pub commit: String,
    pub date: String,
    /// The mix at each concurrency level, read cache on.
    pub runs: Vec<RunStats>,
    /// The same mix on two fresh stacks, read cache on and off.
    pub cache_on: RunStats,
    pub cache_off: RunStats,
    pub cold_starts: ColdStarts,
    /// The mix one client at a time with a delay before every DynamoDB call
    /// (and without, through the same proxy), read cache off.
    pub latency: Option<crate::delay::LatencyRuns>,
    /// arm64 `bootstrap` and zip sizes from `make sam-build`, by function.
    pub sizes: Option<serde_json::Value>,
}

#[derive(Debug, Serialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub memory_gib: f64,
    pub kernel: String,
}

fn command_output(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

impl Machine {
    fn this() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let field = |text: &str, name: &str| {
            text.lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split(':').nth(1))
                .map(|v| v.trim().to_owned())
                .unwrap_or_default()
        };
        let mem_kib: f64 = field(&meminfo, "MemTotal")
            .trim_end_matches(" kB")
            .parse()
            .unwrap_or(0.0);
        Self {
            cpu: field(&cpuinfo, "model name"),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_gib: (mem_kib / 1024.0 / 1024.0 * 10.0).round() / 10.0,
            kernel: command_output("uname", &["-sr"]),
        }
    }
}

impl Report {
    pub fn new(
        runs: Vec<RunStats>,
        cache_on: RunStats,
        cache_off: RunStats,
        cold_starts: ColdStarts,
        latency: Option<crate::delay::LatencyRuns>,
        sizes: Option<serde_json::Value>,
    ) -> Self {
        let dirty =
            !command_output("git", &["status", "--porcelain", "--untracked-files=no"]).is_empty();
        let commit = command_output("git", &["rev-parse", "--short", "HEAD"]);
        Self {
            machine: Machine::this(),
            commit: if dirty {
                format!("{commit} (with uncommitted changes)")
            } else {
                commit
            },
            date: command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
            runs,
            cache_on,
            cache_off,
            cold_starts,
            latency,
            sizes,
        }
    }

    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let m = &self.machine;
        let _ = writeln!(
            md,
            "# Benchmarks\n\n\
             Written by `make bench` (bench/): do not edit by hand. Machine: {} ({} cores, \
             {} GiB, {}); commit {}; {}.\n\n\
             The local stack is the release build of `conduit-local`: every route in one \
             process on the embedded DynamoDB-compatible engine (SQLite), which answers the SDK's \
             requests in-process (local/src/engine.rs). \
             Latencies are those of this machine, not of Lambda and DynamoDB. What carries \
             over to AWS: the DynamoDB round trips per request (counted by an SDK interceptor, \
             retries included) and, roughly, the capacity units (as the embedded engine \
             reports them through `ReturnConsumedCapacity`; DynamoDB bills transactional \
             writes double, and a failed conditional write consumes capacity it does not \
             report back). CPU time is measured on this x86-64 machine, not on arm64 at \
             Lambda's fraction of a vCPU. All come back in each response's `Server-Timing` \
             header. Latency, rates and costs are of successful requests; errors are counted \
             apart. \"Documented\" is the access pattern's round trips from \
             [data-model.md](data-model.md), before the read cache.\n",
            m.cpu, m.cores, m.memory_gib, m.kernel, self.commit, self.date
        );
        let _ = writeln!(md, "## The request mix\n");
        let _ = writeln!(
            md,
            "{}\n\n\
             *CPU ms* is the handler's own CPU time per request (the thread CPU clock over \
             each poll of the request, plus password hashing on the blocking pool); *CPU \
             share* divides it by the request's time inside the server. At 1 client that time \
             is our CPU plus waiting on the database, and the database here is SQLite in the \
             same process, answering in a fraction of a millisecond; in AWS a DynamoDB round \
             trip takes a few milliseconds, so the same CPU time is a much smaller share. \
             Register and login spend theirs on argon2id, by design. With more clients the \
             server time also includes queueing for this machine's cores.\n",
            crate::load::describe()
        );
        if let Some((fixed, per_call)) = self.runs.first().and_then(cpu_per_call) {
            let _ = writeln!(
                md,
                "Where the CPU goes: fitted over the endpoints without password hashing at 1 \
                 client, a request costs about {fixed:.3} ms of CPU plus {per_call:.3} ms per \
                 DynamoDB call (the SDK's serialization, request signing and HTTP client), so \
                 fewer round trips also mean less CPU. Lambda gives a function CPU in \
                 proportion to its memory (one vCPU at 1769 MB): at the 256 MB of the read \
                 functions these figures take about 7 times longer.\n"
            );
        }
        for run in &self.runs {
            md += &run_table(run);
            md.push('\n');
        }
        md += &self.cache_table();
        if let Some(latency) = &self.latency {
            md += &latency.markdown();
        }
        md += &self.function_table();
        md
    }

    fn cache_table(&self) -> String {
        let mut md = String::new();
        let (on, off) = (&self.cache_on, &self.cache_off);
        let _ = writeln!(
            md,
            "## What the read cache saves\n\n\
             The same mix at {} concurrent clients on two fresh stacks seeded alike, with \
             `CACHE_TTL_SECONDS=0` (off) and the default 10 s (on): DynamoDB round trips and \
             read units per successful request. The local server is one process with one \
             cache for every route, so this is an upper bound: in AWS each function instance \
             warms its own.\n\n\
             | endpoint | calls, off | calls, on | saved | RCU, off | RCU, on |\n|---|---:|---:|---:|---:|---:|",
            on.limits.concurrency
        );
        let mut total = (0.0, 0, 0.0, 0);
        for e_off in &off.endpoints {
            let Some(e_on) = on.endpoints.iter().find(|e| e.endpoint == e_off.endpoint) else {
                continue;
            };
            total.0 += e_off.db_calls * e_off.requests as f64;
            total.1 += e_off.requests;
            total.2 += e_on.db_calls * e_on.requests as f64;
            total.3 += e_on.requests;
            let saved = if e_off.db_calls > 0.0 {
                format!("{:.0}%", 100.0 * (1.0 - e_on.db_calls / e_off.db_calls))
            } else {
                "-".into()
            };
            let _ = writeln!(
                md,
                "| {} | {:.2} | {:.2} | {} | {:.2} | {:.2} |",
                e_off.endpoint,
                e_off.db_calls,
                e_on.db_calls,
                saved,
                e_off.read_units,
                e_on.read_units
            );
        }
        let off_avg = total.0 / total.1.max(1) as f64;
        let on_avg = total.2 / total.3.max(1) as f64;
        let _ = writeln!(
            md,
            "| **whole mix** | **{off_avg:.2}** | **{on_avg:.2}** | **{:.0}%** | | |\n",
            100.0 * (1.0 - on_avg / off_avg.max(f64::EPSILON))
        );
        md
    }

    fn function_table(&self) -> String {
        cold_table(&self.cold_starts, self.sizes.as_ref())
    }
}

/// Every function's size and cold request, as Markdown.
pub fn cold_table(cold: &ColdStarts, sizes: Option<&serde_json::Value>) -> String {
    let mut md = String::new();
    let runs = cold.whole_core.first().map_or(0, |c| c.runs);
    let _ = writeln!(
        md,
        "## Functions: size and the cold request\n\n\
         Size: the stripped arm64 `bootstrap` and its zip, from `make sam-build` (budget: \
         4 MB zipped). Cold request: the native x86-64 release binary, started under a \
         Lambda Runtime API emulator (bench/src/coldstart.rs) that hands it one API \
         Gateway event (signed in, about the seeded data) and then the same event again. \
         As in AWS, DynamoDB and Parameter Store are reached over TLS (bench/src/tls.rs: \
         an RSA-2048 leaf under an intermediate and a root, which only the measured \
         process trusts), and the JWT secret is read from Parameter Store during init. \
         *Share*: the process is held by a cgroup CPU quota to its memory size's share of \
         a CPU, as Lambda gives it (one vCPU at 1,769 MB): each {} µs period allows the \
         quota below (bench/src/cpu_share.rs). *Init* runs from process start to its \
         first call for an invocation (configuration, the secret, keys, the SDK client \
         and its connection: everything built once per process); *first* is the first \
         request, *warm* the second. Medians of {runs} starts. *× runtime* divides by the \
         runtime alone under the same quota (lambda_http with an empty handler, \
         bench/src/bin/lambda_baseline.rs, the first row of each memory size). *Whole \
         core* repeats init and first with no quota; *CPU ms* is the process' CPU time \
         from start to the first response, all threads.\n",
        cold.period_us
    );
    let _ = writeln!(
        md,
        "| function | zip MB | memory MB (quota µs) | init ms | first ms | init + first ms | × runtime | warm ms | first ÷ warm | whole core: init ms | first ms | CPU ms | peak RSS MiB | status |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    let whole = |name: &str| cold.whole_core.iter().find(|c| c.function == name);
    for c in &cold.at_share {
        let (mb, quota) = (
            c.memory_mb.unwrap_or_default(),
            c.quota_us.unwrap_or_default(),
        );
        let base = cold
            .at_share
            .iter()
            .find(|b| b.function == crate::BASELINE && b.memory_mb == c.memory_mb);
        let total = c.init_ms_median + c.first_invoke_ms_median;
        let ratio = base.map_or("-".into(), |b| {
            format!(
                "{:.1}",
                total / (b.init_ms_median + b.first_invoke_ms_median)
            )
        });
        let w = whole(&c.function);
        let fmt = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.2}"));
        let zip = sizes
            .and_then(|s| s[&c.function]["zip_bytes"].as_f64())
            .map_or("-".into(), |b| format!("{:.2}", b / 1e6));
        let _ = writeln!(
            md,
            "| {} | {zip} | {mb} ({quota}) | {:.1} | {:.1} | **{total:.1}** | {ratio} | {:.2} | {:.1} | {} | {} | {} | {:.1} | {} |",
            c.function,
            c.init_ms_median,
            c.first_invoke_ms_median,
            c.warm_invoke_ms_median,
            c.first_invoke_ms_median / c.warm_invoke_ms_median.max(f64::EPSILON),
            fmt(w.map(|w| w.init_ms_median)),
            fmt(w.map(|w| w.first_invoke_ms_median)),
            fmt(w.map(|w| w.cold_cpu_ms_median)),
            c.peak_rss_kib_median as f64 / 1024.0,
            c.status.map_or("-".into(), |s| s.to_string())
        );
    }
    let at_256: Vec<&ColdStart> = cold
        .at_share
        .iter()
        .filter(|c| c.memory_mb == Some(256) && c.function != crate::BASELINE)
        .collect();
    let within = |f: &dyn Fn(&ColdStart) -> bool| at_256.iter().filter(|c| f(c)).count();
    let _ = writeln!(
        md,
        "\nAt 256 MB, {} of {} functions answer their first request within 3× a warm one, \
         and {} of {} finish init and the first request within 120 ms.\n",
        within(&|c| c.first_invoke_ms_median <= 3.0 * c.warm_invoke_ms_median),
        at_256.len(),
        within(&|c| c.init_ms_median + c.first_invoke_ms_median < 120.0),
        at_256.len(),
    );
    md
}

/// Every function's cold request, on a whole core and at its CPU share.
#[derive(Debug, Serialize)]
pub struct ColdStarts {
    pub period_us: u64,
    pub whole_core: Vec<ColdStart>,
    pub at_share: Vec<ColdStart>,
}

/// The round trips data-model.md documents for `endpoint` (its access
/// pattern table is the source): all of them, or those `in_sequence`.
pub fn documented_round_trips(endpoint: &str, in_sequence: bool) -> String {
    let (name, query) = match endpoint.strip_suffix(" (tag)") {
        Some(name) => (name, "?tag="),
        None => (endpoint, ""),
    };
    let Some(route) = functions::ROUTES.iter().find(|r| r.name == name) else {
        return "-".into();
    };
    let doc = std::fs::read_to_string("docs/data-model.md").unwrap_or_default();
    let needle = format!("| `{} {}{query}` |", route.method, route.path);
    doc.lines()
        .find(|line| line.starts_with(&needle))
        // The last two columns: the round trips, then those in sequence.
        .and_then(|line| {
            let from_end = if in_sequence { 0 } else { 1 };
            line.trim_end_matches('|').rsplit('|').nth(from_end)
        })
        .map_or("-".into(), |cell| cell.trim().to_owned())
}

/// A least-squares line through (DB calls, CPU ms) of the endpoints that do
/// not hash passwords: the fixed CPU cost of a request and that of a call.
fn cpu_per_call(run: &RunStats) -> Option<(f64, f64)> {
    let points: Vec<(f64, f64)> = run
        .endpoints
        .iter()
        .filter(|e| e.requests > 0 && !matches!(e.endpoint.as_str(), "register" | "login"))
        .map(|e| (e.db_calls, e.cpu_ms))
        .collect();
    let n = points.len() as f64;
    if n < 3.0 {
        return None;
    }
    let (sx, sy) = points
        .iter()
        .fold((0.0, 0.0), |(sx, sy), (x, y)| (sx + x, sy + y));
    let (mx, my) = (sx / n, sy / n);
    let sxx: f64 = points.iter().map(|(x, _)| (x - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    if sxx == 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    Some((my - slope * mx, slope))
}

/// One concurrency level as a Markdown table.
pub fn run_table(run: &RunStats) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "### {} concurrent clients, cache {}: {} requests in {:.1} s, {:.0} requests/s\n\n\
         | endpoint | req/s | p50 ms | p95 ms | p99 ms | errors | DB calls | in sequence | documented | RCU | WCU | cache hits | CPU ms | CPU share |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|",
        run.limits.concurrency,
        if run.cache { "on" } else { "off" },
        run.requests,
        run.seconds,
        run.requests_per_sec
    );
    for e in &run.endpoints {
        let _ = writeln!(
            md,
            "| {} | {:.1} | {:.2} | {:.2} | {:.2} | {} | {:.2} | {:.2} | {} | {:.2} | {:.2} | {:.2} | {:.3} | {:.0}% |",
            e.endpoint,
            e.requests_per_sec,
            e.p50_ms,
            e.p95_ms,
            e.p99_ms,
            e.errors,
            e.db_calls,
            e.db_sequential,
            documented_round_trips(&e.endpoint, false),
            e.read_units,
            e.write_units,
            e.cache_hits,
            e.cpu_ms,
            100.0 * e.cpu_share
        );
    }
    md
}
