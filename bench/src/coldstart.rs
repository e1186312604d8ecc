//! Cold start of one Lambda function binary, measured on this machine.
//!
//! The binary runs as it would in AWS, against a minimal emulator of the
//! [Lambda Runtime API] that lives in this module: the emulator hands it
//! the same event twice (a cold invocation, then a warm one) and records
//! when the function became ready and when it answered. Every run is a
//! fresh process and a fresh emulator, optionally held to a function's CPU
//! share ([`CpuShare`]).
//!
//! [Lambda Runtime API]: https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, anyhow, bail, ensure};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};

use crate::cpu_share::{self, CpuShare};

/// How long a run may take from spawn to the first response.
const RUN_TIMEOUT: Duration = Duration::from_secs(10);
/// The invocations each emulator hands out: the cold one and a warm one.
const INVOCATIONS: usize = 2;
/// The request id of every invocation.
const REQUEST_ID: &str = "8476a536-e9f4-11e8-9739-2dfe598c3fcd";
const TRACE_ID: &str = "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=0";
const PREFIX: &str = "/2018-06-01/runtime/";

/// Cold-start figures of one function over `runs` fresh processes.
#[derive(Debug, Clone, Serialize)]
pub struct ColdStart {
    pub function: String,
    pub runs: usize,
    /// The memory size whose CPU share held the process, if any, and the
    /// CPU time that share allows per CFS period.
    pub memory_mb: Option<u32>,
    pub quota_us: Option<u64>,
    /// Spawn to the first `next` call (ready for its first invocation), median in ms.
    pub init_ms_median: f64,
    /// Same, 90th percentile (nearest rank).
    pub init_ms_p90: f64,
    /// First `next` answered to the response fully received, median in ms.
    pub first_invoke_ms_median: f64,
    /// The same for the second invocation (warm), median in ms.
    pub warm_invoke_ms_median: f64,
    /// CPU time of every thread of the process from spawn to the first
    /// response, median in ms.
    pub cold_cpu_ms_median: f64,
    /// Peak resident set (VmHWM) once the first response has arrived, median in KiB.
    pub peak_rss_kib_median: u64,
    /// `statusCode` of the first run's response (API Gateway v2 response JSON).
    pub status: Option<u16>,
}

