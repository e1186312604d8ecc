//! Answering a GraphQL field with a REST route's own handler, in-process:
//! the route's access rule, validation, data access and view, with the
//! caller the pipeline authenticated once for the whole GraphQL request.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use async_graphql::Context;
use conduit_common::ApiError;
use conduit_common::auth::{Access, AuthUser, Authentication, authorize};
use conduit_common::db::Db;
use conduit_common::http::{Ctx, Route, Viewer};
use conduit_common::lambda_http::http::header::CONTENT_TYPE;
use conduit_common::lambda_http::http::{self, Extensions, HeaderMap, HeaderValue};
use conduit_common::lambda_http::{Body, RequestExt};
use conduit_common::state::AppState;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::errors::graphql_error;

/// The most route calls one GraphQL request may make (every field of every
/// operation of a batch): a bound on what any query can cost, whatever its
/// shape, on top of the depth and complexity limits.
pub const MAX_ROUTE_CALLS: u32 = 50;

/// Who is asking, for every field of one GraphQL request.
pub struct Caller {
    state: Arc<AppState>,
    /// Read once, when a field first needs it: a query's reads run
    /// alongside (`execute` still waits for it, whatever the fields ask).
    auth: Authentication,
    /// The GraphQL request's headers and extensions (the client's address,
    /// API Gateway's request context), which every route call carries, so
    /// that login limits and sessions see the real client.
    headers: HeaderMap,
    extensions: Extensions,
    calls_left: AtomicU32,
    /// Set once a field of this request ended the caller's own session:
    /// the fields after it run as nobody.
    signed_out: AtomicBool,
    /// Password hashes this request may still cost (sign-in, registration,
    /// a new password): one, since each takes argon2id's 19 MiB and tens
    /// of milliseconds, and a sign-in may be slowed down by the login limits.
    hashes_left: AtomicU32,
}

/// How many password-hashing fields one GraphQL request may hold.
pub const MAX_HASHES: u32 = 1;

/// A route call's arguments: path parameters, query parameters, JSON body.
#[derive(Default)]
pub struct Args {
    path: Vec<(&'static str, String)>,
    query: Vec<(&'static str, String)>,
    body: Option<Value>,
}

impl Args {
    pub fn path(mut self, name: &'static str, value: impl ToString) -> Self {
        self.path.push((name, value.to_string()));
        self
    }

    /// A query parameter, when given.
    pub fn query(mut self, name: &'static str, value: Option<impl ToString>) -> Self {
        if let Some(value) = value {
            self.query.push((name, value.to_string()));
        }
        self
    }

    pub fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }
}

impl Caller {
    /// The caller of `ctx`, whose user is read when first asked for.
    pub fn new(ctx: &Ctx) -> Self {
        Self {
            state: ctx.state.clone(),
            auth: ctx.auth.clone(),
            headers: ctx.req.headers().clone(),
            extensions: ctx.req.extensions().clone(),
            calls_left: AtomicU32::new(MAX_ROUTE_CALLS),
            signed_out: AtomicBool::new(false),
            hashes_left: AtomicU32::new(MAX_HASHES),
        }
    }

    /// Who the request's token names (the user read, once), or why the
    /// whole request is refused.
    pub async fn authenticated(&self) -> Result<Option<Arc<AuthUser>>, ApiError> {
        self.auth.caller().await
    }

    /// The caller, unless a field of this request ended their session.
    async fn auth(&self) -> Result<Option<Arc<AuthUser>>, ApiError> {
        match self.signed_out.load(Ordering::Relaxed) {
            true => Ok(None),
            false => self.authenticated().await,
        }
    }

    /// After a field ended the caller's own session.
    pub fn sign_out(&self) {
        self.signed_out.store(true, Ordering::Relaxed);
    }

    /// The session the caller's token belongs to, if any.
    pub async fn session(&self) -> async_graphql::Result<Option<String>> {
        let auth = self.auth().await.map_err(|err| graphql_error(&err))?;
        Ok(auth.map(|auth| auth.session.clone()))
    }

