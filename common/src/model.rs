//! The API's JSON shapes, as the RealWorld spec names them.
//!
//! Request fields default to empty when absent so that a missing field gets
//! the same "can't be blank" answer as an empty one, not a parse error.

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use validator::Validate;

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

/// Every error: `{"errors": {"<field>": ["<message>", ...]}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct GenericErrorModel {
    #[schema(value_type = std::collections::HashMap<String, Vec<String>>)]
    pub errors: FieldErrors,
}

#[derive(Deserialize, Validate, ToSchema)]
pub struct NewUser {
    #[serde(default)]
    #[schema(min_length = 1, max_length = 32, pattern = "^[A-Za-z0-9_.-]+$")]
    #[validate(custom(function = "validate::username"))]
    pub username: String,
    #[serde(default)]
    #[schema(format = Email, max_length = 254)]
    #[validate(custom(function = "validate::email"))]
    pub email: String,
    #[serde(default)]
    #[schema(min_length = 8, max_length = 128)]
    #[validate(custom(function = "validate::password"))]
    pub password: String,
}

#[derive(Deserialize, Validate, ToSchema)]
pub struct LoginUser {
    #[serde(default)]
    #[schema(format = Email, max_length = 254)]
    #[validate(custom(function = "validate::email"))]
    pub email: String,
    #[serde(default)]
    #[schema(min_length = 1, max_length = 128)]
    #[validate(custom(function = "validate::password_present"))]
    pub password: String,
}

#[derive(Deserialize, Validate, ToSchema)]
pub struct UpdateUser {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(min_length = 1, max_length = 32, pattern = "^[A-Za-z0-9_.-]+$")]
    #[validate(custom(function = "validate::username"))]
    pub username: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(format = Email, max_length = 254)]
    #[validate(custom(function = "validate::email"))]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(min_length = 8, max_length = 128)]
    #[validate(custom(function = "validate::password"))]
    pub password: Option<Option<String>>,
    /// `null` or `""` clears the bio.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(max_length = 1000)]
    #[validate(custom(function = "validate::bio"))]
    pub bio: Option<Option<String>>,
    /// `null` or `""` clears the image.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(max_length = 2048)]
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
    #[schema(min_length = 1, max_length = 200)]
    #[validate(custom(function = "validate::title"))]
    pub title: String,
    #[serde(default)]
    #[schema(min_length = 1, max_length = 1000)]
    #[validate(custom(function = "validate::description"))]
    pub description: String,
    #[serde(default)]
    #[schema(min_length = 1, max_length = 65536)]
    #[validate(custom(function = "validate::article_body"))]
    pub body: String,
    #[serde(default, rename = "tagList")]
    #[schema(max_items = 10)]
    #[validate(custom(function = "validate::tag_list"))]
    pub tag_list: Vec<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct UpdateArticle {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(min_length = 1, max_length = 200)]
    #[validate(custom(function = "validate::title"))]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(min_length = 1, max_length = 1000)]
    #[validate(custom(function = "validate::description"))]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(min_length = 1, max_length = 65536)]
    #[validate(custom(function = "validate::article_body"))]
    pub body: Option<Option<String>>,
    /// Absent keeps the tags, `[]` removes them all, `null` is refused.
    #[serde(default, rename = "tagList", deserialize_with = "double_option")]
    #[schema(max_items = 10)]
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
    #[schema(min_length = 1, max_length = 10000)]
    #[validate(custom(function = "validate::comment_body"))]
    pub body: String,
}

#[derive(Serialize, PartialEq, ToSchema)]
pub struct UserView {
    pub email: String,
    pub token: String,
    pub username: String,
    pub bio: Option<String>,
    pub image: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserBody {
    pub user: UserView,
}

#[derive(Debug, Serialize, Clone, PartialEq, ToSchema)]
pub struct ProfileView {
    pub username: String,
    pub bio: Option<String>,
    pub image: Option<String>,
    pub following: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileBody {
    pub profile: ProfileView,
}

#[derive(Debug, Serialize, ToSchema)]
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

#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleBody {
    pub article: ArticleView,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ArticlesBody {
    pub articles: Vec<ArticleView>,
    pub articles_count: u64,
    /// Opaque cursor for the next page (`?cursor=`), absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommentView {
    pub id: u64,
    pub created_at: String,
    pub updated_at: String,
    pub body: String,
    pub author: ProfileView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommentBody {
    pub comment: CommentView,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommentsBody {
    pub comments: Vec<CommentView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TagsBody {
    pub tags: Vec<String>,
}

/// `PUT /api/admin/users/{username}/role` body: `{"role": "moderator"}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RoleChange {
    pub role: crate::auth::Role,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdminUserView {
    pub username: String,
    pub email: String,
    pub role: crate::auth::Role,
    pub status: crate::db::users::UserStatus,
    pub bio: Option<String>,
    pub image: Option<String>,
    pub articles_count: u64,
    pub created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminUserBody {
    pub user: AdminUserView,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdminUsersBody {
    pub users: Vec<AdminUserView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryView {
    pub id: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: Option<String>,
    pub at: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditBody {
    pub entries: Vec<AuditEntryView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}
