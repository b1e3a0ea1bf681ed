//! A checkpoint opened for loading: its config, its tensors by HF name (safetensors, single or
//! sharded, or a GGUF file), its tokenizer and its PRM head, each read once.

use super::files::ModelFiles;
use crate::error::{Error, Result};
use crate::model::shards::shard_names;
use crate::model::{
    ByteSource, GgufStore, ModelConfig, PytorchFile, PytorchModel, SafetensorsFile,
    SafetensorsModel, TensorData, TensorStore,
};
use crate::prm::{PrmHead, TRAINING_ARGS, recorded_separator};
use crate::tokenize::Tokenizer;

/// Which file of a folder holds the weights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WeightFiles {
    /// config.json with model.safetensors, or the shards model.safetensors.index.json lists;
    /// failing those, pytorch_model.bin or the shards of pytorch_model.bin.index.json.
    Safetensors,
    /// One GGUF file (config and tokenizer from its metadata).
    Gguf(String),
}

/// A model's files and which of them hold the weights.
#[derive(Debug, Clone)]
pub struct ModelSource<F> {
    /// The folder.
    pub files: F,
    /// Where the weights are.
    pub weights: WeightFiles,
}

/// A safetensors or PyTorch checkpoint or a GGUF file, read by HF tensor names.
pub enum AnyStore<S> {
    /// safetensors shards.
    Safetensors(SafetensorsModel<S>),
    /// PyTorch (`torch.save`) shards.
    Pytorch(PytorchModel<S>),
    /// A GGUF file.
    Gguf(GgufStore<S>),
}

impl<S: ByteSource> TensorStore for AnyStore<S> {
    fn contains(&self, name: &str) -> bool {
        match self {
            AnyStore::Safetensors(s) => s.contains(name),
            AnyStore::Pytorch(s) => s.contains(name),
            AnyStore::Gguf(s) => s.contains(name),
        }
    }
    fn shape(&self, name: &str) -> Option<Vec<usize>> {
        match self {
            AnyStore::Safetensors(s) => s.shape(name),
            AnyStore::Pytorch(s) => s.shape(name),
            AnyStore::Gguf(s) => s.shape(name),
        }
    }
    async fn tensor_f32(&self, name: &str) -> Result<TensorData> {
        match self {
            AnyStore::Safetensors(s) => s.tensor_f32(name).await,
            AnyStore::Pytorch(s) => s.tensor_f32(name).await,
            AnyStore::Gguf(s) => s.tensor_f32(name).await,
        }
    }
    async fn rows_f32(&self, name: &str, start: usize, end: usize) -> Result<Vec<f32>> {
        match self {
            AnyStore::Safetensors(s) => s.rows_f32(name, start, end).await,
            AnyStore::Pytorch(s) => s.rows_f32(name, start, end).await,
            AnyStore::Gguf(s) => s.rows_f32(name, start, end).await,
        }
    }
    fn block_type(&self, name: &str) -> Option<crate::model::GgmlType> {
        match self {
            AnyStore::Gguf(s) => s.block_type(name),
            _ => None,
        }
    }
    async fn rows_blocks(&self, name: &str, start: usize, end: usize) -> Result<Vec<u8>> {
        match self {
            AnyStore::Safetensors(s) => s.rows_blocks(name, start, end).await,
            AnyStore::Pytorch(s) => s.rows_blocks(name, start, end).await,
            AnyStore::Gguf(s) => s.rows_blocks(name, start, end).await,
        }
    }
}

/// An opened checkpoint.
pub struct Checkpoint<S> {
    /// Its config.
    pub config: ModelConfig,
    /// Its tensors.
    pub store: AnyStore<S>,
    /// Its tokenizer, or why it has none (a folder without tokenizer.json, a GGUF vocabulary
    /// that does not build): only callers that need text fail on it.
    pub tokenizer: Result<Tokenizer>,
    /// Its PRM head, when it has one (value head or classifier).
    pub head: Option<PrmHead>,
}

fn missing(files: &impl ModelFiles, name: &str) -> Error {
    Error::NotFound(format!("{}: no {name}", files.describe()))
}

/// The tokenizer of a folder: tokenizer.json with tokenizer_config.json, generation_config.json
/// and transformers 5's chat_template.jinja when present; `None` without tokenizer.json.
pub async fn folder_tokenizer<F: ModelFiles>(files: &F) -> Result<Option<Tokenizer>> {
    let Some(json) = files.read("tokenizer.json").await? else {
        return Ok(None);
    };
    let config = files.read("tokenizer_config.json").await?;
    let generation = files.read("generation_config.json").await?;
    let mut tokenizer = Tokenizer::from_hf(&json, config.as_deref(), generation.as_deref())?;
    if let Some(template) = files.read("chat_template.jinja").await? {
        tokenizer.chat_template = Some(String::from_utf8_lossy(&template).into_owned());
    }
    Ok(Some(tokenizer))
}

