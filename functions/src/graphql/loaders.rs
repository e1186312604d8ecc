//! Data loaders: what a response shows of many articles and comments,
//! gathered from all the fields that ask during one step of the query, and
//! read at once. The home screen (a page of articles, their authors, the
//! viewer's follows and favorites, each article's first comments and their
//! authors) is then the page's own reads, one query per article's comments,
//! all at once, and two batch reads: the articles' decorations (alongside
//! the comments) and the comments' authors.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use conduit_common::ApiError;
use conduit_common::api_types::{CommentView, ProfileView};
use conduit_common::decorate;
use conduit_common::views::comment_view;

use super::calls::Caller;

/// What a response shows of an article or a comment besides itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Shown {
    /// The profile of the user with this id, `following` included.
    Profile(String),
    /// Whether the viewer favorited the article with this id.
    Favorited(String),
    /// An article's first comments, with their authors.
    Comments(CommentsKey),
}

#[derive(Debug, Clone)]
pub enum Loaded {
    Profile(ProfileView),
    Favorited(bool),
    Comments(Vec<CommentView>),
}

/// The article whose comments are asked for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ArticleKey {
    /// By id: an article a list found.
    Id(String),
    /// By slug: an article a route's handler answered with, whose guard
    /// gives its id.
    Slug(String),
}

/// The first `limit` comments of an article.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CommentsKey {
    pub article: ArticleKey,
    pub limit: usize,
}

/// Everything asked for in one step of the query, read at once: one
/// comments query per article (DynamoDB cannot batch queries) while one
/// `BatchGetItem` (100 keys a call) reads every profile, follow and
/// favorite asked for; then one more for the comments' authors not read
/// already. One loader for all, so that the comments and the decorations
/// always go together. A user that no longer exists has no profile.
pub struct ResponseLoader(pub Arc<Caller>);

impl Loader<Shown> for ResponseLoader {
    type Value = Loaded;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[Shown]) -> Result<HashMap<Shown, Loaded>, Self::Error> {
        let caller = &self.0;
        let db = caller.db();
        let (mut user_ids, mut article_ids, mut articles) = (vec![], vec![], vec![]);
        for key in keys {
            match key {
                Shown::Profile(id) => user_ids.push(id.as_str()),
                Shown::Favorited(id) => article_ids.push(id.as_str()),
                Shown::Comments(key) => articles.push(key),
            }
        }
        // Each article's comments are a round trip or two: each counts as
        // a route call.
        caller.spend(u32::try_from(articles.len()).unwrap_or(u32::MAX))?;
        let viewer = caller.viewer().await?;
        let viewer = viewer.user();
        let pages = futures::future::try_join_all(articles.into_iter().map(|key| async move {
            let article_id = match &key.article {
                ArticleKey::Id(id) => Some(id.clone()),
                // The guard names the article: its comments need nothing more.
                ArticleKey::Slug(slug) => db.slug_guard(slug).await?.map(|g| g.article_id),
            };
            let comments = match article_id {
                Some(id) => db.comments(&id, None, key.limit).await?,
                None => vec![],
            };
            Ok::<_, ApiError>((key, comments))
        }));
        let decorations = decorate::profiles_and_favorites(db, &user_ids, &article_ids, viewer);
        let (pages, (mut profiles, favorited)) = futures::try_join!(pages, decorations)?;
        let unread: Vec<&str> = pages
            .iter()
            .flat_map(|(_, comments)| comments.iter().map(|c| c.author_id.as_str()))
            .filter(|id| !profiles.contains_key(*id))
            .collect();
        if !unread.is_empty() {
            let (authors, _) = decorate::profiles_and_favorites(db, &unread, &[], viewer).await?;
            profiles.extend(authors);
        }
        let mut loaded: HashMap<Shown, Loaded> = pages
            .into_iter()
            .map(|(key, comments)| {
                let views = comments
                    .into_iter()
                    .filter_map(|comment| {
                        let author = profiles.get(&comment.author_id)?.clone();
                        Some(comment_view(comment, author))
                    })
                    .collect();
                (Shown::Comments(key.clone()), Loaded::Comments(views))
            })
            .collect();
        for key in keys {
            let value = match key {
                Shown::Profile(id) => match profiles.get(id) {
                    Some(profile) => Loaded::Profile(profile.clone()),
                    None => continue,
                },
                Shown::Favorited(id) => Loaded::Favorited(favorited.contains(id)),
                Shown::Comments(_) => continue,
            };
            loaded.insert(key.clone(), value);
        }
        Ok(loaded)
    }
}
