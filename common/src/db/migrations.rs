//! Data migrations: the changes that items written before a code change
//! need, listed in order in [`MIGRATIONS`]. Each one scans the table for
//! the items it concerns and sets what they lack, each write conditioned
//! on it still being absent, so that running one again (whole, or a page a
//! crash interrupted) changes nothing. Progress is recorded in the table
//! after every page (`MIGRATIONS` / `<id>`: the scan's cursor, then when it
//! finished), so an interrupted run resumes where it stopped, and a
//! finished migration is never scanned again.
//!
//! Run at every start of the local server, and after every deploy by
//! `scripts/deploy.sh` (`conduit-admin migrate`, against the stack's table).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use super::{Db, Item, get_s, key_of, keys, s, sdk_error};
use crate::error::ApiError;

/// Items one scan call reads (and then writes, at most) before the
/// progress is saved.
pub const PAGE_ITEMS: i32 = 500;

/// Attributes to set: names and (string) values.
pub type Attributes = Vec<(&'static str, String)>;

/// One data migration: which items it concerns, and what each gets.
pub struct Migration {
    /// Never changes once shipped: the record of its progress is keyed by it.
    pub id: &'static str,
    pub summary: &'static str,
    /// The items it concerns have a sort key starting with this...
    pub sort_key_prefix: &'static str,
    /// ...and lack this attribute, which it sets.
    pub missing: &'static str,
    /// What an item gets: attribute names and values (`missing` among
    /// them); `None` for an item it cannot make sense of (left alone).
    pub set: fn(&Item) -> Option<Attributes>,
}

/// Every migration, oldest first. Append; never reorder or remove.
pub static MIGRATIONS: &[Migration] = &[
    Migration {
        id: "0001-followers-index",
        summary: "follows made before the FOLLOWERS# index: listed under their followee",
        sort_key_prefix: keys::FOLLOWS_PREFIX,
        missing: "GSI2PK",
        set: |item| {
            let follower = keys::user_of(get_s(item, "PK")?)?;
            let followee = get_s(item, "SK")?.strip_prefix(keys::FOLLOWS_PREFIX)?;
            let pulled = matches!(item.get("pulled"), Some(AttributeValue::Bool(true)));
            let partition = match pulled {
                true => keys::pullers_of(followee),
                false => keys::followers_of(followee),
            };
            Some(vec![("GSI2PK", partition), ("GSI2SK", follower.to_owned())])
        },
    },
    Migration {
        id: "0002-comments-by-author-index",
        summary: "comments written before the COMMENTBY# index: listed under their author",
        sort_key_prefix: keys::COMMENT_PREFIX,
        missing: "GSI2PK",
        set: |item| {
            let article = get_s(item, "PK")?.strip_prefix("ARTICLE#")?;
            let id: u64 = get_s(item, "SK")?
                .strip_prefix(keys::COMMENT_PREFIX)?
                .parse()
                .ok()?;
            let author = get_s(item, "author_id")?;
            Some(vec![
                ("GSI2PK", keys::commented_by(author)),
                ("GSI2SK", keys::comment_index_key(article, id)),
            ])
        },
    },
];

/// What the table records of one migration.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Progress {
    /// Where the scan goes on (its last evaluated key), while unfinished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<HashMap<String, String>>,
    /// Items it has changed so far.
    #[serde(default)]
    pub changed: u64,
    /// When it finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
}

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Run {
    /// Migrations that finished in this run.
    pub finished: Vec<&'static str>,
    /// Items changed in this run.
    pub changed: u64,
    /// Whether it stopped before every migration had finished.
    pub interrupted: bool,
}

impl Db {
    /// Runs every unfinished migration of `migrations`, in order, a page at
    /// a time; before each page, `stop` may end the run (a deadline, a
    /// test's interruption), which the next run resumes.
    pub async fn migrate(
        &self,
        migrations: &[Migration],
        stop: &mut dyn FnMut() -> bool,
    ) -> Result<Run, ApiError> {
        let mut run = Run::default();
        for migration in migrations {
            let mut progress = self.progress(migration.id).await?;
            if progress.finished_at.is_some() {
                continue;
            }
            loop {
                if stop() {
                    run.interrupted = true;
                    return Ok(run);
                }
                let (changed, cursor) = self.migrate_page(migration, progress.cursor).await?;
                progress.changed += changed;
                run.changed += changed;
                progress.cursor = cursor;
                if progress.cursor.is_none() {
                    progress.finished_at = Some(crate::time::iso(std::time::SystemTime::now()));
                }
                self.record_progress(migration.id, &progress).await?;
                if progress.finished_at.is_some() {
                    run.finished.push(migration.id);
                    break;
                }
            }
        }
        Ok(run)
    }

    /// What the table records of migration `id` (nothing yet: not started).
    pub async fn progress(&self, id: &str) -> Result<Progress, ApiError> {
        match self.get(key_of(keys::migration(id))).await? {
            Some(item) => super::from_item(item),
            None => Ok(Progress::default()),
        }
    }

    async fn record_progress(&self, id: &str, progress: &Progress) -> Result<(), ApiError> {
        let mut item = super::to_item(progress)?;
        item.extend(key_of(keys::migration(id)));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }

    /// One page of the scan after `cursor`: the items changed, and where
    /// the scan goes on (`None`: it is done).
    async fn migrate_page(
        &self,
        migration: &Migration,
        cursor: Option<HashMap<String, String>>,
    ) -> Result<(u64, Option<HashMap<String, String>>), ApiError> {
        let start = cursor.map(|key| key.into_iter().map(|(k, v)| (k, s(v))).collect());
        let page = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression("begins_with(SK, :prefix) AND attribute_not_exists(#missing)")
            .expression_attribute_names("#missing", migration.missing)
            .expression_attribute_values(":prefix", s(migration.sort_key_prefix))
            .set_exclusive_start_key(start)
            .limit(PAGE_ITEMS)
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_error)?;
        let mut changed = 0;
        for item in page.items() {
            let Some(set) = (migration.set)(item) else {
                tracing::warn!(
                    migration = migration.id,
                    "an item it cannot migrate: left alone"
                );
                continue;
            };
            if self.set_where_missing(item, migration.missing, set).await? {
                changed += 1;
            }
        }
        let next = page.last_evaluated_key().map(|key| {
            key.iter()
                .filter_map(|(name, value)| Some((name.clone(), value.as_s().ok()?.clone())))
                .collect()
        });
        Ok((changed, next))
    }

    /// Sets `set` on the item, if `missing` is still absent and the item
    /// still there; whether it did.
    async fn set_where_missing(
        &self,
        item: &Item,
        missing: &str,
        set: Attributes,
    ) -> Result<bool, ApiError> {
        let key: Item = ["PK", "SK"]
            .into_iter()
            .filter_map(|name| Some((name.to_owned(), item.get(name)?.clone())))
            .collect();
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .condition_expression("attribute_exists(PK) AND attribute_not_exists(#missing)")
            .expression_attribute_names("#missing", missing);
        let mut assignments = vec![];
        for (n, (name, value)) in set.into_iter().enumerate() {
            assignments.push(format!("#a{n} = :v{n}"));
            update = update
                .expression_attribute_names(format!("#a{n}"), name)
                .expression_attribute_values(format!(":v{n}"), s(value));
        }
        let sent = update
            .update_expression(format!("SET {}", assignments.join(", ")))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(true),
            // Migrated meanwhile (by a run alongside), or deleted.
            Err(err) if super::is_condition_failure(&err) => Ok(false),
            Err(err) => Err(sdk_error(err)),
        }
    }
}
