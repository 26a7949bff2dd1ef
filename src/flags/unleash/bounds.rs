//! What one Unleash document may bring before it is read: enough for any real toggle, little
//! enough that a hostile document cannot make the import build a huge flag or a huge report.

use super::document::{Feature, UnleashVariant};
use crate::flags::validate::{MAX_IMPORTED_KEY, MAX_RULES};

/// Variants across one feature and its strategies.
pub(super) const MAX_VARIANTS: usize = 1_000;

/// Notes kept in a report; more are counted.
const MAX_NOTES: usize = 1_000;

/// Why `f` is not read, when it brings more than one flag can hold.
pub(super) fn too_big(f: &Feature) -> Option<String> {
    let name = f.name.chars().count();
    if name > MAX_IMPORTED_KEY {
        return Some(format!(
            "a name of {name} characters; at most {MAX_IMPORTED_KEY}"
        ));
    }
    if f.strategies.len() > MAX_RULES {
        return Some(format!(
            "{} strategies; a flag holds at most {MAX_RULES} rules",
            f.strategies.len()
        ));
    }
    let variants = f.variants.len() + f.strategies.iter().map(|s| s.variants.len()).sum::<usize>();
    if variants > MAX_VARIANTS {
        return Some(format!(
            "{variants} variants in the feature and its strategies; at most {MAX_VARIANTS}"
        ));
    }
    // Every rule serving the feature's variants holds their payloads and overrides.
    let rules = 1 + f
        .strategies
        .iter()
        .filter(|s| s.variants.is_empty())
        .count();
    let carried = f.strategies.iter().map(|s| carried(&s.variants)).fold(
        carried(&f.variants).saturating_mul(rules),
        usize::saturating_add,
    );
    if carried > MAX_CARRIED {
        return Some(format!(
            "its rules would carry {} KB of payloads and overrides; at most {} KB",
            carried / 1024,
            MAX_CARRIED / 1024
        ));
    }
    None
}

/// The payload and override bytes the rules of one flag may carry in all.
const MAX_CARRIED: usize = 1024 * 1024;

/// The bytes `list`'s payloads and overrides take in a rule (about: 16 per override value
/// besides its text).
fn carried(list: &[UnleashVariant]) -> usize {
    list.iter()
        .map(|v| {
            let payload = v
                .payload
                .as_ref()
                .map_or(0, |p| p.kind.len() + p.value.len());
            let overrides: usize = v
                .overrides
                .iter()
                .flat_map(|o| &o.values)
                .map(|x| 16 + x.as_str().map_or(0, str::len))
                .sum();
            payload.saturating_add(overrides)
        })
        .fold(0, usize::saturating_add)
}

/// Whether `text` has a character a person can read (not white space, not a control).
pub(super) fn readable(text: &str) -> bool {
    text.chars()
        .any(|c| !c.is_whitespace() && !c.is_control() && c != '\u{feff}')
}

/// `text` shortened to at most `max` characters, ending in `…` when cut.
pub(super) fn shortened(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(max.saturating_sub(1)).collect();
    short.push('…');
    short
}

/// What an import says: what it could not carry over exactly ([`Notes::push`]), and what
/// evaluates as in Unleash but is worth a look ([`Notes::warn`]); the first thousand of each,
/// then how many more there were.
#[derive(Default)]
pub(super) struct Notes {
    not_exact: Capped,
    warnings: Capped,
}

#[derive(Default)]
struct Capped {
    kept: Vec<String>,
    more: usize,
}

impl Capped {
    fn push(&mut self, note: String) {
        if self.kept.len() < MAX_NOTES {
            self.kept.push(note);
        } else {
            self.more += 1;
        }
    }

    fn into_vec(mut self) -> Vec<String> {
        if self.more > 0 {
            self.kept
                .push(format!("… and {} more notes like these", self.more));
        }
        self.kept
    }
}

impl Notes {
    /// Something the document says that the import cannot represent exactly.
    pub(super) fn push(&mut self, note: String) {
        self.not_exact.push(note);
    }

    /// Something that evaluates exactly as in Unleash, though probably not as its authors
    /// meant (a toggle Unleash's engine keeps off, a duplicate, a value that never matches).
    pub(super) fn warn(&mut self, warning: String) {
        self.warnings.push(warning);
    }

    /// The notes and the warnings.
    pub(super) fn into_parts(self) -> (Vec<String>, Vec<String>) {
        (self.not_exact.into_vec(), self.warnings.into_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_shortened_by_characters_and_blank_text_is_not_readable() {
        assert_eq!(shortened(&"ü".repeat(300), 120).chars().count(), 120);
        assert!(shortened(&"ü".repeat(300), 120).ends_with("ü…"));
        assert_eq!(shortened("short", 120), "short");
        assert!(!readable(" \u{1c}\u{1f}\u{feff}\t"));
        assert!(readable(" a "));
    }

    #[test]
    fn notes_past_a_thousand_are_counted_not_kept() {
        let mut notes = Notes::default();
        for i in 0..1_500 {
            notes.push(format!("note {i}"));
        }
        notes.warn("a warning".into());
        let (kept, warnings) = notes.into_parts();
        assert_eq!(warnings, ["a warning"]);
        assert_eq!(kept.len(), 1_001);
        assert_eq!(kept[1_000], "… and 500 more notes like these");
    }
}
