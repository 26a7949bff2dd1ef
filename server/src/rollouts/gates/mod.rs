//! Running a stop's gates. Each gate that checks something runs as its own task and writes
//! its verdict, with its evidence, to the gate's row; the controller reads the rows. A row
//! still `running` with no task behind it (the server restarted) is started again. An
//! approval gate has no task: it waits for a person.

pub mod analysis;
pub mod checks;
pub mod job;
pub mod pods;

use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use varai_core::clock::now_ms;
use varai_core::rollouts::RolloutRecord;
use varai_domain::analysis::Args;
use varai_domain::plan::{Gate, GateState, GateStatus, Stop};

use super::RolloutService;
use crate::error::{Context, Error, Result};
use crate::storage::{Changed, RolloutState};
use pods::PodTarget;

/// A gate's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Passed, failed or inconclusive.
    pub status: GateStatus,
    pub summary: String,
    pub evidence: Value,
}

impl Verdict {
    pub fn passed(summary: String, evidence: Value) -> Verdict {
        Verdict {
            status: GateStatus::Passed,
            summary,
            evidence,
        }
    }
    pub fn failed(summary: String, evidence: Value) -> Verdict {
        Verdict {
            status: GateStatus::Failed,
            summary,
            evidence,
        }
    }
    pub fn inconclusive(summary: String, evidence: Value) -> Verdict {
        Verdict {
            status: GateStatus::Inconclusive,
            summary,
            evidence,
        }
    }
}

/// The words a running gate shows before its verdict.
pub fn running_summary(gate: &Gate) -> String {
    match gate {
        Gate::Approval { .. } => format!("Waiting: {}", gate.describe()),
        _ => format!("Running: {}", gate.describe()),
    }
}

impl RolloutService {
    /// Each of the stop's gates as the controller sees them; a gate still running with no task
    /// behind it (the server restarted) is started again.
    pub(super) async fn gate_states(
        self: &Arc<Self>,
        s: &RolloutState,
        visit: i64,
        stop: &Stop<'_>,
    ) -> Result<Vec<GateState>> {
        let r = &s.record;
        let results = self.store.gate_results(r.id).await?;
        let mut gates = Vec::new();
        for (i, gate) in stop.gates.iter().enumerate() {
            let row = results.iter().find(|g| {
                g.phase == r.position.phase
                    && g.step == r.position.step
                    && g.gate == i
                    && g.visit == visit
            });
            gates.push(match row {
                None => GateState::Waiting,
                Some(g) => {
                    if g.status == GateStatus::Running && !self.gate_alive(g.id) {
                        self.spawn_gate(r, g.id, gate);
                    }
                    g.status.state(&g.summary)
                }
            });
        }
        Ok(gates)
    }

