//! Test support: [`spawn_app`] gives each test its own fresh database and
//! the whole API, called in-process through the same router and pipeline
//! as the local server.
//!
//! The database is the embedded engine (dynoxide) served on a loopback port
//! and reached through the real AWS SDK. With `TEST_DYNAMODB_ENDPOINT` set,
//! the tests instead run against that server (AWS's DynamoDB Local in
//! `make test`), each in a table of its own.

use std::sync::Arc;

use conduit_common::aws::sdk_config;
use conduit_common::config::{Budget, Config};
use conduit_common::db::Db;
use conduit_common::db::follows::follow_item;
use conduit_common::db::sessions::Session;
use conduit_common::db::users::User;
use conduit_common::domain::Role;
use conduit_common::domain::UserStatus;
use conduit_common::events::consumer::Consumers;
use conduit_common::http::Router;
use conduit_common::lambda_http::Body;
use conduit_common::lambda_http::http::{self, Method, StatusCode};
use conduit_common::meter::Usage;
use conduit_common::state::{AppState, dynamodb_client_from};
use local::event_source::{EventSource, Storage};
use serde_json::{Value, json};

pub mod faults;
pub mod over_http;
pub mod shared_cache;
pub use faults::{FailingWrite, Fault, FaultProxy, LostAnswer};

/// One argon2id hash of `password123`, computed once per test binary.
async fn password123_hash() -> String {
    static HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    HASH.get_or_init(|| async {
        conduit_common::auth::password::hash("password123".into())
            .await
            .expect("hash")
    })
    .await
    .clone()
}

/// The path of `path`, relative to the repository root (the tests read
/// the route table's other mirrors and the documentation from the tree).
pub fn repo_path(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
}

