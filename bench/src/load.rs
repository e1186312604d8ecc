//! The load generator: a realistic Conduit mix (reads dominating) against a
//! running local stack, bounded in requests and time, at one concurrency
//! level per call.
//!
//! Latency is measured here, client side, into HDR histograms (microsecond
//! resolution; loopback requests take about a millisecond, which the
//! millisecond buckets of the usual load-testing frameworks cannot resolve).
//! What each request cost inside the API (DynamoDB round trips, capacity
//! units, CPU time) comes from the `Server-Timing` header the local server
//! adds to every response.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use bytes::Bytes;
use conduit_common::meter::Usage;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::Mutex;

/// Users, articles per user and tags the seed creates.
const SEED_USERS: usize = 50;
const SEED_ARTICLES_PER_USER: usize = 3;
const TAGS: &[&str] = &[
    "rust",
    "dynamodb",
    "lambda",
    "serverless",
    "aws",
    "api",
    "web",
    "mobile",
    "cloud",
    "perf",
];

/// The mix: each operation with its weight out of 100.
const MIX: &[(Op, u32)] = &[
    (Op::ListArticles, 22),
    (Op::ListByTag, 6),
    (Op::Feed, 8),
    (Op::GetArticle, 18),
    (Op::ListComments, 12),
    (Op::Tags, 10),
    (Op::GetProfile, 8),
    (Op::Register, 1),
    (Op::Login, 2),
    (Op::CreateArticle, 3),
    (Op::AddComment, 5),
    (Op::Favorite, 5),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    ListArticles,
    ListByTag,
    Feed,
    GetArticle,
    ListComments,
    Tags,
    GetProfile,
    Register,
    Login,
    CreateArticle,
    AddComment,
    Favorite,
}

impl Op {
    fn is_write(self) -> bool {
        matches!(
            self,
            Op::Register | Op::Login | Op::CreateArticle | Op::AddComment | Op::Favorite
        )
    }

    /// The route (and Lambda function) it exercises; the tag filter, a
    /// different access pattern of the same route, is reported apart.
    fn label(self) -> &'static str {
        match self {
            Op::ListArticles => "list_articles",
            Op::ListByTag => "list_articles (tag)",
            Op::Feed => "feed_articles",
            Op::GetArticle => "get_article",
            Op::ListComments => "list_comments",
            Op::Tags => "list_tags",
            Op::GetProfile => "get_profile",
            Op::Register => "register",
            Op::Login => "login",
            Op::CreateArticle => "create_article",
            Op::AddComment => "add_comment",
            Op::Favorite => "favorite_article",
        }
    }
}

/// Each author follows this many others.
const SEED_FOLLOWS: usize = 5;

/// The mix and the seed in words, for the report.
pub fn describe() -> String {
    let total: u32 = MIX.iter().map(|(_, w)| w).sum();
    let part = |writes: bool| {
        let ops: Vec<_> = MIX
            .iter()
            .filter(|(op, _)| op.is_write() == writes)
            .collect();
        let weight: u32 = ops.iter().map(|(_, w)| w).sum();
        let list: Vec<String> = ops
            .iter()
            .map(|(op, w)| format!("{} {}%", op.label(), 100 * w / total))
            .collect();
        (100 * weight / total, list.join(", "))
    };
    let ((reads, read_list), (writes, write_list)) = (part(false), part(true));
    let articles = SEED_USERS * SEED_ARTICLES_PER_USER;
    format!(
        "Reads are {reads}% of the requests ({read_list}); writes {writes}% ({write_list}). \
         A third of the reads are signed in; the profile read and the reader are drawn \
         independently. Seed: {SEED_USERS} users following {SEED_FOLLOWS} each, {articles} \
         articles with tags, one comment each."
    )
}

/// Bounds of one run: whichever comes first.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Limits {
    pub concurrency: usize,
    pub max_requests: u64,
    pub max_seconds: u64,
}

