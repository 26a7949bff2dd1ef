//! The four deployment strategies and their parameters, in Argo Rollouts' vocabulary, with the
//! checks a "Deploy version" form and the REST API apply.

use serde::{Deserialize, Serialize};
use std::fmt;

use super::canary::CanaryStep;
use crate::InvalidInput;

/// A replica count given as a number (`2`) or a share of the desired replicas (`"25%"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntOrPercent {
    Count(u32),
    Percent(u32),
}

impl IntOrPercent {
    /// Parses `3` or `25%`; a percentage may not exceed 100.
    pub fn parse(field: &str, text: &str) -> Result<IntOrPercent, InvalidInput> {
        let t = text.trim();
        let bad = || {
            InvalidInput::new(
                field,
                format!("'{text}' is not a count like 1 or a percentage like 25%"),
            )
        };
        match t.strip_suffix('%') {
            Some(p) => {
                let p: u32 = p.trim().parse().map_err(|_| bad())?;
                if p > 100 {
                    return Err(InvalidInput::new(field, format!("{p}% is more than 100%")));
                }
                Ok(IntOrPercent::Percent(p))
            }
            None => t.parse().map(IntOrPercent::Count).map_err(|_| bad()),
        }
    }

    /// The count for `desired` replicas; a percentage rounds up (`round_up`) or down, as
    /// Kubernetes rounds maxSurge up and maxUnavailable down.
    pub fn resolve(self, desired: u32, round_up: bool) -> u32 {
        match self {
            IntOrPercent::Count(n) => n,
            IntOrPercent::Percent(p) => {
                let scaled = u64::from(desired) * u64::from(p);
                let n = if round_up {
                    scaled.div_ceil(100)
                } else {
                    scaled / 100
                };
                u32::try_from(n).unwrap_or(u32::MAX)
            }
        }
    }
}

impl fmt::Display for IntOrPercent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntOrPercent::Count(n) => write!(f, "{n}"),
            IntOrPercent::Percent(p) => write!(f, "{p}%"),
        }
    }
}

impl Serialize for IntOrPercent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            IntOrPercent::Count(n) => s.serialize_u32(*n),
            IntOrPercent::Percent(_) => s.serialize_str(&self.to_string()),
        }
    }
}

impl<'de> Deserialize<'de> for IntOrPercent {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Count(u32),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Count(n) => Ok(IntOrPercent::Count(n)),
            Raw::Text(t) => IntOrPercent::parse("value", &t).map_err(serde::de::Error::custom),
        }
    }
}

fn default_surge() -> IntOrPercent {
    IntOrPercent::Percent(25)
}

fn default_unavailable() -> IntOrPercent {
    IntOrPercent::Percent(25)
}

fn default_scale_down_delay() -> u32 {
    30
}

/// How a new version replaces the running one.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Strategy {
    /// Stable and canary workloads behind one Service; traffic follows the replica ratio.
    #[serde(rename_all = "camelCase")]
    Canary {
        #[cfg_attr(feature = "openapi", schema(max_items = 50))]
        steps: Vec<CanaryStep>,
    },
    /// The new version comes up behind a preview Service; promotion switches the active one.
    #[serde(rename_all = "camelCase")]
    BlueGreen {
        /// Promote by itself this long after the preview is ready.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 604_800))]
        auto_promotion_seconds: Option<u32>,
        /// Keep the old version this long after promotion, so rolling back is instant.
        #[serde(default = "default_scale_down_delay")]
        #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 604_800))]
        scale_down_delay_seconds: u32,
    },
    /// One Deployment updated in place.
    #[serde(rename_all = "camelCase")]
    Rolling {
        #[serde(default = "default_surge")]
        max_surge: IntOrPercent,
        #[serde(default = "default_unavailable")]
        max_unavailable: IntOrPercent,
    },
    /// The old version is scaled to zero before the new one starts: downtime.
    Recreate,
}

/// The longest pause or delay a step may ask for: a week.
pub const MAX_WAIT_SECONDS: u32 = 7 * 24 * 3600;

