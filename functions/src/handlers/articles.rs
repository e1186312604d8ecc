//! Articles: lists, the feed, and single-article reads and writes.

use conduit_common::api_types::{
    ArticleBody, ArticleView, ArticlesBody, NewArticleRequest, UpdateArticleRequest,
};
use conduit_common::db::Db;
use conduit_common::db::admin::AuditEntry;
use conduit_common::db::articles::{Article, Page, SlugGuard, slugify};
use conduit_common::db::lists::ArticlePage;
use conduit_common::db::users::User;
use conduit_common::decorate::{self, ArticleDecorations, Known};
use conduit_common::domain::Role;
use conduit_common::http::{ApiResult, Ctx, created, encode_cursor, json, next_cursor, no_content};
use conduit_common::lambda_http::http::StatusCode;
use conduit_common::validate::{normalize_tags, validated};
use conduit_common::views::Body;
use conduit_common::{ApiError, time};

/// Who may delete a `resource` (`"article"` or `"comment"`) owned by
/// `owner_id`: its author, or a moderator or admin, whose deletion of someone
/// else's work is audited. Returns that audit entry, `None` for an author.
pub(crate) fn authorize_delete(
    me: &User,
    resource: &'static str,
    owner_id: &str,
    target: String,
) -> Result<Option<AuditEntry>, ApiError> {
    if me.id == owner_id {
        Ok(None)
    } else if me.role >= Role::Moderator {
        let action = format!("{resource}.delete");
        Ok(Some(AuditEntry::new(me, &action, target, None)))
    } else {
        Err(ApiError::Forbidden(resource))
    }
}

/// The guard of the `slug` path parameter: the ids of the article it names
/// and of its author, which is all that many routes need to go on.
pub(crate) async fn guard_from_path(ctx: &Ctx) -> Result<SlugGuard, ApiError> {
    let slug = ctx.path("slug")?;
    ctx.db()
        .slug_guard(&slug)
        .await?
        .ok_or(ApiError::NotFound("article"))
}

/// The article `guard` names, as `viewer` sees it. When the guard names the
/// author, their profile, whether the viewer follows them and whether they
/// favorited it are read alongside the article.
pub(crate) async fn read_article_view(
    db: &Db,
    guard: &SlugGuard,
    viewer: Option<&User>,
    known: Known<'_>,
) -> Result<ArticleView, ApiError> {
    let article = match &guard.author_id {
        Some(author_id) => {
            let (author_ids, article_ids) = ([author_id.as_str()], [guard.article_id.as_str()]);
            let (article, decorations) = futures::try_join!(
                db.article_by_id(&guard.article_id),
                ArticleDecorations::read(db, &author_ids, &article_ids, viewer, known)
            )?;
            article.and_then(|article| decorations.apply(vec![article], Body::Include).pop())
        }
        None => match db.article_by_id(&guard.article_id).await? {
            Some(article) => Some(decorate::article(db, article, viewer, known).await?),
            None => None,
        },
    };
    article.ok_or(ApiError::NotFound("article"))
}

/// The article named by the `slug` path parameter.
pub(crate) async fn article_from_path(ctx: &Ctx) -> Result<Article, ApiError> {
    let guard = guard_from_path(ctx).await?;
    ctx.db()
        .article_by_id(&guard.article_id)
        .await?
        .ok_or(ApiError::NotFound("article"))
}

/// The page asked for by `limit`, `offset` and `cursor`, within the
/// route's declared bounds.
fn page(ctx: &Ctx) -> Result<Page, ApiError> {
    let params = ctx.list_params()?;
    Ok(Page {
        limit: params.limit,
        offset: params.offset,
        before: params.cursor,
    })
}

/// A page of articles as a list found it, before it is decorated for its
/// reader (GraphQL decorates it with the rest of its response).
pub(crate) struct Listing {
    pub articles: Vec<Article>,
    pub total: u64,
    pub next_cursor: Option<String>,
}

impl Listing {
    fn of(page: &Page, found: ArticlePage) -> Self {
        let next = match &found.continues_after {
            Some(last) => Some(encode_cursor(last)),
            None => next_cursor(&found.articles, page.limit, |a| a.id.clone()),
        };
        Self {
            next_cursor: next,
            articles: found.articles,
            total: found.total,
        }
    }
}

async fn respond_with_list(ctx: &Ctx, listing: Listing) -> ApiResult {
    let viewer = ctx.viewer().await?;
    let listed = listing.articles.len();
    let articles = decorate::articles(
        ctx.db(),
        listing.articles,
        viewer.user(),
        Body::Omit,
        Known::default(),
    )
    .await?;
    // Articles of a deleted account are left out until its clean-up has
    // deleted them; the count agrees with the page (as `ArticlePage::read`).
    let left_out = (listed - articles.len()) as u64;
    json(
        StatusCode::OK,
        &ArticlesBody {
            articles,
            articles_count: listing.total.saturating_sub(left_out),
            next_cursor: listing.next_cursor,
        },
    )
}

#[tracing::instrument(skip_all)]
pub async fn list_articles(ctx: Ctx) -> ApiResult {
    let listing = find_articles(&ctx).await?;
    respond_with_list(&ctx, listing).await
}

