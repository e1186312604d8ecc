//! The one error type every handler returns, and how it maps to HTTP.
//!
//! The body always has RealWorld's shape, `{"errors":{"<field>":["<message>"]}}`.

use std::collections::BTreeMap;

use lambda_http::http::StatusCode;

/// Field errors, keyed by field name; a `BTreeMap` keeps the body stable.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// Every error: `{"errors": {"<field>": ["<message>", ...]}}`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct GenericErrorModel {
    #[schema(value_type = std::collections::HashMap<String, Vec<String>>)]
    pub errors: FieldErrors,
}

// Clone: one request's authentication outcome is shared by whoever awaits it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// No token at all on a route that needs one.
    #[error("token is missing")]
    MissingToken,
    /// A token that is malformed, forged, expired or revoked.
    #[error("token is invalid")]
    InvalidToken,
    /// Login with an unknown email or a wrong password: deliberately one answer.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The caller is known but may not do this to `resource`.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// A well-formed request this caller may never make of `resource`
    /// (following yourself), with the reason shown to the client.
    #[error("refused: {resource}: {reason}")]
    Refused {
        resource: &'static str,
        reason: &'static str,
    },
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Unique fields already in use, e.g. `["username"]`.
    #[error("already taken: {0:?}")]
    Conflict(Vec<&'static str>),
    #[error("validation failed: {0:?}")]
    Validation(FieldErrors),
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    /// The resource changed between read and write (a concurrent edit).
    #[error("{0} changed concurrently")]
    Stale(&'static str),
    /// DynamoDB kept refusing a write under contention; the client may retry.
    #[error("busy")]
    Busy,
    /// A dependency failed through no fault of ours (the database refused
    /// or dropped the connection, timed out, throttled us or answered 5xx).
    /// 503 with `Retry-After`; `cause` is logged, never sent.
    #[error("dependency unavailable: {cause}")]
    Unavailable { cause: String },
    /// Anything unexpected. The detail is logged, never sent to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A single-field validation error (422).
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(FieldErrors::from([(field.into(), vec![message.into()])]))
    }

    pub fn internal(err: impl std::fmt::Display) -> Self {
        Self::Internal(err.to_string())
    }

    pub fn status_code(&self) -> StatusCode {
        match self {
            Self::MissingToken | Self::InvalidToken | Self::InvalidCredentials => {
                StatusCode::UNAUTHORIZED
            }
            Self::Forbidden(_) | Self::Refused { .. } => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Stale(_) => StatusCode::CONFLICT,
            Self::Busy | Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The field errors sent to the client, with the spec's exact wording.
    pub fn field_errors(&self) -> FieldErrors {
        let one = |field: &str, message: &str| {
            FieldErrors::from([(field.to_owned(), vec![message.to_owned()])])
        };
        match self {
            Self::MissingToken => one("token", "is missing"),
            Self::InvalidToken => one("token", "is invalid"),
            Self::InvalidCredentials => one("credentials", "invalid"),
            Self::Forbidden(resource) => one(resource, "forbidden"),
            Self::Refused { resource, reason } => one(resource, reason),
            Self::NotFound(resource) => one(resource, "not found"),
            Self::Conflict(fields) => fields
                .iter()
                .map(|field| (field.to_string(), vec!["has already been taken".to_owned()]))
                .collect(),
            Self::Validation(errors) => errors.clone(),
            Self::PayloadTooLarge => one("body", "is too large"),
            Self::TooManyRequests { .. } => one("request", "too many attempts, try again later"),
            Self::Stale(resource) => one(resource, "was changed meanwhile, reload and retry"),
            Self::Busy => one("server", "busy, retry shortly"),
            Self::Unavailable { .. } => one("server", "temporarily unavailable, retry shortly"),
            Self::Internal(_) => one("server", "internal error"),
        }
    }

    /// GraphQL's `extensions.code` for this error (`/api/graphql`).
    pub fn graphql_code(&self) -> &'static str {
        match self {
            Self::MissingToken | Self::InvalidToken | Self::InvalidCredentials => "UNAUTHENTICATED",
            Self::Forbidden(_) | Self::Refused { .. } => "FORBIDDEN",
            Self::NotFound(_) => "NOT_FOUND",
            Self::Conflict(_) | Self::Stale(_) => "CONFLICT",
            Self::Validation(_) | Self::PayloadTooLarge => "VALIDATION",
            Self::TooManyRequests { .. } => "TOO_MANY_REQUESTS",
            Self::Busy | Self::Unavailable { .. } => "UNAVAILABLE",
            // Apollo's name for it, which GraphQL tools recognise.
            Self::Internal(_) => "INTERNAL_SERVER_ERROR",
        }
    }

    /// The field errors in one line: `title can't be blank; body can't be blank`.
    pub fn message(&self) -> String {
        self.field_errors()
            .iter()
            .map(|(field, messages)| format!("{field} {}", messages.join(", ")))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// A GraphQL error entry: the message, and `extensions` with the code,
    /// the field errors and, when the client should retry, after how long.
    pub fn graphql_error(&self) -> serde_json::Value {
        let mut extensions = serde_json::json!({
            "code": self.graphql_code(),
            "fields": self.field_errors(),
        });
        if let Some(seconds) = self.retry_after() {
            extensions["retryAfter"] = seconds.into();
        }
        serde_json::json!({ "message": self.message(), "extensions": extensions })
    }

    /// Seconds a client should wait before retrying, for errors that pass.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::TooManyRequests { retry_after_secs } => Some(*retry_after_secs),
            Self::Busy | Self::Unavailable { .. } => Some(1),
            _ => None,
        }
    }

    /// The JSON body, `{"errors":{...}}`.
    pub fn body(&self) -> String {
        let body = GenericErrorModel {
            errors: self.field_errors(),
        };
        serde_json::to_string(&body).expect("error body serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_match_the_realworld_wording() {
        assert_eq!(
            ApiError::MissingToken.body(),
            r#"{"errors":{"token":["is missing"]}}"#
        );
        assert_eq!(
            ApiError::Conflict(vec!["email", "username"]).body(),
            r#"{"errors":{"email":["has already been taken"],"username":["has already been taken"]}}"#
        );
        assert_eq!(
            ApiError::Forbidden("article").body(),
            r#"{"errors":{"article":["forbidden"]}}"#
        );
        assert_eq!(ApiError::NotFound("profile").status_code(), 404);
    }

    #[test]
    fn outages_are_503_and_hide_their_cause() {
        let err = ApiError::Unavailable {
            cause: "dispatch failure: connection refused (10.0.0.1:8000)".into(),
        };
        assert_eq!(err.status_code(), 503);
        assert_eq!(
            err.body(),
            r#"{"errors":{"server":["temporarily unavailable, retry shortly"]}}"#
        );
    }

    #[test]
    fn internal_errors_hide_their_detail() {
        let err = ApiError::internal("dynamodb: connection refused at 10.0.0.1");
        assert_eq!(err.status_code(), 500);
        assert!(!err.body().contains("10.0.0.1"));
    }
}
