//! Figures and reports written for people: the ROC figure of the model card, the CDMAM contrast-detail figure and
//! the one-page CDMAM QA report. Rendered in memory (PNG bytes, HTML text); written atomically by the callers.

pub mod canvas;
pub mod cdc;
pub mod cdmam;
pub mod patch_sheet;
pub mod roc;
