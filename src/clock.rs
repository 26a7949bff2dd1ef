//! Showing instants to people. Times travel as milliseconds since the Unix epoch; this turns
//! them into calendar text the same way on the server and in the browser, so a hydrated page
//! shows exactly what the server rendered.

/// Formats `ms` since the epoch as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn format_utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Formats `ms` since the epoch as RFC 3339 in UTC, `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_rfc3339(ms: i64) -> String {
    format_utc(ms).replace(" UTC", "Z").replace(' ', "T")
}

/// Reads an RFC 3339 instant (as Kubernetes writes them) into milliseconds since the epoch.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let t =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// Howard Hinnant's days-to-civil algorithm: proleptic Gregorian date of a day number.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_epoch_is_1970() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00 UTC");
    }

    #[test]
    fn a_known_instant_formats_to_its_calendar_date() {
        // 2026-11-26T11:58:52Z
        assert_eq!(format_utc(1_795_694_332_000), "2026-11-26 11:58:52 UTC");
        assert_eq!(format_rfc3339(1_795_694_332_000), "2026-11-26T11:58:52Z");
        assert_eq!(
            parse_rfc3339("2026-11-26T11:58:52Z"),
            Some(1_795_694_332_000)
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
        // leap day
        assert_eq!(format_utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
    }

    #[test]
    fn instants_before_the_epoch_do_not_panic() {
        assert_eq!(format_utc(-1), "1969-12-31 23:59:59 UTC");
    }
}
