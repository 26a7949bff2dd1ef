//! A success or failure condition: the measured value compared with a threshold, written as
//! `result < 1` (Argo Rollouts' `successCondition` with one comparison).

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::InvalidInput;

/// How the measured value is compared with the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Comparison {
    /// Longest symbols first, so that `<=` is not read as `<`.
    const ALL: [(Comparison, &'static str); 6] = [
        (Comparison::Le, "<="),
        (Comparison::Ge, ">="),
        (Comparison::Eq, "=="),
        (Comparison::Ne, "!="),
        (Comparison::Lt, "<"),
        (Comparison::Gt, ">"),
    ];

    pub fn symbol(self) -> &'static str {
        Comparison::ALL
            .iter()
            .find(|(c, _)| *c == self)
            .map_or("?", |(_, s)| s)
    }
}

/// `result <op> threshold`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Condition {
    pub op: Comparison,
    pub threshold: f64,
}

impl Condition {
    /// Parses `result < 0.5`, `result>=90` or just `< 0.5`.
    pub fn parse(field: &str, text: &str) -> Result<Condition, InvalidInput> {
        let t = text.trim();
        let rest = t.strip_prefix("result").unwrap_or(t).trim_start();
        let bad = |why: &str| {
            InvalidInput::new(
                field,
                format!(
                    "'{text}' {why}: write a comparison like 'result < 1' (<, <=, >, >=, ==, !=)"
                ),
            )
        };
        let (op, after) = Comparison::ALL
            .iter()
            .find_map(|(op, sym)| rest.strip_prefix(sym).map(|after| (*op, after)))
            .ok_or_else(|| bad("has no comparison"))?;
        let threshold: f64 = after
            .trim()
            .parse()
            .map_err(|_| bad("does not end in a number"))?;
        if !threshold.is_finite() {
            return Err(bad("needs a finite threshold"));
        }
        Ok(Condition { op, threshold })
    }

    /// Whether `value` meets the condition.
    pub fn holds(&self, value: f64) -> bool {
        let t = self.threshold;
        match self.op {
            Comparison::Lt => value < t,
            Comparison::Le => value <= t,
            Comparison::Gt => value > t,
            Comparison::Ge => value >= t,
            Comparison::Eq => value == t,
            Comparison::Ne => value != t,
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "result {} {}", self.op.symbol(), self.threshold)
    }
}

impl Serialize for Condition {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Condition::parse("condition", &text).map_err(|e| serde::de::Error::custom(e.message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_read_with_or_without_the_word_result() {
        let c = Condition::parse("f", "result <= 0.5").unwrap();
        assert_eq!((c.op, c.threshold), (Comparison::Le, 0.5));
        let c = Condition::parse("f", ">90").unwrap();
        assert_eq!((c.op, c.threshold), (Comparison::Gt, 90.0));
        assert_eq!(c.to_string(), "result > 90");
    }

    #[test]
    fn a_condition_holds_only_on_its_side_of_the_threshold() {
        let c = Condition::parse("f", "result < 1").unwrap();
        assert!(c.holds(0.99));
        assert!(!c.holds(1.0));
        assert!(!c.holds(f64::NAN));
    }

    #[test]
    fn bad_conditions_name_the_field_and_say_why() {
        let e = Condition::parse("metrics[0].successCondition", "result ~ 3").unwrap_err();
        assert_eq!(e.field, "metrics[0].successCondition");
        assert!(e.message.contains("no comparison"), "{}", e.message);
        let e = Condition::parse("f", "result < lots").unwrap_err();
        assert!(e.message.contains("number"), "{}", e.message);
    }
}
