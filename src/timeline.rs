//! The timelines of deployments and rollouts: each line has a level, so people see at a
//! glance what went wrong, and the same words on every page.

use serde::{Deserialize, Serialize};

/// How much a line of a timeline matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventLevel {
    Info,
    Warning,
    Error,
}

impl EventLevel {
    /// The key it is stored and sent as.
    pub fn key(self) -> &'static str {
        match self {
            EventLevel::Info => "info",
            EventLevel::Warning => "warning",
            EventLevel::Error => "error",
        }
    }

    /// Reads a stored key; anything unknown reads as a warning, so it is not overlooked.
    pub fn from_key(key: &str) -> EventLevel {
        match key {
            "info" => EventLevel::Info,
            "error" => EventLevel::Error,
            _ => EventLevel::Warning,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_stored_and_sent_by_their_lowercase_names() {
        for level in [EventLevel::Info, EventLevel::Warning, EventLevel::Error] {
            assert_eq!(EventLevel::from_key(level.key()), level);
            let json = serde_json::to_string(&level).unwrap();
            assert_eq!(json, format!("\"{}\"", level.key()));
        }
        assert_eq!(EventLevel::from_key("odd"), EventLevel::Warning);
    }
}
