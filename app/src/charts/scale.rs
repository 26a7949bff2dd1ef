//! Axis arithmetic for the charts: linear scales, round tick values and readable numbers.

/// Maps a domain interval onto a range of SVG coordinates.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    d0: f64,
    d1: f64,
    r0: f64,
    r1: f64,
}

impl Scale {
    pub fn new(d0: f64, d1: f64, r0: f64, r1: f64) -> Scale {
        Scale { d0, d1, r0, r1 }
    }

    pub fn at(&self, v: f64) -> f64 {
        let span = (self.d1 - self.d0).max(f64::EPSILON);
        self.r0 + (v - self.d0) / span * (self.r1 - self.r0)
    }

    pub fn invert(&self, r: f64) -> f64 {
        let span = (self.r1 - self.r0).max(f64::EPSILON);
        self.d0 + (r - self.r0) / span * (self.d1 - self.d0)
    }
}

/// Ticks from 0 to a round number at least `max`, 1-2-5 spaced, about four of them.
pub fn nice_ticks(max: f64) -> Vec<f64> {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let raw = max / 4.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let n = (max / step).ceil().max(1.0) as usize;
    (0..=n).map(|i| i as f64 * step).collect()
}

/// A number with at most three significant decimals, thousands kept short (`1.2k`).
pub fn number(v: f64) -> String {
    let a = v.abs();
    let text = if a >= 10_000.0 {
        format!("{:.1}k", v / 1000.0)
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    };
    if text.contains('.') && !text.ends_with('k') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// The browser's offset from UTC, in seconds (0 on the server, which draws no times).
fn local_offset_s() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        -js_sys::Date::new_0().get_timezone_offset() * 60.0
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0.0
    }
}

/// `HH:MM:SS` in the browser's time zone.
pub fn clock(t: f64) -> String {
    let s = (t + local_offset_s()).rem_euclid(86_400.0) as u64;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_maximum() {
        assert_eq!(nice_ticks(9.3), vec![0.0, 2.5, 5.0, 7.5, 10.0]);
        assert_eq!(nice_ticks(0.0), vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        let t = nice_ticks(437.0);
        assert!(*t.last().unwrap() >= 437.0 && t.len() <= 6, "{t:?}");
    }

    #[test]
    fn numbers_read_short() {
        assert_eq!(number(12.345), "12.3");
        assert_eq!(number(0.5), "0.5");
        assert_eq!(number(250.0), "250");
        assert_eq!(number(15_300.0), "15.3k");
        assert_eq!(number(2.0), "2");
    }

    #[test]
    fn scales_map_and_invert() {
        let s = Scale::new(100.0, 200.0, 0.0, 50.0);
        assert_eq!(s.at(150.0), 25.0);
        assert_eq!(s.invert(25.0), 150.0);
    }
}
