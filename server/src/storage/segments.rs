//! Segments in the database: each a JSON definition under a unique key.

use async_trait::async_trait;
use sqlx::FromRow;
use varai_core::accounts::Principal;
use varai_core::error::Result as AppResult;
use varai_core::flags::{SegmentRecord, SegmentStore};
use varai_domain::AuditAction;
use varai_domain::flags::Segment;

use super::audit::{NewEvent, state_json};
use super::{SqlxStore, backend_error, unique_or_backend};
use crate::error::{Error, Result};

#[derive(FromRow)]
struct SegmentRow {
    id: i64,
    definition: String,
    version: i64,
    updated_at: i64,
    updated_by: String,
}

impl TryFrom<SegmentRow> for SegmentRecord {
    type Error = Error;
    fn try_from(r: SegmentRow) -> Result<Self> {
        Ok(SegmentRecord {
            id: r.id,
            segment: parse_json("read a segment", &r.definition)?,
            version: r.version,
            updated_at: r.updated_at,
            updated_by: r.updated_by,
        })
    }
}

/// Reads a stored JSON document; a document that no longer parses is a storage failure.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    op: &'static str,
    text: &str,
) -> Result<T> {
    serde_json::from_str(text).map_err(|e| Error::Storage {
        op,
        source: Box::new(e),
    })
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Storage {
        op: "write a JSON document",
        source: Box::new(e),
    })
}

impl SqlxStore {
    pub(super) async fn segments(&self) -> Result<Vec<SegmentRecord>> {
        let rows: Vec<SegmentRow> = sqlx::query_as(
            "SELECT id, definition, version, updated_at, updated_by FROM segments ORDER BY id",
        )
        .fetch_all(self.pool())
        .await
        .map_err(backend_error("list segments"))?;
        rows.into_iter().map(SegmentRecord::try_from).collect()
    }

    async fn segment(&self, key: &str) -> Result<SegmentRecord> {
        self.segments()
            .await?
            .into_iter()
            .find(|s| s.segment.key == key)
            .ok_or(Error::NotFound("segment"))
    }
}

#[async_trait]
impl SegmentStore for SqlxStore {
    async fn list_segments(&self) -> AppResult<Vec<SegmentRecord>> {
        Ok(self.segments().await?)
    }

    async fn create_segment(
        &self,
        who: &Principal,
        segment: &Segment,
        now: i64,
    ) -> AppResult<SegmentRecord> {
        let actor = &who.actor;
        let mut tx = self.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO segments (key, definition, version, created_at, updated_at, updated_by) \
             VALUES ($1, $2, 1, $3, $3, $4) RETURNING id",
        )
        .bind(&segment.key)
        .bind(to_json(segment)?)
        .bind(now)
        .bind(&actor.name)
        .fetch_one(&mut *tx)
        .await
        .map_err(unique_or_backend(
            "create a segment",
            "key",
            format!("a segment '{}' already exists", segment.key),
        ))?;
        let record = SegmentRecord {
            id,
            segment: segment.clone(),
            version: 1,
            updated_at: now,
            updated_by: actor.name.clone(),
        };
        let event = NewEvent {
            actor,
            action: AuditAction::SegmentCreate,
            target: format!("segment:{}", segment.key),
            before: None,
            after: state_json(&record.segment),
            at: now,
        };
        self.commit_flag_change(tx, event).await?;
        Ok(record)
    }

    async fn update_segment(
        &self,
        who: &Principal,
        segment: &Segment,
        version: i64,
        now: i64,
    ) -> AppResult<SegmentRecord> {
        let actor = &who.actor;
        let key = segment.key.as_str();
        let before = self.segment(key).await?;
        let mut tx = self.begin().await?;
        let changed = sqlx::query(
            "UPDATE segments SET definition = $1, version = version + 1, updated_at = $2, updated_by = $3 \
             WHERE key = $4 AND version = $5",
        )
        .bind(to_json(segment)?)
        .bind(now)
        .bind(&actor.name)
        .bind(key)
        .bind(version)
        .execute(&mut *tx)
        .await
        .map_err(backend_error("update a segment"))?
        .rows_affected();
        if changed == 0 {
            return Err(stale("segment", before.version, &before.updated_by).into());
        }
        let record = SegmentRecord {
            id: before.id,
            segment: segment.clone(),
            version: version + 1,
            updated_at: now,
            updated_by: actor.name.clone(),
        };
        let event = NewEvent {
            actor,
            action: AuditAction::SegmentUpdate,
            target: format!("segment:{key}"),
            before: state_json(&before.segment),
            after: state_json(&record.segment),
            at: now,
        };
        self.commit_flag_change(tx, event).await?;
        Ok(record)
    }

    async fn delete_segment(&self, who: &Principal, key: &str, now: i64) -> AppResult<()> {
        let actor = &who.actor;
        let before = self.segment(key).await?;
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM segments WHERE id = $1")
            .bind(before.id)
            .execute(&mut *tx)
            .await
            .map_err(backend_error("delete a segment"))?;
        let event = NewEvent {
            actor,
            action: AuditAction::SegmentDelete,
            target: format!("segment:{key}"),
            before: state_json(&before.segment),
            after: None,
            at: now,
        };
        Ok(self.commit_flag_change(tx, event).await?)
    }
}

/// The refusal of a write made against an old version.
pub(crate) fn stale(what: &str, current: i64, by: &str) -> Error {
    Error::Conflict {
        field: "version",
        message: format!(
            "this {what} was changed by {by} since you loaded it (it is now at version {current}); \
             reload to see their change, then make yours again"
        ),
    }
}
