//! The stream consumers: what the table's change stream sets off. Each is a
//! Lambda function of its own in AWS (binary and event source mapping
//! generated from [`CONSUMERS`] by `make generate`) and a task of the local
//! server (`local/src/event_source.rs`), which feeds it the same records.
//! Every effect is idempotent (`db::once`): a batch may come twice.

use conduit_common::ApiError;
use conduit_common::db::Db;
use conduit_common::db::articles::Article;
use conduit_common::db::keys::{self, ARTICLE, FOLLOWS_PREFIX, USER};
use conduit_common::db::users::User;
use conduit_common::events::ChangeKind::{Insert, Remove};
use conduit_common::events::consumer::Consumers;
use conduit_common::events::{Change, ChangeKind, Consumer, KeyMatch, RecordFilter};

/// Every consumer, for the local server and the generators.
pub static CONSUMERS: &Consumers = &[&FAN_OUT_FEEDS, &CLEAN_UP_ARTICLES, &CLEAN_UP_USERS];

/// New articles into their author's followers' feeds; follows backfill the
/// follower's feed, unfollows empty it of the followee.
pub static FAN_OUT_FEEDS: Consumer = Consumer {
    name: "fan_out_feeds",
    summary: "New articles into followers' feeds; follows and unfollows fill and empty a feed",
    filters: &[
        RecordFilter {
            kinds: &[Insert],
            sort_key: KeyMatch::Equals(ARTICLE),
        },
        RecordFilter {
            kinds: &[Insert, Remove],
            sort_key: KeyMatch::Prefix(FOLLOWS_PREFIX),
        },
    ],
    batch_size: 100,
    max_attempts: 6,
    handle: |db, change| Box::pin(fan_out_feeds(db, change)),
};

/// A deleted article's comments, favorites (and each favoriter's count)
/// and feed entries.
pub static CLEAN_UP_ARTICLES: Consumer = Consumer {
    name: "clean_up_articles",
    summary: "A deleted article's comments, favorites and feed entries",
    filters: &[RecordFilter {
        kinds: &[Remove],
        sort_key: KeyMatch::Equals(ARTICLE),
    }],
    batch_size: 10,
    max_attempts: 6,
    handle: |db, change| Box::pin(clean_up_articles(db, change)),
};

/// What a deleted account leaves: articles, comments, favorites, follows
/// both ways, feed and sessions, with every count that counted them.
pub static CLEAN_UP_USERS: Consumer = Consumer {
    name: "clean_up_users",
    summary: "A deleted account's articles, comments, favorites, follows, feed and sessions",
    filters: &[RecordFilter {
        kinds: &[Remove],
        sort_key: KeyMatch::Equals(USER),
    }],
    // One account can be a lot of work: one at a time.
    batch_size: 1,
    max_attempts: 6,
    handle: |db, change| Box::pin(clean_up_users(db, change)),
};

async fn fan_out_feeds(db: &Db, change: &Change) -> Result<(), ApiError> {
    match (change.kind, change.sort_key()) {
        (Insert, ARTICLE) => {
            let article: Article = change.decode()?;
            let feeds = db.deliver(&article.id, &article.author_id).await?;
            tracing::info!(article = %article.id, feeds, "delivered");
        }
        (kind, sort_key) if sort_key.starts_with(FOLLOWS_PREFIX) => {
            let (follower, followee) = follow_of(change)?;
            let entries = match kind {
                // A follow removed with a deleted account: the follower's
                // feed goes with them, the followee's articles take their
                // entries with them (clean_up_users).
                ChangeKind::Remove if !db.users_exist(&[follower, followee]).await? => 0,
                ChangeKind::Remove => db.unfill(follower, followee).await?,
                _ => db.backfill(follower, followee).await?,
            };
            tracing::info!(follower, followee, entries, "feed {}", kind.event_name());
        }
        _ => {}
    }
    Ok(())
}

async fn clean_up_articles(db: &Db, change: &Change) -> Result<(), ApiError> {
    let article: Article = change.decode()?;
    let cleanup = db.clean_up_article(&article.id).await?;
    tracing::info!(article = %article.id, ?cleanup, "cleaned up");
    Ok(())
}

async fn clean_up_users(db: &Db, change: &Change) -> Result<(), ApiError> {
    let user: User = change.decode()?;
    let departure = db.clean_up_user(&user).await?;
    tracing::info!(user = %user.id, ?departure, "account cleaned up");
    Ok(())
}

/// (follower, followee) of a follow item's keys.
fn follow_of(change: &Change) -> Result<(&str, &str), ApiError> {
    let follower = keys::user_of(change.partition_key());
    let followee = change.sort_key().strip_prefix(FOLLOWS_PREFIX);
    follower
        .zip(followee)
        .ok_or_else(|| ApiError::Internal(format!("not a follow: {:?}", change.keys)))
}
