//! The OpenAPI 3.1 document, generated from the route table and the API
//! types (their `utoipa::ToSchema` derives), so it cannot drift from the
//! routes the API serves. Served at `GET /api/openapi.json`.

use conduit_common::auth::Access;
use conduit_common::http::{MAX_FEED_OFFSET, MAX_OFFSET, Method, Route};
use conduit_common::model::*;

use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Paths, Ref, Required,
    ResponseBuilder,
};

/// What the route table does not say about an operation.
#[derive(Default)]
struct Doc {
    /// The request body's schema, if the operation takes one.
    request: Option<&'static str>,
    /// The success status and its body's schema (`None`: no body).
    ok: (u16, Option<&'static str>),
    query: &'static [(&'static str, &'static str)],
    /// Extra error statuses beyond those the route's shape implies.
    errors: &'static [u16],
    /// Non-JSON success content type (the docs pages).
    content_type: Option<&'static str>,
}

const LIST: &[(&str, &str)] = &[
    ("limit", "Page size, 1 to 100 (default 20)"),
    (
        "offset",
        "Items to skip (default 0); page deeper with the cursor",
    ),
    (
        "cursor",
        "Opaque cursor from a previous page's `nextCursor`",
    ),
];
const ARTICLE_LIST: &[(&str, &str)] = &[
    ("tag", "Only articles with this tag"),
    ("author", "Only articles by this username"),
    ("favorited", "Only articles favorited by this username"),
    ("limit", "Page size, 1 to 100 (default 20)"),
    (
        "offset",
        "Items to skip (default 0); page deeper with the cursor",
    ),
    (
        "cursor",
        "Opaque cursor from a previous page's `nextCursor`",
    ),
];

fn doc(route: &Route) -> Doc {
    let ok = |schema| (200, Some(schema));
    let created = |schema| (201, Some(schema));
    match route.name {
        "register" => Doc {
            request: Some("NewUserRequest"),
            ok: created("UserBody"),
            errors: &[409],
            ..Doc::default()
        },
        "login" => Doc {
            request: Some("LoginUserRequest"),
            ok: ok("UserBody"),
            errors: &[401, 429],
            ..Doc::default()
        },
        "get_current_user" => Doc {
            ok: ok("UserBody"),
            ..Doc::default()
        },
        "update_user" => Doc {
            request: Some("UpdateUserRequest"),
            ok: ok("UserBody"),
            errors: &[409],
            ..Doc::default()
        },
        "get_profile" => Doc {
            ok: ok("ProfileBody"),
            ..Doc::default()
        },
        "follow_user" => Doc {
            ok: ok("ProfileBody"),
            errors: &[422],
            ..Doc::default()
        },
        "unfollow_user" => Doc {
            ok: ok("ProfileBody"),
            ..Doc::default()
        },
        "list_articles" => Doc {
            ok: ok("ArticlesBody"),
            query: ARTICLE_LIST,
            ..Doc::default()
        },
        "feed_articles" => Doc {
            ok: ok("ArticlesBody"),
            query: LIST,
            ..Doc::default()
        },
        "get_article" => Doc {
            ok: ok("ArticleBody"),
            ..Doc::default()
        },
        "create_article" => Doc {
            request: Some("NewArticleRequest"),
            ok: created("ArticleBody"),
            ..Doc::default()
        },
        "update_article" => Doc {
            request: Some("UpdateArticleRequest"),
            ok: ok("ArticleBody"),
            errors: &[403, 409],
            ..Doc::default()
        },
        "delete_article" => Doc {
            ok: (204, None),
            errors: &[403],
            ..Doc::default()
        },
        "add_comment" => Doc {
            request: Some("NewCommentRequest"),
            ok: created("CommentBody"),
            ..Doc::default()
        },
        "list_comments" => Doc {
            ok: ok("CommentsBody"),
            query: LIST,
            ..Doc::default()
        },
        "delete_comment" => Doc {
            ok: (204, None),
            errors: &[403],
            ..Doc::default()
        },
        "favorite_article" | "unfavorite_article" => Doc {
            ok: ok("ArticleBody"),
            ..Doc::default()
        },
        "list_tags" => Doc {
            ok: ok("TagsBody"),
            ..Doc::default()
        },
        "list_users" => Doc {
            ok: ok("AdminUsersBody"),
            query: LIST,
            ..Doc::default()
        },
        "set_user_role" => Doc {
            request: Some("RoleChange"),
            ok: ok("AdminUserBody"),
            ..Doc::default()
        },
        "suspend_user" | "reinstate_user" => Doc {
            ok: ok("AdminUserBody"),
            errors: &[422],
            ..Doc::default()
        },
        "list_audit" => Doc {
            ok: ok("AuditBody"),
            query: LIST,
            ..Doc::default()
        },
        "openapi" => Doc {
            ok: (200, None),
            content_type: Some("application/json"),
            ..Doc::default()
        },
        "api_docs" | "api_docs_asset" => Doc {
            ok: (200, None),
            content_type: Some("text/html"),
            ..Doc::default()
        },
        other => panic!("route {other} has no OpenAPI documentation in openapi.rs"),
    }
}

fn status_description(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No content",
        401 => "Missing, invalid, expired or revoked token; or wrong credentials",
        403 => "Not allowed for this user",
        404 => "Not found",
        409 => "Already taken, or changed concurrently",
        413 => "Request body too large",
        422 => "Invalid input",
        429 => "Too many failed attempts; see Retry-After",
        _ => "Response",
    }
}

