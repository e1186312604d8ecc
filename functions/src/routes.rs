//! The route table: the one place that says which endpoints exist, who may
//! call them, which handler serves them, what they take and answer, and how
//! their functions are deployed. The local server and the tests route with
//! it; the SAM template, the OpenAPI document, the router of `cargo lambda
//! watch` and the Lambda binaries' shims are generated from it (`make
//! generate`), and tests fail when a generated file is stale.

use conduit_common::api_types::*;
use conduit_common::auth::Access::{Anonymous, Optional, Role, User};
use conduit_common::db::comments::MAX_COMMENTS_PAGE;
use conduit_common::domain::Role::Admin;
use conduit_common::http::{Api, DEFAULT_LIMIT, Deploy, MAX_OFFSET, Query, paging};
use conduit_common::routes;

use crate::graphql;
use crate::handlers::{
    admin, articles, comments, docs, export, favorites, profiles, sessions, tags, users,
};

/// Paging of most lists.
const LIST: &[Query] = &paging(DEFAULT_LIMIT, MAX_OFFSET);
const COMMENTS: &[Query] = &paging(MAX_COMMENTS_PAGE, MAX_OFFSET);
const ARTICLE_LIST: &[Query] = &{
    let [limit, offset, cursor] = paging(DEFAULT_LIMIT, MAX_OFFSET);
    [
        Query::Filter {
            name: "tag",
            description: "Only articles with this tag",
        },
        Query::Filter {
            name: "author",
            description: "Only articles by this username",
        },
        Query::Filter {
            name: "favorited",
            description: "Only articles favorited by this username",
        },
        limit,
        offset,
        cursor,
    ]
};

/// Where an export page starts.
const EXPORT: &[Query] = &[Query::Cursor];

/// A GraphQL request in the query string.
const GRAPHQL_GET: &[Query] = &[
    Query::Required {
        name: "query",
        description: "The query (a mutation is refused: use POST)",
    },
    Query::Filter {
        name: "operationName",
        description: "Which operation of the query to run",
    },
    Query::Json {
        name: "variables",
        description: "The query's variables",
    },
];

