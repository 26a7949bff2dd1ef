//! Change requests in the database. A decision is one conditional update (`state = 'open'`),
//! so two reviewers cannot both decide a request; an approval is claimed inside the
//! transaction that applies the change (see `change_flag` and `insert_deployment`).

use async_trait::async_trait;
use sqlx::{Any, FromRow, Transaction};
use varai_core::accounts::{Actor, Principal};
use varai_core::changes::{
    Approval, ChangeRequest, ChangeRequestStore, ChangeState, ProposedChange, RequestDraft,
};
use varai_core::error::Result as AppResult;
use varai_core::flags::{FlagChange, FlagRecord};
use varai_domain::AuditAction;

use super::audit::{NewEvent, commit_with_event, state_json, write_event};
use super::segments::{parse_json, to_json};
use super::{SqlxStore, backend_error};
use crate::error::{Error, Result};

const SELECT: &str = "SELECT c.id, e.key AS environment, c.title, c.change, c.before_text, \
     c.after_text, c.state, c.created_by, c.requesters, c.created_at, c.decided_by, c.decided_at, \
     c.comment, c.outcome FROM change_requests c JOIN environments e ON e.id = c.environment_id";

#[derive(FromRow)]
struct ChangeRow {
    id: i64,
    environment: String,
    title: String,
    change: String,
    before_text: String,
    after_text: String,
    state: String,
    created_by: String,
    requesters: String,
    created_at: i64,
    decided_by: Option<String>,
    decided_at: Option<i64>,
    comment: Option<String>,
    outcome: Option<String>,
}

impl ChangeRow {
    fn into_request(self) -> Result<ChangeRequest> {
        let change: ProposedChange = parse_json("read a change request", &self.change)?;
        Ok(ChangeRequest {
            id: self.id,
            environment: self.environment,
            title: self.title,
            change,
            before: self.before_text,
            after: self.after_text,
            state: ChangeState::parse(&self.state).unwrap_or(ChangeState::Withdrawn),
            created_by: self.created_by,
            requesters: parse_json("read a change request", &self.requesters)?,
            created_at: self.created_at,
            decided_by: self.decided_by,
            decided_at: self.decided_at,
            comment: self.comment,
            outcome: self.outcome,
        })
    }
}

fn already_decided() -> Error {
    Error::Conflict {
        field: "decision",
        message: "someone else decided this request first; reload to see what they decided".into(),
    }
}

/// Marks an open request `state` by `actor`, with its audit event, inside `tx`; refused when it
/// is no longer open.
async fn decide(
    tx: &mut Transaction<'_, Any>,
    (id, state): (i64, ChangeState),
    actor: &Actor,
    (comment, outcome): (Option<&str>, Option<&str>),
    now: i64,
) -> Result<()> {
    let changed = sqlx::query(
        "UPDATE change_requests SET state = $1, decided_by = $2, decided_at = $3, comment = $4, \
         outcome = $5 WHERE id = $6 AND state = 'open'",
    )
    .bind(state.as_str())
    .bind(&actor.name)
    .bind(now)
    .bind(comment)
    .bind(outcome)
    .bind(id)
    .execute(&mut **tx)
    .await
    .map_err(backend_error("decide a change request"))?
    .rows_affected();
    if changed == 0 {
        return Err(already_decided());
    }
    let action = match state {
        ChangeState::Applied => AuditAction::ChangeRequestApprove,
        ChangeState::Rejected => AuditAction::ChangeRequestReject,
        ChangeState::Withdrawn | ChangeState::Open => AuditAction::ChangeRequestWithdraw,
    };
    let after = serde_json::json!({ "state": state, "comment": comment, "outcome": outcome });
    let event = NewEvent {
        actor,
        action,
        target: format!("change_request:{id}"),
        before: None,
        after: state_json(&after),
        at: now,
    };
    write_event(tx, event).await
}

