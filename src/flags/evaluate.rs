//! Evaluation: one environment's flags and segments compiled into a [`FlagSet`], and the pure
//! function that decides what a flag serves for a context.
//!
//! Building a set never fails: whatever was stored is served as well as it can be (a value
//! that does not parse makes its constraint false, a missing segment makes its rule not match).
//! Saving is where bad input is refused (see [`super::validate`]).

use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};

use super::constraint::{Matcher, cost_of};
use super::context::{Context, Sticky};
use super::model::{FlagKind, FlagSpec, Payload, Segment, Serve, Targeting};
use super::murmur::VARIANT_SEED;

#[path = "compile.rs"]
mod compile;
use compile::{compile_flag, link_prerequisites};
#[path = "evaluator.rs"]
mod evaluator;
pub use evaluator::Evaluator;

/// Why a flag served what it served: OFREP's reason codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The flag is on and has no rules: everyone gets the default variant.
    Static,
    /// A rule (or, when none matched, the default) decided by the context's attributes.
    TargetingMatch,
    /// A percentage rollout or a weighted split decided.
    Split,
    /// The flag is off in this environment, or a prerequisite does not hold.
    Disabled,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Static => "STATIC",
            Reason::TargetingMatch => "TARGETING_MATCH",
            Reason::Split => "SPLIT",
            Reason::Disabled => "DISABLED",
        }
    }
}

/// The outcome of evaluating one flag.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation<'s> {
    pub key: &'s str,
    pub value: &'s Value,
    pub variant: &'s str,
    pub reason: Reason,
    /// The index of the rule that matched.
    pub rule: Option<usize>,
    /// The payload of an imported Unleash variant.
    pub payload: Option<&'s Payload>,
    /// The prerequisite flag that did not hold.
    pub prerequisite_failed: Option<&'s str>,
    /// Whether the flag is on for this context (enabled and its prerequisites hold).
    pub on: bool,
}

struct CompiledSegment {
    matchers: Vec<Matcher>,
    included: HashSet<String>,
    excluded: HashSet<String>,
}

impl CompiledSegment {
    fn new(s: &Segment) -> Self {
        CompiledSegment {
            matchers: s.constraints.iter().map(|c| c.compile_lenient()).collect(),
            included: s.included.iter().cloned().collect(),
            excluded: s.excluded.iter().cloned().collect(),
        }
    }

    fn matches(&self, ctx: &Context<'_>) -> bool {
        let user = ctx.user_id();
        if user.is_some_and(|u| self.excluded.contains(u)) {
            return false;
        }
        if user.is_some_and(|u| self.included.contains(u)) {
            return true;
        }
        if self.matchers.is_empty() {
            return self.included.is_empty();
        }
        self.matchers.iter().all(|m| m.matches(ctx))
    }
}

/// Whether `segment` matches the context: an excluded user never does, an included user
/// always does; otherwise every constraint must hold — and a segment with neither
/// constraints nor an include list matches everyone.
pub fn segment_matches(segment: &Segment, ctx: &Context<'_>) -> bool {
    CompiledSegment::new(segment).matches(ctx)
}

enum CompiledServe {
    Variant(usize),
    Split {
        choices: Vec<Choice>,
        total: u32,
        stickiness: String,
        group: Option<String>,
        overrides: Vec<CompiledOverride>,
    },
}

/// A variant served to whoever has one of `values` in `field`, with the payload of the split's
/// first choice of it (`choice`), if it is one.
struct CompiledOverride {
    variant: usize,
    choice: Option<usize>,
    field: String,
    values: Vec<String>,
}

/// One variant of a split: its position in the flag, its weight, and the payload the split
/// serves with it when that is not the variant's own.
struct Choice {
    variant: usize,
    weight: u32,
    payload: Option<Payload>,
}

/// What a matching rule serves: a variant, with the payload to serve in place of its own.
type Served<'s> = (usize, Option<&'s Payload>);

