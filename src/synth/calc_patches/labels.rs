//! The labelling rule shared by training crops and evaluation tiles.
//!
//! - **Positive**: at least one visible speck (CNR ≥ `min_cnr`) with its centre at least `edge_margin_px` inside.
//! - **Negative**: no speck of any CNR with its disc within the window grown by `clearance_px`.
//! - **Faint**: speck centres inside (with the margin) but only faint ones, and no visible speck in or near it.
//! - **Ambiguous**: everything else (a visible speck at the edge, a speck just outside): neither trained nor scored.

use super::scene::Speck;
use crate::imaging::tiling::Tile;
use crate::synth::mammogram::CalcificationShape;

/// The rule's thresholds, in resampled pixels.
#[derive(Clone, Copy, Debug)]
pub(super) struct Rule {
    pub min_cnr: f64,
    pub edge_margin_px: f64,
    pub clearance_px: f64,
}

/// What the specks inside a window add up to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Content {
    /// Specks (any CNR) with their centre inside the window.
    pub specks: usize,
    pub max_cnr: f64,
    /// Shape of the most conspicuous speck inside.
    pub shape: Option<CalcificationShape>,
}

/// A window's label.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Label {
    Positive(Content),
    Faint(Content),
    Negative,
    Ambiguous,
}

impl Label {
    /// `Some(true)` positive, `Some(false)` negative, `None` faint or ambiguous.
    pub fn as_target(self) -> Option<bool> {
        match self {
            Self::Positive(_) => Some(true),
            Self::Negative => Some(false),
            Self::Faint(_) | Self::Ambiguous => None,
        }
    }
}

/// Whether a disc of `radius` around `c` reaches into `tile` grown by `grow` pixels on every side.
fn reaches(tile: &Tile, c: [f64; 2], radius: f64, grow: f64) -> bool {
    let (x0, y0, s) = (tile.x as f64 - grow, tile.y as f64 - grow, tile.size as f64 + 2.0 * grow);
    let dx = (x0 - c[0]).max(c[0] - (x0 + s)).max(0.0);
    let dy = (y0 - c[1]).max(c[1] - (y0 + s)).max(0.0);
    dx.hypot(dy) <= radius
}

impl Rule {
    /// Labels `tile` given every speck of its image.
    pub fn label(&self, tile: &Tile, specks: &[Speck]) -> Label {
        let visible = |s: &Speck| s.cnr >= self.min_cnr;
        let inside: Vec<&Speck> = specks.iter().filter(|s| tile.contains_with_margin(s.center_px[0], s.center_px[1], 0.0)).collect();
        let best = inside.iter().copied().max_by(|a, b| a.cnr.total_cmp(&b.cnr));
        let content = Content { specks: inside.len(), max_cnr: best.map_or(0.0, |s| s.cnr), shape: best.map(|s| s.shape) };
        let in_margin = |s: &Speck| tile.contains_with_margin(s.center_px[0], s.center_px[1], self.edge_margin_px);
        if inside.iter().any(|s| visible(s) && in_margin(s)) {
            return Label::Positive(content);
        }
        let nearby: Vec<&Speck> = specks.iter().filter(|s| reaches(tile, s.center_px, s.radius_px, self.clearance_px)).collect();
        if nearby.is_empty() {
            return Label::Negative;
        }
        if !nearby.iter().any(|s| visible(s)) && inside.iter().any(|s| in_margin(s)) { Label::Faint(content) } else { Label::Ambiguous }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn speck(x: f64, y: f64, cnr: f64) -> Speck {
        Speck { center_px: [x, y], radius_px: 2.0, cnr, cluster: 0, shape: CalcificationShape::Punctate }
    }

    #[test]
    fn the_rule() {
        let rule = Rule { min_cnr: 3.0, edge_margin_px: 8.0, clearance_px: 14.0 };
        let tile = Tile { x: 100, y: 100, size: 224 };
        let label = |specks: &[Speck]| rule.label(&tile, specks);
        assert_eq!(label(&[]), Label::Negative);
        assert!(matches!(label(&[speck(200.0, 200.0, 5.0)]), Label::Positive(c) if c.specks == 1 && (c.max_cnr - 5.0).abs() < 1e-12));
        // Visible but 5 px from the edge: ambiguous; far outside: negative; just outside within the clearance: ambiguous.
        assert_eq!(label(&[speck(105.0, 200.0, 5.0)]), Label::Ambiguous);
        assert_eq!(label(&[speck(50.0, 200.0, 5.0)]), Label::Negative);
        assert_eq!(label(&[speck(90.0, 200.0, 1.0)]), Label::Ambiguous);
        assert!(matches!(label(&[speck(200.0, 200.0, 1.0)]), Label::Faint(c) if c.specks == 1));
        assert!(matches!(label(&[speck(200.0, 200.0, 1.0), speck(250.0, 250.0, 4.0)]), Label::Positive(c) if c.specks == 2));
        assert_eq!(label(&[speck(200.0, 200.0, 1.0), speck(104.0, 250.0, 4.0)]), Label::Ambiguous);
        assert_eq!(label(&[speck(200.0, 200.0, 5.0)]).as_target(), Some(true));
    }
}
