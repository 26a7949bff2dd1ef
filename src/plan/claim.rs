//! Claims: while a rollout is active it holds its app and each of its flags in its
//! environment, so that two rollouts never move the same thing at once. Storage keeps the
//! claims under a unique key; what a rollout claims and when a claim is refused is decided here.

use super::Release;
use crate::InvalidInput;

/// What a rollout can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClaimKind {
    App,
    Flag,
}

impl ClaimKind {
    /// The key storage keeps the claim under.
    pub fn key(self) -> &'static str {
        match self {
            ClaimKind::App => "app",
            ClaimKind::Flag => "flag",
        }
    }

    /// The field of the planning form a refused claim is shown against.
    pub fn field(self) -> &'static str {
        match self {
            ClaimKind::App => "release.app",
            ClaimKind::Flag => "release.flags",
        }
    }
}

/// One thing a rollout holds while it is active.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Claim<'a> {
    pub kind: ClaimKind,
    pub name: &'a str,
}

/// The rollout that holds a claim now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub rollout: i64,
    pub title: String,
}

/// Everything a rollout of `release` claims: its app, then each flag.
pub fn claims(release: &Release) -> Vec<Claim<'_>> {
    let app = release.app.iter().map(|a| Claim {
        kind: ClaimKind::App,
        name: a,
    });
    let flags = release.flags.iter().map(|f| Claim {
        kind: ClaimKind::Flag,
        name: f,
    });
    app.chain(flags).collect()
}

/// Why rollout `me` cannot take `claim`, held now by `holder`; `None` when it may (nobody
/// holds it, or `me` already does, as when a scheduled rollout starts).
pub fn refusal(claim: Claim<'_>, holder: Option<&Holder>, me: i64) -> Option<InvalidInput> {
    let h = holder.filter(|h| h.rollout != me)?;
    Some(InvalidInput::new(
        claim.kind.field(),
        format!(
            "the {} '{}' is already being rolled out in this environment by rollout #{} ({}); wait for it to end or abort it",
            claim.kind.key(),
            claim.name,
            h.rollout,
            h.title
        ),
    ))
}

/// The refusal when another rollout took `claim` between the check and the write.
pub fn lost_race(claim: Claim<'_>) -> InvalidInput {
    InvalidInput::new(
        claim.kind.field(),
        format!(
            "the {} '{}' was claimed by another rollout at the same moment",
            claim.kind.key(),
            claim.name
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release() -> Release {
        Release {
            app: Some("storefront".into()),
            version: Some("v2".into()),
            flags: vec!["new-checkout".into(), "dark-mode".into()],
        }
    }

    #[test]
    fn a_rollout_claims_its_app_and_every_flag() {
        let r = release();
        let all = claims(&r);
        assert_eq!(
            all,
            vec![
                Claim {
                    kind: ClaimKind::App,
                    name: "storefront"
                },
                Claim {
                    kind: ClaimKind::Flag,
                    name: "new-checkout"
                },
                Claim {
                    kind: ClaimKind::Flag,
                    name: "dark-mode"
                },
            ]
        );
        let flags_only = Release {
            app: None,
            version: None,
            flags: vec!["x".into()],
        };
        assert_eq!(claims(&flags_only).len(), 1);
    }

    #[test]
    fn a_claim_held_by_another_rollout_is_refused_naming_it_and_the_field() {
        let r = release();
        let held = Holder {
            rollout: 4,
            title: "Checkout v2".into(),
        };
        let why = refusal(claims(&r)[1], Some(&held), 9).expect("refused");
        assert_eq!(why.field, "release.flags");
        assert!(
            why.message.contains("flag 'new-checkout'"),
            "{}",
            why.message
        );
        assert!(
            why.message.contains("rollout #4 (Checkout v2)"),
            "{}",
            why.message
        );
        assert_eq!(
            refusal(claims(&r)[0], Some(&held), 9)
                .expect("refused")
                .field,
            "release.app"
        );
    }

    #[test]
    fn a_free_claim_or_one_the_rollout_already_holds_is_taken() {
        let r = release();
        let mine = Holder {
            rollout: 9,
            title: "Mine".into(),
        };
        assert_eq!(refusal(claims(&r)[0], None, 9), None);
        assert_eq!(refusal(claims(&r)[0], Some(&mine), 9), None);
    }
}
