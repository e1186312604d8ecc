//! The event-driven half: the stream consumers, fed by the local event
//! source mapping at points the tests choose ([`TestApp::drain`]), on the
//! real engine's stream, with failures injected where they hurt most.

use std::collections::BTreeSet;
use std::sync::Mutex;

use conduit_common::db::articles::Article;
use conduit_common::db::feeds::{INLINE_DELIVERY_MAX_FOLLOWERS, MAX_PULLED, PULL_MIN_FOLLOWERS};
use conduit_common::db::keys::{self, ARTICLE};
use conduit_common::db::users::User;
use conduit_common::events::consumer::Consumers;
use conduit_common::events::{ChangeKind, Consumer, KeyMatch, RecordFilter};
use conduit_common::lambda_http::http::StatusCode;
use conduit_tests::{TestApp, heavy_test, repo_file, slugs, spawn_app_with_consumers};
use local::event_source::Storage;
use serde_json::{Value, json};

/// The users, read fresh from the table.
async fn reread(app: &TestApp, users: &[User]) -> Vec<User> {
    let ids: Vec<&str> = users.iter().map(|u| u.id.as_str()).collect();
    app.state.db.users_by_ids(&ids).await.unwrap()
}

#[tokio::test]
async fn a_few_followers_see_a_new_article_at_once() {
    let app = spawn_app_with_consumers(&[]).await;
    let reader = app.register("reader").await;
    let author = app.register("author").await;
    app.post("/api/profiles/author/follow", json!({}), Some(&reader))
        .await;
    let first = app.create_article(&author, "One", &[]).await;
    let second = app.create_article(&author, "Two", &[]).await;
    // No drain: delivered inside the create request.
    let feed = app.get("/api/articles/feed", Some(&reader)).await;
    assert_eq!(feed.body["articlesCount"], 2);
    assert_eq!(slugs(&feed.body), [&second, &first]);
    // The stream then finds nothing left to do, and counts nothing twice.
    app.drain().await;
    let feed = app.get("/api/articles/feed", Some(&reader)).await;
    assert_eq!(feed.body["articlesCount"], 2);
}

#[tokio::test]
async fn many_followers_get_a_new_article_from_the_stream() {
    let app = spawn_app_with_consumers(&[]).await;
    let author = app.register("author").await;
    let count = INLINE_DELIVERY_MAX_FOLLOWERS as usize + 50;
    let followers = app.seed_followers("author", count).await;
    let slug = app.create_article(&author, "For everyone", &[]).await;
    let first = app.sign_in(&followers[0]).await;
    let before = app.get("/api/articles/feed", Some(&first)).await;
    assert_eq!(
        before.body["articlesCount"], 0,
        "too many to deliver inline"
    );

    app.drain().await;
    for follower in reread(&app, &followers).await {
        assert_eq!(follower.feed_count, 1, "{}", follower.username);
    }
    let after = app.get("/api/articles/feed", Some(&first)).await;
    assert_eq!(slugs(&after.body), [&slug]);
    assert_eq!(after.body["articles"][0]["author"]["following"], true);
    app.finish().await;
}

#[tokio::test]
async fn a_very_followed_author_is_read_into_the_feed_not_delivered() {
    let app = spawn_app_with_consumers(&[("SERVER_TIMING", "1")]).await;
    let reader = app.register("reader").await;
    let star = app.register("star").await;
    app.set_followers_count("star", PULL_MIN_FOLLOWERS).await;
    app.post("/api/profiles/star/follow", json!({}), Some(&reader))
        .await;
    let me = app.user("reader").await;
    let star_id = app.user("star").await.id;
    assert_eq!(me.pulls.iter().collect::<Vec<_>>(), [&star_id]);

    let slug = app.create_article(&star, "For millions", &[]).await;
    // Nothing was delivered, now or by the stream, yet the reader has it.
    app.drain().await;
    let me = app.user("reader").await;
    assert_eq!(me.feed_count, 0);
    let feed = app.get("/api/articles/feed", Some(&reader)).await;
    assert_eq!(slugs(&feed.body), [&slug]);
    assert_eq!(feed.body["articlesCount"], 1);
    assert_eq!(feed.body["articles"][0]["author"]["following"], true);
    // Auth; the feed's partition, the pulled author's articles and their
    // user item (for the total), at once; the decoration's one batch read
    // (author, follow and favorite). No delivered entry to fetch.
    assert_eq!(feed.cost().db_calls, 5);

    app.delete("/api/profiles/star/follow", Some(&reader)).await;
    let feed = app.get("/api/articles/feed", Some(&reader)).await;
    assert_eq!(feed.body["articlesCount"], 0, "unpulled at once");
    assert_eq!(slugs(&feed.body), [""; 0]);
}

