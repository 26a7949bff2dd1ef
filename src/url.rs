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

/// Decodes a query-string value: `+` is a space and `%XX` a byte; a malformed escape is kept
/// as it is, and bytes that are not UTF-8 become U+FFFD.
pub fn decode_query_value(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
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

/// The credentials written into a URL (`user:password` in `http://user:password@host/`), if any.
pub fn userinfo(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    authority
        .rsplit_once('@')
        .map(|(info, _)| info)
        .filter(|i| !i.is_empty())
}

/// `text` with the credentials of `url` replaced by `***` wherever they appear (in the URL
/// itself, or in an error message that quotes it), so it can be shown and logged.
pub fn redact_credentials(text: &str, url: &str) -> String {
    match userinfo(url) {
        Some(info) => text.replace(&format!("{info}@"), "***@"),
        None => text.to_owned(),
    }
}

/// The URL with its credentials replaced by `***`.
pub fn redacted(url: &str) -> String {
    redact_credentials(url, url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_decode_what_they_encode_and_keep_broken_escapes() {
        for text in ["2025-01-01T00:00:00+02:00", "ann lee@x.io", "æøå/?&="] {
            assert_eq!(decode_query_value(&encode_query_value(text)), text);
        }
        assert_eq!(decode_query_value("a+b%zz%4"), "a b%zz%4");
    }

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

    #[test]
    fn credentials_in_urls_are_redacted() {
        let url = "https://grafana:s3cret@prom.example:9090/api/prom?x=a@b";
        assert_eq!(userinfo(url), Some("grafana:s3cret"));
        assert_eq!(
            redacted(url),
            "https://***@prom.example:9090/api/prom?x=a@b"
        );
        assert_eq!(
            redact_credentials(
                &format!("error sending request for url ({url}/api/v1/query)"),
                url
            ),
            "error sending request for url (https://***@prom.example:9090/api/prom?x=a@b/api/v1/query)"
        );
        assert_eq!(
            redacted("http://prom:9090/?q=a@b"),
            "http://prom:9090/?q=a@b"
        );
        assert_eq!(redacted("not a url"), "not a url");
    }
}
