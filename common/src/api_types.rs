//! The API's request and response bodies: their JSON shapes, as the
//! RealWorld spec names them, and their OpenAPI schemas.
//!
//! Request fields default to empty when absent so that a missing field gets
//! the same "can't be blank" answer as an empty one, not a parse error.

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::domain::{Role, UserStatus};
use crate::error::{ApiError, FieldErrors};
use crate::validate;

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Declares a request envelope, `{"<key>": <inner>}`, as the spec names it.
macro_rules! envelope {
    ($name:ident { $key:ident: $inner:ty }) => {
        #[derive(Debug, Deserialize, ToSchema)]
        pub struct $name {
            pub $key: $inner,
        }
    };
}

envelope!(NewUserRequest { user: NewUser });
envelope!(LoginUserRequest { user: LoginUser });
envelope!(UpdateUserRequest { user: UpdateUser });
envelope!(DeleteUserRequest { user: DeleteUser });
envelope!(NewArticleRequest {
    article: NewArticle
});
envelope!(UpdateArticleRequest {
    article: UpdateArticle
});
envelope!(NewCommentRequest {
    comment: NewComment
});

/// Debug output for types that carry a password or a token: never the secret.
macro_rules! redacted_debug {
    ($($ty:ident { $($field:ident),* }),* $(,)?) => {$(
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($ty))
                    $(.field(stringify!($field), &self.$field))*
                    .finish_non_exhaustive()
            }
        }
    )*};
}

redacted_debug!(
    NewUser { username, email },
    LoginUser { email },
    DeleteUser {},
    UpdateUser {
        username,
        email,
        bio,
        image
    },
    UserView {
        username,
        email,
        bio,
        image
    },
);

#[derive(Deserialize, Validate, ToSchema)]
pub struct NewUser {
    #[serde(default)]
    #[schema(value_type = Username, required = true)]
    #[validate(custom(function = "validate::username"))]
    pub username: String,
    #[serde(default)]
    #[schema(schema_with = field_schema::email, required = true)]
    #[validate(custom(function = "validate::email"))]
    pub email: String,
    #[serde(default)]
    #[schema(schema_with = field_schema::password, required = true)]
    #[validate(custom(function = "validate::password"))]
    pub password: String,
}

#[derive(Deserialize, Validate, ToSchema)]
pub struct LoginUser {
    #[serde(default)]
    #[schema(schema_with = field_schema::email, required = true)]
    #[validate(custom(function = "validate::email"))]
    pub email: String,
    #[serde(default)]
    #[schema(schema_with = field_schema::password_present, required = true)]
    #[validate(custom(function = "validate::password_present"))]
    pub password: String,
}

/// Deleting one's own account takes the password again: a token alone
/// (say, one left signed in on a shared computer) cannot.
#[derive(Deserialize, Validate, ToSchema)]
pub struct DeleteUser {
    #[serde(default)]
    #[schema(schema_with = field_schema::password_present, required = true)]
    #[validate(custom(function = "validate::password_present"))]
    pub password: String,
}

/// A field left out keeps its value; `username`, `email` and `password` may
/// not be `null`.
#[derive(Deserialize, Validate, ToSchema)]
pub struct UpdateUser {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Username)]
    #[validate(custom(function = "validate::username"))]
    pub username: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = field_schema::email)]
    #[validate(custom(function = "validate::email"))]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = field_schema::password)]
    #[validate(custom(function = "validate::password"))]
    pub password: Option<Option<String>>,
    /// `null` or `""` clears the bio.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = field_schema::bio)]
    #[validate(custom(function = "validate::bio"))]
    pub bio: Option<Option<String>>,
    /// `null` or `""` clears the image.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = field_schema::image)]
    #[validate(custom(function = "validate::image"))]
    pub image: Option<Option<String>>,
}

