//! `GET /api/user/export`: everything the caller's account holds, a part
//! and a page at a time (`db::export`), for them to take elsewhere.

use conduit_common::api_types::{ExportArticle, ExportBody, ExportComment, ExportProfile};
use conduit_common::db::export::Part;
use conduit_common::http::{ApiResult, Ctx, NeverStore, decode_opaque, encode_cursor, json};
use conduit_common::lambda_http::http::StatusCode;
use conduit_common::{ApiError, views};

/// Where a page starts: a part, and the key it goes on after.
type Position = (Part, Option<String>);

/// Cursors are opaque: `<part>:<key>`, encoded.
fn cursor((part, after): &Position) -> String {
    encode_cursor(&format!(
        "{}:{}",
        part.name(),
        after.as_deref().unwrap_or("")
    ))
}

fn position(cursor: &str) -> Result<Position, ApiError> {
    let invalid = || ApiError::field("cursor", "is invalid");
    let text = decode_opaque(cursor).ok_or_else(invalid)?;
    let (name, key) = text.split_once(':').ok_or_else(invalid)?;
    let part = Part::named(name).ok_or_else(invalid)?;
    let key_chars = |c: char| c.is_ascii_alphanumeric() || c == '#';
    if key.len() > 100 || !key.chars().all(key_chars) {
        return Err(invalid());
    }
    Ok((part, Some(key.to_owned()).filter(|k| !k.is_empty())))
}

#[tracing::instrument(skip_all)]
pub async fn export_current_user(ctx: Ctx) -> ApiResult {
    let auth = ctx.user().await?;
    let me = &auth.user;
    let (part, after) = match ctx.query("cursor") {
        Some(raw) => position(&raw)?,
        None => (Part::Profile, None),
    };
    let page = ctx.db().export_page(me, part, after.as_deref()).await?;
    let next = match page.last_key {
        Some(key) => Some((part, Some(key))),
        None => part.next().map(|next| (next, None)),
    };
    let mut body = ExportBody {
        part: part.name().to_owned(),
        next_cursor: next.as_ref().map(cursor),
        ..Default::default()
    };
    match part {
        Part::Profile => {
            body.profile = Some(ExportProfile {
                username: me.username.clone(),
                email: me.email.clone(),
                bio: me.bio.clone(),
                image: me.image.clone(),
                role: me.role,
                created_at: me.created_at.clone(),
            })
        }
        Part::Articles => {
            let articles = page.articles.into_iter().map(|a| ExportArticle {
                slug: a.slug,
                title: a.title,
                description: a.description,
                body: a.body,
                tag_list: a.tag_list,
                favorites_count: a.favorites_count,
                created_at: a.created_at,
                updated_at: a.updated_at,
            });
            body.articles = Some(articles.collect());
        }
        Part::Comments => {
            let comments = page.comments.into_iter().map(|(article, c)| ExportComment {
                article,
                id: c.id,
                body: c.body,
                created_at: c.created_at,
                updated_at: c.updated_at,
            });
            body.comments = Some(comments.collect());
        }
        Part::Favorites => body.favorites = Some(page.favorites),
        Part::Following => body.following = Some(page.following),
        Part::Sessions => {
            let sessions = ctx.db().sessions(me).await?;
            let views = sessions
                .into_iter()
                .map(|session| views::session_view(session, &auth.session));
            body.sessions = Some(views.collect());
        }
    }
    // Personal data: never kept by any cache.
    let mut response = json(StatusCode::OK, &body)?;
    response.extensions_mut().insert(NeverStore);
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_name_a_part_and_a_key_and_reject_anything_else() {
        for at in [
            (Part::Articles, None),
            (Part::Comments, Some("01J#0042".into())),
        ] {
            assert_eq!(position(&cursor(&at)).unwrap(), at);
        }
        for bad in [
            "%%",
            &encode_cursor("nowhere:"),
            &encode_cursor("articles:a b"),
        ] {
            assert!(position(bad).is_err(), "{bad}");
        }
    }
}
