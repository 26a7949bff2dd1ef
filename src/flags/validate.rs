//! Refusing bad configuration when it is saved, with a message naming the field and the value.
//! Evaluation never fails (see [`super::evaluate`]); this is where mistakes are caught.

use std::collections::HashSet;

use super::constraint::Constraint;
use super::model::{FlagKind, FlagSpec, Rule, Segment, Serve, Targeting};
use super::operator::Operator;
use crate::InvalidInput;

/// Longest key, name or variant name accepted.
const MAX_KEY: usize = 100;
pub const MAX_NAME: usize = 120;
pub const MAX_DESCRIPTION: usize = 2_000;
/// Longest tag, in characters.
pub const MAX_TAG: usize = 40;
const MAX_TAGS: usize = 20;
pub const MAX_RULES: usize = 200;
const MAX_LIST: usize = 10_000;
/// Prerequisites one flag may have in one environment.
pub const MAX_PREREQUISITES: usize = 10;
/// `REGEX` constraints one flag may hold in one environment (across its rules), or one
/// segment: a pattern is the one test whose cost grows with both its size and the value's.
pub const MAX_PATTERNS: usize = 5;

/// Refuses more than [`MAX_PATTERNS`] `REGEX` constraints among `constraints`.
fn check_pattern_count<'c>(
    field: &str,
    constraints: impl IntoIterator<Item = &'c Constraint>,
) -> Result<(), InvalidInput> {
    let patterns = constraints
        .into_iter()
        .filter(|c| c.operator == Operator::Regex)
        .count();
    if patterns > MAX_PATTERNS {
        return Err(InvalidInput::unprocessable(
            field,
            format!("at most {MAX_PATTERNS} REGEX constraints ({patterns} given)"),
        ));
    }
    Ok(())
}

/// Checks a key typed here: letters, digits, `-`, `_` and `.`.
pub fn check_key(field: &str, key: &str) -> Result<(), InvalidInput> {
    if key.is_empty() {
        return Err(InvalidInput::new(field, "must not be empty"));
    }
    if key.len() > MAX_KEY {
        return Err(InvalidInput::new(
            field,
            format!("must be at most {MAX_KEY} characters"),
        ));
    }
    if let Some(c) = key
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(InvalidInput::new(
            field,
            format!("'{c}' is not allowed; use letters, digits, '-', '_' and '.'"),
        ));
    }
    Ok(())
}

/// Longest imported key, in characters.
pub const MAX_IMPORTED_KEY: usize = 400;

/// Checks an imported key: any text without control characters, kept exactly as it was.
pub fn check_imported_key(field: &str, key: &str) -> Result<(), InvalidInput> {
    if key.is_empty() || key.chars().count() > MAX_IMPORTED_KEY || key.chars().any(char::is_control)
    {
        return Err(InvalidInput::new(
            field,
            "must be 1 to 400 characters without control characters",
        ));
    }
    Ok(())
}

