//! Timing of OMIG upsampling: draws per second and where the time goes, on any [`MidpointModel`]; and
//! [`StandInEnsemble`], a random-weight network of the CDC ensemble's size for measuring before trained weights exist.

use std::collections::HashMap;
use std::fmt;
use std::time::Instant;

use candle_core::{DType, Device, Module, Result as CandleResult, Tensor};
use candle_nn::{Linear, VarBuilder, VarMap};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::clip::clip_outliers;
use super::error::ExplainError;
use super::method::Method;
use super::model::{MidpointModel, autograd_midpoint_and_grad};
use super::omig::OmigParams;
use super::upsample::Upsampler;
use crate::imaging::downsample::Selection;
use crate::models::compact::ConvBnRelu;
use crate::models::compact::conv::{Conv2d, ConvSpec};
use crate::models::pool::max_pool_2x2;

/// Image size of the benchmark (a typical full-field digital mammogram).
const BENCH_WIDTH: usize = 3328;
const BENCH_HEIGHT: usize = 4096;

/// Outputs of each member: the `K = 12` points of the CDC.
const CURVE_POINTS: usize = 12;

/// A conv layer of a member: conv + batch norm + `ReLU` as trained, or with the (evaluation-mode) batch norm folded
/// into the conv's weights and a bias.
enum ConvLayer {
    BnRelu(ConvBnRelu),
    Folded(Conv2d),
}

impl ConvLayer {
    fn new(c_in: usize, c_out: usize, folded: bool, vb: &VarBuilder) -> CandleResult<Self> {
        Ok(if folded {
            Self::Folded(Conv2d::new(c_in, c_out, ConvSpec { kernel: 3, stride: 1, padding: 1, bias: true }, vb)?)
        } else {
            Self::BnRelu(ConvBnRelu::new(c_in, c_out, 3, 1, vb)?)
        })
    }

    fn forward(&self, x: &Tensor) -> CandleResult<Tensor> {
        match self {
            Self::BnRelu(layer) => layer.forward_t(x, false),
            Self::Folded(conv) => conv.forward(x)?.relu(),
        }
    }
}

/// One member: conv3×3 1→8, pool, 8→16, pool, 16→32, pool, pool, linear 32·15·15 → 128 → 12 (for a 250² input).
struct Member {
    convs: [ConvLayer; 3],
    hidden: Linear,
    out: Linear,
}

impl Member {
    fn new(vb: &VarBuilder, side: usize, folded: bool) -> CandleResult<Self> {
        let convs = [
            ConvLayer::new(1, 8, folded, &vb.pp("c0"))?,
            ConvLayer::new(8, 16, folded, &vb.pp("c1"))?,
            ConvLayer::new(16, 32, folded, &vb.pp("c2"))?,
        ];
        let flat = 32 * (side / 16) * (side / 16);
        Ok(Self { convs, hidden: candle_nn::linear(flat, 128, vb.pp("hidden"))?, out: candle_nn::linear(128, CURVE_POINTS, vb.pp("out"))? })
    }

    fn forward(&self, x: &Tensor) -> CandleResult<Tensor> {
        let x = max_pool_2x2(&self.convs[0].forward(x)?)?;
        let x = max_pool_2x2(&self.convs[1].forward(&x)?)?;
        let x = max_pool_2x2(&max_pool_2x2(&self.convs[2].forward(&x)?)?)?;
        self.out.forward(&self.hidden.forward(&x.flatten_from(1)?)?.relu()?)
    }
}

/// A deep ensemble of random-weight members with the CDC network's cost, for benchmarks and tests; its midpoint is
/// the mean over members and curve points. `normalise` scales raw values by `1/4096`.
pub struct StandInEnsemble {
    members: Vec<Member>,
    side: usize,
    device: Device,
}

