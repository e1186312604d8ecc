//! What describes one endpoint, all in one place: how it is called, who may
//! call it, what serves it, what it takes and answers (for the OpenAPI
//! document) and how its Lambda function is deployed (for the SAM
//! template). `functions/src/routes.rs` declares every route with
//! [`routes!`](crate::routes); everything else is generated from that list
//! (`make generate`) or checked against it by tests.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use lambda_http::http::Method;
use utoipa::openapi::{RefOr, schema::Schema};

use super::{ApiResult, Ctx};
use crate::auth::Access;

pub type Handler = fn(Ctx) -> Pin<Box<dyn Future<Output = ApiResult> + Send>>;

/// One endpoint: the single source of truth from which the Lambda binaries,
/// the local server, the SAM template, the OpenAPI document and the router
/// of `cargo lambda watch` all derive.
pub struct Route {
    /// The route's name: its OpenAPI `operationId`, its metrics' dimension.
    pub name: &'static str,
    /// The Lambda function (and binary) that serves it: its name, unless
    /// the route shares another's function (`name in "function"`).
    pub function: &'static str,
    pub method: Method,
    /// API Gateway path syntax: `/api/articles/{slug}`.
    pub path: &'static str,
    pub access: Access,
    pub handler: Handler,
    pub summary: &'static str,
    /// What it takes and answers.
    pub api: Api,
    /// How its function is deployed.
    pub deploy: Deploy,
}

/// The routes of each Lambda function, functions in route-table order.
pub fn by_function<'a>(routes: &[&'a Route]) -> Vec<(&'a str, Vec<&'a Route>)> {
    let mut functions: Vec<(&str, Vec<&Route>)> = vec![];
    for route in routes {
        match functions
            .iter_mut()
            .find(|(name, _)| *name == route.function)
        {
            Some((_, served)) => served.push(route),
            None => functions.push((route.function, vec![route])),
        }
    }
    functions
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} ({})", self.method, self.path, self.name)
    }
}

/// A JSON body's type, by its OpenAPI schema (its `utoipa::ToSchema`).
#[derive(Clone, Copy)]
pub struct BodyType {
    pub name: fn() -> Cow<'static, str>,
    pub schema: fn() -> RefOr<Schema>,
    /// Adds the schemas it refers to.
    pub dependencies: fn(&mut Vec<(String, RefOr<Schema>)>),
}

impl BodyType {
    pub const fn of<T: utoipa::ToSchema>() -> Self {
        Self {
            name: T::name,
            schema: T::schema,
            dependencies: T::schemas,
        }
    }
}

/// A query-string parameter, as the handler reads and checks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Query {
    /// Page size, 1 to `MAX_LIMIT`.
    Limit { default: usize },
    /// Items to skip.
    Offset { max: usize },
    /// The opaque cursor of a previous page.
    Cursor,
    /// A filter by a string.
    Filter {
        name: &'static str,
        description: &'static str,
    },
    /// A string the request cannot do without.
    Required {
        name: &'static str,
        description: &'static str,
    },
    /// A JSON object, encoded into the query string.
    Json {
        name: &'static str,
        description: &'static str,
    },
}

/// The paging parameters of a list: `limit` (with its default page size),
/// `offset` (up to `max_offset`) and `cursor`.
pub const fn paging(default_limit: usize, max_offset: usize) -> [Query; 3] {
    [
        Query::Limit {
            default: default_limit,
        },
        Query::Offset { max: max_offset },
        Query::Cursor,
    ]
}

/// What an endpoint takes and answers, beyond what its access rule, path
/// and method already imply (401, 403, 404, 413, 422, 503 are derived).
#[derive(Clone, Copy)]
pub struct Api {
    /// The JSON request body, if it takes one.
    pub request: Option<BodyType>,
    /// The success status.
    pub status: u16,
    /// The success body: JSON of a type, another content type, or none.
    pub response: ResponseBody,
    pub query: &'static [Query],
    /// Error statuses it answers beyond the derived ones.
    pub errors: &'static [u16],
    /// Whether its errors take GraphQL's shape instead of the REST one;
    /// and its POST, whose handler waits for the caller before a mutation,
    /// reads alongside the caller's read as a GET does.
    pub graphql: bool,
}

