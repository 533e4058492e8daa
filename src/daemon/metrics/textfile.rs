//! The `[metrics] textfile` for node_exporter's textfile collector,
//! replaced atomically.

use std::path::Path;

use crate::fsutil::{self, DirRule, Durability, FsError};

/// Replace `path` with `text` atomically (mode 0644, through
/// [`fsutil::write_atomic`]: an `O_CREAT|O_EXCL` temporary file with an
/// unpredictable name, flushed, renamed over it). The directory is checked
/// first ([`fsutil::check_dir`]): one that group or others may write in is
/// refused, unless it is sticky (`/tmp`), which is allowed and returned as
/// a warning.
pub(crate) fn write_textfile(path: &Path, text: &str) -> Result<Option<String>, FsError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let warning = fsutil::check_dir(dir, DirRule::StickyWarn)?;
    fsutil::write_atomic(path, text.as_bytes(), 0o644, Durability::Durable)?;
    Ok(warning)
}
