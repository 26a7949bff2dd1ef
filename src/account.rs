//! Account names and passwords: what the product accepts, checked the same way in the
//! browser and on the server.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::InvalidInput;

/// A user's sign-in name: 3 to 64 characters of lowercase letters, digits and `. _ - @`.
/// Input is trimmed and lowercased, so `Alice` and `alice` are one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    pub const MAX_LEN: usize = 64;

    pub fn parse(raw: &str) -> Result<Username, InvalidInput> {
        let name = raw.trim().to_lowercase();
        let len = name.chars().count();
        if len < 3 {
            return Err(InvalidInput::new(
                "username",
                "must be at least 3 characters",
            ));
        }
        if len > Self::MAX_LEN {
            return Err(InvalidInput::new(
                "username",
                format!("must be at most {} characters", Self::MAX_LEN),
            ));
        }
        if let Some(bad) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')))
        {
            return Err(InvalidInput::new(
                "username",
                format!("'{bad}' is not allowed; use letters, digits, '.', '_', '-' or '@'"),
            ));
        }
        Ok(Username(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Username {
    type Error = InvalidInput;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Username::parse(&value)
    }
}

impl From<Username> for String {
    fn from(value: Username) -> Self {
        value.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new password that meets the policy: 12 to 1024 characters, not only spaces.
/// Its `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MIN_LEN: usize = 12;
    pub const MAX_LEN: usize = 1024;

    pub fn parse(raw: &str) -> Result<Password, InvalidInput> {
        let len = raw.chars().count();
        if len < Self::MIN_LEN {
            return Err(InvalidInput::new(
                "password",
                format!("must be at least {} characters", Self::MIN_LEN),
            ));
        }
        if len > Self::MAX_LEN {
            return Err(InvalidInput::new(
                "password",
                format!("must be at most {} characters", Self::MAX_LEN),
            ));
        }
        if raw.trim().is_empty() {
            return Err(InvalidInput::new("password", "must not be only spaces"));
        }
        Ok(Password(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A label for an API token: 1 to 80 printable characters, trimmed.
pub fn parse_token_name(raw: &str) -> Result<String, InvalidInput> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(InvalidInput::new("name", "must not be empty"));
    }
    if name.chars().count() > 80 {
        return Err(InvalidInput::new("name", "must be at most 80 characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(InvalidInput::new(
            "name",
            "must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn usernames_are_trimmed_and_lowercased() {
        assert_eq!(
            Username::parse("  Alice.Ops ").unwrap().as_str(),
            "alice.ops"
        );
    }

    #[test]
    fn a_username_with_a_space_inside_is_refused_naming_the_character() {
        let err = Username::parse("alice ops").unwrap_err();
        assert_eq!(err.field, "username");
        assert!(err.message.contains("' '"), "{}", err.message);
    }

    #[test]
    fn a_short_password_is_refused_with_the_minimum() {
        let err = Password::parse("short").unwrap_err();
        assert_eq!(err.field, "password");
        assert!(err.message.contains("12"));
    }

    #[test]
    fn password_debug_hides_the_secret() {
        let p = Password::parse("correct horse battery").unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }

    #[test]
    fn token_names_must_have_text() {
        assert_eq!(parse_token_name("  ").unwrap_err().field, "name");
        assert_eq!(parse_token_name(" ci deploy ").unwrap(), "ci deploy");
    }

    proptest! {
        #[test]
        fn every_accepted_username_parses_to_itself(raw in "[A-Za-z0-9._@-]{3,64}") {
            let name = Username::parse(&raw).unwrap();
            prop_assert_eq!(Username::parse(name.as_str()).unwrap(), name);
        }

        #[test]
        fn parsing_a_username_never_panics(raw in ".*") {
            let _ = Username::parse(&raw);
        }
    }
}
