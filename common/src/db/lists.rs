//! Article lists: the global list (by month, newest first), by tag, by
//! author and by favoriter (the feed is in [`feeds`](super::feeds)); each
//! a [`Page`] of its list with the list's total, read from a counter
//! rather than counted, and kept in agreement with what the page shows
//! ([`ArticlePage::read`]).

use super::articles::{Article, bucket_of};
use super::paging::Page;
use super::users::User;
use super::{Db, from_item, get_s, keys};
use crate::error::ApiError;

/// A slice of a list plus the size of the whole list.
#[derive(Debug)]
pub struct ArticlePage {
    pub articles: Vec<Article>,
    pub total: u64,
    /// Where the next page starts, when the list goes on past this one
    /// and this page skipped entries (so its last article is not its last
    /// entry): the id of its last entry. `None`: the page's own articles
    /// tell (a full page goes on after its last).
    pub continues_after: Option<String>,
}

impl ArticlePage {
    /// The page of a list that `read` entries of (as many as `page` wanted,
    /// or all there were), whose `articles` are those still there, and
    /// whose counter says `counted`.
    ///
    /// A counter can count what the list cannot show: an article deleted
    /// a moment ago (its clean-up by the stream still under way) or, in
    /// AWS, an index a moment behind. A page's count and list never
    /// disagree: where the page reaches the end of the list, the total is
    /// what the list holds; elsewhere, the counter less the entries this
    /// page had to skip.
    ///
    /// `last_listed` is the id of the last entry of the page, shown or not:
    /// a page that skipped some still goes on after it.
    pub(super) fn read(
        page: &Page,
        read: usize,
        last_listed: Option<String>,
        articles: Vec<Article>,
        counted: u64,
    ) -> Self {
        let listed = read.saturating_sub(page.offset).min(page.limit);
        let skipped = listed.saturating_sub(articles.len());
        let shown = (page.offset + articles.len()) as u64;
        let ends_here = read < page.wanted();
        let total = match page.before.is_none() && ends_here {
            true => (read - skipped) as u64,
            false => counted.saturating_sub(skipped as u64).max(shown),
        };
        Self {
            continues_after: last_listed.filter(|_| !ends_here && skipped > 0),
            articles,
            total,
        }
    }
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
        Ok(ArticlePage {
            articles,
            total,
            continues_after: None,
        })
    }

    /// The page of `author_id`'s articles, read with the author (whose
    /// `articles_count` is the total). `None` if there is no such user.
    pub async fn articles_by_author(
        &self,
        author_id: &str,
        page: &Page,
    ) -> Result<Option<ArticlePage>, ApiError> {
        let articles = async {
            let partition = keys::authored_by(author_id);
            let (read, items) = self.query_read(Some(keys::GSI2), &partition, page).await?;
            let articles: Result<Vec<Article>, _> = items.into_iter().map(from_item).collect();
            Ok::<_, ApiError>((read, articles?))
        };
        let (author, (read, articles)) = futures::try_join!(self.user_by_id(author_id), articles)?;
        // The index holds the articles themselves: none is ever skipped.
        let page_of =
            |author: User| ArticlePage::read(page, read, None, articles, author.articles_count);
        Ok(author.map(page_of))
    }

    pub async fn articles_by_tag(&self, tag: &str, page: &Page) -> Result<ArticlePage, ApiError> {
        let articles = async {
            let (read, items) = self
                .query_read(None, &keys::tag_partition(tag), page)
                .await?;
            let ids: Vec<String> = items
                .iter()
                .filter_map(|item| get_s(item, "SK").map(str::to_owned))
                .collect();
            let articles = self.articles_by_ids(&ids).await?;
            Ok::<_, ApiError>((read, ids.last().cloned(), articles))
        };
        // The count is read while the page is.
        let ((read, last, articles), total) = futures::try_join!(articles, self.tag_count(tag))?;
        Ok(ArticlePage::read(page, read, last, articles, total))
    }

    /// The page of what `user_id` favorited, read with the user (whose
    /// `favorites_count` is the total). `None` if there is no such user.
    pub async fn articles_favorited_by(
        &self,
        user_id: &str,
        page: &Page,
    ) -> Result<Option<ArticlePage>, ApiError> {
        let articles = async {
            let partition = keys::favorited_by(user_id);
            let (read, items) = self.query_read(Some(keys::GSI2), &partition, page).await?;
            let ids: Vec<String> = items
                .iter()
                .filter_map(|item| get_s(item, "GSI2SK").map(str::to_owned))
                .collect();
            let articles = self.articles_by_ids(&ids).await?;
            Ok::<_, ApiError>((read, ids.last().cloned(), articles))
        };
        let (user, (read, last, articles)) =
            futures::try_join!(self.user_by_id(user_id), articles)?;
        let page_of =
            |user: User| ArticlePage::read(page, read, last, articles, user.favorites_count);
        Ok(user.map(page_of))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn articles(count: usize) -> Vec<Article> {
        let article = Article {
            id: String::new(),
            slug: String::new(),
            title: String::new(),
            description: String::new(),
            body: String::new(),
            tag_list: vec![],
            author_id: String::new(),
            favorites_count: 0,
            created_at: String::new(),
            updated_at: String::new(),
        };
        vec![article; count]
    }

    fn total(page: &Page, read: usize, shown: usize, counted: u64) -> u64 {
        ArticlePage::read(page, read, None, articles(shown), counted).total
    }

    #[test]
    fn a_page_that_skipped_entries_still_says_where_the_list_goes_on() {
        let page = Page {
            limit: 2,
            ..Page::default()
        };
        let last = Some("01J2".to_owned());
        let read = |read, shown| ArticlePage::read(&page, read, last.clone(), articles(shown), 10);
        assert_eq!(read(2, 1).continues_after, last);
        // A full page says it itself; the list's last page, nothing.
        assert_eq!(read(2, 2).continues_after, None);
        assert_eq!(read(1, 0).continues_after, None);
    }

    #[test]
    fn a_page_that_reaches_the_end_of_its_list_counts_what_it_holds() {
        let first = Page {
            limit: 20,
            ..Page::default()
        };
        // Two entries, one of them a deleted article the counter still has.
        assert_eq!(total(&first, 2, 1, 2), 1);
        // An index behind its counter.
        assert_eq!(total(&first, 1, 1, 2), 1);
        let second = Page {
            limit: 1,
            offset: 1,
            ..Page::default()
        };
        assert_eq!(total(&second, 1, 0, 2), 1, "the end is before the page");
    }

    #[test]
    fn any_other_page_counts_the_counter_less_what_it_skipped() {
        let page = Page {
            limit: 2,
            ..Page::default()
        };
        assert_eq!(total(&page, 2, 2, 10), 10);
        assert_eq!(total(&page, 2, 1, 10), 9);
        // Never less than the page shows.
        assert_eq!(total(&page, 2, 2, 0), 2);
        // After a cursor the list's start is unknown: the counter, as above.
        let after = Page {
            limit: 2,
            before: Some("01J".into()),
            ..Page::default()
        };
        assert_eq!(total(&after, 1, 1, 10), 10);
    }
}