struct CompiledRule {
    /// `None` for a segment that does not exist: the rule never matches.
    segments: Vec<Option<usize>>,
    matchers: Vec<Matcher>,
    rollout: u32,
    stickiness: String,
    group: Option<String>,
    serve: CompiledServe,
}

struct CompiledPrerequisite {
    flag: String,
    /// The prerequisite's position in the set; `None` when the environment has no such flag.
    index: Option<usize>,
    enabled: bool,
    variants: Vec<String>,
}

/// One flag, compiled for evaluation.
pub struct CompiledFlag {
    pub spec: FlagSpec,
    enabled: bool,
    rules: Vec<CompiledRule>,
    default: usize,
    off: usize,
    prerequisites: Vec<CompiledPrerequisite>,
    /// The longest chain of prerequisites below this flag, capped at
    /// `MAX_PREREQUISITE_DEPTH + 1` (which a cycle also reaches).
    height: u8,
    /// Whether another flag names this one as a prerequisite (its evaluation is remembered).
    is_prerequisite: bool,
    /// This flag's position in its set.
    position: usize,
    /// An upper bound on the work of evaluating this flag alone (its rules and their segments),
    /// counted in simple tests; see [`CompiledFlag::cost`] for its prerequisites too.
    own_cost: u32,
    /// The same bound with every prerequisite below it included.
    cost: u32,
}

/// One environment's flags, ready to evaluate.
#[derive(Default)]
pub struct FlagSet {
    flags: Vec<CompiledFlag>,
    index: HashMap<String, usize>,
    segments: Vec<CompiledSegment>,
    /// The summed own cost of every flag: what a bulk evaluation may cost.
    cost: u32,
}

static TRUE: Value = Value::Bool(true);
static FALSE: Value = Value::Bool(false);
const UNLEASH_DISABLED: &str = "disabled";
/// Prerequisite chains longer than this are treated as not holding (cycles are refused on save;
/// one that was stored anyway never holds).
const MAX_PREREQUISITE_DEPTH: u8 = 8;

