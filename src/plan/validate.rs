//! The rules a plan must follow, with errors that name the field: phases in their order
//! (Planning, Preparation, audiences and Gradual steps, Full rollout, Monitoring), shares of
//! users and traffic that only grow, and gates that make sense for the release.

use std::collections::HashSet;

use super::{GradualStep, Phase, PhaseKind, Plan, Release};
use crate::InvalidInput;
use crate::deploy::strategy::MAX_WAIT_SECONDS;

/// The most phases a plan may have.
pub const MAX_PHASES: usize = 20;
/// The most steps a Gradual phase may have.
pub const MAX_STEPS: usize = 20;
/// Gates one phase or Gradual step may have.
pub const MAX_GATES: usize = 10;
/// The most requests a plan's load tests may send in all (rate × duration, summed).
pub const MAX_LOAD_REQUESTS: u64 = 120_000;

fn percent(field: String, value: Option<u32>) -> Result<(), InvalidInput> {
    match value {
        Some(p) if p > 100 => Err(InvalidInput::new(
            field,
            format!("a share between 0 and 100 percent, not {p}"),
        )),
        _ => Ok(()),
    }
}

fn bake(field: String, seconds: u32) -> Result<(), InvalidInput> {
    if seconds > MAX_WAIT_SECONDS {
        return Err(InvalidInput::new(
            field,
            "a bake time of at most a week (604800 s)",
        ));
    }
    Ok(())
}

/// Names of things stored elsewhere: none blank (`blank` says what to do), none twice.
fn check_names(field: &str, names: &[String], blank: &str) -> Result<(), InvalidInput> {
    let mut seen = HashSet::new();
    for (i, name) in names.iter().enumerate() {
        let at = format!("{field}[{i}]");
        if name.trim().is_empty() {
            return Err(InvalidInput::new(at, blank));
        }
        if !seen.insert(name) {
            return Err(InvalidInput::unprocessable(
                at,
                format!("'{name}' is listed twice"),
            ));
        }
    }
    Ok(())
}

fn check_steps(field: &str, steps: &[GradualStep], release: &Release) -> Result<(), InvalidInput> {
    if steps.is_empty() || steps.len() > MAX_STEPS {
        // At most 20 is in the document; at least one only for a Gradual phase.
        return Err(InvalidInput::unprocessable(
            format!("{field}.steps"),
            format!("a Gradual phase has 1 to {MAX_STEPS} steps"),
        ));
    }
    let mut last = 0;
    for (i, s) in steps.iter().enumerate() {
        let at = format!("{field}.steps[{i}]");
        if s.percent == 0 || s.percent > 100 {
            return Err(InvalidInput::new(
                format!("{at}.percent"),
                format!("a share between 1 and 100 percent, not {}", s.percent),
            ));
        }
        if s.percent <= last {
            return Err(InvalidInput::unprocessable(
                format!("{at}.percent"),
                format!(
                    "each step must reach more users than the one before ({}% after {last}%)",
                    s.percent
                ),
            ));
        }
        last = s.percent;
        bake(format!("{at}.bakeSeconds"), s.bake_seconds)?;
        gate_count(&at, s.gates.len())?;
        for (g, gate) in s.gates.iter().enumerate() {
            check_gate(&format!("{at}.gates[{g}]"), gate, release)?;
        }
    }
    Ok(())
}

fn check_gate(field: &str, gate: &super::Gate, release: &Release) -> Result<(), InvalidInput> {
    gate.check(field)?;
    if gate.needs_app() && !release.has_app() {
        return Err(InvalidInput::unprocessable(
            format!("{field}.type"),
            format!(
                "a {} checks the app's new version, but this release has no app",
                gate.kind()
            ),
        ));
    }
    Ok(())
}

fn check_phase(field: &str, phase: &Phase, release: &Release) -> Result<(), InvalidInput> {
    let name = phase.name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(InvalidInput::new(
            format!("{field}.name"),
            "a name of 1 to 60 characters",
        ));
    }
    let a = &phase.audience;
    if !phase.kind.has_audience()
        && (!a.segments.is_empty() || a.users_percent.is_some() || a.traffic_percent.is_some())
    {
        return Err(InvalidInput::unprocessable(
            format!("{field}.audience"),
            format!(
                "a {} phase exposes the release to nobody; leave its audience empty",
                phase.kind.label()
            ),
        ));
    }
    check_names(
        &format!("{field}.audience.segments"),
        &a.segments,
        "name a segment",
    )?;
    percent(format!("{field}.audience.usersPercent"), a.users_percent)?;
    percent(
        format!("{field}.audience.trafficPercent"),
        a.traffic_percent,
    )?;
    bake(format!("{field}.bakeSeconds"), phase.bake_seconds)?;
    if phase.kind == PhaseKind::Gradual {
        check_steps(field, &phase.steps, release)?;
    } else if !phase.steps.is_empty() {
        return Err(InvalidInput::unprocessable(
            format!("{field}.steps"),
            "only a Gradual phase has steps",
        ));
    }
    gate_count(field, phase.gates.len())?;
    for (g, gate) in phase.gates.iter().enumerate() {
        check_gate(&format!("{field}.gates[{g}]"), gate, release)?;
    }
    Ok(())
}

