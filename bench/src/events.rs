//! `conduit-bench events`: what the event-driven half costs, in figures.
//! The API runs in-process on the embedded engine (the tests' `spawn_app`,
//! built in release here), each scenario on a fresh table; every figure
//! comes from the API's own meter (DynamoDB calls, capacity units, time).
//!
//! - a feed page at 1, 100, 1,000 and 5,000 follows;
//! - an article's creation, and the stream consumer's delivery of it, at
//!   10, 1,000, 10,000 and 100,000 followers (seeded straight into the
//!   table; of 100,000, the 10,000 who followed first are delivered to and
//!   the rest pull the author, as `db::feeds` has it);
//! - deleting an article with 1,000 comments and 1,000 favorites: the
//!   request now, and the cleanup the consumer does after it (which the
//!   request used to do itself);
//! - deleting an account with 1,000 articles, 5,000 follows and 10,000
//!   followers: the request, and the consumers' clean-up after it;
//! - article creations a second at 1, 8 and 32 concurrent writers, all on
//!   the same month and tag (the sharded counters).
//!
//! Prints a Markdown report and writes it to `docs/benchmarks-events.md`.

use std::fmt::Write;
use std::time::{Duration, Instant};

use conduit_common::auth::Role;
use conduit_common::meter::{Usage, measure};
use conduit_tests::{TestApp, spawn_app_with, spawn_app_with_consumers};
use futures::StreamExt;
use serde_json::json;

const FOLLOWS: &[usize] = &[1, 100, 1_000, 5_000];
/// Followers delivered to, and followers in all (the others pull the
/// author: they followed once the author had 10,000, and cost no delivery).
const FOLLOWERS: &[(usize, u64)] = &[
    (10, 10),
    (1_000, 1_000),
    (10_000, 10_000),
    (10_000, 100_000),
];
const WRITERS: &[usize] = &[1, 8, 32];
const FEED_READS: usize = 20;

const SETTINGS: &[(&str, &str)] = &[("SERVER_TIMING", "1"), ("CACHE_TTL_SECONDS", "0")];

async fn app() -> TestApp {
    spawn_app_with_consumers(SETTINGS).await
}

/// An app whose table has no stream: for scenarios that call the consumer's
/// work directly, so that the engine's own stream bookkeeping (a record per
/// write) stays out of the figures.
async fn app_without_stream() -> TestApp {
    spawn_app_with(SETTINGS).await
}

fn ms(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1e4).round() / 10.0
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

pub async fn run() -> anyhow::Result<String> {
    let mut out = String::from(
        "# The event-driven half in figures\n\n\
         `conduit-bench events` (part of `make bench`): the API in-process on the\n\
         embedded engine, release build, a fresh table per scenario. Calls and\n\
         capacity units are DynamoDB's own figures for each call (the engine\n\
         reports them as DynamoDB would); times are this machine's, with no\n\
         network in between, so they show how work grows, not AWS latency.\n\n",
    );
    feed(&mut out).await?;
    fan_out(&mut out).await?;
    delete(&mut out).await?;
    account_deletion(&mut out).await?;
    creations(&mut out).await?;
    std::fs::write("docs/benchmarks-events.md", &out)?;
    Ok(out)
}

/// A feed page (20 articles by 20 authors) at each follow count.
async fn feed(out: &mut String) -> anyhow::Result<()> {
    writeln!(
        out,
        "## A feed page, by how many the reader follows\n\n\
         | follows | DynamoDB calls | read units | median time |\n|---:|---:|---:|---:|"
    )?;
    for &follows in FOLLOWS {
        let app = app().await;
        let reader = app.register("reader").await;
        let followed = app.seed_followed("reader", follows).await;
        for author in followed.iter().cycle().take(25) {
            let token = app.sign_in(author).await;
            app.create_article(&token, "Followed", &[]).await;
        }
        let mut times = vec![];
        let mut usage = Usage::default();
        for _ in 0..FEED_READS {
            let page = app.get("/api/articles/feed", Some(&reader)).await;
            anyhow::ensure!(page.status.is_success(), "feed: {}", page.status);
            let (time, cost) = Usage::from_server_timing(page.header("server-timing").unwrap())
                .expect("Server-Timing");
            times.push(time);
            usage = cost;
        }
        eprintln!("feed at {follows} follows: {usage:?}");
        writeln!(
            out,
            "| {follows} | {} | {:.1} | {} ms |",
            usage.db_calls,
            usage.read_units,
            ms(median(times))
        )?;
    }
    out.push('\n');
    Ok(())
}

