//! Seeded initialisation of a network's variables: candle's own initialisers draw from an unseeded generator, so
//! without this no training run here could be repeated.

use candle_core::Tensor;
use candle_nn::VarMap;
use rand::{Rng, SeedableRng, rngs::StdRng};

use super::error::ModelError;

/// Seeded initialisation (candle's own is not seeded): conv weights He-uniform, dense weights and biases uniform
/// ±1/√`fan_in` (torch's defaults), batch norm scale 1, shift 0, running mean 0, running variance 1.
pub fn seeded_init(varmap: &VarMap, seed: u64) -> Result<(), ModelError> {
    let mut rng = StdRng::seed_from_u64(seed);
    let data = varmap.data().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut names: Vec<&String> = data.keys().collect();
    names.sort();
    for name in names {
        let var = &data[name];
        let fan_in = |layer: &str| data.get(&format!("{layer}.weight")).map_or(1, |w| w.dims().iter().skip(1).product::<usize>()).max(1);
        let layer = name.rsplit_once('.').map_or("", |(l, _)| l);
        let uniform = |bound: f64| (-bound, bound);
        // A batch norm is a layer with running statistics (`bn`, and torchvision's `bn1`, `downsample.1`, …).
        let is_bn = data.contains_key(&format!("{layer}.running_mean"));
        let is_conv = !is_bn && layer.rsplit('.').next() == Some("conv");
        let (constant, range) = match name.rsplit('.').next() {
            Some("running_var") => (Some(1.0), None),
            Some("running_mean") => (Some(0.0), None),
            Some("weight") if is_bn => (Some(1.0), None),
            Some("bias") if is_bn => (Some(0.0), None),
            Some("weight") if is_conv => (None, Some(uniform((6.0 / fan_in(layer) as f64).sqrt()))),
            _ => (None, Some(uniform(1.0 / (fan_in(layer) as f64).sqrt()))),
        };
        let values: Vec<f32> = match (constant, range) {
            (Some(c), _) => vec![c as f32; var.elem_count()],
            (None, Some((lo, hi))) => (0..var.elem_count()).map(|_| rng.random_range(lo..hi) as f32).collect(),
            (None, None) => continue,
        };
        var.set(&Tensor::from_vec(values, var.dims(), var.device())?.to_dtype(var.dtype())?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Device};
    use candle_nn::VarBuilder;

    use super::*;
    use crate::models::{calc_net::CalcNet, preset::CalcPreset};

    #[test]
    fn the_same_seed_gives_the_same_weights() {
        let build = |seed| {
            let varmap = VarMap::new();
            CalcNet::new(CalcPreset::Compact, true, VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu)).unwrap();
            seeded_init(&varmap, seed).unwrap();
            let data = varmap.data().lock().unwrap();
            let mut names: Vec<_> = data.keys().cloned().collect();
            names.sort();
            names.iter().map(|n| data[n].flatten_all().unwrap().to_vec1::<f32>().unwrap()).collect::<Vec<_>>()
        };
        assert_eq!(build(3), build(3));
        assert_ne!(build(3), build(4));
        let varmap = VarMap::new();
        CalcNet::new(CalcPreset::Resnet18, false, VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu)).unwrap();
        seeded_init(&varmap, 1).unwrap();
        let data = varmap.data().lock().unwrap();
        // torchvision's batch norms (bn1, downsample.1) start at scale 1, shift 0.
        for name in ["bn1.weight", "layer2.0.downsample.1.weight"] {
            assert!(data[name].flatten_all().unwrap().to_vec1::<f32>().unwrap().iter().all(|&v| (v - 1.0).abs() < 1e-7), "{name}");
        }
    }
}
