//! The server's one error type. Storage, clusters and start-up fail with it; the ports answer
//! [`AppError`], into which it turns at the boundary: a refusal the caller can act on passes
//! through, anything else is logged once with its whole chain and answered in general terms.

use varai_core::error::AppError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Refused for a reason the caller can act on: not found, a conflict, a bad value.
    #[error(transparent)]
    Refused(#[from] AppError),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A write clashes with what is stored; `field` names the input it concerns.
    #[error("{field}: {message}")]
    Conflict {
        field: &'static str,
        message: String,
    },
    #[error("storage failed while trying to {op}")]
    Storage {
        op: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A cluster (or the sandbox) did not do what was asked.
    #[error("{doing}")]
    Cluster {
        doing: String,
        #[source]
        source: kube::Error,
    },
    #[error("DATABASE_URL: unsupported scheme in '{0}'; use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("could not create the data directory {path}")]
    CreateDataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("could not connect to the database")]
    Connect(#[source] sqlx::Error),
    #[error("could not apply the database migrations")]
    Migrate(#[source] sqlx::migrate::MigrateError),
}

impl Error {
    /// A cluster call that failed while `doing` something.
    pub fn cluster(doing: impl Into<String>) -> impl FnOnce(kube::Error) -> Error {
        move |source| Error::Cluster {
            doing: doing.into(),
            source,
        }
    }

    /// The error and every source beneath it, one line, for the log and for the timelines
    /// people read.
    pub fn chain(&self) -> String {
        error_chain(self)
    }
}

/// The error and every source beneath it, one line.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

impl From<Error> for AppError {
    fn from(e: Error) -> Self {
        match e {
            Error::Refused(e) => e,
            Error::NotFound(what) => AppError::NotFound(what.to_owned()),
            Error::Conflict { field, message } => AppError::Conflict {
                field: field.to_owned(),
                message,
            },
            Error::Cluster { .. } => AppError::Unavailable(e.chain()),
            other => {
                tracing::error!(error = %other.chain(), "internal error");
                AppError::Internal
            }
        }
    }
}