/// The page `GET /api/articles` shows.
pub(crate) async fn find_articles(ctx: &Ctx) -> Result<Listing, ApiError> {
    let page = page(ctx)?;
    let filters = [
        ctx.query("tag"),
        ctx.query("author"),
        ctx.query("favorited"),
    ];
    let db = ctx.db();
    let empty = || ArticlePage {
        articles: vec![],
        total: 0,
        continues_after: None,
    };
    let found = match filters {
        [None, None, None] => db.recent_articles(&page).await?,
        [Some(tag), None, None] => db.articles_by_tag(&tag, &page).await?,
        // The user is read with their page, once the username's guard
        // has given their id.
        [None, Some(author), None] => match db.user_id_by_username(&author).await? {
            Some(id) => db
                .articles_by_author(&id, &page)
                .await?
                .unwrap_or_else(empty),
            None => empty(),
        },
        [None, None, Some(username)] => match db.user_id_by_username(&username).await? {
            Some(id) => db
                .articles_favorited_by(&id, &page)
                .await?
                .unwrap_or_else(empty),
            None => empty(),
        },
        _ => {
            return Err(ApiError::field(
                "filter",
                "use at most one of tag, author and favorited",
            ));
        }
    };
    Ok(Listing::of(&page, found))
}

#[tracing::instrument(skip_all)]
pub async fn feed_articles(ctx: Ctx) -> ApiResult {
    let listing = find_feed(&ctx).await?;
    respond_with_list(&ctx, listing).await
}

/// The page of the caller's feed `GET /api/articles/feed` shows.
pub(crate) async fn find_feed(ctx: &Ctx) -> Result<Listing, ApiError> {
    let me = &ctx.user().await?.user;
    let page = page(ctx)?;
    // Whom the reader follows is read with the page's authors: an author
    // unfollowed a moment ago shows as such until their entries are gone.
    let found = ctx.db().feed(me, &page).await?;
    Ok(Listing::of(&page, found))
}

#[tracing::instrument(skip_all)]
pub async fn get_article(ctx: Ctx) -> ApiResult {
    let guard = guard_from_path(&ctx).await?;
    let viewer = ctx.viewer().await?;
    let article = read_article_view(ctx.db(), &guard, viewer.user(), Known::default()).await?;
    json(StatusCode::OK, &ArticleBody { article })
}

#[tracing::instrument(skip_all)]
pub async fn create_article(ctx: Ctx) -> ApiResult {
    let me = &ctx.user().await?.user;
    let new = validated(ctx.json::<NewArticleRequest>()?.article)?;
    let (at, stamp) = time::now();
    let article = Article {
        id: time::new_id(at).to_string(),
        slug: slugify(&new.title),
        title: new.title.trim().to_owned(),
        description: new.description,
        body: new.body,
        tag_list: normalize_tags(new.tag_list),
        author_id: me.id.clone(),
        favorites_count: 0,
        created_at: stamp.clone(),
        updated_at: stamp,
    };
    // Whom to deliver it to at once is read while it is written.
    let (article, audience) = futures::join!(
        ctx.db().create_article(article),
        ctx.db().inline_audience(me)
    );
    let article = article?;
    tracing::info!(article_id = %article.id, slug = %article.slug, "article created");
    // A few followers get it in their feeds now, so that they see it at
    // once; the stream delivers it anyway (to all when there are many), so
    // a failure here is only logged.
    let delivered = match audience {
        Ok(Some(audience)) => ctx.db().deliver_inline(&article, audience).await.map(Some),
        other => other.map(|_| None),
    };
    match delivered {
        Ok(feeds) => tracing::debug!(?feeds, "delivered inline"),
        Err(err) => tracing::warn!(error = %err, "inline delivery failed; the stream will deliver"),
    }
    // Nobody has favorited an article that did not exist a moment ago.
    let known = Known {
        favorited: Some(false),
        ..Known::default()
    };
    let article = decorate::article(ctx.db(), article, Some(me), known).await?;
    created(&ArticleBody { article })
}

#[tracing::instrument(skip_all)]
pub async fn update_article(ctx: Ctx) -> ApiResult {
    let me = &ctx.user().await?.user;
    let edit = validated(ctx.json::<UpdateArticleRequest>()?.article)?;
    edit.reject_nulls()?;
    let current = article_from_path(&ctx).await?;
    if current.author_id != me.id {
        return Err(ApiError::Forbidden("article"));
    }
    let mut updated = current.clone();
    if let Some(Some(title)) = edit.title {
        // The slug stays: links to the article keep working after a retitle.
        updated.title = title.trim().to_owned();
    }
    if let Some(Some(description)) = edit.description {
        updated.description = description;
    }
    if let Some(Some(body)) = edit.body {
        updated.body = body;
    }
    if let Some(Some(tags)) = edit.tag_list {
        updated.tag_list = normalize_tags(tags);
    }
    updated.updated_at = time::now().1;
    if updated.updated_at <= current.updated_at {
        // Two edits within one millisecond: keep updatedAt strictly increasing.
        updated.updated_at = time::iso(
            time::parse_iso(&current.updated_at).unwrap_or(std::time::SystemTime::now())
                + std::time::Duration::from_millis(1),
        );
    }
    // Whether the author favorited their own article is read while the
    // edit is written: the edit does not change it.
    let ids = ([me.id.as_str()], [current.id.as_str()]);
    let (_, decorations) = futures::try_join!(
        ctx.db().update_article(&current, &updated),
        ArticleDecorations::read(ctx.db(), &ids.0, &ids.1, Some(me), Known::default())
    )?;
    let article = decorations
        .apply(vec![updated], Body::Include)
        .pop()
        .ok_or(ApiError::NotFound("article"))?;
    json(StatusCode::OK, &ArticleBody { article })
}

#[tracing::instrument(skip_all)]
pub async fn delete_article(ctx: Ctx) -> ApiResult {
    let me = &ctx.user().await?.user;
    let article = article_from_path(&ctx).await?;
    let target = format!("article:{}", article.slug);
    let audit = authorize_delete(me, "article", &article.author_id, target)?;
    ctx.db().delete_article(&article, audit.as_ref()).await?;
    tracing::info!(article_id = %article.id, by = %me.id, "article deleted");
    no_content()
}
