//! The API's errors as GraphQL errors: in the response's `errors` array,
//! with `extensions.code` saying what kind, the field messages of the REST
//! API in `extensions.fields`, and never an internal detail (the shape is
//! `ApiError::graphql_error`'s, shared with the pipeline's whole-request
//! errors).

use async_graphql::{ErrorExtensions, Value};
use conduit_common::ApiError;

pub fn graphql_error(err: &ApiError) -> async_graphql::Error {
    if err.status_code().is_server_error() {
        // The cause goes to the log, as on REST; the client gets the kind.
        tracing::error!(error = %err, "graphql field failed");
    }
    let extensions = err.graphql_error()["extensions"].take();
    async_graphql::Error::new(err.message()).extend_with(|_, ext| {
        if let Some(extensions) = extensions.as_object() {
            for (name, value) in extensions {
                ext.set(name, Value::from_json(value.clone()).unwrap_or_default());
            }
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
        assert!(shown.contains("INTERNAL_SERVER_ERROR"), "{shown}");
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