#[tokio::test]
async fn a_reader_pulls_a_few_very_followed_authors_and_is_delivered_the_rest() {
    let app = spawn_app_with_consumers(&[]).await;
    let reader = app.register("reader").await;
    let mut stars = vec![];
    for n in 0..=MAX_PULLED {
        let name = format!("star{n}");
        let token = app.register(&name).await;
        app.set_followers_count(&name, PULL_MIN_FOLLOWERS).await;
        let follow = app
            .post(
                &format!("/api/profiles/{name}/follow"),
                json!({}),
                Some(&reader),
            )
            .await;
        assert_eq!(follow.status, StatusCode::OK);
        stars.push(token);
    }
    let me = app.user("reader").await;
    assert_eq!(me.pulls.len(), MAX_PULLED);
    let mut published = vec![];
    for star in &stars {
        published.push(app.create_article(star, "Starry", &[]).await);
    }
    // The one not pulled is delivered, by the stream (too many followers
    // to deliver inline).
    app.drain().await;
    let feed = app.get("/api/articles/feed?limit=100", Some(&reader)).await;
    assert_eq!(feed.body["articlesCount"], MAX_PULLED + 1);
    published.reverse();
    assert_eq!(slugs(&feed.body), published);
    let page = app
        .get("/api/articles/feed?limit=3&offset=3", Some(&reader))
        .await;
    assert_eq!(slugs(&page.body), published[3..6]);
}

/// Deletes an article read by and favorited by many, with comments: the
/// cleanup's work. Returns the fans and the article's id.
async fn a_popular_article_deleted(app: &TestApp) -> (Vec<User>, String) {
    let author = app.register("author").await;
    // Followers who favorite it: their feeds and favorites counts move.
    let fans = app.seed_followers("author", 60).await;
    let slug = app.create_article(&author, "Popular", &[]).await;
    let path = format!("/api/articles/{slug}");
    for fan in &fans {
        let favorite = app
            .post(
                &format!("{path}/favorite"),
                json!({}),
                Some(&app.sign_in(fan).await),
            )
            .await;
        assert_eq!(favorite.status, StatusCode::OK);
    }
    for n in 0..30 {
        let comment = json!({"comment": {"body": format!("comment {n}")}});
        app.post(&format!("{path}/comments"), comment, Some(&author))
            .await;
    }
    app.drain().await;
    for fan in reread(app, &fans).await {
        assert_eq!((fan.feed_count, fan.favorites_count), (1, 1));
    }
    let id = app
        .state
        .db
        .article_by_slug(&slug)
        .await
        .unwrap()
        .unwrap()
        .id;
    let delete = app.delete(&path, Some(&author)).await;
    assert_eq!(delete.status, StatusCode::NO_CONTENT);
    (fans, id)
}

/// Nothing of the article is left, and every count is back where it was.
async fn assert_cleaned_up(app: &TestApp, fans: &[User], article_id: &str) {
    for fan in reread(app, fans).await {
        assert_eq!(
            (fan.feed_count, fan.favorites_count),
            (0, 0),
            "{}",
            fan.username
        );
    }
    // What a fan sees.
    let feed = app
        .get("/api/articles/feed", Some(&app.sign_in(&fans[0]).await))
        .await;
    assert_eq!(feed.status, StatusCode::OK, "{:?}", feed.body);
    assert_eq!(feed.body["articlesCount"], 0);
    let leftovers = app
        .state
        .db
        .client
        .query()
        .table_name(&app.state.db.table)
        .key_condition_expression("PK = :pk")
        .expression_attribute_values(":pk", conduit_common::db::s(keys::article(article_id).0))
        .send()
        .await
        .unwrap();
    assert_eq!(leftovers.count, 0, "comments or favorites left behind");
}