/// One endpoint's figures at one concurrency level.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointStats {
    pub endpoint: String,
    /// Successful requests; latency, rates and costs are theirs.
    pub requests: u64,
    pub errors: u64,
    pub requests_per_sec: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    /// Per request, averaged.
    pub db_calls: f64,
    /// Of those, waited for one after another (the latency DynamoDB adds).
    pub db_sequential: f64,
    pub read_units: f64,
    pub write_units: f64,
    pub cache_hits: f64,
    /// The handler's own CPU time per request, and its share of the time the
    /// server spent on the request.
    pub cpu_ms: f64,
    pub cpu_share: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunStats {
    pub limits: Limits,
    pub cache: bool,
    pub seconds: f64,
    /// Every request sent, errors included.
    pub requests: u64,
    pub requests_per_sec: f64,
    pub endpoints: Vec<EndpointStats>,
}

/// A client of the API under test; loopback only.
#[derive(Clone)]
pub struct Api {
    base: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub timing: Option<String>,
}

impl Api {
    pub fn new(base: &str) -> anyhow::Result<Self> {
        ensure!(
            base.starts_with("http://127.0.0.1:"),
            "the benchmark only runs against loopback, not {base}"
        );
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            client: Client::builder(TokioExecutor::new()).build(connector),
        })
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> anyhow::Result<Reply> {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("content-type", "application/json");
        if let Some(token) = token {
            request = request.header("authorization", format!("Token {token}"));
        }
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let response = self
            .client
            .request(request.body(Full::new(Bytes::from(body)))?)
            .await?;
        let status = response.status();
        let timing = response
            .headers()
            .get("server-timing")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response.into_body().collect().await?.to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(Reply {
            status,
            body,
            timing,
        })
    }

    /// Waits until the server answers.
    pub async fn wait_ready(&self, timeout: Duration) -> anyhow::Result<()> {
        let started = Instant::now();
        while started.elapsed() < timeout {
            if let Ok(reply) = self.call(Method::GET, "/api/tags", None, None).await
                && reply.status == StatusCode::OK
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("{} did not answer within {timeout:?}", self.base)
    }
}

/// What the seed created, for the mix to refer to.
pub struct Seed {
    pub users: Vec<(String, String)>, // (username, token)
    pub slugs: Vec<String>,
}

fn expect(reply: &Reply, status: u16, what: &str) -> anyhow::Result<()> {
    ensure!(
        reply.status.as_u16() == status,
        "seeding {what}: {} {}",
        reply.status,
        reply.body
    );
    Ok(())
}

/// Users who follow each other, articles with tags, comments, favorites.
pub async fn seed(api: &Api) -> anyhow::Result<Seed> {
    let mut users = Vec::new();
    for i in 0..SEED_USERS {
        let name = format!("author{i}");
        let reply = api
            .call(
                Method::POST,
                "/api/users",
                Some(json!({"user": {"username": name, "email": format!("{name}@bench.example"), "password": "benchmark-password"}})),
                None,
            )
            .await?;
        expect(&reply, 201, "a user")?;
        let token = reply.body["user"]["token"]
            .as_str()
            .context("token")?
            .to_owned();
        users.push((name, token));
    }
    let mut slugs = Vec::new();
    for (i, (_, token)) in users.iter().enumerate() {
        for j in 0..SEED_ARTICLES_PER_USER {
            let tags = [TAGS[(i + j) % TAGS.len()], TAGS[(i * 3 + j) % TAGS.len()]];
            let reply = api
                .call(
                    Method::POST,
                    "/api/articles",
                    Some(json!({"article": {"title": format!("Article {j} by {i}"), "description": "A seeded article", "body": "Lorem ipsum dolor sit amet. ".repeat(40), "tagList": tags}})),
                    Some(token),
                )
                .await?;
            expect(&reply, 201, "an article")?;
            slugs.push(
                reply.body["article"]["slug"]
                    .as_str()
                    .context("slug")?
                    .to_owned(),
            );
        }
        // Everyone follows the next five authors: feeds have content.
        for k in 1..=SEED_FOLLOWS {
            let (followee, _) = &users[(i + k) % users.len()];
            let reply = api
                .call(
                    Method::POST,
                    &format!("/api/profiles/{followee}/follow"),
                    None,
                    Some(token),
                )
                .await?;
            expect(&reply, 200, "a follow")?;
        }
    }
    for (i, slug) in slugs.iter().enumerate() {
        let (_, token) = &users[(i * 7) % users.len()];
        let reply = api
            .call(
                Method::POST,
                &format!("/api/articles/{slug}/comments"),
                Some(json!({"comment": {"body": "A seeded comment"}})),
                Some(token),
            )
            .await?;
        expect(&reply, 201, "a comment")?;
    }
    Ok(Seed { users, slugs })
}