fn check_text(field: &str, value: &str, max: usize, required: bool) -> Result<(), InvalidInput> {
    if required && value.trim().is_empty() {
        return Err(InvalidInput::new(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(InvalidInput::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(())
}

/// Checks a flag's identity and variants. `imported` relaxes the key rule.
pub fn check_flag_spec(spec: &FlagSpec, imported: bool) -> Result<(), InvalidInput> {
    check_imported_key("key", &spec.key)?;
    if !imported {
        // The document admits any key an import may bring; one created here is a key.
        check_key("key", &spec.key).map_err(InvalidInput::unprocessable_here)?;
    }
    check_text("name", &spec.name, MAX_NAME, true)?;
    check_text("description", &spec.description, MAX_DESCRIPTION, false)?;
    check_text("owner", &spec.owner, MAX_NAME, false)?;
    if spec.tags.len() > MAX_TAGS {
        return Err(InvalidInput::new(
            "tags",
            format!("at most {MAX_TAGS} tags"),
        ));
    }
    for (i, tag) in spec.tags.iter().enumerate() {
        check_text(&format!("tags[{i}]"), tag, MAX_TAG, true)?;
    }
    if spec.variants.is_empty() {
        return Err(InvalidInput::new(
            "variants",
            "a flag needs at least one variant",
        ));
    }
    let mut names = HashSet::new();
    for (i, v) in spec.variants.iter().enumerate() {
        let field = format!("variants[{i}].name");
        if spec.kind == FlagKind::Standard {
            // The document admits any name without control characters (an imported
            // toggle's); a standard flag's names are keys.
            check_key(&field, &v.name).map_err(InvalidInput::unprocessable_here)?;
        } else {
            check_imported_key(&field, &v.name)?;
        }
        if !names.insert(v.name.as_str()) {
            return Err(InvalidInput::unprocessable(
                field,
                format!("'{}' is used twice", v.name),
            ));
        }
        if spec.kind == FlagKind::Standard && !spec.value_type.admits(&v.value) {
            return Err(InvalidInput::unprocessable(
                format!("variants[{i}].value"),
                format!("{} is not a {} value", v.value, spec.value_type.as_str()),
            ));
        }
    }
    Ok(())
}

/// Checks a flag's targeting in one environment: variants named exist, percentages are in
/// range, constraints parse, segments exist (`segment_exists`), prerequisites name other flags
/// (`flag_variants` gives a flag's variant names, `None` when there is no such flag).
pub fn check_targeting(
    spec: &FlagSpec,
    t: &Targeting,
    segment_exists: impl Fn(&str) -> bool,
    flag_variants: impl Fn(&str) -> Option<Vec<String>>,
) -> Result<(), InvalidInput> {
    targeting_checks(spec, t, &segment_exists, &flag_variants, Origin::Typed)
}

/// Checks an imported flag's targeting against the same bounds, keeping what Unleash keeps: a
/// constraint whose value does not parse (it never matches) and a split whose weights add up
/// to 0 (it serves no variant).
pub fn check_imported_targeting(
    spec: &FlagSpec,
    t: &Targeting,
    segment_exists: impl Fn(&str) -> bool,
    flag_variants: impl Fn(&str) -> Option<Vec<String>>,
) -> Result<(), InvalidInput> {
    targeting_checks(spec, t, &segment_exists, &flag_variants, Origin::Imported)
}

/// Where configuration comes from: typed here, or imported from another product's document.
#[derive(Clone, Copy, PartialEq)]
enum Origin {
    Typed,
    Imported,
}

impl Origin {
    /// Checks constraints: typed ones must compile; imported ones must name a context field.
    fn check_constraints(
        self,
        field: &str,
        constraints: &[Constraint],
    ) -> Result<(), InvalidInput> {
        for (j, c) in constraints.iter().enumerate() {
            let field = format!("{field}[{j}]");
            match self {
                Origin::Typed => c.compile(&field).map(drop)?,
                Origin::Imported => c.check_context_name(&field)?,
            }
        }
        Ok(())
    }
}

fn targeting_checks(
    spec: &FlagSpec,
    t: &Targeting,
    segment_exists: &impl Fn(&str) -> bool,
    flag_variants: &impl Fn(&str) -> Option<Vec<String>>,
    origin: Origin,
) -> Result<(), InvalidInput> {
    let variant = |field: String, name: &str| {
        if spec.variant(name).is_some() {
            Ok(())
        } else {
            Err(InvalidInput::unprocessable(
                field,
                format!("there is no variant '{name}' in this flag"),
            ))
        }
    };
    variant("defaultVariant".into(), &t.default_variant)?;
    variant("offVariant".into(), &t.off_variant)?;
    if t.rules.len() > MAX_RULES {
        return Err(InvalidInput::new(
            "rules",
            format!("at most {MAX_RULES} rules"),
        ));
    }
    check_pattern_count("rules", t.rules.iter().flat_map(|r| &r.constraints))?;
    for (i, rule) in t.rules.iter().enumerate() {
        check_rule(
            &format!("rules[{i}]"),
            spec,
            rule,
            segment_exists,
            &variant,
            origin,
        )?;
    }
    if t.prerequisites.len() > MAX_PREREQUISITES {
        return Err(InvalidInput::new(
            "prerequisites",
            format!("at most {MAX_PREREQUISITES} prerequisites"),
        ));
    }
    for (i, p) in t.prerequisites.iter().enumerate() {
        let field = format!("prerequisites[{i}].flag");
        if p.flag == spec.key {
            return Err(InvalidInput::unprocessable(
                field,
                "a flag cannot be its own prerequisite",
            ));
        }
        if t.prerequisites[..i].iter().any(|q| q.flag == p.flag) {
            return Err(InvalidInput::unprocessable(
                field,
                format!("'{}' is already a prerequisite of this flag", p.flag),
            ));
        }
        let Some(names) = flag_variants(&p.flag) else {
            return Err(InvalidInput::unknown(
                field,
                format!("there is no flag '{}'", p.flag),
            ));
        };
        for v in &p.variants {
            if !names.contains(v) {
                return Err(InvalidInput::unknown(
                    format!("prerequisites[{i}].variants"),
                    format!("flag '{}' has no variant '{v}'", p.flag),
                ));
            }
        }
    }
    Ok(())
}

fn check_rule(
    field: &str,
    spec: &FlagSpec,
    rule: &Rule,
    segment_exists: &impl Fn(&str) -> bool,
    variant: &impl Fn(String, &str) -> Result<(), InvalidInput>,
    origin: Origin,
) -> Result<(), InvalidInput> {
    check_text(
        &format!("{field}.description"),
        &rule.description,
        MAX_NAME,
        false,
    )?;
    if rule.rollout > 100 {
        return Err(InvalidInput::new(
            format!("{field}.rollout"),
            format!("must be between 0 and 100 percent, not {}", rule.rollout),
        ));
    }
    check_text(
        &format!("{field}.stickiness"),
        &rule.stickiness,
        MAX_NAME,
        true,
    )?;
    for (j, key) in rule.segments.iter().enumerate() {
        if !segment_exists(key) {
            return Err(InvalidInput::unknown(
                format!("{field}.segments[{j}]"),
                format!("there is no segment '{key}'"),
            ));
        }
    }
    origin.check_constraints(&format!("{field}.constraints"), &rule.constraints)?;
    match &rule.serve {
        Serve::Variant(name) => variant(format!("{field}.serve.variant"), name)?,
        Serve::Split(split) => {
            if split.variants.is_empty() && spec.kind == FlagKind::Standard {
                return Err(InvalidInput::unprocessable(
                    format!("{field}.serve.split.variants"),
                    "a split needs at least one variant",
                ));
            }
            for (j, w) in split.variants.iter().enumerate() {
                variant(
                    format!("{field}.serve.split.variants[{j}].variant"),
                    &w.variant,
                )?;
            }
            let total: u64 = split.variants.iter().map(|w| u64::from(w.weight)).sum();
            if total == 0 && !split.variants.is_empty() && origin == Origin::Typed {
                return Err(InvalidInput::unprocessable(
                    format!("{field}.serve.split.variants"),
                    "the weights add up to 0; give at least one variant a weight",
                ));
            }
            if total > u64::from(u32::MAX / 2) {
                return Err(InvalidInput::unprocessable(
                    format!("{field}.serve.split.variants"),
                    "the weights are too large",
                ));
            }
            for (j, o) in split.overrides.iter().enumerate() {
                variant(
                    format!("{field}.serve.split.overrides[{j}].variant"),
                    &o.variant,
                )?;
            }
        }
    }
    Ok(())
}

/// Checks a segment's key, texts, constraints and user lists.
pub fn check_segment(s: &Segment) -> Result<(), InvalidInput> {
    segment_checks(s, Origin::Typed)
}

/// Checks an imported segment against the same bounds, keeping constraints whose value does
/// not parse (they never match, as in Unleash).
pub fn check_imported_segment(s: &Segment) -> Result<(), InvalidInput> {
    segment_checks(s, Origin::Imported)
}

fn segment_checks(s: &Segment, origin: Origin) -> Result<(), InvalidInput> {
    check_key("key", &s.key)?;
    check_text("name", &s.name, MAX_NAME, true)?;
    check_text("description", &s.description, MAX_DESCRIPTION, false)?;
    check_pattern_count("constraints", &s.constraints)?;
    origin.check_constraints("constraints", &s.constraints)?;
    for (field, list) in [("included", &s.included), ("excluded", &s.excluded)] {
        if list.len() > MAX_LIST {
            return Err(InvalidInput::new(
                field,
                format!("at most {MAX_LIST} user ids"),
            ));
        }
        if let Some(i) = list.iter().position(|u| u.trim().is_empty()) {
            return Err(InvalidInput::new(
                format!("{field}[{i}]"),
                "a user id must not be empty",
            ));
        }
    }
    Ok(())
}

/// The flags on a prerequisite cycle through `start`, if adding its prerequisites made one.
/// `prerequisites_of` gives a flag's prerequisite keys in the environment.
pub fn prerequisite_cycle(
    start: &str,
    prerequisites_of: impl Fn(&str) -> Vec<String>,
) -> Option<Vec<String>> {
    fn walk(
        at: &str,
        start: &str,
        path: &mut Vec<String>,
        seen: &mut HashSet<String>,
        next: &impl Fn(&str) -> Vec<String>,
    ) -> bool {
        for p in next(at) {
            if p == start {
                return true;
            }
            if seen.insert(p.clone()) {
                path.push(p.clone());
                if walk(&p, start, path, seen, next) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_owned()];
    let mut seen = HashSet::new();
    walk(start, start, &mut path, &mut seen, &prerequisites_of).then(|| {
        path.push(start.to_owned());
        path
    })
}
