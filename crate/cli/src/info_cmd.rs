//! `ttsearch info --model FILE.gguf`: architecture, size and tensor types of a model file.

use clap::Args;
use serde::Serialize;
use std::collections::BTreeMap;
use std::process::ExitCode;
use ttsearch::model::{FileSource, GgufFile, GgufValue};
use ttsearch::{Error, Result, block_on};

#[derive(Args)]
pub struct InfoArgs {
    /// A GGUF model file.
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
    hyperparameters: BTreeMap<String, GgufValue>,
    tensors: usize,
    parameters: u64,
    tensor_bytes: u64,
    file_bytes: u64,
    types: BTreeMap<&'static str, TypeStats>,
}

/// The architecture's hyperparameters worth showing: `{arch}.*` keys that are not arrays.
fn hyperparameters(file: &GgufFile, arch: &str) -> BTreeMap<String, GgufValue> {
    let prefix = format!("{arch}.");
    file.metadata
        .iter()
        .filter(|(k, v)| k.starts_with(&prefix) && !matches!(v, GgufValue::Array(_)))
        .map(|(k, v)| (k[prefix.len()..].to_string(), v.clone()))
        .collect()
}

pub fn run(args: &InfoArgs) -> Result<ExitCode> {
    if std::path::Path::new(&args.model).is_dir() {
        return Err(Error::Unsupported(format!(
            "{}: safetensors directories are not read yet; give a .gguf file",
            args.model
        )));
    }
    let source = FileSource::open(&args.model)?;
    let file = block_on(GgufFile::read(&source))?;
    let architecture = file
        .get("general.architecture")
        .and_then(GgufValue::as_str)
        .map(String::from);
    let mut types: BTreeMap<&'static str, TypeStats> = BTreeMap::new();
    for t in &file.tensors {
        let s = types.entry(t.ty.name()).or_default();
        s.tensors += 1;
        s.values += t.values;
        s.bytes += t.byte_len;
    }
    let info = Info {
        path: args.model.clone(),
        format: format!("GGUF v{}", file.version),
        hyperparameters: architecture
            .as_deref()
            .map(|a| hyperparameters(&file, a))
            .unwrap_or_default(),
        architecture,
        name: file
            .get("general.name")
            .and_then(GgufValue::as_str)
            .map(String::from),
        tensors: file.tensors.len(),
        parameters: file.tensors.iter().map(|t| t.values).sum(),
        tensor_bytes: file.tensors.iter().map(|t| t.byte_len).sum(),
        file_bytes: ttsearch::model::ByteSource::len(&source),
        types,
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
    println!("name:         {}", info.name.as_deref().unwrap_or("?"));
    for (k, v) in &info.hyperparameters {
        println!("  {k:<40} {}", serde_json::to_string(v).unwrap_or_default());
    }
    println!(
        "tensors:      {} ({:.1} M parameters, {:.1} MiB of tensor data, file {:.1} MiB)",
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
