//! Input rules, shared by every request type (used through `validator`'s
//! `custom` attribute), and the mapping of their failures to field errors.

use std::borrow::Cow;

use email_address::{EmailAddress, Options};
use validator::{Validate, ValidationError, ValidationErrors};

use crate::error::{ApiError, FieldErrors};

pub const USERNAME_MAX: usize = 32;
pub const EMAIL_MAX: usize = 254;
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 128;
pub const BIO_MAX: usize = 1_000;
pub const URL_MAX: usize = 2_048;
pub const TITLE_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 1_000;
pub const ARTICLE_BODY_MAX: usize = 64 * 1024;
pub const COMMENT_BODY_MAX: usize = 10_000;
pub const TAGS_MAX: usize = 10;
pub const TAG_MAX: usize = 32;

/// Validates a request, turning every failure into a 422 field error.
pub fn validated<T: Validate>(value: T) -> Result<T, ApiError> {
    value
        .validate()
        .map_err(|errors| ApiError::Validation(field_errors(&errors)))?;
    Ok(value)
}

fn field_errors(errors: &ValidationErrors) -> FieldErrors {
    errors
        .field_errors()
        .into_iter()
        .map(|(field, errors)| {
            let messages = errors
                .iter()
                .map(|e| e.message.as_deref().unwrap_or(&e.code).to_owned())
                .collect();
            (field.to_string(), messages)
        })
        .collect()
}

fn fail(message: impl Into<Cow<'static, str>>) -> ValidationError {
    ValidationError::new("invalid").with_message(message.into())
}

fn too_long(max: usize) -> ValidationError {
    fail(format!("is too long (maximum is {max} characters)"))
}

/// Required text: not blank, not over `max` characters.
fn text(value: &str, max: usize) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        return Err(fail("can't be blank"));
    }
    if value.chars().count() > max {
        return Err(too_long(max));
    }
    Ok(())
}

pub fn username(value: &str) -> Result<(), ValidationError> {
    text(value, USERNAME_MAX)?;
    // Usernames appear in URLs and on screen: letters, digits, `_`, `-`, `.`
    // only, which also keeps out control characters and look-alike spaces.
    if !value
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(fail("may contain only letters, digits, '_', '-' and '.'"));
    }
    Ok(())
}

const EMAIL_RULES: Options = Options {
    minimum_sub_domains: 1,
    allow_domain_literal: false,
    allow_display_text: false,
    allow_long_local_parts: false,
};

/// An address as RFC 5322 writes one: a dot-atom or quoted local part of at
/// most 64 bytes, `@`, a domain of labels of at most 63. Not a display name
/// (`Jake <jake@example.com>`) or an address literal (`jake@[192.0.2.1]`),
/// which nobody signs up with.
pub fn email(value: &str) -> Result<(), ValidationError> {
    text(value, EMAIL_MAX)?;
    if EmailAddress::parse_with_options(value.trim(), EMAIL_RULES).is_err() {
        return Err(fail("is invalid"));
    }
    Ok(())
}

pub fn password(value: &str) -> Result<(), ValidationError> {
    if value.is_empty() {
        return Err(fail("can't be blank"));
    }
    let length = value.chars().count();
    if length < PASSWORD_MIN {
        return Err(fail(format!(
            "is too short (minimum is {PASSWORD_MIN} characters)"
        )));
    }
    if length > PASSWORD_MAX {
        return Err(too_long(PASSWORD_MAX));
    }
    Ok(())
}

/// Login checks only presence: length rules apply when a password is set.
pub fn password_present(value: &str) -> Result<(), ValidationError> {
    if value.is_empty() {
        return Err(fail("can't be blank"));
    }
    if value.chars().count() > PASSWORD_MAX {
        return Err(too_long(PASSWORD_MAX));
    }
    Ok(())
}

pub fn bio(value: &str) -> Result<(), ValidationError> {
    if value.chars().count() > BIO_MAX {
        return Err(too_long(BIO_MAX));
    }
    Ok(())
}

/// An image URL; an empty string is allowed (it clears the image).
pub fn image(value: &str) -> Result<(), ValidationError> {
    if value.is_empty() {
        return Ok(());
    }
    if value.len() > URL_MAX {
        return Err(too_long(URL_MAX));
    }
    let is_web_url = (value.starts_with("https://") || value.starts_with("http://"))
        && !value.chars().any(|c| c.is_whitespace() || c.is_control());
    if !is_web_url {
        return Err(fail("must be an http(s) URL"));
    }
    Ok(())
}

