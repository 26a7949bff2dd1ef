//! Files the server keeps (the SQLite database, the first admin's password, the sandbox's
//! state): created readable by the server's user alone.

use std::io::Write;
use std::path::Path;

/// Creates `dir` (and any missing parents) as `rwx------`; an existing folder is left as is.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

fn private_options() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

/// Creates `path` empty as `rw-------` when it does not exist, so that what later opens it
/// (SQLite, and the journal files SQLite gives the same mode) keeps it private.
pub fn touch_private(path: &Path) -> std::io::Result<()> {
    if path.exists() {
        return Ok(());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }
    private_options().open(path).map(drop)
}

/// Writes `contents` to `path` as `rw-------`, replacing what was there.
pub fn write_private(path: &Path, contents: impl AsRef<[u8]>) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }
    private_options()
        .truncate(true)
        .open(path)?
        .write_all(contents.as_ref())
}
