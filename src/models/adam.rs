//! Adam / `AdamW` whose state can be saved and reloaded, so that an interrupted training run resumes bit for bit.
//!
//! The update is torch's `AdamW` (decoupled weight decay; plain Adam with `weight_decay = 0`), with a step counter per
//! variable for the bias corrections. Variables that receive no gradient — batch norm's running statistics, which
//! candle-nn keeps in the `VarMap` too, or a frozen part of the network — are left untouched and get no state.
//!
//! The state file is safetensors: `exp_avg.{name}`, `exp_avg_sq.{name}`, `step.{name}` per variable, the
//! hyper-parameters as an f64 tensor `config` (`[lr, beta1, beta2, eps, weight_decay]`, bit-exact), and metadata
//! `format = mammoscope-adam-v1`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use candle_core::backprop::GradStore;
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::VarMap;

use super::checkpoint::write_atomically;
use super::error::ModelError;

/// The `format` metadata of an optimiser state file.
pub const ADAM_FORMAT: &str = "mammoscope-adam-v1";

/// Hyper-parameters of [`Adam`].
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AdamConfig {
    /// Learning rate.
    pub lr: f64,
    /// Decay of the first-moment average.
    pub beta1: f64,
    /// Decay of the second-moment average.
    pub beta2: f64,
    /// Added to the root of the second moment.
    pub eps: f64,
    /// Decoupled weight decay (`AdamW`); 0 gives Adam.
    pub weight_decay: f64,
}

impl Default for AdamConfig {
    /// torch's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, no weight decay.
    fn default() -> Self {
        Self { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0 }
    }
}

impl AdamConfig {
    fn to_array(self) -> [f64; 5] {
        [self.lr, self.beta1, self.beta2, self.eps, self.weight_decay]
    }

    fn validate(self) -> Result<Self, ModelError> {
        let ok = self.lr >= 0.0
            && (0.0..1.0).contains(&self.beta1)
            && (0.0..1.0).contains(&self.beta2)
            && self.eps > 0.0
            && self.weight_decay >= 0.0;
        if ok { Ok(self) } else { Err(ModelError::Input(format!("invalid Adam hyper-parameters {self:?}"))) }
    }
}

/// Moments of one variable.
#[derive(Debug, Clone)]
struct Moments {
    step: u64,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
}

/// The optimiser, bound to the variables of one `VarMap`.
#[derive(Debug)]
pub struct Adam {
    config: AdamConfig,
    vars: Vec<(String, Var)>,
    moments: BTreeMap<String, Moments>,
}

/// The variables of `varmap`, sorted by name.
fn named_vars(varmap: &VarMap) -> Vec<(String, Var)> {
    let data = varmap.data().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut vars: Vec<(String, Var)> = data.iter().map(|(name, var)| (name.clone(), var.clone())).collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    vars
}

impl Adam {
    /// An optimiser over every variable currently in `varmap` (build the network first).
    pub fn new(varmap: &VarMap, config: AdamConfig) -> Result<Self, ModelError> {
        Ok(Self { config: config.validate()?, vars: named_vars(varmap), moments: BTreeMap::new() })
    }

    /// The hyper-parameters.
    pub fn config(&self) -> AdamConfig {
        self.config
    }

    /// Changes the learning rate (for a schedule); it is saved with the state.
    pub fn set_lr(&mut self, lr: f64) {
        self.config.lr = lr;
    }

    /// The largest number of updates any variable has received.
    pub fn step_count(&self) -> u64 {
        self.moments.values().map(|m| m.step).max().unwrap_or(0)
    }

    /// `loss.backward()` then [`Self::step`].
    pub fn backward_step(&mut self, loss: &Tensor) -> Result<(), ModelError> {
        self.step(&loss.backward()?)
    }

