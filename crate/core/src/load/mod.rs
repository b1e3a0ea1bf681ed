//! Loading models for every role: one builder over any folder of files ([`ModelFiles`]: a
//! directory, memory, or the JS API's network and Blob sources) whose weights are safetensors
//! or one GGUF file. It opens the checkpoint once (config, tensors, tokenizer, PRM head), puts
//! the weights on the CPU or a GPU in the chosen format with a paged KV cache, and gives an
//! engine that stops on the tokenizer's whole EOS set; the caller makes it a policy, a PRM or
//! both (one engine verifying its own steps).
//!
//! This is the top of the crate's layers: it is the one place that builds engines, PRMs and
//! tokenizers together.

mod checkpoint;
mod files;
mod info;

pub use checkpoint::{
    AnyStore, Checkpoint, ModelSource, WeightFiles, folder_tokenizer, open, open_config,
};
#[cfg(not(target_arch = "wasm32"))]
pub use files::DirFiles;
pub use files::{MemoryFiles, ModelFiles};
pub use info::ModelInfo;

use crate::engine::{AnyBackend, CpuBackend, Engine, GpuBackend};
#[cfg(not(target_arch = "wasm32"))]
use crate::error::Error;
use crate::error::Result;
use crate::gpu::GpuContext;
use crate::kv::{CpuKvCache, DEFAULT_BLOCK_SIZE, GpuKvCache, KvShape};
use crate::model::{ByteSource, CpuModel, GpuModel, ModelConfig, ModelWeights, TensorStore};
use crate::prm::{Prm, PrmFormat, PrmHead};
use crate::quant::WeightFormat;
use crate::tokenize::Tokenizer;

/// Where a model runs.
#[derive(Clone, Default)]
pub enum Device {
    /// The CPU backend.
    #[default]
    Cpu,
    /// A GPU device.
    Gpu(GpuContext),
}

/// How big a model's KV cache is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvBudget {
    /// This many blocks (on a GPU at most what one storage binding holds).
    Blocks(usize),
    /// As many blocks as fit in this many bytes of keys and values (all layers).
    Bytes(u64),
}

/// How to load a model.
#[derive(Clone)]
pub struct LoadOptions {
    /// Weight format in the engine.
    pub dtype: WeightFormat,
    /// Where it runs.
    pub device: Device,
    /// Positions per KV-cache block.
    pub block_size: usize,
    /// The KV cache's size.
    pub kv: KvBudget,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            dtype: WeightFormat::Q8,
            device: Device::Cpu,
            block_size: DEFAULT_BLOCK_SIZE,
            kv: KvBudget::Blocks(4096),
        }
    }
}

/// A loaded model: an engine with its tokenizer and, for a PRM checkpoint, its head.
pub struct LoadedModel {
    /// The engine (model and KV cache).
    pub engine: Engine<AnyBackend>,
    /// The tokenizer, or why the checkpoint has none.
    pub tokenizer: Result<Tokenizer>,
    /// The checkpoint's PRM head, when it has one.
    pub head: Option<PrmHead>,
}

impl LoadOptions {
    /// KV-cache blocks for a model of `shape`: the budget, capped on a GPU by what one binding
    /// holds; at least one.
    pub fn kv_blocks(&self, shape: KvShape) -> usize {
        let block_bytes = (self.block_size * shape.row() * 4) as u64;
        let blocks = match self.kv {
            KvBudget::Blocks(n) => n,
            KvBudget::Bytes(b) => (b / (block_bytes * 2 * shape.layers as u64).max(1)) as usize,
        };
        let blocks = match &self.device {
            Device::Cpu => blocks,
            Device::Gpu(ctx) => blocks.min(GpuKvCache::max_blocks(
                ctx,
                shape,
                self.block_size,
                u64::MAX,
            )),
        };
        blocks.max(1)
    }
}

