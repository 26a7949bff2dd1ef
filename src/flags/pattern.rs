//! `REGEX` constraints' patterns: compiled within limits so that the slowest match on the
//! longest value a constraint reads stays under a millisecond.
//!
//! The engine is the `regex` crate (a lazy DFA on the server, linear time in the value's
//! length). Perl classes and word boundaries are ASCII (`\w` is `[0-9A-Za-z_]`, `\d` is
//! `[0-9]`, `\s` is `[\t\n\v\f\r ]`, `\b` is between an ASCII word character and anything
//! else), as `\w`, `\d` and `\b` are in JavaScript: patterns stay small enough to bound, and
//! mean what they meant before (and in the browser's preview) on any value.

/// The longest regular expression a constraint may hold, in characters.
pub const MAX_PATTERN_CHARS: usize = 200;
/// The most memory a compiled pattern may take, in bytes. A match builds at most one matcher
/// state per byte read, each costing time in proportion to this size; with the bound on
/// counted repetitions it keeps the slowest pattern found, on a fresh matcher, under half a
/// millisecond on a 1,024-character value (BENCHMARKS.md, "Abuse").
const PATTERN_SIZE_LIMIT: usize = 8 * 1024;
/// The memory of the lazy DFA's state cache per pattern, in bytes: when a pattern needs more,
/// the engine falls back to its bounded, linear-time search rather than thrash.
const DFA_CACHE_LIMIT: usize = 256 * 1024;
/// How deeply a pattern's groups and repetitions may nest.
const PATTERN_NEST_LIMIT: u32 = 10;
/// The most a counted repetition (`{n}`, `{n,m}`, `{n,}`) may count, multiplied through the
/// repetitions around it: `a{64}` or `(?:a{8}){8}` makes the matcher track 64 positions at
/// once, each new one costing a step on every character.
const MAX_REPEAT_COUNT: u32 = 20;

/// Compiles a `REGEX` constraint's pattern within the limits on its length and its size.
pub(super) fn compile_pattern(v: &str, case_insensitive: bool) -> Result<regex::Regex, String> {
    let chars = v.chars().count();
    if chars > MAX_PATTERN_CHARS {
        return Err(format!(
            "the pattern has {chars} characters; at most {MAX_PATTERN_CHARS} are allowed"
        ));
    }
    let ast = regex_syntax::ast::parse::ParserBuilder::new()
        .nest_limit(PATTERN_NEST_LIMIT)
        .build()
        .parse(v)
        .map_err(|e| match e.kind() {
            regex_syntax::ast::ErrorKind::NestLimitExceeded(_) => too_much(v),
            kind => format!("'{v}' is not a valid regular expression: {kind}"),
        })?;
    if repeat_count(&ast) > MAX_REPEAT_COUNT {
        return Err(format!(
            "'{v}' repeats too much to match quickly: counted repetitions may count at most \
             {MAX_REPEAT_COUNT}, nested ones multiplied; use + or * for longer runs"
        ));
    }
    regex::RegexBuilder::new(&ascii_classes(v))
        .case_insensitive(case_insensitive)
        .size_limit(PATTERN_SIZE_LIMIT)
        .dfa_size_limit(DFA_CACHE_LIMIT)
        .nest_limit(PATTERN_NEST_LIMIT)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => too_much(v),
            e if e.to_string().contains("nest") => too_much(v),
            e => {
                let e = e.to_string();
                let reason = e.lines().last().unwrap_or_default().trim();
                let reason = reason.strip_prefix("error: ").unwrap_or(reason);
                format!("'{v}' is not a valid regular expression: {reason}")
            }
        })
}

/// The largest count of a counted repetition in the pattern, multiplied through the
/// repetitions it sits in (`*` and `+` count their minimum, which is 0 or 1).
fn repeat_count(ast: &regex_syntax::ast::Ast) -> u32 {
    use regex_syntax::ast::{Ast, RepetitionKind, RepetitionRange};
    match ast {
        Ast::Repetition(r) => {
            let count = match &r.op.kind {
                RepetitionKind::Range(RepetitionRange::Exactly(n))
                | RepetitionKind::Range(RepetitionRange::AtLeast(n))
                | RepetitionKind::Range(RepetitionRange::Bounded(_, n)) => *n,
                RepetitionKind::ZeroOrOne
                | RepetitionKind::ZeroOrMore
                | RepetitionKind::OneOrMore => 1,
            };
            count.max(1).saturating_mul(repeat_count(&r.ast))
        }
        Ast::Group(g) => repeat_count(&g.ast),
        Ast::Alternation(a) => a.asts.iter().map(repeat_count).max().unwrap_or(1),
        Ast::Concat(c) => c.asts.iter().map(repeat_count).max().unwrap_or(1),
        _ => 1,
    }
}

