//! Counters that heal. Every counter moves in the same transaction as the
//! items it counts, so they agree; this recounts them all from the items
//! anyway, to catch what a bug, a hand edit or a restore may have left
//! wrong: each user's `articles_count`, `favorites_count`,
//! `following_count`, `followers_count` and `feed_count`, each article's
//! `favorites_count`, and each tag's and month's sharded counter.
//!
//! It reads at a bounded rate (read capacity units a second), so that it
//! never crowds out the API. A counter that disagrees is counted again
//! after a pause (an index a moment behind a write must not pass for
//! drift), and fixed only if neither it nor its count moved meanwhile,
//! with a write conditioned on the value it read: a change made
//! concurrently is never undone (the next run looks again).

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{ConditionCheck, Select, TransactWriteItem, Update};

use super::paging::all_items;
use super::{Db, Item, get_i64, get_s, key_of, keys, n, s, sdk_error};
use crate::error::ApiError;
use crate::meter;

/// How a run reads.
#[derive(Debug, Clone, Copy)]
pub struct RepairSettings {
    /// Read capacity units a second, at most (on average).
    pub read_units_per_second: f64,
    /// How long a disagreement must last before it is fixed.
    pub settle: Duration,
}

impl RepairSettings {
    /// Reading at most `read_units_per_second`, and confirming a
    /// disagreement after longer than an index takes to catch up with a
    /// write (well under a second in AWS).
    pub fn at_rate(read_units_per_second: f64) -> Self {
        Self {
            read_units_per_second,
            settle: Duration::from_secs(2),
        }
    }
}

/// One counter that disagreed with its items, and was fixed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    /// Which counter: `user <id> feed_count`, `tag rust`, ...
    pub counter: String,
    pub recorded: i64,
    pub counted: i64,
}

/// What a run did.
#[derive(Debug, Default, Clone)]
pub struct Repaired {
    pub checked: u64,
    pub fixed: Vec<Drift>,
    /// Disagreements that moved while settling (a write under way): left
    /// for the next run.
    pub unsettled: u64,
    pub read_units: f64,
}

/// What one user's counters count: the attribute, and the queries whose
/// items it counts.
const USER_COUNTERS: [&str; 5] = [
    "articles_count",
    "favorites_count",
    "following_count",
    "followers_count",
    "feed_count",
];

impl Db {
    /// Recounts every counter (see the module's introduction).
    pub async fn repair_counters(&self, settings: RepairSettings) -> Result<Repaired, ApiError> {
        let mut run = Run {
            db: self,
            settings,
            started: Instant::now(),
            report: Repaired::default(),
        };
        let users = self.all_items_of(keys::GSI1, keys::USERS).await?;
        for user in users.iter().filter_map(|u| get_s(u, "GSI1SK")) {
            for attribute in USER_COUNTERS {
                run.attribute(keys::user(user), attribute, |db| {
                    db.user_counter_queries(user, attribute)
                })
                .await?;
            }
        }
        let month_names = self.counter_names(keys::BUCKETS).await?;
        for month in &month_names {
            let articles = self
                .all_items_of(keys::GSI1, &keys::bucket_partition(month))
                .await?;
            for article in articles.iter().filter_map(|a| get_s(a, "GSI1SK")) {
                run.attribute(keys::article(article), "favorites_count", |db| {
                    let (pk, _) = keys::article(article);
                    vec![db.count_of(None, &pk, Some(keys::FAVORITE_PREFIX))]
                })
                .await?;
            }
        }
        for month in month_names {
            let partition = keys::bucket_partition(&month);
            run.shards(keys::BUCKETS, &month, |db| {
                vec![db.count_of(Some(keys::GSI1), &partition, None)]
            })
            .await?;
        }
        for tag in self.counter_names(keys::TAGS).await? {
            let partition = keys::tag_partition(&tag);
            run.shards(keys::TAGS, &tag, |db| {
                vec![db.count_of(None, &partition, None)]
            })
            .await?;
        }
        Ok(run.report)
    }

    /// The queries whose items `attribute` of user `id` counts.
    fn user_counter_queries(&self, id: &str, attribute: &str) -> Vec<QueryFluentBuilder> {
        let (own, _) = keys::user(id);
        match attribute {
            "articles_count" => vec![self.count_of(Some(keys::GSI2), &keys::authored_by(id), None)],
            "favorites_count" => {
                vec![self.count_of(Some(keys::GSI2), &keys::favorited_by(id), None)]
            }
            "following_count" => vec![self.count_of(None, &own, Some(keys::FOLLOWS_PREFIX))],
            "followers_count" => vec![
                self.count_of(Some(keys::GSI2), &keys::followers_of(id), None),
                self.count_of(Some(keys::GSI2), &keys::pullers_of(id), None),
            ],
            _ => vec![self.count_of(None, &keys::feed_partition(id), None)],
        }
    }

