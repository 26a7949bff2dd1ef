//! The timelines of deployments and rollouts: one writer and one reader for both. A line is
//! written in the transaction of the change it describes.

use sqlx::{Any, Transaction};
use varai_core::timeline::TimelineEvent;
use varai_domain::timeline::EventLevel;

use super::audit::{NewEvent, commit_with_event};
use super::{Changed, SqlxStore, backend_error};
use crate::error::Result;

/// Whose timeline a line belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timeline {
    Deployment(i64),
    Rollout(i64),
}

impl Timeline {
    fn owner(self) -> i64 {
        match self {
            Timeline::Deployment(id) | Timeline::Rollout(id) => id,
        }
    }

    fn insert(self) -> &'static str {
        match self {
            Timeline::Deployment(_) => {
                "INSERT INTO deployment_events (deployment_id, at, level, actor, message) VALUES ($1, $2, $3, $4, $5)"
            }
            Timeline::Rollout(_) => {
                "INSERT INTO rollout_events (rollout_id, at, level, actor, message) VALUES ($1, $2, $3, $4, $5)"
            }
        }
    }

    fn select(self) -> &'static str {
        match self {
            Timeline::Deployment(_) => {
                "SELECT id, at, level, actor, message FROM deployment_events WHERE deployment_id = $1 ORDER BY id"
            }
            Timeline::Rollout(_) => {
                "SELECT id, at, level, actor, message FROM rollout_events WHERE rollout_id = $1 ORDER BY id"
            }
        }
    }
}

/// Adds a line to `of`'s timeline in the open transaction.
pub(crate) async fn add_event(
    tx: &mut Transaction<'_, Any>,
    of: Timeline,
    level: EventLevel,
    actor: &str,
    message: &str,
    at: i64,
) -> Result<()> {
    sqlx::query(of.insert())
        .bind(of.owner())
        .bind(at)
        .bind(level.key())
        .bind(actor)
        .bind(message)
        .execute(&mut **tx)
        .await
        .map_err(backend_error("add a line to a timeline"))?;
    Ok(())
}

/// Adds the controller's lines to `of`'s timeline in the open transaction.
pub(crate) async fn add_controller_events(
    tx: &mut Transaction<'_, Any>,
    of: Timeline,
    events: &[(EventLevel, String)],
    at: i64,
) -> Result<()> {
    for (level, message) in events {
        add_event(tx, of, *level, "controller", message, at).await?;
    }
    Ok(())
}

impl SqlxStore {
    /// A person's change to a deployment or a rollout, committed: its line on the timeline
    /// and its audit event land with it, and the controllers hear of it at once.
    pub(crate) async fn commit_on_timeline(
        &self,
        mut tx: Transaction<'_, Any>,
        of: Timeline,
        line: &str,
        event: NewEvent<'_>,
    ) -> Result<()> {
        let (actor, at) = (event.actor.name.clone(), event.at);
        add_event(&mut tx, of, EventLevel::Info, &actor, line, at).await?;
        commit_with_event(tx, event).await?;
        self.announce(match of {
            Timeline::Deployment(id) => Changed::Deployment(id),
            Timeline::Rollout(id) => Changed::Rollout(id),
        });
        Ok(())
    }

    /// Every line of `of`'s timeline, oldest first.
    pub(crate) async fn timeline(&self, of: Timeline) -> Result<Vec<TimelineEvent>> {
        let rows: Vec<(i64, i64, String, String, String)> = sqlx::query_as(of.select())
            .bind(of.owner())
            .fetch_all(self.pool())
            .await
            .map_err(backend_error("read a timeline"))?;
        Ok(rows
            .into_iter()
            .map(|(id, at, level, actor, message)| TimelineEvent {
                id,
                at,
                level: EventLevel::from_key(&level),
                actor,
                message,
            })
            .collect())
    }
}
