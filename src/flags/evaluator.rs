//! Evaluating flags for one context: the rules of one flag, and its prerequisites, each
//! prerequisite flag evaluated once per context however many flags depend on it.

use super::*;

/// Evaluations for one context (one request). Made by [`FlagSet::evaluator`].
pub struct Evaluator<'s, 'c> {
    pub(super) set: &'s FlagSet,
    pub(super) ctx: Context<'c>,
    /// What each prerequisite flag evaluated to, by position in the set; empty until a flag
    /// with prerequisites is evaluated, so a request without any allocates nothing.
    pub(super) seen: RefCell<Vec<Option<Evaluation<'s>>>>,
    /// How many flags' rules were evaluated.
    pub(super) decisions: Cell<usize>,
}

impl<'s> Evaluator<'s, '_> {
    /// Evaluates a flag of the set.
    pub fn evaluate(&self, flag: &'s CompiledFlag) -> Evaluation<'s> {
        if flag.is_prerequisite
            && let Some(e) = self.remembered(flag)
        {
            return e;
        }
        let e = self.decide(flag);
        if flag.is_prerequisite {
            self.remember(flag, &e);
        }
        e
    }

    fn remembered(&self, flag: &CompiledFlag) -> Option<Evaluation<'s>> {
        self.seen.borrow().get(flag.position).cloned().flatten()
    }

    fn remember(&self, flag: &CompiledFlag, e: &Evaluation<'s>) {
        let mut seen = self.seen.borrow_mut();
        if seen.len() < self.set.flags.len() {
            seen.resize(self.set.flags.len(), None);
        }
        if let Some(slot) = seen.get_mut(flag.position) {
            *slot = Some(e.clone());
        }
    }

    /// How many times a flag's targeting was evaluated: at most once per flag of the set.
    pub fn decisions(&self) -> usize {
        self.decisions.get()
    }

    fn decide(&self, flag: &'s CompiledFlag) -> Evaluation<'s> {
        self.decisions.set(self.decisions.get() + 1);
        let set = self.set;
        let ctx = &self.ctx;
        if !flag.enabled {
            return flag.outcome(flag.off, Reason::Disabled, None, false, false);
        }
        if let Some(failed) = self.failed_prerequisite(flag) {
            let mut e = flag.outcome(flag.off, Reason::Disabled, None, false, false);
            e.prerequisite_failed = Some(failed);
            return e;
        }
        if flag.rules.is_empty() {
            return flag.outcome(flag.default, Reason::Static, None, true, true);
        }
        for (i, rule) in flag.rules.iter().enumerate() {
            if !set.rule_applies(flag, rule, ctx) {
                continue;
            }
            let (variant, split) = set.serve(flag, rule, ctx);
            let reason = if rule.rollout < 100 || split {
                Reason::Split
            } else {
                Reason::TargetingMatch
            };
            return match variant {
                Some((v, payload)) => {
                    let e = flag.outcome(v, reason, Some(i), true, true);
                    Evaluation {
                        payload: payload.or(e.payload),
                        ..e
                    }
                }
                // An Unleash toggle whose rule has no variants: on, variant `disabled`.
                None => Evaluation {
                    variant: UNLEASH_DISABLED,
                    payload: None,
                    ..flag.outcome(flag.default, reason, Some(i), true, true)
                },
            };
        }
        flag.outcome(flag.default, Reason::TargetingMatch, None, true, false)
    }

    /// The first prerequisite that does not hold. A prerequisite whose own chain of
    /// prerequisites is too long (or a cycle) never holds, so evaluation recurses at most
    /// `MAX_PREREQUISITE_DEPTH` flags deep.
    fn failed_prerequisite(&self, flag: &'s CompiledFlag) -> Option<&'s str> {
        flag.prerequisites.iter().find_map(|p| {
            let holds = p.index.is_some_and(|i| {
                let parent = &self.set.flags[i];
                if parent.height >= MAX_PREREQUISITE_DEPTH {
                    return false;
                }
                let e = self.evaluate(parent);
                let unleash = parent.spec.kind == FlagKind::UnleashToggle;
                let on = if unleash { e.value == &TRUE } else { e.on };
                // Unleash checks a parent's variant only when it serves one.
                let no_variant = unleash && e.variant == UNLEASH_DISABLED && e.payload.is_none();
                if p.enabled {
                    on && (p.variants.is_empty()
                        || no_variant
                        || p.variants.iter().any(|v| v == e.variant))
                } else {
                    !on
                }
            });
            (!holds).then_some(p.flag.as_str())
        })
    }
}
