//! `DELETE /api/articles/{slug}/comments/{id}` as an AWS Lambda function.

fn main() -> Result<(), conduit_common::lambda_http::Error> {
    functions::run(&functions::routes::DELETE_COMMENT)
}