impl UpdateUser {
    /// The fields that may be left out but not set to `null`.
    pub fn reject_nulls(&self) -> Result<(), ApiError> {
        reject_nulls([
            ("username", matches!(self.username, Some(None))),
            ("email", matches!(self.email, Some(None))),
            ("password", matches!(self.password, Some(None))),
        ])
    }
}

/// A 422 naming every field that was sent as `null` where a value is required.
fn reject_nulls<const N: usize>(fields: [(&str, bool); N]) -> Result<(), ApiError> {
    let errors: FieldErrors = fields
        .into_iter()
        .filter(|(_, is_null)| *is_null)
        .map(|(field, _)| (field.to_owned(), vec!["can't be null".to_owned()]))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct NewArticle {
    #[serde(default)]
    #[schema(schema_with = field_schema::title, required = true)]
    #[validate(custom(function = "validate::title"))]
    pub title: String,
    #[serde(default)]
    #[schema(schema_with = field_schema::description, required = true)]
    #[validate(custom(function = "validate::description"))]
    pub description: String,
    #[serde(default)]
    #[schema(schema_with = field_schema::article_body, required = true)]
    #[validate(custom(function = "validate::article_body"))]
    pub body: String,
    #[serde(default, rename = "tagList")]
    #[schema(schema_with = field_schema::tag_list)]
    #[validate(custom(function = "validate::tag_list"))]
    pub tag_list: Vec<String>,
}

/// A field left out keeps its value; none may be `null`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct UpdateArticle {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = field_schema::title)]
    #[validate(custom(function = "validate::title"))]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = field_schema::description)]
    #[validate(custom(function = "validate::description"))]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = field_schema::article_body)]
    #[validate(custom(function = "validate::article_body"))]
    pub body: Option<Option<String>>,
    /// Absent keeps the tags, `[]` removes them all, `null` is refused.
    #[serde(default, rename = "tagList", deserialize_with = "double_option")]
    #[schema(schema_with = field_schema::tag_list_edit)]
    #[validate(custom(function = "validate::tag_list"))]
    pub tag_list: Option<Option<Vec<String>>>,
}

impl UpdateArticle {
    pub fn reject_nulls(&self) -> Result<(), ApiError> {
        reject_nulls([
            ("title", matches!(self.title, Some(None))),
            ("description", matches!(self.description, Some(None))),
            ("body", matches!(self.body, Some(None))),
            ("tagList", matches!(self.tag_list, Some(None))),
        ])
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct NewComment {
    #[serde(default)]
    #[schema(schema_with = field_schema::comment_body, required = true)]
    #[validate(custom(function = "validate::comment_body"))]
    pub body: String,
}

/// The username rule as a schema of its own, `#/components/schemas/Username`,
/// to which the username fields refer: its character class (every letter and
/// digit in Unicode) is long.
pub struct Username;

impl utoipa::PartialSchema for Username {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        field_schema::username().into()
    }
}

impl ToSchema for Username {}

/// The schemas of the request fields, stating what `validate` enforces: the
/// limits are its constants, and each character class is read off its check
/// (every character is tried), so the document cannot drift from the API.
///
/// The patterns are JSON Schema (ECMA-262, `u` flag) regular expressions that
/// Python and Rust read alike: characters of the Basic Multilingual Plane as
/// `\uXXXX` escapes, those beyond it as themselves (`\u{...}` is not Python's
/// syntax, `\U...` not ECMA-262's).
mod field_schema {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{
        ArrayBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
    };
    use validator::ValidationError;

    use crate::validate::{self, *};

    type Check = fn(&str) -> Result<(), ValidationError>;

