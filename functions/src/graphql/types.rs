//! The GraphQL types that are not the REST views themselves (those derive
//! their GraphQL type in `conduit_common::api_types`): an article, which
//! can also bring its comments (a list's articles are decorated by the
//! request's loaders, all at once), its page, and the mutations' inputs, which
//! are sent to the REST handlers as the JSON bodies they take.

use async_graphql::{ComplexObject, Context, InputObject, MaybeUndefined, Object, SimpleObject};
use conduit_common::ApiError;
use conduit_common::api_types::{ArticleView, CommentView, ProfileView};
use conduit_common::db::articles as db;
use conduit_common::views::{Body, article_view};
use serde::Serialize;

use super::errors::graphql_error;
use super::loaders::{ArticleKey, CommentsKey, Loaded, Shown};
use super::{COMMENTS_PER_ARTICLE, load_one};
use crate::handlers::articles::Listing;

/// An article, as `GET /api/articles/{slug}` shows it (lists leave out
/// `body`).
pub struct Article {
    view: ArticleView,
    /// For an article a list found, its id and its author's: its author,
    /// whether the viewer favorited it and its comments are then read by
    /// the request's loaders, with every other article's (and `view`'s
    /// author and `favorited` are placeholders, never shown).
    listed: Option<Listed>,
}

struct Listed {
    article_id: String,
    author_id: String,
}

impl Article {
    /// An article as a route's handler answered with it.
    pub fn shown(view: ArticleView) -> Self {
        Self { view, listed: None }
    }

    /// An article as a list found it, to be decorated by the loaders.
    pub fn listed(article: db::Article) -> Self {
        let listed = Listed {
            article_id: article.id.clone(),
            author_id: article.author_id.clone(),
        };
        let unread = ProfileView {
            username: String::new(),
            bio: None,
            image: None,
            following: false,
        };
        Self {
            view: article_view(article, unread, false, Body::Omit),
            listed: Some(listed),
        }
    }
}

#[Object]
impl Article {
    async fn slug(&self) -> &str {
        &self.view.slug
    }

    async fn title(&self) -> &str {
        &self.view.title
    }

    async fn description(&self) -> &str {
        &self.view.description
    }

    /// Null in lists, as on REST: ask for the article itself.
    async fn body(&self) -> Option<&str> {
        self.view.body.as_deref()
    }

    async fn tag_list(&self) -> &[String] {
        &self.view.tag_list
    }

    async fn created_at(&self) -> &str {
        &self.view.created_at
    }

    async fn updated_at(&self) -> &str {
        &self.view.updated_at
    }

    async fn favorited(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let Some(listed) = &self.listed else {
            return Ok(self.view.favorited);
        };
        let key = Shown::Favorited(listed.article_id.clone());
        match load_one(ctx, key).await? {
            Some(Loaded::Favorited(favorited)) => Ok(favorited),
            _ => Ok(false),
        }
    }

    async fn favorites_count(&self) -> u64 {
        self.view.favorites_count
    }

    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<ProfileView> {
        let Some(listed) = &self.listed else {
            return Ok(self.view.author.clone());
        };
        let key = Shown::Profile(listed.author_id.clone());
        match load_one(ctx, key).await? {
            Some(Loaded::Profile(author)) => Ok(author),
            _ => Err(graphql_error(&ApiError::NotFound("profile"))),
        }
    }

    /// Its first comments, oldest first (the `comments` query pages through
    /// all of them). Loaded for every article of a list at once.
    #[graphql(complexity = "limit.min(COMMENTS_PER_ARTICLE).saturating_mul(child_complexity)")]
    async fn comments(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, validator(minimum = 1, maximum = 100))] limit: usize,
    ) -> async_graphql::Result<Vec<CommentView>> {
        let article = match &self.listed {
            Some(listed) => ArticleKey::Id(listed.article_id.clone()),
            None => ArticleKey::Slug(self.view.slug.clone()),
        };
        let key = CommentsKey {
            article,
            limit: limit.min(COMMENTS_PER_ARTICLE),
        };
        match load_one(ctx, Shown::Comments(key)).await? {
            Some(Loaded::Comments(comments)) => Ok(comments),
            _ => Ok(vec![]),
        }
    }
}

/// A page of articles: `GET /api/articles` and the feed.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ArticlePage {
    /// How many articles the whole list holds.
    pub articles_count: u64,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
    #[graphql(skip)]
    pub articles: Vec<Article>,
}

#[ComplexObject]
impl ArticlePage {
    async fn articles(&self) -> &[Article] {
        &self.articles
    }
}

impl From<Listing> for ArticlePage {
    fn from(listing: Listing) -> Self {
        Self {
            articles_count: listing.total,
            next_cursor: listing.next_cursor,
            articles: listing.articles.into_iter().map(Article::listed).collect(),
        }
    }
}

#[derive(InputObject, Serialize)]
pub struct NewUserInput {
    pub username: String,
    pub email: String,
    pub password: String,
}

#[derive(InputObject, Serialize)]
pub struct LoginInput {
    pub email: String,
    pub password: String,
}

/// Only the fields given change; `bio` or `image` set to null clear them.
#[derive(InputObject, Serialize)]
pub struct UpdateUserInput {
    #[serde(skip_serializing_if = "MaybeUndefined::is_undefined")]
    pub email: MaybeUndefined<String>,
    #[serde(skip_serializing_if = "MaybeUndefined::is_undefined")]
    pub username: MaybeUndefined<String>,
    #[serde(skip_serializing_if = "MaybeUndefined::is_undefined")]
    pub password: MaybeUndefined<String>,
    #[serde(skip_serializing_if = "MaybeUndefined::is_undefined")]
    pub bio: MaybeUndefined<String>,
    #[serde(skip_serializing_if = "MaybeUndefined::is_undefined")]
    pub image: MaybeUndefined<String>,
}

#[derive(InputObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewArticleInput {
    pub title: String,
    pub description: String,
    pub body: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag_list: Option<Vec<String>>,
}

/// Only the fields given change; `tagList: []` removes every tag.
#[derive(InputObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateArticleInput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag_list: Option<Vec<String>>,
}

#[derive(InputObject, Serialize)]
pub struct NewCommentInput {
    pub body: String,
}
