//! `PUT /api/articles/{slug}` as an AWS Lambda function.

fn main() -> Result<(), conduit_common::lambda_http::Error> {
    functions::run(&functions::routes::UPDATE_ARTICLE)
}
