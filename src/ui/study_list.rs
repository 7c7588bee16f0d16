//! The left panel: every open image as a thumbnail; click to show it in the active viewport.

use std::collections::HashMap;

use crate::app::{AppState, Command};

/// egui textures of the thumbnails, by image id (UI-side cache).
#[derive(Default)]
pub struct Thumbnails {
    textures: HashMap<u64, egui::TextureHandle>,
}

impl Thumbnails {
    fn get(&mut self, ctx: &egui::Context, image: &crate::app::OpenImage) -> egui::TextureHandle {
        self.textures
            .entry(image.id)
            .or_insert_with(|| {
                let (w, h, pixels) = &image.thumbnail;
                let color = egui::ColorImage::from_gray([*w, *h], pixels);
                ctx.load_texture(format!("thumb-{}", image.id), color, egui::TextureOptions::LINEAR)
            })
            .clone()
    }

    /// Drop textures of images that are no longer open.
    pub fn retain(&mut self, state: &AppState) {
        self.textures.retain(|id, _| state.image(*id).is_some());
    }
}

pub fn study_list_ui(ui: &mut egui::Ui, state: &AppState, thumbnails: &mut Thumbnails, cmds: &mut Vec<Command>) {
    ui.heading("Study");
    if state.images.is_empty() {
        ui.label("Open files with the button above, by dropping them here, or as command-line arguments.");
        return;
    }
    egui::ScrollArea::vertical().show(ui, |ui| {
        for image in &state.images {
            let shown = state.slots.contains(&Some(image.id));
            let texture = thumbnails.get(ui.ctx(), image);
            let size = texture.size_vec2();
            let response = ui
                .vertical(|ui| {
                    // Mirrored like the viewport, so the thumbnail looks like what the view shows.
                    let o = image.orientation;
                    let (u0, u1) = if o.flip_x { (1.0, 0.0) } else { (0.0, 1.0) };
                    let (v0, v1) = if o.flip_y { (1.0, 0.0) } else { (0.0, 1.0) };
                    let uv = egui::Rect::from_min_max(egui::pos2(u0, v0), egui::pos2(u1, v1));
                    let r = ui.add(egui::Image::new(&texture).uv(uv).fit_to_exact_size(size).sense(egui::Sense::click()));
                    let mut text = egui::RichText::new(image.title());
                    if shown {
                        text = text.strong();
                    }
                    ui.label(text);
                    r
                })
                .inner;
            if response.clicked() {
                cmds.push(Command::ShowInSlot { slot: state.active_slot, image: image.id });
            }
            response.on_hover_text(image.path.display().to_string());
            ui.add_space(6.0);
        }
    });
}
