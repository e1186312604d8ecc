//! `/api/graphql`: the whole API over GraphQL (async-graphql).
//!
//! Every field the REST API also serves is answered by that route's own
//! handler, called in-process for the caller the pipeline authenticated
//! once ([`calls`]): the same authorization (the route's access rule), the
//! same validation, data layer and round trips, and no second copy of any
//! rule. What GraphQL adds beyond REST, the comments of every article of a
//! page, loads through a data loader that batches ([`loaders`]); a list's
//! articles are decorated by another (their authors, follows and favorites
//! with the comments' authors). Limits
//! (below) keep any query within the cost of a few REST pages.
//!
//! Errors of the HTTP exchange itself (a body that is not a GraphQL
//! request, too many operations, a mutation over GET) get the REST API's
//! error format and status; everything inside a request is GraphQL's: 200,
//! with `errors` whose `extensions.code` says what went wrong
//! ([`errors`]), or 503 with `Retry-After` when the database was down.

mod calls;
mod errors;
pub mod explorer;
mod loaders;
mod schema;
mod types;

use std::sync::{Arc, LazyLock};

use async_graphql::dataloader::DataLoader;
use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{BatchRequest, BatchResponse, Context, EmptySubscription, Schema, Variables};
use conduit_common::ApiError;
use conduit_common::http::{ApiResult, Ctx, NeverStore, json};
use conduit_common::lambda_http::http::{Method, StatusCode, header};
use conduit_common::meter;
use conduit_common::telemetry::metrics::Outcome;

use calls::Caller;
use loaders::{Loaded, ResponseLoader, Shown};
pub use schema::{Mutation, Query};

pub type ConduitSchema = Schema<Query, Mutation, EmptySubscription>;

/// How deep a query may nest: the deepest useful one (a page's articles'
/// comments' authors) is 5.
pub const MAX_DEPTH: usize = 10;
/// How deep the parser goes into any nesting (selections, values) before
/// giving up: its own stack's guard, beyond [`MAX_DEPTH`].
pub const MAX_RECURSION: usize = 32;
/// Fields a query may ask for, lists counted by their `limit`: a page of
/// 20 articles with their authors and 20 comments each, say, and no more.
pub const MAX_COMPLEXITY: usize = 5_000;
/// Operations in one batched request.
pub const MAX_BATCH: usize = 10;
/// The longest query text.
pub const MAX_QUERY_BYTES: usize = 16 * 1024;
/// The most comments `Article.comments` gives each article.
pub const COMMENTS_PER_ARTICLE: usize = 100;

/// The schema, built once per process.
pub fn schema() -> &'static ConduitSchema {
    static SCHEMA: LazyLock<ConduitSchema> = LazyLock::new(|| {
        // Introspection stays on: this is a public API, and the schema is
        // published anyway (functions/schema.graphql).
        Schema::build(Query, Mutation, EmptySubscription)
            .limit_depth(MAX_DEPTH)
            .limit_complexity(MAX_COMPLEXITY)
            .limit_recursive_depth(MAX_RECURSION)
            .limit_directives(4)
            .finish()
    });
    &SCHEMA
}

/// The schema in GraphQL's SDL, as `make generate` writes it.
pub fn sdl() -> String {
    schema().sdl()
}

/// What `key` names, through the request's loader.
async fn load_one(ctx: &Context<'_>, key: Shown) -> async_graphql::Result<Option<Loaded>> {
    ctx.data_unchecked::<Arc<DataLoader<ResponseLoader>>>()
        .load_one(key)
        .await
        .map_err(|err| errors::graphql_error(&err))
}

/// `POST /api/graphql` (queries and mutations, batches too), `GET
/// /api/graphql?query=` (queries only), and GraphiQL's page for a browser
/// that opens `/api/graphql`.
#[tracing::instrument(skip_all)]
pub async fn execute(ctx: Ctx) -> ApiResult {
    if ctx.req.method() == Method::GET && ctx.query("query").is_none() && explorer::wants_page(&ctx)
    {
        return explorer::page();
    }
    let batch = request(&ctx)?;
    let mutates = batch.iter().any(runs_mutation);
    let caller = Arc::new(Caller::new(&ctx));
    // A mutation runs only for a caller known to be who their token says;
    // a query's reads run while the caller is read (it answers nothing
    // unless they are).
    if mutates {
        caller.authenticated().await?;
    }
    // The loader's batches run on tasks of their own: they count in this
    // request's meter all the same.
    let meter = meter::current().unwrap_or_default();
    let loader = DataLoader::new(ResponseLoader(caller.clone()), move |load| {
        tokio::spawn(meter::within(meter.clone(), load))
    })
    .max_batch_size(100);
    let loader = Arc::new(loader);
    let batch = batch.data(caller.clone()).data(loader);
    let (auth, response) = futures::join!(caller.authenticated(), schema().execute_batch(batch));
    auth?;
    respond(&response, mutates)
}

