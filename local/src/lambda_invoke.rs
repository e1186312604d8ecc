//! A client of Lambda's Invoke API (`POST /2015-03-31/functions/NAME/invocations`),
//! for running the stream consumers as separate functions: the event source
//! then hands each batch to the function of the consumer's name, as Lambda's
//! event source mapping does, instead of calling the consumer in-process.
//! `cargo lambda watch` serves this API locally (scripts/shipped-e2e.sh points
//! it at the arm64 consumers `sam build` made).

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Lambda's header on a response whose function failed (an unhandled error
/// or a crash), which Lambda answers with a 200; `cargo lambda watch`
/// answers a 500 instead. Either way the body holds `errorType` and
/// `errorMessage`.
const FUNCTION_ERROR: &str = "x-amz-function-error";

#[derive(Clone)]
pub struct LambdaInvoke {
    /// The API's base URL, e.g. `http://127.0.0.1:9000`.
    base: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl LambdaInvoke {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// Invokes `function` synchronously with `event`. A function that failed
    /// is an `Err` with what it reported, as is an API that could not invoke it.
    pub async fn invoke<E: Serialize, R: DeserializeOwned>(
        &self,
        function: &str,
        event: &E,
    ) -> Result<R, String> {
        let body = serde_json::to_vec(event).map_err(|err| err.to_string())?;
        let request = hyper::Request::post(format!(
            "{}/2015-03-31/functions/{function}/invocations",
            self.base
        ))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(|err| err.to_string())?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|err| format!("invoking {function}: {err}"))?;
        let status = response.status();
        let failed = response.headers().contains_key(FUNCTION_ERROR);
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|err| format!("reading {function}'s response: {err}"))?
            .to_bytes();
        if failed || !status.is_success() {
            return Err(format!(
                "{function} failed ({status}): {}",
                String::from_utf8_lossy(&body)
            ));
        }
        serde_json::from_slice(&body)
            .map_err(|err| format!("{function}'s response is not what was expected: {err}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Json;
    use axum::extract::Path;
    use axum::http::{HeaderName, StatusCode};
    use axum::response::IntoResponse;
    use axum::routing::post;
    use serde_json::{Value, json};

    /// An Invoke API whose functions answer as their names say.
    async fn invoke_api() -> LambdaInvoke {
        let app = axum::Router::new().route(
            "/2015-03-31/functions/{name}/invocations",
            post(
                |Path(name): Path<String>, Json(event): Json<Value>| async move {
                    let error = Json(json!({"errorType": "Panic", "errorMessage": "boom"}));
                    match name.as_str() {
                        "echo" => Json(event).into_response(),
                        // What Lambda answers for a failed function.
                        "fails_in_aws" => (
                            [(HeaderName::from_static(FUNCTION_ERROR), "Unhandled")],
                            error,
                        )
                            .into_response(),
                        // What cargo lambda watch answers for one.
                        _ => (StatusCode::INTERNAL_SERVER_ERROR, error).into_response(),
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        LambdaInvoke::new(&url)
    }

    #[tokio::test]
    async fn a_function_answers_its_response_and_a_failed_one_its_error() {
        let api = invoke_api().await;
        let event = json!({"Records": [{"eventName": "INSERT"}]});
        let answer: Value = api.invoke("echo", &event).await.unwrap();
        assert_eq!(answer, event);

        for failing in ["fails_in_aws", "fails_under_watch"] {
            let err = api.invoke::<_, Value>(failing, &event).await.unwrap_err();
            assert!(err.contains(failing) && err.contains("boom"), "{err}");
        }
        let unreachable = LambdaInvoke::new("http://127.0.0.1:1");
        let err = unreachable
            .invoke::<_, Value>("echo", &event)
            .await
            .unwrap_err();
        assert!(err.starts_with("invoking echo"), "{err}");
    }
}