/// One endpoint's running totals. Latency and the cost figures are of the
/// successful requests only; errors are counted apart.
#[derive(Default)]
struct Tally {
    latency: Option<Histogram<u64>>,
    errors: u64,
    db_calls: f64,
    db_sequential: f64,
    read_units: f64,
    write_units: f64,
    cache_hits: f64,
    cpu_ms: f64,
    server_ms: f64,
}

/// Runs the mix at `limits` and returns per-endpoint figures.
pub async fn run(api: &Api, seed: &Arc<Seed>, limits: Limits, cache: bool) -> RunStats {
    let issued = Arc::new(AtomicU64::new(0));
    let tallies: Arc<Mutex<BTreeMap<&'static str, Tally>>> = Arc::default();
    let deadline = Instant::now() + Duration::from_secs(limits.max_seconds);
    let started = Instant::now();
    let total_weight: u32 = MIX.iter().map(|(_, w)| w).sum();
    let mut workers = Vec::new();
    for worker in 0..limits.concurrency {
        let (api, seed, issued, tallies) =
            (api.clone(), seed.clone(), issued.clone(), tallies.clone());
        workers.push(tokio::spawn(async move {
            let mut rng = SmallRng::seed_from_u64(worker as u64 * 7919 + limits.concurrency as u64);
            let mut n = 0u64;
            while issued.fetch_add(1, Ordering::Relaxed) < limits.max_requests
                && Instant::now() < deadline
            {
                let mut pick = rng.gen_range(0..total_weight);
                let op = MIX
                    .iter()
                    .find(|(_, w)| {
                        let hit = pick < *w;
                        pick = pick.saturating_sub(*w);
                        hit
                    })
                    .map(|(op, _)| *op)
                    .expect("weights cover the range");
                n += 1;
                let sent = Instant::now();
                let reply = one(&api, &seed, op, &mut rng, (worker, n)).await;
                let elapsed = sent.elapsed();
                let mut tallies = tallies.lock().await;
                let tally = tallies.entry(op.label()).or_default();
                match reply {
                    Ok(reply) if reply.status.is_success() => {
                        tally
                            .latency
                            .get_or_insert_with(|| {
                                Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds")
                            })
                            .saturating_record(elapsed.as_micros() as u64);
                        let timing = reply.timing.as_deref().and_then(Usage::from_server_timing);
                        if let Some((total, usage)) = timing {
                            tally.db_calls += f64::from(usage.db_calls);
                            tally.db_sequential += f64::from(usage.db_sequential);
                            tally.read_units += usage.read_units;
                            tally.write_units += usage.write_units;
                            tally.cache_hits += f64::from(usage.cache_hits);
                            tally.cpu_ms += usage.cpu.as_secs_f64() * 1e3;
                            tally.server_ms += total.as_secs_f64() * 1e3;
                        }
                    }
                    _ => tally.errors += 1,
                }
            }
        }));
    }
    for worker in workers {
        let _ = worker.await;
    }
    let seconds = started.elapsed().as_secs_f64();
    let tallies = std::mem::take(&mut *tallies.lock().await);
    let mut requests = 0;
    let endpoints = tallies
        .into_iter()
        .map(|(endpoint, tally)| {
            let ok = tally.latency.as_ref().map_or(0, Histogram::len);
            requests += ok + tally.errors;
            let per_ok = |total: f64| total / ok.max(1) as f64;
            let ms = |q: f64| {
                tally
                    .latency
                    .as_ref()
                    .map_or(0.0, |h| h.value_at_quantile(q) as f64 / 1000.0)
            };
            EndpointStats {
                endpoint: endpoint.to_owned(),
                requests: ok,
                errors: tally.errors,
                requests_per_sec: ok as f64 / seconds,
                p50_ms: ms(0.50),
                p95_ms: ms(0.95),
                p99_ms: ms(0.99),
                db_calls: per_ok(tally.db_calls),
                db_sequential: per_ok(tally.db_sequential),
                read_units: per_ok(tally.read_units),
                write_units: per_ok(tally.write_units),
                cache_hits: per_ok(tally.cache_hits),
                cpu_ms: per_ok(tally.cpu_ms),
                cpu_share: if tally.server_ms > 0.0 {
                    tally.cpu_ms / tally.server_ms
                } else {
                    0.0
                },
            }
        })
        .collect();
    RunStats {
        limits,
        cache,
        seconds,
        requests,
        requests_per_sec: requests as f64 / seconds,
        endpoints,
    }
}

