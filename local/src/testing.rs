//! For the tests: the app's table on an embedded engine they started.

use conduit_common::aws::sdk_config;
use conduit_common::config::Budget;
use conduit_common::db::{Db, key};
use conduit_common::state::dynamodb_client_from;

pub struct Table {
    pub sdk: aws_config::SdkConfig,
    pub db: Db,
}

impl Table {
    /// The app's table (made if missing) on the engine at `endpoint`.
    pub async fn at(endpoint: &str) -> Self {
        let sdk = sdk_config(Some(endpoint)).unwrap();
        let db = Db::new(dynamodb_client_from(&sdk, &Budget::UNHURRIED), "conduit");
        db.ensure_table().await.unwrap();
        Self { sdk, db }
    }

    /// Writes an item no consumer takes: one stream record.
    pub async fn put(&self, sort_key: &str) {
        self.db
            .client
            .put_item()
            .table_name(&self.db.table)
            .set_item(Some(key("X", sort_key)))
            .send()
            .await
            .unwrap();
    }
}
