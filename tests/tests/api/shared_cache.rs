//! The API behind a real shared cache (nginx, configured as the template
//! configures CloudFront: `conduit_tests::shared_cache`), and the
//! in-process read caches behind it:
//!
//! - no response made for one reader is ever served to another, or to an
//!   anonymous client, on any GET route of the route table;
//! - an anonymous reader sees a write within the stated window
//!   (`SHARED_MAX_AGE` at the edge, `CACHE_TTL_SECONDS` in a process),
//!   and a writer sees their own change on their very next read;
//! - how often the bench's read mix is answered by each cache.
//!
//! Needs nginx: `make shared-cache` runs it (`--ignored`), after
//! `scripts/setup.sh apt` installed it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use conduit_common::domain::Role;
use conduit_common::http::SHARED_MAX_AGE;
use conduit_tests::over_http::HttpClient;
use conduit_tests::shared_cache::{CACHE_STATUS_HEADER, SharedCache};
use conduit_tests::{TestApp, TestResponse, spawn_app};
use hyper::Method;
use serde_json::json;

const ORIGIN_SECRET: &str = "the-origin-secret-of-the-shared-cache-test";

/// Three readers whose views differ: alice (an admin) follows carol and
/// favorited her article; bob follows no one; and the anonymous reader.
struct World {
    app: TestApp,
    alice: String,
    bob: String,
    carol: String,
    slug: String,
}

impl World {
    async fn new() -> World {
        let app = spawn_app().await;
        let alice = app.seed_user("alice", Role::Admin).await;
        let bob = app.register("bob").await;
        let carol = app.register("carol").await;
        let slug = app.create_article(&carol, "At the edge", &["edge"]).await;
        app.create_article(&carol, "Behind the edge", &["origin"])
            .await;
        let (favorite, comments) = (
            format!("/api/articles/{slug}/favorite"),
            format!("/api/articles/{slug}/comments"),
        );
        let comment = json!({"comment": {"body": "Cached?"}});
        for done in [
            app.post("/api/profiles/carol/follow", json!({}), Some(&alice))
                .await,
            app.post(&favorite, json!({}), Some(&alice)).await,
            app.post(&comments, comment, Some(&bob)).await,
        ] {
            assert!(done.status.is_success(), "{:?}", done.body);
        }
        World {
            app,
            alice,
            bob,
            carol,
            slug,
        }
    }

