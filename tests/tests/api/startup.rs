//! What a function does once, at cold start, so that its first request
//! does not have to.

use conduit_common::config::Budget;
use conduit_common::state::dynamodb_client_from;
use conduit_tests::spawn_app_with_faults;

/// In AWS the first DynamoDB call opens a TLS connection, which at a small
/// function's CPU share took most of a cold request. A function opens it
/// during Init (`Db::connect`), and its first request finds it open.
#[tokio::test]
async fn the_first_request_finds_the_table_connection_open() {
    let faulty = spawn_app_with_faults(Budget::UNHURRIED).await;
    let author = faulty.direct.register("author").await;
    faulty
        .direct
        .create_article(&author, "Read through the proxy", &[])
        .await;
    // A new process: a client with no connection yet.
    let client = dynamodb_client_from(
        &conduit_common::aws::sdk_config(Some(&faulty.proxy.endpoint())).unwrap(),
        &Budget::UNHURRIED,
    );
    let app = faulty.app.with_client(client);

    let before = faulty.proxy.connections();
    app.state.db.connect().await;
    assert_eq!(faulty.proxy.connections(), before + 1, "Init connects");

    let page = app.get("/api/articles", None).await;
    assert_eq!(page.body["articlesCount"], 1, "{:?}", page.body);
    assert_eq!(
        faulty.proxy.connections(),
        before + 1,
        "the first request opened a connection of its own"
    );
}
