//! Importing Unleash toggles: a document in Unleash's client API format (`/api/client/features`,
//! version 1 or 2) becomes flags and segments that evaluate exactly as Unleash's clients would.
//! What cannot be carried over is listed in [`Import::notes`], never dropped silently; what
//! evaluates as in Unleash but deserves a look (a toggle Unleash's engine keeps off) in
//! [`Import::warnings`].

use serde_json::Value;
use std::collections::{HashMap, HashSet};

use super::model::{
    DEFAULT_STICKINESS, FlagKind, FlagSpec, Override, Prerequisite, Rule, Segment, Serve, Split,
    Targeting, ValueType, Variant, WeightedVariant,
};
use super::validate::{MAX_DESCRIPTION, MAX_NAME, MAX_TAG};
use super::{constraint::Constraint, operator::Operator};
use crate::InvalidInput;

mod bounds;
mod document;
mod strategy;
#[cfg(test)]
mod tests;
mod variants;
use bounds::{Notes, readable, shortened, too_big};
pub use document::Document as UnleashDocument;
use document::{
    Document, Feature, UnleashConstraint, UnleashSegment, UnleashStrategy, UnleashVariant, text,
};
use strategy::strategy_rule;
use variants::{payloads, split_of, variants_of};

/// The result of reading a document: flags with their targeting for the environment imported
/// into, the segments they use, and what could not be represented exactly.
#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    pub flags: Vec<(FlagSpec, Targeting)>,
    pub segments: Vec<Segment>,
    /// What could not be represented exactly, and how it evaluates instead.
    pub notes: Vec<String>,
    /// What evaluates exactly as in Unleash but probably not as the document's authors meant.
    pub warnings: Vec<String>,
    /// Features not read, with the reason (they bring more than a flag can hold).
    pub skipped: Vec<String>,
}

/// Unleash's name for the variant served when there is none.
pub const DISABLED_VARIANT: &str = "disabled";

fn param(s: &UnleashStrategy, name: &str) -> Option<String> {
    s.parameters.get(name).and_then(text)
}

/// The key an imported Unleash segment gets.
pub fn segment_key(id: i64) -> String {
    format!("unleash-segment-{id}")
}

/// An imported segment's name: Unleash's, shortened to fit, or one made from its id.
fn segment_name(name: &str, id: i64) -> String {
    if readable(name) {
        shortened(name.trim(), MAX_NAME)
    } else {
        format!("Unleash segment {id}")
    }
}

/// Reads an Unleash client API document.
pub fn read_document(json: &str) -> Result<Import, InvalidInput> {
    let not_a_document = |e: &dyn std::fmt::Display| {
        InvalidInput::new(
            "document",
            format!("not an Unleash client API document: {e}"),
        )
    };
    let value: Value = serde_json::from_str(json).map_err(|e| not_a_document(&e))?;
    let doc: Document = serde_path_to_error::deserialize(crate::json::integral_numbers(value))
        .map_err(|e| not_a_document(&e))?;
    match doc.version {
        Some(1 | 2) => {}
        Some(v) => {
            return Err(InvalidInput::new(
                "version",
                format!("version {v} is not supported; export with version 1 or 2"),
            ));
        }
        None => return Err(InvalidInput::new("version", "the document has no version")),
    }
    let mut notes = Notes::default();
    let doc = Document {
        features: last_of_each(doc.features, |f| f.name.clone(), "feature", &mut notes),
        segments: last_of_each(doc.segments, |s| s.id.to_string(), "segment", &mut notes),
        ..doc
    };
    let segments: Vec<Segment> = doc
        .segments
        .iter()
        .map(|s| Segment {
            key: segment_key(s.id),
            name: segment_name(&s.name, s.id),
            description: format!("Imported from Unleash (segment {}).", s.id),
            constraints: s
                .constraints
                .iter()
                .filter_map(|c| constraint(c, &format!("segment {}", s.id), &mut notes))
                .collect(),
            included: Vec::new(),
            excluded: Vec::new(),
        })
        .collect();
    let segment_ids: HashMap<i64, String> = doc
        .segments
        .iter()
        .map(|s| (s.id, segment_key(s.id)))
        .collect();
    let segments_by_id: HashMap<i64, &UnleashSegment> =
        doc.segments.iter().map(|s| (s.id, s)).collect();
    let by_name: HashMap<&str, &Feature> =
        doc.features.iter().map(|f| (f.name.as_str(), f)).collect();
    let mut skipped = Vec::new();
    let mut flags = Vec::new();
    for f in &doc.features {
        match too_big(f) {
            Some(why) => skipped.push(format!("{}: {why}", shortened(&f.name, 80))),
            None => flags.push(feature(
                f,
                &segment_ids,
                &segments_by_id,
                &by_name,
                &mut notes,
            )),
        }
    }
    let (notes, warnings) = notes.into_parts();
    Ok(Import {
        flags,
        segments,
        notes,
        warnings,
        skipped,
    })
}

