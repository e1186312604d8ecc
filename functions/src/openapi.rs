//! The OpenAPI 3.1 document, generated from the route table: each route's
//! declaration (its `Api`) and the API types' `utoipa::ToSchema` derives,
//! so it cannot drift from the routes the API serves. `make generate`
//! writes it to `functions/openapi.json`, served at `GET /api/openapi.json`.

use conduit_common::api_types::GraphQlResponse;
use conduit_common::auth::Access;
use conduit_common::error::GenericErrorModel;
use conduit_common::http::{BodyType, MAX_LIMIT, Method, Query, ResponseBody, Route, TableAccess};

use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, Parameter, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    Components, ComponentsBuilder, Content, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder,
    Paths, Ref, Required, Response, ResponseBuilder,
};

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
        .components(Some(components(routes)))
        .build()
}

fn operation(route: &Route) -> Operation {
    let api = &route.api;
    let mut op = OperationBuilder::new()
        .operation_id(Some(route.name))
        .summary(Some(route.summary))
        .tag(route.path.split('/').nth(2).unwrap_or("api"));
    for segment in route.path.split('/') {
        if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            op = op.parameter(path_parameter(name));
        }
    }
    for query in api.query {
        op = op.parameter(query_parameter(query));
    }
    if let Some(body) = api.request {
        op = op.request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content("application/json", json_content(body))
                .build(),
        ));
    }
    let ok = ResponseBuilder::new().description(status_description(api.status));
    let ok = match api.response {
        ResponseBody::Json(body) => ok.content("application/json", json_content(body)),
        ResponseBody::Document(content_types) => {
            content_types.iter().fold(ok, |ok, content_type| {
                ok.content(*content_type, ContentBuilder::new().build())
            })
        }
        ResponseBody::Empty => ok,
    };
    op = op.response(api.status.to_string(), ok.build());
    for status in error_statuses(route) {
        op = op.response(status.to_string(), error_response(status, api.graphql));
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

/// The route's declared error statuses and those its access rule, path,
/// inputs and table access imply.
fn error_statuses(route: &Route) -> Vec<u16> {
    let api = &route.api;
    let mut statuses: Vec<u16> = api.errors.to_vec();
    if route.access != Access::Anonymous {
        statuses.push(401);
    }
    if matches!(route.access, Access::Role(_)) {
        statuses.push(403);
    }
    if route.path.contains('{') {
        statuses.push(404);
    }
    if api.request.is_some() {
        statuses.extend([413, 422]);
    }
    if !api.query.is_empty() {
        statuses.push(422);
    }
    if route.deploy.table != TableAccess::None {
        statuses.push(503);
    }
    statuses.sort_unstable();
    statuses.dedup();
    statuses
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
        503 => "The database is unavailable, slow or busy; retry after Retry-After seconds",
        _ => "Response",
    }
}

fn json_content(body: BodyType) -> Content {
    ContentBuilder::new()
        .schema(Some(Ref::from_schema_name((body.name)())))
        .build()
}

/// An error response: the API's error body, or a GraphQL response for a
/// GraphQL endpoint.
fn error_response(status: u16, graphql: bool) -> Response {
    let body = match graphql {
        true => BodyType::of::<GraphQlResponse>(),
        false => BodyType::of::<GenericErrorModel>(),
    };
    ResponseBuilder::new()
        .description(status_description(status))
        .content("application/json", json_content(body))
        .build()
}

fn path_parameter(name: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1)),
        ))
        .build()
}

fn query_parameter(query: &Query) -> Parameter {
    let (name, description, schema) = match *query {
        Query::Required { name, description } => {
            return ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Query)
                .required(Required::True)
                .description(Some(description))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .min_length(Some(1)),
                ))
                .build();
        }
        Query::Json { name, description } => {
            let object = ObjectBuilder::new().schema_type(Type::Object).build();
            return ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some(description))
                .content("application/json", Content::new(Some(object)))
                .build();
        }
        Query::Limit { default } => (
            "limit",
            "Page size",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .maximum(Some(MAX_LIMIT))
                .default(Some(default.into())),
        ),
        Query::Offset { max } => (
            "offset",
            "Items to skip; page deeper with the cursor",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0))
                .default(Some(0.into()))
                .maximum(Some(max)),
        ),
        Query::Cursor => (
            "cursor",
            "Opaque cursor from a previous page's `nextCursor`",
            ObjectBuilder::new().schema_type(Type::String),
        ),
        Query::Filter { name, description } => (
            name,
            description,
            ObjectBuilder::new().schema_type(Type::String),
        ),
    };
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(schema))
        .build()
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

/// Every schema the operations refer to: the routes' bodies, what those
/// refer to, and the error body.
fn components(routes: &[&Route]) -> Components {
    let mut schemas = Vec::new();
    let mut add = |body: BodyType| {
        schemas.push(((body.name)().into_owned(), (body.schema)()));
        (body.dependencies)(&mut schemas);
    };
    add(BodyType::of::<GenericErrorModel>());
    for route in routes {
        if let Some(body) = route.api.request {
            add(body);
        }
        if let ResponseBody::Json(body) = route.api.response {
            add(body);
        }
    }
    ComponentsBuilder::new()
        .schemas_from_iter(schemas)
        .security_scheme(
            "Token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`Token <jwt>` (or `Bearer <jwt>`), the token from login or registration",
            ))),
        )
        .build()
}
