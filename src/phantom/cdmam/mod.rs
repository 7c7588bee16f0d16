//! The CDMAM 3.4 contrast-detail phantom (Artinis / Radboud UMC) and its automated readout as recommended by the
//! European Guidelines (EUREF): geometry and tables, finding the phantom in an image (`locate`), the corner scores
//! it produces, and the statistics that turn scores of many images into a contrast-detail curve (`analysis`).

pub mod analysis;
pub mod geometry;
pub mod layout;
pub mod locate;
pub mod readout;
pub mod scores;
pub mod tables;

pub use geometry::{CELL_COUNT, Cell, Corner, PhantomPose};
pub use layout::Layout;
pub use scores::ImageScores;