/// Keeps the last of entries that share a name, where they stood, as Unleash's engine does
/// (it reads them into a map by name), and says which were dropped.
fn last_of_each<T>(
    items: Vec<T>,
    name: impl Fn(&T) -> String,
    what: &str,
    notes: &mut Notes,
) -> Vec<T> {
    let (mut seen, mut noted) = (HashSet::new(), HashSet::new());
    let mut kept: Vec<T> = Vec::with_capacity(items.len());
    let mut dropped = Vec::new();
    for item in items.into_iter().rev() {
        let n = name(&item);
        if seen.insert(n.clone()) {
            kept.push(item);
        } else if noted.insert(n.clone()) {
            dropped.push(n);
        }
    }
    kept.reverse();
    for n in dropped.into_iter().rev() {
        notes.warn(format!(
            "{what} {} appears more than once; like Unleash, the last one is used",
            shortened(&n, 80)
        ));
    }
    kept
}

fn constraint(c: &UnleashConstraint, place: &str, notes: &mut Notes) -> Option<Constraint> {
    let Some(operator) = Operator::parse(&c.operator) else {
        notes.warn(format!(
            "{place}: operator {} is unknown; Unleash's engine keeps every toggle that uses it off, and so does the import",
            c.operator
        ));
        return None;
    };
    let value = c.value.as_ref().and_then(text);
    let out = Constraint {
        context_name: c.context_name.clone(),
        operator,
        values: c.values.iter().filter_map(text).collect(),
        // Unleash's engine reads a pattern that is not given as the empty one.
        value: match (operator, value) {
            (Operator::Regex, None) => Some(String::new()),
            (_, value) => value,
        },
        // Unleash's engine reads a version written with a leading `v` as "never", inverted
        // or not.
        inverted: c.inverted
            && !(operator.as_str().starts_with("SEMVER_")
                && c.value
                    .as_ref()
                    .and_then(text)
                    .is_some_and(|v| v.starts_with('v'))),
        // Unleash ignores case only in the string and pattern operators.
        case_insensitive: c.case_insensitive
            && matches!(
                operator,
                Operator::StrStartsWith
                    | Operator::StrEndsWith
                    | Operator::StrContains
                    | Operator::Regex
            ),
    };
    match out.compile("constraint") {
        Err(e) if operator == Operator::Regex && unleash_compiles(&out) => notes.push(format!(
            "{place}: the pattern on {} is beyond what a constraint here may hold ({}); it never matches here, while Unleash's engine evaluates it",
            c.context_name, e.message
        )),
        Err(e) => notes.warn(format!(
            "{place}: constraint on {} keeps a value that does not parse ({}); like Unleash, it never matches",
            c.context_name, e.message
        )),
        Ok(_) if operator == Operator::Regex && ascii_classes(&out) => notes.push(format!(
            "{place}: the pattern on {} reads \\w, \\d, \\s and \\b as ASCII; Unleash's engine reads them as Unicode (they differ on other letters, digits and spaces)",
            c.context_name
        )),
        Ok(_) => {}
    }
    Some(out)
}

/// Whether Unleash's engine (the `regex` crate without limits) compiles `c`'s pattern; one
/// longer than 4,096 bytes is taken to compile without trying.
fn unleash_compiles(c: &Constraint) -> bool {
    let pattern = c.value.as_deref().unwrap_or_default();
    pattern.len() > 4096
        || regex::RegexBuilder::new(pattern)
            .case_insensitive(c.case_insensitive)
            .build()
            .is_ok()
}

/// Whether `c`'s pattern uses a Perl class or word boundary, which this engine reads as ASCII.
fn ascii_classes(c: &Constraint) -> bool {
    let pattern = c.value.as_deref().unwrap_or_default();
    ["\\w", "\\d", "\\s", "\\b", "\\W", "\\D", "\\S", "\\B"]
        .iter()
        .any(|class| pattern.contains(class))
}

/// A rule that never matches: the toggle stays off for everyone.
fn never(description: &str, serve: Serve) -> Rule {
    Rule {
        description: description.into(),
        segments: Vec::new(),
        constraints: Vec::new(),
        rollout: 0,
        stickiness: DEFAULT_STICKINESS.into(),
        group_id: None,
        serve,
    }
}