pub fn title(value: &str) -> Result<(), ValidationError> {
    text(value, TITLE_MAX)
}

pub fn description(value: &str) -> Result<(), ValidationError> {
    text(value, DESCRIPTION_MAX)
}

pub fn article_body(value: &str) -> Result<(), ValidationError> {
    text(value, ARTICLE_BODY_MAX)
}

pub fn comment_body(value: &str) -> Result<(), ValidationError> {
    text(value, COMMENT_BODY_MAX)
}

pub fn tag_list(tags: &[String]) -> Result<(), ValidationError> {
    if tags.len() > TAGS_MAX {
        return Err(fail(format!("may have at most {TAGS_MAX} tags")));
    }
    for tag in tags {
        if tag.trim().is_empty() {
            return Err(fail("tags can't be blank"));
        }
        if tag.chars().count() > TAG_MAX {
            return Err(fail(format!("tags are at most {TAG_MAX} characters")));
        }
        if tag.chars().any(char::is_control) {
            return Err(fail("tags can't contain control characters"));
        }
    }
    Ok(())
}

/// Tags as stored: trimmed, each once, in the order given.
pub fn normalize_tags(tags: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    tags.into_iter()
        .map(|tag| tag.trim().to_owned())
        .filter(|tag| seen.insert(tag.clone()))
        .collect()
}

/// Emails as stored and compared: trimmed and lowercased.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(result: Result<(), ValidationError>) -> String {
        result.unwrap_err().message.unwrap().into_owned()
    }

    #[test]
    fn blank_fields_use_the_spec_wording() {
        assert_eq!(message(username("")), "can't be blank");
        assert_eq!(message(email("  ")), "can't be blank");
        assert_eq!(message(password("")), "can't be blank");
        assert_eq!(message(title(" ")), "can't be blank");
    }

    #[test]
    fn usernames_reject_control_characters_and_spaces() {
        assert!(username("jake_the-dog.2").is_ok());
        assert!(username("jöran").is_ok());
        assert!(username("bad\u{0007}name").is_err());
        assert!(username("two words").is_err());
        assert!(username("a/b").is_err());
        assert!(username(&"x".repeat(USERNAME_MAX + 1)).is_err());
    }

    #[test]
    fn emails_and_passwords() {
        for good in [
            "jake@jake.jake",
            "o'brien+tag@mail.example.co.uk",
            "jöran@bücher.de",
            "\"jake the dog\"@example.com",
            &format!(
                "{}.{}@{}.com",
                "a".repeat(31),
                "b".repeat(32),
                "c".repeat(63)
            ),
        ] {
            assert!(email(good).is_ok(), "{good}");
        }
        for bad in [
            "not-an-email",
            ".jake@example.com",
            "ja..ke@example.com",
            "jake@-example.com",
            "jake@example..com",
            "Jake <jake@example.com>",
            "jake@[192.0.2.1]",
            &format!("{}@example.com", "a".repeat(65)),
            &format!("jake@{}.com", "c".repeat(64)),
        ] {
            assert_eq!(message(email(bad)), "is invalid", "{bad}");
        }
        assert!(password("12345678").is_ok());
        assert!(message(password("1234567")).starts_with("is too short"));
        assert!(password(&"p".repeat(PASSWORD_MAX + 1)).is_err());
    }

    #[test]
    fn tags_are_limited_and_normalized() {
        assert!(tag_list(&vec!["t".to_owned(); TAGS_MAX + 1]).is_err());
        assert!(tag_list(&["ok".to_owned(), "bad\nline".to_owned()]).is_err());
        assert_eq!(
            normalize_tags(vec![" a".into(), "b".into(), "a".into()]),
            ["a", "b"]
        );
        assert_eq!(normalize_email(" Jake@Example.COM "), "jake@example.com");
    }

    #[test]
    fn images_must_be_web_urls() {
        assert!(image("https://example.com/a.png").is_ok());
        assert!(image("").is_ok());
        assert!(image("javascript:alert(1)").is_err());
    }
}
