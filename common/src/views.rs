//! Shaping stored items into the API's views, from parts already read: no
//! function here touches the database (that is [`crate::decorate`]).

use crate::api_types::{ArticleView, CommentView, ProfileView, UserView};
use crate::db::articles::Article;
use crate::db::comments::Comment;
use crate::db::profiles::Profile;
use crate::db::users::User;

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

pub fn article_view(
    article: Article,
    author: ProfileView,
    favorited: bool,
    body: Body,
) -> ArticleView {
    ArticleView {
        favorited,
        slug: article.slug,
        title: article.title,
        description: article.description,
        body: (body == Body::Include).then_some(article.body),
        tag_list: article.tag_list,
        created_at: article.created_at,
        updated_at: article.updated_at,
        favorites_count: article.favorites_count,
        author,
    }
}

pub fn comment_view(comment: Comment, author: ProfileView) -> CommentView {
    CommentView {
        author,
        id: comment.id,
        created_at: comment.created_at,
        updated_at: comment.updated_at,
        body: comment.body,
    }
}

pub fn admin_user_view(user: &User) -> crate::api_types::AdminUserView {
    crate::api_types::AdminUserView {
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

pub fn audit_view(entry: crate::db::admin::AuditEntry) -> crate::api_types::AuditEntryView {
    crate::api_types::AuditEntryView {
        id: entry.id,
        actor: entry.actor,
        action: entry.action,
        target: entry.target,
        detail: entry.detail,
        at: entry.at,
    }
}

/// A session, marked `current` when it is the caller's own.
pub fn session_view(
    session: crate::db::sessions::Session,
    current: &str,
) -> crate::api_types::SessionView {
    let expires = std::time::UNIX_EPOCH + std::time::Duration::from_secs(session.expires_at);
    crate::api_types::SessionView {
        current: session.id == current,
        id: session.id,
        created_at: session.created_at,
        expires_at: crate::time::iso(expires),
        client_ip: session.client_ip,
        user_agent: session.user_agent,
    }
}
