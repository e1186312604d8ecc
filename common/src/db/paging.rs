//! Queries that page: which slice of a newest-first list to read ([`Page`]),
//! reading the first items of a query through the SDK's paginator without
//! asking for a page more than needed, the newest-first slice of a
//! partition after a cursor, and whole (sharded) counter partitions.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;

use super::item::MAX_PARTITION_KEY_BYTES;
use super::{Db, Item, get_i64, get_s, keys, s, sdk_error};
use crate::error::ApiError;

/// The most items one query call is asked for.
const MAX_PAGE_ITEMS: usize = 1000;

/// Which slice of a newest-first list to read: `offset`/`limit` as in the
/// spec, and optionally a cursor (`before`: only articles older than this id).
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub limit: usize,
    pub offset: usize,
    pub before: Option<String>,
}

impl Page {
    pub(super) fn wanted(&self) -> usize {
        self.offset + self.limit
    }

    /// Drops the `offset` first of a newest-first list and keeps `limit`.
    pub(super) fn cut<T>(&self, items: Vec<T>) -> Vec<T> {
        items
            .into_iter()
            .skip(self.offset)
            .take(self.limit)
            .collect()
    }
}

/// The first `wanted` items of `query`, page after page. The paginator asks
/// for the next page only when the item after the last one read is wanted,
/// so this makes the same calls as asking each time for what is left: one
/// per [`MAX_PAGE_ITEMS`], or more where a page stops at DynamoDB's 1 MB.
pub(super) async fn first_items(
    query: QueryFluentBuilder,
    wanted: usize,
) -> Result<Vec<Item>, ApiError> {
    if wanted == 0 {
        return Ok(vec![]);
    }
    let mut stream = query
        .into_paginator()
        .page_size(page_size(wanted))
        .items()
        .send();
    let mut items = Vec::new();
    while items.len() < wanted {
        match stream.try_next().await.map_err(sdk_error)? {
            Some(item) => items.push(item),
            None => break,
        }
    }
    Ok(items)
}

/// Every item of `query`, page after page.
pub(super) async fn all_items(query: QueryFluentBuilder) -> Result<Vec<Item>, ApiError> {
    query
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(sdk_error)
}

/// The paginator asks every page for the same number of items, so `wanted`
/// is split evenly over the fewest pages that can hold it: as many calls as
/// asking for what is left each time, reading less than one item a page more.
fn page_size(wanted: usize) -> i32 {
    let pages = wanted.div_ceil(MAX_PAGE_ITEMS);
    i32::try_from(wanted.div_ceil(pages)).expect("at most MAX_PAGE_ITEMS")
}

impl Db {
    /// Newest-first items of one partition of the table or an index, after
    /// the cursor if any, reading no more than `wanted` items.
    pub(crate) async fn query_newest(
        &self,
        index: Option<&str>,
        partition: &str,
        before: Option<&str>,
        wanted: usize,
    ) -> Result<Vec<Item>, ApiError> {
        let (pk, sk) = match index {
            Some(index) => (format!("{index}PK"), format!("{index}SK")),
            None => ("PK".to_owned(), "SK".to_owned()),
        };
        if partition.len() > MAX_PARTITION_KEY_BYTES {
            return Ok(vec![]);
        }
        let mut condition = format!("{pk} = :pk");
        let mut values = HashMap::from([(":pk".to_owned(), s(partition))]);
        if let Some(before) = before {
            condition += &format!(" AND {sk} < :before");
            values.insert(":before".to_owned(), s(before));
        }
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(index.map(str::to_owned))
            .key_condition_expression(condition)
            .set_expression_attribute_values(Some(values))
            .scan_index_forward(false);
        first_items(query, wanted).await
    }

    /// `page` of a newest-first partition of the table or an index: its
    /// `offset` first items skipped, `limit` kept; and how many were read
    /// (fewer than the page wanted: the partition ends on this page).
    pub(super) async fn query_read(
        &self,
        index: Option<&str>,
        partition: &str,
        page: &Page,
    ) -> Result<(usize, Vec<Item>), ApiError> {
        let items = self
            .query_newest(index, partition, page.before.as_deref(), page.wanted())
            .await?;
        Ok((items.len(), page.cut(items)))
    }

    /// Counters of one counter partition (`TAGS` or `BUCKETS`), their
    /// shards summed, in sort key order (reversed for `newest_first`);
    /// those at zero are left out.
    pub(super) async fn counters(
        &self,
        partition: &str,
        newest_first: bool,
    ) -> Result<Vec<(String, u64)>, ApiError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk")
            .expression_attribute_values(":pk", s(partition));
        let items = all_items(query).await?;
        let mut sums: BTreeMap<String, i64> = BTreeMap::new();
        for item in &items {
            if let Some(sort_key) = get_s(item, "SK") {
                *sums.entry(keys::counted(sort_key).to_owned()).or_default() += get_i64(item, "n");
            }
        }
        let counted = sums
            .into_iter()
            .filter(|(_, count)| *count > 0)
            .map(|(name, count)| (name, count as u64));
        Ok(match newest_first {
            true => counted.rev().collect(),
            false => counted.collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cut_offset_then_limit() {
        let page = Page {
            limit: 2,
            offset: 1,
            before: None,
        };
        assert_eq!(page.cut(vec![1, 2, 3, 4]), vec![2, 3]);
    }

    #[test]
    fn page_sizes_need_no_more_calls_than_asking_for_the_rest() {
        for wanted in [1, 20, 999, 1000, 1001, 1050, 2000, 2001, 10_100] {
            let size = page_size(wanted) as usize;
            assert!(size <= MAX_PAGE_ITEMS, "{wanted}: {size}");
            let pages = wanted.div_ceil(MAX_PAGE_ITEMS);
            assert_eq!(wanted.div_ceil(size), pages, "{wanted}: {size}");
            assert!(size * pages - wanted < pages, "{wanted}: {size}");
        }
        assert_eq!(page_size(20), 20);
        assert_eq!(page_size(1050), 525);
    }
}