    /// The addresses [`validate::email`] accepts, narrowed so that every
    /// address the pattern matches is accepted: ASCII only, no quoted local
    /// part, and at most one dot in the local part, so that its atoms (at
    /// most 32 + 31 characters) keep it within 64.
    pub const EMAIL_PATTERN: &str = concat!(
        r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,32}(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,31})?@",
        r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?",
        r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$",
    );

    /// A character class of exactly the characters for which `accepts` holds:
    /// it lists the accepted characters or, negated, the refused ones,
    /// whichever are fewer (regex generators enumerate what is listed). A
    /// negated class also admits the lone surrogates, which are not
    /// characters: no JSON body the API parses can carry one.
    pub fn char_class(accepts: impl Fn(char) -> bool) -> String {
        let (mut inside, mut outside) = (Vec::new(), Vec::new());
        for c in (0..=char::MAX as u32).filter_map(char::from_u32) {
            let ranges: &mut Vec<(char, char)> = if accepts(c) {
                &mut inside
            } else {
                &mut outside
            };
            match ranges.last_mut() {
                Some((_, last)) if u32::from(*last) + 1 == u32::from(c) => *last = c,
                _ => ranges.push((c, c)),
            }
        }
        let count = |ranges: &[(char, char)]| {
            ranges
                .iter()
                .map(|&(first, last)| u32::from(last) - u32::from(first) + 1)
                .sum::<u32>()
        };
        if count(&outside) < count(&inside) {
            format!("[^{}]", render(&outside))
        } else {
            format!("[{}]", render(&inside))
        }
    }

    fn render(ranges: &[(char, char)]) -> String {
        let one = |c: char| {
            if u32::from(c) <= 0xFFFF {
                format!("\\u{:04X}", u32::from(c))
            } else {
                c.to_string()
            }
        };
        ranges
            .iter()
            .map(|&(first, last)| match u32::from(last) - u32::from(first) {
                0 => one(first),
                1 => one(first) + &one(last),
                _ => format!("{}-{}", one(first), one(last)),
            })
            .collect()
    }

    /// The characters `check` accepts as a whole value.
    fn accepted_alone(check: Check) -> impl Fn(char) -> bool {
        move |c| check(c.encode_utf8(&mut [0; 4])).is_ok()
    }

    fn string() -> ObjectBuilder {
        ObjectBuilder::new().schema_type(Type::String)
    }

    fn string_or_null() -> ObjectBuilder {
        ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null]))
    }

    /// Required text (`validate::text`): at most `max` characters, at least
    /// one of them not blank (the pattern is unanchored: "contains one").
    fn text(check: Check, max: usize) -> RefOr<Schema> {
        string()
            .min_length(Some(1))
            .max_length(Some(max))
            .pattern(Some(char_class(accepted_alone(check))))
            .into()
    }

    pub fn username() -> ObjectBuilder {
        string()
            .description(Some(format!(
                "Letters, digits, `_`, `-` and `.`, at most {USERNAME_MAX} characters"
            )))
            .min_length(Some(1))
            .max_length(Some(USERNAME_MAX))
            .pattern(Some(format!(
                "^{}+$",
                char_class(accepted_alone(validate::username))
            )))
    }

    pub fn email() -> RefOr<Schema> {
        string()
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
            .max_length(Some(EMAIL_MAX))
            .pattern(Some(EMAIL_PATTERN))
            .into()
    }

    pub fn password() -> RefOr<Schema> {
        string()
            .min_length(Some(PASSWORD_MIN))
            .max_length(Some(PASSWORD_MAX))
            .into()
    }

    /// Logging in checks presence only: the length rules apply when a
    /// password is set.
    pub fn password_present() -> RefOr<Schema> {
        string()
            .min_length(Some(1))
            .max_length(Some(PASSWORD_MAX))
            .into()
    }

    pub fn bio() -> RefOr<Schema> {
        string_or_null()
            .description(Some("`null` or `\"\"` clears the bio."))
            .max_length(Some(BIO_MAX))
            .into()
    }

    /// `maxLength` counts characters, the API bytes (UTF-8): the description
    /// says so.
    pub fn image() -> RefOr<Schema> {
        let allowed = |c: char| validate::image(&format!("http://{c}")).is_ok();
        string_or_null()
            .description(Some(format!(
                "An http(s) URL of at most {URL_MAX} bytes (UTF-8); \
                 `null` or `\"\"` clears the image."
            )))
            .max_length(Some(URL_MAX))
            .pattern(Some(format!("^(?:https?://{}*)?$", char_class(allowed))))
            .into()
    }

    pub fn title() -> RefOr<Schema> {
        text(validate::title, TITLE_MAX)
    }

    pub fn description() -> RefOr<Schema> {
        text(validate::description, DESCRIPTION_MAX)
    }

    pub fn article_body() -> RefOr<Schema> {
        text(validate::article_body, ARTICLE_BODY_MAX)
    }

    pub fn comment_body() -> RefOr<Schema> {
        text(validate::comment_body, COMMENT_BODY_MAX)
    }

    fn tags() -> ArrayBuilder {
        let tag_ok = |tag: String| validate::tag_list(&[tag]).is_ok();
        // Anywhere in a tag, and alone (not blank).
        let anywhere = char_class(move |c| tag_ok(format!("x{c}")));
        let alone = char_class(move |c| tag_ok(c.to_string()));
        ArrayBuilder::new()
            .items(
                string()
                    .min_length(Some(1))
                    .max_length(Some(TAG_MAX))
                    .pattern(Some(format!("^{anywhere}*{alone}{anywhere}*$"))),
            )
            .max_items(Some(TAGS_MAX))
    }

    pub fn tag_list() -> RefOr<Schema> {
        RefOr::T(Schema::Array(tags().build()))
    }

    pub fn tag_list_edit() -> RefOr<Schema> {
        RefOr::T(Schema::Array(
            tags()
                .description(Some(
                    "Absent keeps the tags, `[]` removes them all, `null` is refused.",
                ))
                .build(),
        ))
    }
}

