//! The evaluation context: who is asking, as an application sends it over OFREP. It maps onto
//! Unleash's context: `targetingKey` is `userId`; every other attribute is read by its name.

use serde_json::{Map, Value};
use std::borrow::Cow;

/// The attributes one evaluation reads. Borrowed from the request, so evaluating many flags
/// for one context copies nothing.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    targeting_key: Option<&'a str>,
    attributes: &'a Map<String, Value>,
    /// The environment evaluated in, read as `environment` when the context has none.
    environment: Option<&'a str>,
    /// The evaluation's instant (ms since the epoch), used when no `currentTime` is sent.
    pub now_ms: i64,
    /// A random number drawn by the caller, used by `random` stickiness.
    pub random: u32,
}

static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);

impl<'a> Context<'a> {
    /// A context from an OFREP `context` object (`targetingKey` plus attributes).
    pub fn new(attributes: &'a Map<String, Value>, now_ms: i64, random: u32) -> Self {
        let targeting_key = attributes
            .get("targetingKey")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        Self {
            targeting_key,
            attributes,
            environment: None,
            now_ms,
            random,
        }
    }

    /// The same context, reading `environment` as `key` unless the caller sent one.
    pub fn in_environment(mut self, key: &'a str) -> Self {
        self.environment = Some(key);
        self
    }

    /// A context with no attributes at all: an anonymous caller.
    pub fn anonymous(now_ms: i64, random: u32) -> Context<'static> {
        Context::new(&EMPTY, now_ms, random)
    }

    /// The user id: `targetingKey`, or a `userId` attribute when no targeting key is sent.
    pub fn user_id(&self) -> Option<&'a str> {
        self.targeting_key.or_else(|| {
            self.attributes
                .get("userId")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        })
    }

    /// The value of a context field as text, as constraints and stickiness read it. Numbers
    /// and booleans are read as their text; objects, arrays, null and empty text are missing.
    /// Unleash-style `properties.{name}` is looked in as well.
    pub fn field(&self, name: &str) -> Option<Cow<'a, str>> {
        if name == "userId" {
            return self.user_id().map(Cow::Borrowed);
        }
        let Some(value) = self.attributes.get(name).or_else(|| {
            self.attributes
                .get("properties")
                .and_then(Value::as_object)
                .and_then(|p| p.get(name))
        }) else {
            return (name == "environment")
                .then_some(self.environment)
                .flatten()
                .map(Cow::Borrowed);
        };
        match value {
            Value::String(s) if !s.is_empty() => Some(Cow::Borrowed(s.as_str())),
            Value::Number(n) => Some(Cow::Owned(n.to_string())),
            Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
            _ => None,
        }
    }

    /// The names of the attributes too long for a constraint to read (longer than
    /// [`MAX_CONTEXT_VALUE_CHARS`](super::constraint::MAX_CONTEXT_VALUE_CHARS) characters),
    /// `properties.{name}` ones included; empty (and allocation-free) in the usual case.
    pub fn unread_fields(&self) -> Vec<&'a str> {
        let properties = self
            .attributes
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten();
        self.attributes
            .iter()
            .chain(properties)
            .filter(|(_, v)| v.as_str().is_some_and(super::constraint::too_long_to_read))
            .map(|(k, _)| k.as_str())
            .collect()
    }

    /// The stickiness value for `stickiness`: `default` reads `userId`, then `sessionId`, then
    /// falls back to a random value; `random` is always random; any other name reads that field
    /// and is missing when the field is.
    pub fn stickiness(&self, stickiness: &str) -> Option<Sticky<'a>> {
        match stickiness {
            "default" => Some(
                self.field("userId")
                    .or_else(|| self.field("sessionId"))
                    .map(Sticky::Value)
                    .unwrap_or(Sticky::Random(self.random)),
            ),
            "random" => Some(Sticky::Random(self.random)),
            other => self.field(other).map(Sticky::Value),
        }
    }
}

/// What a user is bucketed by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sticky<'a> {
    /// A context value, hashed with the group id.
    Value(Cow<'a, str>),
    /// No identifying value: the caller's random number decides.
    Random(u32),
}

impl Sticky<'_> {
    /// The bucket in `1..=normalizer`, Unleash's `normalizedHash`.
    pub fn bucket(&self, group: &str, seed: u32, normalizer: u32) -> u32 {
        match self {
            Sticky::Value(v) => super::murmur::normalized_hash(group, v, seed, normalizer),
            Sticky::Random(r) => r % normalizer + 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn the_targeting_key_is_the_user_id() {
        let attrs = map(json!({"targetingKey": "u-1", "userId": "other"}));
        assert_eq!(Context::new(&attrs, 0, 0).user_id(), Some("u-1"));
        let attrs = map(json!({"userId": "u-2"}));
        assert_eq!(Context::new(&attrs, 0, 0).user_id(), Some("u-2"));
    }

    #[test]
    fn numbers_and_booleans_read_as_text_and_objects_are_missing() {
        let attrs = map(json!({"riskScore": 42, "beta": true, "nested": {"a": 1}, "empty": ""}));
        let ctx = Context::new(&attrs, 0, 0);
        assert_eq!(ctx.field("riskScore").as_deref(), Some("42"));
        assert_eq!(ctx.field("beta").as_deref(), Some("true"));
        assert_eq!(ctx.field("nested"), None);
        assert_eq!(ctx.field("empty"), None);
        assert_eq!(ctx.field("absent"), None);
    }

    #[test]
    fn unleash_properties_are_read_by_their_name() {
        let attrs = map(json!({"properties": {"cohort": "alpha"}}));
        assert_eq!(
            Context::new(&attrs, 0, 0).field("cohort").as_deref(),
            Some("alpha")
        );
    }

    #[test]
    fn default_stickiness_falls_back_from_user_to_session_to_random() {
        let attrs = map(json!({"sessionId": "s-9"}));
        let ctx = Context::new(&attrs, 0, 7);
        assert_eq!(ctx.stickiness("default"), Some(Sticky::Value("s-9".into())));
        assert_eq!(
            Context::anonymous(0, 7).stickiness("default"),
            Some(Sticky::Random(7))
        );
        assert_eq!(ctx.stickiness("tenant"), None);
    }
}
