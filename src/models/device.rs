//! Picks the device the networks run on.

use candle_core::{Device, DeviceLocation};

use super::error::ModelError;

/// CUDA device 0 when the crate is built with the `cuda` feature and a GPU is usable, the CPU otherwise.
pub fn best_device() -> Result<Device, ModelError> {
    #[cfg(feature = "cuda")]
    {
        match Device::new_cuda(0) {
            Ok(device) => return Ok(device),
            Err(err) => tracing::warn!("CUDA device 0 unavailable, running on the CPU: {err}"),
        }
    }
    Ok(Device::Cpu)
}

/// A short human-readable name for a device, e.g. `CPU (2 threads)` or `CUDA:0`.
pub fn device_name(device: &Device) -> String {
    match device.location() {
        DeviceLocation::Cpu => format!("CPU ({} threads)", candle_core::utils::get_num_threads()),
        DeviceLocation::Cuda { gpu_id } => format!("CUDA:{gpu_id}"),
        DeviceLocation::Metal { gpu_id } => format!("Metal:{gpu_id}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_name_mentions_threads() {
        assert!(device_name(&Device::Cpu).starts_with("CPU ("));
        let device = best_device().unwrap();
        assert!(!device_name(&device).is_empty());
    }
}
