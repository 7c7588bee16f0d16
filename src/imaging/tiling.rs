//! Square tiles covering an image, as the patch classifier sees it.
//!
//! Tiles start at `0, stride, 2·stride, …` along each axis; the last row and column are shifted to end exactly at
//! the image edge, so nothing is cut off and no tile sticks out (an image smaller than one tile gets one tile at
//! the origin, which the patch extraction pads). With `stride == size` (the paper's default) the tiles do not
//! overlap except for that last shifted row/column. Tiles with too little breast are skipped.
//!
//! ```
//! use mammoscope::imaging::tiling::{Tile, tiles};
//! let t = tiles(500, 224, 224, 224, None, 0.0);
//! assert_eq!(t, vec![Tile { x: 0, y: 0, size: 224 }, Tile { x: 224, y: 0, size: 224 }, Tile { x: 276, y: 0, size: 224 }]);
//! ```

use super::breast_mask::BreastMask;

/// One square tile: top-left pixel and side length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tile {
    pub x: usize,
    pub y: usize,
    pub size: usize,
}

impl Tile {
    /// The tile's centre in continuous pixel coordinates.
    pub fn center(&self) -> (f64, f64) {
        let half = self.size as f64 / 2.0;
        (self.x as f64 + half, self.y as f64 + half)
    }

    /// Whether the two tiles share an area (a shared edge is not enough).
    pub fn overlaps(&self, other: &Tile) -> bool {
        self.x < other.x + other.size && other.x < self.x + self.size && self.y < other.y + other.size && other.y < self.y + self.size
    }

    /// The tile as `[x, y, w, h]`.
    pub fn bounds(&self) -> [f64; 4] {
        [self.x as f64, self.y as f64, self.size as f64, self.size as f64]
    }

    /// Whether pixel point `(x, y)` (continuous coordinates) lies at least `margin` pixels inside the tile.
    pub fn contains_with_margin(&self, x: f64, y: f64, margin: f64) -> bool {
        let (x0, y0, s) = (self.x as f64, self.y as f64, self.size as f64);
        x >= x0 + margin && x <= x0 + s - margin && y >= y0 + margin && y <= y0 + s - margin
    }
}

/// The marks a reader is shown from overlapping tiles: of the tiles scoring at least `threshold`, the strongest, then
/// the next strongest that overlaps none already kept, and so on (greedy non-maximum suppression). Returns indices
/// into `tiles`, strongest first; the kept tiles share no area. On a non-overlapping grid every tile at or above
/// the threshold is kept, except where the shifted last row or column overlaps a stronger neighbour.
pub fn strongest_non_overlapping(tiles: &[Tile], scores: &[f32], threshold: f32) -> Vec<usize> {
    let n = tiles.len().min(scores.len());
    suppress_overlaps(&scores[..n], threshold, |a, b| tiles[a].overlaps(&tiles[b]))
}

/// Evidence points of two overlapping marks closer than this (mm) are one finding: about a cluster's radius (BI-RADS
/// groups calcifications within 1 cm³).
pub const SAME_FINDING_MM: f64 = 5.0;

/// Whether boxes `[x, y, w, h]` share area by more than a rounding error (touching boxes do not).
pub fn boxes_overlap(a: [f64; 4], b: [f64; 4]) -> bool {
    let eps = 1e-6 * a[2].max(a[3]);
    a[0] + eps < b[0] + b[2] && b[0] + eps < a[0] + a[2] && a[1] + eps < b[1] + b[3] && b[1] + eps < a[1] + a[3]
}

/// Whether a weaker box `other` (`[x, y, w, h]`) whose evidence point is `point` shows the same finding as a stronger,
/// kept one, `kept` with evidence point `kept_point`: the boxes overlap, and its evidence lies inside the stronger box
/// or within `merge` of the stronger one's evidence. All in one image's pixels. The one rule behind the viewer's marks
/// (`models::detector::Detection::marks`) and the evaluation's ([`distinct_findings`]).
pub fn same_finding(kept: [f64; 4], kept_point: [f64; 2], other: [f64; 4], point: [f64; 2], merge: f64) -> bool {
    let [x, y, w, h] = kept;
    let inside = point[0] >= x && point[0] <= x + w && point[1] >= y && point[1] <= y + h;
    boxes_overlap(kept, other) && (inside || (point[0] - kept_point[0]).hypot(point[1] - kept_point[1]) < merge)
}

/// The marks a reader is shown, one per finding: of the tiles scoring at least `threshold`, the strongest, then the
/// next strongest unless it overlaps a kept tile and shows the same finding ([`same_finding`]: its evidence point
/// lies in that tile or within `merge_px` of its evidence), and so on. `evidence[i]` is tile `i`'s evidence point in
/// image pixels (where the classifier's calcification evidence peaks). Unlike [`strongest_non_overlapping`], a
/// cluster whose tile overlaps a stronger tile that does not hold it keeps its own mark; kept tiles may overlap.
pub fn distinct_findings(tiles: &[Tile], scores: &[f32], evidence: &[[f64; 2]], threshold: f32, merge_px: f64) -> Vec<usize> {
    let n = tiles.len().min(scores.len()).min(evidence.len());
    suppress_overlaps(&scores[..n], threshold, |k, i| {
        same_finding(tiles[k].bounds(), evidence[k], tiles[i].bounds(), evidence[i], merge_px)
    })
}

