//! The GraphQL types that are not the REST views themselves (those derive
//! their GraphQL type in `conduit_common::api_types`): an article, which
//! can also bring its comments, its page, and the mutations' inputs, which
//! are sent to the REST handlers as the JSON bodies they take.

use async_graphql::{ComplexObject, Context, InputObject, MaybeUndefined, Object, SimpleObject};
use conduit_common::api_types::{ArticleView, ArticlesBody, CommentView, ProfileView};
use serde::Serialize;

use super::loaders::CommentsKey;
use super::{COMMENTS_PER_ARTICLE, comments_of};

/// An article, as `GET /api/articles/{slug}` shows it (lists leave out `body`).
pub struct Article(pub ArticleView);

#[Object]
impl Article {
    async fn slug(&self) -> &str {
        &self.0.slug
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    async fn description(&self) -> &str {
        &self.0.description
    }

    /// Null in lists, as on REST: ask for the article itself.
    async fn body(&self) -> Option<&str> {
        self.0.body.as_deref()
    }

    async fn tag_list(&self) -> &[String] {
        &self.0.tag_list
    }

    async fn created_at(&self) -> &str {
        &self.0.created_at
    }

    async fn updated_at(&self) -> &str {
        &self.0.updated_at
    }

    async fn favorited(&self) -> bool {
        self.0.favorited
    }

    async fn favorites_count(&self) -> u64 {
        self.0.favorites_count
    }

    async fn author(&self) -> &ProfileView {
        &self.0.author
    }

    /// Its first comments, oldest first (the `comments` query pages through
    /// all of them). Loaded for every article of a list at once.
    #[graphql(complexity = "limit.min(COMMENTS_PER_ARTICLE).saturating_mul(child_complexity)")]
    async fn comments(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, validator(minimum = 1, maximum = 100))] limit: usize,
    ) -> async_graphql::Result<Vec<CommentView>> {
        let key = CommentsKey {
            slug: self.0.slug.clone(),
            limit: limit.min(COMMENTS_PER_ARTICLE),
        };
        comments_of(ctx, key).await
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
    pub articles: Vec<ArticleView>,
}

#[ComplexObject]
impl ArticlePage {
    async fn articles(&self) -> Vec<Article> {
        self.articles.iter().cloned().map(Article).collect()
    }
}

impl From<ArticlesBody> for ArticlePage {
    fn from(body: ArticlesBody) -> Self {
        Self {
            articles_count: body.articles_count,
            next_cursor: body.next_cursor,
            articles: body.articles,
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