#[tokio::test]
async fn a_cleanup_that_fails_midway_converges_on_retry_and_a_replay_changes_nothing() {
    let _alone = heavy_test().await;
    let app = spawn_app_with_consumers(&[]).await;
    let (fans, article_id) = a_popular_article_deleted(&app).await;
    // The answer came before the cleanup: the comments and favorites wait
    // for the stream.
    let favoriter = &reread(&app, &fans[..1]).await[0];
    assert_eq!(favoriter.favorites_count, 1);

    // The consumers' database fails their third transaction: the fan-out
    // finds the article gone (one), the cleanup has removed the first 50
    // favorites, each with its fan's count (two), when the last 10 fail.
    let (failing, events) = app.event_source_failing_at(3);
    events.drain().await.unwrap();
    assert!(failing.fired(), "the fault was injected");
    assert_eq!(events.failures(), vec![], "the retry succeeded");
    assert_cleaned_up(&app, &fans, &article_id).await;

    // Every batch of the stream, from the first record, delivered again.
    let replay = app.event_source(app.state.db.clone(), functions::CONSUMERS);
    assert!(replay.drain().await.unwrap() > 0);
    assert_eq!(replay.failures(), vec![]);
    assert_cleaned_up(&app, &fans, &article_id).await;
    app.finish().await;
}

#[tokio::test]
async fn a_restarted_event_source_resumes_after_its_checkpoint() {
    let app = spawn_app_with_consumers(&[]).await;
    let author = app.register("author").await;
    let slug = app.create_article(&author, "Before", &[]).await;
    let dir = std::env::temp_dir().join(format!("conduit-checkpoints-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).unwrap();
    let start = || {
        let storage = Storage::Directory(dir.clone());
        app.event_source_in(app.state.db.clone(), functions::CONSUMERS, storage)
    };
    let first = start();
    let read = first.drain().await.unwrap();
    assert!(read > 0);
    drop(first);

    // A new process: nothing done is done again...
    let second = start();
    assert_eq!(second.drain().await.unwrap(), 0);
    // ...and nothing new is skipped: the clean-up of an article deleted
    // since takes it out of the feed it reached (with the follow), which
    // only the consumer does.
    let reader = app.register("reader").await;
    app.post("/api/profiles/author/follow", json!({}), Some(&reader))
        .await;
    let feed_count = || async { app.user("reader").await.feed_count };
    assert_eq!(feed_count().await, 1);
    app.delete(&format!("/api/articles/{slug}"), Some(&author))
        .await;
    assert!(second.drain().await.unwrap() > 0);
    assert_eq!(feed_count().await, 0, "cleaned up by the restarted source");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Titles of the articles the poisoned consumer has processed.
static PROCESSED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// A consumer that crashes (panics: the function dies) on one article.
static POISONED: Consumer = Consumer {
    name: "poisoned",
    summary: "crashes on the article titled Poison",
    filters: &[RecordFilter {
        kinds: &[ChangeKind::Insert],
        sort_key: KeyMatch::Equals(ARTICLE),
    }],
    batch_size: 10,
    max_attempts: 3,
    handle: |_, change| {
        Box::pin(async move {
            let article: Article = change.decode()?;
            assert_ne!(article.title, "Poison", "the function crashed");
            PROCESSED.lock().unwrap().insert(article.title);
            Ok(())
        })
    },
};

static ONLY_POISONED: &Consumers = &[&POISONED];

/// Titles the refusing consumer has processed.
static TAKEN: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// A consumer that reports a failure (it does not crash) on one article.
static REFUSING: Consumer = Consumer {
    name: "refusing",
    summary: "fails on the article titled Poison",
    filters: POISONED.filters,
    batch_size: 10,
    max_attempts: 3,
    handle: |_, change| {
        Box::pin(async move {
            let article: Article = change.decode()?;
            if article.title == "Poison" {
                return Err(conduit_common::ApiError::Internal("refused".into()));
            }
            TAKEN.lock().unwrap().insert(article.title);
            Ok(())
        })
    },
};

/// Also counted by the consumers' metrics (metrics.rs).
pub(crate) static ONLY_REFUSING: &Consumers = &[&REFUSING];

#[tokio::test]
async fn a_record_that_keeps_failing_sets_aside_the_rest_of_its_batch() {
    let app = spawn_app_with_consumers(&[]).await;
    let author = app.register("author").await;
    for title in ["One", "Two", "Poison", "Four", "Five"] {
        app.create_article(&author, title, &[]).await;
    }
    let events = app.event_source(app.state.db.clone(), ONLY_REFUSING);
    events.drain().await.unwrap();
    // Retried from the failed record, never before it; after its attempts,
    // what is left of the batch goes to the destination, as in AWS.
    let taken: Vec<String> = TAKEN.lock().unwrap().iter().cloned().collect();
    assert_eq!(taken, ["One", "Two"]);
    let failures = events.failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].records, 3);
    assert_eq!(events.drain().await.unwrap(), 0, "the stream went on");
}

#[tokio::test]
async fn a_record_that_crashes_its_consumer_is_isolated_and_set_aside() {
    let app = spawn_app_with_consumers(&[]).await;
    let author = app.register("author").await;
    for title in ["One", "Two", "Poison", "Four", "Five"] {
        app.create_article(&author, title, &[]).await;
    }
    let events = app.event_source(app.state.db.clone(), ONLY_POISONED);
    events.drain().await.unwrap();

    // Halved until the poison was alone; everything else went through.
    let processed: Vec<String> = PROCESSED.lock().unwrap().iter().cloned().collect();
    assert_eq!(processed, ["Five", "Four", "One", "Two"]);
    let failures = events.failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].records, 1);
    let poison = app
        .state
        .db
        .article_by_slug("poison")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(failures[0].keys[0]["PK"]["S"], keys::article(&poison.id).0);
    // The stream goes on past it: nothing is delivered again.
    assert_eq!(events.drain().await.unwrap(), 0);
    assert_eq!(events.failures().len(), 1);
}

