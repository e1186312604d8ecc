//! `DELETE /api/articles/{slug}/favorite` as an AWS Lambda function.

fn main() -> Result<(), conduit_common::lambda_http::Error> {
    functions::run(&functions::routes::UNFAVORITE_ARTICLE)
}
