//! Browser sessions for tower-sessions, kept in the same database as everything else so a
//! restart or a second replica keeps people signed in.

use async_trait::async_trait;
use sqlx::AnyPool;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use sha2::{Digest, Sha256};

use super::SqlxStore;

/// The session key holding the signed-in user's id (the sign-in handler writes it).
pub const USER_ID: &str = "user_id";

#[derive(Debug, Clone)]
pub struct SqlxSessionStore {
    pool: AnyPool,
}

impl SqlxSessionStore {
    pub fn new(store: &SqlxStore) -> Self {
        Self {
            pool: store.pool().clone(),
        }
    }

    /// Deletes sessions that expired before `now_ms`; returns how many.
    pub async fn delete_expired(&self, now_ms: i64) -> Result<u64, sqlx::Error> {
        let done = sqlx::query("DELETE FROM sessions WHERE expiry_date < $1")
            .bind(now_ms)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

/// The key a session is kept under: the SHA-256 of its id, hex.
fn key(id: &Id) -> String {
    hex::encode(Sha256::digest(id.to_string().as_bytes()))
}

/// What is kept of a record: its data (never its id).
fn encode(record: &Record) -> session_store::Result<String> {
    serde_json::to_string(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))
}

fn expiry_ms(record: &Record) -> i64 {
    i64::try_from(record.expiry_date.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// The signed-in user a session belongs to.
fn user_of(record: &Record) -> Option<i64> {
    record.data.get(USER_ID).and_then(serde_json::Value::as_i64)
}

/// How far a session's expiry may lag before a request writes it again: sessions end after
/// inactivity, and a busy browser does not write on every request.
const EXPIRY_SLACK_MS: i64 = 60_000;

/// Fresh ids drawn for a new session before giving up.
const ID_DRAWS: usize = 8;

#[async_trait]
impl SessionStore for SqlxSessionStore {
    /// Inserts a new session, drawing a fresh id while it collides with a stored one (a
    /// 128-bit random id collides by accident never; a few tries bound a broken generator).
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = encode(record)?;
        for _ in 0..ID_DRAWS {
            let inserted = sqlx::query(
                "INSERT INTO sessions (id, data, expiry_date, user_id) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(key(&record.id))
            .bind(&data)
            .bind(expiry_ms(record))
            .bind(user_of(record))
            .execute(&self.pool)
            .await
            .map_err(backend)?;
            if inserted.rows_affected() == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
        Err(backend("no free session id after several draws"))
    }

    /// Stores a changed session, or moves an unchanged one's expiry on once it lags by more
    /// than a minute.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = encode(record)?;
        sqlx::query(
            "INSERT INTO sessions (id, data, expiry_date, user_id) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, \
             expiry_date = excluded.expiry_date, user_id = excluded.user_id \
             WHERE sessions.data <> excluded.data \
             OR sessions.expiry_date < excluded.expiry_date - $5",
        )
        .bind(key(&record.id))
        .bind(data)
        .bind(expiry_ms(record))
        .bind(user_of(record))
        .bind(EXPIRY_SLACK_MS)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        let now = varai_core::clock::now_ms();
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT data, expiry_date FROM sessions WHERE id = $1 AND expiry_date > $2",
        )
        .bind(key(session_id))
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        let Some((data, expiry)) = row else {
            return Ok(None);
        };
        let data =
            serde_json::from_str(&data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date =
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(expiry) * 1_000_000)
                .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *session_id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(key(session_id))
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