    /// A query counting the items of a partition (of the table or of
    /// `index`) whose sort key starts with `prefix`.
    fn count_of(
        &self,
        index: Option<&str>,
        partition: &str,
        prefix: Option<&str>,
    ) -> QueryFluentBuilder {
        let (pk, sk) = match index {
            Some(index) => (format!("{index}PK"), format!("{index}SK")),
            None => ("PK".to_owned(), "SK".to_owned()),
        };
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(index.map(str::to_owned))
            .select(Select::Count)
            .consistent_read(index.is_none())
            .expression_attribute_values(":pk", s(partition));
        match prefix {
            Some(prefix) => query
                .key_condition_expression(format!("{pk} = :pk AND begins_with({sk}, :prefix)"))
                .expression_attribute_values(":prefix", s(prefix)),
            None => query.key_condition_expression(format!("{pk} = :pk")),
        }
    }

    async fn all_items_of(&self, index: &str, partition: &str) -> Result<Vec<Item>, ApiError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression(format!("{index}PK = :pk"))
            .expression_attribute_values(":pk", s(partition))
            .projection_expression(format!("{index}SK"));
        all_items(query).await
    }
}

/// One run: its pace and its report.
struct Run<'a> {
    db: &'a Db,
    settings: RepairSettings,
    started: Instant,
    report: Repaired,
}