/// Greedy non-maximum suppression over items `0..scores.len()` with the overlap test `overlaps(i, j)`: indices of the
/// kept items scoring at least `threshold`, strongest first (ties: the earlier item).
pub fn suppress_overlaps(scores: &[f32], threshold: f32, overlaps: impl Fn(usize, usize) -> bool) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).filter(|&i| scores[i] >= threshold).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    let mut kept: Vec<usize> = Vec::new();
    for i in order {
        if kept.iter().all(|&k| !overlaps(k, i)) {
            kept.push(i);
        }
    }
    kept
}

/// The tiles scoring at least `threshold`, grouped by overlap: two such tiles are in one group when a chain of
/// overlapping such tiles joins them. Each group is one finding when overlapping tiles are shown as their union.
/// Groups are sorted by their strongest score, strongest first; indices within a group ascend.
pub fn overlap_groups(tiles: &[Tile], scores: &[f32], threshold: f32) -> Vec<Vec<usize>> {
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let n = tiles.len().min(scores.len());
    let above: Vec<usize> = (0..n).filter(|&i| scores[i] >= threshold).collect();
    let mut parent: Vec<usize> = (0..above.len()).collect();
    for a in 0..above.len() {
        for b in a + 1..above.len() {
            if tiles[above[a]].overlaps(&tiles[above[b]]) {
                let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
                parent[ra.max(rb)] = ra.min(rb);
            }
        }
    }
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut slot = vec![usize::MAX; above.len()];
    for (a, &tile) in above.iter().enumerate() {
        let r = root(&mut parent, a);
        if slot[r] == usize::MAX {
            slot[r] = groups.len();
            groups.push(Vec::new());
        }
        groups[slot[r]].push(tile);
    }
    let best = |g: &Vec<usize>| g.iter().map(|&i| scores[i]).fold(f32::MIN, f32::max);
    groups.sort_by(|a, b| best(b).total_cmp(&best(a)));
    groups
}

/// Start positions along one axis of length `len`: multiples of `stride`, the last shifted to end at `len`.
fn starts(len: usize, size: usize, stride: usize) -> Vec<usize> {
    if len <= size {
        return vec![0];
    }
    let last = len - size;
    let mut out: Vec<usize> = (0..last).step_by(stride).collect();
    out.push(last);
    out
}

