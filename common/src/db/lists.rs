//! Article lists: the global list (by month, newest first), by tag, by
//! author and by favoriter (the feed is in [`feeds`](super::feeds)); each
//! a [`Page`] of its list with the list's true total, read from a counter
//! rather than counted.

use super::articles::{Article, bucket_of};
use super::paging::Page;
use super::{Db, from_item, get_s, keys};
use crate::error::ApiError;

/// A slice of a list plus the size of the whole list.
#[derive(Debug)]
pub struct ArticlePage {
    pub articles: Vec<Article>,
    pub total: u64,
}

impl Db {
    /// The global list, newest first: months are read newest first, and whole
    /// months before the offset are skipped by their counters without reading them.
    pub async fn recent_articles(&self, page: &Page) -> Result<ArticlePage, ApiError> {
        let buckets = self.counters(keys::BUCKETS, true).await?;
        let total = buckets.iter().map(|(_, count)| count).sum();
        let cursor_bucket = page.before.as_deref().map(bucket_of).transpose()?;
        let mut skip = page.offset;
        let mut articles = vec![];
        for (bucket, count) in buckets {
            if articles.len() >= page.limit {
                break;
            }
            let before = match &cursor_bucket {
                Some(cursor) if bucket > *cursor => continue,
                Some(cursor) if bucket == *cursor => page.before.as_deref(),
                _ => None,
            };
            if before.is_none() && skip >= count as usize {
                skip -= count as usize;
                continue;
            }
            let wanted = skip + page.limit - articles.len();
            let items = self
                .query_newest(
                    Some(keys::GSI1),
                    &keys::bucket_partition(&bucket),
                    before,
                    wanted,
                )
                .await?;
            let found = items.len();
            articles.extend(items.into_iter().skip(skip).map(from_item::<Article>));
            skip = skip.saturating_sub(found);
        }
        let articles = articles
            .into_iter()
            .take(page.limit)
            .collect::<Result<_, _>>()?;
        Ok(ArticlePage { articles, total })
    }

    /// The page of `author_id`'s articles, read with the author (whose
    /// `articles_count` is the total). `None` if there is no such user.
    pub async fn articles_by_author(
        &self,
        author_id: &str,
        page: &Page,
    ) -> Result<Option<ArticlePage>, ApiError> {
        let articles = async {
            self.query_page(Some(keys::GSI2), &keys::authored_by(author_id), page)
                .await?
                .into_iter()
                .map(from_item)
                .collect::<Result<Vec<Article>, _>>()
        };
        let (author, articles) = futures::try_join!(self.user_by_id(author_id), articles)?;
        Ok(author.map(|author| ArticlePage {
            articles,
            total: author.articles_count,
        }))
    }

    pub async fn articles_by_tag(&self, tag: &str, page: &Page) -> Result<ArticlePage, ApiError> {
        let articles = async {
            let ids: Vec<String> = self
                .query_page(None, &keys::tag_partition(tag), page)
                .await?
                .iter()
                .filter_map(|item| get_s(item, "SK").map(str::to_owned))
                .collect();
            self.articles_by_ids(&ids).await
        };
        // The count is read while the page is.
        let (articles, total) = futures::try_join!(articles, self.tag_count(tag))?;
        Ok(ArticlePage { articles, total })
    }

    /// The page of what `user_id` favorited, read with the user (whose
    /// `favorites_count` is the total). `None` if there is no such user.
    pub async fn articles_favorited_by(
        &self,
        user_id: &str,
        page: &Page,
    ) -> Result<Option<ArticlePage>, ApiError> {
        let articles = async {
            let ids: Vec<String> = self
                .query_page(Some(keys::GSI2), &keys::favorited_by(user_id), page)
                .await?
                .iter()
                .filter_map(|item| get_s(item, "GSI2SK").map(str::to_owned))
                .collect();
            self.articles_by_ids(&ids).await
        };
        let (user, articles) = futures::try_join!(self.user_by_id(user_id), articles)?;
        Ok(user.map(|user| ArticlePage {
            articles,
            total: user.favorites_count,
        }))
    }
}
