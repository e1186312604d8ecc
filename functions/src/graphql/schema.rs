//! The schema's roots: a query or mutation per REST capability, each
//! answered by its route's handler (`Caller::call`), so authorization,
//! validation and round trips are exactly the REST API's. Lists of articles
//! are the handler's but for the decoration (`Caller::serve`): the
//! request's loaders decorate them with the rest of the response.

use async_graphql::{Context, ID, Object, Result};
use conduit_common::api_types::{
    AdminUserBody, AdminUserView, AdminUsersBody, ArticleBody, AuditBody, CommentBody, CommentView,
    CommentsBody, ExportBody, ProfileBody, ProfileView, SessionView, SessionsBody, TagsBody,
    UserBody, UserView,
};
use conduit_common::domain::Role;
use conduit_common::http::MAX_LIMIT;
use serde_json::json;

use super::calls::{Args, Caller};
use super::errors::graphql_error;
use super::types::{
    Article, ArticlePage, LoginInput, NewArticleInput, NewCommentInput, NewUserInput,
    UpdateArticleInput, UpdateUserInput,
};
use crate::handlers::articles::{find_articles, find_feed};
use crate::routes::*;

/// A page's arguments, as the REST list takes them (and checks them).
fn paged(limit: Option<i32>, offset: Option<i32>, cursor: Option<String>) -> Args {
    Args::default()
        .query("limit", limit)
        .query("offset", offset)
        .query("cursor", cursor)
}

/// What a list field costs against the complexity limit: its items (the
/// page size asked for, within REST's bounds) times what each item costs.
fn page_cost(limit: Option<i32>, default: i32, each: usize) -> usize {
    let items = limit.unwrap_or(default).clamp(1, MAX_LIMIT as i32) as usize;
    items.saturating_mul(each)
}

pub struct Query;

#[Object]
impl Query {
    /// The signed-in user (`GET /api/user`).
    async fn viewer(&self, ctx: &Context<'_>) -> Result<UserView> {
        let body: UserBody = Caller::of(ctx)
            .call(&GET_CURRENT_USER, Args::default())
            .await?;
        Ok(body.user)
    }

    /// A profile (`GET /api/profiles/{username}`).
    async fn profile(&self, ctx: &Context<'_>, username: String) -> Result<ProfileView> {
        let args = Args::default().path("username", username);
        let body: ProfileBody = Caller::of(ctx).call(&GET_PROFILE, args).await?;
        Ok(body.profile)
    }

    /// Articles, newest first, filtered by at most one of `tag`, `author`
    /// and `favorited` (`GET /api/articles`).
    #[graphql(complexity = "page_cost(limit, 20, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn articles(
        &self,
        ctx: &Context<'_>,
        tag: Option<String>,
        author: Option<String>,
        favorited: Option<String>,
        limit: Option<i32>,
        offset: Option<i32>,
        cursor: Option<String>,
    ) -> Result<ArticlePage> {
        let args = paged(limit, offset, cursor)
            .query("tag", tag)
            .query("author", author)
            .query("favorited", favorited);
        let listing = Caller::of(ctx)
            .serve(&LIST_ARTICLES, args, |ctx| async move {
                find_articles(&ctx).await
            })
            .await?;
        Ok(listing.into())
    }

    /// Articles by the users the caller follows (`GET /api/articles/feed`).
    #[graphql(complexity = "page_cost(limit, 20, child_complexity)")]
    async fn feed(
        &self,
        ctx: &Context<'_>,
        limit: Option<i32>,
        offset: Option<i32>,
        cursor: Option<String>,
    ) -> Result<ArticlePage> {
        let args = paged(limit, offset, cursor);
        let listing = Caller::of(ctx)
            .serve(
                &FEED_ARTICLES,
                args,
                |ctx| async move { find_feed(&ctx).await },
            )
            .await?;
        Ok(listing.into())
    }

    /// One article (`GET /api/articles/{slug}`).
    async fn article(&self, ctx: &Context<'_>, slug: String) -> Result<Article> {
        let args = Args::default().path("slug", slug);
        let body: ArticleBody = Caller::of(ctx).call(&GET_ARTICLE, args).await?;
        Ok(Article::shown(body.article))
    }

    /// An article's comments, oldest first (`GET /api/articles/{slug}/comments`).
    #[graphql(complexity = "page_cost(limit, 100, child_complexity)")]
    async fn comments(
        &self,
        ctx: &Context<'_>,
        slug: String,
        limit: Option<i32>,
        offset: Option<i32>,
        cursor: Option<String>,
    ) -> Result<CommentsBody> {
        let args = paged(limit, offset, cursor).path("slug", slug);
        Caller::of(ctx).call(&LIST_COMMENTS, args).await
    }

    /// Every tag in use (`GET /api/tags`).
    async fn tags(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        let body: TagsBody = Caller::of(ctx).call(&LIST_TAGS, Args::default()).await?;
        Ok(body.tags)
    }

    /// The caller's sessions (`GET /api/user/sessions`).
    async fn sessions(&self, ctx: &Context<'_>) -> Result<Vec<SessionView>> {
        let body: SessionsBody = Caller::of(ctx)
            .call(&LIST_SESSIONS, Args::default())
            .await?;
        Ok(body.sessions)
    }

    /// Users, newest first (admins: `GET /api/admin/users`).
    #[graphql(complexity = "page_cost(limit, 20, child_complexity)")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        limit: Option<i32>,
        cursor: Option<String>,
    ) -> Result<AdminUsersBody> {
        let args = paged(limit, None, cursor);
        Caller::of(ctx).call(&LIST_USERS, args).await
    }

    /// The audit trail, newest first (admins: `GET /api/admin/audit`).
    #[graphql(complexity = "page_cost(limit, 20, child_complexity)")]
    async fn audit(
        &self,
        ctx: &Context<'_>,
        limit: Option<i32>,
        cursor: Option<String>,
    ) -> Result<AuditBody> {
        let args = paged(limit, None, cursor);
        Caller::of(ctx).call(&LIST_AUDIT, args).await
    }

    /// A page of everything the caller's account holds (`GET
    /// /api/user/export`): pass each page's `nextCursor` until it is null.
    async fn export(&self, ctx: &Context<'_>, cursor: Option<String>) -> Result<ExportBody> {
        let args = Args::default().query("cursor", cursor);
        Caller::of(ctx).call(&EXPORT_CURRENT_USER, args).await
    }
}

