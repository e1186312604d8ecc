//! Profiles: what anyone may see of a user, as distinct from the user item
//! with its email, hash, role and counters (see [`super::users`]).

use super::users::User;

/// What anyone may see of a user: all a profile or an author shows, and
/// all the read cache keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub id: String,
    pub username: String,
    pub bio: Option<String>,
    pub image: Option<String>,
}

impl From<&User> for Profile {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.clone(),
            username: user.username.clone(),
            bio: user.bio.clone(),
            image: user.image.clone(),
        }
    }
}
