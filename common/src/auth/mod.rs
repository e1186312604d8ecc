//! Who is calling: JWTs, password hashing, roles, and the per-request check
//! that turns an `Authorization` header into an [`AuthUser`]
//! ([`Authentication`]).

pub mod access;
mod hmac;
pub mod jwt;
pub mod key_store;
pub mod keys;
pub mod password;

/// Defined beneath every layer ([`crate::domain`]); also named here, with
/// the rules ([`Access`]) that use it.
pub use crate::domain::Role;
pub use access::Access;
pub use jwt::{Claims, JwtKeys};
pub use keys::KeySet;

use std::sync::Arc;

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use lambda_http::Request;
use lambda_http::http::header::AUTHORIZATION;

use crate::db::Db;
use crate::db::users::User;
use crate::domain::UserStatus;
use crate::error::ApiError;

/// The authenticated caller, freshly loaded from the table, so a suspension or
/// role change takes effect on the very next request.
#[derive(Clone)]
pub struct AuthUser {
    pub user: User,
    /// The token the caller presented, echoed back by the user endpoints.
    pub token: String,
    /// The session the token belongs to.
    pub session: String,
}

// Hand-written so the bearer token never reaches a log.
impl std::fmt::Debug for AuthUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthUser")
            .field("user", &self.user)
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

/// Extracts the raw token from `Authorization: Token <jwt>` (RealWorld) or
/// `Bearer <jwt>`. `Ok(None)` means no header at all.
pub fn bearer_token(req: &Request) -> Result<Option<&str>, ApiError> {
    let Some(value) = req.headers().get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| ApiError::InvalidToken)?;
    let (scheme, token) = value.split_once(' ').ok_or(ApiError::InvalidToken)?;
    if !(scheme.eq_ignore_ascii_case("token") || scheme.eq_ignore_ascii_case("bearer")) {
        return Err(ApiError::InvalidToken);
    }
    match token.trim() {
        "" => Err(ApiError::InvalidToken),
        token => Ok(Some(token)),
    }
}

/// The caller of one request, found out once.
///
/// The token is checked when the request arrives, without I/O; the user
/// item it names is read once, by whichever asks first (the pipeline, or
/// the handler). A read that only a signed-in reader personalises runs its
/// own reads meanwhile, so the user read costs it no round trip in sequence.
#[derive(Clone)]
pub struct Authentication(Shared<BoxFuture<'static, Result<Option<Arc<AuthUser>>, ApiError>>>);

impl Authentication {
    /// Applies a route's [`Access`] rule to a request, as far as the token
    /// alone can tell: no token where one is needed, or a malformed,
    /// forged or expired one, fails here. What the table says (the session
    /// still listed, the user not suspended, the role) is checked by the
    /// read this starts, when [`caller`](Self::caller) is first awaited.
    ///
    /// A token that is present but bad is refused even on public routes,
    /// so a client learns at once that its session is gone. `jwt` checks
    /// the token; `db` is the table its user is read from.
    pub fn start(jwt: &JwtKeys, db: &Db, req: &Request, access: Access) -> Result<Self, ApiError> {
        if access == Access::Anonymous {
            return Ok(Self::known(None));
        }
        let Some(token) = bearer_token(req)? else {
            return match access {
                Access::Optional => Ok(Self::known(None)),
                _ => Err(ApiError::MissingToken),
            };
        };
        let claims = jwt.decode(token)?;
        let (db, token) = (db.clone(), token.to_owned());
        Ok(Self(
            async move {
                let caller = load_caller(&db, claims, token, access).await?;
                Ok(Some(Arc::new(caller)))
            }
            .boxed()
            .shared(),
        ))
    }

    /// A caller already known (GraphQL's fields, served by other routes'
    /// handlers for the caller its own request authenticated).
    pub fn known(caller: Option<Arc<AuthUser>>) -> Self {
        Self(futures::future::ready(Ok(caller)).boxed().shared())
    }

    /// The caller (`None` on a route that allows anonymous access), or why
    /// the request is refused. Shared, not copied: every asker gets the
    /// same user.
    pub async fn caller(&self) -> Result<Option<Arc<AuthUser>>, ApiError> {
        self.0.clone().await
    }
}

/// The user a verified token names, freshly loaded from the table, so a
/// suspension or role change takes effect on the very next request.
async fn load_caller(
    db: &Db,
    claims: Claims,
    token: String,
    access: Access,
) -> Result<AuthUser, ApiError> {
    let user = db
        .user_by_id(&claims.sub)
        .await?
        .ok_or(ApiError::InvalidToken)?;
    // A token is good while its session is listed on the user item, read
    // here anyway: ending a session (logout, a password change, suspension)
    // revokes its token at once, at no extra read. (Roles are read here
    // every time too, so a role change applies at once.)
    if !user.sessions.contains_key(&claims.sid) || user.status == UserStatus::Suspended {
        return Err(ApiError::InvalidToken);
    }
    let caller = AuthUser {
        user,
        token,
        session: claims.sid,
    };
    authorize(access, Some(&caller))?;
    Ok(caller)
}

/// Whether `caller` may use a route with the rule `access`: the check that
/// [`Authentication`] ends with, also applied by routes that call others' handlers
/// for an authenticated caller (GraphQL).
pub fn authorize(access: Access, caller: Option<&AuthUser>) -> Result<(), ApiError> {
    match (access, caller) {
        (Access::Anonymous | Access::Optional, _) => Ok(()),
        (Access::User | Access::Role(_), None) => Err(ApiError::MissingToken),
        (Access::Role(min), Some(caller)) if caller.user.role < min => {
            Err(ApiError::Forbidden("user"))
        }
        (Access::User | Access::Role(_), Some(_)) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_auth(value: &str) -> Request {
        lambda_http::http::Request::builder()
            .header(AUTHORIZATION, value)
            .body(lambda_http::Body::Empty)
            .unwrap()
    }

    #[test]
    fn accepts_token_and_bearer_schemes() {
        assert_eq!(bearer_token(&with_auth("Token abc")).unwrap(), Some("abc"));
        assert_eq!(bearer_token(&with_auth("Bearer abc")).unwrap(), Some("abc"));
    }

    #[test]
    fn rejects_other_schemes_and_empty_tokens() {
        for bad in ["Basic abc", "Token", "Token   ", "abc"] {
            assert!(
                matches!(bearer_token(&with_auth(bad)), Err(ApiError::InvalidToken)),
                "{bad}"
            );
        }
    }

    #[test]
    fn no_header_is_not_an_error() {
        let req = lambda_http::http::Request::new(lambda_http::Body::Empty);
        assert_eq!(bearer_token(&req).unwrap(), None);
    }
}
