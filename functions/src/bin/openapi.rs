//! `GET /api/openapi.json` as an AWS Lambda function.

fn main() -> Result<(), conduit_common::lambda_http::Error> {
    functions::run(&functions::routes::OPENAPI)
}