/// The GraphQL request(s) of an HTTP request, within the limits.
fn request(ctx: &Ctx) -> Result<BatchRequest, ApiError> {
    let batch = match *ctx.req.method() {
        Method::GET => {
            let query = ctx
                .query("query")
                .ok_or_else(|| ApiError::field("query", "can't be blank"))?;
            let variables = match ctx.query("variables") {
                Some(json) => serde_json::from_str(&json)
                    .map(Variables::from_json)
                    .map_err(|err| ApiError::field("variables", format!("is invalid: {err}")))?,
                None => Variables::default(),
            };
            let mut request = async_graphql::Request::new(query).variables(variables);
            if let Some(name) = ctx.query("operationName") {
                request = request.operation_name(name);
            }
            refuse_mutations(&request)?;
            BatchRequest::Single(request)
        }
        _ => ctx.json::<BatchRequest>()?,
    };
    let count = batch.iter().count();
    if count > MAX_BATCH {
        return Err(ApiError::field(
            "batch",
            format!("has {count} operations; at most {MAX_BATCH}"),
        ));
    }
    if batch.iter().any(|r| r.query.trim().is_empty()) {
        return Err(ApiError::field("query", "can't be blank"));
    }
    if batch.iter().any(|r| r.query.len() > MAX_QUERY_BYTES) {
        return Err(ApiError::field(
            "query",
            format!("is longer than {MAX_QUERY_BYTES} bytes"),
        ));
    }
    Ok(batch)
}

/// GET is for reads: caches and browsers may repeat it.
fn refuse_mutations(request: &async_graphql::Request) -> Result<(), ApiError> {
    match runs_mutation(request) {
        true => Err(ApiError::field("query", "mutations must be sent with POST")),
        false => Ok(()),
    }
}

/// Whether `request` runs a mutation (or may: with several operations and
/// none named). A query that does not parse runs nothing; the executor
/// says why.
fn runs_mutation(request: &async_graphql::Request) -> bool {
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return false;
    };
    match &document.operations {
        DocumentOperations::Single(op) => op.node.ty == OperationType::Mutation,
        DocumentOperations::Multiple(ops) => match &request.operation_name {
            Some(name) => ops
                .get(name.as_str())
                .is_some_and(|op| op.node.ty == OperationType::Mutation),
            None => ops.values().any(|op| op.node.ty == OperationType::Mutation),
        },
    }
}

/// 200 with the GraphQL response, or 503 with `Retry-After` when a field
/// of a query failed because the database did. Not after a mutation: one
/// may have been done before another failed, and a client that retries a
/// 503 would do it twice (each failed field says `UNAVAILABLE` and when to
/// retry, all the same). Never kept by a cache: a response may carry a
/// token (login) or say where a user signs in from (sessions).
///
/// A failed field is also reported to the metrics, whatever the status
/// (`Outcome`): a bug's as a fault, the database's as a dependency failure,
/// so that GraphQL's failures reach the same alarms as REST's.
fn respond(response: &BatchResponse, mutates: bool) -> ApiResult {
    let codes: Vec<&async_graphql::Value> = match response {
        BatchResponse::Single(r) => vec![r],
        BatchResponse::Batch(rs) => rs.iter().collect(),
    }
    .into_iter()
    .flat_map(|r| &r.errors)
    .filter_map(|e| e.extensions.as_ref().and_then(|x| x.get("code")))
    .collect();
    let failed = |code: &str| {
        codes
            .iter()
            .any(|c| **c == async_graphql::Value::from(code))
    };
    let outcome = if failed("INTERNAL_SERVER_ERROR") {
        Outcome::ServerError
    } else if failed("UNAVAILABLE") {
        Outcome::DependencyFailure
    } else {
        Outcome::Ok
    };
    let unavailable = failed("UNAVAILABLE") && !mutates;
    let status = match unavailable {
        true => StatusCode::SERVICE_UNAVAILABLE,
        false => StatusCode::OK,
    };
    let mut response = json(status, response)?;
    if unavailable {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    }
    response.extensions_mut().insert(NeverStore);
    response.extensions_mut().insert(outcome);
    Ok(response)
}
