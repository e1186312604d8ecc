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
use conduit_common::db::users::User;
use conduit_common::http::{Ctx, Route};
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
    auth: Option<Arc<AuthUser>>,
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
    /// The caller of `ctx`, once its authentication has run.
    pub async fn new(ctx: &Ctx) -> Result<Self, ApiError> {
        Ok(Self {
            state: ctx.state.clone(),
            auth: ctx.auth.caller().await?,
            headers: ctx.req.headers().clone(),
            extensions: ctx.req.extensions().clone(),
            calls_left: AtomicU32::new(MAX_ROUTE_CALLS),
            signed_out: AtomicBool::new(false),
            hashes_left: AtomicU32::new(MAX_HASHES),
        })
    }

    /// The caller, unless a field of this request ended their session.
    fn auth(&self) -> Option<&Arc<AuthUser>> {
        match self.signed_out.load(Ordering::Relaxed) {
            true => None,
            false => self.auth.as_ref(),
        }
    }

    /// After a field ended the caller's own session.
    pub fn sign_out(&self) {
        self.signed_out.store(true, Ordering::Relaxed);
    }

    /// The session the caller's token belongs to, if any.
    pub fn session(&self) -> Option<&str> {
        self.auth().map(|auth| auth.session.as_str())
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

    pub fn viewer(&self) -> Option<&User> {
        self.auth().map(|auth| &auth.user)
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

    async fn try_call<T: DeserializeOwned>(
        &self,
        route: &'static Route,
        args: Args,
    ) -> Result<T, ApiError> {
        self.spend(1)?;
        authorize(route.access, self.auth().map(Arc::as_ref))?;
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
        // As on REST, a route open to anyone ignores who is asking.
        let auth = match route.access {
            Access::Anonymous => None,
            _ => self.auth().cloned(),
        };
        let ctx = Ctx {
            route,
            state: self.state.clone(),
            req,
            auth: Authentication::known(auth),
        };
        let response = (route.handler)(ctx).await?;
        let body: &[u8] = response.body().as_ref();
        match body.is_empty() {
            true => serde_json::from_value(Value::Null),
            false => serde_json::from_slice(body),
        }
        .map_err(ApiError::internal)
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
