//! The evaluation cache: every environment's flags compiled in memory and swapped atomically
//! when the configuration changes, so evaluating a flag never touches the database.
//!
//! A change committed by this process is announced through the store's [`Notify`]; in
//! PostgreSQL mode, changes by other replicas arrive through `LISTEN`. A reload every 30 s
//! covers anything missed while a connection was down.

use crate::error::Result;
use crate::error::error_chain;
use arc_swap::ArcSwap;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use varai_core::accounts::hash_token;
use varai_core::flags::FlagConfig;
use varai_core::flags::FlagStore;
use varai_domain::flags::FlagSet;

/// One environment's compiled flags.
pub struct EnvSnapshot {
    pub key: String,
    pub flags: FlagSet,
    /// Changes whenever anything that can change an evaluation here changes; the same on
    /// every replica for the same configuration.
    pub config_tag: String,
}

/// All environments, and which SDK key opens which.
#[derive(Default)]
pub struct Snapshot {
    environments: HashMap<String, Arc<EnvSnapshot>>,
    /// SHA-256 (hex) of each live SDK key → environment key.
    sdk_keys: HashMap<String, String>,
}

impl Snapshot {
    /// Compiles a configuration read from the store. Archived flags are not served.
    pub fn build(config: FlagConfig) -> Snapshot {
        let segments_json = serde_json::to_string(&config.segments).unwrap_or_default();
        let environments = config
            .environments
            .iter()
            .map(|env| {
                let mut digest = Sha256::new();
                digest.update(segments_json.as_bytes());
                let live = config.flags.iter().filter(|f| f.archived_at.is_none());
                let pairs: Vec<_> = live
                    .map(|f| {
                        let t = f.targeting(&env.key);
                        digest.update(f.spec.key.as_bytes());
                        digest.update(serde_json::to_vec(&f.spec).unwrap_or_default());
                        digest.update(serde_json::to_vec(&t).unwrap_or_default());
                        (f.spec.clone(), t)
                    })
                    .collect();
                let flags = FlagSet::build(pairs, config.segments.iter());
                let config_tag = hex::encode(&digest.finalize()[..10]);
                let snapshot = EnvSnapshot {
                    key: env.key.clone(),
                    flags,
                    config_tag,
                };
                (env.key.clone(), Arc::new(snapshot))
            })
            .collect();
        Snapshot {
            environments,
            sdk_keys: config.sdk_keys.into_iter().collect(),
        }
    }

    /// The environment an SDK key opens, if it is a live key.
    pub fn environment_for_key(&self, secret: &str) -> Option<&Arc<EnvSnapshot>> {
        let env = self.sdk_keys.get(&hash_token(secret))?;
        self.environments.get(env)
    }

    pub fn environment(&self, key: &str) -> Option<&Arc<EnvSnapshot>> {
        self.environments.get(key)
    }
}

/// The cache the OFREP endpoints read.
pub struct FlagCache {
    current: ArcSwap<Snapshot>,
    store: Arc<dyn FlagStore>,
}

impl FlagCache {
    /// Loads the configuration once; call [`FlagCache::watch`] to keep it current.
    pub async fn load(store: Arc<dyn FlagStore>) -> Result<Arc<FlagCache>> {
        let snapshot = Snapshot::build(store.load_flag_config().await?);
        Ok(Arc::new(FlagCache {
            current: ArcSwap::from_pointee(snapshot),
            store,
        }))
    }

    /// The configuration now being served.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Reads the configuration again and swaps it in.
    pub async fn reload(&self) -> Result<()> {
        let snapshot = Snapshot::build(self.store.load_flag_config().await?);
        self.current.store(Arc::new(snapshot));
        Ok(())
    }

    /// Reloads whenever `changed` is signalled (and every 30 s), until the task is dropped.
    pub fn watch(self: &Arc<Self>, changed: Arc<Notify>) -> tokio::task::JoinHandle<()> {
        let cache = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                let _ = tokio::time::timeout(Duration::from_secs(30), changed.notified()).await;
                if let Err(e) = cache.reload().await {
                    tracing::warn!(error = %error_chain(&e), "could not reload the flag configuration");
                }
            }
        })
    }

    /// Forwards PostgreSQL notifications on `channel` to `changed`, reconnecting as needed,
    /// so a change made by another replica is served here within a second.
    pub fn listen_postgres(
        url: String,
        channel: &'static str,
        changed: Arc<Notify>,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                match sqlx::postgres::PgListener::connect(&url).await {
                    Ok(mut listener) => {
                        if let Err(e) = listener.listen(channel).await {
                            tracing::warn!(error = %e, "could not LISTEN for flag changes");
                        } else {
                            // Anything missed while disconnected is picked up by a reload.
                            changed.notify_one();
                            // `Ok(None)` means the connection dropped and will be
                            // re-established: reload, since notifications may be lost.
                            while listener.try_recv().await.is_ok() {
                                changed.notify_one();
                            }
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "could not connect to LISTEN for flag changes")
                    }
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        })
    }
}
