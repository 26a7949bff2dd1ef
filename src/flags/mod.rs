//! Feature flags: what people author (flags, targeting, segments), how it is checked when
//! saved, how it is evaluated for a context, and how Unleash toggles are imported.
//! Evaluation is pure and deterministic (time and randomness come in with the context), so the
//! browser's "try it" panel gives the same answer as the OFREP endpoint.

pub mod constraint;
pub mod context;
pub mod evaluate;
pub mod model;
pub mod murmur;
pub mod operator;
mod pattern;
pub mod unleash;
pub mod validate;

pub use constraint::Constraint;
pub use context::Context;
pub use evaluate::{Evaluation, Evaluator, FlagSet, Reason, segment_matches};
pub use model::{
    FlagKind, FlagSpec, Override, Payload, Prerequisite, Rule, Segment, Serve, Split, Targeting,
    ValueType, Variant, WeightedVariant,
};
pub use operator::Operator;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_limits;
