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
    #[error(transparent)]
    Cluster(#[from] kube::Error),
    /// Prometheus did not answer, or not with something usable.
    #[error("{0}")]
    Metrics(String),
    /// Part of the work could not be done; the message lists what, for the timelines.
    #[error("{0}")]
    Unfinished(String),
    /// What was being done when `source` failed, for the timelines people read.
    #[error("{doing}")]
    While {
        doing: String,
        #[source]
        source: Box<Error>,
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

/// Says what was being done when an error happened: `store.app(..).doing("reading the app")`.
pub trait Context<T> {
    fn doing(self, what: impl Into<String>) -> Result<T>;
}

impl<T, E: Into<Error>> Context<T> for std::result::Result<T, E> {
    fn doing(self, what: impl Into<String>) -> Result<T> {
        self.map_err(|e| Error::While {
            doing: what.into(),
            source: Box::new(e.into()),
        })
    }
}

impl From<Error> for AppError {
    fn from(e: Error) -> Self {
        let (chain, public) = (e.chain(), e.public());
        match e.into_refusal() {
            Ok(refused) => refused,
            Err(Unrefused::Unavailable) => AppError::Unavailable(public),
            Err(Unrefused::Internal) => {
                tracing::error!(error = %chain, "internal error");
                AppError::Internal
            }
        }
    }
}

/// What an error that is not a refusal means to a caller.
enum Unrefused {
    /// Something we depend on did not answer: worth saying what.
    Unavailable,
    /// Our own failure: the details go to the log.
    Internal,
}

impl Error {
    /// The refusal a caller can act on, or what kind of failure this is.
    fn into_refusal(self) -> std::result::Result<AppError, Unrefused> {
        match self {
            Error::Refused(e) => Ok(e),
            Error::NotFound(what) => Ok(AppError::NotFound(what.to_owned())),
            Error::Conflict { field, message } => Ok(AppError::Conflict {
                field: field.to_owned(),
                message,
            }),
            Error::While { source, .. } => source.into_refusal(),
            Error::Cluster(_) | Error::Metrics(_) | Error::Unfinished(_) => {
                Err(Unrefused::Unavailable)
            }
            _ => Err(Unrefused::Internal),
        }
    }

    /// The error for people who may not see the server's internals (a deployment's or a
    /// rollout's timeline): the chain, but a storage failure says only what it was doing.
    pub fn public(&self) -> String {
        match self {
            Error::While { doing, source } => format!("{doing}: {}", source.public()),
            Error::Storage { .. } => self.to_string(),
            other => other.chain(),
        }
    }
}