impl StandInEnsemble {
    /// `members` members (the paper: 10) for `side × side` inputs (`side` ≥ 16), weights from candle's initialisers.
    /// `folded`: each conv + batch norm is one conv with a bias, as an evaluation-mode batch norm can be folded into
    /// the conv before explaining (the backward pass of candle's batch norm is most of a member's cost on the CPU).
    pub fn new(members: usize, side: usize, folded: bool, device: &Device) -> CandleResult<Self> {
        // Initialise into a VarMap, then rebuild from detached copies: weights that are `Var`s would have their
        // gradients computed by every backward pass too (inference weights loaded from safetensors are not `Var`s).
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, device);
        for m in 0..members {
            Member::new(&vb.pp(m.to_string()), side, folded)?;
        }
        let tensors: HashMap<String, Tensor> = varmap
            .data()
            .lock()
            .map_err(|_| candle_core::Error::Msg("poisoned VarMap lock".to_owned()))?
            .iter()
            .map(|(name, var)| (name.clone(), var.as_tensor().detach()))
            .collect();
        let vb = VarBuilder::from_tensors(tensors, DType::F32, device);
        let members = (0..members).map(|m| Member::new(&vb.pp(m.to_string()), side, folded)).collect::<CandleResult<Vec<_>>>()?;
        Ok(Self { members, side, device: device.clone() })
    }
}

impl MidpointModel for StandInEnsemble {
    fn midpoint(&self, x: &Tensor) -> CandleResult<Tensor> {
        let outputs = self.members.iter().map(|m| m.forward(x)).collect::<CandleResult<Vec<_>>>()?;
        Tensor::stack(&outputs, 0)?.mean(0)?.mean(1)
    }

    fn midpoint_and_grad(&self, x: &Tensor) -> CandleResult<(Tensor, Tensor)> {
        autograd_midpoint_and_grad(|x| self.midpoint(x), x)
    }

    fn normalise(&self, raw: &[f32]) -> Vec<f32> {
        raw.iter().map(|v| v / 4096.0).collect()
    }

    fn input_side(&self) -> usize {
        self.side
    }

    fn device(&self) -> &Device {
        &self.device
    }
}

/// Seconds per batch of each part of an OMIG draw, and the resulting throughput.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BenchReport {
    /// Draws per model batch.
    pub batch: usize,
    /// OMIG steps `L`.
    pub steps: usize,
    /// Selection + gather + normalisation of a batch.
    pub gather_secs: f64,
    /// One forward pass (midpoint only).
    pub forward_secs: f64,
    /// One forward + backward pass (midpoint and gradient).
    pub forward_backward_secs: f64,
    /// One z-score clipping of a batch of gradients.
    pub clip_secs: f64,
    /// Scatter of a batch of maps into the full-resolution sums.
    pub scatter_secs: f64,
    /// One full [`Upsampler::run_batch`] with OMIG.
    pub omig_batch_secs: f64,
}

impl BenchReport {
    /// Draws per second of OMIG upsampling.
    pub fn draws_per_sec(&self) -> f64 {
        self.batch as f64 / self.omig_batch_secs
    }

    /// Projected seconds for `n` draws.
    pub fn projected_secs(&self, n: usize) -> f64 {
        n as f64 / self.draws_per_sec()
    }
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |s: f64| s * 1e3;
        let backward = self.forward_backward_secs - self.forward_secs;
        let accounted = self.gather_secs
            + self.steps as f64 * self.forward_backward_secs
            + (self.steps - 1) as f64 * self.clip_secs
            + self.forward_secs
            + self.scatter_secs;
        writeln!(f, "OMIG, L = {}, batch {} draws, per batch:", self.steps, self.batch)?;
        writeln!(f, "  gather + normalise     {:9.1} ms", ms(self.gather_secs))?;
        writeln!(f, "  forward                {:9.1} ms  (×1 per run)", ms(self.forward_secs))?;
        writeln!(f, "  forward + backward     {:9.1} ms  (×L; backward ≈ {:.1} ms)", ms(self.forward_backward_secs), ms(backward))?;
        writeln!(f, "  z-score clipping       {:9.2} ms  (×(L − 1))", ms(self.clip_secs))?;
        writeln!(f, "  scatter                {:9.1} ms", ms(self.scatter_secs))?;
        writeln!(f, "  sum of parts           {:9.1} ms", ms(accounted))?;
        writeln!(f, "  measured run_batch     {:9.1} ms", ms(self.omig_batch_secs))?;
        write!(f, "{:.3} draws/s; N = 5000 would take {:.1} h", self.draws_per_sec(), self.projected_secs(5000) / 3600.0)
    }
}

