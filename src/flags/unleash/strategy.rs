//! One Unleash strategy as one of our targeting rules: its parameters read, its percentages
//! and lists checked, what cannot be represented noted.

use super::*;

fn list_param(s: &UnleashStrategy, name: &str) -> Vec<String> {
    param(s, name)
        .unwrap_or_default()
        .split(',')
        .map(|x| x.trim().to_owned())
        .filter(|x| !x.is_empty())
        .collect()
}

fn percentage(
    s: &UnleashStrategy,
    name: &str,
    place: &str,
    notes: &mut super::bounds::Notes,
) -> Option<u32> {
    let raw = param(s, name).unwrap_or_default();
    match raw.trim().parse::<u32>() {
        Ok(p) => Some(p.min(100)),
        Err(_) => {
            notes.warn(format!(
                "{place}: {name} '{raw}' is not a whole percentage, so Unleash never enables it; left out"
            ));
            None
        }
    }
}

pub(super) fn strategy_rule(
    s: &UnleashStrategy,
    serve: Serve,
    segment_ids: &HashMap<i64, String>,
    place: &str,
    notes: &mut super::bounds::Notes,
) -> Option<Rule> {
    let mut constraints = Vec::new();
    for c in &s.constraints {
        constraints.push(constraint(c, place, notes)?);
    }
    let mut segments = Vec::new();
    let mut named = HashSet::new();
    for id in &s.segments {
        // A missing segment makes the whole toggle one Unleash cannot compile (see
        // [`uncompilable`]), checked before any strategy is read.
        let key = segment_ids.get(id)?;
        // Naming a segment twice means what naming it once does.
        if named.insert(*id) {
            segments.push(key.clone());
        }
    }
    let mut rule = Rule {
        description: format!("Unleash {} strategy", s.name),
        segments,
        constraints,
        rollout: 100,
        stickiness: DEFAULT_STICKINESS.into(),
        group_id: None,
        serve,
    };
    let list = |field: &str, operator: Operator, values: Vec<String>, ci: bool| Constraint {
        context_name: field.into(),
        operator,
        values,
        value: None,
        inverted: false,
        case_insensitive: ci,
    };
    match s.name.as_str() {
        "default" => {}
        "userWithId" => {
            let ids = list_param(s, "userIds");
            rule.constraints
                .push(list("userId", Operator::In, ids, false));
        }
        "gradualRolloutUserId" | "gradualRolloutSessionId" => {
            rule.stickiness = if s.name == "gradualRolloutUserId" {
                "userId"
            } else {
                "sessionId"
            }
            .into();
            rule.rollout = percentage(s, "percentage", place, notes)?;
            let Some(group) = param(s, "groupId") else {
                notes.warn(format!(
                    "{place}: no groupId, so Unleash never enables it; left out"
                ));
                return None;
            };
            rule.group_id = Some(group);
        }
        "gradualRolloutRandom" => {
            rule.stickiness = "random".into();
            rule.rollout = percentage(s, "percentage", place, notes)?;
        }
        "flexibleRollout" => {
            rule.rollout = percentage(s, "rollout", place, notes)?;
            if let Some(st) = param(s, "stickiness").filter(|x| !x.is_empty()) {
                rule.stickiness = st;
            }
            rule.group_id = param(s, "groupId").filter(|x| !x.is_empty());
        }
        "remoteAddress" => {
            let ips = list_param(s, "IPs");
            rule.constraints
                .push(list("remoteAddress", Operator::InCidr, ips, false));
        }
        "applicationHostname" => {
            let hosts = list_param(s, "hostNames")
                .into_iter()
                .map(|h| h.to_lowercase())
                .collect();
            notes.push(format!(
                "{place}: Unleash compares the application's own host name; here applications send it as the context attribute `hostname`"
            ));
            rule.constraints
                .push(list("hostname", Operator::In, hosts, true));
        }
        other => {
            notes.push(format!(
                "{place}: custom strategy '{other}' has no implementation here (Unleash also evaluates unknown strategies as off); left out"
            ));
            return None;
        }
    }
    Some(rule)
}