impl Run<'_> {
    /// Checks (and fixes) `attribute` of the item `key` against the items
    /// `queries` count.
    async fn attribute(
        &mut self,
        key: (String, String),
        attribute: &'static str,
        queries: impl Fn(&Db) -> Vec<QueryFluentBuilder>,
    ) -> Result<(), ApiError> {
        self.report.checked += 1;
        let read = |run: &mut Self| {
            let (db, key) = (run.db, key.clone());
            let queries = queries(db);
            async move {
                let item = db.get(key_of(key)).await?;
                let recorded = item.map(|item| get_i64(&item, attribute));
                Ok::<_, ApiError>((recorded, total(queries).await?))
            }
        };
        let (first, units) = meter::measure(read(self)).await;
        self.pace(units.read_units).await;
        let (Some(recorded), counted) = first? else {
            return Ok(()); // Deleted meanwhile.
        };
        if recorded == counted {
            return Ok(());
        }
        tokio::time::sleep(self.settings.settle).await;
        let (again, units) = meter::measure(read(self)).await;
        self.pace(units.read_units).await;
        if again? != (Some(recorded), counted) {
            self.report.unsettled += 1;
            return Ok(());
        }
        // `USER#<id>` -> `user <id> <attribute>`.
        let (kind, id) = key.0.split_once('#').unwrap_or((&key.0, ""));
        let name = format!("{} {id} {attribute}", kind.to_lowercase());
        let condition = match recorded {
            0 => "attribute_exists(PK) AND (attribute_not_exists(#c) OR #c = :was)",
            _ => "attribute_exists(PK) AND #c = :was",
        };
        let fixed = self
            .db
            .client
            .update_item()
            .table_name(&self.db.table)
            .set_key(Some(key_of(key)))
            .update_expression("SET #c = :is")
            .condition_expression(condition)
            .expression_attribute_names("#c", attribute)
            .expression_attribute_values(":was", n(recorded))
            .expression_attribute_values(":is", n(counted))
            .send()
            .await;
        match fixed {
            Ok(_) => self.drifted(name, recorded, counted),
            Err(err) if super::is_condition_failure(&err) => self.report.unsettled += 1,
            Err(err) => return Err(sdk_error(err)),
        }
        Ok(())
    }

    /// Checks (and fixes) the sharded counter of `name` in `partition`
    /// (`TAGS`, `BUCKETS`) against the items `queries` count.
    async fn shards(
        &mut self,
        partition: &'static str,
        name: &str,
        queries: impl Fn(&Db) -> Vec<QueryFluentBuilder>,
    ) -> Result<(), ApiError> {
        self.report.checked += 1;
        let read = |run: &mut Self| {
            let db = run.db;
            let queries = queries(db);
            let name = name.to_owned();
            async move {
                let shards = db.shards_of(partition, &name).await?;
                Ok::<_, ApiError>((shards, total(queries).await?))
            }
        };
        let (first, units) = meter::measure(read(self)).await;
        self.pace(units.read_units).await;
        let (shards, counted) = first?;
        let recorded: i64 = shards.iter().map(|(_, n)| n).sum();
        if recorded == counted {
            return Ok(());
        }
        tokio::time::sleep(self.settings.settle).await;
        let (again, units) = meter::measure(read(self)).await;
        self.pace(units.read_units).await;
        if again? != (shards.clone(), counted) {
            self.report.unsettled += 1;
            return Ok(());
        }
        // Every shard as read, and the difference added to the first.
        let mut actions: Vec<((), TransactWriteItem)> = shards
            .iter()
            .skip(1)
            .map(|(sort_key, n_read)| {
                let check = ConditionCheck::builder()
                    .table_name(&self.db.table)
                    .set_key(Some(key_of((partition.to_owned(), sort_key.clone()))))
                    .condition_expression("n = :was")
                    .expression_attribute_values(":was", n(*n_read))
                    .build()
                    .expect("complete condition check");
                (
                    (),
                    TransactWriteItem::builder().condition_check(check).build(),
                )
            })
            .collect();
        let (first_key, first_read) = shards
            .first()
            .cloned()
            .unwrap_or_else(|| (format!("{name}#0"), 0));
        let update = Update::builder()
            .table_name(&self.db.table)
            .set_key(Some(key_of((partition.to_owned(), first_key))))
            .update_expression("ADD n :delta")
            .condition_expression("attribute_not_exists(n) OR n = :was")
            .expression_attribute_values(":was", n(first_read))
            .expression_attribute_values(":delta", n(counted - recorded))
            .build()
            .expect("complete update");
        actions.push(((), TransactWriteItem::builder().update(update).build()));
        match self.db.transact(actions).await {
            Ok(()) => {
                let what = match partition {
                    keys::TAGS => "tag",
                    _ => "month",
                };
                self.drifted(format!("{what} {name}"), recorded, counted);
            }
            Err(super::TxError::Cancelled(_)) => self.report.unsettled += 1,
            Err(err) => return Err(err.into()),
        }
        Ok(())
    }

    fn drifted(&mut self, counter: String, recorded: i64, counted: i64) {
        tracing::warn!(counter, recorded, counted, "counter drift fixed");
        self.report.fixed.push(Drift {
            counter,
            recorded,
            counted,
        });
    }

    /// Waits as long as reading `units` more keeps the run at its rate.
    async fn pace(&mut self, units: f64) {
        self.report.read_units += units;
        let due =
            Duration::from_secs_f64(self.report.read_units / self.settings.read_units_per_second);
        if let Some(wait) = due.checked_sub(self.started.elapsed()) {
            tokio::time::sleep(wait).await;
        }
    }
}

/// The items the queries count, together.
async fn total(queries: Vec<QueryFluentBuilder>) -> Result<i64, ApiError> {
    let mut total = 0;
    for query in queries {
        let mut pages = query.into_paginator().send();
        while let Some(page) = pages.try_next().await.map_err(sdk_error)? {
            total += i64::from(page.count());
        }
    }
    Ok(total)
}

impl Db {
    /// The names counted in a counter partition (`TAGS`, `BUCKETS`), those
    /// at zero too.
    async fn counter_names(&self, partition: &str) -> Result<Vec<String>, ApiError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk")
            .expression_attribute_values(":pk", s(partition))
            .projection_expression("SK");
        let mut names: Vec<String> = all_items(query)
            .await?
            .iter()
            .filter_map(|item| Some(keys::counted(get_s(item, "SK")?).to_owned()))
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// The shards of `name`'s counter in `partition`: sort key and value,
    /// in sort key order.
    async fn shards_of(&self, partition: &str, name: &str) -> Result<Vec<(String, i64)>, ApiError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :name)")
            .expression_attribute_values(":pk", s(partition))
            .expression_attribute_values(":name", s(name))
            .consistent_read(true);
        let items = all_items(query).await?;
        Ok(items
            .iter()
            .filter_map(|item| {
                let sort_key = get_s(item, "SK")?;
                // `rust#1` (or `rust`, unsharded), not `rustacean#1`.
                (keys::counted(sort_key) == name).then(|| (sort_key.to_owned(), get_i64(item, "n")))
            })
            .collect())
    }
}