    /// Takes one of the password hashes this request may cost.
    pub fn hash_password(&self) -> async_graphql::Result<()> {
        self.hashes_left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(1)
            })
            .map(drop)
            .map_err(|_| {
                graphql_error(&ApiError::field(
                    "query",
                    "may sign in, register or change a password once",
                ))
            })
    }

    /// The caller of the field being resolved.
    pub fn of<'a>(ctx: &Context<'a>) -> &'a Caller {
        ctx.data_unchecked::<Arc<Caller>>()
    }

    pub fn db(&self) -> &Db {
        &self.state.db
    }

    /// Who is reading, for personalising answers ([`Viewer::user`]).
    pub async fn viewer(&self) -> Result<Viewer, ApiError> {
        Ok(Viewer::from(self.auth().await?))
    }

    /// Serves `route` with `args` as its REST endpoint would for this
    /// caller, and reads its JSON answer as `T` (`()` for a 204).
    pub async fn call<T: DeserializeOwned>(
        &self,
        route: &'static Route,
        args: Args,
    ) -> async_graphql::Result<T> {
        self.try_call(route, args)
            .await
            .map_err(|err| graphql_error(&err))
    }

    /// Runs `find` (a part of `route`'s handler) as `route` would run for
    /// this caller: the same access rule, arguments and checks, with what
    /// it returns before the handler makes it a response.
    pub async fn serve<T, F, Fut>(
        &self,
        route: &'static Route,
        args: Args,
        find: F,
    ) -> async_graphql::Result<T>
    where
        F: FnOnce(Ctx) -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let served = match self.ctx(route, args).await {
            Ok(ctx) => find(ctx).await,
            Err(err) => Err(err),
        };
        served.map_err(|err| graphql_error(&err))
    }

    async fn try_call<T: DeserializeOwned>(
        &self,
        route: &'static Route,
        args: Args,
    ) -> Result<T, ApiError> {
        let ctx = self.ctx(route, args).await?;
        let response = (route.handler)(ctx).await?;
        let body: &[u8] = response.body().as_ref();
        match body.is_empty() {
            true => serde_json::from_value(Value::Null),
            false => serde_json::from_slice(body),
        }
        .map_err(ApiError::internal)
    }

    /// The request `route`'s handler would get for `args` from this caller.
    async fn ctx(&self, route: &'static Route, args: Args) -> Result<Ctx, ApiError> {
        self.spend(1)?;
        // As on REST, a route open to anyone ignores who is asking, and one
        // that only personalises its answer reads the caller alongside its
        // own reads; the others need the caller known first.
        let auth = match route.access {
            Access::Anonymous => Authentication::known(None),
            Access::Optional if self.signed_out.load(Ordering::Relaxed) => {
                Authentication::known(None)
            }
            Access::Optional => self.auth.clone(),
            Access::User | Access::Role(_) => {
                let auth = self.auth().await?;
                authorize(route.access, auth.as_deref())?;
                Authentication::known(auth)
            }
        };
        let body = match args.body {
            Some(body) => Body::Text(body.to_string()),
            None => Body::Empty,
        };
        let mut req = http::Request::new(body);
        *req.method_mut() = route.method.clone();
        *req.headers_mut() = self.headers.clone();
        req.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        *req.extensions_mut() = self.extensions.clone();
        let path: HashMap<String, String> = args
            .path
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
        let query: HashMap<String, Vec<String>> = args
            .query
            .into_iter()
            .map(|(name, value)| (name.to_owned(), vec![value]))
            .collect();
        let req = req
            .with_path_parameters(path)
            .with_query_string_parameters(query);
        Ok(Ctx {
            route,
            state: self.state.clone(),
            req,
            auth,
        })
    }

    /// Takes `calls` from what this request may still spend.
    pub fn spend(&self, calls: u32) -> Result<(), ApiError> {
        self.calls_left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(calls)
            })
            .map(drop)
            .map_err(|_| {
                ApiError::field(
                    "query",
                    format!("needs more than {MAX_ROUTE_CALLS} calls; split it"),
                )
            })
    }
}
