//! The paper's Table 1 on this project's cases (mammogram-denoising-anscombe, Sec. 3.1): a full-dose crop is the
//! reference, its dose reduction to α (gain estimated from the whole image) the noisy input, and every method is
//! scored against the reference by PSNR, SSIM and `σ_image` (see [`crate::imaging::quality`]). Simulated cases also
//! carry the noise-free signal (PSNR against it is reported too) and their calcifications, whose contrast after
//! denoising is compared with their contrast in the full-dose image.

use serde::Serialize;

use crate::imaging::{
    Image,
    perturb::{count_scale::CountScale, dose::reduce_dose},
    quality::{self, QualityError},
};

/// Where a case comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CaseKind {
    Simulated,
    Real,
}

/// One evaluation crop.
#[derive(Clone, Debug)]
pub struct EvalCase {
    pub name: String,
    pub kind: CaseKind,
    /// The full-dose crop: the reference.
    pub reference: Image,
    /// The noise-free crop (simulated cases).
    pub clean: Option<Image>,
    /// Calcification centres (crop pixels) and radii (px), simulated cases.
    pub specks: Vec<([f64; 2], f64)>,
    /// Gain and offset estimated from the whole image.
    pub gain: f64,
    pub offset: f64,
}

impl EvalCase {
    /// The dose-reduced input at α and its count scale.
    pub fn degrade(&self, alpha: f64, seed: u64) -> (Image, CountScale) {
        let scale = CountScale { gain: self.gain, offset: self.offset, alpha };
        let noisy = reduce_dose(&self.reference, alpha, self.gain, self.offset, seed).unwrap_or_else(|_| self.reference.clone());
        (noisy, scale)
    }
}

/// The scores of one output.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Scores {
    pub psnr: f64,
    pub ssim: f64,
    pub sigma_image: f64,
    /// PSNR against the noise-free crop (simulated cases).
    pub psnr_clean: Option<f64>,
    /// Σ calcification contrast in the output / Σ in the full-dose reference (specks with a positive reference
    /// contrast; simulated cases with calcifications).
    pub calc_contrast_ratio: Option<f64>,
}

/// Scores `output` against the case's reference.
pub fn score(case: &EvalCase, output: &Image) -> Result<Scores, QualityError> {
    let range = quality::data_range(&case.reference);
    let corner = quality::flattest_block(&case.reference).unwrap_or([0, 0]);
    let psnr_clean = match &case.clean {
        Some(clean) => Some(quality::psnr(clean, output, range)?),
        None => None,
    };
    Ok(Scores {
        psnr: quality::psnr(&case.reference, output, range)?,
        ssim: quality::ssim(&case.reference, output, range)?,
        sigma_image: quality::sigma_in_block(output, corner, range),
        psnr_clean,
        calc_contrast_ratio: contrast_ratio(case, output),
    })
}

/// `σ_image` of the reference itself (the paper's "GT" row).
pub fn reference_sigma(case: &EvalCase) -> f64 {
    let corner = quality::flattest_block(&case.reference).unwrap_or([0, 0]);
    quality::sigma_in_block(&case.reference, corner, quality::data_range(&case.reference))
}

fn contrast_ratio(case: &EvalCase, output: &Image) -> Option<f64> {
    let (mut out_sum, mut ref_sum) = (0.0, 0.0);
    for &(centre, radius) in &case.specks {
        let (Some(r), Some(o)) = (speck_contrast(&case.reference, centre, radius), speck_contrast(output, centre, radius)) else {
            continue;
        };
        if r > 0.0 {
            ref_sum += r;
            out_sum += o;
        }
    }
    (ref_sum > 0.0).then(|| out_sum / ref_sum)
}

/// Mean inside the speck's disc (radius at least 1 px) minus the mean of the ring 2–5 px outside it; `None` near the
/// border. Calcifications attenuate more: in raw (linear) values they are darker, in For Presentation brighter, so
/// the sign is that of the image and ratios compare like with like.
pub fn speck_contrast(image: &Image, centre: [f64; 2], radius: f64) -> Option<f64> {
    let r_in = radius.max(1.0);
    let r_out = r_in + 5.0;
    let (cx, cy) = (centre[0], centre[1]);
    // The loops below run to the ceiling of the far edge, so that pixel must exist too.
    if cx - r_out < 0.0 || cy - r_out < 0.0 || (cx + r_out).ceil() >= image.width as f64 || (cy + r_out).ceil() >= image.height as f64 {
        return None;
    }
    let (mut inside, mut n_in, mut ring, mut n_ring) = (0.0, 0usize, 0.0, 0usize);
    for y in (cy - r_out).floor() as usize..=(cy + r_out).ceil() as usize {
        for x in (cx - r_out).floor() as usize..=(cx + r_out).ceil() as usize {
            let d = (x as f64 - cx).hypot(y as f64 - cy);
            let v = f64::from(image.data[y * image.width + x]);
            if d <= r_in {
                inside += v;
                n_in += 1;
            } else if d >= r_in + 2.0 && d <= r_out {
                ring += v;
                n_ring += 1;
            }
        }
    }
    (n_in > 0 && n_ring > 0).then(|| (inside / n_in as f64 - ring / n_ring as f64).abs())
}