/// Marks the approved request applied, inside the transaction that applies it.
pub(crate) async fn claim_change_request(
    tx: &mut Transaction<'_, Any>,
    approval: &Approval,
    actor: &Actor,
    outcome: &str,
    now: i64,
) -> Result<()> {
    let decided = (approval.comment.as_deref(), Some(outcome));
    let claim = (approval.request, ChangeState::Applied);
    decide(tx, claim, actor, decided, now).await
}

/// The one value a listing's condition binds as `$1`.
enum Param<'a> {
    Nothing,
    Id(i64),
    State(&'a str),
}

impl SqlxStore {
    async fn change_requests_where(
        &self,
        condition: &str,
        param: Param<'_>,
        limit: u32,
    ) -> Result<Vec<ChangeRequest>> {
        let sql = format!("{SELECT} {condition} ORDER BY c.id DESC LIMIT {limit}");
        let query = sqlx::query_as::<_, ChangeRow>(sqlx::AssertSqlSafe(sql));
        let query = match param {
            Param::Nothing => query,
            Param::Id(id) => query.bind(id),
            Param::State(state) => query.bind(state),
        };
        let rows = query
            .fetch_all(self.pool())
            .await
            .map_err(backend_error("list change requests"))?;
        rows.into_iter().map(ChangeRow::into_request).collect()
    }
}

#[async_trait]
impl ChangeRequestStore for SqlxStore {
    async fn list_change_requests(
        &self,
        state: Option<ChangeState>,
        limit: u32,
    ) -> AppResult<Vec<ChangeRequest>> {
        let found = match state {
            Some(state) => {
                let param = Param::State(state.as_str());
                self.change_requests_where("WHERE c.state = $1", param, limit)
                    .await?
            }
            None => {
                self.change_requests_where("", Param::Nothing, limit)
                    .await?
            }
        };
        Ok(found)
    }

    async fn change_request(&self, id: i64) -> AppResult<Option<ChangeRequest>> {
        let found = self
            .change_requests_where("WHERE c.id = $1", Param::Id(id), 1)
            .await?;
        Ok(found.into_iter().next())
    }

    async fn create_change_request(
        &self,
        who: &Principal,
        draft: RequestDraft<'_>,
        now: i64,
    ) -> AppResult<ChangeRequest> {
        let actor = &who.actor;
        let requesters: Vec<&str> = actor.people().collect();
        let env = self.environment(draft.environment).await?;
        let mut tx = self.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO change_requests (environment_id, title, change, before_text, after_text, \
             state, created_by, requesters, created_at) \
             VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8) RETURNING id",
        )
        .bind(env.id)
        .bind(draft.title)
        .bind(to_json(draft.change)?)
        .bind(draft.before)
        .bind(draft.after)
        .bind(&actor.name)
        .bind(to_json(&requesters)?)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(backend_error("create a change request"))?;
        let after = serde_json::json!({
            "environment": draft.environment,
            "title": draft.title,
            "change": draft.change,
        });
        let event = NewEvent {
            actor,
            action: AuditAction::ChangeRequestCreate,
            target: format!("change_request:{id}"),
            before: None,
            after: state_json(&after),
            at: now,
        };
        commit_with_event(tx, event).await?;
        self.change_request(id)
            .await?
            .ok_or_else(|| Error::NotFound("change request").into())
    }

    async fn close_change_request(
        &self,
        who: &Principal,
        id: i64,
        state: ChangeState,
        comment: Option<&str>,
        now: i64,
    ) -> AppResult<ChangeRequest> {
        let mut tx = self.begin().await?;
        decide(&mut tx, (id, state), &who.actor, (comment, None), now).await?;
        tx.commit().await.map_err(backend_error("commit"))?;
        self.change_request(id)
            .await?
            .ok_or_else(|| Error::NotFound("change request").into())
    }

    async fn approve_flag_change(
        &self,
        who: &Principal,
        approval: &Approval,
        key: &str,
        change: FlagChange,
        version: i64,
        now: i64,
    ) -> AppResult<FlagRecord> {
        let change = (change, Some(version));
        Ok(self
            .change_flag(who, key, change, Some(approval), now)
            .await?)
    }
}