/// An article by an author with each audience: the request, then the
/// stream consumer's delivery.
async fn fan_out(out: &mut String) -> anyhow::Result<()> {
    writeln!(
        out,
        "## A new article, by how many follow its author\n\n\
         Up to 100 followers get it inside the request; beyond, the stream\n\
         consumer delivers it (the request's figures include no delivery).\n\
         Who follows an author once they have 10,000 followers pulls them\n\
         instead and costs no delivery: of 100,000 followers, at most the\n\
         10,000 first (and any who already pull 8 authors) are delivered to.\n\n\
         | followers | delivered to | request: calls | request: write units | request: time | consumer: calls | consumer: write units | consumer: time |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|"
    )?;
    for &(delivered_to, followers) in FOLLOWERS {
        let app = app_without_stream().await;
        let author = app.register("author").await;
        let seeding = Instant::now();
        app.seed_followers("author", delivered_to).await;
        app.set_followers_count("author", followers).await;
        eprintln!("seeded {delivered_to} followers in {:?}", seeding.elapsed());
        let created = app
            .post(
                "/api/articles",
                json!({"article": {"title": "News", "description": "d", "body": "b", "tagList": ["news"]}}),
                Some(&author),
            )
            .await;
        anyhow::ensure!(created.status.is_success(), "create: {}", created.status);
        let (time, request) =
            Usage::from_server_timing(created.header("server-timing").unwrap()).expect("timing");
        let slug = created.body["article"]["slug"].as_str().unwrap();
        let article = app.state.db.article_by_slug(slug).await?.expect("article");
        let started = Instant::now();
        let (delivered, consumer) =
            measure(app.state.db.deliver(&article.id, &article.author_id)).await;
        let consumer_time = started.elapsed();
        eprintln!("{followers} followers: delivered now to {}", delivered?);
        writeln!(
            out,
            "| {followers} | {delivered_to} | {} | {:.0} | {} ms | {} | {:.0} | {} ms |",
            request.db_calls,
            request.write_units,
            ms(time),
            consumer.db_calls,
            consumer.write_units,
            ms(consumer_time)
        )?;
    }
    out.push('\n');
    Ok(())
}

/// Deleting an article with 1,000 comments and 1,000 favorites (its 1,000
/// favoriters also follow its author, so it is in 1,000 feeds).
async fn delete(out: &mut String) -> anyhow::Result<()> {
    let app = app_without_stream().await;
    let author = app.register("author").await;
    let fans = app.seed_followers("author", 1_000).await;
    let slug = app.create_article(&author, "Doomed", &[]).await;
    let path = format!("/api/articles/{slug}");
    futures::stream::iter(&fans)
        .for_each_concurrent(8, |fan| {
            let app = &app;
            let path = &path;
            async move {
                let token = app.sign_in(fan).await;
                app.post(&format!("{path}/favorite"), json!({}), Some(&token))
                    .await;
                let comment = json!({"comment": {"body": "first!"}});
                app.post(&format!("{path}/comments"), comment, Some(&token))
                    .await;
            }
        })
        .await;
    // No stream here: delivered as the consumer would.
    let article = app.state.db.article_by_slug(&slug).await?.expect("article");
    app.state
        .db
        .deliver(&article.id, &article.author_id)
        .await?;
    let deleted = app.delete(&path, Some(&author)).await;
    anyhow::ensure!(deleted.status.is_success(), "delete: {}", deleted.status);
    let (time, request) =
        Usage::from_server_timing(deleted.header("server-timing").unwrap()).expect("timing");
    let started = Instant::now();
    let (cleanup, consumer) = measure(app.state.db.clean_up_article(&article.id)).await;
    let consumer_time = started.elapsed();
    let cleanup = cleanup?;
    eprintln!("delete: {cleanup:?}");
    writeln!(
        out,
        "## Deleting an article with 1,000 comments and 1,000 favorites\n\n\
         It is also in its 1,000 favoriters' feeds. Before the stream, the\n\
         request removed the comments and favorites itself, so its caller\n\
         waited for the request and the cleanup together (the last row; the\n\
         feed entries, which did not exist then, are a third of that work).\n\n\
         | | DynamoDB calls | write units | time |\n|---|---:|---:|---:|\n\
         | the request, now | {} | {:.0} | {} ms |\n\
         | the consumer's cleanup after it ({} comments, {} favorites, {} feed entries) | {} | {:.0} | {} ms |\n\
         | the same work in one request, as before | {} | {:.0} | {} ms |\n",
        request.db_calls,
        request.write_units,
        ms(time),
        cleanup.comments,
        cleanup.favorites,
        cleanup.feed_entries,
        consumer.db_calls,
        consumer.write_units,
        ms(consumer_time),
        request.db_calls + consumer.db_calls,
        request.write_units + consumer.write_units,
        ms(time + consumer_time),
    )?;
    Ok(())
}

