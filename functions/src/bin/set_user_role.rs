//! `PUT /api/admin/users/{username}/role` as an AWS Lambda function.

fn main() -> Result<(), conduit_common::lambda_http::Error> {
    functions::run(&functions::routes::SET_USER_ROLE)
}