/// Sends one request of the mix.
async fn one(
    api: &Api,
    seed: &Seed,
    op: Op,
    rng: &mut SmallRng,
    (worker, n): (usize, u64),
) -> anyhow::Result<Reply> {
    let (username, _) = &seed.users[rng.gen_range(0..seed.users.len())];
    let (_, token) = &seed.users[rng.gen_range(0..seed.users.len())];
    let slug = &seed.slugs[rng.gen_range(0..seed.slugs.len())];
    // Signed-in readers for a third of the reads, as on a real site.
    let reader = rng.gen_ratio(1, 3).then_some(token.as_str());
    match op {
        Op::ListArticles => api.call(Method::GET, "/api/articles?limit=20", None, reader).await,
        Op::ListByTag => {
            let tag = TAGS[rng.gen_range(0..TAGS.len())];
            api.call(Method::GET, &format!("/api/articles?tag={tag}&limit=20"), None, reader)
                .await
        }
        Op::Feed => api.call(Method::GET, "/api/articles/feed?limit=20", None, Some(token)).await,
        Op::GetArticle => api.call(Method::GET, &format!("/api/articles/{slug}"), None, reader).await,
        Op::ListComments => {
            api.call(Method::GET, &format!("/api/articles/{slug}/comments"), None, reader)
                .await
        }
        Op::Tags => api.call(Method::GET, "/api/tags", None, None).await,
        Op::GetProfile => {
            api.call(Method::GET, &format!("/api/profiles/{username}"), None, reader)
                .await
        }
        Op::Register => {
            let name = format!("r{}w{worker}n{n}", rng.r#gen::<u32>());
            api.call(
                Method::POST,
                "/api/users",
                Some(json!({"user": {"username": name, "email": format!("{name}@bench.example"), "password": "benchmark-password"}})),
                None,
            )
            .await
        }
        Op::Login => {
            api.call(
                Method::POST,
                "/api/users/login",
                Some(json!({"user": {"email": format!("{username}@bench.example"), "password": "benchmark-password"}})),
                None,
            )
            .await
        }
        Op::CreateArticle => {
            let tags = [TAGS[rng.gen_range(0..TAGS.len())]];
            api.call(
                Method::POST,
                "/api/articles",
                Some(json!({"article": {"title": format!("Bench {worker} {n}"), "description": "d", "body": "Lorem ipsum. ".repeat(50), "tagList": tags}})),
                Some(token),
            )
            .await
        }
        Op::AddComment => {
            api.call(
                Method::POST,
                &format!("/api/articles/{slug}/comments"),
                Some(json!({"comment": {"body": "Nice one"}})),
                Some(token),
            )
            .await
        }
        Op::Favorite => {
            api.call(Method::POST, &format!("/api/articles/{slug}/favorite"), None, Some(token))
                .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_dominate_the_mix() {
        let total: u32 = MIX.iter().map(|(_, w)| w).sum();
        let write: u32 = MIX
            .iter()
            .filter(|(op, _)| op.is_write())
            .map(|(_, w)| w)
            .sum();
        assert_eq!(total, 100);
        assert!(write * 5 < total, "writes are {write}%");
    }

    #[test]
    fn loopback_only() {
        assert!(Api::new("http://10.0.0.1:3000").is_err());
        assert!(Api::new("https://example.com").is_err());
    }
}
