//! Kubernetes label selectors, as `kubectl -l` and the API's `labelSelector` parameter write
//! them: `app=storefront,version!=v1,tier in (web, api),!canary,track`. The sandbox cluster
//! filters lists with them; the controller builds them for the objects it manages.

use std::collections::BTreeMap;

use crate::InvalidInput;

/// One requirement on an object's labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

/// A parsed selector: every requirement must hold. The empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector(pub Vec<Requirement>);

fn check_key(key: &str, text: &str) -> Result<String, InvalidInput> {
    let key = key.trim();
    let valid = !key.is_empty()
        && key.len() <= 317
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    if valid {
        Ok(key.to_owned())
    } else {
        Err(InvalidInput::new(
            "labelSelector",
            format!("'{key}' in '{text}' is not a valid label key"),
        ))
    }
}

/// Splits on commas that are not inside parentheses.
fn split_top(text: &str) -> Vec<&str> {
    let (mut depth, mut start, mut out) = (0i32, 0, Vec::new());
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&text[start..]);
    out
}

fn set_values(rest: &str, text: &str) -> Result<Vec<String>, InvalidInput> {
    let inner = rest
        .trim()
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| {
            InvalidInput::new(
                "labelSelector",
                format!("'{text}': a set needs parentheses, like in (a, b)"),
            )
        })?;
    Ok(inner
        .split(',')
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect())
}

impl LabelSelector {
    /// Parses the text form; a mistake is named with the part it is in.
    pub fn parse(text: &str) -> Result<LabelSelector, InvalidInput> {
        let mut out = Vec::new();
        for part in split_top(text)
            .into_iter()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let words: Vec<&str> = part.split_whitespace().collect();
            let req = if let Some(k) = part.strip_prefix('!') {
                Requirement::DoesNotExist(check_key(k, text)?)
            } else if words.len() >= 2 && words[1] == "in" {
                let rest = part.split_once(" in ").map_or("", |x| x.1);
                Requirement::In(check_key(words[0], text)?, set_values(rest, text)?)
            } else if words.len() >= 3 && words[1] == "notin" {
                let rest = part.split_once(" notin ").map_or("", |x| x.1);
                Requirement::NotIn(check_key(words[0], text)?, set_values(rest, text)?)
            } else if let Some((k, v)) = part.split_once("!=") {
                Requirement::NotEquals(check_key(k, text)?, v.trim().to_owned())
            } else if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                Requirement::Equals(check_key(k, text)?, v.trim().to_owned())
            } else {
                Requirement::Exists(check_key(part, text)?)
            };
            out.push(req);
        }
        Ok(LabelSelector(out))
    }

    /// A selector requiring exactly these labels.
    pub fn from_labels(labels: &BTreeMap<String, String>) -> LabelSelector {
        LabelSelector(
            labels
                .iter()
                .map(|(k, v)| Requirement::Equals(k.clone(), v.clone()))
                .collect(),
        )
    }

    /// Whether an object with these labels is selected.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|r| match r {
            Requirement::Equals(k, v) => labels.get(k) == Some(v),
            Requirement::NotEquals(k, v) => labels.get(k) != Some(v),
            Requirement::In(k, vs) => labels.get(k).is_some_and(|l| vs.contains(l)),
            Requirement::NotIn(k, vs) => labels.get(k).is_none_or(|l| !vs.contains(l)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::DoesNotExist(k) => !labels.contains_key(k),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_kind_of_requirement_selects_as_kubectl_does() {
        let pod = labels(&[("app", "storefront"), ("version", "v2"), ("tier", "web")]);
        let yes = [
            "",
            "app=storefront",
            "app==storefront,version!=v1",
            "tier in (web, api)",
            "version notin (v1,v3)",
            "app,!canary",
            "app.kubernetes.io/name notin (x)",
        ];
        for s in yes {
            assert!(LabelSelector::parse(s).unwrap().matches(&pod), "{s}");
        }
        let no = [
            "app=checkout",
            "version!=v2",
            "tier in (api)",
            "version notin (v2)",
            "canary",
            "!tier",
        ];
        for s in no {
            assert!(!LabelSelector::parse(s).unwrap().matches(&pod), "{s}");
        }
    }

    #[test]
    fn a_malformed_selector_is_refused_naming_the_part() {
        let err = LabelSelector::parse("tier in web").unwrap_err();
        assert!(err.message.contains("needs parentheses"), "{}", err.message);
        let err = LabelSelector::parse("a b=c").unwrap_err();
        assert!(err.message.contains("'a b'"), "{}", err.message);
    }

    #[test]
    fn a_selector_built_from_labels_selects_them() {
        let l = labels(&[("app", "storefront"), ("varai.io/managed", "true")]);
        assert!(LabelSelector::from_labels(&l).matches(&l));
        assert!(!LabelSelector::from_labels(&l).matches(&labels(&[("app", "storefront")])));
    }
}
