//! What a rollout names must exist where it runs: its environment, its plan template, its
//! app and version, its flags (each with a variant to release), the plan's segments and
//! analysis templates. Each refusal names the field as the planning form labels it.

use varai_core::clock::now_ms;
use varai_core::error::{AppError, Result};
use varai_core::rollouts::NewRollout;
use varai_domain::deploy::names::check_version;
use varai_domain::plan::audience::release_variant;
use varai_domain::plan::{Gate, Plan};

use super::RolloutService;
use crate::storage::DEFAULT_TEMPLATE;

/// A name of something that does not exist where the rollout runs: it clashes with what is
/// stored (409), like a taken name.
fn unknown(field: impl Into<String>, message: impl Into<String>) -> AppError {
    AppError::Conflict {
        field: field.into(),
        message: message.into(),
    }
}

impl RolloutService {
    /// The plan a rollout runs (its own, or its template's), checked against the release and
    /// against what exists in the environment.
    pub(super) async fn checked(
        &self,
        environment: &str,
        new: &NewRollout,
    ) -> Result<(Option<String>, Plan)> {
        self.store.environment(environment).await?;
        let (template, plan) = match &new.plan {
            Some(p) => (new.template.clone(), p.clone()),
            None => {
                let name = new
                    .template
                    .clone()
                    .unwrap_or_else(|| DEFAULT_TEMPLATE.to_owned());
                let plan = self
                    .store
                    .plan_template(&name)
                    .await
                    .map_err(|_| {
                        unknown("template", format!("there is no plan template '{name}'"))
                    })?
                    .plan;
                (Some(name), plan)
            }
        };
        new.release.check()?;
        plan.check(&new.release)?;
        if let (Some(app), Some(version)) = (&new.release.app, &new.release.version) {
            check_version("release.version", version)?;
            self.store
                .app_named(environment, app)
                .await
                .map_err(|_| unknown("release.app", format!("{environment} has no app '{app}'")))?;
        }
        for (i, key) in new.release.flags.iter().enumerate() {
            let field = format!("release.flags[{i}]");
            let flag = self
                .flags
                .get_flag(key)
                .await?
                .filter(|f| f.archived_at.is_none())
                .ok_or_else(|| unknown(&field, format!("there is no flag '{key}'")))?;
            release_variant(&flag.spec, &flag.targeting(environment))
                .map_err(|e| unknown(&field, e.message))?;
        }
        self.check_references(&plan).await?;
        if let Some(at) = new.start_at
            && at < now_ms() - 60_000
        {
            return Err(AppError::Unprocessable {
                field: "startAt".into(),
                message: "a start time in the future".into(),
            });
        }
        Ok((template, plan))
    }

    /// Every segment and analysis template the plan names exists.
    pub(super) async fn check_references(&self, plan: &Plan) -> Result<()> {
        let segments: Vec<String> = self
            .flags
            .list_segments()
            .await?
            .into_iter()
            .map(|s| s.segment.key)
            .collect();
        let templates: Vec<String> = self
            .store
            .templates()
            .await?
            .into_iter()
            .map(|t| t.template.name)
            .collect();
        for (i, p) in plan.phases.iter().enumerate() {
            for (j, s) in p.audience.segments.iter().enumerate() {
                if !segments.contains(s) {
                    return Err(unknown(
                        format!("phases[{i}].audience.segments[{j}]"),
                        format!("there is no segment '{s}'"),
                    ));
                }
            }
            let gates =
                p.gates
                    .iter()
                    .enumerate()
                    .map(|(g, gate)| (format!("phases[{i}].gates[{g}]"), gate))
                    .chain(p.steps.iter().enumerate().flat_map(|(k, st)| {
                        st.gates.iter().enumerate().map(move |(g, gate)| {
                            (format!("phases[{i}].steps[{k}].gates[{g}]"), gate)
                        })
                    }));
            for (field, gate) in gates {
                if let Gate::Analysis { templates: names } = gate
                    && let Some(missing) = names.iter().find(|n| !templates.contains(n))
                {
                    return Err(unknown(
                        format!("{field}.templates"),
                        format!("there is no analysis template '{missing}'"),
                    ));
                }
            }
        }
        Ok(())
    }
}