    fn readers(&self) -> [(&'static str, Option<&str>); 3] {
        [
            ("anonymous", None),
            ("alice", Some(&self.alice)),
            ("bob", Some(&self.bob)),
        ]
    }

    /// Requests for every GET route of the route table, with the queries
    /// that change what a reader sees. A route added without requests here
    /// fails the test.
    fn requests(&self) -> Vec<(&'static str, String)> {
        let slug = &self.slug;
        let graphql = form_urlencoded::Serializer::new(String::new())
            .append_pair(
                "query",
                &format!(
                    "{{ article(slug: \"{slug}\") {{ favorited favoritesCount \
                     author {{ username following }} }} }}"
                ),
            )
            .finish();
        let requests: Vec<(&str, String)> = vec![
            ("get_current_user", "/api/user".into()),
            ("export_current_user", "/api/user/export".into()),
            ("list_sessions", "/api/user/sessions".into()),
            ("get_profile", "/api/profiles/carol".into()),
            ("get_profile", "/api/profiles/alice".into()),
            ("list_articles", "/api/articles".into()),
            ("list_articles", "/api/articles?author=carol&limit=1".into()),
            ("list_articles", "/api/articles?favorited=alice".into()),
            ("list_articles", "/api/articles?tag=edge".into()),
            ("feed_articles", "/api/articles/feed".into()),
            ("get_article", format!("/api/articles/{slug}")),
            ("list_comments", format!("/api/articles/{slug}/comments")),
            ("list_tags", "/api/tags".into()),
            ("list_users", "/api/admin/users".into()),
            ("list_audit", "/api/admin/audit".into()),
            ("graphql_query", format!("/api/graphql?{graphql}")),
            ("graphql_query", "/api/graphql".into()),
            ("graphiql_asset", "/api/graphql/graphiql-init.js".into()),
            ("openapi", "/api/openapi.json".into()),
            ("api_docs", "/api/docs".into()),
            ("api_docs_asset", "/api/docs/swagger-initializer.js".into()),
        ];
        let uncovered: Vec<&str> = functions::ROUTES
            .iter()
            .filter(|route| route.method == Method::GET)
            .map(|route| route.name)
            .filter(|name| !requests.iter().any(|(covered, _)| covered == name))
            .collect();
        assert!(
            uncovered.is_empty(),
            "GET routes with no request here: {uncovered:?}"
        );
        requests
    }
}

/// The origin behind nginx: closed to anything without the origin secret,
/// with a long in-process read cache (so that a leak through it would
/// show), reporting its costs. And nginx in front of it.
async fn edge(world: &World) -> (SharedCache, HttpClient, String) {
    let digest = ring::digest::digest(&ring::digest::SHA256, ORIGIN_SECRET.as_bytes());
    let origin = world.app.another_process_configured(|config| {
        config.origin_verify = vec![digest.as_ref().try_into().unwrap()];
        config.cache_ttl = Duration::from_secs(300);
        config.server_timing = true;
    });
    let served = origin.serve_http().await;
    let cache = SharedCache::start(&served.url(), ORIGIN_SECRET).await;
    let client = HttpClient::to(cache.url());
    (cache, client, served.url())
}

/// The same table read by a process with no read cache, straight: what
/// each reader should see.
fn reference(world: &World) -> TestApp {
    world
        .app
        .another_process_configured(|config| config.cache_ttl = Duration::ZERO)
}

fn cache_status(response: &TestResponse) -> &str {
    response.header(CACHE_STATUS_HEADER).unwrap_or("NONE")
}

/// Whether nginx answered from its cache, without the API.
fn served_from_cache(status: &str) -> bool {
    matches!(status, "HIT" | "STALE" | "UPDATING")
}

/// Whether nginx had the response stored: served it, or revalidated it
/// (the API answered 304 to its `If-None-Match`, and the stored body went
/// out). However slow the machine, an anonymous read asked again after
/// the copy expired is still one of these.
fn stored_by_cache(status: &str) -> bool {
    served_from_cache(status) || status == "REVALIDATED"
}

#[tokio::test]
#[ignore = "needs nginx: make shared-cache"]
async fn no_reader_is_ever_served_a_response_made_for_another() {
    let world = World::new().await;
    let (_cache, edge, origin_url) = edge(&world).await;
    let reference = reference(&world);

    // The origin refuses what did not come through the cache.
    let direct = HttpClient::to(&origin_url)
        .get("/api/tags", None, &[])
        .await;
    assert_eq!(direct.status, 403, "{:?}", direct.body);

    let requests = world.requests();
    let mut statuses: BTreeMap<(&str, String), usize> = BTreeMap::new();
    // Three rounds, each reader first in one of them: whoever asks first
    // fills the cache for whoever might wrongly be served it next.
    for round in 0..3 {
        let mut readers = world.readers();
        readers.rotate_left(round);
        for (route, path) in &requests {
            for (who, token) in readers {
                let through = edge.get(path, token, &[]).await;
                let truth = reference.get(path, token).await;
                assert_eq!(
                    (through.status, &through.body),
                    (truth.status, &truth.body),
                    "{who}: GET {path} ({route}, round {round}) through the cache differs from \
                     what the API makes for them (cache: {})",
                    cache_status(&through),
                );
                let status = cache_status(&through).to_owned();
                if token.is_some() {
                    assert!(
                        !stored_by_cache(&status),
                        "{who}: GET {path} answered from the shared cache ({status})"
                    );
                }
                *statuses.entry((who, status)).or_default() += 1;
            }
        }
    }

    // Not vacuous: the readers' views differ where the cache could mix
    // them up, and the cache did serve the anonymous reads.
    for path in [
        "/api/user".to_owned(),
        "/api/profiles/carol".into(),
        format!("/api/articles/{}", world.slug),
        "/api/articles".into(),
        "/api/articles/feed".into(),
        "/api/user/sessions".into(),
    ] {
        let [anonymous, alice, bob] = world
            .readers()
            .map(|(_, token)| reference.get(&path, token));
        let (anonymous, alice, bob) = (anonymous.await, alice.await, bob.await);
        assert_ne!(alice.body, bob.body, "alice and bob see the same {path}");
        assert_ne!(
            alice.body, anonymous.body,
            "alice and anyone see the same {path}"
        );
    }
    let anonymous_stored = statuses
        .iter()
        .filter(|((who, status), _)| *who == "anonymous" && stored_by_cache(status))
        .map(|(_, count)| count)
        .sum::<usize>();
    assert!(anonymous_stored > 0, "the cache kept nothing: {statuses:?}");
    println!("shared cache, every GET route x 3 readers x 3 rounds, no leak: {statuses:?}");
}

#[tokio::test]
#[ignore = "needs nginx: make shared-cache"]
async fn anonymous_readers_see_a_write_within_the_stated_window() {
    let world = World::new().await;
    let (_cache, edge, _) = edge(&world).await;
    let article = format!("/api/articles/{}", world.slug);
    // A second process whose read cache keeps a profile for 2 s.
    let in_process_ttl = Duration::from_secs(2);
    let other = world
        .app
        .another_process_configured(|config| config.cache_ttl = in_process_ttl);

    // Both caches hold the old versions.
    for _ in 0..2 {
        edge.get(&article, None, &[]).await;
        other.get("/api/profiles/carol", None).await;
    }
    let edit = json!({"article": {"body": "Rewritten"}});
    let edited = world.app.put(&article, edit, Some(&world.carol)).await;
    assert_eq!(edited.status, 200, "{:?}", edited.body);
    world.app.set_bio(&world.carol, "Moved on").await;
    let written = Instant::now();

    // The writer's very next read, through the same cache, is fresh.
    let own = edge.get(&article, Some(&world.carol), &[]).await;
    assert_eq!(own.body["article"]["body"], "Rewritten");

    // Anonymous readers may see the old version for a while, but only
    // from a cache, and no longer than the window. A read that starts
    // after it must be fresh; nginx counts expiry in whole seconds, hence
    // one more.
    let edge_window = Duration::from_secs(SHARED_MAX_AGE + 1);
    let mut stale_for = (Duration::ZERO, Duration::ZERO);
    loop {
        let started = written.elapsed();
        let (through, profile) = futures::join!(
            edge.get(&article, None, &[]),
            other.get("/api/profiles/carol", None)
        );
        let status = cache_status(&through).to_owned();
        if through.body["article"]["body"] != "Rewritten" {
            assert!(started < edge_window, "stale at the edge after {started:?}");
            assert!(
                served_from_cache(&status),
                "the API itself was stale ({status})"
            );
            stale_for.0 = started;
        }
        if profile.body["profile"]["bio"] != "Moved on" {
            assert!(
                started < in_process_ttl,
                "stale in process after {started:?}"
            );
            stale_for.1 = started;
        }
        if started > edge_window.max(in_process_ttl) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    println!(
        "anonymous staleness after a write: shared cache {:?} (window {SHARED_MAX_AGE} s), \
         in-process cache {:?} (window {in_process_ttl:?})",
        stale_for.0, stale_for.1
    );
}

/// The bench's read mix (bench/src/load.rs, `MIX`, at its weights), a third
/// of the reads signed in, with its writes between them.
#[tokio::test]
#[ignore = "needs nginx: make shared-cache"]
async fn the_caches_answer_most_of_the_anonymous_read_mix() {
    let world = World::new().await;
    let (_cache, edge, _) = edge(&world).await;
    let slugs: Vec<String> = {
        let mut slugs = vec![world.slug.clone()];
        for n in 0..8 {
            let tag = ["edge", "origin"][n % 2];
            slugs.push(
                world
                    .app
                    .create_article(&world.carol, &format!("Mix {n}"), &[tag])
                    .await,
            );
        }
        slugs
    };
    let tokens = [&world.alice, &world.bob, &world.carol];
    let mut anonymous = Tally::default();
    let mut signed_in = Tally::default();
    let mut in_process_hits = 0;
    let mut origin_requests = 0;
    for n in 0..600usize {
        let slug = &slugs[n * 7 % slugs.len()];
        let token = tokens[n % tokens.len()];
        let reader = (n % 3 == 0).then_some(token.as_str());
        let pick = n * 37 % 100;
        let read = match pick {
            0..22 => "/api/articles?limit=20".to_owned(),
            22..28 => format!("/api/articles?tag={}&limit=20", ["edge", "origin"][n % 2]),
            28..36 => {
                let feed = edge
                    .get("/api/articles/feed?limit=20", Some(token), &[])
                    .await;
                signed_in.count(&feed);
                continue;
            }
            36..54 => format!("/api/articles/{slug}"),
            54..66 => format!("/api/articles/{slug}/comments"),
            66..76 => "/api/tags".to_owned(),
            76..84 => "/api/profiles/carol".to_owned(),
            _ => {
                write(&edge, n, slug, token).await;
                continue;
            }
        };
        let response = edge.get(&read, reader, &[]).await;
        assert_eq!(response.status, 200, "GET {read}: {:?}", response.body);
        if !served_from_cache(cache_status(&response)) {
            origin_requests += 1;
            in_process_hits += response.cost().cache_hits;
        }
        match reader {
            None => anonymous.count(&response),
            Some(_) => signed_in.count(&response),
        }
    }
    assert_eq!(
        signed_in.from_cache, 0,
        "a signed-in read served from the cache"
    );
    assert!(anonymous.from_cache > 0, "{anonymous:?}");
    println!(
        "bench read mix through the shared cache: anonymous {} of {} from the cache ({:.0}%), \
         {} more revalidated with a 304 from the API; signed in 0 of {}; in-process cache hits: \
         {in_process_hits} over {origin_requests} requests that reached the API",
        anonymous.from_cache,
        anonymous.reads,
        100.0 * anonymous.from_cache as f64 / anonymous.reads as f64,
        anonymous.revalidated,
        signed_in.reads,
    );
}

#[derive(Debug, Default)]
struct Tally {
    reads: usize,
    from_cache: usize,
    revalidated: usize,
}

impl Tally {
    fn count(&mut self, response: &TestResponse) {
        self.reads += 1;
        match cache_status(response) {
            status if served_from_cache(status) => self.from_cache += 1,
            "REVALIDATED" => self.revalidated += 1,
            _ => {}
        }
    }
}

/// The mix's `n`th request, one of its writes (create, comment, favorite
/// at their weights), through the cache as every request goes.
async fn write(edge: &HttpClient, n: usize, slug: &str, token: &str) {
    let (path, body) = match n * 37 % 100 {
        84..87 => {
            let title = format!("New {n}");
            let article = json!({"article": {"title": title, "description": "d", "body": "b",
                "tagList": ["edge"]}});
            ("/api/articles".to_owned(), Some(article))
        }
        87..92 => {
            let comment = json!({"comment": {"body": "Nice one"}});
            (format!("/api/articles/{slug}/comments"), Some(comment))
        }
        _ => (format!("/api/articles/{slug}/favorite"), None),
    };
    let (status, answer) = edge
        .send(Method::POST, &path, body.as_ref(), Some(token))
        .await;
    assert!(status.is_success(), "POST {path}: {answer:?}");
}
