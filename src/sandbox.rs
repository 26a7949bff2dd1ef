//! The sandbox cluster's simulated behaviour: how each version of an app answers requests
//! (errors, latency), what it costs (CPU, memory), how its users convert, and whether its pods
//! come up healthy. A user changes these from the Sandbox page to rehearse a bad release.

use serde::{Deserialize, Serialize};

use crate::InvalidInput;

/// How a version's pods fare after they start.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum PodHealth {
    /// Start, pass readiness, serve.
    #[default]
    Healthy,
    /// Run but never pass their readiness probe, so they get no traffic.
    FailsReadiness,
    /// The container exits at once and restarts with a growing back-off.
    CrashLoop,
}

impl PodHealth {
    pub const ALL: [PodHealth; 3] = [
        PodHealth::Healthy,
        PodHealth::FailsReadiness,
        PodHealth::CrashLoop,
    ];

    pub fn key(self) -> &'static str {
        match self {
            PodHealth::Healthy => "healthy",
            PodHealth::FailsReadiness => "failsReadiness",
            PodHealth::CrashLoop => "crashLoop",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PodHealth::Healthy => "Healthy",
            PodHealth::FailsReadiness => "Fails readiness",
            PodHealth::CrashLoop => "Crash-loops",
        }
    }

    pub fn from_key(key: &str) -> Option<PodHealth> {
        PodHealth::ALL.into_iter().find(|h| h.key() == key)
    }
}

/// A version's behaviour profile.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Behaviour {
    /// Share of requests answered with a 500, 0–1.
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1))]
    pub error_rate: f64,
    /// Median latency in milliseconds.
    #[cfg_attr(feature = "openapi", schema(exclusive_minimum = 0, maximum = 60_000))]
    pub latency_p50_ms: f64,
    /// 99th-percentile latency in milliseconds (at least the median).
    #[cfg_attr(feature = "openapi", schema(exclusive_minimum = 0, maximum = 60_000))]
    pub latency_p99_ms: f64,
    /// CPU used per pod, in millicores.
    #[cfg_attr(feature = "openapi", schema(exclusive_minimum = 0, maximum = 64_000))]
    pub cpu_millicores: f64,
    /// Memory used per pod, in MiB.
    #[cfg_attr(
        feature = "openapi",
        schema(exclusive_minimum = 0, maximum = 1_048_576)
    )]
    pub memory_mib: f64,
    /// Share of checkout visits that end in a purchase, 0–1.
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1))]
    pub conversion_rate: f64,
    pub health: PodHealth,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            error_rate: 0.002,
            latency_p50_ms: 45.0,
            latency_p99_ms: 180.0,
            cpu_millicores: 120.0,
            memory_mib: 160.0,
            conversion_rate: 0.05,
            health: PodHealth::Healthy,
        }
    }
}

/// z for the 99th percentile of the standard normal distribution.
const Z99: f64 = 2.326_347_874;

fn share(field: &str, label: &str, v: f64) -> Result<(), InvalidInput> {
    if v.is_finite() && (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(InvalidInput::new(
            field,
            format!("{label} must be between 0% and 100%"),
        ))
    }
}

fn positive(field: &str, label: &str, v: f64, max: f64) -> Result<(), InvalidInput> {
    if v.is_finite() && v > 0.0 && v <= max {
        Ok(())
    } else {
        Err(InvalidInput::new(
            field,
            format!("{label} must be more than 0 and at most {max}"),
        ))
    }
}

impl Behaviour {
    /// Checks every field, naming the first one out of range.
    pub fn check(&self) -> Result<(), InvalidInput> {
        share("errorRate", "the error rate", self.error_rate)?;
        share(
            "conversionRate",
            "the conversion rate",
            self.conversion_rate,
        )?;
        positive(
            "latencyP50Ms",
            "the median latency (ms)",
            self.latency_p50_ms,
            60_000.0,
        )?;
        positive(
            "latencyP99Ms",
            "the p99 latency (ms)",
            self.latency_p99_ms,
            60_000.0,
        )?;
        if self.latency_p99_ms < self.latency_p50_ms {
            return Err(InvalidInput::unprocessable(
                "latencyP99Ms",
                "the p99 latency cannot be below the median",
            ));
        }
        positive(
            "cpuMillicores",
            "CPU (millicores)",
            self.cpu_millicores,
            64_000.0,
        )?;
        positive("memoryMib", "memory (MiB)", self.memory_mib, 1_048_576.0)?;
        Ok(())
    }

    /// A latency drawn from this profile's log-normal distribution, in seconds, given a
    /// standard normal sample `z`: the median at z = 0, the p99 at z ≈ 2.33.
    pub fn latency_seconds(&self, z: f64) -> f64 {
        let median = self.latency_p50_ms.max(0.001);
        let sigma = (self.latency_p99_ms.max(median) / median).ln() / Z99;
        median * (sigma * z).exp() / 1000.0
    }
}

/// The behaviour the seeded demo app's versions start with: v1 and v2 healthy (v2 a little
/// faster and better at converting), v3 with a 15% error rate.
pub fn seeded_behaviour(version: &str) -> Behaviour {
    let base = Behaviour::default();
    match version {
        "v2" => Behaviour {
            latency_p50_ms: 40.0,
            latency_p99_ms: 160.0,
            conversion_rate: 0.055,
            ..base
        },
        "v3" => Behaviour {
            error_rate: 0.15,
            latency_p50_ms: 60.0,
            latency_p99_ms: 420.0,
            ..base
        },
        _ => base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_follows_the_median_and_p99() {
        let b = Behaviour {
            latency_p50_ms: 50.0,
            latency_p99_ms: 200.0,
            ..Behaviour::default()
        };
        assert!((b.latency_seconds(0.0) - 0.050).abs() < 1e-9);
        assert!((b.latency_seconds(Z99) - 0.200).abs() < 1e-6);
        assert!(b.latency_seconds(-1.0) < 0.050);
    }

    #[test]
    fn bad_profiles_are_refused_naming_the_field() {
        let bad = |b: Behaviour| b.check().map_err(|e| e.field);
        let ok = Behaviour::default();
        assert_eq!(ok.check(), Ok(()));
        assert_eq!(
            bad(Behaviour {
                error_rate: 1.5,
                ..ok
            }),
            Err("errorRate".into())
        );
        assert_eq!(
            bad(Behaviour {
                latency_p99_ms: 10.0,
                ..ok
            }),
            Err("latencyP99Ms".into())
        );
        assert_eq!(
            bad(Behaviour {
                memory_mib: f64::NAN,
                ..ok
            }),
            Err("memoryMib".into())
        );
    }

    #[test]
    fn the_demo_app_has_a_bad_third_version() {
        assert_eq!(seeded_behaviour("v1"), Behaviour::default());
        assert!(seeded_behaviour("v3").error_rate >= 0.15);
        assert!(seeded_behaviour("v2").error_rate < 0.01);
    }
}