#[derive(Serialize, Deserialize, PartialEq, ToSchema)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(feature = "graphql", graphql(name = "User"))]
pub struct UserView {
    pub email: String,
    pub token: String,
    pub username: String,
    pub bio: Option<String>,
    pub image: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserBody {
    pub user: UserView,
}

#[derive(Debug, Serialize, Deserialize, Clone, PartialEq, ToSchema)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(feature = "graphql", graphql(name = "Profile"))]
pub struct ProfileView {
    pub username: String,
    pub bio: Option<String>,
    pub image: Option<String>,
    pub following: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProfileBody {
    pub profile: ProfileView,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ArticleView {
    pub slug: String,
    pub title: String,
    pub description: String,
    /// Absent in lists, as the spec requires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    pub tag_list: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
    pub favorited: bool,
    pub favorites_count: u64,
    pub author: ProfileView,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ArticleBody {
    pub article: ArticleView,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ArticlesBody {
    pub articles: Vec<ArticleView>,
    pub articles_count: u64,
    /// Opaque cursor for the next page (`?cursor=`), absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(feature = "graphql", graphql(name = "Comment"))]
pub struct CommentView {
    pub id: u64,
    pub created_at: String,
    pub updated_at: String,
    pub body: String,
    pub author: ProfileView,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CommentBody {
    pub comment: CommentView,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(feature = "graphql", graphql(name = "CommentPage"))]
pub struct CommentsBody {
    pub comments: Vec<CommentView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TagsBody {
    pub tags: Vec<String>,
}

/// One of the caller's sign-in sessions.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(feature = "graphql", graphql(name = "Session"))]
pub struct SessionView {
    pub id: String,
    pub created_at: String,
    /// When its token stops working, unless the session is ended before.
    pub expires_at: String,
    /// The client's address and user agent when it signed in.
    pub client_ip: String,
    pub user_agent: Option<String>,
    /// Whether this is the session of the token making this request.
    pub current: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionsBody {
    pub sessions: Vec<SessionView>,
}

/// One page of `GET /api/user/export`: everything the account holds comes
/// in parts (`profile`, `articles`, `comments`, `favorites`, `following`,
/// `sessions`, in that order), each in pages; the page's own part is the
/// one field of them present. Follow `nextCursor` until it is null.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
pub struct ExportBody {
    /// Which part of the account this page holds.
    pub part: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<ExportProfile>,
    /// Whole, with their bodies; oldest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub articles: Option<Vec<ExportArticle>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments: Option<Vec<ExportComment>>,
    /// Slugs of the articles favorited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub favorites: Option<Vec<String>>,
    /// Usernames of the users followed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub following: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions: Option<Vec<SessionView>>,
    /// The next page, of this part or the next; null once all is read.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
pub struct ExportProfile {
    pub username: String,
    pub email: String,
    pub bio: Option<String>,
    pub image: Option<String>,
    pub role: Role,
    pub created_at: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
pub struct ExportArticle {
    pub slug: String,
    pub title: String,
    pub description: String,
    pub body: String,
    pub tag_list: Vec<String>,
    pub favorites_count: u64,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
pub struct ExportComment {
    /// The slug of the article it is on.
    pub article: String,
    pub id: u64,
    pub body: String,
    pub created_at: String,
    pub updated_at: String,
}

/// A GraphQL request (`POST /api/graphql`; a JSON array of up to 10 of
/// them is a batch). The schema is `functions/schema.graphql`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GraphQlRequest {
    /// A query or mutation, at most 16 KiB.
    #[schema(max_length = 16384)]
    pub query: String,
    pub operation_name: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub variables: Option<serde_json::Value>,
}

/// A GraphQL response: what was asked for, and an error per field that
/// failed, each with `extensions.code` (`UNAUTHENTICATED`, `FORBIDDEN`,
/// `NOT_FOUND`, `CONFLICT`, `VALIDATION`, `TOO_MANY_REQUESTS`,
/// `UNAVAILABLE`). A batch answers with an array of them.
#[derive(Debug, Serialize, ToSchema)]
pub struct GraphQlResponse {
    #[schema(value_type = Option<Object>)]
    pub data: Option<serde_json::Value>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub errors: Option<Vec<serde_json::Value>>,
}

/// `PUT /api/admin/users/{username}/role` body: `{"role": "moderator"}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RoleChange {
    pub role: Role,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(feature = "graphql", graphql(name = "AdminUser"))]
pub struct AdminUserView {
    pub username: String,
    pub email: String,
    pub role: Role,
    pub status: UserStatus,
    pub bio: Option<String>,
    pub image: Option<String>,
    pub articles_count: u64,
    pub created_at: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AdminUserBody {
    pub user: AdminUserView,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(feature = "graphql", graphql(name = "AdminUserPage"))]
pub struct AdminUsersBody {
    pub users: Vec<AdminUserView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(feature = "graphql", graphql(name = "AuditEntry"))]
pub struct AuditEntryView {
    pub id: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: Option<String>,
    pub at: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(feature = "graphql", graphql(name = "AuditPage"))]
pub struct AuditBody {
    pub entries: Vec<AuditEntryView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use utoipa::PartialSchema;

    use super::*;

    /// A class written by `field_schema::char_class`, read back: whether it
    /// is negated, and its ranges, in order.
    fn read_class(class: &str) -> (bool, Vec<(char, char)>) {
        fn one(chars: &mut std::iter::Peekable<std::str::Chars>) -> Option<char> {
            match chars.next()? {
                '\\' => {
                    assert_eq!(chars.next(), Some('u'));
                    let hex: String = chars.by_ref().take(4).collect();
                    char::from_u32(u32::from_str_radix(&hex, 16).unwrap())
                }
                c => Some(c),
            }
        }
        let (negated, body) = match class.strip_prefix("[^") {
            Some(body) => (true, body),
            None => (false, &class[1..]),
        };
        let mut chars = body.strip_suffix(']').unwrap().chars().peekable();
        let mut ranges = Vec::new();
        while let Some(first) = one(&mut chars) {
            let last = if chars.next_if_eq(&'-').is_some() {
                one(&mut chars).unwrap()
            } else {
                first
            };
            ranges.push((first, last));
        }
        assert!(ranges.is_sorted());
        (negated, ranges)
    }

    fn admits((negated, ranges): &(bool, Vec<(char, char)>), c: char) -> bool {
        let found = ranges
            .binary_search_by(|&(first, last)| {
                if last < c {
                    std::cmp::Ordering::Less
                } else if first > c {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .is_ok();
        found != *negated
    }

    fn schema_json<T: PartialSchema>() -> serde_json::Value {
        serde_json::to_value(T::schema()).unwrap()
    }

    /// The class at the start of a pattern such as `^[...]+$` or `[...]`.
    fn first_class(pattern: &str) -> &str {
        let start = pattern.find('[').unwrap();
        let end = start + pattern[start..].find(']').unwrap();
        &pattern[start..=end]
    }

    #[test]
    fn character_classes_list_the_fewer_side() {
        let digits = field_schema::char_class(|c| c.is_ascii_digit());
        assert_eq!(digits, r"[\u0030-\u0039]");
        let not_ab = field_schema::char_class(|c| !matches!(c, 'a' | 'b'));
        assert_eq!(not_ab, r"[^\u0061\u0062]");
        assert_eq!(field_schema::char_class(|c| c == '𝔘'), "[𝔘]");
    }

    #[test]
    fn every_address_the_documented_pattern_matches_is_accepted() {
        use rand09::{SeedableRng, rngs::StdRng};
        // A client that checks the pattern must never be refused for it.
        // Anchored at both ends, which the generator does not take.
        let pattern = field_schema::EMAIL_PATTERN.strip_prefix('^').unwrap();
        let pattern = pattern.strip_suffix('$').unwrap();
        let generator = rand_regex::Regex::compile(pattern, 64).unwrap();
        let mut rng = StdRng::seed_from_u64(7);
        let mut seen = 0;
        for address in rand09::Rng::sample_iter(&mut rng, &generator).take(5_000) {
            let address: String = address;
            if address.len() > validate::EMAIL_MAX {
                continue; // maxLength is documented beside the pattern.
            }
            seen += 1;
            assert!(validate::email(&address).is_ok(), "{address}");
        }
        assert!(seen > 1_000, "{seen}");
    }

    #[test]
    fn documented_classes_are_what_the_validators_accept() {
        let username = schema_json::<Username>()["pattern"]
            .as_str()
            .unwrap()
            .to_owned();
        let username = read_class(first_class(&username));
        let comment = schema_json::<NewComment>()["properties"]["body"]["pattern"]
            .as_str()
            .unwrap()
            .to_owned();
        let comment = read_class(first_class(&comment));
        let mut buf = [0; 4];
        for c in (0..=char::MAX as u32).filter_map(char::from_u32) {
            let alone = c.encode_utf8(&mut buf);
            assert_eq!(
                admits(&username, c),
                validate::username(alone).is_ok(),
                "{c:?}"
            );
            assert_eq!(
                admits(&comment, c),
                validate::comment_body(alone).is_ok(),
                "{c:?}"
            );
        }
    }

    #[test]
    fn required_fields_are_documented_as_required() {
        assert_eq!(
            schema_json::<NewUser>()["required"],
            serde_json::json!(["username", "email", "password"])
        );
        assert_eq!(
            schema_json::<NewArticle>()["required"],
            serde_json::json!(["title", "description", "body"])
        );
        // Fields that may be left out but not be `null` are not nullable.
        let edit = schema_json::<UpdateArticle>();
        assert_eq!(edit["properties"]["title"]["type"], "string");
        assert_eq!(edit["properties"]["tagList"]["type"], "array");
        assert_eq!(
            edit["properties"]["tagList"]["maxItems"],
            validate::TAGS_MAX
        );
    }
}
