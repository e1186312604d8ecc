//! `POST /api/admin/users/{username}/reinstate` as an AWS Lambda function.

fn main() -> Result<(), conduit_common::lambda_http::Error> {
    functions::run(&functions::routes::REINSTATE_USER)
}
