//! Writing and reading the audit log. Writes take the caller's open transaction, so an event
//! commits or rolls back together with the change it describes.

use async_trait::async_trait;
use serde::Serialize;
use sqlx::{Any, FromRow, Transaction};
use varai_core::accounts::{Actor, AuditEvent, AuditFilter, AuditLog, AuditPage};
use varai_core::error::Result as AppResult;
use varai_domain::AuditAction;

use super::{SqlxStore, backend_error};
use crate::error::Result;

/// An audit event about to be written.
pub(crate) struct NewEvent<'a> {
    pub actor: &'a Actor,
    pub action: AuditAction,
    pub target: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub at: i64,
}

/// Serialises a state for the `before`/`after` columns.
pub(crate) fn state_json<T: Serialize>(value: &T) -> Option<String> {
    serde_json::to_string(value).ok()
}

pub(crate) async fn write_event(tx: &mut Transaction<'_, Any>, e: NewEvent<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_events (at, actor, actor_user_id, action, target, before_state, after_state) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(e.at)
    .bind(&e.actor.name)
    .bind(e.actor.user_id)
    .bind(e.action.as_str())
    .bind(e.target)
    .bind(e.before)
    .bind(e.after)
    .execute(&mut **tx)
    .await
    .map_err(backend_error("write an audit event"))?;
    Ok(())
}

/// Writes the event and commits: the change and its record land together or not at all.
pub(crate) async fn commit_with_event(mut tx: Transaction<'_, Any>, e: NewEvent<'_>) -> Result<()> {
    write_event(&mut tx, e).await?;
    tx.commit().await.map_err(backend_error("commit"))
}

#[derive(FromRow)]
struct AuditEventRow {
    id: i64,
    at: i64,
    actor: String,
    action: String,
    target: String,
    before_state: Option<String>,
    after_state: Option<String>,
}

impl From<AuditEventRow> for AuditEvent {
    fn from(r: AuditEventRow) -> Self {
        AuditEvent {
            id: r.id,
            at: r.at,
            actor: r.actor,
            action: r.action,
            target: r.target,
            before: r.before_state,
            after: r.after_state,
        }
    }
}

#[async_trait]
impl AuditLog for SqlxStore {
    async fn list_audit(&self, f: &AuditFilter) -> AppResult<AuditPage> {
        // One more than asked tells whether an older page exists.
        let rows: Vec<AuditEventRow> = sqlx::query_as(
            "SELECT id, at, actor, action, target, before_state, after_state FROM audit_events \
             WHERE ($1 IS NULL OR actor = $1) AND ($2 IS NULL OR id < $2) \
             AND ($4 IS NULL OR target = $4) \
             ORDER BY id DESC LIMIT $3",
        )
        .bind(f.actor.as_deref())
        .bind(f.before)
        .bind(i64::from(f.limit) + 1)
        .bind(f.target.as_deref())
        .fetch_all(self.pool())
        .await
        .map_err(backend_error("read the audit log"))?;
        let more = rows.len() > f.limit as usize;
        let events: Vec<AuditEvent> = rows
            .into_iter()
            .take(f.limit as usize)
            .map(AuditEvent::from)
            .collect();
        let next_before = if more {
            events.last().map(|e| e.id)
        } else {
            None
        };
        Ok(AuditPage {
            events,
            next_before,
        })
    }

    async fn list_audit_actors(&self) -> AppResult<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT DISTINCT actor FROM audit_events ORDER BY actor")
                .fetch_all(self.pool())
                .await
                .map_err(backend_error("list audit actors"))?,
        )
    }
}
