//! The background job that opens files: folders are walked, each file is decoded and prepared for display,
//! and every result (image or error) reaches the UI as soon as it is ready.

use std::path::{Path, PathBuf};

use crate::dicom::{self, OpenOptions};
use crate::jobs::Reporter;

use super::open_image::PreparedImage;

/// One file's outcome.
pub enum Loaded {
    Image(Box<PreparedImage>),
    Failed { path: PathBuf, message: String },
}

/// Files to open: folders expanded recursively (sorted; hidden files skipped), files kept as given.
pub fn expand_paths(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut out, 0);
        } else {
            out.push(path.clone());
        }
    }
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    if depth > 16 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let hidden = path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            walk(&path, out, depth + 1);
        } else if !is_sidecar(&path) {
            out.push(path);
        }
    }
}

/// Files that sit beside images in a folder but are not images (simulator truth, notes).
fn is_sidecar(path: &Path) -> bool {
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    matches!(ext.as_str(), "json" | "txt" | "md" | "csv" | "xml" | "html")
}

/// Open every path, reporting progress and each result. Stops between files when cancelled.
pub fn load_files(paths: &[PathBuf], options: OpenOptions, reporter: &Reporter<Loaded>) -> anyhow::Result<()> {
    let files = expand_paths(paths);
    let total = files.len() as u32;
    for (i, path) in files.iter().enumerate() {
        if reporter.is_cancelled() {
            anyhow::bail!("loading cancelled");
        }
        let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        reporter.step(i as u32, total, format!("opening {name}"));
        let outcome = dicom::open(path, &options)
            .map_err(|e| e.to_string())
            .and_then(|loaded| PreparedImage::from_loaded(loaded).map_err(|e| format!("{e:#}")));
        match outcome {
            Ok(prepared) => reporter.output(Loaded::Image(Box::new(prepared))),
            Err(message) => reporter.output(Loaded::Failed { path: path.clone(), message }),
        }
    }
    reporter.step(total, total, "done");
    Ok(())
}

/// The built-in sample exam's folder: `MAMMOSCOPE_SAMPLES`, the source tree's `assets/samples`, or the
/// installed copy (`/usr/share/mammoscope/samples`, or `../share/mammoscope/samples` beside the executable).
pub fn sample_exam_dir() -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::var_os("MAMMOSCOPE_SAMPLES") {
        candidates.push(PathBuf::from(dir));
    }
    candidates.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/samples"));
    if let Ok(exe) = std::env::current_exe()
        && let Some(prefix) = exe.parent().and_then(Path::parent)
    {
        candidates.push(prefix.join("share/mammoscope/samples"));
    }
    candidates.push(PathBuf::from("/usr/share/mammoscope/samples"));
    candidates.into_iter().find(|d| d.is_dir())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_expand_sorted_without_sidecars() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        for name in ["b.dcm", "a.dcm", "a.json", ".hidden", "sub/c.dcm"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        let files = expand_paths(&[dir.path().to_owned()]);
        let names: Vec<_> = files.iter().map(|p| p.strip_prefix(dir.path()).unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names, vec!["a.dcm", "b.dcm", "sub/c.dcm"]);
    }
}
