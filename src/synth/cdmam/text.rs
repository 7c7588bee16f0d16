//! The printed text: "CDMAM 3.4", a serial number, and the thickness and diameter labels along two edges of the
//! matrix, in a built-in 5 × 7 dot font, printed in gold on the aluminium plate outside the matrix.

use super::{plate::Plate, supersample::Shape};
use crate::phantom::cdmam::tables::{CELL_PITCH_MM, COLUMN_RANGE, DIAMETERS_MM, THICKNESSES_UM};

/// Gold thickness of the printed text, µm (approximate; the text is plainly visible on real images).
pub const TEXT_GOLD_UM: f64 = 2.0;
/// The serial number printed under the title.
pub const SERIAL: &str = "1234";
/// Dot size of the title and serial (letters 3.5 mm high), mm.
const TITLE_DOT_MM: f64 = 0.5;
/// Dot size of the row and column labels (2.8 mm high, four characters 9.2 mm long fit a 10 mm cell), mm.
const LABEL_DOT_MM: f64 = 0.4;
/// Where the title and the serial are centred, plate frame (mm): the lower right corner of the plate, outside the
/// diamond.
const TITLE_AT_MM: [f64; 2] = [45.0, 95.0];
const SERIAL_AT_MM: [f64; 2] = [45.0, 101.0];

/// Rows of a 5 × 7 glyph, bit 4 = leftmost dot.
fn glyph(c: char) -> [u8; 7] {
    match c {
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        '.' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C],
        'A' => [0x0E, 0x11, 0x11, 0x11, 0x1F, 0x11, 0x11],
        'C' => [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E],
        'D' => [0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C],
        'M' => [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11],
        _ => [0; 7],
    }
}

/// One line of text in the phantom frame.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TextLine {
    glyphs: Vec<[u8; 7]>,
    /// Centre of the text box, phantom frame, mm.
    centre_mm: [f64; 2],
    /// Unit vector of the writing direction, phantom frame (down is this turned by +90°).
    axis: [f64; 2],
    dot_mm: f64,
}

impl TextLine {
    pub(crate) fn new(text: &str, centre_mm: [f64; 2], axis: [f64; 2], dot_mm: f64) -> Self {
        Self { glyphs: text.chars().map(glyph).collect(), centre_mm, axis, dot_mm }
    }

    /// Width and height of the text box, mm (6 dots per character less the last gap, 7 dots high).
    fn size_mm(&self) -> [f64; 2] {
        [(6.0 * self.glyphs.len() as f64 - 1.0).max(0.0) * self.dot_mm, 7.0 * self.dot_mm]
    }

    /// Text-box coordinates of `p` (mm from the top left corner).
    fn local(&self, [u, v]: [f64; 2]) -> [f64; 2] {
        let [du, dv] = [u - self.centre_mm[0], v - self.centre_mm[1]];
        let [ax, ay] = self.axis;
        let [w, h] = self.size_mm();
        [du * ax + dv * ay + w / 2.0, -du * ay + dv * ax + h / 2.0]
    }

    /// The four corners of the text box, phantom frame.
    pub(crate) fn corners_mm(&self) -> [[f64; 2]; 4] {
        let [w, h] = self.size_mm();
        let [ax, ay] = self.axis;
        let at = |x: f64, y: f64| {
            let (x, y) = (x - w / 2.0, y - h / 2.0);
            [self.centre_mm[0] + x * ax - y * ay, self.centre_mm[1] + x * ay + y * ax]
        };
        [at(0.0, 0.0), at(w, 0.0), at(w, h), at(0.0, h)]
    }

    /// The area of gold (mm²) the text prints: one dot² per set dot.
    #[cfg(test)]
    pub(crate) fn dot_area_mm2(&self) -> f64 {
        let dots: u32 = self.glyphs.iter().flat_map(|g| g.iter()).map(|row| row.count_ones()).sum();
        f64::from(dots) * self.dot_mm * self.dot_mm
    }
}

impl Shape for TextLine {
    fn quick(&self, p: [f64; 2], slack_mm: f64) -> Option<f64> {
        let [x, y] = self.local(p);
        let [w, h] = self.size_mm();
        (x < -slack_mm || y < -slack_mm || x > w + slack_mm || y > h + slack_mm).then_some(0.0)
    }

    fn contains(&self, p: [f64; 2]) -> bool {
        let [x, y] = self.local(p);
        if x < 0.0 || y < 0.0 {
            return false;
        }
        let (col, row) = ((x / self.dot_mm) as usize, (y / self.dot_mm) as usize);
        let (index, dot) = (col / 6, col % 6);
        dot < 5 && row < 7 && self.glyphs.get(index).is_some_and(|g| g[row] >> (4 - dot) & 1 == 1)
    }
}

/// Every printed line: title and serial (upright at the nominal pose); a thickness label (µm) beyond the first
/// cell of each column, written along the column (outwards), and a diameter label (mm) left of the first cell of
/// each row, written along the row. Column 0's label would share the empty corner cell with row 0's, so it moves
/// one row further out.
pub(crate) fn phantom_text() -> Vec<TextLine> {
    let upright = Plate::to_phantom([1.0, 0.0]);
    let mut lines = vec![
        TextLine::new("CDMAM 3.4", Plate::to_phantom(TITLE_AT_MM), upright, TITLE_DOT_MM),
        TextLine::new(SERIAL, Plate::to_phantom(SERIAL_AT_MM), upright, TITLE_DOT_MM),
    ];
    let half_label = (6.0 * 4.0 - 1.0) * LABEL_DOT_MM / 2.0;
    let gap = 0.9;
    for (col, thickness) in THICKNESSES_UM.iter().enumerate() {
        let Some(first_row) = COLUMN_RANGE.iter().position(|&(a, b)| (a..=b).contains(&col)) else { continue };
        let shares_corner = first_row > 0 && COLUMN_RANGE[first_row - 1].0 == col + 1;
        let edge_row = if shares_corner { first_row - 1 } else { first_row };
        let u = (col as f64 - 7.5) * CELL_PITCH_MM;
        let v = (edge_row as f64 - 8.0) * CELL_PITCH_MM - gap - half_label;
        lines.push(TextLine::new(&format!("{thickness:.2}"), [u, v], [0.0, -1.0], LABEL_DOT_MM));
    }
    for (row, (diameter, &(first_col, _))) in DIAMETERS_MM.iter().zip(&COLUMN_RANGE).enumerate() {
        let u = (first_col as f64 - 8.0) * CELL_PITCH_MM - gap - half_label;
        let v = (row as f64 - 7.5) * CELL_PITCH_MM;
        lines.push(TextLine::new(&format!("{diameter:.2}"), [u, v], [1.0, 0.0], LABEL_DOT_MM));
    }
    lines
}