impl Strategy {
    pub fn name(&self) -> &'static str {
        match self {
            Strategy::Canary { .. } => "Canary",
            Strategy::BlueGreen { .. } => "Blue-Green",
            Strategy::Rolling { .. } => "Rolling",
            Strategy::Recreate => "Recreate",
        }
    }

    /// Whether deploying this way takes the app down for a while.
    pub fn causes_downtime(&self) -> bool {
        matches!(self, Strategy::Recreate)
    }

    /// Checks the parameters for an app of `desired` replicas.
    pub fn check(&self, desired: u32) -> Result<(), InvalidInput> {
        match self {
            Strategy::Canary { steps } => {
                if steps.len() > 50 {
                    return Err(InvalidInput::new("steps", "at most 50 steps"));
                }
                for (i, s) in steps.iter().enumerate() {
                    s.check(&format!("steps[{i}]"))?;
                }
                Ok(())
            }
            Strategy::BlueGreen {
                auto_promotion_seconds,
                scale_down_delay_seconds,
            } => {
                if auto_promotion_seconds.is_some_and(|s| s > MAX_WAIT_SECONDS) {
                    return Err(InvalidInput::new(
                        "autoPromotionSeconds",
                        "must be at most a week (604800 s)",
                    ));
                }
                if *scale_down_delay_seconds > MAX_WAIT_SECONDS {
                    return Err(InvalidInput::new(
                        "scaleDownDelaySeconds",
                        "must be at most a week (604800 s)",
                    ));
                }
                Ok(())
            }
            Strategy::Rolling {
                max_surge,
                max_unavailable,
            } => {
                if max_surge.resolve(desired, true) == 0
                    && max_unavailable.resolve(desired, false) == 0
                    && desired > 0
                {
                    return Err(InvalidInput::unprocessable(
                        "maxUnavailable",
                        "maxSurge and maxUnavailable cannot both be 0: the update could never make progress",
                    ));
                }
                Ok(())
            }
            Strategy::Recreate => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_percentages_parse_and_round_as_kubernetes_does() {
        assert_eq!(
            IntOrPercent::parse("maxSurge", "25%"),
            Ok(IntOrPercent::Percent(25))
        );
        assert_eq!(
            IntOrPercent::parse("maxSurge", " 2 "),
            Ok(IntOrPercent::Count(2))
        );
        let err = IntOrPercent::parse("maxSurge", "lots").unwrap_err();
        assert_eq!(err.field, "maxSurge");
        assert!(
            IntOrPercent::parse("maxSurge", "150%")
                .unwrap_err()
                .message
                .contains("150%")
        );
        // 25% of 10: surge rounds up to 3, unavailable down to 2.
        assert_eq!(IntOrPercent::Percent(25).resolve(10, true), 3);
        assert_eq!(IntOrPercent::Percent(25).resolve(10, false), 2);
    }

    #[test]
    fn strategies_read_and_write_argo_style_json() {
        let s: Strategy =
            serde_json::from_str(r#"{"type": "rolling", "maxSurge": "50%", "maxUnavailable": 0}"#)
                .unwrap();
        assert_eq!(
            s,
            Strategy::Rolling {
                max_surge: IntOrPercent::Percent(50),
                max_unavailable: IntOrPercent::Count(0)
            }
        );
        let bg: Strategy = serde_json::from_str(r#"{"type": "blueGreen"}"#).unwrap();
        assert_eq!(
            bg,
            Strategy::BlueGreen {
                auto_promotion_seconds: None,
                scale_down_delay_seconds: 30
            }
        );
        let c: Strategy = serde_json::from_str(
            r#"{"type": "canary", "steps": [{"setWeight": 20}, {"pause": {"duration": 60}}, {"pause": {}}, {"setWeight": 50}]}"#,
        )
        .unwrap();
        assert_eq!(c.name(), "Canary");
        assert!(Strategy::Recreate.causes_downtime());
    }

    #[test]
    fn a_rolling_update_that_can_never_progress_is_refused() {
        let stuck = Strategy::Rolling {
            max_surge: IntOrPercent::Count(0),
            max_unavailable: IntOrPercent::Percent(10),
        };
        // 10% of 3 rounds down to 0.
        assert_eq!(stuck.check(3).unwrap_err().field, "maxUnavailable");
        assert!(stuck.check(10).is_ok());
    }
}
