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

/// The tokenizer of the model at `path`: tokenizer.json (+ tokenizer_config.json and
/// generation_config.json when present) in a folder, or a GGUF file's vocabulary.
pub async fn load_tokenizer(path: &Path) -> Result<crate::tokenize::Tokenizer> {
    if path.is_dir() {
        let read = |name: &str| -> Result<Option<Vec<u8>>> {
            let file = path.join(name);
            match std::fs::read(&file) {
                Ok(bytes) => Ok(Some(bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(Error::Io(format!("{}: {e}", file.display()))),
            }
        };
        let json = read("tokenizer.json")?
            .ok_or_else(|| Error::Io(format!("{}: no tokenizer.json", path.display())))?;
        let mut tokenizer = crate::tokenize::Tokenizer::from_hf(
            &json,
            read("tokenizer_config.json")?.as_deref(),
            read("generation_config.json")?.as_deref(),
        )?;
        // transformers 5 saves the chat template beside tokenizer_config.json.
        if let Some(template) = read("chat_template.jinja")? {
            tokenizer.chat_template = Some(String::from_utf8_lossy(&template).into_owned());
        }
        Ok(tokenizer)
    } else {
        let source = FileSource::open(path)?;
        crate::tokenize::Tokenizer::from_gguf(&super::gguf::GgufFile::read(&source).await?)
    }
}

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

/// What a PRM folder holds besides the backbone: its tensors, tokenizer and head.
async fn prm_parts(
    path: &Path,
    hidden: usize,
    prm_format: crate::prm::PrmFormat,
) -> Result<(
    super::safetensors::SafetensorsModel<FileSource>,
    crate::tokenize::Tokenizer,
    crate::prm::PrmHead,
)> {
    let store = open_dir(path).await?;
    let tokenizer = load_tokenizer(path).await?;
    let head = crate::prm::Prm::<crate::engine::CpuBackend>::head_for(
        crate::prm::PrmHead::load(&store, hidden).await?,
        prm_format,
        &tokenizer,
    )?;
    Ok((store, tokenizer, head))
}

/// A process reward model from a folder (config.json, *.safetensors with the head, tokenizer
/// files) on the CPU backend, with a KV cache of `blocks` blocks of 16 positions.
pub async fn load_cpu_prm(
    path: &Path,
    format: WeightFormat,
    prm_format: crate::prm::PrmFormat,
    blocks: usize,
) -> Result<crate::prm::Prm<crate::engine::CpuBackend>> {
    let (config, weights) = load_weights(path, format).await?;
    let (_, tokenizer, head) = prm_parts(path, config.hidden_size, prm_format).await?;
    let cache = crate::kv::CpuKvCache::new(&config, blocks, 16)?;
    let engine = crate::engine::Engine::new(crate::engine::CpuBackend {
        model: CpuModel::new(config, weights),
        cache,
    });
    Ok(crate::prm::Prm::new(engine, tokenizer, head, prm_format))
}

/// A process reward model from a folder, streamed onto the GPU, with a KV cache of `blocks`
/// blocks of 16 positions.
pub async fn load_gpu_prm<'a>(
    ctx: &'a GpuContext,
    path: &Path,
    format: WeightFormat,
    prm_format: crate::prm::PrmFormat,
    blocks: usize,
) -> Result<crate::prm::Prm<crate::engine::GpuBackend<'a>>> {
    let config = load_config(path).await?;
    let (store, tokenizer, head) = prm_parts(path, config.hidden_size, prm_format).await?;
    let cache = crate::kv::GpuKvCache::new(ctx, &config, blocks, 16)?;
    let model = GpuModel::load(ctx, config, &store, format).await?;
    let engine = crate::engine::Engine::new(crate::engine::GpuBackend { ctx, model, cache });
    Ok(crate::prm::Prm::new(engine, tokenizer, head, prm_format))
}
