//! `ttsearch info --model PATH`: architecture, size and tensor types of a GGUF file or a
//! safetensors folder.

use clap::Args;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use ttsearch::SafetensorsDtype as Dtype;
use ttsearch::load::{self, AnyStore};
use ttsearch::model::{ByteSource, FileSource, GgufFile, GgufValue, ModelConfig};
use ttsearch::{Error, Result, block_on};

#[derive(Args)]
pub struct InfoArgs {
    /// A .gguf file, or a folder with config.json and *.safetensors.
    #[arg(long)]
    model: String,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize, Default)]
struct TypeStats {
    tensors: usize,
    values: u64,
    bytes: u64,
}

#[derive(Serialize)]
struct Info {
    path: String,
    format: String,
    architecture: Option<String>,
    name: Option<String>,
    config: Option<ModelConfig>,
    hyperparameters: BTreeMap<String, GgufValue>,
    tensors: usize,
    parameters: u64,
    tensor_bytes: u64,
    file_bytes: u64,
    types: BTreeMap<&'static str, TypeStats>,
}

impl Info {
    fn add(&mut self, ty: &'static str, values: u64, bytes: u64) {
        let s = self.types.entry(ty).or_default();
        s.tensors += 1;
        s.values += values;
        s.bytes += bytes;
        self.tensors += 1;
        self.parameters += values;
        self.tensor_bytes += bytes;
    }
}

fn gguf_info(path: &str) -> Result<Info> {
    let source = FileSource::open(path)?;
    let file = block_on(GgufFile::read(&source))?;
    let architecture = file
        .get("general.architecture")
        .and_then(GgufValue::as_str)
        .map(String::from);
    // The architecture's hyperparameters: `{arch}.*` keys that are not arrays.
    let hyperparameters = match &architecture {
        Some(arch) => {
            let prefix = format!("{arch}.");
            file.metadata
                .iter()
                .filter(|(k, v)| k.starts_with(&prefix) && !matches!(v, GgufValue::Array(_)))
                .map(|(k, v)| (k[prefix.len()..].to_string(), v.clone()))
                .collect()
        }
        None => BTreeMap::new(),
    };
    let mut info = Info {
        path: path.to_string(),
        format: format!("GGUF v{}", file.version),
        architecture,
        name: file
            .get("general.name")
            .and_then(GgufValue::as_str)
            .map(String::from),
        // Present when the architecture is one ttsearch runs.
        config: ModelConfig::from_gguf(&file).ok(),
        hyperparameters,
        tensors: 0,
        parameters: 0,
        tensor_bytes: 0,
        file_bytes: source.len(),
        types: BTreeMap::new(),
    };
    for t in &file.tensors {
        info.add(t.ty.name(), t.values, t.byte_len);
    }
    Ok(info)
}

fn safetensors_info(path: &Path) -> Result<Info> {
    let checkpoint = block_on(load::open(&load::path_source(path)?, None))?;
    let (config, AnyStore::Safetensors(store)) = (checkpoint.config, checkpoint.store) else {
        return Err(Error::InvalidArgument(format!(
            "{} is not a safetensors folder",
            path.display()
        )));
    };
    let file_bytes = std::fs::read_dir(path)
        .map_err(|e| Error::Io(format!("{}: {e}", path.display())))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "safetensors"))
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();
    let mut info = Info {
        path: path.display().to_string(),
        format: "safetensors".to_string(),
        architecture: Some(format!("{:?}", config.architecture)),
        name: None,
        config: Some(config),
        hyperparameters: BTreeMap::new(),
        tensors: 0,
        parameters: 0,
        tensor_bytes: 0,
        file_bytes,
        types: BTreeMap::new(),
    };
    for (_, t) in store.tensors() {
        let ty = match t.dtype {
            Dtype::F32 => "F32",
            Dtype::F16 => "F16",
            Dtype::BF16 => "BF16",
            _ => "other",
        };
        let values = t.shape.iter().map(|d| *d as u64).product();
        info.add(ty, values, (t.data_offsets.1 - t.data_offsets.0) as u64);
    }
    Ok(info)
}

pub fn run(args: &InfoArgs) -> Result<ExitCode> {
    let path = Path::new(&args.model);
    let info = if path.is_dir() {
        safetensors_info(path)?
    } else {
        gguf_info(&args.model)?
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&info).unwrap_or_default()
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!("{} ({})", info.path, info.format);
    println!(
        "architecture: {}",
        info.architecture.as_deref().unwrap_or("?")
    );
    if let Some(name) = &info.name {
        println!("name:         {name}");
    }
    if let Some(c) = &info.config {
        println!(
            "layers {} | width {} | mlp {} | heads {} / kv {} x {} | vocab {} | tied {}",
            c.num_hidden_layers,
            c.hidden_size,
            c.intermediate_size,
            c.num_attention_heads,
            c.num_key_value_heads,
            c.head_dim,
            c.vocab_size,
            c.tie_word_embeddings
        );
    }
    for (k, v) in &info.hyperparameters {
        println!("  {k:<40} {}", serde_json::to_string(v).unwrap_or_default());
    }
    println!(
        "tensors:      {} ({:.1} M parameters, {:.1} MiB of tensor data, files {:.1} MiB)",
        info.tensors,
        info.parameters as f64 / 1e6,
        info.tensor_bytes as f64 / (1 << 20) as f64,
        info.file_bytes as f64 / (1 << 20) as f64
    );
    for (name, s) in &info.types {
        println!(
            "  {name:<6} {:>4} tensors {:>12} values {:>10.1} MiB",
            s.tensors,
            s.values,
            s.bytes as f64 / (1 << 20) as f64
        );
    }
    Ok(ExitCode::SUCCESS)
}
