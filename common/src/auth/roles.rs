//! Role-based access control.

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

/// Who may call a route. Every route in the route table declares one, and the
/// request pipeline enforces it before the handler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No caller identity is needed or looked at (register, login, tags).
    Anonymous,
    /// Anonymous callers are served; a valid token personalises the answer.
    Optional,
    /// Any signed-in, non-suspended user.
    User,
    /// A signed-in user with at least this role.
    Role(Role),
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
}
