//! Turning stored items into the API's views for one viewer: who wrote
//! what, whether the viewer follows them, and what the viewer favorited.
//! Each function here costs one batch read whatever the number of items.

use std::collections::HashMap;

use crate::db::Db;
use crate::db::articles::Article;
use crate::db::comments::Comment;
use crate::db::users::{Profile, User};
use crate::error::ApiError;
use crate::model::{ArticleView, CommentView, ProfileView, UserView};

pub fn user_view(user: &User, token: String) -> UserView {
    UserView {
        email: user.email.clone(),
        token,
        username: user.username.clone(),
        bio: user.bio.clone(),
        image: user.image.clone(),
    }
}

pub fn profile_view(profile: &Profile, following: bool) -> ProfileView {
    ProfileView {
        username: profile.username.clone(),
        bio: profile.bio.clone(),
        image: profile.image.clone(),
        following,
    }
}

/// Whether `body` is shown: single articles carry it, lists do not.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Body {
    Include,
    Omit,
}

/// Profiles of `author_ids` as seen by `viewer`, keyed by user id.
/// Authors that no longer exist are absent. The viewer's own profile comes
/// from the user authentication has just read, so their own edits show at
/// once whatever the read cache holds.
pub async fn profiles(
    db: &Db,
    author_ids: &[&str],
    viewer: Option<&User>,
) -> Result<HashMap<String, ProfileView>, ApiError> {
    let mut ids = author_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let own = viewer.filter(|v| ids.contains(&v.id.as_str()));
    let others: Vec<&str> = ids
        .iter()
        .copied()
        .filter(|id| own.is_none_or(|v| v.id != *id))
        .collect();
    let (mut authors, followed) = match viewer {
        Some(viewer) => futures::try_join!(
            db.cached_profiles_by_ids(&others),
            db.followed_among(&viewer.id, &others)
        )?,
        None => (
            db.cached_profiles_by_ids(&others).await?,
            Default::default(),
        ),
    };
    authors.extend(own.map(Profile::from));
    Ok(authors
        .iter()
        .map(|author| {
            let view = profile_view(author, followed.contains(&author.id));
            (author.id.clone(), view)
        })
        .collect())
}

pub async fn articles(
    db: &Db,
    articles: Vec<Article>,
    viewer: Option<&User>,
    body: Body,
) -> Result<Vec<ArticleView>, ApiError> {
    let author_ids: Vec<&str> = articles.iter().map(|a| a.author_id.as_str()).collect();
    let article_ids: Vec<&str> = articles.iter().map(|a| a.id.as_str()).collect();
    let (profiles, favorited) = match viewer {
        Some(viewer) => futures::try_join!(
            profiles(db, &author_ids, Some(viewer)),
            db.favorited_among(&viewer.id, &article_ids)
        )?,
        None => (profiles(db, &author_ids, None).await?, Default::default()),
    };
    Ok(articles
        .into_iter()
        .filter_map(|article| {
            let author = profiles.get(&article.author_id)?.clone();
            Some(ArticleView {
                favorited: favorited.contains(&article.id),
                slug: article.slug,
                title: article.title,
                description: article.description,
                body: (body == Body::Include).then_some(article.body),
                tag_list: article.tag_list,
                created_at: article.created_at,
                updated_at: article.updated_at,
                favorites_count: article.favorites_count,
                author,
            })
        })
        .collect())
}

pub async fn article(
    db: &Db,
    article: Article,
    viewer: Option<&User>,
) -> Result<ArticleView, ApiError> {
    articles(db, vec![article], viewer, Body::Include)
        .await?
        .pop()
        .ok_or(ApiError::NotFound("article"))
}

pub async fn comments(
    db: &Db,
    comments: Vec<Comment>,
    viewer: Option<&User>,
) -> Result<Vec<CommentView>, ApiError> {
    let author_ids: Vec<&str> = comments.iter().map(|c| c.author_id.as_str()).collect();
    let profiles = profiles(db, &author_ids, viewer).await?;
    Ok(comments
        .into_iter()
        .filter_map(|comment| {
            Some(CommentView {
                author: profiles.get(&comment.author_id)?.clone(),
                id: comment.id,
                created_at: comment.created_at,
                updated_at: comment.updated_at,
                body: comment.body,
            })
        })
        .collect())
}

pub fn admin_user_view(user: &User) -> crate::model::AdminUserView {
    crate::model::AdminUserView {
        username: user.username.clone(),
        email: user.email.clone(),
        role: user.role,
        status: user.status,
        bio: user.bio.clone(),
        image: user.image.clone(),
        articles_count: user.articles_count,
        created_at: user.created_at.clone(),
    }
}

pub fn audit_view(entry: crate::db::admin::AuditEntry) -> crate::model::AuditEntryView {
    crate::model::AuditEntryView {
        id: entry.id,
        actor: entry.actor,
        action: entry.action,
        target: entry.target,
        detail: entry.detail,
        at: entry.at,
    }
}