impl FlagSet {
    /// Compiles an environment's flags (with their targeting there) and all segments.
    pub fn build<'a>(
        flags: impl IntoIterator<Item = (FlagSpec, Targeting)>,
        segments: impl IntoIterator<Item = &'a Segment>,
    ) -> FlagSet {
        let mut seg_index = HashMap::new();
        let segments: Vec<CompiledSegment> = segments
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                seg_index.insert(s.key.clone(), i);
                CompiledSegment::new(s)
            })
            .collect();
        let segment_costs: Vec<u32> = segments.iter().map(|s| cost_of(&s.matchers, 0)).collect();
        let mut set = FlagSet {
            segments,
            ..FlagSet::default()
        };
        for (spec, targeting) in flags {
            if let Some(flag) = compile_flag(spec, targeting, &seg_index, &segment_costs) {
                set.index.insert(flag.spec.key.clone(), set.flags.len());
                set.flags.push(flag);
            }
        }
        link_prerequisites(&mut set.flags, &set.index);
        set.cost = set
            .flags
            .iter()
            .fold(0u32, |sum, f| sum.saturating_add(f.own_cost));
        set
    }

    pub fn len(&self) -> usize {
        self.flags.len()
    }

    /// An upper bound on the work of evaluating every flag for one context (as a bulk
    /// evaluation does, each flag once), counted in simple tests.
    pub fn cost(&self) -> u32 {
        self.cost
    }

    pub fn is_empty(&self) -> bool {
        self.flags.is_empty()
    }

    /// The flags, in the order they were given.
    pub fn flags(&self) -> impl Iterator<Item = &CompiledFlag> {
        self.flags.iter()
    }

    pub fn get(&self, key: &str) -> Option<&CompiledFlag> {
        self.index.get(key).map(|&i| &self.flags[i])
    }

    /// Evaluates the flag `key`; `None` when there is no such flag.
    pub fn evaluate(&self, key: &str, ctx: &Context<'_>) -> Option<Evaluation<'_>> {
        self.get(key).map(|f| self.evaluator(*ctx).evaluate(f))
    }

    /// An evaluator for one context (one request): however many flags are evaluated with it and
    /// however they name each other as prerequisites, each flag is evaluated at most once.
    pub fn evaluator<'c>(&self, ctx: Context<'c>) -> Evaluator<'_, 'c> {
        Evaluator {
            set: self,
            ctx,
            seen: RefCell::new(Vec::new()),
            decisions: Cell::new(0),
        }
    }

    fn rule_applies(&self, flag: &CompiledFlag, rule: &CompiledRule, ctx: &Context<'_>) -> bool {
        let segments_match = rule.segments.iter().all(|s| match s {
            Some(i) => self.segment_matches(*i, ctx),
            None => false,
        });
        if !segments_match || !rule.matchers.iter().all(|m| m.matches(ctx)) {
            return false;
        }
        if rule.rollout == 0 {
            return false;
        }
        let group = rule.group.as_deref().unwrap_or(&flag.spec.key);
        ctx.stickiness(&rule.stickiness)
            .is_some_and(|s| s.bucket(group, 0, 100) <= rule.rollout)
    }

    /// Whether segment `i` matches: an excluded user never does, an included user always does;
    /// otherwise every constraint must hold — and a segment with neither constraints nor an
    /// include list matches everyone.
    fn segment_matches(&self, i: usize, ctx: &Context<'_>) -> bool {
        self.segments[i].matches(ctx)
    }

    /// The variant a matching rule serves, and whether a weighted split chose it.
    fn serve<'s>(
        &self,
        flag: &CompiledFlag,
        rule: &'s CompiledRule,
        ctx: &Context<'_>,
    ) -> (Option<Served<'s>>, bool) {
        match &rule.serve {
            CompiledServe::Variant(v) => (Some((*v, None)), false),
            CompiledServe::Split {
                choices,
                total,
                stickiness,
                group,
                overrides,
            } => {
                let served = |c: &'s Choice| (c.variant, c.payload.as_ref());
                for o in overrides {
                    if ctx
                        .field(&o.field)
                        .is_some_and(|x| o.values.iter().any(|y| *y == *x))
                    {
                        let payload = o.choice.and_then(|c| choices[c].payload.as_ref());
                        return (Some((o.variant, payload)), false);
                    }
                }
                if *total == 0 {
                    return (None, false);
                }
                let group = group
                    .as_deref()
                    .or(rule.group.as_deref())
                    .unwrap_or(&flag.spec.key);
                let sticky = ctx
                    .stickiness(stickiness)
                    .unwrap_or(Sticky::Random(ctx.random));
                let n = u64::from(sticky.bucket(group, VARIANT_SEED, *total));
                let mut sum = 0u64;
                for c in choices {
                    sum += u64::from(c.weight);
                    if n <= sum {
                        return (Some(served(c)), choices.len() > 1);
                    }
                }
                (None, false)
            }
        }
    }
}

impl CompiledFlag {
    fn outcome(
        &self,
        variant: usize,
        reason: Reason,
        rule: Option<usize>,
        on: bool,
        matched: bool,
    ) -> Evaluation<'_> {
        let v = &self.spec.variants[variant];
        let value = match self.spec.kind {
            FlagKind::Standard => &v.value,
            FlagKind::UnleashToggle if on && matched => &TRUE,
            FlagKind::UnleashToggle => &FALSE,
        };
        Evaluation {
            key: &self.spec.key,
            value,
            variant: &v.name,
            reason,
            rule,
            payload: v.payload.as_ref(),
            prerequisite_failed: None,
            on,
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// An upper bound on the work of evaluating this flag for one context, its prerequisites
    /// included, counted in simple tests (a string comparison is 1, a pattern match 100).
    pub fn cost(&self) -> u32 {
        self.cost
    }
}
