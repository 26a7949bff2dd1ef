//! The `varai` binary as an operator or a CI script uses it: bootstrap tokens from the command
//! line, refuse bad settings in one line, serve, and stop cleanly on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use varai_core::accounts::authenticate_token;
use varai_server::storage::SqlxStore;

fn varai() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_varai"));
    for var in [
        "DATABASE_URL",
        "VARAI_ADDR",
        "VARAI_DATA_DIR",
        "VARAI_ADMIN_PASSWORD",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

#[tokio::test]
async fn create_token_prints_a_working_admin_token() {
    let dir = tempfile::tempdir().unwrap();
    let out = varai()
        .args([
            "admin",
            "create-token",
            "--role",
            "admin",
            "--name",
            "ci-bootstrap",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secret = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(secret.starts_with("varai_"), "{secret}");
    let store = SqlxStore::connect(&format!("sqlite://{}/varai.db", dir.path().display()))
        .await
        .unwrap();
    let who = authenticate_token(&store, &secret).await.unwrap();
    assert_eq!(who.role, varai_domain::Role::Admin);
    assert_eq!(who.actor.name, "token:ci-bootstrap");
}

#[test]
fn a_bad_setting_stops_start_up_with_one_line_naming_it() {
    let out = varai().env("VARAI_ADDR", "nowhere").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("VARAI_ADDR") && err.contains("'nowhere'"),
        "{err}"
    );

    let out = varai()
        .env("DATABASE_URL", "mysql://root@db/varai")
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("DATABASE_URL") && err.contains("'mysql'"),
        "{err}"
    );

    let out = varai()
        .args([
            "admin",
            "create-token",
            "--role",
            "root",
            "--name",
            "x",
            "--data-dir",
        ])
        .arg(tempfile::tempdir().unwrap().path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("role") && err.contains("'root'"), "{err}");
}

/// Reads a whole stream on a thread, so the child never blocks on a full pipe.
fn collect(stream: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        BufReader::new(stream)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
            .join("\n")
    })
}

#[test]
fn the_server_prints_the_first_admin_and_stops_on_sigterm() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("data");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = varai()
        .args(["--addr", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(&dir)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = collect(child.stdout.take().unwrap());
    let terminal = collect(child.stderr.take().unwrap());

    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the server did not start listening"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let first_admin = std::fs::read_to_string(dir.join("first-admin.txt")).unwrap();
    let password = first_admin
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .unwrap()
        .to_owned();

    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert!(status.success(), "a clean exit on SIGTERM: {status}");
    let log = log.join().expect("log reader");
    let terminal = terminal.join().expect("terminal reader");
    assert!(
        !log.contains(&password),
        "the one-time password never reaches the log: {log}"
    );
    assert!(
        log.contains("first-admin.txt"),
        "the log says where it is: {log}"
    );
    assert_eq!(
        terminal.matches(&password).count(),
        1,
        "the terminal shows it once: {terminal}"
    );
    assert!(log.contains("stopped"), "{log}");

    // What the server keeps is its user's alone.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700, "the data folder");
    for file in ["varai.db", "first-admin.txt"] {
        assert_eq!(mode(&dir.join(file)), 0o600, "{file}");
    }
}
