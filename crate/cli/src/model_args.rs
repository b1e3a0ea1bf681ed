//! Options shared by the commands that run a model: where it comes from (a checkpoint path or a
//! real architecture's shape with random weights), the backend, the weight format, the KV cache.

use clap::{Args, ValueEnum};
use std::path::PathBuf;
use ttsearch::engine::{CpuBackend, GpuBackend};
use ttsearch::gpu::GpuContext;
use ttsearch::model::loader::{load_config, load_weights};
use ttsearch::model::{
    CpuKvCache, CpuModel, GgufStore, GpuKvCache, GpuModel, ModelConfig, ModelWeights, RandomStore,
};
use ttsearch::model::{FileSource, safetensors::open_dir};
use ttsearch::quant::WeightFormat;
use ttsearch::{Error, Result, block_on};

/// Where a command runs the model.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum BackendKind {
    /// The CPU backend.
    Cpu,
    /// The default GPU adapter (WGPU_BACKEND picks the API).
    Gpu,
}

/// Real architectures' shapes for random-weight benchmarks (fields of the released configs).
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum Shape {
    /// Qwen2.5-0.5B-Instruct.
    #[value(name = "qwen2.5-0.5b")]
    Qwen25_05b,
    /// Qwen2.5-1.5B-Instruct (and the Skywork 1.5B PRM's backbone).
    #[value(name = "qwen2.5-1.5b")]
    Qwen25_15b,
    /// Llama-3.2-1B-Instruct.
    #[value(name = "llama-3.2-1b")]
    Llama32_1b,
    /// Gemma 3 270M.
    #[value(name = "gemma-3-270m")]
    Gemma3_270m,
}

impl Shape {
    /// The released config of this shape.
    pub fn config(self) -> Result<ModelConfig> {
        ModelConfig::from_hf_json(match self {
            Shape::Qwen25_05b => {
                include_str!("../../../tests/fixtures/configs/qwen2-released.json")
            }
            Shape::Qwen25_15b => {
                include_str!("../../../tests/fixtures/configs/qwen2.5-1.5b-released.json")
            }
            Shape::Llama32_1b => {
                include_str!("../../../tests/fixtures/configs/llama-released.json")
            }
            Shape::Gemma3_270m => {
                include_str!("../../../tests/fixtures/configs/gemma3-released.json")
            }
        })
    }
}

/// The model options.
#[derive(Args, Debug)]
pub struct ModelArgs {
    /// A folder with config.json + *.safetensors, or a .gguf file.
    #[arg(long, conflicts_with = "shape", required_unless_present = "shape")]
    pub model: Option<PathBuf>,
    /// Random weights with a real architecture's shapes (no download).
    #[arg(long, value_enum)]
    pub shape: Option<Shape>,
    /// Where the model runs.
    #[arg(long, value_enum, default_value = "cpu")]
    pub backend: BackendKind,
    /// Weight format in the engine: f32, f16, q8 or q4 (group-32, f16 scales).
    #[arg(long, default_value = "f32")]
    pub dtype: String,
    /// Positions per KV-cache block.
    #[arg(long, default_value_t = 16)]
    pub block_size: usize,
}

impl ModelArgs {
    /// A short name of the model for reports.
    pub fn name(&self) -> String {
        match (&self.model, self.shape) {
            (Some(path), _) => path.display().to_string(),
            (None, Some(shape)) => format!("{shape:?} shape, random weights"),
            (None, None) => String::new(),
        }
    }

    /// The weight format.
    pub fn format(&self) -> Result<WeightFormat> {
        WeightFormat::parse(&self.dtype)
    }

    /// The model's config.
    pub fn config(&self) -> Result<ModelConfig> {
        match (&self.model, self.shape) {
            (Some(path), _) => block_on(load_config(path)),
            (None, Some(shape)) => shape.config(),
            (None, None) => Err(Error::InvalidArgument("give --model or --shape".into())),
        }
    }

    /// Host weights (CPU backend).
    pub fn weights(&self) -> Result<(ModelConfig, ModelWeights)> {
        let format = self.format()?;
        match (&self.model, self.shape) {
            (Some(path), _) => block_on(load_weights(path, format)),
            (None, Some(shape)) => {
                let config = shape.config()?;
                let store = RandomStore::new(config.clone(), 1);
                let weights = block_on(ModelWeights::load(&config, &store, format))?;
                Ok((config, weights))
            }
            (None, None) => Err(Error::InvalidArgument("give --model or --shape".into())),
        }
    }

    /// A CPU backend with a cache of `blocks` blocks.
    pub fn cpu_backend(&self, blocks: usize) -> Result<CpuBackend> {
        let (config, weights) = self.weights()?;
        let cache = CpuKvCache::new(&config, blocks, self.block_size)?;
        Ok(CpuBackend {
            model: CpuModel::new(config, weights),
            cache,
        })
    }

    /// A GPU backend on `ctx` with a cache of `blocks` blocks, weights streamed to the device.
    pub fn gpu_backend<'a>(&self, ctx: &'a GpuContext, blocks: usize) -> Result<GpuBackend<'a>> {
        let format = self.format()?;
        let config = self.config()?;
        let model = match (&self.model, self.shape) {
            (Some(path), _) if path.is_dir() => block_on(GpuModel::load(
                ctx,
                config,
                &block_on(open_dir(path))?,
                format,
            ))?,
            (Some(path), _) => {
                let (config, store) = block_on(GgufStore::open(FileSource::open(path)?))?;
                block_on(GpuModel::load(ctx, config, &store, format))?
            }
            (None, Some(_)) => {
                let store = RandomStore::new(config.clone(), 1);
                block_on(GpuModel::load(ctx, config, &store, format))?
            }
            (None, None) => return Err(Error::InvalidArgument("give --model or --shape".into())),
        };
        let cache = GpuKvCache::new(ctx, model.config(), blocks, self.block_size)?;
        Ok(GpuBackend { ctx, model, cache })
    }
}

/// Parses comma-separated numbers.
pub fn parse_list<T: std::str::FromStr>(what: &str, text: &str) -> Result<Vec<T>>
where
    T::Err: std::fmt::Display,
{
    text.split(',')
        .map(|t| {
            t.trim()
                .parse::<T>()
                .map_err(|e| Error::InvalidArgument(format!("{what} {t:?}: {e}")))
        })
        .collect()
}
