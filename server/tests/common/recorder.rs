//! A flight recorder for the database tests: the last few thousand log lines of the test
//! binary, kept in memory and printed when a test stalls, so a hang in CI says where it was.

use std::collections::VecDeque;
use std::io;
use std::sync::{Mutex, Once};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Lines kept: enough for the last few requests of every test running at once.
const KEPT: usize = 4_000;

static LINES: Mutex<VecDeque<String>> = Mutex::new(VecDeque::new());

/// What is recorded: our crates and the session layer in detail, the rest from `info` up.
const FILTER: &str = "info,varai_server=debug,varai_core=debug,varai_app=debug,\
                      tower_sessions_core=debug";

/// Starts recording (once per test binary).
pub fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(EnvFilter::new(FILTER))
            .with_writer(Recorder)
            .with_ansi(false)
            .with_thread_names(true)
            .try_init();
    });
}

/// The recorded lines that mention `needle` (a test's span), then the last `tail` lines of
/// all, oldest first.
pub fn dump(needle: &str, tail: usize) -> String {
    let lines = LINES.lock().unwrap_or_else(|e| e.into_inner());
    let mine: Vec<&str> = lines
        .iter()
        .filter(|l| l.contains(needle))
        .map(String::as_str)
        .collect();
    let last: Vec<&str> = lines
        .iter()
        .skip(lines.len().saturating_sub(tail))
        .map(String::as_str)
        .collect();
    format!(
        "--- lines of {needle} ({}) ---\n{}\n--- the last {} lines of the binary ---\n{}",
        mine.len(),
        mine.join(""),
        last.len(),
        last.join("")
    )
}

struct Recorder;

/// One event's text, kept when the formatter is done with it.
pub struct Line(Vec<u8>);

impl io::Write for Line {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(&self.0).into_owned();
        let mut lines = LINES.lock().unwrap_or_else(|e| e.into_inner());
        if lines.len() == KEPT {
            lines.pop_front();
        }
        lines.push_back(text);
    }
}

impl<'a> MakeWriter<'a> for Recorder {
    type Writer = Line;

    fn make_writer(&'a self) -> Line {
        Line(Vec::new())
    }
}
