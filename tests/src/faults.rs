//! Fault injection: a TCP proxy between the API and the real engine that
//! can stop (connections refused), slow down, or answer every call with
//! DynamoDB's throttling error, and come back. The engine behind it is
//! real; only the network in between misbehaves. And two client-side
//! faults: [`FailingWrite`] fails one chosen write, [`LostAnswer`] loses
//! the answer to one that went through.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::interceptors::{
    BeforeSerializationInterceptorContextMut, FinalizerInterceptorContextMut,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsInput;
use aws_sdk_dynamodb::operation::update_item::UpdateItemOutput;
use aws_smithy_runtime_api::client::orchestrator::OrchestratorError;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// What the proxy does to the connections it gets from now on (connections
/// already open are cut when the mode changes, as a real outage would).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Passes everything through.
    None,
    /// Nothing listens: every connection is refused.
    Down,
    /// Holds each new connection this long before passing it on. Since
    /// [`FaultProxy::set`] cuts the open ones and a timed-out attempt drops
    /// its own, every attempt the API makes meets the delay.
    Delay(Duration),
    /// Answers every request with DynamoDB's
    /// `ProvisionedThroughputExceededException` (HTTP 400), as a throttled
    /// table does.
    Throttle,
}

pub struct FaultProxy {
    pub addr: SocketAddr,
    upstream: SocketAddr,
    state: Arc<Mutex<ProxyState>>,
    throttled: Arc<AtomicUsize>,
    accepted: Arc<AtomicUsize>,
}

struct ProxyState {
    fault: Fault,
    listener: Option<JoinHandle<()>>,
    connections: Vec<JoinHandle<()>>,
}

impl FaultProxy {
    /// Starts passing everything through to `upstream` (`http://host:port`).
    pub async fn start(upstream: &str) -> FaultProxy {
        let upstream = upstream
            .trim_start_matches("http://")
            .parse()
            .expect("an http://ip:port endpoint");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let addr = listener.local_addr().unwrap();
        let proxy = FaultProxy {
            addr,
            upstream,
            state: Arc::new(Mutex::new(ProxyState {
                fault: Fault::None,
                listener: None,
                connections: Vec::new(),
            })),
            throttled: Arc::default(),
            accepted: Arc::default(),
        };
        proxy.listen(listener);
        proxy
    }

    /// How many requests [`Fault::Throttle`] has answered so far.
    pub fn throttled(&self) -> usize {
        self.throttled.load(Ordering::SeqCst)
    }

    /// How many connections the API has opened to the proxy so far.
    pub fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Switches to `fault`, cutting every open connection.
    pub async fn set(&self, fault: Fault) {
        let was_down = {
            let mut state = self.state.lock().unwrap();
            for connection in state.connections.drain(..) {
                connection.abort();
            }
            let was_down = state.fault == Fault::Down;
            state.fault = fault;
            if fault == Fault::Down
                && let Some(listener) = state.listener.take()
            {
                listener.abort();
            }
            was_down
        };
        if fault == Fault::Down {
            // Until the aborted listener task is dropped, the port still accepts.
            while TcpStream::connect(self.addr).await.is_ok() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        } else if was_down {
            let listener = TcpListener::bind(self.addr)
                .await
                .expect("the same port again");
            self.listen(listener);
        }
    }

    fn listen(&self, listener: TcpListener) {
        let state = self.state.clone();
        let upstream = self.upstream;
        let throttled = self.throttled.clone();
        let accepted = self.accepted.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                accepted.fetch_add(1, Ordering::SeqCst);
                let fault = state.lock().unwrap().fault;
                let connection = tokio::spawn(serve(client, upstream, fault, throttled.clone()));
                let mut state = state.lock().unwrap();
                state.connections.retain(|c| !c.is_finished());
                state.connections.push(connection);
            }
        });
        self.state.lock().unwrap().listener = Some(task);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let mut state = self.state.lock().unwrap();
        if let Some(listener) = state.listener.take() {
            listener.abort();
        }
        for connection in state.connections.drain(..) {
            connection.abort();
        }
    }
}

