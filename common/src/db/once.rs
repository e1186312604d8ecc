//! Writes that take effect once however often they are retried: what the
//! stream consumers do (DynamoDB Streams deliver at least once, and a batch
//! may come again) and the create request's own fan-out, which the stream
//! repeats.
//!
//! Each [`Once`] is one conditional action (a put where the item is absent,
//! a delete where it is present) and optionally a [`Counter`] that moves
//! with it. They are packed into as few transactions as DynamoDB allows, the
//! counters of one transaction summed per item (a transaction may touch an
//! item once). A unit whose condition fails has already happened, or can no
//! longer happen: it is dropped with its share of the counter and the rest
//! is retried. So a replay writes nothing and counts nothing twice.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::TransactWriteItem;
use futures::{StreamExt, TryStreamExt, stream};

use super::{Db, Tx, TxError, key_of, n};
use crate::error::ApiError;

/// DynamoDB's limit of actions in one transaction.
const MAX_ACTIONS: usize = 100;

/// Transactions of one call in flight at once.
const CONCURRENCY: usize = 8;

/// One effect that must happen at most once.
#[derive(Debug, Clone)]
pub struct Once {
    /// Conditional: its condition failing means "already done".
    pub action: TransactWriteItem,
    pub counter: Option<Counter>,
}

impl Once {
    /// An effect that counts nothing.
    pub fn new(action: TransactWriteItem) -> Self {
        Self {
            action,
            counter: None,
        }
    }

    /// The same, moving `attribute` of the item `key` by `delta` with it.
    pub fn counting(self, key: (String, String), attribute: &'static str, delta: i64) -> Self {
        Self {
            counter: Some(Counter {
                key,
                attribute,
                delta,
            }),
            ..self
        }
    }
}

/// `ADD attribute delta` on an item, conditioned on the item existing (a
/// counter of something deleted is not resurrected as a stub item).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Counter {
    pub key: (String, String),
    pub attribute: &'static str,
    pub delta: i64,
}

/// What a call to [`Db::apply_once`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// How many units took effect now (the others had already).
    Done(usize),
    /// The guard's condition failed: nothing more was applied.
    GuardFailed,
}

impl Applied {
    /// How many units took effect now; none when the guard failed.
    pub fn count(self) -> usize {
        match self {
            Applied::Done(count) => count,
            Applied::GuardFailed => 0,
        }
    }
}

/// The name of each action in a transaction, to read a cancellation by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Guard,
    Unit(usize),
    Counter(usize),
}

impl Db {
    /// Applies `units`, each exactly once, each transaction also checking
    /// `guard` (say, "the article still exists") so that none is applied
    /// after the guard stops holding.
    pub(crate) async fn apply_once(
        &self,
        guard: Option<TransactWriteItem>,
        units: Vec<Once>,
    ) -> Result<Applied, ApiError> {
        let mut chunks = chunks(units, usize::from(guard.is_some())).into_iter();
        // The first alone: when the guard no longer holds, that is one call.
        let Some(first) = chunks.next() else {
            return Ok(Applied::Done(0));
        };
        let Applied::Done(first) = self.apply_chunk(guard.clone(), first).await? else {
            return Ok(Applied::GuardFailed);
        };
        let outcomes: Vec<Applied> = stream::iter(chunks)
            .map(|chunk| self.apply_chunk(guard.clone(), chunk))
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await?;
        Ok(outcomes
            .into_iter()
            .try_fold(first, |sum, outcome| match outcome {
                Applied::Done(count) => Some(sum + count),
                Applied::GuardFailed => None,
            })
            .map_or(Applied::GuardFailed, Applied::Done))
    }

    /// One transaction's worth of units, retried without those that had
    /// already happened until what is left commits.
    async fn apply_chunk(
        &self,
        guard: Option<TransactWriteItem>,
        mut units: Vec<Once>,
    ) -> Result<Applied, ApiError> {
        // Counters whose item is gone: the units still apply, uncounted.
        let mut gone: Vec<(String, String)> = vec![];
        while !units.is_empty() {
            let counters = summed(&units, &gone);
            let mut actions: Vec<(Part, TransactWriteItem)> = vec![];
            if let Some(guard) = &guard {
                actions.push((Part::Guard, guard.clone()));
            }
            actions.extend(
                units
                    .iter()
                    .enumerate()
                    .map(|(i, unit)| (Part::Unit(i), unit.action.clone())),
            );
            actions.extend(
                counters
                    .iter()
                    .enumerate()
                    .map(|(i, (key, attribute, delta))| {
                        (
                            Part::Counter(i),
                            self.counter_action(key, attribute, *delta),
                        )
                    }),
            );
            let err = match self.transact(actions).await {
                Ok(()) => return Ok(Applied::Done(units.len())),
                Err(err) => err,
            };
            if err.failed(Part::Guard) {
                return Ok(Applied::GuardFailed);
            }
            let done: Vec<usize> = (0..units.len())
                .filter(|&i| err.failed(Part::Unit(i)))
                .collect();
            let vanished: Vec<(String, String)> = (0..counters.len())
                .filter(|&i| err.failed(Part::Counter(i)))
                .map(|i| counters[i].0.clone())
                .collect();
            if done.is_empty() && vanished.is_empty() {
                return Err(ApiError::from(err as TxError<Part>));
            }
            let mut index = 0;
            units.retain(|_| {
                index += 1;
                !done.contains(&(index - 1))
            });
            gone.extend(vanished);
        }
        Ok(Applied::Done(0))
    }

