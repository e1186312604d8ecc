//! `GET /api/admin/users` as an AWS Lambda function.

fn main() -> Result<(), conduit_common::lambda_http::Error> {
    functions::run(&functions::routes::LIST_USERS)
}
