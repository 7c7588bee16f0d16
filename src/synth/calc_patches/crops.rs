//! Where the patches of one scene go: positives and faint crops around specks, and negatives of every kind.

use std::collections::BTreeMap;

use rand::{Rng, rngs::StdRng, seq::SliceRandom};

use super::{
    dataset::PatchKind,
    labels::{Content, Label, Rule},
    ridge::CoarseMaps,
    scene::{Scene, Speck},
};
use crate::imaging::tiling::Tile;
use crate::synth::mammogram::CalcificationShape;

/// Tries per patch before giving up (or falling back to a random negative).
const ATTEMPTS: usize = 40;

/// Candidate places for hard negatives, computed once per scene.
struct Places {
    skin: Vec<[f64; 2]>,
    dense: Vec<Tile>,
    vessel: Vec<Tile>,
}

/// A uniformly chosen element.
fn pick<'a, T>(items: &'a [T], rng: &mut StdRng) -> Option<&'a T> {
    if items.is_empty() { None } else { items.get(rng.random_range(0..items.len())) }
}

/// Which specks [`Cropper::around_specks`] puts in its windows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Specks {
    /// Visible ones: positive windows.
    Visible,
    /// Visible ones below this CNR, in windows whose strongest speck is below it too: near-threshold positives.
    NearThreshold(f64),
    /// Visible ones of clusters of this morphology: positives of one shape.
    Shape(CalcificationShape),
    /// Faint ones only: faint windows.
    Faint,
}

/// Picks windows in one scene.
pub(super) struct Cropper<'a> {
    pub scene: &'a Scene,
    pub rule: Rule,
    pub size: usize,
}

