//! Matching requests to routes the way API Gateway does, for the local
//! server and the in-process tests (in AWS, API Gateway itself routes).

use std::collections::HashMap;
use std::sync::Arc;

use lambda_http::RequestExt;
use lambda_http::http::{Method, header};

use super::{Request, Response, Route, pipeline, response};
use crate::error::ApiError;
use crate::state::AppState;

pub struct Router {
    paths: matchit::Router<Vec<&'static Route>>,
}

impl Router {
    /// Builds the router; a route table with a duplicate or malformed path is
    /// a programming error, so this panics on it (and the tests exercise it).
    pub fn new(routes: &[&'static Route]) -> Self {
        let mut by_path: HashMap<&str, Vec<&'static Route>> = HashMap::new();
        for route in routes {
            let same = by_path.entry(route.path).or_default();
            assert!(
                same.iter().all(|r| r.method != route.method),
                "duplicate route {route:?}"
            );
            same.push(route);
        }
        let mut paths = matchit::Router::new();
        for (path, routes) in by_path {
            paths
                .insert(path, routes)
                .unwrap_or_else(|err| panic!("bad route path {path}: {err}"));
        }
        Self { paths }
    }

    /// Routes and runs one request, filling in the path and query parameters
    /// as API Gateway does.
    pub async fn dispatch(&self, state: Arc<AppState>, req: Request) -> Response {
        let origin = req.headers().get(header::ORIGIN).cloned();
        let Ok(matched) = self.paths.at(req.uri().path()) else {
            return self.not_found(&state, origin.as_ref());
        };
        let routes = matched.value;
        if req.method() == Method::OPTIONS {
            let methods: Vec<&str> = routes.iter().map(|r| r.method.as_str()).collect();
            return pipeline::preflight(&state.config, origin.as_ref(), &methods.join(", "));
        }
        let Some(route) = routes.iter().find(|r| r.method == req.method()) else {
            return self.not_found(&state, origin.as_ref());
        };
        let params: HashMap<String, String> = matched
            .params
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let query: HashMap<String, Vec<String>> = form_urlencoded::parse(
            req.uri().query().unwrap_or("").as_bytes(),
        )
        .fold(HashMap::new(), |mut query, (k, v)| {
            query
                .entry(k.into_owned())
                .or_default()
                .push(v.into_owned());
            query
        });
        let req = req
            .with_path_parameters(params)
            .with_query_string_parameters(query);
        pipeline::handle(route, state, req).await
    }

    /// API Gateway answers unknown routes and methods with 404.
    fn not_found(&self, state: &AppState, origin: Option<&header::HeaderValue>) -> Response {
        reject(state, origin, &ApiError::NotFound("route"))
    }
}

/// An error answered before any route runs (unknown route, oversized body
/// at the server), with the same headers as every other response.
pub fn reject(state: &AppState, origin: Option<&header::HeaderValue>, err: &ApiError) -> Response {
    let mut response = response::error(err);
    pipeline::Caching::NoStore.apply(&mut response, None);
    pipeline::fresh_request_id(response.headers_mut());
    pipeline::secure_headers(response.headers_mut());
    pipeline::cors_headers(&state.config, origin, response.headers_mut());
    response
}
