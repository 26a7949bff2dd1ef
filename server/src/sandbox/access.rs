//! Who may use the sandbox's Kubernetes port: only a caller presenting the bearer token made at
//! start-up, over TLS with a certificate also made at start-up (kubectl sends a token over TLS
//! only). The server writes address, certificate and token into a kubeconfig readable by its
//! own user alone. The in-process client the controllers use never crosses the port.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};

use super::Sandbox;
use base64::Engine;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, pki_types};

/// `api` behind the check for `token`.
pub fn guarded(api: Router, token: &str) -> Router {
    api.layer(from_fn_with_state(Arc::<str>::from(token), require_token))
}

/// Compares in time that does not depend on where the strings differ.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn require_token(State(token): State<Arc<str>>, req: Request, next: Next) -> Response {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if presented.is_some_and(|p| same_secret(p.trim().as_bytes(), token.as_bytes())) {
        return next.run(req).await;
    }
    // The Status a Kubernetes API server answers, so kubectl says "Unauthorized".
    let status = serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "Unauthorized: use the token in the kubeconfig the server wrote",
        "reason": "Unauthorized", "code": 401
    });
    (StatusCode::UNAUTHORIZED, axum::Json(status)).into_response()
}

/// The port's certificate (for `localhost` and `127.0.0.1`, signed by itself) and what serves it.
pub struct PortTls {
    pub acceptor: TlsAcceptor,
    /// The certificate in PEM, which clients trust as the port's authority.
    pub certificate_pem: String,
}

/// A certificate and key made now; nothing is read from or written to disk.
pub fn port_tls() -> Result<PortTls, String> {
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let made = rcgen::generate_simple_self_signed(names).map_err(|e| e.to_string())?;
    let key = pki_types::PrivateKeyDer::Pkcs8(made.key_pair.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(vec![made.cert.der().clone()], key)
        .map_err(|e| e.to_string())?;
    Ok(PortTls {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        certificate_pem: made.cert.pem(),
    })
}

/// TCP connections that completed a TLS handshake within 5 s; others are dropped.
pub struct TlsListener {
    pub tcp: TcpListener,
    pub acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (stream, addr) = match self.tcp.accept().await {
                Ok(accepted) => accepted,
                Err(_) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let handshake = self.acceptor.accept(stream);
            if let Ok(Ok(tls)) = tokio::time::timeout(Duration::from_secs(5), handshake).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// The kubeconfig that reaches the sandbox at `addr`, trusting `certificate_pem`, with `token`.
pub fn kubeconfig(addr: SocketAddr, certificate_pem: &str, token: &str) -> String {
    let authority = base64::engine::general_purpose::STANDARD.encode(certificate_pem);
    format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: varai-sandbox\n\
         clusters:\n- name: varai-sandbox\n  cluster:\n    server: https://{addr}\n    certificate-authority-data: {authority}\n\
         users:\n- name: varai-sandbox\n  user:\n    token: {token}\n\
         contexts:\n- name: varai-sandbox\n  context:\n    cluster: varai-sandbox\n    user: varai-sandbox\n    namespace: production\n"
    )
}

/// Writes `contents` to `path`, readable and writable by this user only.
pub fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())
}

/// The sandbox's Kubernetes port, serving.
pub struct ServedPort {
    pub port: u16,
    /// The kubeconfig written for it, when there is a data directory to write it to.
    pub kubeconfig: Option<PathBuf>,
    pub task: JoinHandle<()>,
}

/// Serves the token-guarded API over TLS on `addr` and writes the kubeconfig next to the
/// sandbox's `state_file`; `None`, with a warning, when it cannot.
pub async fn serve_port(
    sandbox: &Arc<Sandbox>,
    addr: SocketAddr,
    state_file: Option<&Path>,
) -> Option<ServedPort> {
    let refused = |what: &str, e: &dyn std::fmt::Display| {
        tracing::warn!(%addr, error = %e, "the sandbox's Kubernetes API {what}; kubectl cannot reach it (VARAI_SANDBOX_ADDR)");
    };
    let tls = port_tls()
        .map_err(|e| refused("has no certificate", &e))
        .ok()?;
    let tcp = TcpListener::bind(addr)
        .await
        .map_err(|e| refused("could not listen", &e))
        .ok()?;
    let bound = tcp
        .local_addr()
        .map_err(|e| refused("has no address", &e))
        .ok()?;
    let config = kubeconfig(bound, &tls.certificate_pem, &sandbox.token);
    let written = state_file.map(|f| f.with_file_name("sandbox-kubeconfig.yaml"));
    let kubeconfig = match written {
        Some(path) => match write_private(&path, &config) {
            Ok(()) => {
                tracing::info!(
                    "the sandbox cluster's Kubernetes API is on https://{bound} (kubectl --kubeconfig {} get deploy,pods,svc -A)",
                    path.display()
                );
                Some(path)
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "could not write the sandbox's kubeconfig");
                None
            }
        },
        None => None,
    };
    let listener = TlsListener {
        tcp,
        acceptor: tls.acceptor,
    };
    let api = sandbox.guarded_api();
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, api).await {
            tracing::warn!(error = %e, "the sandbox API stopped");
        }
    });
    Some(ServedPort {
        port: bound.port(),
        kubeconfig,
        task,
    })
}
