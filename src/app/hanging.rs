//! Hanging protocol: which image goes in which viewport, and how each is mirrored so that both breasts'
//! chest walls meet at the midline (R views on the left half facing right, L views on the right half facing left).
//!
//! The standard orientations (DICOM PS3.3 C.8.11.7, Patient Orientation (0020,0020) row\column) are
//! R CC `P\L`, L CC `A\R`, R MLO `P\F`, L MLO `A\F`: for a right breast the row direction points posterior,
//! i.e. the chest wall is at the right edge. An image that states the opposite direction is flipped. When
//! Patient Orientation is absent, the chest-wall side is taken from the image content (the breast touches the
//! chest-wall edge over its whole height, the nipple side is mostly background).

use crate::dicom::{ImageMeta, Laterality};
use crate::imaging::Image;

/// How many viewports are shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Layout {
    One,
    Two,
    #[default]
    Four,
}

impl Layout {
    pub fn slots(self) -> usize {
        match self {
            Self::One => 1,
            Self::Two => 2,
            Self::Four => 4,
        }
    }

    /// Columns and rows of the viewport grid.
    pub fn grid(self) -> (usize, usize) {
        match self {
            Self::One => (1, 1),
            Self::Two => (2, 1),
            Self::Four => (2, 2),
        }
    }
}

/// Mirroring applied when displaying an image.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Orientation {
    pub flip_x: bool,
    pub flip_y: bool,
    /// How the decision was made, for the status bar ("Patient Orientation", "image content", "none").
    pub basis: &'static str,
}

/// Which side of the image the chest wall is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChestWall {
    Left,
    Right,
}

fn is_mlo_like(view: &str) -> bool {
    let v = view.trim().to_ascii_uppercase();
    v.contains("MLO") || v == "ML" || v == "LM" || v.contains("LMO") || v == "SIO"
}

/// Chest-wall side from the image content: the edge column with more tissue (brighter in MONOCHROME2 raw values,
/// darker in MONOCHROME1) is the chest wall.
pub fn chest_wall_from_pixels(image: &Image, monochrome1: bool) -> Option<ChestWall> {
    if image.width < 8 || image.height < 8 {
        return None;
    }
    let band = (image.width / 10).max(1);
    let mean_of = |x0: usize| {
        let mut sum = 0.0f64;
        for y in (0..image.height).step_by(4) {
            let row = &image.data[y * image.width..(y + 1) * image.width];
            sum += row[x0..x0 + band].iter().map(|&v| f64::from(v)).sum::<f64>();
        }
        sum
    };
    let left = mean_of(0);
    let right = mean_of(image.width - band);
    if (left - right).abs() <= f64::EPSILON * (left.abs() + right.abs()) {
        return None;
    }
    let left_is_tissue = (left > right) != monochrome1;
    Some(if left_is_tissue { ChestWall::Left } else { ChestWall::Right })
}

/// The mirroring that hangs this image as a radiologist expects.
pub fn orientation_for(meta: &ImageMeta, first_frame: Option<&Image>) -> Orientation {
    let Some(laterality) = meta.mammo.laterality else {
        return Orientation { flip_x: false, flip_y: false, basis: "none (laterality unknown)" };
    };
    // Right breast: chest wall at the right edge; left breast: at the left edge.
    let (row_target, row_opposite) = match laterality {
        Laterality::Right => ('P', 'A'),
        Laterality::Left => ('A', 'P'),
    };
    let mlo = meta.mammo.view_position.as_deref().is_some_and(is_mlo_like);
    if let Some((row, column)) = &meta.mammo.patient_orientation {
        let row = row.to_ascii_uppercase();
        let column = column.to_ascii_uppercase();
        let flip_x = row.contains(row_opposite) && !row.contains(row_target);
        // MLO: feet at the bottom ('F'); CC: the patient's other side downwards (R CC 'L', L CC 'R').
        let (col_target, col_opposite) = if mlo {
            ('F', 'H')
        } else if laterality == Laterality::Right {
            ('L', 'R')
        } else {
            ('R', 'L')
        };
        let flip_y = column.contains(col_opposite) && !column.contains(col_target);
        if row.contains(row_target) || row.contains(row_opposite) {
            return Orientation { flip_x, flip_y, basis: "Patient Orientation" };
        }
    }
    let wanted = match laterality {
        Laterality::Right => ChestWall::Right,
        Laterality::Left => ChestWall::Left,
    };
    match first_frame.and_then(|f| chest_wall_from_pixels(f, meta.is_monochrome1())) {
        Some(side) => Orientation { flip_x: side != wanted, flip_y: false, basis: "image content" },
        None => Orientation { flip_x: false, flip_y: false, basis: "none" },
    }
}