/// Puts the weights of `store` (a model of `config`) where `options` say, with its KV cache.
pub async fn backend<T: TensorStore>(
    config: &ModelConfig,
    store: &T,
    options: &LoadOptions,
) -> Result<AnyBackend> {
    let config = config.clone();
    let shape = KvShape::from(&config);
    let blocks = options.kv_blocks(shape);
    Ok(match &options.device {
        Device::Cpu => {
            let weights = ModelWeights::load(&config, store, options.dtype).await?;
            let cache = CpuKvCache::new(shape, blocks, options.block_size)?;
            AnyBackend::Cpu(CpuBackend {
                model: CpuModel::new(config, weights),
                cache,
            })
        }
        Device::Gpu(ctx) => {
            let cache = GpuKvCache::new(ctx, shape, blocks, options.block_size)?;
            let model = GpuModel::load(ctx, config, store, options.dtype).await?;
            AnyBackend::Gpu(GpuBackend { model, cache })
        }
    })
}

/// Puts the weights of `store` where `options` say, with its KV cache: the engine, ending
/// sequences on the config's EOS tokens and the tokenizer's whole EOS set (generation_config.json's
/// ids, a GGUF's end-of-turn token).
pub async fn engine<T: TensorStore>(
    config: &ModelConfig,
    store: &T,
    tokenizer: Option<&Tokenizer>,
    options: &LoadOptions,
) -> Result<Engine<AnyBackend>> {
    let mut engine = Engine::new(backend(config, store, options).await?);
    if let Some(tokenizer) = tokenizer {
        engine.add_eos_tokens(&tokenizer.eos_token_ids);
    }
    Ok(engine)
}

/// Loads the model of `source` (its tokenizer replaced by `tokenizer` when given).
pub async fn load<F: ModelFiles>(
    source: &ModelSource<F>,
    tokenizer: Option<Tokenizer>,
    options: &LoadOptions,
) -> Result<LoadedModel> {
    let checkpoint = open(source, tokenizer).await?;
    let engine = engine(
        &checkpoint.config,
        &checkpoint.store,
        checkpoint.tokenizer.as_ref().ok(),
        options,
    )
    .await?;
    Ok(LoadedModel {
        engine,
        tokenizer: checkpoint.tokenizer,
        head: checkpoint.head,
    })
}

impl LoadedModel {
    /// The model's config.
    pub fn config(&self) -> &ModelConfig {
        crate::engine::Backend::config(self.engine.backend())
    }

    /// The PRM format of this model: `kind` when given, else the one its head implies (a model
    /// without a head needs a kind: "generative" for any chat model).
    pub fn prm_format(&self, kind: Option<PrmFormat>) -> Result<PrmFormat> {
        match kind {
            Some(kind) => Ok(kind),
            None => PrmFormat::detect(self.head.as_ref()),
        }
    }

    /// This model as a PRM of `kind` (default: the one its head implies).
    pub fn into_prm(self, kind: Option<PrmFormat>) -> Result<Prm<AnyBackend>> {
        let format = self.prm_format(kind)?;
        let tokenizer = self.tokenizer?;
        let head = PrmHead::for_format(self.head, format, &tokenizer)?;
        Ok(Prm::new(self.engine, tokenizer, head, format))
    }

    /// What the model is (architecture, size, dtype, bytes on the device, special tokens).
    pub fn info(&self, dtype: WeightFormat) -> ModelInfo {
        ModelInfo::of(self, dtype)
    }
}

/// A model by path (native): a folder (config.json, *.safetensors, tokenizer files) or a .gguf
/// file.
#[cfg(not(target_arch = "wasm32"))]
pub fn path_source(path: &std::path::Path) -> Result<ModelSource<DirFiles>> {
    if path.is_dir() {
        return Ok(ModelSource {
            files: DirFiles::new(path),
            weights: WeightFiles::Safetensors,
        });
    }
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Error::InvalidArgument(format!("{} is not a file name", path.display())))?;
    if !path.is_file() {
        return Err(Error::NotFound(format!("{}", path.display())));
    }
    let dir = path.parent().unwrap_or_else(|| std::path::Path::new("."));
    Ok(ModelSource {
        files: DirFiles::new(if dir.as_os_str().is_empty() {
            std::path::Path::new(".")
        } else {
            dir
        }),
        weights: WeightFiles::Gguf(name.to_string()),
    })
}

