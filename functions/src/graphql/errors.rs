//! The API's errors as GraphQL errors: in the response's `errors` array,
//! with `extensions.code` saying what kind, the field messages of the REST
//! API in `extensions.fields`, and never an internal detail.

use async_graphql::{ErrorExtensions, Value};
use conduit_common::ApiError;

/// `extensions.code` of an error, by kind.
pub fn code(err: &ApiError) -> &'static str {
    match err {
        ApiError::MissingToken | ApiError::InvalidToken | ApiError::InvalidCredentials => {
            "UNAUTHENTICATED"
        }
        ApiError::Forbidden(_) | ApiError::Refused { .. } => "FORBIDDEN",
        ApiError::NotFound(_) => "NOT_FOUND",
        ApiError::Conflict(_) | ApiError::Stale(_) => "CONFLICT",
        ApiError::Validation(_) | ApiError::PayloadTooLarge => "VALIDATION",
        ApiError::TooManyRequests { .. } => "TOO_MANY_REQUESTS",
        ApiError::Busy | ApiError::Unavailable { .. } => "UNAVAILABLE",
        ApiError::Internal(_) => "INTERNAL",
    }
}

pub fn graphql_error(err: &ApiError) -> async_graphql::Error {
    if err.status_code().is_server_error() {
        // The cause goes to the log, as on REST; the client gets the kind.
        tracing::error!(error = %err, "graphql field failed");
    }
    let fields = err.field_errors();
    let message = fields
        .iter()
        .map(|(field, messages)| format!("{field} {}", messages.join(", ")))
        .collect::<Vec<_>>()
        .join("; ");
    let fields = serde_json::to_value(&fields).expect("field errors serialize");
    let retry_after = match err {
        ApiError::TooManyRequests { retry_after_secs } => Some(*retry_after_secs),
        ApiError::Busy | ApiError::Unavailable { .. } => Some(1),
        _ => None,
    };
    async_graphql::Error::new(message).extend_with(|_, extensions| {
        extensions.set("code", code(err));
        extensions.set("fields", Value::from_json(fields).unwrap_or_default());
        if let Some(seconds) = retry_after {
            extensions.set("retryAfter", seconds);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_says_nothing_of_its_cause() {
        let err = graphql_error(&ApiError::Internal("table t is missing".into()));
        assert_eq!(err.message, "server internal error");
        let shown = format!("{:?}", err.extensions);
        assert!(!shown.contains("table"), "{shown}");
        assert!(shown.contains("INTERNAL"), "{shown}");
    }

    #[test]
    fn validation_errors_carry_the_field_messages() {
        let err = graphql_error(&ApiError::field("title", "can't be blank"));
        assert_eq!(err.message, "title can't be blank");
        let extensions = err.extensions.unwrap();
        assert_eq!(extensions.get("code"), Some(&Value::from("VALIDATION")));
        assert_eq!(
            extensions
                .get("fields")
                .cloned()
                .map(|v| v.into_json().unwrap()),
            Some(serde_json::json!({"title": ["can't be blank"]}))
        );
    }
}