/// The text of the file at `path`, relative to the repository root.
pub fn repo_file(path: &str) -> String {
    std::fs::read_to_string(repo_path(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The slugs of a list response's articles, in order.
pub fn slugs(body: &Value) -> Vec<&str> {
    body["articles"]
        .as_array()
        .expect("a list of articles")
        .iter()
        .map(|a| a["slug"].as_str().unwrap())
        .collect()
}

/// A response body as the tests compare it: `Null` when empty, JSON when
/// the response says so, text (lossily) otherwise.
pub fn body_value(headers: &http::HeaderMap, bytes: &[u8]) -> Value {
    let is_json = headers
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if bytes.is_empty() {
        Value::Null
    } else if is_json {
        serde_json::from_slice(bytes).expect("JSON response body")
    } else {
        Value::String(String::from_utf8_lossy(bytes).into_owned())
    }
}

pub const TEST_SECRET: &str = "test-secret-test-secret-test-secret-0123";

pub struct TestApp {
    pub state: Arc<AppState>,
    router: Router,
    /// The stream consumers, run when the test says so ([`TestApp::drain`]).
    pub events: EventSource,
    sdk: aws_config::SdkConfig,
    /// Whether the table has its change stream, for the consumers to read.
    streaming: bool,
}

#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub body: Value,
}

impl TestResponse {
    /// The first message for `field` in an error body.
    pub fn error(&self, field: &str) -> &str {
        self.body["errors"][field][0].as_str().unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// What the request cost, from its `Server-Timing` header (the app must
    /// run with `SERVER_TIMING=1`).
    pub fn cost(&self) -> Usage {
        let timing = self
            .header("server-timing")
            .expect("a Server-Timing header");
        Usage::from_server_timing(timing)
            .expect("a Server-Timing header as the API writes it")
            .1
    }
}

async fn start_embedded() -> String {
    let database = dynoxide::Database::memory().expect("in-memory database");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(dynoxide::server::serve_on(listener, database));
    endpoint
}

/// The engine a test runs on, and a table name of its own on it.
async fn engine() -> (String, String) {
    match std::env::var("TEST_DYNAMODB_ENDPOINT") {
        Ok(endpoint) if !endpoint.is_empty() => (endpoint, format!("test-{}", ulid::Ulid::new())),
        _ => (start_embedded().await, "conduit".to_owned()),
    }
}

/// The API on a fresh, empty table. `extra` overrides configuration variables.
///
/// Its DynamoDB calls have no production time budget, and retry longer
/// ([`Budget::PATIENT`]): on a busy machine a slow or briefly stalled
/// engine makes a test slow, not a 503. Only the outage tests hold the API
/// to a budget ([`spawn_app_with_faults`]).
///
/// The table has no change stream: only the tests that run the consumers
/// need one ([`spawn_app_with_consumers`]). DynamoDB Local keeps every
/// stream record, a deleted table's too, and every write after slows down
/// with their number: a 5,000-follow seed took 6 s on a fresh engine and
/// 22 s after the RBAC test's writes had gone to a stream (`make fidelity`).
pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    let (endpoint, table) = engine().await;
    let app = spawn_app_on(&endpoint, &table, extra, Budget::PATIENT).await;
    app.without_stream().await
}

/// The API on a fresh table with its change stream, as in AWS: for tests
/// that run the stream consumers ([`TestApp::drain`], [`TestApp::event_source`]).
pub async fn spawn_app_with_consumers(extra: &[(&str, &str)]) -> TestApp {
    let (endpoint, table) = engine().await;
    spawn_app_on(&endpoint, &table, extra, Budget::PATIENT).await
}

/// An API that reaches its table through a [`FaultProxy`], so that the
/// test can take the database away, slow it down or make it throttle.
pub struct FaultyApp {
    /// The API through the proxy, held to the budget the test chose.
    pub app: TestApp,
    /// The same table reached directly, without a time budget: to set up
    /// and check data whatever the proxy is doing.
    pub direct: TestApp,
    pub proxy: FaultProxy,
}

/// A fresh table behind a [`FaultProxy`], its API held to `budget`.
pub async fn spawn_app_with_faults(budget: Budget) -> FaultyApp {
    let (endpoint, table) = engine().await;
    let proxy = FaultProxy::start(&endpoint).await;
    let direct = spawn_app_on(&endpoint, &table, &[], Budget::PATIENT).await;
    let mut app = spawn_app_on(&proxy.endpoint(), &table, &[], budget).await;
    let direct = direct.without_stream().await;
    app.streaming = false;
    FaultyApp { app, direct, proxy }
}

async fn spawn_app_on(
    endpoint: &str,
    table: &str,
    extra: &[(&str, &str)],
    budget: Budget,
) -> TestApp {
    let (endpoint, table) = (endpoint.to_owned(), table.to_owned());
    let extra: Vec<(String, String)> = extra
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut config = Config::from_lookup(|name| {
        if let Some((_, value)) = extra.iter().find(|(k, _)| k == name) {
            return Some(value.clone());
        }
        match name {
            "TABLE_NAME" => Some(table.clone()),
            "JWT_SECRET" => Some(TEST_SECRET.to_owned()),
            "DYNAMODB_ENDPOINT" => Some(endpoint.clone()),
            _ => None,
        }
    })
    .expect("test configuration");
    config.budget = budget;
    let sdk = sdk_config(config.dynamodb_endpoint.as_deref()).expect("SDK configuration");
    let client = dynamodb_client_from(&sdk, &config.budget);
    let state = Arc::new(AppState::new(config, client));
    state.db.ensure_table().await.expect("table created");
    let events = EventSource::new(
        &sdk,
        state.db.clone(),
        functions::CONSUMERS,
        Storage::Memory,
    )
    .expect("event source");
    TestApp {
        state,
        router: Router::new(functions::ROUTES),
        events,
        sdk,
        streaming: true,
    }
}

/// Held by the tests that load the engine most (thousands of items, whole
/// streams replayed), so that they do not run at once and starve the
/// others on a shared engine (DynamoDB Local in `make fidelity`).
pub async fn heavy_test() -> tokio::sync::MutexGuard<'static, ()> {
    static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    HEAVY.lock().await
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

impl TestApp {
    /// Another process on the same table, with caches of its own: what a
    /// second Lambda function is to this one.
    pub fn another_process(&self) -> TestApp {
        self.another_process_configured(|_| {})
    }

    /// Another process on the same table, its configuration changed by
    /// `change` (a read cache of its own length, a closed origin).
    pub fn another_process_configured(&self, change: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = self.state.config.clone();
        change(&mut config);
        let state = AppState::new(config, self.state.db.client.clone());
        TestApp {
            state: Arc::new(state),
            router: Router::new(functions::ROUTES),
            events: self.events.clone(),
            sdk: self.sdk.clone(),
            streaming: self.streaming,
        }
    }

    /// What a scheduled job runs with, on this app's table.
    pub fn job_context(&self) -> conduit_common::events::JobContext {
        conduit_common::events::JobContext {
            db: self.state.db.clone(),
            sdk: self.sdk.clone(),
        }
    }

    /// Another process on the same table whose DynamoDB client is `client`
    /// (one with a fault of [`faults`], say).
    pub fn with_client(&self, client: aws_sdk_dynamodb::Client) -> TestApp {
        TestApp {
            state: Arc::new(AppState::new(self.state.config.clone(), client)),
            ..self.another_process()
        }
    }

    /// Another event source on this app's stream, with no checkpoints (it
    /// starts from the oldest record) and its own on-failure records:
    /// `consumers` reaching the table through `db`.
    pub fn event_source(&self, db: Db, consumers: &'static Consumers) -> EventSource {
        self.event_source_in(db, consumers, Storage::Memory)
    }

    /// Another event source, as [`TestApp::event_source`], running every
    /// consumer on a database that fails their `nth` transaction, once.
    pub fn event_source_failing_at(&self, nth: i64) -> (FailingWrite, EventSource) {
        let failing = FailingWrite::default();
        failing.arm(nth);
        let client = failing.client_like(&self.state.db.client);
        let db = Db::new(client, self.state.db.table.clone());
        (failing, self.event_source(db, functions::CONSUMERS))
    }

    /// The same, keeping its checkpoints and failures in `storage`.
    pub fn event_source_in(
        &self,
        db: Db,
        consumers: &'static Consumers,
        storage: Storage,
    ) -> EventSource {
        self.assert_streaming();
        EventSource::new(&self.sdk, db, consumers, storage).expect("event source")
    }

    fn assert_streaming(&self) {
        assert!(
            self.streaming,
            "the consumers read the table's stream: spawn_app_with_consumers() makes one"
        );
    }

    /// Turns the table's stream off ([`spawn_app_with`] says why).
    async fn without_stream(mut self) -> Self {
        use aws_sdk_dynamodb::types::StreamSpecification;
        let db = &self.state.db;
        let turned_off = db
            .client
            .update_table()
            .table_name(&db.table)
            .stream_specification(
                StreamSpecification::builder()
                    .stream_enabled(false)
                    .build()
                    .expect("complete stream specification"),
            )
            .send()
            .await;
        if let Err(err) = turned_off {
            // A retried attempt whose first try went through finds no stream.
            let table = db
                .client
                .describe_table()
                .table_name(&db.table)
                .send()
                .await;
            let table = table.expect("table described");
            let streaming = conduit_common::db::schema::streaming(table.table());
            assert!(!streaming, "stream not turned off: {err:?}");
        }
        self.streaming = false;
        self
    }

    /// Turns the table's stream on (again): what was written before is in
    /// no stream record, so a large seed sets nothing off.
    pub async fn with_stream(mut self) -> Self {
        self.state
            .db
            .ensure_table()
            .await
            .expect("stream turned on");
        self.streaming = true;
        self
    }

    /// Deletes this test's table, with its stream, on a shared engine
    /// (DynamoDB Local in `make fidelity`), which slows down for every test
    /// as its data grows; the tests that write thousands of items call it
    /// last. The embedded engine is the test's own, and goes with it.
    pub async fn finish(self) {
        if std::env::var("TEST_DYNAMODB_ENDPOINT").is_ok_and(|e| !e.is_empty()) {
            let deleted = self
                .state
                .db
                .client
                .delete_table()
                .table_name(&self.state.db.table)
                .send()
                .await;
            // Not found: a retried attempt whose first try deleted it.
            if let Err(err) = deleted {
                let gone = err
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception());
                assert!(gone, "table not deleted: {err:?}");
            }
        }
    }

    /// Runs the stream consumers over everything written so far, as the
    /// event source mapping would, and returns how many records were read.
    pub async fn drain(&self) -> usize {
        self.assert_streaming();
        self.events.drain().await.expect("the stream drained")
    }

    /// Sends a request with optional JSON body and token.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> TestResponse {
        let mut builder = http::Request::builder().method(method).uri(path);
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Token {token}"));
        }
        let body = match body {
            Some(body) => Body::Text(body.to_string()),
            None => Body::Empty,
        };
        self.send(builder.body(body).unwrap()).await
    }

    /// A GET with extra headers.
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> TestResponse {
        let mut builder = http::Request::builder().method(Method::GET).uri(path);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        self.send(builder.body(Body::Empty).unwrap()).await
    }

    /// Sends a fully built request (custom headers, raw bodies).
    pub async fn send(&self, request: conduit_common::http::Request) -> TestResponse {
        let response = self.router.dispatch(self.state.clone(), request).await;
        let (parts, body) = response.into_parts();
        TestResponse {
            body: body_value(&parts.headers, body.as_ref()),
            status: parts.status,
            headers: parts.headers,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.request(Method::GET, path, None, token).await
    }

    pub async fn post(&self, path: &str, body: Value, token: Option<&str>) -> TestResponse {
        self.request(Method::POST, path, Some(body), token).await
    }

    pub async fn put(&self, path: &str, body: Value, token: Option<&str>) -> TestResponse {
        self.request(Method::PUT, path, Some(body), token).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.request(Method::DELETE, path, None, token).await
    }

    /// A GraphQL request (`POST /api/graphql`) with `variables`, as `token`'s user.
    pub async fn graphql(
        &self,
        query: &str,
        variables: Value,
        token: Option<&str>,
    ) -> TestResponse {
        let body = json!({"query": query, "variables": variables});
        self.post("/api/graphql", body, token).await
    }

    /// Registers `name` (email `name@example.com`, password `password123`)
    /// and returns the token.
    pub async fn register(&self, name: &str) -> String {
        let response = self
            .post(
                "/api/users",
                json!({"user": {"username": name, "email": format!("{name}@example.com"), "password": "password123"}}),
                None,
            )
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{:?}", response.body);
        response.body["user"]["token"].as_str().unwrap().to_owned()
    }

    /// Logs in as `name` (email `name@example.com`, as [`TestApp::register`]
    /// makes it) with `password`.
    pub async fn login(&self, name: &str, password: &str) -> TestResponse {
        let credentials =
            json!({"user": {"email": format!("{name}@example.com"), "password": password}});
        self.post("/api/users/login", credentials, None).await
    }

    /// Sets the bio of the user `token` signs in, through the API.
    pub async fn set_bio(&self, token: &str, bio: &str) {
        let edit = self
            .put("/api/user", json!({"user": {"bio": bio}}), Some(token))
            .await;
        assert_eq!(edit.status, StatusCode::OK, "{:?}", edit.body);
    }

    /// Makes a user directly in the table, skipping the password hashing of
    /// the API (for tests that need many users); its password is
    /// `password123`. Returns a token.
    pub async fn seed_user(&self, name: &str, role: Role) -> String {
        self.seed_user_record(name, role).await.1
    }

    /// `count` users whom `reader` follows, written straight into the table
    /// in bulk (for tests of large follow graphs; they have no username
    /// guards, so they are reached by id, and no password). Returns them.
    pub async fn seed_followed(&self, reader: &str, count: usize) -> Vec<User> {
        self.seed_follows(reader, count, true).await
    }

    /// `count` users who follow `author`, as [`TestApp::seed_followed`].
    pub async fn seed_followers(&self, author: &str, count: usize) -> Vec<User> {
        self.seed_follows(author, count, false).await
    }

    async fn seed_follows(&self, center: &str, count: usize, center_follows: bool) -> Vec<User> {
        let mut center = self.user(center).await;
        let now = std::time::SystemTime::now();
        let others: Vec<User> = (0..count)
            .map(|n| User {
                id: conduit_common::time::new_id(now).to_string(),
                username: format!("{}-{n}", center.username),
                email: format!("{}-{n}@example.com", center.username),
                following_count: u64::from(!center_follows),
                followers_count: u64::from(center_follows),
                feed_count: 0,
                pulls: Default::default(),
                articles_count: 0,
                favorites_count: 0,
                ..center.clone()
            })
            .collect();
        let mut items = vec![];
        for other in &others {
            items.push(other.item().unwrap());
            items.push(match center_follows {
                true => follow_item(&center.id, &other.id, false),
                false => follow_item(&other.id, &center.id, false),
            });
        }
        match center_follows {
            true => center.following_count += count as u64,
            false => center.followers_count += count as u64,
        }
        items.push(center.item().unwrap());
        self.state.db.put_all(items).await.expect("seeded");
        others
    }

    /// A user `leaver` with `articles` articles (tagged `mine`; a user `fan`
    /// favorites and comments on the first 20), who follows `follows` users
    /// and is followed by `followers` (those seeded in bulk): an account
    /// worth deleting. Returns its token and everyone it follows or who
    /// follows it.
    pub async fn seed_large_account(
        &self,
        articles: usize,
        follows: usize,
        followers: usize,
    ) -> (String, Vec<User>) {
        let leaver = self.register("leaver").await;
        let fan = self.register("fan").await;
        let mut slugs = vec![];
        for n in 0..articles {
            slugs.push(
                self.create_article(&leaver, &format!("Mine {n}"), &["mine"])
                    .await,
            );
        }
        for slug in slugs.iter().take(20) {
            let path = format!("/api/articles/{slug}");
            self.post(&format!("{path}/favorite"), json!({}), Some(&fan))
                .await;
            let comment = json!({"comment": {"body": "nice"}});
            self.post(&format!("{path}/comments"), comment, Some(&fan))
                .await;
        }
        let mut around = self.seed_followed("leaver", follows).await;
        around.extend(self.seed_followers("leaver", followers).await);
        (leaver, around)
    }

    /// The user named `username`, read afresh from the table.
    pub async fn user(&self, username: &str) -> User {
        self.state
            .db
            .user_by_username(username)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no user {username}"))
    }

    /// Makes `username` look followed by `count` users (their counter only,
    /// no follow items): an audience too large to seed, for what depends on
    /// its size alone.
    pub async fn set_followers_count(&self, username: &str, count: u64) {
        let db = &self.state.db;
        let user = self.user(username).await;
        db.client
            .update_item()
            .table_name(&db.table)
            .set_key(Some(conduit_common::db::key_of(
                conduit_common::db::keys::user(&user.id),
            )))
            .update_expression("SET followers_count = :count")
            .expression_attribute_values(":count", conduit_common::db::n(count))
            .send()
            .await
            .expect("followers count set");
    }

    /// A session for `user_id` as a sign-in would begin it, not yet stored.
    pub fn new_session(&self, user_id: &str) -> Session {
        let ttl = self.state.config.token_ttl;
        Session::begin(user_id, ttl, "127.0.0.1".into(), Some("conduit-tests"))
    }

    /// A token for a user made without one (by [`TestApp::seed_followed`]
    /// or [`TestApp::seed_followers`]): a session begun as a login would.
    pub async fn sign_in(&self, user: &User) -> String {
        let session = self.new_session(&user.id);
        let current = self.state.db.user_by_id(&user.id).await.unwrap();
        let current = current.expect("the user exists");
        self.state
            .db
            .begin_session(&current, &session)
            .await
            .expect("session begun");
        self.state.jwt.issue(&user.id, &session.id).expect("token")
    }

    /// A user made straight in the table, signed in: the user and a token.
    async fn seed_user_record(&self, name: &str, role: Role) -> (User, String) {
        let now = std::time::SystemTime::now();
        let user = User {
            id: conduit_common::time::new_id(now).to_string(),
            username: name.to_owned(),
            email: format!("{name}@example.com"),
            password_hash: password123_hash().await,
            bio: None,
            image: None,
            role,
            status: UserStatus::Active,
            sessions: Default::default(),
            articles_count: 0,
            favorites_count: 0,
            following_count: 0,
            followers_count: 0,
            feed_count: 0,
            pulls: Default::default(),
            created_at: conduit_common::time::iso(now),
        };
        let session = self.new_session(&user.id);
        self.state
            .db
            .create_user(&user, &session)
            .await
            .expect("user stored");
        let token = self.state.jwt.issue(&user.id, &session.id).expect("token");
        (user, token)
    }

    /// Creates an article and returns its slug.
    pub async fn create_article(&self, token: &str, title: &str, tags: &[&str]) -> String {
        let response = self
            .post(
                "/api/articles",
                json!({"article": {"title": title, "description": "d", "body": "b", "tagList": tags}}),
                Some(token),
            )
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{:?}", response.body);
        response.body["article"]["slug"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}
