//! `POST /api/articles` as an AWS Lambda function.

fn main() -> Result<(), conduit_common::lambda_http::Error> {
    functions::run(&functions::routes::CREATE_ARTICLE)
}
