//! Writing a file so that readers never see half of it: a temporary file in the target's folder, synced, then
//! renamed over the target; the temporary file is removed on error.

use std::{io::Write as _, path::Path};

/// Write `bytes` to `path` atomically.
///
/// # Errors
/// When `path` names no file, is a directory, or the temporary file cannot be created, written or renamed.
pub fn write_file_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let invalid = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{what}: {}", path.display()));
    if path.is_dir() {
        return Err(invalid("is a directory"));
    }
    let name = path.file_name().ok_or_else(|| invalid("not a file path"))?;
    let tmp = path.with_file_name(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        std::fs::remove_file(&tmp).ok();
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        write_file_atomically(&path, b"one").unwrap();
        write_file_atomically(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert!(write_file_atomically(dir.path(), b"x").is_err());
        assert!(write_file_atomically(&dir.path().join("missing/a.txt"), b"x").is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
