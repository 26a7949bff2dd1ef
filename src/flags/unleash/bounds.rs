//! What one Unleash document may bring before it is read: enough for any real toggle, little
//! enough that a hostile document cannot make the import build a huge flag or a huge report.

use super::document::Feature;
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
    None
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

/// What an import says it could not carry over exactly: the first thousand notes, then how
/// many more there were.
#[derive(Default)]
pub(super) struct Notes {
    kept: Vec<String>,
    more: usize,
}

impl Notes {
    pub(super) fn push(&mut self, note: String) {
        if self.kept.len() < MAX_NOTES {
            self.kept.push(note);
        } else {
            self.more += 1;
        }
    }

    pub(super) fn into_vec(mut self) -> Vec<String> {
        if self.more > 0 {
            self.kept
                .push(format!("… and {} more notes like these", self.more));
        }
        self.kept
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
        let kept = notes.into_vec();
        assert_eq!(kept.len(), 1_001);
        assert_eq!(kept[1_000], "… and 500 more notes like these");
    }
}