pub struct Mutation;

#[Object]
impl Mutation {
    /// Registers a user and signs them in (`POST /api/users`).
    async fn register(&self, ctx: &Context<'_>, user: NewUserInput) -> Result<UserView> {
        Caller::of(ctx).hash_password()?;
        let args = Args::default().body(json!({ "user": user }));
        let body: UserBody = Caller::of(ctx).call(&REGISTER, args).await?;
        Ok(body.user)
    }

    /// Signs in (`POST /api/users/login`).
    async fn login(&self, ctx: &Context<'_>, user: LoginInput) -> Result<UserView> {
        Caller::of(ctx).hash_password()?;
        let args = Args::default().body(json!({ "user": user }));
        let body: UserBody = Caller::of(ctx).call(&LOGIN, args).await?;
        Ok(body.user)
    }

    /// Edits the caller (`PUT /api/user`).
    async fn update_user(&self, ctx: &Context<'_>, user: UpdateUserInput) -> Result<UserView> {
        if !user.password.is_undefined() {
            Caller::of(ctx).hash_password()?;
        }
        let args = Args::default().body(json!({ "user": user }));
        let body: UserBody = Caller::of(ctx).call(&UPDATE_USER, args).await?;
        Ok(body.user)
    }

    /// Deletes the caller's account, given its password (`DELETE /api/user`);
    /// true once done. What it had is removed after.
    async fn delete_account(&self, ctx: &Context<'_>, password: String) -> Result<bool> {
        let caller = Caller::of(ctx);
        caller.hash_password()?;
        let args = Args::default().body(json!({ "user": { "password": password } }));
        caller.call::<()>(&DELETE_CURRENT_USER, args).await?;
        caller.sign_out();
        Ok(true)
    }

    /// `POST /api/profiles/{username}/follow`.
    async fn follow(&self, ctx: &Context<'_>, username: String) -> Result<ProfileView> {
        let args = Args::default().path("username", username);
        let body: ProfileBody = Caller::of(ctx).call(&FOLLOW_USER, args).await?;
        Ok(body.profile)
    }

    /// `DELETE /api/profiles/{username}/follow`.
    async fn unfollow(&self, ctx: &Context<'_>, username: String) -> Result<ProfileView> {
        let args = Args::default().path("username", username);
        let body: ProfileBody = Caller::of(ctx).call(&UNFOLLOW_USER, args).await?;
        Ok(body.profile)
    }

    /// `POST /api/articles`.
    async fn create_article(&self, ctx: &Context<'_>, article: NewArticleInput) -> Result<Article> {
        let args = Args::default().body(json!({ "article": article }));
        let body: ArticleBody = Caller::of(ctx).call(&CREATE_ARTICLE, args).await?;
        Ok(Article::shown(body.article))
    }

    /// `PUT /api/articles/{slug}`.
    async fn update_article(
        &self,
        ctx: &Context<'_>,
        slug: String,
        article: UpdateArticleInput,
    ) -> Result<Article> {
        let args = Args::default()
            .path("slug", slug)
            .body(json!({ "article": article }));
        let body: ArticleBody = Caller::of(ctx).call(&UPDATE_ARTICLE, args).await?;
        Ok(Article::shown(body.article))
    }

