//! Comments: items in their article's partition, with integer ids drawn
//! from a counter on the article item.

use serde::{Deserialize, Serialize};

use super::paging::first_items;
use super::{Db, Tx, from_item, get_u64, key_of, keys, n, s, sdk_error, to_item};
use crate::error::ApiError;

/// Comments returned by one list call at most; more come with the cursor.
pub const MAX_COMMENTS_PAGE: usize = 100;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Comment {
    pub id: u64,
    pub body: String,
    pub author_id: String,
    pub created_at: String,
    pub updated_at: String,
}

/// The actions of a comment's transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CommentAction {
    /// The check that the article still exists.
    Article,
    /// The comment item.
    Comment,
    /// A moderator's audit entry.
    Audit,
}

impl Db {
    /// Adds a comment. Its id comes from an atomic counter on the article;
    /// the comment itself is written only while the article still exists, so
    /// a comment racing an article delete cannot be left behind.
    pub async fn add_comment(
        &self,
        article_id: &str,
        body: String,
        author_id: &str,
        now: String,
    ) -> Result<Comment, ApiError> {
        let counter = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_of(keys::article(article_id))))
            .update_expression("ADD comment_seq :one")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":one", n(1))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await;
        let id = match counter {
            Ok(out) => get_u64(&out.attributes.unwrap_or_default(), "comment_seq"),
            Err(err) if super::is_condition_failure(&err) => {
                return Err(ApiError::NotFound("article"));
            }
            Err(err) => return Err(sdk_error(err)),
        };
        let comment = Comment {
            id,
            body,
            author_id: author_id.to_owned(),
            created_at: now.clone(),
            updated_at: now,
        };
        let mut item = to_item(&comment)?;
        item.extend(key_of(keys::comment(article_id, id)));
        item.insert("GSI2PK".into(), s(keys::commented_by(author_id)));
        item.insert("GSI2SK".into(), s(keys::comment_index_key(article_id, id)));
        let actions = vec![
            (
                CommentAction::Article,
                self.check(key_of(keys::article(article_id)))
                    .condition_expression("attribute_exists(PK)")
                    .tx(),
            ),
            (
                CommentAction::Comment,
                self.put(item)
                    .condition_expression("attribute_not_exists(PK)")
                    .tx(),
            ),
        ];
        match self.transact(actions).await {
            Ok(()) => Ok(comment),
            Err(err) if err.failed(CommentAction::Article) => Err(ApiError::NotFound("article")),
            Err(err) => Err(err.into()),
        }
    }

    /// An article's comments, oldest first, after the comment id `after`.
    pub async fn comments(
        &self,
        article_id: &str,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<Comment>, ApiError> {
        let Some(first_id) = after.map_or(Some(0), |id| id.checked_add(1)) else {
            return Ok(vec![]);
        };
        let (pk, first) = keys::comment(article_id, first_id);
        let (_, last) = keys::comment(article_id, u64::MAX);
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND SK BETWEEN :first AND :last")
            .expression_attribute_values(":pk", s(&pk))
            .expression_attribute_values(":first", s(&first))
            .expression_attribute_values(":last", s(&last))
            .consistent_read(true);
        first_items(query, limit)
            .await?
            .into_iter()
            .map(from_item::<Comment>)
            .collect()
    }

    pub async fn comment(&self, article_id: &str, id: u64) -> Result<Option<Comment>, ApiError> {
        self.get(key_of(keys::comment(article_id, id)))
            .await?
            .map(from_item)
            .transpose()
    }

    /// Deletes a comment, with its audit entry when a moderator deletes
    /// someone else's; `false` when it was already gone.
    pub async fn delete_comment(
        &self,
        article_id: &str,
        id: u64,
        audit: Option<&super::admin::AuditEntry>,
    ) -> Result<bool, ApiError> {
        let mut actions = vec![(
            CommentAction::Comment,
            self.delete(key_of(keys::comment(article_id, id)))
                .condition_expression("attribute_exists(PK)")
                .tx(),
        )];
        if let Some(audit) = audit {
            actions.push((CommentAction::Audit, self.audit_action(audit)?));
        }
        match self.transact(actions).await {
            Ok(()) => Ok(true),
            Err(err) if err.failed(CommentAction::Comment) => Ok(false),
            Err(err) => Err(err.into()),
        }
    }
}
