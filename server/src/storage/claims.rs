//! Claims in the database: while a rollout is active it holds its app and flags under a
//! unique key, so a second rollout of them is refused; the domain says what is claimed and why a
//! claim is refused.

use sqlx::{Any, Transaction};
use varai_core::error::AppError;
use varai_domain::InvalidInput;
use varai_domain::plan::claim::{self, Claim, Holder};

use super::backend_error;
use crate::error::{Error, Result};

/// Takes `c` for rollout `rollout`, unless another active rollout holds it.
pub(super) async fn claim(
    tx: &mut Transaction<'_, Any>,
    env_id: i64,
    c: Claim<'_>,
    rollout: i64,
) -> Result<()> {
    let holder: Option<(i64, String)> = sqlx::query_as(
        "SELECT r.id, r.title FROM rollout_claims c JOIN rollouts r ON r.id = c.rollout_id \
         WHERE c.environment_id = $1 AND c.kind = $2 AND c.name = $3",
    )
    .bind(env_id)
    .bind(c.kind.key())
    .bind(c.name)
    .fetch_optional(&mut **tx)
    .await
    .map_err(backend_error("read rollout claims"))?;
    let holder = holder.map(|(rollout, title)| Holder { rollout, title });
    if let Some(why) = claim::refusal(c, holder.as_ref(), rollout) {
        return Err(refused(why));
    }
    let inserted = sqlx::query(
        "INSERT INTO rollout_claims (environment_id, kind, name, rollout_id) VALUES ($1, $2, $3, $4)",
    )
    .bind(env_id)
    .bind(c.kind.key())
    .bind(c.name)
    .bind(rollout)
    .execute(&mut **tx)
    .await;
    match inserted {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_database_error().map(|d| d.kind())
                == Some(sqlx::error::ErrorKind::UniqueViolation) =>
        {
            Err(refused(claim::lost_race(c)))
        }
        Err(e) => Err(backend_error("claim a rollout's app or flag")(e)),
    }
}

/// A claim refused: a conflict on the field the domain names.
fn refused(why: InvalidInput) -> Error {
    Error::Refused(AppError::Conflict {
        field: why.field,
        message: why.message,
    })
}
