//! Building links: the same encoding on the server (redirects) and in the browser (links).

/// Percent-encodes a query-string value; `/` is kept, so a path reads as itself.
pub fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Percent-encodes one path segment: everything but unreserved characters, so a flag key
/// with `/`, spaces or non-ASCII letters stays one segment.
pub fn encode_path_segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_characters_are_escaped_and_paths_stay_readable() {
        assert_eq!(
            encode_query_value("/audit?actor=a b&x"),
            "/audit%3Factor%3Da%20b%26x"
        );
        assert_eq!(encode_query_value("token:ci"), "token%3Aci");
        assert_eq!(encode_path_segment("Bücher/x y"), "B%C3%BCcher%2Fx%20y");
        assert_eq!(encode_path_segment("new-checkout.v2"), "new-checkout.v2");
    }
}
