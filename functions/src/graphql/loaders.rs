//! Data loaders: what GraphQL lets a client ask for beyond REST (the
//! comments of every article of a page), gathered from all the fields that
//! ask during one step of the query, and read at once.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use conduit_common::ApiError;
use conduit_common::api_types::CommentView;
use conduit_common::decorate::{self, Known};
use conduit_common::views::comment_view;

use super::calls::Caller;

/// The first `limit` comments of the article `slug`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CommentsKey {
    pub slug: String,
    pub limit: usize,
}

/// Comments of many articles: one query per article, all at once (DynamoDB
/// cannot batch queries), then every comment's author in one
/// `BatchGetItem` of 100 keys a call (and, for a signed-in viewer, whom
/// they follow among them in one more): the same decoration as REST's.
pub struct CommentsLoader(pub Arc<Caller>);

impl Loader<CommentsKey> for CommentsLoader {
    type Value = Vec<CommentView>;
    type Error = Arc<ApiError>;

    async fn load(
        &self,
        keys: &[CommentsKey],
    ) -> Result<HashMap<CommentsKey, Vec<CommentView>>, Self::Error> {
        let caller = &self.0;
        let db = caller.db();
        // Each article is a few round trips: each counts as a route call.
        caller.spend(u32::try_from(keys.len()).unwrap_or(u32::MAX))?;
        let pages = futures::future::try_join_all(keys.iter().map(|key| async move {
            // The guard names the article: its comments need nothing more.
            let comments = match db.slug_guard(&key.slug).await? {
                Some(guard) => db.comments(&guard.article_id, None, key.limit).await?,
                None => vec![],
            };
            Ok::<_, ApiError>((key.clone(), comments))
        }))
        .await?;
        let authors: Vec<&str> = pages
            .iter()
            .flat_map(|(_, comments)| comments.iter().map(|c| c.author_id.as_str()))
            .collect();
        let profiles = decorate::profiles(db, &authors, caller.viewer(), Known::default()).await?;
        Ok(pages
            .into_iter()
            .map(|(key, comments)| {
                let views = comments
                    .into_iter()
                    .filter_map(|comment| {
                        let author = profiles.get(&comment.author_id)?.clone();
                        Some(comment_view(comment, author))
                    })
                    .collect();
                (key, views)
            })
            .collect())
    }
}