    /// Starts the task that runs `gate` for the row `row`, unless one is running.
    pub(super) fn spawn_gate(self: &Arc<Self>, r: &RolloutRecord, row: i64, gate: &Gate) {
        if matches!(gate, Gate::Approval { .. }) {
            return;
        }
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if running.contains_key(&row) {
            return;
        }
        let r_id = r.id;
        let (me, r, gate) = (Arc::clone(self), r.clone(), gate.clone());
        let task = tokio::spawn(async move {
            let verdict = me.run_gate(&r, row, &gate).await;
            let recorded = me
                .store
                .finish_gate(
                    r.id,
                    row,
                    verdict.status,
                    &verdict.summary,
                    &verdict.evidence,
                    now_ms(),
                )
                .await;
            me.running
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&row);
            if let Err(e) = recorded {
                // The row still says running with no task behind it: the rollout starts the
                // gate again when it looks, which it does now.
                tracing::warn!(rollout = r.id, gate = row, error = %e.chain(), "could not record a gate's verdict");
                me.store.announce(Changed::Rollout(r.id));
            }
        });
        running.insert(row, (r_id, task.abort_handle()));
    }

    /// Whether a task runs the gate row `row`.
    pub(super) fn gate_alive(&self, row: i64) -> bool {
        self.running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(&row)
    }

    async fn target(&self, r: &RolloutRecord) -> Result<PodTarget> {
        let (Some(app), Some(version)) = (&r.release.app, &r.release.version) else {
            return Err(Error::Unfinished("this release has no app to check".into()));
        };
        let app = self
            .store
            .app_named(&r.environment, app)
            .await
            .doing(format!("reading app {app}"))?;
        let t = self.deploy.target(&r.environment).await?;
        Ok(PodTarget {
            client: t.client,
            namespace: t.namespace,
            app,
            version: version.clone(),
        })
    }

    async fn run_gate(&self, r: &RolloutRecord, row: i64, gate: &Gate) -> Verdict {
        let target = if gate.needs_app() {
            match self.target(r).await {
                Ok(t) => Some(t),
                Err(e) => {
                    return Verdict::inconclusive(
                        format!("{}: {}", gate.describe(), e.public()),
                        Value::Null,
                    );
                }
            }
        } else {
            None
        };
        match (gate, target) {
            (
                Gate::HealthCheck {
                    path,
                    times,
                    timeout_seconds,
                },
                Some(t),
            ) => {
                let timeout = Duration::from_secs(u64::from(*timeout_seconds));
                checks::health_check(&t, path, *times, timeout).await
            }
            (Gate::SmokeTest { requests }, Some(t)) => checks::smoke_test(&t, requests).await,
            (
                Gate::LoadTest {
                    rate,
                    concurrency,
                    duration_seconds,
                    max_error_percent,
                    max_p95_ms,
                },
                Some(t),
            ) => {
                let load = checks::Load {
                    rate: *rate,
                    concurrency: *concurrency,
                    duration: Duration::from_secs(u64::from(*duration_seconds)),
                    max_error_percent: *max_error_percent,
                    max_p95_ms: *max_p95_ms,
                };
                checks::load_test(&t, &load).await
            }
            (
                Gate::IntegrationTest {
                    image,
                    command,
                    timeout_seconds,
                },
                Some(t),
            ) => {
                job::integration_test(job::JobSpec {
                    client: t.client.clone(),
                    namespace: &t.namespace,
                    name: format!("rollout-{}-gate-{row}", r.id),
                    rollout: r.id,
                    image,
                    command,
                    timeout: Duration::from_secs(u64::from(*timeout_seconds)),
                })
                .await
            }
            (Gate::Analysis { templates }, _) => self.run_analysis(r, templates).await,
            (other, _) => Verdict::inconclusive(
                format!("{}: nothing to check it against", other.describe()),
                Value::Null,
            ),
        }
    }

    async fn run_analysis(&self, r: &RolloutRecord, names: &[String]) -> Verdict {
        let all = match self.store.templates().await {
            Ok(t) => t,
            Err(e) => {
                return Verdict::inconclusive(
                    format!("Analysis: reading the templates: {e}"),
                    Value::Null,
                );
            }
        };
        let mut templates = Vec::new();
        for name in names {
            match all.iter().find(|t| &t.template.name == name) {
                Some(t) => templates.push(t.template.clone()),
                None => {
                    return Verdict::inconclusive(
                        format!("Analysis: there is no analysis template '{name}'"),
                        Value::Null,
                    );
                }
            }
        }
        let namespace = self
            .deploy
            .target(&r.environment)
            .await
            .map(|t| t.namespace)
            .unwrap_or_else(|_| r.environment.clone());
        let stable = match r.deployment_id {
            Some(id) => self
                .store
                .deployment_by_id(id)
                .await
                .map(|d| d.previous_version)
                .unwrap_or_default(),
            None => String::new(),
        };
        let args = Args {
            app: r.release.app.clone().unwrap_or_default(),
            version: r.release.version.clone().unwrap_or_default(),
            stable,
            namespace,
            environment: r.environment.clone(),
        };
        analysis::analysis(&self.monitor, &templates, &args, &r.environment).await
    }
}
