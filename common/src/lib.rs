//! The shared library of the Conduit back end: configuration, errors,
//! authentication, validation, the DynamoDB data layer, API types, the
//! request pipeline that every Lambda function and the local server use, and
//! the stream consumers' machinery ([`events`]).

pub mod api_types;
pub mod auth;
pub mod config;
pub mod db;
pub mod decorate;
pub mod error;
pub mod events;
pub mod http;
pub mod https;
pub mod lambda;
pub mod meter;
pub mod state;
pub mod telemetry;
pub mod time;
pub mod validate;
pub mod views;

pub use error::ApiError;
pub use lambda_http;
pub use lambda_runtime;
