//! Reading what a viewer's views need, for many items at once: who wrote
//! what, whether the viewer follows them, and what the viewer favorited.
//! Each function here costs one batch read whatever the number of items
//! (every kind of key in the same `BatchGetItem`, 100 keys a call, sent at
//! once); the shaping itself is in [`crate::views`].

use std::collections::{HashMap, HashSet};

use crate::api_types::{ArticleView, CommentView, ProfileView};
use crate::db::Db;
use crate::db::articles::Article;
use crate::db::comments::Comment;
use crate::db::profiles::Profile;
use crate::db::users::User;
use crate::error::ApiError;
use crate::views::{Body, article_view, comment_view, profile_view};

/// What a caller already knows about the viewer and the items, so that the
/// decoration does not read it again: every read saved is a round trip.
#[derive(Clone, Copy, Default)]
pub struct Known<'a> {
    /// Users the viewer follows, as just read (the feed's authors).
    pub followed: &'a [User],
    /// Whether the viewer has favorited the articles (a new article: no;
    /// just favorited: yes).
    pub favorited: Option<bool>,
}

/// Profiles of `author_ids` as seen by `viewer`, keyed by user id, in one
/// batch read (100 keys a call, sent at once): the profiles not cached and
/// whom the viewer follows among them. Authors that no longer exist are
/// absent. The viewer's own profile comes from the user authentication has
/// just read, so their own edits show at once whatever the read cache holds.
pub async fn profiles(
    db: &Db,
    author_ids: &[&str],
    viewer: Option<&User>,
    known: Known<'_>,
) -> Result<HashMap<String, ProfileView>, ApiError> {
    Ok(read_together(db, author_ids, &[], viewer, known).await?.0)
}

/// Profiles of `author_ids` as `viewer` sees them, and which of
/// `article_ids` the viewer favorited, all in one batch read (100 keys a
/// call, sent at once): for GraphQL, whose loader gathers what a whole
/// response shows.
pub async fn profiles_and_favorites(
    db: &Db,
    author_ids: &[&str],
    article_ids: &[&str],
    viewer: Option<&User>,
) -> Result<(HashMap<String, ProfileView>, HashSet<String>), ApiError> {
    read_together(db, author_ids, article_ids, viewer, Known::default()).await
}

/// Every decoration of a response in one [`Db::read_decorations`]: the
/// profiles neither `known`, the viewer's own nor cached, whom the viewer
/// follows among the rest, and which of `article_ids` they favorited.
async fn read_together(
    db: &Db,
    author_ids: &[&str],
    article_ids: &[&str],
    viewer: Option<&User>,
    known: Known<'_>,
) -> Result<(HashMap<String, ProfileView>, HashSet<String>), ApiError> {
    let (mut views, others) = known_profiles(author_ids, viewer, known);
    let viewer_id = viewer.map(|v| v.id.as_str());
    let found = db.read_decorations(&others, viewer_id, article_ids).await?;
    add_profiles(&mut views, &found.profiles, &found.followed);
    Ok((views, found.favorited))
}

/// Of `author_ids` (deduplicated), the profiles `known` and the viewer's
/// own user already give, and the ids left to read.
fn known_profiles<'i>(
    author_ids: &[&'i str],
    viewer: Option<&User>,
    known: Known<'_>,
) -> (HashMap<String, ProfileView>, Vec<&'i str>) {
    let mut ids = author_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let mut views = HashMap::with_capacity(ids.len());
    let mut add = |user: &User, following: bool| {
        let view = profile_view(&Profile::from(user), following);
        views.insert(user.id.clone(), view);
    };
    for user in known
        .followed
        .iter()
        .filter(|u| ids.contains(&u.id.as_str()))
    {
        add(user, true);
    }
    if let Some(me) = viewer.filter(|v| ids.contains(&v.id.as_str())) {
        add(me, false);
    }
    let others = ids
        .into_iter()
        .filter(|id| !views.contains_key(*id))
        .collect();
    (views, others)
}

fn add_profiles(
    views: &mut HashMap<String, ProfileView>,
    authors: &[Profile],
    followed: &HashSet<String>,
) {
    for author in authors {
        let view = profile_view(author, followed.contains(&author.id));
        views.insert(author.id.clone(), view);
    }
}

/// What showing some articles to a viewer takes besides the articles
/// themselves: their authors' profiles as the viewer sees them, and which
/// of them the viewer favorited, in one batch read. Read from the ids
/// alone, so a caller who knows them early can read this alongside the
/// articles.
pub struct ArticleDecorations {
    profiles: HashMap<String, ProfileView>,
    favorited: HashSet<String>,
}

impl ArticleDecorations {
    pub async fn read(
        db: &Db,
        author_ids: &[&str],
        article_ids: &[&str],
        viewer: Option<&User>,
        known: Known<'_>,
    ) -> Result<Self, ApiError> {
        // What the caller knows of the favorites is not read again.
        let unknown = match known.favorited {
            Some(_) => &[][..],
            None => article_ids,
        };
        let (profiles, mut favorited) =
            read_together(db, author_ids, unknown, viewer, known).await?;
        if known.favorited == Some(true) {
            favorited = article_ids.iter().map(|id| id.to_string()).collect();
        }
        Ok(Self {
            profiles,
            favorited,
        })
    }

    /// The views of `articles`; an article whose author is gone is left out.
    pub fn apply(&self, articles: Vec<Article>, body: Body) -> Vec<ArticleView> {
        articles
            .into_iter()
            .filter_map(|article| {
                let author = self.profiles.get(&article.author_id)?.clone();
                let favorited = self.favorited.contains(&article.id);
                Some(article_view(article, author, favorited, body))
            })
            .collect()
    }
}

pub async fn articles(
    db: &Db,
    articles: Vec<Article>,
    viewer: Option<&User>,
    body: Body,
    known: Known<'_>,
) -> Result<Vec<ArticleView>, ApiError> {
    let author_ids: Vec<&str> = articles.iter().map(|a| a.author_id.as_str()).collect();
    let article_ids: Vec<&str> = articles.iter().map(|a| a.id.as_str()).collect();
    let decorations =
        ArticleDecorations::read(db, &author_ids, &article_ids, viewer, known).await?;
    Ok(decorations.apply(articles, body))
}

pub async fn article(
    db: &Db,
    article: Article,
    viewer: Option<&User>,
    known: Known<'_>,
) -> Result<ArticleView, ApiError> {
    articles(db, vec![article], viewer, Body::Include, known)
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
    let profiles = profiles(db, &author_ids, viewer, Known::default()).await?;
    Ok(comments
        .into_iter()
        .filter_map(|comment| {
            let author = profiles.get(&comment.author_id)?.clone();
            Some(comment_view(comment, author))
        })
        .collect())
}
