//! The kinds of Kubernetes object the sandbox serves, with their API group, version and
//! resource names.

/// The kinds of object the sandbox serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Deployment,
    ReplicaSet,
    Pod,
    Service,
    ConfigMap,
    Endpoints,
    Job,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::Deployment,
        Kind::ReplicaSet,
        Kind::Pod,
        Kind::Service,
        Kind::ConfigMap,
        Kind::Endpoints,
        Kind::Job,
    ];

    /// The `kind` field of its objects.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Deployment => "Deployment",
            Kind::ReplicaSet => "ReplicaSet",
            Kind::Pod => "Pod",
            Kind::Service => "Service",
            Kind::ConfigMap => "ConfigMap",
            Kind::Endpoints => "Endpoints",
            Kind::Job => "Job",
        }
    }

    /// The `apiVersion` of its objects.
    pub fn api_version(self) -> &'static str {
        match self {
            Kind::Deployment | Kind::ReplicaSet => "apps/v1",
            Kind::Job => "batch/v1",
            Kind::Pod | Kind::Service | Kind::ConfigMap | Kind::Endpoints => "v1",
        }
    }

    /// The resource name in URLs (`deployments`).
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Deployment => "deployments",
            Kind::ReplicaSet => "replicasets",
            Kind::Pod => "pods",
            Kind::Service => "services",
            Kind::ConfigMap => "configmaps",
            Kind::Endpoints => "endpoints",
            Kind::Job => "jobs",
        }
    }

    /// The short names kubectl accepts (`deploy`, `po`, ...).
    pub fn short_names(self) -> &'static [&'static str] {
        match self {
            Kind::Deployment => &["deploy"],
            Kind::ReplicaSet => &["rs"],
            Kind::Pod => &["po"],
            Kind::Service => &["svc"],
            Kind::ConfigMap => &["cm"],
            Kind::Endpoints => &["ep"],
            Kind::Job => &[],
        }
    }

    pub fn from_plural(plural: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.plural() == plural)
    }
}
