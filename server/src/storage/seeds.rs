//! What the product writes once per database: the analysis templates and the default plan
//! template. A seed is recorded with its rows, so one a team deleted stays deleted.

use super::{SqlxStore, backend_error};
use crate::error::Result;

impl SqlxStore {
    /// Writes `rows` with `insert` once per database, under the seed `seed`. Each row binds its
    /// values in order, then `now`.
    pub(crate) async fn seed_once(
        &self,
        seed: &str,
        insert: &'static str,
        rows: Vec<Vec<String>>,
        now: i64,
    ) -> Result<()> {
        let seeded: Option<String> = sqlx::query_scalar("SELECT name FROM seeds WHERE name = $1")
            .bind(seed)
            .fetch_optional(self.pool())
            .await
            .map_err(backend_error("read seeds"))?;
        if seeded.is_some() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        for row in rows {
            let mut query = sqlx::query(insert);
            for value in row {
                query = query.bind(value);
            }
            query
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(backend_error("write seeded rows"))?;
        }
        sqlx::query("INSERT INTO seeds (name, at) VALUES ($1, $2)")
            .bind(seed)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(backend_error("record seeds"))?;
        tx.commit().await.map_err(backend_error("commit"))
    }
}
