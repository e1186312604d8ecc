//! The Lambda entry points: [`run`] for every API function, [`run_consumer`]
//! for the stream consumers, [`run_job`] for the scheduled jobs.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use aws_lambda_events::event::dynamodb;
use lambda_http::service_fn;
use lambda_runtime::{LambdaEvent, LambdaInvocation, Service};

use crate::auth::key_store::KeyStore;
use crate::auth::keys::RELOAD_AFTER;
use crate::aws;
use crate::config::{Budget, Config};
use crate::db::Db;
use crate::events::{Consumer, Job, JobAccess, JobContext};
use crate::http::{RequestIds, Route, TableAccess, handle};
use crate::state::{AppState, dynamodb_client_from};
use crate::telemetry::metrics;

/// Logs, traces, and the runtime every function runs on: one thread, since
/// a Lambda invocation is one request (or one batch) at a time.
fn start() -> Result<tokio::runtime::Runtime, lambda_runtime::Error> {
    crate::telemetry::init(&service_name())?;
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// The stack's name, set by the template: the functions' metrics and
/// traces are told apart by it.
fn service_name() -> String {
    std::env::var("SERVICE_NAME").unwrap_or_else(|_| "conduit".into())
}

/// Runs `handler` on the Lambda runtime as `lambda_runtime::run` does, and
/// hands each invocation's traces over once its response has been sent
/// ([`crate::telemetry::traces`]: nothing when they are off), so that the
/// caller never waits for them.
async fn serve<A, F, R, B, S, D, E>(handler: F) -> Result<(), lambda_runtime::Error>
where
    F: Service<LambdaEvent<A>, Response = R>,
    F::Future: Future<Output = Result<R, F::Error>> + 'static,
    F::Error: Into<lambda_runtime::Diagnostic> + std::fmt::Debug,
    A: for<'de> serde::Deserialize<'de>,
    R: lambda_runtime::IntoFunctionResponse<B, S> + 'static,
    B: serde::Serialize + 'static,
    S: futures::Stream<Item = Result<D, E>> + Unpin + Send + 'static,
    D: Into<bytes::Bytes> + Send + 'static,
    E: Into<lambda_runtime::Error> + Send + std::fmt::Debug + 'static,
{
    lambda_runtime::Runtime::new(handler)
        .layer(lambda_runtime::layers::TracingLayer::new())
        .layer(lambda_runtime::tower::layer::layer_fn(ExportTraces))
        .run()
        .await
}

/// [`serve`]'s outermost layer: around the invocation and its response.
struct ExportTraces<S>(S);

impl<S> Service<LambdaInvocation> for ExportTraces<S>
where
    S: Service<LambdaInvocation, Response = (), Error = lambda_runtime::Error>,
    S::Future: 'static,
{
    type Response = ();
    type Error = lambda_runtime::Error;
    type Future = Pin<Box<dyn Future<Output = Result<(), lambda_runtime::Error>>>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, invocation: LambdaInvocation) -> Self::Future {
        let answered = self.0.call(invocation);
        Box::pin(async move {
            let done = answered.await;
            crate::telemetry::traces::export().await;
            done
        })
    }
}

/// The SDK's configuration in a function ([`aws::sdk_config`]: what Lambda
/// puts in the environment), with the table at `DYNAMODB_ENDPOINT` when it
/// is set: a local engine (`cargo lambda watch`).
fn sdk_config() -> Result<aws_config::SdkConfig, String> {
    aws::sdk_config(std::env::var("DYNAMODB_ENDPOINT").ok().as_deref())
}