fn json_response(status: u16, schema: Option<&str>) -> utoipa::openapi::Response {
    let response = ResponseBuilder::new().description(status_description(status));
    match schema {
        Some(schema) => response
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name(schema)))
                    .build(),
            )
            .build(),
        None => response.build(),
    }
}

/// Error statuses implied by a route's access rule, path and inputs.
fn error_statuses(route: &Route, doc: &Doc) -> Vec<u16> {
    let mut statuses: Vec<u16> = doc.errors.to_vec();
    if route.access != Access::Anonymous {
        statuses.push(401);
    }
    if matches!(route.access, Access::Role(_)) {
        statuses.push(403);
    }
    if route.path.contains('{') {
        statuses.push(404);
    }
    if doc.request.is_some() {
        statuses.extend([413, 422]);
    }
    if !doc.query.is_empty() {
        statuses.push(422);
    }
    statuses.sort_unstable();
    statuses.dedup();
    statuses
}

fn http_method(method: &Method) -> HttpMethod {
    match *method {
        Method::GET => HttpMethod::Get,
        Method::POST => HttpMethod::Post,
        Method::PUT => HttpMethod::Put,
        Method::DELETE => HttpMethod::Delete,
        _ => panic!("no OpenAPI method for {method}"),
    }
}

fn operation(route: &Route) -> utoipa::openapi::path::Operation {
    let doc = doc(route);
    let mut op = OperationBuilder::new()
        .operation_id(Some(route.name))
        .summary(Some(route.summary))
        .tag(route.path.split('/').nth(2).unwrap_or("api"));
    for segment in route.path.split('/') {
        if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            op = op.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .min_length(Some(1)),
                    )),
            );
        }
    }
    for (name, description) in doc.query {
        let schema = match *name {
            "limit" => ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .maximum(Some(100)),
            "offset" => ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0))
                .maximum(Some(if route.name == "feed_articles" {
                    MAX_FEED_OFFSET
                } else {
                    MAX_OFFSET
                })),
            _ => ObjectBuilder::new().schema_type(Type::String),
        };
        op = op.parameter(
            ParameterBuilder::new()
                .name(*name)
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some(*description))
                .schema(Some(schema)),
        );
    }
    if let Some(schema) = doc.request {
        op = op.request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name(schema)))
                        .build(),
                )
                .build(),
        ));
    }
    let (status, schema) = doc.ok;
    let ok = match doc.content_type {
        Some(content_type) => ResponseBuilder::new()
            .description(status_description(status))
            .content(content_type, ContentBuilder::new().build())
            .build(),
        None => json_response(status, schema),
    };
    op = op.response(status.to_string(), ok);
    for status in error_statuses(route, &doc) {
        op = op.response(
            status.to_string(),
            json_response(status, Some("GenericErrorModel")),
        );
    }
    match route.access {
        Access::Anonymous => {}
        Access::Optional => {
            op = op
                .security(SecurityRequirement::new("Token", Vec::<String>::new()))
                .security(SecurityRequirement::default());
        }
        Access::User | Access::Role(_) => {
            op = op.security(SecurityRequirement::new("Token", Vec::<String>::new()));
        }
    }
    op.build()
}

/// Every schema the operations refer to.
fn components() -> utoipa::openapi::Components {
    macro_rules! schemas {
        ($builder:expr, $($ty:ty),* $(,)?) => { $builder$(.schema_from::<$ty>())* };
    }
    let builder = schemas!(
        ComponentsBuilder::new(),
        NewUserRequest,
        NewUser,
        LoginUserRequest,
        LoginUser,
        UpdateUserRequest,
        UpdateUser,
        NewArticleRequest,
        NewArticle,
        UpdateArticleRequest,
        UpdateArticle,
        NewCommentRequest,
        NewComment,
        RoleChange,
        GenericErrorModel,
        UserBody,
        UserView,
        ProfileBody,
        ProfileView,
        ArticleBody,
        ArticleView,
        ArticlesBody,
        CommentBody,
        CommentView,
        CommentsBody,
        TagsBody,
        AdminUserBody,
        AdminUserView,
        AdminUsersBody,
        AuditBody,
        AuditEntryView,
        conduit_common::auth::Role,
        conduit_common::db::users::UserStatus,
    );
    builder
        .security_scheme(
            "Token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`Token <jwt>` (or `Bearer <jwt>`), the token from login or registration",
            ))),
        )
        .build()
}

/// The document for `routes`.
pub fn document(routes: &[&Route]) -> OpenApi {
    let mut paths = Paths::new();
    for route in routes {
        paths.add_path_operation(
            route.path,
            vec![http_method(&route.method)],
            operation(route),
        );
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Conduit API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "The RealWorld Conduit API, with roles, an audit trail and cursor paging. \
                     Errors are always `{\"errors\": {\"<field>\": [\"<message>\"]}}`.",
                ))
                .build(),
        )
        .paths(paths)
        .components(Some(components()))
        .build()
}