/// Starts `binary` `runs` times, one after the other, each time as a Lambda
/// function named `function` invoked twice with `event`, and reports the
/// median figures. With a `share`, each process runs in its cgroup.
///
/// The process gets a clean environment: the variables Lambda sets (with
/// `AWS_LAMBDA_RUNTIME_API` pointing at the emulator) plus `env`, and nothing
/// from this process, so results do not depend on the calling shell. Its
/// standard streams go to /dev/null. Linux only (peak RSS is read from /proc).
pub async fn measure(
    binary: &Path,
    function: &str,
    event: &serde_json::Value,
    env: &[(String, String)],
    runs: usize,
    share: Option<&CpuShare>,
) -> anyhow::Result<ColdStart> {
    ensure!(runs > 0, "{function}: runs must be at least 1");
    let event = Bytes::from(serde_json::to_vec(event)?);
    let mut samples = Vec::with_capacity(runs);
    for run in 1..=runs {
        let sample = run_once(binary, function, &event, env, share)
            .await
            .with_context(|| format!("{function}: cold start {run} of {runs}"))?;
        samples.push(sample);
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mut init: Vec<f64> = samples.iter().map(|s| ms(s.init)).collect();
    let mut invoke: Vec<f64> = samples.iter().map(|s| ms(s.first_invoke)).collect();
    let mut warm: Vec<f64> = samples.iter().map(|s| ms(s.warm_invoke)).collect();
    let mut cpu: Vec<f64> = samples.iter().map(|s| ms(s.cold_cpu)).collect();
    let mut rss: Vec<f64> = samples.iter().map(|s| s.peak_rss_kib as f64).collect();
    Ok(ColdStart {
        function: function.to_owned(),
        runs,
        memory_mb: share.map(|s| s.memory_mb),
        quota_us: share.map(|s| s.quota_us),
        init_ms_median: round_us(median(&mut init)),
        init_ms_p90: round_us(percentile(&mut init, 90.0)),
        first_invoke_ms_median: round_us(median(&mut invoke)),
        warm_invoke_ms_median: round_us(median(&mut warm)),
        cold_cpu_ms_median: round_us(median(&mut cpu)),
        peak_rss_kib_median: median(&mut rss).round() as u64,
        status: samples[0].status,
    })
}

/// What one cold start measured.
struct Sample {
    init: Duration,
    first_invoke: Duration,
    warm_invoke: Duration,
    cold_cpu: Duration,
    peak_rss_kib: u64,
    status: Option<u16>,
}

async fn run_once(
    binary: &Path,
    function: &str,
    event: &Bytes,
    env: &[(String, String)],
    share: Option<&CpuShare>,
) -> anyhow::Result<Sample> {
    let mut emulator = Emulator::start(function, event.clone()).await?;
    let mut command = Command::new(binary);
    command
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", emulator.addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", function)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env(
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "2026/01/01/[$LATEST]00000000000000000000000000000000",
        )
        .env(
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{function}"),
        )
        .env("AWS_REGION", "us-east-1")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // The safety net should this future be dropped mid-run; every path
        // below kills and reaps the child itself.
        .kill_on_drop(true);
    if let Some(share) = share {
        let procs = share.procs_file()?;
        // SAFETY: the closure only calls write(2) on a descriptor opened
        // above, which is async-signal-safe; it allocates nothing.
        unsafe {
            command.pre_exec(move || cpu_share::join(&procs));
        }
    }

    let spawned = Instant::now();
    let mut child = command
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let outcome = match tokio::time::timeout(
        RUN_TIMEOUT,
        observe(&mut child, &mut emulator.events, spawned),
    )
    .await
    {
        Ok(outcome) => outcome,
        Err(_) => Err(anyhow!(
            "{function} did not respond within {} s ({})",
            RUN_TIMEOUT.as_secs(),
            if emulator.ready.load(Ordering::SeqCst) {
                "it did ask for its first invocation"
            } else {
                "it never asked for its first invocation"
            }
        )),
    };
    // Kill and reap, whatever happened (start_kill fails only once it has exited).
    let _ = child.start_kill();
    let _ = child.wait().await;
    outcome
}

/// Follows one run until the second response, an init error or the
/// process' exit; reads the peak RSS and CPU time while the process is
/// still there.
async fn observe(
    child: &mut Child,
    events: &mut mpsc::UnboundedReceiver<Event>,
    spawned: Instant,
) -> anyhow::Result<Sample> {
    let pid = child.id().context("the child has no pid")?;
    let mut nexts: Vec<(Instant, Instant)> = Vec::new();
    let mut cold: Option<(Instant, Duration, u64, Option<u16>)> = None;
    loop {
        tokio::select! {
            // Events first: a process that posts an init error then exits
            // should be reported with the error, not just its exit status.
            biased;
            event = events.recv() => match event.context("the emulator stopped")? {
                Event::Next { arrived, answered } => nexts.push((arrived, answered)),
                Event::InitError(body) => bail!("init error: {}", String::from_utf8_lossy(&body)),
                Event::InvocationError(body) => {
                    bail!("invocation error: {}", String::from_utf8_lossy(&body))
                }
                Event::Response { at, body } => {
                    let (_, answered) = *nexts.last().context("a response before any `next` call")?;
                    let Some((cold_at, cold_cpu, peak_rss_kib, status)) = cold else {
                        cold = Some((at, cpu_time(pid)?, peak_rss_kib(pid)?, status_code(&body)));
                        continue;
                    };
                    let (first_arrived, first_answered) = nexts[0];
                    return Ok(Sample {
                        peak_rss_kib,
                        init: first_arrived - spawned,
                        first_invoke: cold_at - first_answered,
                        warm_invoke: at - answered,
                        cold_cpu,
                        status,
                    });
                }
            },
            status = child.wait() => bail!("exited before responding twice ({})", status?),
        }
    }
}