fn feature(
    f: &Feature,
    segment_ids: &HashMap<i64, String>,
    segments_by_id: &HashMap<i64, &UnleashSegment>,
    by_name: &HashMap<&str, &Feature>,
    notes: &mut Notes,
) -> (FlagSpec, Targeting) {
    let variants = variants_of(
        std::iter::once(f.variants.as_slice()).chain(f.strategies.iter().map(|s| &s.variants[..])),
    );
    let payloads = payloads(&variants);
    let stickiness = f
        .variants
        .first()
        .and_then(|v| v.stickiness.clone())
        .unwrap_or_else(|| DEFAULT_STICKINESS.to_owned());
    let feature_split = Serve::Split(split_of(
        &f.variants,
        &payloads,
        f.name.clone(),
        stickiness,
        true,
    ));
    // Unleash takes the variants of the first matching strategy in document order, or the
    // feature's when that strategy has none: rules in the same order, first match wins.
    let mut rules = Vec::new();
    let uncompilable = strategy::uncompilable(f, segments_by_id);
    if let Some(why) = &uncompilable {
        notes.warn(format!(
            "{}: {why}, so Unleash's engine keeps the toggle off for everyone; so does the import",
            shortened(&f.name, 80)
        ));
        rules.push(never(
            "Strategies Unleash cannot read",
            feature_split.clone(),
        ));
    }
    let compiled = if uncompilable.is_none() {
        f.strategies.as_slice()
    } else {
        &[]
    };
    for (i, s) in compiled.iter().enumerate() {
        let place = format!("{} strategy {} ({})", f.name, i + 1, s.name);
        let serve = if s.variants.is_empty() {
            feature_split.clone()
        } else {
            let stickiness =
                param(s, "stickiness").unwrap_or_else(|| DEFAULT_STICKINESS.to_owned());
            let group = param(s, "groupId").unwrap_or_else(|| f.name.clone());
            Serve::Split(split_of(&s.variants, &payloads, group, stickiness, false))
        };
        if let Some(rule) = strategy_rule(s, serve, segment_ids, &place, notes) {
            rules.push(rule);
        }
    }
    if rules.is_empty() && !f.strategies.is_empty() {
        // Every strategy was left out because Unleash never enables it: keep the toggle off
        // for everyone (a flag without rules would be on for everyone).
        rules.push(never(
            "Strategies Unleash never enables",
            feature_split.clone(),
        ));
    }
    if f.strategies.is_empty() {
        rules.push(Rule {
            rollout: 100,
            ..never("Everyone (no strategies in Unleash)", feature_split.clone())
        });
    }
    let mut enabled = f.enabled;
    let mut prerequisites = Vec::new();
    for d in &f.dependencies {
        match by_name.get(d.feature.as_str()) {
            None => {
                notes.warn(format!(
                    "{}: depends on '{}', which is not in the document; like Unleash, it stays off",
                    f.name, d.feature
                ));
                enabled = false;
            }
            Some(parent) if !parent.dependencies.is_empty() => {
                notes.warn(format!(
                    "{}: depends on '{}', which has dependencies of its own; like Unleash, it stays off",
                    f.name, d.feature
                ));
                enabled = false;
            }
            Some(_) => {
                let on = d.enabled.unwrap_or(true);
                if !on && !d.variants.is_empty() {
                    notes.push(format!(
                        "{}: depends on '{}' being off and lists variants; Unleash's engine also compares the variant that parent would choose, which is not carried over",
                        f.name, d.feature
                    ));
                }
                prerequisites.push(Prerequisite {
                    flag: d.feature.clone(),
                    enabled: on,
                    variants: if on { d.variants.clone() } else { Vec::new() },
                });
            }
        }
    }
    // Tags are labels: one that is blank or longer than a tag may be is left out, and said.
    let mut tags = Vec::new();
    let project = (f.project != "default").then(|| format!("project:{}", f.project));
    for tag in [Some(f.kind.clone()), project].into_iter().flatten() {
        if tag.chars().count() > MAX_TAG {
            notes.push(format!(
                "{}: the label '{}' is longer than a tag may be; left out",
                shortened(&f.name, 80),
                shortened(&tag, 80)
            ));
        } else if readable(&tag) && tag != "project:" {
            tags.push(tag);
        }
    }
    let spec = FlagSpec {
        key: f.name.clone(),
        name: shortened(&f.name, MAX_NAME),
        description: shortened(&f.description, MAX_DESCRIPTION),
        tags,
        owner: String::new(),
        value_type: ValueType::Boolean,
        variants,
        kind: FlagKind::UnleashToggle,
    };
    let targeting = Targeting {
        enabled,
        rules,
        default_variant: DISABLED_VARIANT.into(),
        off_variant: DISABLED_VARIANT.into(),
        prerequisites,
    };
    (spec, targeting)
}
