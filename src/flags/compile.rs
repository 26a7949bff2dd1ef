//! Compiling one flag's definition and targeting for evaluation: variant names resolved to
//! indexes, segments to their compiled position, constraints to matchers.

use super::*;

pub(super) fn compile_flag(
    spec: FlagSpec,
    targeting: Targeting,
    segments: &HashMap<String, usize>,
    segment_costs: &[u32],
) -> Option<CompiledFlag> {
    // Each name's first position, looked up in constant time however many entries name it.
    let positions: HashMap<&str, usize> = spec
        .variants
        .iter()
        .enumerate()
        .rev()
        .map(|(i, v)| (v.name.as_str(), i))
        .collect();
    let find = |name: &str| positions.get(name).copied();
    let first = if spec.variants.is_empty() {
        return None;
    } else {
        0
    };
    let default = find(&targeting.default_variant).unwrap_or(first);
    let off = find(&targeting.off_variant).unwrap_or(default);
    let rules: Vec<CompiledRule> = targeting
        .rules
        .iter()
        .filter_map(|r| {
            let serve = match &r.serve {
                Serve::Variant(name) => CompiledServe::Variant(find(name)?),
                Serve::Split(s) => {
                    let choices: Vec<Choice> = s
                        .variants
                        .iter()
                        .filter_map(|w| {
                            Some(Choice {
                                variant: find(&w.variant)?,
                                weight: w.weight,
                                payload: w.payload.clone(),
                            })
                        })
                        .collect();
                    // Weights are summed without overflow; a total beyond u32 is capped.
                    let total: u64 = choices.iter().map(|c| u64::from(c.weight)).sum();
                    // An override serves its variant with the payload the split gives it.
                    let first_choice: HashMap<usize, usize> = choices
                        .iter()
                        .enumerate()
                        .rev()
                        .map(|(i, c)| (c.variant, i))
                        .collect();
                    CompiledServe::Split {
                        total: u32::try_from(total).unwrap_or(u32::MAX),
                        overrides: s
                            .overrides
                            .iter()
                            .filter_map(|o| {
                                let variant = find(&o.variant)?;
                                Some(CompiledOverride {
                                    variant,
                                    choice: first_choice.get(&variant).copied(),
                                    field: o.context_name.clone(),
                                    values: o.values.clone(),
                                })
                            })
                            .collect(),
                        choices,
                        stickiness: s.stickiness.clone(),
                        group: s.group_id.clone(),
                    }
                }
            };
            Some(CompiledRule {
                segments: r
                    .segments
                    .iter()
                    .map(|k| segments.get(k).copied())
                    .collect(),
                matchers: r.constraints.iter().map(|c| c.compile_lenient()).collect(),
                rollout: r.rollout.min(100),
                stickiness: r.stickiness.clone(),
                group: r.group_id.clone(),
                serve,
            })
        })
        .collect();
    let prerequisites = targeting
        .prerequisites
        .iter()
        .map(|p| CompiledPrerequisite {
            flag: p.flag.clone(),
            index: None,
            enabled: p.enabled,
            variants: p.variants.clone(),
        })
        .collect();
    let own_cost = rules
        .iter()
        .map(|r: &CompiledRule| {
            let segments = r
                .segments
                .iter()
                .flatten()
                .filter_map(|&i| segment_costs.get(i))
                .fold(0u32, |sum, c| sum.saturating_add(*c));
            cost_of(&r.matchers, segments)
        })
        .fold(1u32, u32::saturating_add);
    Some(CompiledFlag {
        own_cost,
        cost: own_cost,
        enabled: targeting.enabled,
        rules,
        default,
        off,
        prerequisites,
        spec,
        height: 0,
        is_prerequisite: false,
        position: 0,
    })
}

/// Resolves each prerequisite to its flag's position and measures every flag's chain of
/// prerequisites, capped at one more than the deepest chain that may hold (a cycle reaches
/// the cap too), and the cost of evaluating each flag with all it depends on (an upper bound:
/// a prerequisite shared by two others counts twice). Iterative, so a long chain of stored
/// flags cannot exhaust the stack.
pub(super) fn link_prerequisites(flags: &mut [CompiledFlag], index: &HashMap<String, usize>) {
    for (position, flag) in flags.iter_mut().enumerate() {
        flag.position = position;
        for p in &mut flag.prerequisites {
            p.index = index.get(&p.flag).copied();
        }
    }
    let edges: Vec<Vec<usize>> = flags
        .iter()
        .map(|f| f.prerequisites.iter().filter_map(|p| p.index).collect())
        .collect();
    for i in edges.iter().flatten() {
        flags[*i].is_prerequisite = true;
    }
    for _ in 0..=MAX_PREREQUISITE_DEPTH {
        let heights: Vec<u8> = flags.iter().map(|f| f.height).collect();
        for (flag, below) in flags.iter_mut().zip(&edges) {
            flag.height = below
                .iter()
                .map(|&i| heights[i].saturating_add(1))
                .max()
                .unwrap_or(0)
                .min(MAX_PREREQUISITE_DEPTH + 1);
        }
        let costs: Vec<u32> = flags.iter().map(|f| f.cost).collect();
        for (flag, below) in flags.iter_mut().zip(&edges) {
            flag.cost = below
                .iter()
                .fold(flag.own_cost, |sum, &i| sum.saturating_add(costs[i]));
        }
    }
}