/// CPU time of every thread of a live process so far (the first field of
/// each thread's schedstat, in nanoseconds: finer than `/proc/pid/stat`'s
/// clock ticks).
fn cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let tasks = format!("/proc/{pid}/task");
    let mut total = 0u64;
    for task in std::fs::read_dir(&tasks).with_context(|| format!("reading {tasks}"))? {
        let schedstat = std::fs::read_to_string(task?.path().join("schedstat")).unwrap_or_default();
        total += schedstat
            .split_whitespace()
            .next()
            .and_then(|ns| ns.parse::<u64>().ok())
            .unwrap_or(0);
    }
    Ok(Duration::from_nanos(total))
}

/// `VmHWM` of a live process, in KiB.
fn peak_rss_kib(pid: u32) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    parse_vm_hwm(&status).with_context(|| format!("no VmHWM line in {path}"))
}

fn parse_vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?;
    line.trim().strip_suffix("kB")?.trim().parse().ok()
}

/// `statusCode` of an API Gateway (v1 or v2) proxy response.
fn status_code(body: &[u8]) -> Option<u16> {
    let response: serde_json::Value = serde_json::from_slice(body).ok()?;
    response.get("statusCode")?.as_u64()?.try_into().ok()
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// Nearest-rank percentile: the smallest value with at least `p` % of the
/// values at or below it.
fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let rank = (p / 100.0 * values.len() as f64).ceil() as usize;
    values[rank.clamp(1, values.len()) - 1]
}

