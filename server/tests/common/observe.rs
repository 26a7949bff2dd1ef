//! Real Prometheus and Alertmanager for tests: the app served on a loopback port, a
//! Prometheus (Debian package) scraping its sandbox metrics every second, and an Alertmanager
//! posting to its webhook.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};
use varai_server::monitor::own::{OwnConfig, OwnPrometheus, find_binary, free_loopback};
use varai_server::monitor::prom::PromMetrics;

use super::{AbortOnDrop, TestApp};
use varai_domain::analysis::Reading;

/// A Prometheus scraping a served test app, and the folder it keeps its data in.
pub struct Scraped {
    pub prometheus: OwnPrometheus,
    pub client: PromMetrics,
    _dir: tempfile::TempDir,
}

impl TestApp {
    /// Serves the app on a loopback port, as the server does; stops when the test ends.
    pub fn serve(&self) -> (SocketAddr, AbortOnDrop) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        listener.set_nonblocking(true).expect("non-blocking");
        let addr = listener.local_addr().expect("its address");
        let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
        let app = self.app.clone();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (addr, AbortOnDrop(task))
    }
}

/// Starts a Prometheus scraping `target` every second and waits for the sandbox's first
/// samples (Prometheus reads new targets about every 5 s).
pub async fn prometheus_scraping(target: SocketAddr) -> Scraped {
    let dir = tempfile::tempdir().expect("temp dir");
    let binary = find_binary().expect(
        "these tests need Prometheus on the PATH (Debian package prometheus; make test installs it)",
    );
    let prometheus = OwnPrometheus::start(OwnConfig {
        binary,
        dir: dir.path().to_owned(),
        listen: free_loopback().expect("a free port"),
        target: target.to_string(),
        scrape_seconds: 1,
    })
    .expect("Prometheus starts");
    let client = PromMetrics::new(&prometheus.url).expect("a client");
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        if let Reading::Value(v) = client.observe("count(http_requests_total)").await
            && v > 0.0
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus never scraped the sandbox"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Scraped {
        prometheus,
        client,
        _dir: dir,
    }
}

/// A running Alertmanager; killed when dropped.
pub struct Alertmanager {
    pub url: String,
    _child: Child,
    _dir: tempfile::TempDir,
}

/// Starts Alertmanager (Debian package prometheus-alertmanager) on loopback, sending every
/// alert at once to `webhook` with `token` as a bearer token.
pub async fn alertmanager(webhook: &str, token: &str) -> Alertmanager {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = format!(
        "route:\n  receiver: varai\n  group_by: ['alertname', 'app']\n  group_wait: 0s\n  group_interval: 1s\n  repeat_interval: 1h\n\
         receivers:\n  - name: varai\n    webhook_configs:\n      - url: '{webhook}'\n        send_resolved: true\n\
         \x20       http_config:\n          authorization:\n            type: Bearer\n            credentials: '{token}'\n"
    );
    let file = dir.path().join("alertmanager.yml");
    std::fs::write(&file, config).expect("config written");
    let listen = free_loopback().expect("a free port");
    let child = Command::new("prometheus-alertmanager")
        .arg(format!("--config.file={}", file.display()))
        .arg(format!(
            "--storage.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address={listen}"))
        .arg("--cluster.listen-address=")
        .arg("--log.level=warn")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("these tests need prometheus-alertmanager (Debian package; make test installs it)");
    let url = format!("http://{listen}");
    let http = prometheus_http_query::reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !http
        .get(format!("{url}/-/ready"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(Instant::now() < deadline, "Alertmanager never became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Alertmanager {
        url,
        _child: child,
        _dir: dir,
    }
}

impl Alertmanager {
    /// Raises an alert through Alertmanager's API, as Prometheus would.
    pub async fn fire(&self, labels: serde_json::Value, annotations: serde_json::Value) {
        let body = serde_json::json!([{"labels": labels, "annotations": annotations}]);
        let res = prometheus_http_query::reqwest::Client::new()
            .post(format!("{}/api/v2/alerts", self.url))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("Alertmanager answers");
        assert!(
            res.status().is_success(),
            "Alertmanager refused the alert: {}",
            res.status()
        );
    }
}
