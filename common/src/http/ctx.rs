//! A request as handlers see it, with typed access to its parts.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lambda_http::RequestExt;
use serde::de::DeserializeOwned;

use super::{Query, Request, Route, VIEWER_ADDRESS_HEADER};
use crate::auth::{AuthUser, Authentication};
use crate::db::Db;
use crate::db::users::User;
use crate::error::ApiError;
use crate::state::AppState;

/// Page size when the client gives none (the spec's default) and the most it may ask for.
pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;
/// Deep offsets cost reads; past this, clients page with the cursor instead.
pub const MAX_OFFSET: usize = 10_000;

pub struct Ctx {
    /// The route being served: its declaration says, e.g., how it pages.
    pub route: &'static Route,
    pub state: Arc<AppState>,
    pub req: Request,
    /// Who is calling, as the route's access rule finds out.
    pub auth: Authentication,
}

/// The reader of a personalised answer ([`Ctx::viewer`]).
pub struct Viewer(Option<Arc<AuthUser>>);

/// A reader already authenticated (GraphQL's loaders).
impl From<Option<Arc<AuthUser>>> for Viewer {
    fn from(caller: Option<Arc<AuthUser>>) -> Self {
        Self(caller)
    }
}

impl Viewer {
    /// Their user record; `None` for an anonymous reader.
    pub fn user(&self) -> Option<&User> {
        self.0.as_deref().map(|auth| &auth.user)
    }
}

/// The peer address of a request, set by the local server (in AWS the
/// request context carries it).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub std::net::IpAddr);

/// `limit`, `offset` and `cursor` from the query string, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ListParams {
    pub limit: usize,
    pub offset: usize,
    /// The decoded cursor: the id of the last item of the previous page.
    pub cursor: Option<String>,
}

impl Ctx {
    pub fn db(&self) -> &Db {
        &self.state.db
    }

    /// The caller on a route that requires one (the pipeline has already
    /// refused anonymous calls, so this only guards against a wrong table entry).
    pub async fn user(&self) -> Result<Arc<AuthUser>, ApiError> {
        self.auth.caller().await?.ok_or(ApiError::MissingToken)
    }

    /// Who is reading, if anyone, for personalising answers. Ask as late
    /// as the reads allow: until then the caller is read alongside.
    pub async fn viewer(&self) -> Result<Viewer, ApiError> {
        Ok(Viewer(self.auth.caller().await?))
    }

    /// The JSON body. Malformed JSON or a wrong shape is a 422 naming the
    /// problem; the `content-type` header is not required.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        let body: &[u8] = self.req.body().as_ref();
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::field("body", "can't be blank"));
        }
        serde_json::from_slice(body)
            .map_err(|err| ApiError::field("body", format!("is invalid: {err}")))
    }

    /// A path parameter of the route, e.g. `slug` in `/api/articles/{slug}`.
    pub fn path(&self, name: &'static str) -> Result<String, ApiError> {
        self.req
            .path_parameters_ref()
            .and_then(|params| params.first(name))
            .map(str::to_owned)
            .ok_or_else(|| ApiError::Internal(format!("route has no path parameter {name:?}")))
    }

    /// A query-string parameter; an empty value counts as absent.
    pub fn query(&self, name: &str) -> Option<String> {
        self.req
            .query_string_parameters_ref()
            .and_then(|params| params.first(name))
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
    }

    /// The caller's network address: from API Gateway's request context in
    /// AWS, from the connection locally (see [`ClientAddr`]). Behind the
    /// edge (a closed origin: every request served came through
    /// CloudFront) the connection is CloudFront's, shared by every viewer
    /// near the same edge: the caller is the address CloudFront states in
    /// [`VIEWER_ADDRESS_HEADER`].
    pub fn client_ip(&self) -> String {
        use lambda_http::request::RequestContext;
        let peer = match self.req.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(context)) => context.http.source_ip.clone(),
            _ => None,
        }
        .or_else(|| {
            self.req
                .extensions()
                .get::<ClientAddr>()
                .map(|addr| addr.0.to_string())
        })
        .unwrap_or_else(|| "unknown".to_owned());
        if self.state.config.origin_verify.is_empty() {
            return peer;
        }
        self.req
            .headers()
            .get(VIEWER_ADDRESS_HEADER)
            .and_then(|value| value.to_str().ok())
            .and_then(|viewer| viewer.parse::<std::net::IpAddr>().ok())
            .map_or(peer, |viewer| viewer.to_string())
    }

    /// `limit`, `offset` and `cursor`, checked against the bounds the
    /// route declares (its `Api::query`), so the document and the handler
    /// cannot disagree.
    pub fn list_params(&self) -> Result<ListParams, ApiError> {
        let (mut default_limit, mut max_offset) = (None, None);
        for query in self.route.api.query {
            match *query {
                Query::Limit { default } => default_limit = Some(default),
                Query::Offset { max } => max_offset = Some(max),
                Query::Cursor
                | Query::Filter { .. }
                | Query::Required { .. }
                | Query::Json { .. } => {}
            }
        }
        let (Some(default_limit), Some(max_offset)) = (default_limit, max_offset) else {
            return Err(ApiError::Internal(format!(
                "route {} reads paging parameters it does not declare",
                self.route.name
            )));
        };
        let number =
            |name: &'static str, default: usize, min: usize, max: usize| match self.query(name) {
                None => Ok(default),
                Some(raw) => raw
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (min..=max).contains(n))
                    .ok_or_else(|| {
                        ApiError::field(name, format!("must be a whole number from {min} to {max}"))
                    }),
            };
        Ok(ListParams {
            limit: number("limit", default_limit, 1, MAX_LIMIT)?,
            offset: number("offset", 0, 0, max_offset)?,
            cursor: self
                .query("cursor")
                .map(|c| decode_cursor(&c))
                .transpose()?,
        })
    }
}

/// Cursors are opaque to clients: base64url of the last id they saw.
pub fn encode_cursor(last_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(last_id)
}

/// The cursor of the page after `page`: a full page may have a successor,
/// which starts after its last item (`id` gives an item's id).
pub fn next_cursor<T>(page: &[T], limit: usize, id: impl Fn(&T) -> String) -> Option<String> {
    if page.len() < limit {
        return None;
    }
    page.last().map(|last| encode_cursor(&id(last)))
}

/// What an opaque cursor ([`encode_cursor`]) holds, if it is one.
pub fn decode_opaque(cursor: &str) -> Option<String> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
}

fn decode_cursor(cursor: &str) -> Result<String, ApiError> {
    decode_opaque(cursor)
        .filter(|id| {
            !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric())
        })
        .ok_or_else(|| ApiError::field("cursor", "is invalid"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let id = "01JDQ3R5Z8K9X1YB2C3D4E5F6G";
        assert_eq!(decode_cursor(&encode_cursor(id)).unwrap(), id);
        assert!(decode_cursor("%%%").is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("a#b")).is_err());
    }
}
