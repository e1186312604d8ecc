//! What an account holds, read a part and a page at a time for `GET
//! /api/user/export`: an account's articles alone can be far more than one
//! response may carry (1,000 articles of up to 320 KiB each).

use super::articles::Article;
use super::comments::Comment;
use super::feeds::sort_keys;
use super::paging::first_items;
use super::users::User;
use super::{Db, from_item, get_s, key_of, keys, s};
use crate::error::ApiError;

/// The parts of an export, in the order a client reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Profile,
    Articles,
    Comments,
    Favorites,
    Following,
    Sessions,
}

impl Part {
    pub const ALL: [Part; 6] = [
        Part::Profile,
        Part::Articles,
        Part::Comments,
        Part::Favorites,
        Part::Following,
        Part::Sessions,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Part::Profile => "profile",
            Part::Articles => "articles",
            Part::Comments => "comments",
            Part::Favorites => "favorites",
            Part::Following => "following",
            Part::Sessions => "sessions",
        }
    }

    pub fn named(name: &str) -> Option<Part> {
        Part::ALL.into_iter().find(|part| part.name() == name)
    }

    /// The part after this one.
    pub fn next(self) -> Option<Part> {
        let index = Part::ALL.iter().position(|part| *part == self)?;
        Part::ALL.get(index + 1).copied()
    }

    /// Items a page of this part holds: articles carry their bodies (up to
    /// 320 KiB each), so that a page stays under Lambda's 6 MB response.
    pub fn page_size(self) -> usize {
        match self {
            Part::Articles => 10,
            _ => 100,
        }
    }
}

/// One page of one part: the items, and the key the next page starts
/// after (`None`: the part ends here).
#[derive(Debug, Default)]
pub struct ExportPage {
    pub articles: Vec<Article>,
    /// Each comment with its article's slug.
    pub comments: Vec<(String, Comment)>,
    /// Slugs of the articles favorited.
    pub favorites: Vec<String>,
    /// Usernames of the users followed.
    pub following: Vec<String>,
    pub last_key: Option<String>,
}

impl Db {
    /// The page of `part` of `user`'s account after the key `after`. (The
    /// profile and the sessions are one page each, the caller's.)
    pub async fn export_page(
        &self,
        user: &User,
        part: Part,
        after: Option<&str>,
    ) -> Result<ExportPage, ApiError> {
        let size = part.page_size();
        let id = user.id.as_str();
        let mut page = ExportPage::default();
        let keys = match part {
            Part::Profile | Part::Sessions => return Ok(page),
            Part::Articles => {
                let ids = self
                    .index_keys_after(&keys::authored_by(id), after, size)
                    .await?;
                let found = self
                    .batch_get(ids.iter().map(|a| key_of(keys::article(a))).collect())
                    .await?;
                let mut articles: Vec<Article> =
                    found.into_iter().map(from_item).collect::<Result<_, _>>()?;
                articles.sort_by(|a, b| a.id.cmp(&b.id));
                page.articles = articles;
                ids
            }
            Part::Comments => {
                let index = self
                    .index_keys_after(&keys::commented_by(id), after, size)
                    .await?;
                let named: Vec<(&str, u64)> = index
                    .iter()
                    .filter_map(|key| keys::comment_of_index_key(key))
                    .collect();
                let comment_keys = named
                    .iter()
                    .map(|(article, comment)| key_of(keys::comment(article, *comment)))
                    .collect();
                let article_ids: Vec<String> = named.iter().map(|(a, _)| a.to_string()).collect();
                let (comments, articles) = futures::try_join!(
                    self.batch_get(comment_keys),
                    self.articles_by_ids(&article_ids)
                )?;
                for item in comments {
                    let article = get_s(&item, "PK").and_then(|pk| pk.strip_prefix("ARTICLE#"));
                    let slug = articles
                        .iter()
                        .find(|a| Some(a.id.as_str()) == article)
                        .map(|a| a.slug.clone());
                    // A comment on an article deleted a moment ago: its
                    // clean-up is about to remove it.
                    if let Some(slug) = slug {
                        page.comments.push((slug, from_item(item)?));
                    }
                }
                page.comments.sort_by_key(|(_, c)| c.created_at.clone());
                index
            }
            Part::Favorites => {
                let ids = self
                    .index_keys_after(&keys::favorited_by(id), after, size)
                    .await?;
                let articles = self.articles_by_ids(&ids).await?;
                page.favorites = articles.into_iter().map(|a| a.slug).collect();
                ids
            }
            Part::Following => {
                let ids = self.followed_after(id, after, size).await?;
                let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
                let mut users = self.users_by_ids(&refs).await?;
                users.sort_by(|a, b| a.id.cmp(&b.id));
                page.following = users.into_iter().map(|u| u.username).collect();
                ids
            }
        };
        page.last_key = (keys.len() == size).then(|| keys.last().cloned()).flatten();
        Ok(page)
    }

    /// Up to `limit` sort keys of a GSI2 partition after `after`, in order.
    async fn index_keys_after(
        &self,
        partition: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, ApiError> {
        let mut query = self.index_query(partition);
        if let Some(after) = after {
            query = query
                .key_condition_expression("GSI2PK = :pk AND GSI2SK > :after")
                .expression_attribute_values(":after", s(after));
        }
        Ok(sort_keys(&first_items(query, limit).await?))
    }

    /// Up to `limit` ids of those `user_id` follows, after the id `after`.
    async fn followed_after(
        &self,
        user_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, ApiError> {
        let (partition, _) = keys::user(user_id);
        // From the last one seen (dropped below) to the end of the follows
        // ('~' sorts after every id).
        let (_, from) = keys::follow(user_id, after.unwrap_or(""));
        let (_, to) = keys::follow(user_id, "~");
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND SK BETWEEN :from AND :to")
            .expression_attribute_values(":pk", s(partition))
            .expression_attribute_values(":from", s(from))
            .expression_attribute_values(":to", s(to))
            .projection_expression("SK")
            .consistent_read(true);
        let items = first_items(query, limit + 1).await?;
        Ok(items
            .iter()
            .filter_map(|item| get_s(item, "SK")?.strip_prefix(keys::FOLLOWS_PREFIX))
            .filter(|followee| Some(*followee) != after)
            .take(limit)
            .map(str::to_owned)
            .collect())
    }
}