fn too_much(v: &str) -> String {
    format!("'{v}' repeats or nests too much to match quickly; use fewer or smaller repetitions")
}

/// Rewrites the Perl classes `\d \D \w \W \s \S` and the word boundaries `\b \B` to their ASCII
/// forms, inside and outside bracketed classes. Everything else is copied as written.
fn ascii_classes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    // How deeply nested in `[...]` the current character is.
    let mut depth = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(next) = chars.next() else {
                    out.push('\\');
                    break;
                };
                let class = match next {
                    'd' => Some("[:digit:]"),
                    'D' => Some("[:^digit:]"),
                    'w' => Some("[:word:]"),
                    'W' => Some("[:^word:]"),
                    's' => Some("[:space:]"),
                    'S' => Some("[:^space:]"),
                    _ => None,
                };
                match (class, next, depth) {
                    (Some(class), _, 0) => {
                        out.push('[');
                        out.push_str(class);
                        out.push(']');
                    }
                    (Some(class), _, _) => out.push_str(class),
                    (None, 'b' | 'B', 0) => {
                        out.push_str("(?-u:\\");
                        out.push(next);
                        out.push(')');
                    }
                    (None, _, _) => {
                        out.push('\\');
                        out.push(next);
                    }
                }
            }
            '[' => {
                depth += 1;
                out.push('[');
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                // A `]` first in a class is a literal.
                if chars.peek() == Some(&']') {
                    out.push(']');
                    chars.next();
                }
            }
            ']' if depth > 0 => {
                depth -= 1;
                out.push(']');
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perl_classes_and_word_boundaries_are_ascii_as_in_javascript() {
        assert_eq!(
            ascii_classes(r"^\w+@\d{3}$"),
            r"^[[:word:]]+@[[:digit:]]{3}$"
        );
        assert_eq!(ascii_classes(r"[\w.+-]+"), r"[[:word:].+-]+");
        assert_eq!(ascii_classes(r"[^\W\d]"), r"[^[:^word:][:digit:]]");
        assert_eq!(ascii_classes(r"\bcat\B"), r"(?-u:\b)cat(?-u:\B)");
        assert_eq!(
            ascii_classes(r"\\w \[\w\] []\w]"),
            r"\\w \[[[:word:]]\] [][:word:]]"
        );
        let word = compile_pattern(r"^\w+$", false).expect("compiles");
        assert!(word.is_match("user_42"));
        assert!(!word.is_match("café"), "é is not an ASCII word character");
        let digits = compile_pattern(r"^\d+$", false).expect("compiles");
        assert!(!digits.is_match("٣"), "Arabic-Indic digits are not \\d");
        // `.` still matches any character, and case folding covers more than ASCII.
        assert!(
            compile_pattern("^.$", false)
                .expect("compiles")
                .is_match("é")
        );
        assert!(
            compile_pattern("^É$", true)
                .expect("compiles")
                .is_match("é")
        );
    }

    #[test]
    fn counted_repetitions_are_bounded_through_their_nesting() {
        for ok in [r"^\d{3}-\d{4}$", "a{20}", "(?:ab){4}(?:c{5})", "x+y*z?"] {
            assert!(compile_pattern(ok, false).is_ok(), "{ok}");
        }
        for costly in [
            "a{21}",
            "(?:a{5}){5}",
            "(?:[a-z]?a{64})+y",
            "a{0,100}",
            "b{25,}",
        ] {
            let err = compile_pattern(costly, false).unwrap_err();
            assert!(err.contains("may count at most 20"), "{costly}: {err}");
        }
    }

    #[test]
    fn a_broken_pattern_is_named_with_the_reason() {
        let err = compile_pattern("(abc", false).unwrap_err();
        assert!(
            err.starts_with("'(abc' is not a valid regular expression: "),
            "{err}"
        );
        assert!(err.contains("unclosed group"), "{err}");
    }
}