/// Serves a function's routes (one, or several methods of one path) on the
/// Lambda runtime. Configuration, keys, the
/// DynamoDB client and the metrics recorder are built once here, at cold
/// start, and shared by every invocation this process handles; each
/// invocation's metrics are written to the log stream when it ends.
pub fn run(routes: &'static [&'static Route]) -> Result<(), lambda_http::Error> {
    let function = routes.first().map_or("", |route| route.function);
    start()?.block_on(async move {
        let sdk = sdk_config()?;
        // A function's configuration always has the production budget.
        let client = dynamodb_client_from(&sdk, &Budget::PRODUCTION);
        // Every one-time cost is paid here, in Init, not by the first
        // request: the table's connection opens while the secret is read
        // (two TLS handshakes in AWS, at once).
        let uses_table = routes.iter().any(|r| r.deploy.table != TableAccess::None);
        let connect = async {
            match std::env::var("TABLE_NAME") {
                Ok(table) if uses_table => Db::new(client.clone(), table).connect().await,
                _ => {}
            }
        };
        let keys = KeyReload::new(sdk);
        let (secret, ()) = futures::join!(keys.first_load(), connect);
        let secret = secret?;
        let config = Config::from_lookup(|name| match name {
            "JWT_SECRET" => secret.clone(),
            other => std::env::var(other).ok(),
        })
        .inspect_err(|err| tracing::error!(error = %err, "invalid configuration"))?;
        let state = Arc::new(AppState::new(config, client));
        let metrics = metrics::init(&service_name())?;
        let cold = AtomicBool::new(true);
        serve(lambda_http::Adapter::from(service_fn(
            move |req: lambda_http::Request| {
                let state = state.clone();
                if cold.swap(false, Ordering::Relaxed) {
                    metrics::record_cold_start(function);
                }
                keys.when_due(&state);
                // API Gateway sends this function only its routes' methods.
                let route = routes
                    .iter()
                    .find(|route| route.method == req.method())
                    .unwrap_or(&routes[0]);
                async move {
                    let ids = RequestIds::of(&req);
                    let response = handle(route, state, req).await;
                    metrics::flush(metrics, &ids.request_id, ids.trace_id.as_deref());
                    Ok::<_, Infallible>(response)
                }
            },
        )))
        .await
    })
}

/// Where the signing key set comes from, read at cold start and again every
/// [`RELOAD_AFTER`], so that a long-lived instance follows the rotations
/// (`auth::keys`): in the background of the invocation that finds it due,
/// which goes on with the set it has. A failed reload keeps the old set
/// until the next try.
struct KeyReload {
    /// In AWS the Parameter Store SecureString `JWT_SECRET_PARAM`; none
    /// where the set is given directly as `JWT_SECRET` (locally).
    store: Option<Arc<KeyStore>>,
    loaded: std::sync::Mutex<std::time::Instant>,
}

impl KeyReload {
    fn new(sdk: aws_config::SdkConfig) -> Self {
        let store = match std::env::var("JWT_SECRET") {
            Ok(_) => None,
            Err(_) => std::env::var("JWT_SECRET_PARAM").ok().map(|name| {
                Arc::new(KeyStore::Parameter {
                    sdk: Box::new(sdk),
                    name,
                })
            }),
        };
        Self {
            store,
            loaded: std::sync::Mutex::new(std::time::Instant::now()),
        }
    }

    /// The set for the configuration's `JWT_SECRET`, at cold start.
    async fn first_load(&self) -> Result<Option<String>, String> {
        match &self.store {
            Some(store) => store
                .load()
                .await
                .map(|set| Some(set.to_json()))
                .inspect_err(|err| tracing::error!(error = %err, "cannot read the JWT secret")),
            None => Ok(std::env::var("JWT_SECRET").ok()),
        }
    }

    /// Starts the reload when due; its task, for tests to wait on.
    fn when_due(&self, state: &Arc<AppState>) -> Option<tokio::task::JoinHandle<()>> {
        let store = self.store.as_ref()?;
        let mut loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        if loaded.elapsed() < RELOAD_AFTER {
            return None;
        }
        *loaded = std::time::Instant::now();
        let (store, state) = (store.clone(), state.clone());
        Some(tokio::spawn(async move {
            match store.load().await {
                Ok(set) => state.jwt.install(&set),
                Err(err) => tracing::warn!(error = %err, "cannot reload the signing keys"),
            }
        }))
    }
}