    /// Deletes the item `key` where it still is, taking one off
    /// `attribute` of the item `counted` with it.
    pub(super) fn delete_once(
        &self,
        key: (String, String),
        counted: (String, String),
        attribute: &'static str,
    ) -> Once {
        let delete = self
            .delete(key_of(key))
            .condition_expression("attribute_exists(PK)");
        Once::new(delete.tx()).counting(counted, attribute, -1)
    }

    fn counter_action(
        &self,
        key: &(String, String),
        attribute: &str,
        delta: i64,
    ) -> TransactWriteItem {
        self.update(key_of(key.clone()))
            .update_expression("ADD #counter :delta")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#counter", attribute)
            .expression_attribute_values(":delta", n(delta))
            .tx()
    }
}

type SummedCounter = ((String, String), &'static str, i64);

/// The counters of `units` summed per item and attribute, leaving out items
/// that are gone and sums of zero.
fn summed(units: &[Once], gone: &[(String, String)]) -> Vec<SummedCounter> {
    let mut sums: HashMap<(&(String, String), &'static str), i64> = HashMap::new();
    for counter in units.iter().filter_map(|unit| unit.counter.as_ref()) {
        if !gone.contains(&counter.key) {
            *sums.entry((&counter.key, counter.attribute)).or_default() += counter.delta;
        }
    }
    let mut sums: Vec<SummedCounter> = sums
        .into_iter()
        .filter(|(_, delta)| *delta != 0)
        .map(|((key, attribute), delta)| (key.clone(), attribute, delta))
        .collect();
    // A stable order, so that retries of the same chunk send the same request.
    sums.sort();
    sums
}

/// Splits `units` into transactions of at most [`MAX_ACTIONS`] actions:
/// `reserved` for the guard, one per unit and one per distinct counter.
fn chunks(units: Vec<Once>, reserved: usize) -> Vec<Vec<Once>> {
    let mut chunks = vec![];
    let mut chunk: Vec<Once> = vec![];
    let mut counters: Vec<(String, String)> = vec![];
    for unit in units {
        let new_counter = unit
            .counter
            .as_ref()
            .is_some_and(|c| !counters.contains(&c.key));
        let size = reserved + chunk.len() + counters.len() + 1 + usize::from(new_counter);
        if size > MAX_ACTIONS {
            chunks.push(std::mem::take(&mut chunk));
            counters.clear();
        }
        if let Some(counter) = &unit.counter
            && !counters.contains(&counter.key)
        {
            counters.push(counter.key.clone());
        }
        chunk.push(unit);
    }
    if !chunk.is_empty() {
        chunks.push(chunk);
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::keys;

    fn unit(reader: &str, delta: i64) -> Once {
        Once {
            action: TransactWriteItem::builder().build(),
            counter: Some(Counter {
                key: keys::user(reader),
                attribute: "feed_count",
                delta,
            }),
        }
    }

    #[test]
    fn chunks_respect_the_transaction_limit_counting_each_counter_once() {
        // One reader, many entries: one counter per transaction.
        let one_reader: Vec<Once> = (0..250).map(|_| unit("r", 1)).collect();
        let sizes: Vec<usize> = chunks(one_reader, 1).iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![98, 98, 54]);
        // Many readers: a counter per unit.
        let many: Vec<Once> = (0..120).map(|i| unit(&i.to_string(), 1)).collect();
        let sizes: Vec<usize> = chunks(many, 1).iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![49, 49, 22]);
    }

    #[test]
    fn counters_are_summed_per_item_without_the_gone_or_the_zero() {
        let units = vec![
            unit("a", 1),
            unit("a", 1),
            unit("b", 1),
            unit("b", -1),
            unit("c", 1),
        ];
        let sums = summed(&units, &[keys::user("c")]);
        assert_eq!(sums, vec![(keys::user("a"), "feed_count", 2)]);
    }
}
