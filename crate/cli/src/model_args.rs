//! Options shared by the commands that run a model: where it comes from (a checkpoint path or a
//! real architecture's shape with random weights), the backend, the weight format, the KV cache.

use clap::{Args, ValueEnum};
use std::path::PathBuf;
use ttsearch::engine::{AnyBackend, Engine};
use ttsearch::gpu::GpuContext;
use ttsearch::load::{self, Device, KvBudget, LoadOptions};
use ttsearch::model::{ModelConfig, RandomStore};
use ttsearch::quant::WeightFormat;
use ttsearch::tokenize::Tokenizer;
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
    /// A folder with config.json + *.safetensors (or pytorch_model*.bin), or a .gguf file.
    #[arg(long, conflicts_with = "shape", required_unless_present = "shape")]
    pub model: Option<PathBuf>,
    /// Random weights with a real architecture's shapes (no download).
    #[arg(long, value_enum)]
    pub shape: Option<Shape>,
    /// Where the model runs.
    #[arg(long, value_enum, default_value = "cpu")]
    pub backend: BackendKind,
    /// Weight format in the engine: f32, f16, q8 or q4 (group-32, f16 scales), or gguf (a GGUF
    /// file's own blocks with int8 products on the CPU; q8 on the GPU).
    #[arg(long, default_value = "f32")]
    pub dtype: String,
    /// Positions per KV-cache block.
    #[arg(long, default_value_t = 16)]
    pub block_size: usize,
}

impl BackendKind {
    /// The device: a new GPU context for `gpu`.
    pub fn device(self) -> Result<Device> {
        Ok(match self {
            BackendKind::Cpu => Device::Cpu,
            BackendKind::Gpu => Device::Gpu(block_on(GpuContext::new())?),
        })
    }
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
            (Some(path), _) => block_on(load::open_config(&load::path_source(path)?)),
            (None, Some(shape)) => shape.config(),
            (None, None) => Err(Error::InvalidArgument("give --model or --shape".into())),
        }
    }

    /// The model's tokenizer (a checkpoint's; random weights have none).
    pub fn tokenizer(&self) -> Result<Tokenizer> {
        match &self.model {
            Some(path) => block_on(load::path_tokenizer(path)),
            None => Err(Error::InvalidArgument(
                "random weights have no tokenizer: give --model".into(),
            )),
        }
    }

    /// Load options on `device` with a cache of `blocks` blocks.
    pub fn options(&self, device: Device, blocks: usize) -> Result<LoadOptions> {
        Ok(LoadOptions {
            dtype: self.format()?,
            device,
            block_size: self.block_size,
            kv: KvBudget::Blocks(blocks),
        })
    }

    /// The engine on `device` with a cache of `blocks` blocks, weights loaded tensor by tensor.
    pub fn engine(&self, device: Device, blocks: usize) -> Result<Engine<AnyBackend>> {
        let options = self.options(device, blocks)?;
        match (&self.model, self.shape) {
            (Some(path), _) => {
                let c = block_on(load::open(&load::path_source(path)?, None))?;
                block_on(load::engine(
                    &c.config,
                    &c.store,
                    c.tokenizer.as_ref().ok(),
                    &options,
                ))
            }
            (None, Some(shape)) => {
                let config = shape.config()?;
                let store = RandomStore::new(config.clone(), 1);
                let backend = block_on(load::backend(&config, &store, &options))?;
                Ok(Engine::new(backend))
            }
            (None, None) => Err(Error::InvalidArgument("give --model or --shape".into())),
        }
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