/// The files of one checkpoint format in a folder: opened sources of the shards its index
/// lists, or of the single file; None when the folder has neither.
async fn shard_sources<F: ModelFiles>(
    files: &F,
    index: &'static str,
    single: &str,
) -> Result<Option<Vec<F::Source>>> {
    let Some(bytes) = files.read(index).await? else {
        return Ok(files.open(single).await?.map(|s| vec![s]));
    };
    let text = String::from_utf8(bytes).map_err(|e| Error::format(index, e.to_string()))?;
    let mut sources = Vec::new();
    for name in shard_names(index, &text)? {
        sources.push(
            files
                .open(&name)
                .await?
                .ok_or_else(|| missing(files, &name))?,
        );
    }
    Ok(Some(sources))
}

/// The weights of a folder: safetensors (the shards its index lists, or model.safetensors),
/// else PyTorch files (pytorch_model.bin's index, or the file).
async fn folder_store<F: ModelFiles>(files: &F) -> Result<AnyStore<F::Source>> {
    if let Some(sources) =
        shard_sources(files, "model.safetensors.index.json", "model.safetensors").await?
    {
        let mut shards = Vec::with_capacity(sources.len());
        for source in sources {
            shards.push(SafetensorsFile::open(source).await?);
        }
        return Ok(AnyStore::Safetensors(SafetensorsModel::from_files(shards)?));
    }
    if let Some(sources) =
        shard_sources(files, "pytorch_model.bin.index.json", "pytorch_model.bin").await?
    {
        let mut shards = Vec::with_capacity(sources.len());
        for source in sources {
            shards.push(PytorchFile::open(source).await?);
        }
        return Ok(AnyStore::Pytorch(PytorchModel::from_files(shards)?));
    }
    Err(missing(files, "model.safetensors"))
}

/// The config of a folder's config.json, or of a GGUF file's metadata.
pub async fn open_config<F: ModelFiles>(source: &ModelSource<F>) -> Result<ModelConfig> {
    match &source.weights {
        WeightFiles::Safetensors => {
            let bytes = source
                .files
                .read("config.json")
                .await?
                .ok_or_else(|| missing(&source.files, "config.json"))?;
            let text = String::from_utf8(bytes)
                .map_err(|e| Error::format("config.json", e.to_string()))?;
            ModelConfig::from_hf_json(&text)
        }
        WeightFiles::Gguf(name) => {
            let file = source
                .files
                .open(name)
                .await?
                .ok_or_else(|| missing(&source.files, name))?;
            Ok(GgufStore::open(file).await?.0)
        }
    }
}

/// Opens a checkpoint: config, tensor directory, tokenizer (`tokenizer` replaces the
/// checkpoint's own when given) and PRM head.
pub async fn open<F: ModelFiles>(
    source: &ModelSource<F>,
    tokenizer: Option<Tokenizer>,
) -> Result<Checkpoint<F::Source>> {
    let files = &source.files;
    let given = tokenizer.is_some();
    let no_tokenizer = || Err(missing(files, "tokenizer"));
    let (config, store, own) = match &source.weights {
        WeightFiles::Safetensors => {
            let config = open_config(source).await?;
            let store = folder_store(files).await?;
            let own = match given {
                true => no_tokenizer(),
                false => match folder_tokenizer(files).await {
                    Ok(Some(t)) => Ok(t),
                    Ok(None) => Err(missing(files, "tokenizer.json")),
                    Err(e) => Err(e),
                },
            };
            (config, store, own)
        }
        WeightFiles::Gguf(name) => {
            let file = files
                .open(name)
                .await?
                .ok_or_else(|| missing(files, name))?;
            let (config, mut store) = GgufStore::open(file).await?;
            let own = match given {
                true => no_tokenizer(),
                false => Tokenizer::take_from_gguf(store.file_mut()),
            };
            (config, AnyStore::Gguf(store), own)
        }
    };
    let mut head = PrmHead::load(&store, &config).await?;
    if let Some(head) = head.as_mut().filter(|h| h.separator().is_some()) {
        // A TRL PRM: the separator its trainer's arguments record; the default when they are
        // absent or unreadable (a caller's option can still set it).
        if let Some(bytes) = files.read(TRAINING_ARGS).await? {
            if let Ok(Some(separator)) = recorded_separator(&bytes).await {
                head.set_separator(&separator)?;
            }
        }
    }
    Ok(Checkpoint {
        config,
        store,
        tokenizer: match tokenizer {
            Some(t) => Ok(t),
            None => own,
        },
        head,
    })
}