/// The target of a `!GetAtt Resource.Attribute` in the template.
fn get_att(value: &serde_yaml::Value) -> Option<&str> {
    match value {
        serde_yaml::Value::Tagged(tagged) if tagged.tag == "GetAtt" => tagged.value.as_str(),
        _ => None,
    }
}

#[test]
fn the_template_maps_the_stream_to_each_consumer_as_declared() {
    let template: serde_yaml::Value =
        serde_yaml::from_str(&repo_file("infra/template.yaml")).unwrap();
    let resources = &template["Resources"];
    assert_eq!(
        resources["Table"]["Properties"]["StreamSpecification"]["StreamViewType"],
        "NEW_AND_OLD_IMAGES"
    );
    let queue = &resources["StreamFailuresQueue"];
    assert_eq!(queue["Type"], "AWS::SQS::Queue");
    assert!(
        queue["Properties"]["KmsMasterKeyId"].is_string(),
        "encrypted"
    );

    let mut stream_readers = BTreeSet::new();
    for (id, resource) in resources.as_mapping().unwrap() {
        let text = serde_yaml::to_string(resource).unwrap();
        if text.contains("dynamodb:GetRecords") {
            stream_readers.insert(id.as_str().unwrap().to_owned());
        }
    }
    let mut roles = BTreeSet::new();
    for consumer in functions::CONSUMERS {
        let function = resources
            .as_mapping()
            .unwrap()
            .values()
            .find(|r| r["Metadata"]["BuildProperties"]["Binary"] == consumer.name)
            .unwrap_or_else(|| panic!("no function for {}", consumer.name));
        let mapping = &function["Properties"]["Events"]["Stream"];
        assert_eq!(mapping["Type"], "DynamoDB");
        let properties = &mapping["Properties"];
        assert_eq!(get_att(&properties["Stream"]), Some("Table.StreamArn"));
        assert_eq!(properties["BatchSize"], consumer.batch_size);
        assert_eq!(
            properties["FunctionResponseTypes"][0],
            "ReportBatchItemFailures"
        );
        assert_eq!(properties["BisectBatchOnFunctionError"], true);
        assert_eq!(
            properties["MaximumRetryAttempts"],
            consumer.max_attempts - 1
        );
        assert!(properties["MaximumRecordAgeInSeconds"].as_u64().unwrap() <= 86_400);
        assert_eq!(
            get_att(&properties["DestinationConfig"]["OnFailure"]["Destination"]),
            Some("StreamFailuresQueue.Arn")
        );
        let patterns: Vec<Value> = properties["FilterCriteria"]["Filters"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|f| serde_json::from_str(f["Pattern"].as_str().unwrap()).unwrap())
            .collect();
        let declared: Vec<Value> = consumer.filters.iter().map(|f| f.pattern()).collect();
        assert_eq!(patterns, declared, "{}", consumer.name);
        let role = get_att(&function["Properties"]["Role"])
            .unwrap()
            .trim_end_matches(".Arn");
        roles.insert(role.to_owned());
    }
    // Only the consumers' roles may read the stream.
    assert_eq!(stream_readers, roles);
}