    /// Updates every variable that has a gradient in `grads`.
    pub fn step(&mut self, grads: &GradStore) -> Result<(), ModelError> {
        let AdamConfig { lr, beta1, beta2, eps, weight_decay } = self.config;
        for (name, var) in &self.vars {
            let Some(grad) = grads.get(var.as_tensor()) else { continue };
            let grad = grad.detach();
            let moments = match self.moments.remove(name) {
                Some(moments) => moments,
                None => Moments { step: 0, exp_avg: grad.zeros_like()?, exp_avg_sq: grad.zeros_like()? },
            };
            let step = moments.step + 1;
            let exp_avg = ((&moments.exp_avg * beta1)? + (&grad * (1.0 - beta1))?)?;
            let exp_avg_sq = ((&moments.exp_avg_sq * beta2)? + (grad.sqr()? * (1.0 - beta2))?)?;
            let m_hat = (&exp_avg / (1.0 - beta1.powf(step as f64)))?;
            let v_hat = (&exp_avg_sq / (1.0 - beta2.powf(step as f64)))?;
            let theta = var.as_tensor().detach();
            let theta = if weight_decay > 0.0 { (theta * (1.0 - lr * weight_decay))? } else { theta };
            var.set(&(theta - ((m_hat / (v_hat.sqrt()? + eps)?)? * lr)?)?)?;
            self.moments.insert(name.clone(), Moments { step, exp_avg, exp_avg_sq });
        }
        Ok(())
    }

    /// Writes the state (moments, step counters, hyper-parameters) to a safetensors file, atomically.
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        let mut tensors: Vec<(String, Tensor)> = vec![("config".to_owned(), Tensor::new(&self.config.to_array(), &Device::Cpu)?)];
        for (name, m) in &self.moments {
            tensors.push((format!("exp_avg.{name}"), m.exp_avg.to_device(&Device::Cpu)?));
            tensors.push((format!("exp_avg_sq.{name}"), m.exp_avg_sq.to_device(&Device::Cpu)?));
            tensors.push((format!("step.{name}"), Tensor::new(&[i64::try_from(m.step).unwrap_or(i64::MAX)], &Device::Cpu)?));
        }
        let metadata = HashMap::from([("format".to_owned(), ADAM_FORMAT.to_owned())]);
        let bytes = safetensors::serialize(tensors, Some(metadata))
            .map_err(|e| ModelError::Format(format!("cannot serialise the optimiser state: {e}")))?;
        write_atomically(path, &bytes)
    }

    /// Replaces this optimiser's state — moments, step counters and hyper-parameters, so that training resumes exactly —
    /// with the one [`Self::save`] wrote, bound to the variables of `varmap` (same names and shapes). On error `self` is
    /// unchanged.
    pub fn load(&mut self, path: &Path, varmap: &VarMap) -> Result<(), ModelError> {
        *self = Self::from_file(path, varmap)?;
        Ok(())
    }

    /// A new optimiser with the state [`Self::save`] wrote, bound to the variables of `varmap`.
    pub fn from_file(path: &Path, varmap: &VarMap) -> Result<Self, ModelError> {
        let bytes = std::fs::read(path).map_err(|e| ModelError::io(e, path))?;
        let (_, header) =
            safetensors::SafeTensors::read_metadata(&bytes).map_err(|e| ModelError::Format(format!("{e} ({})", path.display())))?;
        let format = header.metadata().as_ref().and_then(|m| m.get("format"));
        if format.map(String::as_str) != Some(ADAM_FORMAT) {
            return Err(ModelError::Format(format!(
                "not an optimiser state (format {format:?}, expected {ADAM_FORMAT:?}) ({})",
                path.display()
            )));
        }
        let vars = named_vars(varmap);
        let device = vars.first().map_or(Device::Cpu, |(_, var)| var.device().clone());
        let mut tensors = candle_core::safetensors::load_buffer(&bytes, &device)?;
        let config = tensors.remove("config").ok_or_else(|| ModelError::Format(format!("no `config` tensor ({})", path.display())))?;
        let [lr, beta1, beta2, eps, weight_decay] = <[f64; 5]>::try_from(config.to_dtype(DType::F64)?.to_vec1::<f64>()?)
            .map_err(|v| ModelError::Format(format!("`config` holds {} values, expected 5", v.len())))?;
        let config = AdamConfig { lr, beta1, beta2, eps, weight_decay }.validate()?;
        let mut moments = BTreeMap::new();
        for (name, var) in &vars {
            let mut take = |prefix: &str| tensors.remove(&format!("{prefix}.{name}"));
            let (Some(exp_avg), Some(exp_avg_sq), Some(step)) = (take("exp_avg"), take("exp_avg_sq"), take("step")) else { continue };
            if exp_avg.dims() != var.dims() || exp_avg_sq.dims() != var.dims() {
                return Err(ModelError::Format(format!(
                    "optimiser state of {name} has shape {:?}, the variable {:?}",
                    exp_avg.dims(),
                    var.dims()
                )));
            }
            let step = step.flatten_all()?.to_dtype(DType::I64)?.to_vec1::<i64>()?.first().copied().unwrap_or(0);
            let (exp_avg, exp_avg_sq) = (exp_avg.to_dtype(var.dtype())?, exp_avg_sq.to_dtype(var.dtype())?);
            moments.insert(name.clone(), Moments { step: u64::try_from(step).unwrap_or(0), exp_avg, exp_avg_sq });
        }
        if let Some(unknown) = tensors.keys().next() {
            return Err(ModelError::Format(format!("optimiser state {unknown:?} matches no variable of the network ({})", path.display())));
        }
        Ok(Self { config, vars, moments })
    }
}

