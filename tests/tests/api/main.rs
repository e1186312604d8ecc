//! The handler, integration and route-table tests: one test binary, one
//! module per area, so `cargo test` links once instead of once per area.
//! The shared support (`spawn_app()` and friends) is the `conduit_tests`
//! library in `tests/src/`.

mod accounts;
mod admin;
mod articles;
mod caching;
mod concurrency;
mod edge;
mod graphql;
mod keys;
mod login_limits;
mod metrics;
mod migrations;
mod outages;
mod own_changes;
mod rbac;
mod repair;
mod round_trips;
mod routes;
mod sessions;
mod shared_cache;
mod social;
mod startup;
mod streams;
mod table;
mod users;
