//! Opening a model by path (native): a folder with config.json and safetensors, or a .gguf file.

use super::config::ModelConfig;
use super::forward_cpu::CpuModel;
use super::forward_gpu::GpuModel;
use super::gguf_store::GgufStore;
use super::safetensors::open_dir;
use super::source::FileSource;
use super::weights::ModelWeights;
use crate::error::{Error, Result};
use crate::gpu::GpuContext;
use crate::quant::WeightFormat;
use std::path::Path;

/// Reads the config of the model at `path`.
pub async fn load_config(path: &Path) -> Result<ModelConfig> {
    if path.is_dir() {
        let file = path.join("config.json");
        let text = std::fs::read_to_string(&file)
            .map_err(|e| Error::Io(format!("{}: {e}", file.display())))?;
        ModelConfig::from_hf_json(&text)
    } else {
        Ok(GgufStore::open(FileSource::open(path)?).await?.0)
    }
}

/// Loads the weights of the model at `path`, matrices converted to `format`.
pub async fn load_weights(
    path: &Path,
    format: WeightFormat,
) -> Result<(ModelConfig, ModelWeights)> {
    if path.is_dir() {
        let config = load_config(path).await?;
        let weights = ModelWeights::load(&config, &open_dir(path).await?, format).await?;
        Ok((config, weights))
    } else {
        let (config, store) = GgufStore::open(FileSource::open(path)?).await?;
        let weights = ModelWeights::load(&config, &store, format).await?;
        Ok((config, weights))
    }
}

/// Loads the model at `path` for the CPU backend, matrices in `format`.
pub async fn load_cpu_model(path: &Path, format: WeightFormat) -> Result<CpuModel> {
    let (config, weights) = load_weights(path, format).await?;
    Ok(CpuModel::new(config, weights))
}

/// Loads the model at `path` straight onto the GPU, a layer at a time, matrices in `format`.
pub async fn load_gpu_model(
    ctx: &GpuContext,
    path: &Path,
    format: WeightFormat,
) -> Result<GpuModel> {
    if path.is_dir() {
        let config = load_config(path).await?;
        GpuModel::load(ctx, config, &open_dir(path).await?, format).await
    } else {
        let (config, store) = GgufStore::open(FileSource::open(path)?).await?;
        GpuModel::load(ctx, config, &store, format).await
    }
}