/// The 4-view slot (0 R CC, 1 L CC, 2 R MLO, 3 L MLO) an image belongs in, if any.
pub fn four_view_slot(meta: &ImageMeta) -> Option<usize> {
    let laterality = meta.mammo.laterality?;
    let view = meta.mammo.view_position.as_deref()?;
    let row = if is_mlo_like(view) {
        1
    } else if view.trim().eq_ignore_ascii_case("CC") || view.trim().eq_ignore_ascii_case("XCCL") {
        0
    } else {
        return None;
    };
    Some(row * 2 + usize::from(laterality == Laterality::Left))
}

/// Hang `images` (their metas, in open order) into `slots` viewports: known views go to their 4-view places,
/// the rest fill the remaining slots in order.
pub fn hang(metas: &[&ImageMeta], layout: Layout) -> Vec<Option<usize>> {
    let n = layout.slots();
    let mut slots = vec![None; n];
    let mut placed = vec![false; metas.len()];
    if layout == Layout::Four {
        for (i, meta) in metas.iter().enumerate() {
            if let Some(s) = four_view_slot(meta)
                && slots[s].is_none()
            {
                slots[s] = Some(i);
                placed[i] = true;
            }
        }
        // View unknown but laterality known (e.g. digitised film): right breasts in the left column, left in the right.
        for (i, meta) in metas.iter().enumerate() {
            let Some(laterality) = meta.mammo.laterality.filter(|_| !placed[i]) else { continue };
            let column = usize::from(laterality == Laterality::Left);
            if let Some(s) = [column, column + 2].into_iter().find(|&s| slots[s].is_none()) {
                slots[s] = Some(i);
                placed[i] = true;
            }
        }
    }
    let mut rest = (0..metas.len()).filter(|&i| !placed[i]);
    for slot in &mut slots {
        if slot.is_none() {
            *slot = rest.next();
        }
    }
    slots
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(lat: &str, view: &str, po: Option<(&str, &str)>) -> ImageMeta {
        let mut m = ImageMeta::default();
        m.mammo.laterality = Laterality::from_dicom(lat);
        m.mammo.view_position = Some(view.to_owned());
        m.mammo.patient_orientation = po.map(|(a, b)| (a.to_owned(), b.to_owned()));
        m
    }

    #[test]
    fn standard_orientations_are_not_flipped() {
        for (lat, view, po) in [("R", "CC", ("P", "L")), ("L", "CC", ("A", "R")), ("R", "MLO", ("P", "F")), ("L", "MLO", ("A", "F"))] {
            let o = orientation_for(&meta(lat, view, Some(po)), None);
            assert!(!o.flip_x && !o.flip_y, "{lat} {view}");
        }
    }

    #[test]
    fn acquired_right_views_are_mirrored() {
        let o = orientation_for(&meta("R", "CC", Some(("A", "L"))), None);
        assert!(o.flip_x && !o.flip_y);
        let o = orientation_for(&meta("R", "MLO", Some(("A", "H"))), None);
        assert!(o.flip_x && o.flip_y);
    }

    #[test]
    fn content_decides_without_patient_orientation() {
        // Tissue (bright) on the left edge of a right breast: flip it.
        let mut data = vec![0.0f32; 100 * 20];
        for y in 0..20 {
            for x in 0..40 {
                data[y * 100 + x] = 1000.0;
            }
        }
        let img = Image::new(100, 20, data).unwrap();
        let o = orientation_for(&meta("R", "CC", None), Some(&img));
        assert!(o.flip_x);
        let o = orientation_for(&meta("L", "CC", None), Some(&img));
        assert!(!o.flip_x);
    }

    #[test]
    fn four_views_hang_in_place() {
        let metas = [meta("L", "MLO", None), meta("R", "CC", None), meta("L", "CC", None), meta("R", "MLO", None)];
        let refs: Vec<_> = metas.iter().collect();
        assert_eq!(hang(&refs, Layout::Four), vec![Some(1), Some(2), Some(3), Some(0)]);
        assert_eq!(hang(&refs, Layout::Two), vec![Some(0), Some(1)]);
        // Digitised film without View Position: columns by laterality, in open order.
        let metas = [meta("L", "", None), meta("L", "", None), meta("R", "", None), meta("R", "", None)];
        let refs: Vec<_> = metas.iter().collect();
        assert_eq!(hang(&refs, Layout::Four), vec![Some(2), Some(0), Some(3), Some(1)]);
    }
}