/// The mean scores of one method over cases of one kind at one α.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TableRow {
    pub method: String,
    pub kind: CaseKind,
    pub alpha: f64,
    pub cases: usize,
    pub psnr: f64,
    pub ssim: f64,
    pub sigma_image: f64,
    pub psnr_clean: Option<f64>,
    pub calc_contrast_ratio: Option<f64>,
    /// Median seconds per megapixel (none for the noisy input).
    pub seconds_per_megapixel: Option<f64>,
}

/// Averages `scores` (one per case) into a row.
pub fn row(method: &str, kind: CaseKind, alpha: f64, scores: &[Scores], seconds_per_mp: &[f64]) -> TableRow {
    let n = scores.len().max(1) as f64;
    let mean = |f: &dyn Fn(&Scores) -> f64| scores.iter().map(f).sum::<f64>() / n;
    let mean_opt = |f: &dyn Fn(&Scores) -> Option<f64>| {
        let v: Vec<f64> = scores.iter().filter_map(f).collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    let mut times = seconds_per_mp.to_vec();
    times.sort_by(f64::total_cmp);
    TableRow {
        method: method.to_owned(),
        kind,
        alpha,
        cases: scores.len(),
        psnr: mean(&|s| s.psnr),
        ssim: mean(&|s| s.ssim),
        sigma_image: mean(&|s| s.sigma_image),
        psnr_clean: mean_opt(&|s| s.psnr_clean),
        calc_contrast_ratio: mean_opt(&|s| s.calc_contrast_ratio),
        seconds_per_megapixel: times.get(times.len() / 2).copied(),
    }
}

/// Markdown table of rows (one table per kind and α, in the order given).
pub fn markdown(rows: &[TableRow]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let mut last: Option<(CaseKind, u64)> = None;
    for r in rows {
        let key = (r.kind, r.alpha.to_bits());
        if last != Some(key) {
            let kind = match r.kind {
                CaseKind::Simulated => "simulated",
                CaseKind::Real => "real (CBIS-DDSM)",
            };
            let _ = write!(
                out,
                "\n**{kind}, dose α = {} ({:.0} % reduction), {} cases**\n\n| method | PSNR (dB) | SSIM | σ_image | PSNR vs noise-free | calcification contrast | s / MP |\n|---|---|---|---|---|---|---|\n",
                r.alpha,
                (1.0 - r.alpha) * 100.0,
                r.cases
            );
            last = Some(key);
        }
        let opt = |v: Option<f64>, digits: usize| v.map_or_else(|| "–".to_owned(), |v| format!("{v:.digits$}"));
        let _ = writeln!(
            out,
            "| {} | {:.2} | {:.4} | {:.4} | {} | {} | {} |",
            r.method,
            r.psnr,
            r.ssim,
            r.sigma_image,
            opt(r.psnr_clean, 2),
            opt(r.calc_contrast_ratio, 3),
            opt(r.seconds_per_megapixel, 2)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case() -> EvalCase {
        let (w, h) = (96, 96);
        let mut clean = Image::filled(w, h, 2000.0);
        for y in 0..h {
            for x in 0..w {
                let d = (x as f64 - 48.0).hypot(y as f64 - 48.0);
                if d <= 2.0 {
                    clean.data[y * w + x] = 2600.0;
                }
            }
        }
        let reference = reduce_dose(&clean, 0.999, 2.0, 0.0, 1).unwrap();
        EvalCase {
            name: "t".into(),
            kind: CaseKind::Simulated,
            reference,
            clean: Some(clean),
            specks: vec![([48.0, 48.0], 2.0)],
            gain: 2.0,
            offset: 0.0,
        }
    }

    #[test]
    fn a_speck_whose_ring_ends_a_fraction_short_of_the_edge_is_skipped() {
        let image = Image::filled(32, 32, 1.0);
        // The ring reaches 31.5 (inside), but its loop would read row and column 32.
        assert_eq!(speck_contrast(&image, [25.5, 25.5], 1.0), None);
        assert_eq!(speck_contrast(&image, [25.0, 25.0], 1.0), Some(0.0));
    }

    #[test]
    fn noisier_inputs_score_worse_and_contrast_is_measured() {
        let c = case();
        let (low, _) = c.degrade(0.2, 3);
        let (lower, _) = c.degrade(0.05, 3);
        let a = score(&c, &low).unwrap();
        let b = score(&c, &lower).unwrap();
        assert!(a.psnr > b.psnr && a.ssim > b.ssim && a.sigma_image < b.sigma_image, "{a:?} {b:?}");
        let own = score(&c, &c.reference).unwrap();
        assert!(own.psnr.is_infinite() && (own.calc_contrast_ratio.unwrap() - 1.0).abs() < 1e-9);
        // Blurring the speck away lowers its contrast ratio.
        let flat = Image::filled(96, 96, 2000.0);
        assert!(score(&c, &flat).unwrap().calc_contrast_ratio.unwrap() < 0.05);
        let rows = [row("noisy", CaseKind::Simulated, 0.2, &[a, b], &[])];
        assert!(markdown(&rows).contains("| noisy |"));
    }
}
