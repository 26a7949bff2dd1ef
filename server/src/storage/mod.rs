//! Storage over sqlx: SQLite as the embedded default, PostgreSQL when the URL says so. One
//! adapter serves both through sqlx's `Any` driver; each backend has its own migrations.

mod accounts;
mod alerting;
mod analysis;
mod analysis_runs;
mod apps;
mod audit;
mod changes;
mod claims;
mod deploy;
mod deploy_writes;
mod environments;
mod flags;
mod import;
mod plans;
mod queries;
mod rollout_writes;
mod rollouts;
mod sdk_keys;
mod seeds;
mod segments;
mod sessions;
mod sign_ins;
mod snapshots;
mod timeline;
mod tokens;

pub use alerting::{NewAlert, rule_of};
pub use analysis_runs::{NewRun, RunState, metric_key};
pub use deploy::{NewDeployment, ProgressUpdate};
pub use flags::CHANGE_CHANNEL;
pub use plans::{DEFAULT_TEMPLATE, NewGate};
pub use rollouts::{DraftRollout, RolloutState, RolloutUpdate};
pub use sessions::{SqlxSessionStore, USER_ID};
pub use snapshots::{NewRollback, StoredSnapshot, summarise};
pub use timeline::Timeline;

use crate::error::{Error, Result};
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyPool, Executor, Transaction};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, broadcast};
use varai_domain::url::redacted;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// The database product behind a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn label(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

impl Backend {
    /// The clause that keeps the rows a `SELECT` read locked until the transaction ends:
    /// PostgreSQL's `FOR UPDATE`; SQLite's write transaction already holds the whole database.
    pub(crate) fn row_lock(self) -> &'static str {
        match self {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        }
    }
}

impl FromStr for Backend {
    type Err = Error;

    fn from_str(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(Error::UnsupportedUrl(redacted(url)))
        }
    }
}

/// An object a controller looks after, changed by a committed write: the controllers look at
/// it again at once instead of waiting for a tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changed {
    Deployment(i64),
    Rollout(i64),
}

/// The adapter for every port that keeps state in the database.
#[derive(Debug, Clone)]
pub struct SqlxStore {
    pool: AnyPool,
    backend: Backend,
    /// Signalled after every committed change to the flag configuration.
    config_changed: Arc<Notify>,
    /// Every committed change to a deployment or a rollout.
    changes: broadcast::Sender<Changed>,
}

impl SqlxStore {
    /// Connects to `url` (creating a SQLite file and its folder when needed) and brings the
    /// schema up to date.
    pub async fn connect(url: &str) -> Result<SqlxStore> {
        install_default_drivers();
        let backend: Backend = url.parse()?;
        let url = match backend {
            Backend::Sqlite => prepare_sqlite_url(url)?,
            Backend::Postgres => {
                create_postgres_database(url).await?;
                url.to_owned()
            }
        };
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 4,
                Backend::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;")
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(Error::Connect)?;
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&pool).await.map_err(Error::Migrate)?;
        Ok(SqlxStore {
            pool,
            backend,
            config_changed: Arc::new(Notify::new()),
            changes: broadcast::channel(1024).0,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Signalled (one stored permit) after each change to the flag configuration.
    pub fn config_changed(&self) -> &Arc<Notify> {
        &self.config_changed
    }

    /// Hears every committed change to a deployment or a rollout from now on.
    pub fn changes(&self) -> broadcast::Receiver<Changed> {
        self.changes.subscribe()
    }

    /// Tells the controllers that `what` changed (after the change committed).
    pub(crate) fn announce(&self, what: Changed) {
        // Nobody listening (a command-line run) is not an error.
        let _ = self.changes.send(what);
    }

    /// Begins a transaction that writes. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so a transaction that reads before it writes waits for another
    /// writer instead of failing with "database is locked" when it upgrades.
    pub(crate) async fn begin(&self) -> Result<Transaction<'static, Any>> {
        let statement = match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        };
        self.pool
            .begin_with(statement)
            .await
            .map_err(backend_error("begin"))
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Creates the PostgreSQL database named in `url` when the server has none by that name, so
/// a first start needs no manual `createdb`.
async fn create_postgres_database(url: &str) -> Result<()> {
    use sqlx::migrate::MigrateDatabase;
    if !sqlx::Any::database_exists(url)
        .await
        .map_err(Error::Connect)?
    {
        tracing::info!(database = %redacted(url), "creating the database");
        sqlx::Any::create_database(url)
            .await
            .map_err(Error::Connect)?;
    }
    Ok(())
}

/// Makes sure the SQLite file and its folder exist, readable by the server's user alone.
fn prepare_sqlite_url(url: &str) -> Result<String> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path != ":memory:" && !path.is_empty() {
        crate::files::touch_private(Path::new(path)).map_err(|source| Error::CreateDataDir {
            path: path.to_owned(),
            source,
        })?;
    }
    let query = if query.contains("mode=") {
        query.to_owned()
    } else if query.is_empty() {
        "mode=rwc".to_owned()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok(format!("sqlite://{path}?{query}"))
}

/// Wraps a database error as a storage failure while doing `op`.
pub(crate) fn backend_error(op: &'static str) -> impl FnOnce(sqlx::Error) -> Error {
    move |e| Error::Storage {
        op,
        source: Box::new(e),
    }
}

/// Maps a unique-constraint violation to a conflict on `field`; other errors to a failure.
pub(crate) fn unique_or_backend(
    op: &'static str,
    field: &'static str,
    message: impl Into<String>,
) -> impl FnOnce(sqlx::Error) -> Error {
    move |e| match e.as_database_error().map(|d| d.kind()) {
        Some(sqlx::error::ErrorKind::UniqueViolation) => Error::Conflict {
            field,
            message: message.into(),
        },
        _ => backend_error(op)(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_scheme_is_refused_without_showing_the_password() {
        let err = "mysql://root:hunter2@db/varai"
            .parse::<Backend>()
            .unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("DATABASE_URL"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn sqlite_urls_create_missing_files() {
        assert_eq!(
            prepare_sqlite_url("sqlite://:memory:").unwrap(),
            "sqlite://:memory:?mode=rwc"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/varai.db");
        let url = prepare_sqlite_url(&format!("sqlite://{}", path.display())).unwrap();
        assert!(url.ends_with("varai.db?mode=rwc"));
        assert!(path.parent().unwrap().is_dir());
    }
}