/// Runs one stream consumer on the Lambda runtime. It needs the table and
/// nothing else: no JWT secret, no HTTP pipeline. The client and the metrics
/// recorder are built once, at cold start; each invocation is one batch,
/// answered with its partial batch failure (the mapping is configured with
/// `ReportBatchItemFailures`), its metrics written when it ends.
pub fn run_consumer(consumer: &'static Consumer) -> Result<(), lambda_runtime::Error> {
    start()?.block_on(async move {
        let sdk = sdk_config()?;
        let table = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME must be set")?;
        let db = Db::new(dynamodb_client_from(&sdk, &Budget::PRODUCTION), table);
        db.connect().await;
        let metrics = metrics::init(&service_name())?;
        serve(lambda_runtime::service_fn(
            move |event: LambdaEvent<dynamodb::Event>| {
                let db = db.clone();
                async move {
                    let response = consumer.run_batch(&db, &event.payload.records).await;
                    metrics::flush(metrics, &event.context.request_id, None);
                    Ok::<_, Infallible>(response)
                }
            },
        ))
        .await
    })
}

/// Runs one scheduled job on the Lambda runtime: the table's client and the
/// metrics recorder made at cold start, then one run per invocation (the
/// schedule's event says nothing the job needs), its metrics written when
/// it ends. A run that fails fails the invocation: Lambda's own `Errors`
/// metric counts it.
pub fn run_job(job: &'static Job) -> Result<(), lambda_runtime::Error> {
    start()?.block_on(async move {
        let sdk = sdk_config()?;
        let table = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME must be set")?;
        let db = Db::new(dynamodb_client_from(&sdk, &Budget::PRODUCTION), table);
        if job.access == JobAccess::Table {
            db.connect().await;
        }
        let context = Arc::new(JobContext { db, sdk });
        let metrics = metrics::init(&service_name())?;
        serve(lambda_runtime::service_fn(
            move |event: LambdaEvent<serde_json::Value>| {
                let context = context.clone();
                async move {
                    let done = (job.run)(&context).await;
                    metrics::flush(metrics, &event.context.request_id, None);
                    done.map_err(|err| lambda_runtime::Error::from(err.to_string()))
                }
            },
        ))
        .await
    })
}

#[cfg(test)]
mod tests {
    use std::time::{Instant, SystemTime};

    use super::*;

    #[tokio::test]
    async fn an_instance_follows_a_rotation_once_its_reload_is_due() {
        let dir = std::env::temp_dir().join(format!("conduit-reload-{}", ulid::Ulid::new()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = KeyStore::File(dir.join("keys"));
        let set = store.load_or_create().await.unwrap();
        let config = Config::from_lookup(|name| match name {
            "TABLE_NAME" => Some("t".into()),
            "JWT_SECRET" => Some(set.to_json()),
            _ => None,
        })
        .unwrap();
        let state = AppState::without_table(config);
        let rotated = store.rotate(SystemTime::now(), false).await.unwrap();
        let kid = |state: &AppState| {
            let token = state.jwt.issue("u", "s").unwrap();
            jsonwebtoken::decode_header(&token).unwrap().kid.unwrap()
        };

        let reload = KeyReload {
            store: Some(Arc::new(store)),
            loaded: std::sync::Mutex::new(Instant::now()),
        };
        assert!(reload.when_due(&state).is_none(), "loaded just now");
        assert_eq!(kid(&state), set.current.kid);

        *reload.loaded.lock().unwrap() = Instant::now() - RELOAD_AFTER;
        reload.when_due(&state).expect("due").await.unwrap();
        assert_eq!(kid(&state), rotated.current.kid);
        assert!(reload.when_due(&state).is_none(), "not due again at once");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
