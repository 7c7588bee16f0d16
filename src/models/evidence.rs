//! Where in a patch a calcification classifier found its evidence: the peak of the positive part of its class
//! activation map. The networks end in global pooling and one linear output, so the logit is `b + Σ_c w_c · pool(f_c)`;
//! the map `Σ_{c: w_c > 0} w_c · f_c(y, x)` says where the channels that vote "calcification" fire (channels with
//! negative weights vote against anywhere in the patch, so they say nothing about where). Its highest cell, at the
//! feature map's stride (16 px = 1.1 mm for the compact net), is the patch's evidence point.
//!
//! The detector uses it to tell findings apart: of two overlapping tiles above the threshold, the weaker is a finding of
//! its own when its evidence lies outside the stronger one and away from that one's evidence
//! (`imaging::tiling::distinct_findings`).

use candle_core::{D, Result, Tensor};

/// The positive part of an output layer's weight `(1, C)` as a `(C,)` vector.
fn positive_weights(fc_weight: &Tensor) -> Result<Tensor> {
    fc_weight.flatten_all()?.relu()
}

/// Evidence points of a batch of `(B, C, H', W')` feature maps (after their `ReLU`) from patches `patch` pixels a side:
/// per patch the centre `[x, y]` in patch pixels of the cell where the positive class activation map peaks (ties: the
/// first cell in row-major order).
pub fn evidence_nchw(features: &Tensor, fc_weight: &Tensor, patch: [usize; 2]) -> Result<Vec<[f32; 2]>> {
    let (_, c, h, w) = features.dims4()?;
    let weights = positive_weights(fc_weight)?.reshape((1, c, 1, 1))?;
    let map = features.broadcast_mul(&weights)?.sum(1)?;
    peaks(&map.flatten_from(1)?, [h, w], patch)
}

/// As [`evidence_nchw`] for `(B, H', W', C)` maps before their `ReLU` (the compact net's NHWC inference path).
pub fn evidence_nhwc(pre_relu: &Tensor, fc_weight: &Tensor, patch: [usize; 2]) -> Result<Vec<[f32; 2]>> {
    let (_, h, w, c) = pre_relu.dims4()?;
    let weights = positive_weights(fc_weight)?.reshape((1, 1, 1, c))?;
    let map = pre_relu.relu()?.broadcast_mul(&weights)?.sum(D::Minus1)?;
    peaks(&map.flatten_from(1)?, [h, w], patch)
}

/// `(B, H'·W')` maps → the centre of each one's highest cell in patch pixels. A cell of a stride-`s` map is centred on
/// input pixel `s · index` (every strided layer pads by half its kernel), so cell `(i, j)` is the point
/// `(s·j + ½, s·i + ½)`.
fn peaks(flat: &Tensor, [h, w]: [usize; 2], [patch_w, patch_h]: [usize; 2]) -> Result<Vec<[f32; 2]>> {
    let (sx, sy) = (patch_w as f32 / w.max(1) as f32, patch_h as f32 / h.max(1) as f32);
    let cells = flat.argmax(D::Minus1)?.to_vec1::<u32>()?;
    Ok(cells
        .into_iter()
        .map(|k| {
            let (i, j) = (k as usize / w.max(1), k as usize % w.max(1));
            [sx * j as f32 + 0.5, sy * i as f32 + 0.5]
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;

    #[test]
    fn the_peak_is_where_the_positively_weighted_channels_fire() {
        let dev = Device::Cpu;
        // Two channels on a 4 × 4 map: channel 0 (weight +2) fires at (row 1, col 2), channel 1 (weight −5) fires much
        // more strongly at (row 3, col 0) but votes against, so it must not move the peak.
        let mut data = vec![0f32; 2 * 16];
        data[4 + 2] = 1.0;
        data[16 + 3 * 4] = 10.0;
        let features = Tensor::from_vec(data.clone(), (1, 2, 4, 4), &dev).unwrap();
        let fc = Tensor::new(&[[2f32, -5.0]], &dev).unwrap();
        let points = evidence_nchw(&features, &fc, [64, 64]).unwrap();
        assert_eq!(points, vec![[32.5, 16.5]]);
        // The same map in NHWC, before the ReLU.
        let nhwc = features.permute((0, 2, 3, 1)).unwrap().contiguous().unwrap();
        assert_eq!(evidence_nhwc(&nhwc, &fc, [64, 64]).unwrap(), points);
        // Shifted down by 3, channel 0 is negative everywhere, so after the ReLU the map is flat: the first cell.
        let lowered = (nhwc - 3.0).unwrap();
        assert_eq!(evidence_nhwc(&lowered, &fc, [64, 64]).unwrap(), vec![[0.5, 0.5]]);
    }
}
