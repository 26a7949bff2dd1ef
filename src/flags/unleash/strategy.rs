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
            notes.push(format!(
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
    for id in &s.segments {
        let Some(key) = segment_ids.get(id) else {
            notes.push(format!(
                "{place}: segment {id} is not in the document, so Unleash never matches this strategy; left out"
            ));
            return None;
        };
        segments.push(key.clone());
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
                notes.push(format!(
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