routes! {
    REGISTER = "register", POST "/api/users", Anonymous, users::register, "Register a new user",
        Api::created::<UserBody>().request::<NewUserRequest>().errors(&[409]),
        Deploy::HASHES_PASSWORDS;
    LOGIN = "login", POST "/api/users/login", Anonymous, users::login, "Log in",
        Api::ok::<UserBody>().request::<LoginUserRequest>().errors(&[401, 429]),
        Deploy::HASHES_PASSWORDS;
    GET_CURRENT_USER = "get_current_user", GET "/api/user", User, users::get_current_user,
        "Get the current user",
        Api::ok::<UserBody>(), Deploy::READS;
    UPDATE_USER = "update_user", PUT "/api/user", User, users::update_user,
        "Update the current user",
        Api::ok::<UserBody>().request::<UpdateUserRequest>().errors(&[409]),
        Deploy::HASHES_PASSWORDS;
    DELETE_CURRENT_USER = "delete_current_user", DELETE "/api/user", User,
        users::delete_current_user,
        "Delete the current user's account (with its password); what it had goes after",
        Api::no_content().request::<DeleteUserRequest>().errors(&[403, 429]),
        Deploy::HASHES_PASSWORDS;
    EXPORT_CURRENT_USER = "export_current_user", GET "/api/user/export", User,
        export::export_current_user,
        "Everything the current user's account holds, a part and a page at a time",
        Api::ok::<ExportBody>().query(EXPORT), Deploy::READS;
    LIST_SESSIONS = "list_sessions", GET "/api/user/sessions", User, sessions::list_sessions,
        "List the current user's sessions",
        Api::ok::<SessionsBody>(), Deploy::READS;
    END_SESSION = "end_session", DELETE "/api/user/sessions/{id}", User, sessions::end_session,
        "End one of the current user's sessions",
        Api::no_content(), Deploy::WRITES;
    LOGOUT = "logout", POST "/api/user/logout", User, sessions::logout,
        "Log out: end the current session",
        Api::no_content(), Deploy::WRITES;
    GET_PROFILE = "get_profile", GET "/api/profiles/{username}", Optional, profiles::get_profile,
        "Get a profile",
        Api::ok::<ProfileBody>(), Deploy::READS;
    FOLLOW_USER = "follow_user", POST "/api/profiles/{username}/follow", User,
        profiles::follow_user, "Follow a user",
        Api::ok::<ProfileBody>().errors(&[403, 422]), Deploy::WRITES;
    UNFOLLOW_USER = "unfollow_user", DELETE "/api/profiles/{username}/follow", User,
        profiles::unfollow_user, "Unfollow a user",
        Api::ok::<ProfileBody>(), Deploy::WRITES;
    LIST_ARTICLES = "list_articles", GET "/api/articles", Optional, articles::list_articles,
        "List articles, newest first",
        Api::ok::<ArticlesBody>().query(ARTICLE_LIST), Deploy::READS;
    FEED_ARTICLES = "feed_articles", GET "/api/articles/feed", User, articles::feed_articles,
        "Articles by followed users",
        Api::ok::<ArticlesBody>().query(LIST), Deploy::READS;
    GET_ARTICLE = "get_article", GET "/api/articles/{slug}", Optional, articles::get_article,
        "Get an article",
        Api::ok::<ArticleBody>(), Deploy::READS;
    CREATE_ARTICLE = "create_article", POST "/api/articles", User, articles::create_article,
        "Create an article",
        Api::created::<ArticleBody>().request::<NewArticleRequest>(), Deploy::WRITES;
    UPDATE_ARTICLE = "update_article", PUT "/api/articles/{slug}", User, articles::update_article,
        "Update an article",
        Api::ok::<ArticleBody>().request::<UpdateArticleRequest>().errors(&[403, 409]),
        Deploy::WRITES;
    DELETE_ARTICLE = "delete_article", DELETE "/api/articles/{slug}", User,
        articles::delete_article, "Delete an article",
        Api::no_content().errors(&[403]), Deploy::WRITES;
    ADD_COMMENT = "add_comment", POST "/api/articles/{slug}/comments", User,
        comments::add_comment, "Comment on an article",
        Api::created::<CommentBody>().request::<NewCommentRequest>(), Deploy::WRITES;
    LIST_COMMENTS = "list_comments", GET "/api/articles/{slug}/comments", Optional,
        comments::list_comments, "List an article's comments",
        Api::ok::<CommentsBody>().query(COMMENTS), Deploy::READS;
    DELETE_COMMENT = "delete_comment", DELETE "/api/articles/{slug}/comments/{id}", User,
        comments::delete_comment, "Delete a comment",
        Api::no_content().errors(&[403]), Deploy::WRITES;
    FAVORITE_ARTICLE = "favorite_article", POST "/api/articles/{slug}/favorite", User,
        favorites::favorite_article, "Favorite an article",
        Api::ok::<ArticleBody>(), Deploy::WRITES;
    UNFAVORITE_ARTICLE = "unfavorite_article", DELETE "/api/articles/{slug}/favorite", User,
        favorites::unfavorite_article, "Unfavorite an article",
        Api::ok::<ArticleBody>(), Deploy::WRITES;
    LIST_TAGS = "list_tags", GET "/api/tags", Anonymous, tags::list_tags,
        "List every tag in use",
        Api::ok::<TagsBody>(), Deploy::READS;
    LIST_USERS = "list_users", GET "/api/admin/users", Role(Admin), admin::list_users,
        "List users (admin)",
        Api::ok::<AdminUsersBody>().query(LIST), Deploy::READS;
    SET_USER_ROLE = "set_user_role", PUT "/api/admin/users/{username}/role", Role(Admin),
        admin::set_user_role, "Change a user's role (admin)",
        Api::ok::<AdminUserBody>().request::<RoleChange>(), Deploy::WRITES;
    SUSPEND_USER = "suspend_user", POST "/api/admin/users/{username}/suspend", Role(Admin),
        admin::suspend_user, "Suspend a user (admin)",
        Api::ok::<AdminUserBody>().errors(&[422]), Deploy::WRITES;
    REINSTATE_USER = "reinstate_user", POST "/api/admin/users/{username}/reinstate", Role(Admin),
        admin::reinstate_user, "Reinstate a user (admin)",
        Api::ok::<AdminUserBody>().errors(&[422]), Deploy::WRITES;
    DELETE_USER = "delete_user", DELETE "/api/admin/users/{username}", Role(Admin),
        admin::delete_user, "Delete a user's account (admin); what it had goes after",
        Api::no_content().errors(&[403]), Deploy::WRITES;
    END_USER_SESSIONS = "end_user_sessions", DELETE "/api/admin/users/{username}/sessions",
        Role(Admin), admin::end_user_sessions, "End every session of a user (admin)",
        Api::no_content(), Deploy::WRITES;
    LIST_AUDIT = "list_audit", GET "/api/admin/audit", Role(Admin), admin::list_audit,
        "The audit trail (admin)",
        Api::ok::<AuditBody>().query(LIST), Deploy::READS;
    GRAPHQL = "graphql", POST "/api/graphql", Optional, graphql::execute,
        "GraphQL: queries and mutations (the schema: functions/schema.graphql)",
        Api::ok::<GraphQlResponse>().request::<GraphQlRequest>().graphql(),
        Deploy::HASHES_PASSWORDS;
    GRAPHQL_QUERY = "graphql_query" in "graphql", GET "/api/graphql", Optional, graphql::execute,
        "GraphQL queries over GET; in a browser, with no query, the GraphiQL explorer",
        Api::ok::<GraphQlResponse>().query(GRAPHQL_GET).graphql(), Deploy::HASHES_PASSWORDS;
    GRAPHIQL_ASSET = "graphiql_asset", GET "/api/graphql/{file}", Anonymous,
        graphql::explorer::asset, "GraphiQL's files (its page is GET /api/graphql in a browser)",
        Api::document(&["text/javascript", "text/css"]), Deploy::SERVES_DOCS;
    OPENAPI = "openapi", GET "/api/openapi.json", Anonymous, docs::openapi,
        "This API's OpenAPI 3.1 document",
        Api::document(&["application/json"]), Deploy::SERVES_DOCS;
    API_DOCS = "api_docs", GET "/api/docs", Anonymous, docs::api_docs, "Swagger UI",
        Api::document(&["text/html"]), Deploy::SERVES_DOCS;
    API_DOCS_ASSET = "api_docs_asset", GET "/api/docs/{file}", Anonymous, docs::api_docs_asset,
        "Swagger UI's assets",
        Api::document(&["text/html", "text/javascript", "text/css", "image/png"]),
        Deploy::SERVES_DOCS;
}
