//! Configuration from flags and environment variables. A bad value stops start-up with one
//! line naming the setting.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "varai",
    version,
    about = "VARAi Rollout: plan phased rollouts, manage feature flags, watch and roll back releases",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the dashboard and APIs (what `varai` with no command does).
    Serve(ServeArgs),
    /// Administration that writes the database directly, for scripts and CI bootstrap.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an API token and print its secret (shown once).
    CreateToken {
        /// viewer, developer, product-manager, operator or admin.
        #[arg(long)]
        role: String,
        /// A label to recognise the token by, e.g. ci-deploy.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

#[derive(Debug, Clone, Args)]
pub struct StorageArgs {
    /// Folder for the SQLite database and other local state.
    #[arg(long, env = "VARAI_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB. Default: SQLite under the data dir.
    #[arg(long, env = "DATABASE_URL", value_parser = parse_database_url, hide_env_values = true)]
    pub database_url: Option<String>,
}

impl StorageArgs {
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}/varai.db", self.data_dir.display()))
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "VARAI_ADDR", default_value = "127.0.0.1:3000", value_parser = parse_addr)]
    pub addr: SocketAddr,
    /// Password for the first admin, used only when the database has no users yet.
    /// Without it a random one-time password is printed in the log.
    #[arg(long, env = "VARAI_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    /// Folder holding the built site (`pkg/` with the WASM, JS and CSS).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,
    /// Mark the session cookie Secure for every client (it already is for clients on HTTPS:
    /// a public URL starting `https://`, or `X-Forwarded-Proto: https` from a trusted proxy).
    #[arg(long, env = "VARAI_COOKIE_SECURE", default_value_t = false)]
    pub cookie_secure: bool,
    /// The address people open the dashboard at, e.g. `https://rollout.example.com`.
    #[arg(long, env = "VARAI_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<String>,
    /// Proxies in front of the server whose `X-Forwarded-For` and `X-Forwarded-Proto` are
    /// believed, comma-separated IP addresses (by default none: the connection's own address
    /// is the client's).
    #[arg(long, env = "VARAI_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Log as JSON lines instead of text.
    #[arg(long, env = "VARAI_LOG_JSON", default_value_t = false)]
    pub log_json: bool,
    /// Loopback address the sandbox cluster's Kubernetes API listens on, for kubectl
    /// (`kubectl --server http://ADDR get pods -A`); `off` to not listen.
    #[arg(long, env = "VARAI_SANDBOX_ADDR", default_value = "127.0.0.1:6443", value_parser = parse_optional_addr)]
    pub sandbox_addr: OptionalAddr,
    /// Milliseconds a sandbox pod takes to become ready.
    #[arg(long, env = "VARAI_SANDBOX_POD_READY_MS", default_value_t = 2000, value_parser = clap::value_parser!(u64).range(10..=600_000))]
    pub sandbox_pod_ready_ms: u64,
    /// Prometheus for environments without their own URL. Without it the server starts its
    /// own on loopback when a `prometheus` binary is on the PATH.
    #[arg(long, env = "VARAI_PROMETHEUS_URL")]
    pub prometheus_url: Option<String>,
    /// Where the server's own Prometheus listens (default: a free loopback port); `off` to
    /// not start one.
    #[arg(long, env = "VARAI_PROMETHEUS_ADDR", value_parser = parse_optional_addr)]
    pub prometheus_addr: Option<OptionalAddr>,
    /// Seconds between scrapes of the server's own Prometheus, and between alert rule
    /// evaluations.
    #[arg(long, env = "VARAI_SCRAPE_SECONDS", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=60))]
    pub scrape_seconds: u32,
    #[command(flatten)]
    pub storage: StorageArgs,
}

/// A public URL: `http://` or `https://` and a host, without credentials.
fn parse_public_url(s: &str) -> Result<String, String> {
    let s = s.trim().trim_end_matches('/');
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .ok_or("the public URL must start with https:// or http://")?;
    if rest.is_empty() || rest.contains('@') || rest.chars().any(char::is_whitespace) {
        return Err("the public URL needs a host, and no credentials or spaces".into());
    }
    Ok(s.to_owned())
}

/// An address to listen on, or none (`off`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionalAddr(pub Option<SocketAddr>);

fn parse_optional_addr(value: &str) -> Result<OptionalAddr, String> {
    if value == "off" {
        return Ok(OptionalAddr(None));
    }
    value.parse().map(|a| OptionalAddr(Some(a))).map_err(|_| {
        format!("'{value}' is not an IP address and port such as 127.0.0.1:6443, or off")
    })
}

fn parse_addr(value: &str) -> Result<SocketAddr, String> {
    value.parse().map_err(|_| {
        format!("'{value}' is not an IP address and port such as 127.0.0.1:3000 (VARAI_ADDR)")
    })
}

fn parse_database_url(value: &str) -> Result<String, String> {
    if value.starts_with("sqlite:")
        || value.starts_with("postgres://")
        || value.starts_with("postgresql://")
    {
        Ok(value.to_owned())
    } else {
        let scheme = value.split(':').next().unwrap_or_default();
        Err(format!(
            "scheme '{scheme}' is not supported; use sqlite://PATH or postgres://… (DATABASE_URL)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("varai").chain(args.iter().copied()))
    }

    #[test]
    fn defaults_serve_on_loopback_with_sqlite_under_data() {
        let cli = parse(&[]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.serve.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(cli.serve.storage.database_url(), "sqlite://data/varai.db");
    }

    #[test]
    fn a_bad_address_names_the_setting() {
        let err = parse(&["--addr", "nowhere"]).unwrap_err().to_string();
        assert!(err.contains("--addr"), "{err}");
        assert!(err.contains("'nowhere'"), "{err}");
    }

    #[test]
    fn create_token_takes_role_and_name() {
        let cli = parse(&["admin", "create-token", "--role", "admin", "--name", "ci"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Admin { command: AdminCommand::CreateToken { ref role, ref name, .. } })
                if role == "admin" && name == "ci"
        ));
    }
}