/// Milliseconds to the microsecond, for readable output.
fn round_us(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

// ---- The Runtime API emulator ----

/// What the function did, as seen by the emulator.
enum Event {
    /// A `GET …/invocation/next` that got an event: when it arrived and
    /// when its answer was handed to hyper.
    Next { arrived: Instant, answered: Instant },
    /// `POST …/invocation/{id}/response`, when its body was fully received.
    Response { at: Instant, body: Bytes },
    /// `POST …/invocation/{id}/error`.
    InvocationError(Bytes),
    /// `POST …/init/error`.
    InitError(Bytes),
}

struct Shared {
    function: String,
    event: Bytes,
    /// Set by the first `next` call.
    ready: Arc<AtomicBool>,
    /// `next` calls answered so far; those after [`INVOCATIONS`] are left
    /// pending.
    handed_out: AtomicUsize,
    events: mpsc::UnboundedSender<Event>,
}

/// One emulator on 127.0.0.1, for one run. Dropping it stops the server and
/// every connection (including the `next` calls left pending).
struct Emulator {
    addr: SocketAddr,
    ready: Arc<AtomicBool>,
    events: mpsc::UnboundedReceiver<Event>,
    server: JoinHandle<()>,
}

impl Emulator {
    async fn start(function: &str, event: Bytes) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .context("binding the Runtime API emulator")?;
        let addr = listener.local_addr()?;
        let (tx, events) = mpsc::unbounded_channel();
        let ready = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(Shared {
            function: function.to_owned(),
            event,
            ready: ready.clone(),
            handed_out: AtomicUsize::new(0),
            events: tx,
        });
        let server = tokio::spawn(accept_loop(listener, shared));
        Ok(Self {
            addr,
            ready,
            events,
            server,
        })
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // Drops the accept loop's JoinSet, which aborts every connection task.
        self.server.abort();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of descriptors or the like: back off rather than spin.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        connections.spawn(async move {
            let service = service_fn(move |req| handle(shared.clone(), req));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
        while connections.try_join_next().is_some() {}
    }
}

type Reply = Response<Full<Bytes>>;

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Reply, Infallible> {
    let arrived = Instant::now();
    let method = req.method().clone();
    let Some(route) = req.uri().path().strip_prefix(PREFIX).map(str::to_owned) else {
        return Ok(reply(StatusCode::NOT_FOUND, "unknown path"));
    };
    let reply = match (method, route.as_str()) {
        (Method::GET, "invocation/next") => next(&shared, arrived).await,
        (Method::POST, "init/error") => match body(req).await {
            Some(body) => {
                let _ = shared.events.send(Event::InitError(body));
                reply(StatusCode::ACCEPTED, "")
            }
            None => reply(StatusCode::BAD_REQUEST, "unreadable body"),
        },
        (Method::POST, route) => {
            let outcome = route
                .strip_prefix("invocation/")
                .and_then(|rest| rest.split_once('/'))
                .filter(|(_, kind)| matches!(*kind, "response" | "error"));
            match outcome {
                None => reply(StatusCode::NOT_FOUND, "unknown path"),
                Some((id, _)) if id != REQUEST_ID => {
                    reply(StatusCode::BAD_REQUEST, "unknown request id")
                }
                Some((_, kind)) => {
                    let is_error = kind == "error";
                    match body(req).await {
                        Some(body) => {
                            let event = if is_error {
                                Event::InvocationError(body)
                            } else {
                                Event::Response {
                                    at: Instant::now(),
                                    body,
                                }
                            };
                            let _ = shared.events.send(event);
                            reply(StatusCode::ACCEPTED, "")
                        }
                        None => reply(StatusCode::BAD_REQUEST, "unreadable body"),
                    }
                }
            }
        }
        _ => reply(StatusCode::NOT_FOUND, "unknown path"),
    };
    Ok(reply)
}

/// The first [`INVOCATIONS`] calls get the event; later ones wait until
/// the process is killed, as a Lambda sandbox would freeze it.
async fn next(shared: &Shared, arrived: Instant) -> Reply {
    shared.ready.store(true, Ordering::SeqCst);
    if shared.handed_out.fetch_add(1, Ordering::SeqCst) >= INVOCATIONS {
        std::future::pending::<()>().await;
    }
    let deadline_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
        + 30_000;
    let response = Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header("lambda-runtime-aws-request-id", REQUEST_ID)
        .header("lambda-runtime-deadline-ms", deadline_ms.to_string())
        .header(
            "lambda-runtime-invoked-function-arn",
            format!(
                "arn:aws:lambda:us-east-1:000000000000:function:{}",
                shared.function
            ),
        )
        .header("lambda-runtime-trace-id", TRACE_ID)
        .body(Full::new(shared.event.clone()))
        .expect("valid response head");
    let _ = shared.events.send(Event::Next {
        arrived,
        answered: Instant::now(),
    });
    response
}

async fn body(req: Request<Incoming>) -> Option<Bytes> {
    Some(req.into_body().collect().await.ok()?.to_bytes())
}

fn reply(status: StatusCode, text: &'static str) -> Reply {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&mut []).is_nan());
    }

    #[test]
    fn nearest_rank_percentile() {
        let mut twenty: Vec<f64> = (1..=20).rev().map(f64::from).collect();
        assert_eq!(percentile(&mut twenty, 90.0), 18.0);
        assert_eq!(percentile(&mut twenty, 100.0), 20.0);
        assert_eq!(percentile(&mut [5.0], 90.0), 5.0);
        let mut three = [30.0, 10.0, 20.0];
        assert_eq!(percentile(&mut three, 50.0), 20.0);
        assert_eq!(percentile(&mut three, 0.0), 10.0);
    }

    #[test]
    fn vm_hwm_from_proc_status() {
        let status =
            "Name:\tlist_tags\nVmPeak:\t  20000 kB\nVmHWM:\t    7364 kB\nVmRSS:\t 7000 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(7364));
        assert_eq!(parse_vm_hwm("Name:\tx\n"), None);
    }

    #[test]
    fn status_code_of_a_gateway_response() {
        let body = br#"{"statusCode":201,"headers":{},"body":"{}","isBase64Encoded":false}"#;
        assert_eq!(status_code(body), Some(201));
        assert_eq!(status_code(b"not json"), None);
        assert_eq!(status_code(b"{\"statusCode\":70000}"), None);
    }
}
