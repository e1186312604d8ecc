//! Role-based access control: the rule each route declares.

use crate::domain::Role;

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
