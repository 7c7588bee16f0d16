//! Writing a file so that readers never see half of it: a temporary file in the target's folder, synced, then
//! renamed over the target; the temporary file is removed on error.

use std::{
    fs::File,
    io::{BufWriter, Write as _},
    path::Path,
};

/// Write `bytes` to `path` atomically.
///
/// # Errors
/// When `path` names no file, is a directory, or the temporary file cannot be created, written or renamed.
pub fn write_file_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomically_with(path, |w| w.write_all(bytes))
}

/// Stream into a temporary file beside `path` with `write`, flush and sync it, then rename it over `path`; the
/// temporary file is removed on any error (including `write`'s own).
///
/// # Errors
/// When `path` names no file or is a directory, the temporary file cannot be created, synced or renamed (as
/// `E::from(io::Error)`), or `write` fails.
pub fn write_atomically_with<E: From<std::io::Error>>(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<(), E>,
) -> Result<(), E> {
    let invalid = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{what}: {}", path.display()));
    if path.is_dir() {
        return Err(invalid("is a directory").into());
    }
    let name = path.file_name().ok_or_else(|| invalid("not a file path"))?;
    let tmp = path.with_file_name(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id()));
    let result = (|| {
        let mut writer = BufWriter::new(File::create(&tmp)?);
        write(&mut writer)?;
        let file = writer.into_inner().map_err(std::io::IntoInnerError::into_error)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    })();
    if result.is_err() {
        std::fs::remove_file(&tmp).ok();
    }
    result
}

/// True when `a` and `b` name the same existing file (through links or `..` too): outputs must never replace inputs.
pub fn same_file(a: &Path, b: &Path) -> bool {
    if let (Ok(a), Ok(b)) = (std::fs::canonicalize(a), std::fs::canonicalize(b)) { a == b } else { false }
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
        // A failing writer leaves the old file and no temporary file.
        let failed: Result<(), std::io::Error> = write_atomically_with(&path, |w| {
            w.write_all(b"half")?;
            Err(std::io::Error::other("encoder failed"))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert!(same_file(&path, &dir.path().join(".").join("a.txt")));
        assert!(!same_file(&path, &dir.path().join("missing.txt")));
    }
}
