//! The values every layer names: the API's bodies, the data layer's items
//! and authorization's rules all speak of a user's role and status, so
//! they are defined here, beneath them all. This module imports nothing
//! from the crate (the layering test in `lib.rs` keeps it so); whatever it
//! needs must live here too.
//!
//! Ids are plain strings (ULIDs, from [`time::new_id`](crate::time::new_id),
//! itself a leaf), so they need no type here.

use serde::{Deserialize, Serialize};

/// Ordered from least to most privileged: `role >= Role::Moderator` reads as
/// "at least a moderator".
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    Default,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
pub enum Role {
    #[default]
    User,
    Moderator,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Moderator => "moderator",
            Role::Admin => "admin",
        }
    }
}

// Undocumented: a doc comment would become the enum's description in the
// published schemas (openapi.json, schema.graphql).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
pub enum UserStatus {
    #[default]
    Active,
    Suspended,
}

impl UserStatus {
    /// As stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_by_privilege() {
        assert!(Role::Admin > Role::Moderator);
        assert!(Role::Moderator > Role::User);
        assert_eq!(
            serde_json::to_string(&Role::Moderator).unwrap(),
            "\"moderator\""
        );
    }

    #[test]
    fn as_str_is_the_serialized_form() {
        for role in [Role::User, Role::Moderator, Role::Admin] {
            assert_eq!(serde_json::to_value(role).unwrap(), role.as_str());
        }
        for status in [UserStatus::Active, UserStatus::Suspended] {
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
    }
}
