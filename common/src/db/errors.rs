//! What a failed DynamoDB call means for the client: our bug (500), or the
//! database being unreachable, slow or throttling us (503, retry later).

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::error::ApiError;

/// Error codes DynamoDB uses when it sheds load: the request was fine and
/// may succeed if sent again later.
const THROTTLING_CODES: &[&str] = &[
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "LimitExceededException",
    // A transaction's per-item cancellation reason.
    "ThrottlingError",
];

/// Error codes of DynamoDB's own failures, and of a transaction sent again
/// (with its idempotency token) while its first attempt, timed out on our
/// side, is still being applied: it will commit, the client may retry.
const SERVICE_FAILURE_CODES: &[&str] = &[
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
];

/// Whether an error code (of a response or of a transaction's cancellation
/// reason) is DynamoDB throttling us.
pub fn is_throttling_code(code: &str) -> bool {
    THROTTLING_CODES.contains(&code)
}

/// Maps an SDK failure to the API's error, keeping the whole cause chain for
/// the log: 503 for outages, timeouts, throttling and the service's own
/// failures; 500 for everything else, which means a bug of ours (a
/// malformed request, a missing table, a validation error from DynamoDB).
pub fn sdk_error<E>(err: SdkError<E, HttpResponse>) -> ApiError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let transient = match &err {
        // No answer in time, per attempt or in all (see state.rs for the budget).
        SdkError::TimeoutError(_) => true,
        // Connection refused, reset, DNS, TLS: the request never got an
        // answer. Only a request we could not even build is our fault.
        SdkError::DispatchFailure(failure) => !failure.is_user(),
        // The connection broke while the answer was being read.
        SdkError::ResponseError(_) => true,
        SdkError::ServiceError(service) => {
            service.raw().status().is_server_error()
                || service.err().code().is_some_and(|code| {
                    is_throttling_code(code) || SERVICE_FAILURE_CODES.contains(&code)
                })
        }
        _ => false,
    };
    let cause = DisplayErrorContext(err).to_string();
    if transient {
        ApiError::Unavailable { cause }
    } else {
        ApiError::Internal(cause)
    }
}

/// Whether an SDK error is DynamoDB's `ConditionalCheckFailedException`.
pub fn is_condition_failure<E, R>(err: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
{
    err.as_service_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "ConditionalCheckFailedException")
}
