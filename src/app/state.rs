//! The document: open images, hanging and notifications. Mutated only by `commands.rs`.

use std::time::Instant;

use super::hanging::Layout;
use super::open_image::OpenImage;

/// How serious a notification is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Info,
    Error,
}

/// A message shown in the corner of the window (e.g. a file that could not be opened).
#[derive(Clone, Debug)]
pub struct Notification {
    pub id: u64,
    pub severity: Severity,
    pub text: String,
    pub created: Instant,
}

/// Everything the user opened and how it is hung.
#[derive(Default)]
pub struct AppState {
    pub images: Vec<OpenImage>,
    pub layout: Layout,
    /// Set once the user picks a layout; until then it follows the number of open images.
    pub layout_chosen: bool,
    /// Image id shown in each viewport.
    pub slots: Vec<Option<u64>>,
    pub active_slot: usize,
    pub notifications: Vec<Notification>,
    /// Progress of background loading: (done, total, label) per running job.
    pub loading: Vec<(u32, u32, String)>,
    /// The calcification model: chosen per image from its source (film or digital), or one for all.
    pub calc_model: crate::models::catalog::CalcModelChoice,
    /// Tile stride of the calcification detector in model pixels (224 = the paper's non-overlapping patches; the
    /// default is half of it).
    pub calc_stride: usize,
    /// The CDMAM QA mode: readout of the open phantom images.
    pub cdmam: super::cdmam::CdmamState,
    next_id: u64,
}

impl AppState {
    pub fn new() -> Self {
        Self {
            slots: vec![None; 4],
            calc_stride: crate::models::detector::DEFAULT_STRIDE,
            cdmam: super::cdmam::CdmamState::new(),
            ..Self::default()
        }
    }

    pub fn image(&self, id: u64) -> Option<&OpenImage> {
        self.images.iter().find(|i| i.id == id)
    }

    pub fn image_mut(&mut self, id: u64) -> Option<&mut OpenImage> {
        self.images.iter_mut().find(|i| i.id == id)
    }

    /// The image in the active viewport, else the first one.
    pub fn active_image(&self) -> Option<&OpenImage> {
        self.slots.get(self.active_slot).copied().flatten().and_then(|id| self.image(id)).or_else(|| self.images.first())
    }

    pub fn slot_image(&self, slot: usize) -> Option<&OpenImage> {
        self.slots.get(slot).copied().flatten().and_then(|id| self.image(id))
    }

    pub(super) fn allocate_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn notify(&mut self, severity: Severity, text: impl Into<String>) {
        let text = text.into();
        match severity {
            Severity::Error => tracing::warn!("{text}"),
            Severity::Info => tracing::info!("{text}"),
        }
        let id = self.allocate_id();
        self.notifications.push(Notification { id, severity, text, created: Instant::now() });
    }

    /// Drop information notifications older than `lifetime` (errors stay until dismissed).
    pub fn expire_notifications(&mut self, lifetime: std::time::Duration) {
        self.notifications.retain(|n| n.severity == Severity::Error || n.created.elapsed() <= lifetime);
    }
}
