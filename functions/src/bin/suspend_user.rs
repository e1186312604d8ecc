//! `POST /api/admin/users/{username}/suspend` as an AWS Lambda function.

fn main() -> Result<(), conduit_common::lambda_http::Error> {
    functions::run(&functions::routes::SUSPEND_USER)
}
