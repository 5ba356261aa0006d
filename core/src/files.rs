//! Lakebook's data folder, and files written whole or not at all.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Lakebook's data folder (the model, the window's settings, autosaves): the
/// platform's data folder plus `lakebook`. On Linux `$XDG_DATA_HOME/lakebook`
/// or `~/.local/share/lakebook`, on macOS `~/Library/Application
/// Support/lakebook`, on Windows `%APPDATA%\lakebook`.
pub fn data_dir() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("lakebook")
}

/// Writes the file at `path` through `fill`, atomically: `fill` writes into a
/// temp file of its own in the same folder, which is synced and renamed over
/// `path`. A reader sees the old file or the new one, never a part of one;
/// two writers never share a temp file; a killed writer leaves at most a
/// stray `.NAME.*` temp file. The file keeps the permissions of the one it
/// replaces (0644 for a new one, rather than the temp file's 0600).
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .tempfile_in(dir)?;
    fill(tmp.as_file_mut())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map_or(0o644, |m| m.permissions().mode());
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Writes `bytes` to `path` atomically (see [`write_atomic_with`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |file| file.write_all(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_replaced_whole_and_no_temp_file_stays() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("state.json");
        write_atomic(&path, b"first")?;
        write_atomic(&path, b"second")?;
        assert_eq!(std::fs::read_to_string(&path)?, "second");
        let names: Vec<String> = std::fs::read_dir(dir.path())?
            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect::<Result<_, _>>()?;
        assert_eq!(names, ["state.json"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path)?.permissions().mode() & 0o777,
                0o644
            );
        }
        // A failed fill leaves the old file as it was.
        let failed = write_atomic_with(&path, |_| Err(std::io::Error::other("disk full")));
        assert_eq!(failed.map_err(|e| e.to_string()), Err("disk full".into()));
        assert_eq!(std::fs::read_to_string(&path)?, "second");
        Ok(())
    }
}