async fn serve(
    mut client: TcpStream,
    upstream: SocketAddr,
    fault: Fault,
    throttled: Arc<AtomicUsize>,
) {
    match fault {
        Fault::None | Fault::Down => {}
        Fault::Delay(delay) => tokio::time::sleep(delay).await,
        Fault::Throttle => {
            while read_request(&mut client).await.is_some() {
                throttled.fetch_add(1, Ordering::SeqCst);
                let body = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"The level of configured provisioned throughput for the table was exceeded."}"#;
                let response = format!(
                    "HTTP/1.1 400 Bad Request\r\ncontent-type: application/x-amz-json-1.0\r\n\
                     x-amzn-requestid: fault-proxy\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                if client.write_all(response.as_bytes()).await.is_err() {
                    return;
                }
            }
            return;
        }
    }
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
}

/// Reads one HTTP/1.1 request (head and `content-length` body); `None` at
/// the end of the connection.
async fn read_request(client: &mut TcpStream) -> Option<()> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if client.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|n| n.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    client.read_exact(&mut body).await.ok()?;
    Some(())
}

/// Fails one DynamoDB write: the `nth` `TransactWriteItems` call the client
/// makes once armed, as if the database had errored right there, midway
/// through whatever the caller was doing. Install it on a client of its own
/// (`with_interceptor`) so that only that client's calls are counted.
#[derive(Debug, Clone, Default)]
pub struct FailingWrite(Countdown);

impl FailingWrite {
    /// A client like `client` that also fails as armed.
    pub fn client_like(&self, client: &Client) -> Client {
        with_interceptor(client, self.clone())
    }
}

impl std::ops::Deref for FailingWrite {
    type Target = Countdown;
    fn deref(&self) -> &Countdown {
        &self.0
    }
}

/// Which call a client-side fault strikes: the `nth` of its kind once armed.
#[derive(Debug, Clone, Default)]
pub struct Countdown(Arc<AtomicI64>);

impl Countdown {
    /// The `nth` call from now is struck (1: the next one).
    pub fn arm(&self, nth: i64) {
        self.0.store(nth, Ordering::SeqCst);
    }

    /// Whether the armed call has been struck.
    pub fn fired(&self) -> bool {
        self.0.load(Ordering::SeqCst) <= 0
    }

    /// Counts one call; whether it is the one to strike.
    fn strikes(&self) -> bool {
        self.0.fetch_sub(1, Ordering::SeqCst) == 1
    }
}

/// A client like `client`, with `interceptor` too.
fn with_interceptor(client: &Client, interceptor: impl Intercept + 'static) -> Client {
    let config = client
        .config()
        .to_builder()
        .interceptor(interceptor)
        .build();
    Client::from_conf(config)
}

/// Loses the answer to one write that DynamoDB applied: the `nth`
/// successful `UpdateItem` the client makes once armed is reported to it
/// as timed out, as a slow network would make it. The SDK then sends the
/// same request again.
#[derive(Debug, Clone, Default)]
pub struct LostAnswer(Countdown);

impl LostAnswer {
    /// A client like `client` that also loses an answer as armed.
    pub fn client_like(&self, client: &Client) -> Client {
        with_interceptor(client, self.clone())
    }
}

impl std::ops::Deref for LostAnswer {
    type Target = Countdown;
    fn deref(&self) -> &Countdown {
        &self.0
    }
}

impl Intercept for LostAnswer {
    fn name(&self) -> &'static str {
        "LostAnswer"
    }

    fn modify_before_attempt_completion(
        &self,
        context: &mut FinalizerInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let applied_update = matches!(
            context.output_or_error(),
            Some(Ok(output)) if output.downcast_ref::<UpdateItemOutput>().is_some()
        );
        if applied_update
            && self.strikes()
            && let Some(answer) = context.output_or_error_mut()
        {
            *answer = Err(OrchestratorError::timeout(
                "injected fault: the answer was lost".into(),
            ));
        }
        Ok(())
    }
}

impl Intercept for FailingWrite {
    fn name(&self) -> &'static str {
        "FailingWrite"
    }

    fn modify_before_serialization(
        &self,
        context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let is_transaction = context
            .input_mut()
            .downcast_ref::<TransactWriteItemsInput>()
            .is_some();
        if is_transaction && self.strikes() {
            return Err("injected fault: the database failed this write".into());
        }
        Ok(())
    }
}
