//! Application state and commands (no drawing): the document (`AppState`), the visual-only `ViewState`,
//! the hanging protocol and the loading job's work.

pub mod calc;
pub mod cdc;
pub mod cdmam;
pub mod commands;
pub mod denoise;
pub mod hanging;
pub mod loader;
pub mod open_image;
pub mod perturbation;
pub mod state;
pub mod view;

pub use commands::{Command, Effects};
pub use hanging::Layout;
pub use open_image::OpenImage;
pub use state::{AppState, Notification, Severity};
pub use view::{Tool, ViewState, ZoomMode};