/// An account with 1,000 articles (20 of them favorited and commented on),
/// 5,000 follows and 10,000 followers, deleted: the request, then the
/// consumers' work, called as they would be (no stream here).
async fn account_deletion(out: &mut String) -> anyhow::Result<()> {
    let app = app_without_stream().await;
    let (leaver, _) = app.seed_large_account(1_000, 5_000, 10_000).await;
    let user = app.user("leaver").await;
    let articles = app
        .state
        .db
        .articles_by_author(
            &user.id,
            &conduit_common::db::paging::Page {
                limit: 1_000,
                ..Default::default()
            },
        )
        .await?
        .expect("the leaver")
        .articles;

    let body = json!({"user": {"password": "password123"}});
    let deleted = app
        .request(
            conduit_common::lambda_http::http::Method::DELETE,
            "/api/user",
            Some(body),
            Some(&leaver),
        )
        .await;
    anyhow::ensure!(deleted.status.is_success(), "delete: {}", deleted.status);
    let (time, request) =
        Usage::from_server_timing(deleted.header("server-timing").unwrap()).expect("timing");
    let started = Instant::now();
    let (departure, consumer) = measure(app.state.db.clean_up_user(&user)).await;
    let consumer_time = started.elapsed();
    let departure = departure?;
    let started = Instant::now();
    let (cleaned, cascade) = measure(async {
        for article in &articles {
            app.state.db.clean_up_article(&article.id).await?;
        }
        Ok::<_, conduit_common::ApiError>(())
    })
    .await;
    let cascade_time = started.elapsed();
    cleaned?;
    eprintln!("account deletion: {departure:?}");
    writeln!(
        out,
        "## Deleting an account with 1,000 articles, 5,000 follows and 10,000 followers\n\n\
         Twenty of its articles carry a favorite and a comment by someone else.\n\
         The request deletes the account; `clean_up_users` removes what it had,\n\
         and `clean_up_articles` each of its articles' comments, favorites and\n\
         feed entries. Each of the 15,000 follows removed also reaches\n\
         `fan_out_feeds`, which reads the two users (one `BatchGetItem`) and,\n\
         one of them gone, does nothing more.\n\n\
         | | DynamoDB calls | write units | time |\n|---|---:|---:|---:|\n\
         | the request | {} | {:.0} | {} ms |\n\
         | `clean_up_users` ({} articles, {} follows, {} followers, {} sessions) | {} | {:.0} | {} ms |\n\
         | `clean_up_articles`, for each of its articles | {} | {:.0} | {} ms |\n",
        request.db_calls,
        request.write_units,
        ms(time),
        departure.articles,
        departure.following,
        departure.followers,
        departure.sessions,
        consumer.db_calls,
        consumer.write_units,
        ms(consumer_time),
        cascade.db_calls,
        cascade.write_units,
        ms(cascade_time),
    )?;
    Ok(())
}

/// Creations a second with `writers` concurrent authors, all in one month
/// and one tag.
async fn creations(out: &mut String) -> anyhow::Result<()> {
    writeln!(
        out,
        "## Article creations, all in one month and one tag\n\n\
         Each creation's transaction moves its month's and its tag's counter;\n\
         they are sharded (8 and 4) so that concurrent writers rarely touch the\n\
         same item, which DynamoDB would make one of them retry. The embedded\n\
         engine applies transactions one at a time and never conflicts: these\n\
         figures show the request path's throughput, not DynamoDB's contention.\n\n\
         | concurrent writers | creations | per second |\n|---:|---:|---:|"
    )?;
    for &writers in WRITERS {
        let app = app().await;
        let mut tokens = vec![];
        for n in 0..writers {
            tokens.push(app.seed_user(&format!("writer{n}"), Role::User).await);
        }
        let count = 400;
        let started = Instant::now();
        futures::stream::iter(0..count)
            .for_each_concurrent(writers, |n| {
                let app = &app;
                let token = &tokens[n % writers];
                async move {
                    let body = json!({"article": {"title": format!("Hot {n}"), "description": "d", "body": "b", "tagList": ["hot"]}});
                    let created = app.post("/api/articles", body, Some(token)).await;
                    assert!(created.status.is_success(), "{:?}", created.body);
                }
            })
            .await;
        let elapsed = started.elapsed();
        let total = app.get("/api/articles?tag=hot", None).await.body["articlesCount"].clone();
        anyhow::ensure!(total == count, "the tag counts {total}, not {count}");
        writeln!(
            out,
            "| {writers} | {count} | {:.0} |",
            count as f64 / elapsed.as_secs_f64()
        )?;
    }
    out.push('\n');
    Ok(())
}
