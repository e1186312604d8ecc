//! The floor under the cold-start figures: a Lambda function on the same
//! runtime as ours (lambda_http on a current-thread Tokio runtime) that does
//! nothing of ours: no configuration, no SDK client, no keys. Its init time
//! is what the runtime itself costs; a function's init minus this is ours.

use conduit_common::lambda_http::{self, Body, Error, Request, Response, service_fn};

fn main() -> Result<(), Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(lambda_http::run(service_fn(|_: Request| async {
            Ok::<_, Error>(Response::new(Body::from("{}")))
        })))
}
