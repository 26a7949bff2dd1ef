//! The server's own Prometheus: when no Prometheus URL is configured and a `prometheus` binary
//! is on the PATH, the server writes a configuration that scrapes the sandbox's metrics and its
//! own `/metrics` every second, starts Prometheus on loopback with its data under the data
//! folder, restarts it if it dies, and stops it on shutdown.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::process::{Child, Command};
use tokio::sync::watch;

/// How the server's Prometheus runs.
#[derive(Debug, Clone)]
pub struct OwnConfig {
    pub binary: PathBuf,
    /// Its data and configuration live here.
    pub dir: PathBuf,
    /// Where it listens.
    pub listen: SocketAddr,
    /// `host:port` of the server to scrape.
    pub target: String,
    pub scrape_seconds: u32,
}

/// The running Prometheus; stopped when dropped.
pub struct OwnPrometheus {
    pub url: String,
    stop: watch::Sender<bool>,
    pid: Arc<std::sync::Mutex<Option<u32>>>,
    supervisor: Option<tokio::task::JoinHandle<()>>,
}

/// `prometheus` on the PATH, if there is one.
pub fn find_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("prometheus"))
        .find(|p| p.is_file())
}

/// A free loopback port, for a Prometheus with no fixed address.
pub fn free_loopback() -> std::io::Result<SocketAddr> {
    std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()
}

fn config_yaml(c: &OwnConfig) -> String {
    let s = c.scrape_seconds.max(1);
    format!(
        "# Written by VARAi Rollout at every start; edits are overwritten.\n\
         global:\n  scrape_interval: {s}s\n  scrape_timeout: {s}s\n  evaluation_interval: {s}s\n\
         scrape_configs:\n\
         \x20 - job_name: varai-sandbox\n    metrics_path: /sandbox/metrics\n    static_configs:\n      - targets: ['{t}']\n\
         \x20 - job_name: varai\n    metrics_path: /metrics\n    static_configs:\n      - targets: ['{t}']\n",
        t = c.target
    )
}

fn spawn(c: &OwnConfig) -> std::io::Result<Child> {
    let data = c.dir.join("data");
    crate::files::create_private_dir(&data)?;
    let config = c.dir.join("prometheus.yml");
    std::fs::write(&config, config_yaml(c))?;
    let mut cmd = Command::new(&c.binary);
    cmd.arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg(format!("--web.listen-address={}", c.listen))
        .arg("--storage.tsdb.retention.time=2d")
        .arg("--log.level=warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    cmd.spawn()
}

/// Stops a Prometheus a crashed earlier server left running on the same data folder.
fn stop_leftover(dir: &Path) {
    let pid_file = dir.join("prometheus.pid");
    let Ok(pid) = std::fs::read_to_string(&pid_file) else {
        return;
    };
    let pid = pid.trim();
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let ours = String::from_utf8_lossy(&cmdline).contains(&dir.display().to_string());
    if ours {
        tracing::warn!(pid, "stopping a Prometheus left over from an earlier run");
        let _ = std::process::Command::new("kill").arg(pid).status();
        std::thread::sleep(Duration::from_millis(500));
    }
    let _ = std::fs::remove_file(pid_file);
}

impl OwnPrometheus {
    /// Starts Prometheus and keeps it running until dropped.
    pub fn start(config: OwnConfig) -> std::io::Result<OwnPrometheus> {
        crate::files::create_private_dir(&config.dir)?;
        stop_leftover(&config.dir);
        let first = spawn(&config)?;
        let url = format!("http://{}", config.listen);
        let (stop, mut stopped) = watch::channel(false);
        let pid = Arc::new(std::sync::Mutex::new(first.id()));
        let pid_seen = Arc::clone(&pid);
        tracing::info!(%url, "started the server's own Prometheus (scrapes every {} s)", config.scrape_seconds);
        let supervisor = tokio::spawn(async move {
            let mut child = first;
            let mut backoff = Duration::from_secs(1);
            loop {
                if let Some(id) = child.id() {
                    let _ = std::fs::write(config.dir.join("prometheus.pid"), id.to_string());
                }
                tokio::select! {
                    status = child.wait() => {
                        tracing::warn!(?status, "the server's Prometheus stopped; restarting in {} s", backoff.as_secs());
                    }
                    _ = stopped.changed() => {
                        terminate(&mut child).await;
                        let _ = std::fs::remove_file(config.dir.join("prometheus.pid"));
                        return;
                    }
                }
                if *stopped.borrow() {
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
                match spawn(&config) {
                    Ok(c) => {
                        *pid_seen.lock().unwrap_or_else(|e| e.into_inner()) = c.id();
                        child = c;
                    }
                    Err(e) => tracing::warn!(error = %e, "could not restart Prometheus"),
                }
            }
        });
        Ok(OwnPrometheus {
            url,
            stop,
            pid,
            supervisor: Some(supervisor),
        })
    }

    /// Stops it and waits until it has exited (at most a few seconds).
    pub async fn shutdown(mut self) {
        self.stop();
        if let Some(task) = self.supervisor.take() {
            let _ = tokio::time::timeout(Duration::from_secs(8), task).await;
        }
    }

    /// Stops it (SIGTERM, so it closes its database cleanly) and waits a moment.
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }

    /// The process id of the Prometheus now running.
    pub fn pid(&self) -> Option<u32> {
        *self.pid.lock().unwrap_or_else(|e| e.into_inner())
    }
}

async fn terminate(child: &mut Child) {
    if let Some(id) = child.id() {
        let _ = Command::new("kill").arg(id.to_string()).status().await;
        if tokio::time::timeout(Duration::from_secs(5), child.wait())
            .await
            .is_ok()
        {
            return;
        }
    }
    let _ = child.kill().await;
}

impl Drop for OwnPrometheus {
    fn drop(&mut self) {
        self.stop();
    }
}
