//! Sign-in attempts: failures counted per account and client address before a password is
//! checked, and each outcome recorded with its audit event.

use varai_core::accounts::Actor;
use varai_domain::{AuditAction, throttle};

use super::accounts::UserKey;
use super::audit::{NewEvent, commit_with_event};
use super::{SqlxStore, backend_error};
use crate::error::{Error, Result};

impl SqlxStore {
    /// Records a sign-in outcome for `user_id` with its audit event.
    pub(super) async fn record_attempt(&self, user_id: i64, now: i64, ok: bool) -> Result<()> {
        let user = self
            .user_where(UserKey::Id(user_id))
            .await?
            .ok_or(Error::NotFound("user"))?
            .user;
        let mut tx = self.begin().await?;
        let sql = if ok {
            "UPDATE users SET failed_logins = 0, last_failed_login_at = NULL, last_login_at = $2 WHERE id = $1"
        } else {
            "UPDATE users SET failed_logins = failed_logins + 1, last_failed_login_at = $2 WHERE id = $1"
        };
        sqlx::query(sql)
            .bind(user_id)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(backend_error("record a sign-in"))?;
        let actor = Actor {
            user_id: Some(user.id),
            name: user.username.clone(),
            behind: None,
        };
        let action = if ok {
            AuditAction::SessionLogin
        } else {
            AuditAction::SessionLoginFailed
        };
        let target = format!("user:{}", user.username);
        commit_with_event(
            tx,
            NewEvent {
                actor: &actor,
                action,
                target,
                before: None,
                after: None,
                at: now,
            },
        )
        .await
    }

    /// Counts an attempt from `address` on `user_id` in advance, unless the failures counted
    /// so far make it wait: then nothing is counted and the wait is returned. The row is locked
    /// (PostgreSQL) or the database is (SQLite, `BEGIN IMMEDIATE`) from read to write.
    pub(super) async fn reserve_attempt(
        &self,
        user_id: i64,
        address: &str,
        now: i64,
    ) -> Result<Option<i64>> {
        let lock = self.backend().row_lock();
        let mut tx = self.begin().await?;
        // The row exists before it is read, so a second attempt waits for the first one's
        // count instead of reading "none" beside it.
        sqlx::query(
            "INSERT INTO login_failures (user_id, address, failures, last_failed_at) \
             VALUES ($1, $2, 0, $3) ON CONFLICT (user_id, address) DO NOTHING",
        )
        .bind(user_id)
        .bind(address)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(backend_error("count a sign-in attempt"))?;
        let (failures, last): (i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT failures, last_failed_at FROM login_failures \
             WHERE user_id = $1 AND address = $2{lock}"
        )))
        .bind(user_id)
        .bind(address)
        .fetch_one(&mut *tx)
        .await
        .map_err(backend_error("read failed sign-ins"))?;
        let failures = u32::try_from(failures).unwrap_or(u32::MAX);
        if let Some(wait) = throttle::retry_after(failures, Some(last), now) {
            // Ended now rather than when the connection is next used, so the row is not held.
            tx.rollback()
                .await
                .map_err(backend_error("read failed sign-ins"))?;
            return Ok(Some(wait));
        }
        sqlx::query(
            "UPDATE login_failures SET failures = failures + 1, last_failed_at = $3 \
             WHERE user_id = $1 AND address = $2",
        )
        .bind(user_id)
        .bind(address)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(backend_error("count a sign-in attempt"))?;
        tx.commit()
            .await
            .map_err(backend_error("count a sign-in attempt"))?;
        Ok(None)
    }
}