/// The tokenizer of the model at `path` (native): a folder's tokenizer files, or a GGUF file's
/// vocabulary.
#[cfg(not(target_arch = "wasm32"))]
pub async fn path_tokenizer(path: &std::path::Path) -> Result<Tokenizer> {
    let source = path_source(path)?;
    match &source.weights {
        WeightFiles::Safetensors => folder_tokenizer(&source.files)
            .await?
            .ok_or_else(|| Error::NotFound(format!("{}: no tokenizer.json", path.display()))),
        WeightFiles::Gguf(_) => open(&source, None).await?.tokenizer,
    }
}

/// What a model takes on its device: weights in the engine's format and the KV cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct MemoryEstimate {
    /// Bytes of weights (matrices in the format, norms and biases in f32).
    pub weights: u64,
    /// Bytes of the KV cache (keys and values of every layer, f32).
    pub kv_cache: u64,
    /// Their sum.
    pub total: u64,
}

/// The memory a model of `config` takes with weights in `format` and `kv_blocks` KV blocks of
/// `block_size` positions.
pub fn estimate(
    config: &ModelConfig,
    format: WeightFormat,
    kv_blocks: usize,
    block_size: usize,
) -> MemoryEstimate {
    let weights = config
        .tensors()
        .iter()
        .filter(|t| t.required)
        .map(|t| match t.shape.as_slice() {
            [rows, cols] => {
                let f = match t.part {
                    crate::model::Part::EmbedTokens | crate::model::Part::LmHead => {
                        crate::model::vocab_format(format)
                    }
                    _ => format,
                };
                matrix_bytes(
                    *rows,
                    *cols,
                    crate::quant::WeightMatrix::effective_format(*cols, f),
                )
            }
            shape => 4 * shape.iter().product::<usize>() as u64,
        })
        .sum();
    let shape = KvShape::from(config);
    let kv_cache = (kv_blocks * block_size * shape.row() * 4 * 2 * shape.layers) as u64;
    MemoryEstimate {
        weights,
        kv_cache,
        total: weights + kv_cache,
    }
}

/// Bytes of a [rows, cols] matrix stored in `format`.
fn matrix_bytes(rows: usize, cols: usize, format: WeightFormat) -> u64 {
    let values = (rows * cols) as u64;
    let scales = values.div_ceil(32).div_ceil(2) * 4;
    match format {
        WeightFormat::F32 => values * 4,
        WeightFormat::F16 => values.div_ceil(2) * 4,
        // GGUF blocks kept take at most q8's bytes (Q8_0: 34 per 32 values), others become q8.
        WeightFormat::Q8 | WeightFormat::Gguf => values.div_ceil(4) * 4 + scales,
        WeightFormat::Q4 => values.div_ceil(8) * 4 + scales,
    }
}

/// f32 for an f32 checkpoint, f16 for other float files.
fn float_format(dtype: Option<crate::SafetensorsDtype>) -> WeightFormat {
    match dtype {
        Some(crate::SafetensorsDtype::F32) => WeightFormat::F32,
        Some(_) => WeightFormat::F16,
        None => WeightFormat::Q8,
    }
}

/// The weight format closest to a checkpoint's own: f32 or f16 for float files (bf16 as f16),
/// the file's own blocks for quantized GGUF files (q8 on backends without kernels for them).
pub fn native_format<S: ByteSource>(store: &AnyStore<S>) -> WeightFormat {
    use crate::model::GgmlType;
    let name = "model.embed_tokens.weight";
    match store {
        AnyStore::Safetensors(s) => float_format(s.dtype(name)),
        AnyStore::Pytorch(s) => float_format(s.dtype(name)),
        AnyStore::Gguf(s) => match s.ggml_type(name) {
            Some(GgmlType::F32) => WeightFormat::F32,
            Some(GgmlType::F16 | GgmlType::BF16) => WeightFormat::F16,
            _ => WeightFormat::Gguf,
        },
    }
}
