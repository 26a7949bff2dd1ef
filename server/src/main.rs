//! `varai`: serve the dashboard, or run an administration command.

use clap::Parser;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;
use varai_core::accounts::Principal;
use varai_core::accounts::issue_token;
use varai_server::config::{AdminCommand, Cli, Command};
use varai_server::storage::SqlxStore;

fn init_tracing(json: bool) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Keeps allocations of 1 MiB and more (a password hash's 19 MiB) in their own mappings,
/// returned to the system when freed. By default glibc raises this threshold after the first
/// such free, and then every thread's arena keeps the hashes' memory: 512 sign-ins at once
/// left the process at 1.9 GB; with a fixed threshold its peak is 129 MB (BENCHMARKS.md).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_large_allocations() {
    // SAFETY: mallopt only sets an allocator parameter; it is called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_large_allocations() {}

fn main() -> ExitCode {
    return_large_allocations();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run()),
        Err(e) => {
            eprintln!("could not start the runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let text = e.to_string();
            eprintln!(
                "{}",
                text.lines().next().unwrap_or("error: invalid arguments")
            );
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        None => run_serve(cli.serve).await,
        Some(Command::Serve(args)) => run_serve(args).await,
        Some(Command::Admin {
            command:
                AdminCommand::CreateToken {
                    role,
                    name,
                    storage,
                },
        }) => create_token(&storage.database_url(), &role, &name).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run_serve(args: varai_server::config::ServeArgs) -> anyhow::Result<()> {
    init_tracing(args.log_json);
    varai_server::serve(args).await
}

async fn create_token(url: &str, role: &str, name: &str) -> anyhow::Result<()> {
    let store = SqlxStore::connect(url).await?;
    let created = issue_token(&store, &Principal::cli(), name, role)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{}", created.secret);
    store.close().await;
    Ok(())
}
