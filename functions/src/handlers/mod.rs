pub mod admin;
pub mod articles;
pub mod comments;
pub mod docs;
pub mod favorites;
pub mod profiles;
pub mod tags;
pub mod users;