impl Cropper<'_> {
    /// The tile with top-left near `(x0, y0)`, moved inside the image.
    fn tile_at(&self, x0: f64, y0: f64) -> Tile {
        let clamp = |v: f64, len: usize| v.round().clamp(0.0, len.saturating_sub(self.size) as f64) as usize;
        Tile { x: clamp(x0, self.scene.image.width), y: clamp(y0, self.scene.image.height), size: self.size }
    }

    /// The tile centred near `c`, jittered by up to `jitter` pixels.
    fn tile_around(&self, c: [f64; 2], jitter: f64, rng: &mut StdRng) -> Tile {
        let half = self.size as f64 / 2.0;
        let j = |rng: &mut StdRng| if jitter > 0.0 { rng.random_range(-jitter..=jitter) } else { 0.0 };
        let (dx, dy) = (j(rng), j(rng));
        self.tile_at(c[0] - half + dx, c[1] - half + dy)
    }

    fn breast(&self, tile: &Tile) -> f32 {
        self.scene.mask.fraction_in(tile.x, tile.y, tile.size, tile.size)
    }

    /// Up to `count` windows around the specks `which` selects, with the speck uniformly placed in the patch
    /// (at least the margin inside); clusters are chosen uniformly, then a speck in the cluster.
    pub fn around_specks(&self, count: usize, which: Specks, rng: &mut StdRng) -> Vec<(Tile, Content)> {
        let visible = |cnr: f64| cnr >= self.rule.min_cnr;
        let selected = |s: &Speck| match which {
            Specks::Visible => visible(s.cnr),
            Specks::NearThreshold(below) => visible(s.cnr) && s.cnr < below,
            Specks::Shape(shape) => visible(s.cnr) && s.shape == shape,
            Specks::Faint => !visible(s.cnr),
        };
        let mut by_cluster: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        for (i, s) in self.scene.specks.iter().enumerate() {
            if selected(s) {
                by_cluster.entry(s.cluster).or_default().push(i);
            }
        }
        let clusters: Vec<&Vec<usize>> = by_cluster.values().collect();
        let margin = self.rule.edge_margin_px.min(self.size as f64 / 2.0);
        let mut out = Vec::new();
        if clusters.is_empty() {
            return out;
        }
        for _ in 0..count {
            for _ in 0..ATTEMPTS {
                let cluster = clusters[rng.random_range(0..clusters.len())];
                let speck = &self.scene.specks[cluster[rng.random_range(0..cluster.len())]];
                let u = rng.random_range(margin..=self.size as f64 - margin);
                let v = rng.random_range(margin..=self.size as f64 - margin);
                let tile = self.tile_at(speck.center_px[0] - u, speck.center_px[1] - v);
                match (self.rule.label(&tile, &self.scene.specks), which) {
                    (Label::Positive(c), Specks::Visible | Specks::Shape(_)) | (Label::Faint(c), Specks::Faint) => out.push((tile, c)),
                    (Label::Positive(c), Specks::NearThreshold(below)) if c.max_cnr < below => out.push((tile, c)),
                    _ => continue,
                }
                break;
            }
        }
        out
    }

    /// `count` negatives, `hard_fraction` of them hard (kinds in turn, skipping those the image lacks); a hard
    /// kind that finds no window falls back to a random one.
    pub fn negatives(&self, count: usize, hard_fraction: f64, maps: &CoarseMaps, rng: &mut StdRng) -> Vec<(Tile, PatchKind)> {
        let mut hard = vec![PatchKind::Skin, PatchKind::Dense, PatchKind::Vessel];
        if self.scene.pectoral.len() >= 2 {
            hard.push(PatchKind::Pectoral);
        }
        if self.scene.mass.is_some() {
            hard.push(PatchKind::Mass);
        }
        hard.shuffle(rng);
        let n_hard = ((count as f64 * hard_fraction.clamp(0.0, 1.0)).round() as usize).min(count);
        let places = Places {
            skin: self.scene.mask.skin_line_px(),
            dense: self.ranked(maps, &maps.density),
            vessel: self.ranked(maps, &maps.ridge),
        };
        (0..count)
            .filter_map(|k| {
                let kind = if k < n_hard { hard[k % hard.len()] } else { PatchKind::Random };
                self.find(kind, &places, rng).map(|t| (t, kind)).or_else(|| {
                    (kind != PatchKind::Random).then(|| self.find(PatchKind::Random, &places, rng).map(|t| (t, PatchKind::Random)))?
                })
            })
            .collect()
    }

    /// A negative window of `kind`, or `None` after [`ATTEMPTS`] tries.
    fn find(&self, kind: PatchKind, places: &Places, rng: &mut StdRng) -> Option<Tile> {
        let jitter = self.size as f64 / 8.0;
        (0..ATTEMPTS).find_map(|_| {
            let (tile, min_breast, max_breast) = match kind {
                PatchKind::Skin => (self.tile_around(*pick(&places.skin, rng)?, jitter, rng), 0.2, 0.85),
                PatchKind::Pectoral => {
                    let edge = &self.scene.pectoral;
                    let i = rng.random_range(0..edge.len().checked_sub(1).filter(|&n| n > 0)?);
                    let t: f64 = rng.random();
                    let p = [edge[i][0] + t * (edge[i + 1][0] - edge[i][0]), edge[i][1] + t * (edge[i + 1][1] - edge[i][1])];
                    (self.tile_around(p, jitter, rng), 0.3, 1.0)
                }
                PatchKind::Mass => {
                    let (c, r) = self.scene.mass?;
                    (self.tile_around(c, 0.5 * r, rng), 0.5, 1.0)
                }
                PatchKind::Dense | PatchKind::Vessel => {
                    let c = pick(if kind == PatchKind::Dense { &places.dense } else { &places.vessel }, rng)?.center();
                    (self.tile_around([c.0, c.1], jitter, rng), 0.75, 1.0)
                }
                _ => {
                    let x = rng.random_range(0.0..=self.scene.image.width.saturating_sub(self.size) as f64);
                    let y = rng.random_range(0.0..=self.scene.image.height.saturating_sub(self.size) as f64);
                    (self.tile_at(x, y), 0.5, 1.0)
                }
            };
            let breast = self.breast(&tile);
            ((min_breast..=max_breast).contains(&breast) && self.rule.label(&tile, &self.scene.specks) == Label::Negative).then_some(tile)
        })
    }

    /// Negative, mostly-breast tiles on a half-size grid, best quarter by the mean of `map`.
    fn ranked(&self, maps: &CoarseMaps, map: &[f32]) -> Vec<Tile> {
        let (w, h) = (self.scene.image.width, self.scene.image.height);
        let mut scored: Vec<(f32, Tile)> =
            crate::imaging::tiling::tiles(w, h, self.size, (self.size / 2).max(1), Some(&self.scene.mask), 0.75)
                .into_iter()
                .filter(|t| self.rule.label(t, &self.scene.specks) == Label::Negative)
                .map(|t| (maps.tile_mean(map, &t), t))
                .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then((a.1.y, a.1.x).cmp(&(b.1.y, b.1.x))));
        let keep = scored.len().div_ceil(4);
        scored.into_iter().take(keep).map(|(_, t)| t).collect()
    }
}
