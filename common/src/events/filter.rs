//! Which records a consumer receives. In AWS this is the event source
//! mapping's `FilterCriteria` (the template is generated from
//! [`RecordFilter::pattern`]): records that match no filter are dropped
//! before the function is invoked, and cost nothing. The local poller
//! applies the same filters with [`RecordFilter::matches`].

use aws_lambda_events::event::dynamodb::EventRecord;
use serde_json::{Value, json};

use super::ChangeKind;

/// How a filter matches the item's sort key.
#[derive(Debug, Clone, Copy)]
pub enum KeyMatch {
    Equals(&'static str),
    Prefix(&'static str),
}

/// Records of these kinds whose sort key matches. TTL deletions (made by
/// the DynamoDB service, with a `userIdentity`) never match: expiring
/// items must not set off work.
#[derive(Debug, Clone, Copy)]
pub struct RecordFilter {
    pub kinds: &'static [ChangeKind],
    pub sort_key: KeyMatch,
}

impl RecordFilter {
    /// The Lambda event filtering pattern.
    pub fn pattern(&self) -> Value {
        let sort_key = match self.sort_key {
            KeyMatch::Equals(value) => json!([value]),
            KeyMatch::Prefix(prefix) => json!([{ "prefix": prefix }]),
        };
        let kinds: Vec<&str> = self.kinds.iter().map(|k| k.event_name()).collect();
        json!({
            "eventName": kinds,
            "dynamodb": { "Keys": { "SK": { "S": sort_key } } },
            "userIdentity": { "type": [{ "exists": false }] },
        })
    }

    /// Whether `record` matches, as the event source mapping decides it.
    pub fn matches(&self, record: &EventRecord) -> bool {
        let kind_matches = self
            .kinds
            .iter()
            .any(|kind| kind.event_name() == record.event_name);
        let sort_key = match record.change.keys.get("SK") {
            Some(serde_dynamo::AttributeValue::S(sk)) => sk.as_str(),
            _ => return false,
        };
        let key_matches = match self.sort_key {
            KeyMatch::Equals(value) => sort_key == value,
            KeyMatch::Prefix(prefix) => sort_key.starts_with(prefix),
        };
        kind_matches && key_matches && record.user_identity.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(event: &str, sk: &str, ttl: bool) -> EventRecord {
        let mut identity = json!(null);
        if ttl {
            identity = json!({ "type": "Service", "principalId": "dynamodb.amazonaws.com" });
        }
        serde_json::from_value(json!({
            "awsRegion": "eu-west-1",
            "eventID": "1",
            "eventName": event,
            "userIdentity": identity,
            "dynamodb": {
                "Keys": { "PK": { "S": "X" }, "SK": { "S": sk } },
                "SequenceNumber": "100",
                "SizeBytes": 10,
            },
        }))
        .unwrap()
    }

    const FOLLOWS: RecordFilter = RecordFilter {
        kinds: &[ChangeKind::Insert, ChangeKind::Remove],
        sort_key: KeyMatch::Prefix("FOLLOWS#"),
    };

    #[test]
    fn matches_kind_and_sort_key_and_never_a_ttl_deletion() {
        assert!(FOLLOWS.matches(&record("INSERT", "FOLLOWS#a", false)));
        assert!(FOLLOWS.matches(&record("REMOVE", "FOLLOWS#a", false)));
        assert!(!FOLLOWS.matches(&record("MODIFY", "FOLLOWS#a", false)));
        assert!(!FOLLOWS.matches(&record("INSERT", "USER", false)));
        assert!(!FOLLOWS.matches(&record("REMOVE", "FOLLOWS#a", true)));
    }

    #[test]
    fn the_pattern_says_the_same_in_lambdas_filter_language() {
        assert_eq!(
            FOLLOWS.pattern(),
            json!({
                "eventName": ["INSERT", "REMOVE"],
                "dynamodb": { "Keys": { "SK": { "S": [{ "prefix": "FOLLOWS#" }] } } },
                "userIdentity": { "type": [{ "exists": false }] },
            })
        );
    }
}