/// Why Unleash's engine cannot compile `f`'s strategies, if it cannot: then it keeps the toggle
/// off for everyone and serves no variant. It cannot when a strategy names a segment the
/// document lacks, a constraint (its own or a segment's) names an unknown operator or gives a
/// number, date or version it cannot read, or a rollout is over 100 %.
pub(super) fn uncompilable(
    f: &Feature,
    segments: &HashMap<i64, &UnleashSegment>,
) -> Option<String> {
    // Each segment is judged once however often strategies name it.
    let mut judged: HashMap<i64, Option<String>> = HashMap::new();
    for (i, s) in f.strategies.iter().enumerate() {
        let place = format!("strategy {} ({})", i + 1, s.name);
        if let Some(why) = s.constraints.iter().find_map(unreadable_constraint) {
            return Some(format!("{place}: {why}"));
        }
        for id in &s.segments {
            let why = judged.entry(*id).or_insert_with(|| match segments.get(id) {
                Some(segment) => segment
                    .constraints
                    .iter()
                    .find_map(unreadable_constraint)
                    .map(|why| format!("segment {id}: {why}")),
                None => Some(format!("segment {id}, which is not in the document")),
            });
            if let Some(why) = why {
                return Some(format!("{place} uses {why}"));
            }
        }
        let over_100 = |name: &str| {
            param(s, name)
                .and_then(|p| p.parse::<usize>().ok())
                .is_some_and(|p| p > 100)
        };
        let rollout = match s.name.as_str() {
            "flexibleRollout" => over_100("rollout"),
            "gradualRolloutUserId" | "gradualRolloutSessionId" => {
                over_100("percentage") && param(s, "groupId").is_some()
            }
            _ => false,
        };
        if rollout {
            return Some(format!("{place} rolls out to more than 100 %"));
        }
    }
    None
}

/// Why Unleash's engine cannot read constraint `c`, if it cannot.
fn unreadable_constraint(c: &UnleashConstraint) -> Option<String> {
    let Some(operator) = Operator::parse(&c.operator) else {
        return Some(format!("operator {} is unknown", c.operator));
    };
    // The number, date and version comparisons: every single-value operator but REGEX.
    let ordinal = operator.takes_single_value() && operator != Operator::Regex;
    if !ordinal {
        // Unleash's rule grammar has no empty list of strings to look for or networks.
        let needs_values = matches!(
            operator,
            Operator::StrStartsWith
                | Operator::StrEndsWith
                | Operator::StrContains
                | Operator::InCidr
        );
        return (needs_values && c.values.is_empty())
            .then(|| format!("{} has no values", operator.as_str()));
    }
    let Some(value) = c.value.as_ref().and_then(text) else {
        return Some(format!("{} has no value", operator.as_str()));
    };
    if operator.as_str().starts_with("SEMVER_") && value.starts_with('v') {
        return None;
    }
    (!unleash_reads_ordinal(&value)).then(|| {
        format!(
            "{} compares with '{}', which is not a number, date or version it reads",
            operator.as_str(),
            shortened(&value, 40)
        )
    })
}

/// Whether Unleash's rule grammar reads `v` as a date, a version or a number (in that order)
/// and the value parses as one.
fn unleash_reads_ordinal(v: &str) -> bool {
    // Every form the grammar reads is ASCII (and byte slicing below relies on it).
    if !v.is_ascii() {
        return false;
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let date_shape = v.len() >= 20 && v.is_char_boundary(19) && {
        let (head, zone) = v.split_at(19);
        let fraction_and_zone = zone.strip_prefix('.').map_or(Some(zone), |rest| {
            rest.get(..3).filter(|d| digits(d)).map(|_| &rest[3..])
        });
        head.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            10 => b == b'T',
            13 | 16 => b == b':',
            _ => b.is_ascii_digit(),
        }) && fraction_and_zone.is_some_and(|z| {
            z == "Z"
                || (z.len() == 6
                    && (z.starts_with('+') || z.starts_with('-'))
                    && digits(&z[1..3])
                    && &z[3..4] == ":"
                    && digits(&z[4..6]))
        })
    };
    if date_shape {
        return super::super::constraint::parse_date(v).is_some();
    }
    let core = v.split(['-', '+']).next().unwrap_or_default();
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() == 3 && parts.iter().all(|p| digits(p)) {
        return semver::Version::parse(v).is_ok();
    }
    let unsigned = v.strip_prefix(['+', '-']).unwrap_or(v);
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e.strip_prefix(['+', '-']).unwrap_or(e))),
        None => (unsigned, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, "0"));
    digits(whole)
        && (fraction.is_empty() || digits(fraction))
        && exponent.is_none_or(digits)
        && v.parse::<f64>().is_ok()
}