fn gate_count(field: &str, gates: usize) -> Result<(), InvalidInput> {
    if gates > MAX_GATES {
        return Err(InvalidInput::new(
            format!("{field}.gates"),
            format!("at most {MAX_GATES} gates ({gates} given)"),
        ));
    }
    Ok(())
}

/// Refuses a plan whose load tests would send more than [`MAX_LOAD_REQUESTS`] in all, naming
/// the load test that goes over.
fn check_load_budget(plan: &Plan) -> Result<(), InvalidInput> {
    let mut total: u64 = 0;
    for (i, phase) in plan.phases.iter().enumerate() {
        let at_phase = phase
            .gates
            .iter()
            .enumerate()
            .map(|(g, gate)| (format!("phases[{i}].gates[{g}]"), gate));
        let at_steps = phase.steps.iter().enumerate().flat_map(move |(s, step)| {
            step.gates
                .iter()
                .enumerate()
                .map(move |(g, gate)| (format!("phases[{i}].steps[{s}].gates[{g}]"), gate))
        });
        for (field, gate) in at_phase.chain(at_steps) {
            if let super::Gate::LoadTest {
                rate,
                duration_seconds,
                ..
            } = gate
            {
                total += u64::from(*rate) * u64::from(*duration_seconds);
                if total > MAX_LOAD_REQUESTS {
                    return Err(InvalidInput::unprocessable(
                        format!("{field}.durationSeconds"),
                        format!(
                            "this load test brings the plan to {total} requests; a plan's load tests send at most {MAX_LOAD_REQUESTS} in all"
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Checks that the phases come in their order and that each kind that may appear once does.
fn check_order(plan: &Plan) -> Result<(), InvalidInput> {
    let mut seen = HashSet::new();
    let mut names = HashSet::new();
    let mut rank = 0;
    for (i, p) in plan.phases.iter().enumerate() {
        let field = format!("phases[{i}]");
        if !names.insert(p.name.trim().to_lowercase()) {
            return Err(InvalidInput::unprocessable(
                format!("{field}.name"),
                format!("another phase is already called '{}'", p.name.trim()),
            ));
        }
        if !p.kind.repeatable() && !seen.insert(p.kind) {
            return Err(InvalidInput::unprocessable(
                format!("{field}.kind"),
                format!("a plan has at most one {} phase", p.kind.label()),
            ));
        }
        if p.kind.rank() < rank {
            return Err(InvalidInput::unprocessable(
                format!("{field}.kind"),
                format!(
                    "a {} phase cannot come after a later kind of phase; the order is Planning, Preparation, audiences and Gradual steps, Full rollout, Monitoring",
                    p.kind.label()
                ),
            ));
        }
        rank = p.kind.rank();
    }
    Ok(())
}

impl Plan {
    /// Checks the plan for `release`; the first problem found, naming its field.
    pub fn check(&self, release: &Release) -> Result<(), InvalidInput> {
        if self.phases.is_empty() || self.phases.len() > MAX_PHASES {
            return Err(InvalidInput::new(
                "phases",
                format!("a plan has 1 to {MAX_PHASES} phases"),
            ));
        }
        check_order(self)?;
        for (i, p) in self.phases.iter().enumerate() {
            check_phase(&format!("phases[{i}]"), p, release)?;
        }
        check_load_budget(self)?;
        // Shares only grow: a later phase never takes the release away from people who have it.
        let (mut users, mut traffic) = (0, 0);
        for (i, p) in self.phases.iter().enumerate() {
            let a = &p.audience;
            if let Some(u) = a.users_percent {
                if u < users {
                    return Err(InvalidInput::unprocessable(
                        format!("phases[{i}].audience.usersPercent"),
                        format!("{u}% is fewer users than the {users}% an earlier phase reached"),
                    ));
                }
                users = u;
            }
            if let Some(t) = a.traffic_percent {
                if t < traffic {
                    return Err(InvalidInput::unprocessable(
                        format!("phases[{i}].audience.trafficPercent"),
                        format!("{t}% is less traffic than the {traffic}% an earlier phase sent"),
                    ));
                }
                traffic = t;
            }
            if let Some(first) = p.steps.first() {
                let floor = users.max(traffic);
                if first.percent < floor {
                    return Err(InvalidInput::unprocessable(
                        format!("phases[{i}].steps[0].percent"),
                        format!(
                            "{}% is less than the {floor}% an earlier phase reached",
                            first.percent
                        ),
                    ));
                }
            }
            if let Some(last) = p.steps.last() {
                users = last.percent;
                traffic = last.percent;
            }
        }
        Ok(())
    }
}

impl Release {
    /// Checks that the release names something to release.
    pub fn check(&self) -> Result<(), InvalidInput> {
        match (&self.app, &self.version) {
            (Some(_), None) => {
                return Err(InvalidInput::unprocessable(
                    "release.version",
                    "the version the app moves to",
                ));
            }
            (None, Some(_)) => {
                return Err(InvalidInput::unprocessable(
                    "release.app",
                    "the app that moves to this version",
                ));
            }
            _ => {}
        }
        if self.app.is_none() && self.flags.is_empty() {
            return Err(InvalidInput::unprocessable(
                "release",
                "release an app's new version, one or more flags, or both",
            ));
        }
        check_names("release.flags", &self.flags, "name a flag")
    }
}
