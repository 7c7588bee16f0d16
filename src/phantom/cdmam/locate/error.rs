//! [`LocateError`]: why the phantom could not be found.

/// Why [`super::locate`] found no CDMAM in an image.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LocateError {
    #[error("image has {len} values, expected {width}×{height}")]
    DataLength { width: usize, height: usize, len: usize },
    #[error("image of {width}×{height} px is too small to hold a CDMAM grid")]
    TooSmall { width: usize, height: usize },
    #[error("{bad} of {total} pixel values are not finite")]
    NonFinite { bad: usize, total: usize },
    #[error("pixel size hint must be positive and finite, got {0} mm")]
    Hint(f64),
    #[error("image is flat: no structure to find a CDMAM grid in")]
    Flat,
    #[error("no CDMAM grid found: {0}")]
    NoGrid(String),
    #[error("a grid was found but it does not match the CDMAM 3.4 outline: {0}")]
    NoMatch(String),
    #[error("the grid fit on the full-resolution image failed: {0}")]
    Fit(String),
}
