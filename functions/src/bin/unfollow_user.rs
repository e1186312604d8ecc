//! `DELETE /api/profiles/{username}/follow` as an AWS Lambda function.

fn main() -> Result<(), conduit_common::lambda_http::Error> {
    functions::run(&functions::routes::UNFOLLOW_USER)
}