/// Times OMIG upsampling of a synthetic `3328 × 4096` image on `model`, `batch` draws per pass; each part is timed
/// (best of two) after a warm-up pass, then one full [`Upsampler::run_batch`].
pub fn bench_omig(model: &dyn MidpointModel, params: &OmigParams, batch: usize) -> Result<BenchReport, ExplainError> {
    let side = model.input_side();
    let raw: Vec<f32> = (0..BENCH_WIDTH * BENCH_HEIGHT).map(|i| ((i * 7919) % 4096) as f32).collect();
    let mut rng = StdRng::seed_from_u64(1);

    let start = Instant::now();
    let mut selections = Vec::with_capacity(batch);
    let mut input = Vec::with_capacity(batch * side * side);
    for _ in 0..batch {
        let selection = Selection::random(BENCH_WIDTH, BENCH_HEIGHT, side, &mut rng)?;
        input.extend(model.normalise(&selection.gather(&raw, BENCH_WIDTH)?));
        selections.push(selection);
    }
    let x = Tensor::from_vec(input, (batch, 1, side, side), model.device())?;
    let gather_secs = start.elapsed().as_secs_f64();

    model.midpoint_and_grad(&x)?; // warm-up
    let timed = |f: &dyn Fn() -> CandleResult<Tensor>| -> CandleResult<f64> {
        // The best of two runs; reading one value back waits for asynchronous devices.
        let mut best = f64::INFINITY;
        for _ in 0..2 {
            let start = Instant::now();
            f()?.flatten_all()?.narrow(0, 0, 1)?.to_dtype(DType::F32)?.to_vec1::<f32>()?;
            best = best.min(start.elapsed().as_secs_f64());
        }
        Ok(best)
    };
    let forward_secs = timed(&|| model.midpoint(&x))?;
    let forward_backward_secs = timed(&|| Ok(model.midpoint_and_grad(&x)?.1))?;
    let grad = model.midpoint_and_grad(&x)?.1;
    let clip_secs = timed(&|| clip_outliers(&grad, params.z_threshold))?;

    let values = grad.flatten_all()?.to_vec1::<f32>()?;
    let mut sum = vec![0f32; raw.len()];
    let start = Instant::now();
    for (selection, delta) in selections.iter().zip(values.chunks_exact(side * side)) {
        selection.scatter_add(delta, 1.0, &mut sum, BENCH_WIDTH)?;
    }
    let scatter_secs = start.elapsed().as_secs_f64();

    let mut upsampler = Upsampler::new(BENCH_WIDTH, BENCH_HEIGHT, 2);
    let start = Instant::now();
    upsampler.run_batch(model, &raw, &Method::Omig(*params), batch, &|| false)?;
    let omig_batch_secs = start.elapsed().as_secs_f64();

    Ok(BenchReport {
        batch,
        steps: params.steps,
        gather_secs,
        forward_secs,
        forward_backward_secs,
        clip_secs,
        scatter_secs,
        omig_batch_secs,
    })
}

#[cfg(test)]
mod tests {
    use super::super::omig::omig;
    use super::*;
    use crate::imaging::downsample::SIDE;

    #[test]
    fn stand_in_has_the_cdc_shape_and_omig_lowers_it() {
        let model = StandInEnsemble::new(2, 32, false, &Device::Cpu).unwrap();
        let x = (Tensor::rand(0f32, 1.0, (2, 1, 32, 32), &Device::Cpu).unwrap()).contiguous().unwrap();
        assert_eq!(model.midpoint(&x).unwrap().dims(), [2]);
        let params = OmigParams { steps: 5, c: 0.1, z_threshold: 3.0 };
        let result = omig(&model, &x, &params, &|| false).unwrap();
        for (start, end) in result.midpoint_start.iter().zip(&result.midpoint_end) {
            assert!(end <= start, "{start} → {end}");
        }
    }

    /// `cargo test --release --lib explain::bench -- --ignored --nocapture`
    #[test]
    #[ignore = "benchmark: minutes in release"]
    fn bench_omig_on_a_stand_in_ensemble() {
        let folded = std::env::var("OMIG_BENCH_FOLDED").is_ok_and(|v| v == "1");
        let model = StandInEnsemble::new(10, SIDE, folded, &Device::Cpu).unwrap();
        let batch = std::env::var("OMIG_BENCH_BATCH").ok().and_then(|b| b.parse().ok()).unwrap_or(8);
        let steps = std::env::var("OMIG_BENCH_STEPS").ok().and_then(|s| s.parse().ok()).unwrap_or(50);
        let report = bench_omig(&model, &OmigParams { steps, ..OmigParams::default() }, batch).unwrap();
        println!("{} threads, batch norm folded: {folded}\n{report}", candle_core::utils::get_num_threads());
    }
}
