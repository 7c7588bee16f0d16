//! The scalar every method here explains: the midpoint of the predicted contrast-detail curve, and its gradient.

use candle_core::{Device, Result, Tensor, Var};

/// A network whose prediction is summarised by one scalar per sample, the paper's CDC "midpoint"
/// `K⁻¹ Σₖ µ̃ᵏ(x)` (the mean over the `K` curve points of the ensemble mean `µ̃`).
///
/// Samples must be independent (evaluation mode: no batch statistics), so that the gradient of the sum of the
/// midpoints is each sample's own gradient.
///
/// Cost: OMIG calls [`Self::midpoint_and_grad`] `L` times per draw, so it dominates everything else here. Weights
/// should be plain tensors, not `Var`s (else their gradients are computed too), and on the CPU folding each
/// evaluation-mode batch norm into its conv saves about a third of the time (see [`super::bench_omig`]).
pub trait MidpointModel: Send + Sync {
    /// The midpoint per sample: normalised `x` `(B, 1, H, W)` → `(B,)`.
    fn midpoint(&self, x: &Tensor) -> Result<Tensor>;

    /// The midpoint `(B,)` and `R(x) = ∂ midpoint / ∂x` per sample `(B, 1, H, W)` (the paper's equation (1)).
    fn midpoint_and_grad(&self, x: &Tensor) -> Result<(Tensor, Tensor)>;

    /// Maps raw pixel values (one downsampled `side × side` image, row-major) to the network's normalised input.
    fn normalise(&self, raw: &[f32]) -> Vec<f32>;

    /// The side of the square input (250 in the paper).
    fn input_side(&self) -> usize;

    /// Where the model's tensors live; inputs are built there.
    fn device(&self) -> &Device;
}

/// The midpoint and its input gradient by candle's autograd, for implementations of
/// [`MidpointModel::midpoint_and_grad`]: `midpoint` maps `(B, 1, H, W)` to `(B,)`; the gradient of the sum over the
/// batch is taken, which is each sample's own gradient when the samples do not interact.
pub fn autograd_midpoint_and_grad(midpoint: impl Fn(&Tensor) -> Result<Tensor>, x: &Tensor) -> Result<(Tensor, Tensor)> {
    let input = Var::from_tensor(&x.detach())?;
    let m = midpoint(input.as_tensor())?;
    let grads = m.sum_all()?.backward()?;
    let grad = match grads.get(input.as_tensor()) {
        Some(grad) => grad.detach(),
        // The midpoint does not depend on the input: a zero gradient.
        None => x.zeros_like()?,
    };
    Ok((m.detach(), grad))
}
