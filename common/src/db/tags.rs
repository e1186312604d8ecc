//! Tags: an article's entry under each of its tags (`TAG#<tag>`, listed by
//! tag), the per-tag counters in the `TAGS` partition (sharded, see
//! [`keys::TAG_SHARDS`]), and the tag list.

use aws_sdk_dynamodb::types::TransactWriteItem;

use super::{Db, Tx, get_i64, key_of, keys, n};
use crate::error::ApiError;

impl Db {
    /// The counters and index entries that move with an article's tags:
    /// `delta` is +1 when the article gains them and -1 when it loses them.
    pub(super) fn tag_actions(
        &self,
        article_id: &str,
        tags: &[String],
        delta: i64,
    ) -> Vec<TransactWriteItem> {
        tags.iter()
            .flat_map(|tag| {
                let entry = key_of(keys::tag_entry(tag, article_id));
                let index = if delta > 0 {
                    self.put(entry).tx()
                } else {
                    self.delete(entry).tx()
                };
                let counter = self
                    .update(key_of(keys::tag_counter(
                        tag,
                        keys::shard(keys::TAG_SHARDS),
                    )))
                    .update_expression("ADD n :delta")
                    .expression_attribute_values(":delta", n(delta))
                    .tx();
                [index, counter]
            })
            .collect()
    }

    /// How many articles carry `tag`: its counter's shards, summed.
    pub(super) async fn tag_count(&self, tag: &str) -> Result<u64, ApiError> {
        let shards = (0..keys::TAG_SHARDS)
            .map(|shard| key_of(keys::tag_counter(tag, shard)))
            .collect();
        let sum: i64 = self
            .batch_get(shards)
            .await?
            .iter()
            .map(|shard| get_i64(shard, "n"))
            .sum();
        Ok(sum.max(0) as u64)
    }

    /// Every tag in use, most used first.
    pub async fn tags(&self) -> Result<Vec<String>, ApiError> {
        let mut counters = self.counters(keys::TAGS, false).await?;
        counters.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(counters.into_iter().map(|(tag, _)| tag).collect())
    }
}