    /// `DELETE /api/articles/{slug}`; true once deleted.
    async fn delete_article(&self, ctx: &Context<'_>, slug: String) -> Result<bool> {
        let args = Args::default().path("slug", slug);
        Caller::of(ctx).call::<()>(&DELETE_ARTICLE, args).await?;
        Ok(true)
    }

    /// `POST /api/articles/{slug}/favorite`.
    async fn favorite(&self, ctx: &Context<'_>, slug: String) -> Result<Article> {
        let args = Args::default().path("slug", slug);
        let body: ArticleBody = Caller::of(ctx).call(&FAVORITE_ARTICLE, args).await?;
        Ok(Article::shown(body.article))
    }

    /// `DELETE /api/articles/{slug}/favorite`.
    async fn unfavorite(&self, ctx: &Context<'_>, slug: String) -> Result<Article> {
        let args = Args::default().path("slug", slug);
        let body: ArticleBody = Caller::of(ctx).call(&UNFAVORITE_ARTICLE, args).await?;
        Ok(Article::shown(body.article))
    }

    /// `POST /api/articles/{slug}/comments`.
    async fn add_comment(
        &self,
        ctx: &Context<'_>,
        slug: String,
        comment: NewCommentInput,
    ) -> Result<CommentView> {
        let args = Args::default()
            .path("slug", slug)
            .body(json!({ "comment": comment }));
        let body: CommentBody = Caller::of(ctx).call(&ADD_COMMENT, args).await?;
        Ok(body.comment)
    }

    /// `DELETE /api/articles/{slug}/comments/{id}`; true once deleted.
    async fn delete_comment(&self, ctx: &Context<'_>, slug: String, id: ID) -> Result<bool> {
        let args = Args::default().path("slug", slug).path("id", id.as_str());
        Caller::of(ctx).call::<()>(&DELETE_COMMENT, args).await?;
        Ok(true)
    }

    /// Ends one of the caller's sessions (`DELETE /api/user/sessions/{id}`).
    async fn end_session(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let caller = Caller::of(ctx);
        let own = caller.session().await?.as_deref() == Some(id.as_str());
        let args = Args::default().path("id", id.as_str());
        caller.call::<()>(&END_SESSION, args).await?;
        if own {
            caller.sign_out();
        }
        Ok(true)
    }

    /// Ends the caller's session (`POST /api/user/logout`).
    async fn logout(&self, ctx: &Context<'_>) -> Result<bool> {
        let caller = Caller::of(ctx);
        caller.call::<()>(&LOGOUT, Args::default()).await?;
        caller.sign_out();
        Ok(true)
    }

    /// Admins: `PUT /api/admin/users/{username}/role`.
    async fn set_user_role(
        &self,
        ctx: &Context<'_>,
        username: String,
        role: Role,
    ) -> Result<AdminUserView> {
        let args = Args::default()
            .path("username", username)
            .body(json!({ "role": role }));
        let body: AdminUserBody = Caller::of(ctx).call(&SET_USER_ROLE, args).await?;
        Ok(body.user)
    }

    /// Admins: `POST /api/admin/users/{username}/suspend`.
    async fn suspend_user(&self, ctx: &Context<'_>, username: String) -> Result<AdminUserView> {
        let args = Args::default().path("username", username);
        let body: AdminUserBody = Caller::of(ctx).call(&SUSPEND_USER, args).await?;
        Ok(body.user)
    }

    /// Admins: `POST /api/admin/users/{username}/reinstate`.
    async fn reinstate_user(&self, ctx: &Context<'_>, username: String) -> Result<AdminUserView> {
        let args = Args::default().path("username", username);
        let body: AdminUserBody = Caller::of(ctx).call(&REINSTATE_USER, args).await?;
        Ok(body.user)
    }

    /// Admins: `DELETE /api/admin/users/{username}`; true once done.
    async fn delete_user(&self, ctx: &Context<'_>, username: String) -> Result<bool> {
        let args = Args::default().path("username", username);
        Caller::of(ctx).call::<()>(&DELETE_USER, args).await?;
        Ok(true)
    }

    /// Admins: `DELETE /api/admin/users/{username}/sessions`; true once done.
    async fn end_user_sessions(&self, ctx: &Context<'_>, username: String) -> Result<bool> {
        let caller = Caller::of(ctx);
        let viewer = caller.viewer().await.map_err(|err| graphql_error(&err))?;
        let own = viewer
            .user()
            .is_some_and(|me| me.username.eq_ignore_ascii_case(&username));
        let args = Args::default().path("username", username);
        caller.call::<()>(&END_USER_SESSIONS, args).await?;
        if own {
            caller.sign_out();
        }
        Ok(true)
    }
}