/// Tiles of `size` px every `stride` px covering a `width × height` image, row by row.
///
/// With a `mask`, tiles whose breast fraction ([`BreastMask::fraction_in`]) is below `min_breast_fraction` are
/// skipped. A zero `size` or `stride` gives no tiles.
pub fn tiles(width: usize, height: usize, size: usize, stride: usize, mask: Option<&BreastMask>, min_breast_fraction: f32) -> Vec<Tile> {
    if size == 0 || stride == 0 || width == 0 || height == 0 {
        return Vec::new();
    }
    let xs = starts(width, size, stride);
    starts(height, size, stride)
        .into_iter()
        .flat_map(|y| xs.iter().map(move |&x| Tile { x, y, size }))
        .filter(|t| mask.is_none_or(|m| m.fraction_in(t.x, t.y, t.size, t.size) >= min_breast_fraction))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_findings_keep_a_weaker_tile_whose_evidence_lies_outside_the_stronger_one() {
        let t = |x, y| Tile { x, y, size: 224 };
        // A strong tile at the origin with its evidence at (100, 100); its right neighbour (half overlapping) with
        // evidence at (300, 100), outside the first tile and 200 px away: a finding of its own. The lower neighbour's
        // evidence (110, 200) lies inside the first tile: the same finding.
        let tiles = [t(0, 0), t(112, 0), t(0, 112)];
        let scores = [0.95, 0.8, 0.9];
        let evidence = [[100.0, 100.0], [300.0, 100.0], [110.0, 200.0]];
        assert_eq!(distinct_findings(&tiles, &scores, &evidence, 0.5, 71.0), vec![0, 1]);
        // The plain overlap rule hides the right neighbour's finding.
        assert_eq!(strongest_non_overlapping(&tiles, &scores, 0.5), vec![0]);
        // Evidence just outside the stronger tile but within the merge distance of its evidence: the same finding.
        let near = [[200.0, 100.0], [230.0, 100.0], [110.0, 200.0]];
        assert_eq!(distinct_findings(&tiles, &scores, &near, 0.5, 71.0), vec![0]);
        // Below the threshold nothing is marked; tiles that do not overlap are always distinct.
        assert!(distinct_findings(&tiles, &scores, &evidence, 0.99, 71.0).is_empty());
        let apart = [t(0, 0), t(224, 0)];
        assert_eq!(distinct_findings(&apart, &[0.9, 0.8], &[[220.0, 5.0], [230.0, 5.0]], 0.5, 71.0), vec![0, 1]);
    }

    #[test]
    fn groups_join_chains_of_overlapping_tiles_above_the_threshold() {
        let t = |x, y| Tile { x, y, size: 224 };
        // A chain 0–112–224 along x (the ends do not overlap each other), a separate tile far away, one below threshold
        // that would bridge to it.
        let tiles = [t(0, 0), t(112, 0), t(224, 0), t(1000, 0), t(560, 0), t(448, 0)];
        let scores = [0.6, 0.7, 0.8, 0.95, 0.1, 0.5];
        assert_eq!(overlap_groups(&tiles, &scores, 0.5), vec![vec![3], vec![0, 1, 2], vec![5]]);
        // Without the middle tile the chain breaks in two.
        let scores = [0.6, 0.2, 0.8, 0.95, 0.1, 0.2];
        assert_eq!(overlap_groups(&tiles, &scores, 0.5), vec![vec![3], vec![2], vec![0]]);
        assert!(overlap_groups(&tiles, &scores, 0.99).is_empty());
    }

    #[test]
    fn suppression_keeps_the_strongest_of_overlapping_tiles_and_every_grid_tile() {
        let t = |x, y| Tile { x, y, size: 224 };
        // Half-overlapping chain: the strongest (index 1) wins, its neighbours go, the far one stays.
        let chain = [t(0, 0), t(112, 0), t(224, 0), t(448, 0)];
        assert_eq!(strongest_non_overlapping(&chain, &[0.6, 0.9, 0.7, 0.5], 0.5), vec![1, 3]);
        // A tile below the threshold is not shown and suppresses nothing: 0 and 2 only touch, so both stay.
        assert_eq!(strongest_non_overlapping(&chain, &[0.6, 0.4, 0.7, 0.2], 0.5), vec![2, 0]);
        // A weaker tile never suppresses a stronger one.
        assert_eq!(strongest_non_overlapping(&chain, &[0.9, 0.6, 0.2, 0.2], 0.5), vec![0]);
        // Grid neighbours share an edge only: all kept.
        let grid = [t(0, 0), t(224, 0), t(0, 224)];
        assert_eq!(strongest_non_overlapping(&grid, &[0.8, 0.9, 0.8], 0.5), vec![1, 0, 2]);
        assert!(t(0, 0).overlaps(&t(223, 223)) && !t(0, 0).overlaps(&t(224, 0)));
    }

    #[test]
    fn non_overlapping_tiles_cover_the_image_and_end_at_the_edge() {
        let (w, h) = (1000, 700);
        let t = tiles(w, h, 224, 224, None, 0.5);
        let xs: Vec<usize> = t.iter().filter(|t| t.y == 0).map(|t| t.x).collect();
        assert_eq!(xs, vec![0, 224, 448, 672, 776]);
        let ys: Vec<usize> = t.iter().filter(|t| t.x == 0).map(|t| t.y).collect();
        assert_eq!(ys, vec![0, 224, 448, 476]);
        let mut covered = vec![false; w * h];
        for tile in &t {
            assert!(tile.x + tile.size <= w && tile.y + tile.size <= h);
            for y in tile.y..tile.y + tile.size {
                covered[y * w + tile.x..y * w + tile.x + tile.size].fill(true);
            }
        }
        assert!(covered.iter().all(|&c| c));
    }

    #[test]
    fn exact_multiples_and_small_images() {
        assert_eq!(tiles(448, 224, 224, 224, None, 0.0).len(), 2);
        assert_eq!(tiles(100, 50, 224, 224, None, 0.0), vec![Tile { x: 0, y: 0, size: 224 }]);
        assert!(tiles(100, 100, 0, 224, None, 0.0).is_empty());
        // Overlapping tiles with half the stride.
        let xs: Vec<usize> = tiles(500, 224, 224, 112, None, 0.0).iter().map(|t| t.x).collect();
        assert_eq!(xs, vec![0, 112, 224, 276]);
    }

    #[test]
    fn tiles_without_enough_breast_are_skipped() {
        // Breast on the left half of a 448 × 224 image.
        let (w, h) = (448, 224);
        let data = (0..w * h).map(|i| if i % w < 224 { 5000.0 } else { 0.0 }).collect();
        let image = crate::imaging::Image::new(w, h, data).unwrap();
        let mask = BreastMask::from_image(&image, 0.1);
        let kept = tiles(w, h, 224, 224, Some(&mask), 0.5);
        assert_eq!(kept, vec![Tile { x: 0, y: 0, size: 224 }]);
        assert!(Tile { x: 0, y: 0, size: 224 }.contains_with_margin(8.0, 215.0, 8.0));
        assert!(!Tile { x: 0, y: 0, size: 224 }.contains_with_margin(7.9, 100.0, 8.0));
    }
}