#[derive(Clone, Copy)]
pub enum ResponseBody {
    Json(BodyType),
    /// A document served as it is (the docs pages and their files), of one
    /// of these content types.
    Document(&'static [&'static str]),
    Empty,
}

impl Api {
    /// `200` with a JSON body of type `T`.
    pub const fn ok<T: utoipa::ToSchema>() -> Self {
        Self::answers(200, ResponseBody::Json(BodyType::of::<T>()))
    }

    /// `201` with the created resource, of type `T`.
    pub const fn created<T: utoipa::ToSchema>() -> Self {
        Self::answers(201, ResponseBody::Json(BodyType::of::<T>()))
    }

    /// `204`, no body.
    pub const fn no_content() -> Self {
        Self::answers(204, ResponseBody::Empty)
    }

    /// `200` with a document of one of `content_types`.
    pub const fn document(content_types: &'static [&'static str]) -> Self {
        Self::answers(200, ResponseBody::Document(content_types))
    }

    const fn answers(status: u16, response: ResponseBody) -> Self {
        Self {
            request: None,
            status,
            response,
            query: &[],
            errors: &[],
            graphql: false,
        }
    }

    /// Takes a JSON body of type `T`.
    pub const fn request<T: utoipa::ToSchema>(mut self) -> Self {
        self.request = Some(BodyType::of::<T>());
        self
    }

    pub const fn query(mut self, query: &'static [Query]) -> Self {
        self.query = query;
        self
    }

    pub const fn errors(mut self, errors: &'static [u16]) -> Self {
        self.errors = errors;
        self
    }

    /// A GraphQL endpoint: errors, its own and the pipeline's (a bad
    /// token, a body too large), come in GraphQL's response shape.
    pub const fn graphql(mut self) -> Self {
        self.graphql = true;
        self
    }
}

/// How much of the table a function may touch (its IAM policies).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableAccess {
    None,
    Read,
    ReadWrite,
}

/// A route's Lambda function, as the SAM template deploys it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deploy {
    pub table: TableAccess,
    /// Memory in MB when not the template's default (256), and why.
    pub memory: Option<(u32, &'static str)>,
}

impl Deploy {
    /// Reads the table.
    pub const READS: Deploy = Deploy {
        table: TableAccess::Read,
        memory: None,
    };
    /// Reads and writes the table.
    pub const WRITES: Deploy = Deploy {
        table: TableAccess::ReadWrite,
        memory: None,
    };
    /// Hashes passwords with argon2id: CPU-bound, and Lambda's CPU share
    /// grows with memory (see the Globals comment in the template).
    pub const HASHES_PASSWORDS: Deploy = Deploy {
        table: TableAccess::ReadWrite,
        memory: Some((1024, "argon2id password hashing: see Globals")),
    };
    /// Serves documents compiled into the binary: no table, little memory.
    pub const SERVES_DOCS: Deploy = Deploy {
        table: TableAccess::None,
        memory: Some((128, "serves compiled-in documents: see Globals")),
    };
}

/// Declares the route table: a `static` per route, boxing each handler's
/// future so that every route has the same type, and `ROUTES`, the list of
/// them all. One entry per route:
///
/// ```text
/// STATIC = "name", METHOD "/path", access, handler::path, "Summary", Api::..., Deploy::...;
/// ```
///
/// A route served by another route's function names it: `"name" in "function"`.
#[macro_export]
macro_rules! routes {
    ($(
        $static:ident = $name:literal $(in $function:literal)?, $method:ident $path:literal,
        $access:expr, $handler:path, $summary:literal, $api:expr, $deploy:expr;
    )+) => {
        $(
            pub static $static: $crate::http::Route = $crate::http::Route {
                name: $name,
                function: {
                    #[allow(unused_variables)]
                    let function = $name;
                    $(let function = $function;)?
                    function
                },
                method: $crate::http::Method::$method,
                path: $path,
                access: $access,
                handler: |ctx| Box::pin($handler(ctx)),
                summary: $summary,
                api: $api,
                deploy: $deploy,
            };
        )+

        /// Every route, in the order the OpenAPI document lists them.
        pub static ROUTES: &[&$crate::http::Route] = &[$(&$static),+];
    };
}
