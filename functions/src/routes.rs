//! The route table: the one place that says which endpoints exist, who may
//! call them and which handler serves them. The Lambda binaries, the local
//! server and the router of `cargo lambda watch` derive from it, and tests
//! check the SAM template and the README against it.

use conduit_common::auth::Access::{Anonymous, Optional, Role, User};
use conduit_common::auth::Role::Admin;
use conduit_common::http::Route;
use conduit_common::route;

use crate::handlers::{admin, articles, comments, docs, favorites, profiles, tags, users};

route!(REGISTER = "register", POST "/api/users", Anonymous, users::register, "Register a new user");
route!(LOGIN = "login", POST "/api/users/login", Anonymous, users::login, "Log in");
route!(GET_CURRENT_USER = "get_current_user", GET "/api/user", User, users::current_user, "Get the current user");
route!(UPDATE_USER = "update_user", PUT "/api/user", User, users::update_user, "Update the current user");
route!(GET_PROFILE = "get_profile", GET "/api/profiles/{username}", Optional, profiles::get_profile, "Get a profile");
route!(FOLLOW_USER = "follow_user", POST "/api/profiles/{username}/follow", User, profiles::follow, "Follow a user");
route!(UNFOLLOW_USER = "unfollow_user", DELETE "/api/profiles/{username}/follow", User, profiles::unfollow, "Unfollow a user");
route!(LIST_ARTICLES = "list_articles", GET "/api/articles", Optional, articles::list_articles, "List articles, newest first");
route!(FEED_ARTICLES = "feed_articles", GET "/api/articles/feed", User, articles::feed, "Articles by followed users");
route!(GET_ARTICLE = "get_article", GET "/api/articles/{slug}", Optional, articles::get_article, "Get an article");
route!(CREATE_ARTICLE = "create_article", POST "/api/articles", User, articles::create_article, "Create an article");
route!(UPDATE_ARTICLE = "update_article", PUT "/api/articles/{slug}", User, articles::update_article, "Update an article");
route!(DELETE_ARTICLE = "delete_article", DELETE "/api/articles/{slug}", User, articles::delete_article, "Delete an article");
route!(ADD_COMMENT = "add_comment", POST "/api/articles/{slug}/comments", User, comments::add_comment, "Comment on an article");
route!(LIST_COMMENTS = "list_comments", GET "/api/articles/{slug}/comments", Optional, comments::list_comments, "List an article's comments");
route!(DELETE_COMMENT = "delete_comment", DELETE "/api/articles/{slug}/comments/{id}", User, comments::delete_comment, "Delete a comment");
route!(FAVORITE_ARTICLE = "favorite_article", POST "/api/articles/{slug}/favorite", User, favorites::favorite, "Favorite an article");
route!(UNFAVORITE_ARTICLE = "unfavorite_article", DELETE "/api/articles/{slug}/favorite", User, favorites::unfavorite, "Unfavorite an article");
route!(LIST_TAGS = "list_tags", GET "/api/tags", Anonymous, tags::list_tags, "List every tag in use");
route!(LIST_USERS = "list_users", GET "/api/admin/users", Role(Admin), admin::list_users, "List users (admin)");
route!(SET_USER_ROLE = "set_user_role", PUT "/api/admin/users/{username}/role", Role(Admin), admin::set_role, "Change a user's role (admin)");
route!(SUSPEND_USER = "suspend_user", POST "/api/admin/users/{username}/suspend", Role(Admin), admin::suspend_user, "Suspend a user (admin)");
route!(REINSTATE_USER = "reinstate_user", POST "/api/admin/users/{username}/reinstate", Role(Admin), admin::reinstate_user, "Reinstate a user (admin)");
route!(LIST_AUDIT = "list_audit", GET "/api/admin/audit", Role(Admin), admin::list_audit, "The audit trail (admin)");
route!(OPENAPI = "openapi", GET "/api/openapi.json", Anonymous, docs::openapi, "This API's OpenAPI 3.1 document");
route!(API_DOCS = "api_docs", GET "/api/docs", Anonymous, docs::swagger_index, "Swagger UI");
route!(API_DOCS_ASSET = "api_docs_asset", GET "/api/docs/{file}", Anonymous, docs::swagger_ui, "Swagger UI's assets");

pub static ROUTES: &[&Route] = &[
    &REGISTER,
    &LOGIN,
    &GET_CURRENT_USER,
    &UPDATE_USER,
    &GET_PROFILE,
    &FOLLOW_USER,
    &UNFOLLOW_USER,
    &LIST_ARTICLES,
    &FEED_ARTICLES,
    &GET_ARTICLE,
    &CREATE_ARTICLE,
    &UPDATE_ARTICLE,
    &DELETE_ARTICLE,
    &ADD_COMMENT,
    &LIST_COMMENTS,
    &DELETE_COMMENT,
    &FAVORITE_ARTICLE,
    &UNFAVORITE_ARTICLE,
    &LIST_TAGS,
    &LIST_USERS,
    &SET_USER_ROLE,
    &SUSPEND_USER,
    &REINSTATE_USER,
    &LIST_AUDIT,
    &OPENAPI,
    &API_DOCS,
    &API_DOCS_ASSET,
];