#[cfg(test)]
mod tests {
    use candle_nn::Init;

    use super::*;

    /// A `VarMap` with a trainable `w` and a `stats` variable that never gets a gradient (like batch norm's running mean).
    fn quadratic_problem() -> (VarMap, Tensor) {
        let varmap = VarMap::new();
        varmap.get(4, "w", Init::Const(0.0), DType::F32, &Device::Cpu).unwrap();
        varmap.get(2, "stats", Init::Const(1.5), DType::F32, &Device::Cpu).unwrap();
        (varmap, Tensor::new(&[1.0f32, -2.0, 0.5, 3.0], &Device::Cpu).unwrap())
    }

    fn loss(varmap: &VarMap, target: &Tensor) -> Tensor {
        let w = varmap.data().lock().unwrap()["w"].as_tensor().clone();
        (w - target).unwrap().sqr().unwrap().sum_all().unwrap()
    }

    fn values(varmap: &VarMap, name: &str) -> Vec<f32> {
        varmap.data().lock().unwrap()[name].as_tensor().to_vec1().unwrap()
    }

    #[test]
    fn minimises_a_quadratic_and_skips_vars_without_gradient() {
        let (varmap, target) = quadratic_problem();
        let mut adam = Adam::new(&varmap, AdamConfig { lr: 0.1, weight_decay: 1e-4, ..AdamConfig::default() }).unwrap();
        for _ in 0..300 {
            adam.backward_step(&loss(&varmap, &target)).unwrap();
        }
        assert!(loss(&varmap, &target).to_scalar::<f32>().unwrap() < 1e-3);
        assert_eq!(values(&varmap, "stats"), [1.5, 1.5]);
        assert_eq!(adam.step_count(), 300);
        assert!(!adam.moments.contains_key("stats"));
    }

    #[test]
    fn save_and_load_continue_bit_identically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("adam.safetensors");
        let (varmap, target) = quadratic_problem();
        let mut adam = Adam::new(&varmap, AdamConfig { lr: 0.05, weight_decay: 0.01, ..AdamConfig::default() }).unwrap();
        for _ in 0..20 {
            adam.backward_step(&loss(&varmap, &target)).unwrap();
        }
        adam.set_lr(0.03);
        adam.save(&path).unwrap();
        // A second run resumes from a copy of the weights and the saved state.
        let (resumed_map, _) = quadratic_problem();
        resumed_map.data().lock().unwrap()["w"].set(varmap.data().lock().unwrap()["w"].as_tensor()).unwrap();
        let mut resumed = Adam::new(&resumed_map, AdamConfig::default()).unwrap();
        resumed.load(&path, &resumed_map).unwrap();
        assert_eq!(resumed.config(), adam.config());
        for _ in 0..20 {
            adam.backward_step(&loss(&varmap, &target)).unwrap();
            resumed.backward_step(&loss(&resumed_map, &target)).unwrap();
        }
        let (a, b) = (values(&varmap, "w"), values(&resumed_map, "w"));
        assert_eq!(a.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), b.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
        assert_eq!(resumed.step_count(), 40);
    }

    #[test]
    fn load_rejects_foreign_and_mismatched_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("adam.safetensors");
        std::fs::write(&path, b"not a safetensors file").unwrap();
        let (varmap, target) = quadratic_problem();
        assert!(matches!(Adam::from_file(&path, &varmap), Err(ModelError::Format(_))));
        let mut adam = Adam::new(&varmap, AdamConfig::default()).unwrap();
        adam.backward_step(&loss(&varmap, &target)).unwrap();
        adam.save(&path).unwrap();
        let other = VarMap::new();
        other.get(3, "w", Init::Const(0.0), DType::F32, &Device::Cpu).unwrap();
        assert!(matches!(Adam::from_file(&path, &other), Err(ModelError::Format(_))));
    }
}
