//! Shared helpers of the native tests: one GPU device per test binary, a fresh seed per run,
//! fixture models and golden-output helpers. Each test binary uses some of them.

#![allow(dead_code)]

use std::sync::OnceLock;
use ttsearch::gpu::GpuContext;
use ttsearch::kv::PagedCache;

/// Whether this machine has any Vulkan driver (an ICD manifest) installed.
fn vulkan_driver_present() -> bool {
    if std::env::var_os("VK_ICD_FILENAMES").is_some()
        || std::env::var_os("VK_DRIVER_FILES").is_some()
    {
        return true;
    }
    [
        "/usr/share/vulkan/icd.d",
        "/etc/vulkan/icd.d",
        "/usr/local/share/vulkan/icd.d",
    ]
    .iter()
    .filter_map(|dir| std::fs::read_dir(dir).ok())
    .flatten()
    .flatten()
    .any(|entry| entry.path().extension().is_some_and(|e| e == "json"))
}

/// The shared GPU device, or `None` (with a loud SKIPPED line) when the machine has no Vulkan
/// driver at all and TTSEARCH_REQUIRE_GPU is not set. With a driver present, a missing adapter
/// fails the test.
pub fn gpu() -> Option<&'static GpuContext> {
    static CTX: OnceLock<Result<GpuContext, String>> = OnceLock::new();
    let ctx = CTX.get_or_init(|| ttsearch::block_on(GpuContext::new()).map_err(|e| e.to_string()));
    match ctx {
        Ok(ctx) => Some(ctx),
        Err(error) => {
            let required = std::env::var("TTSEARCH_REQUIRE_GPU").is_ok_and(|v| v == "1");
            if !required && !vulkan_driver_present() {
                eprintln!("SKIPPED: native GPU test: no Vulkan driver on this machine ({error})");
                None
            } else {
                panic!("GPU adapter required but not available: {error}");
            }
        }
    }
}

/// TTSEARCH_SEED if set, else a fresh seed from the clock; printed so a failure can be replayed.
pub fn seed() -> u64 {
    let seed = std::env::var("TTSEARCH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0)
        });
    eprintln!("TTSEARCH_SEED={seed}");
    seed
}

/// A tiny fixture model (tests/fixtures/models/NAME): config, weights in `format`, golden.json.
pub fn fixture_model(
    name: &str,
    format: ttsearch::quant::WeightFormat,
) -> (
    ttsearch::model::ModelConfig,
    ttsearch::model::ModelWeights,
    serde_json::Value,
) {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/models")
        .join(name);
    let config = ttsearch::model::ModelConfig::from_hf_json(
        &std::fs::read_to_string(dir.join("config.json")).expect("config.json"),
    )
    .expect("config parses");
    let store = fixture_store(&dir);
    let weights = ttsearch::block_on(ttsearch::model::ModelWeights::load(&config, &store, format))
        .expect("weights load");
    let golden = serde_json::from_str(
        &std::fs::read_to_string(dir.join("golden.json")).expect("golden.json"),
    )
    .expect("golden is JSON");
    (config, weights, golden)
}

/// The tensors of a checkpoint folder.
pub fn fixture_store(
    dir: &std::path::Path,
) -> ttsearch::load::AnyStore<ttsearch::model::FileSource> {
    let source = ttsearch::load::path_source(dir).expect("folder");
    ttsearch::block_on(ttsearch::load::open(&source, None))
        .expect("checkpoint opens")
        .store
}

/// Rows of numbers from a JSON array of arrays.
pub fn rows(v: &serde_json::Value) -> Vec<Vec<f32>> {
    v.as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            r.as_array()
                .expect("row")
                .iter()
                .map(|x| x.as_f64().expect("number") as f32)
                .collect()
        })
        .collect()
}

/// Token ids from a JSON array.
pub fn ids(v: &serde_json::Value) -> Vec<u32> {
    v.as_array()
        .expect("ids")
        .iter()
        .map(|x| x.as_u64().expect("id") as u32)
        .collect()
}

/// Largest |a - b| over two equally long slices: panics when the lengths differ, infinite where
/// a value is NaN (so a NaN output passes no tolerance).
pub fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    ttsearch::selfcheck::max_abs_error(a, b).unwrap_or_else(|e| panic!("{e}"))
}

/// Asserts that two lists of numbers have the same length and agree within `tolerance`
/// everywhere (NaN never agrees).
pub fn assert_close<T: Copy + Into<f64>, U: Copy + Into<f64>>(
    got: &[T],
    want: &[U],
    tolerance: f64,
    what: &str,
) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let (g, w): (f64, f64) = ((*g).into(), (*w).into());
        assert!(
            (g - w).abs() < tolerance,
            "{what}: item {i}: {g} vs {w} (tolerance {tolerance})"
        );
    }
}

/// One sequence through the CPU model from an empty cache (every hidden row read back).
pub fn cpu_run(
    model: &ttsearch::model::CpuModel,
    tokens: &[u32],
    logits: ttsearch::model::Rows,
) -> ttsearch::model::ForwardOutput {
    let mut cache =
        ttsearch::model::CpuKvCache::with_capacity(model.config(), tokens.len()).expect("cache");
    let seq = cache.create();
    model
        .forward(
            &mut cache,
            &[ttsearch::model::SequenceInput {
                seq,
                tokens,
                logits,
                hidden: ttsearch::model::Rows::All,
            }],
        )
        .expect("cpu forward")
        .remove(0)
}

/// One sequence through the GPU model from an empty cache (every hidden row read back).
pub fn gpu_run(
    model: &mut ttsearch::model::GpuModel,
    tokens: &[u32],
    logits: ttsearch::model::Rows,
) -> ttsearch::model::ForwardOutput {
    let ctx = model.context().clone();
    let mut cache = ttsearch::model::GpuKvCache::with_capacity(&ctx, model.config(), tokens.len())
        .expect("cache");
    let seq = cache.create();
    ttsearch::block_on(model.forward(
        &mut cache,
        &[ttsearch::model::SequenceInput {
            seq,
            tokens,
            logits,
            hidden: ttsearch::model::Rows::All,
        }],
    ))
    .expect("gpu forward")
    .remove(0)
}

/// A PRM golden case's steps and the scores of format `key`.
pub fn prm_case(case: &serde_json::Value, key: &str) -> (String, Vec<String>, Vec<f64>) {
    let strings = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .expect("array")
            .iter()
            .map(|s| s.as_str().expect("string").to_string())
            .collect()
    };
    let scores = case["scores"][key]
        .as_array()
        .expect("scores")
        .iter()
        .map(|x| x.as_f64().expect("score"))
        .collect();
    (
        case["question"].as_str().expect("question").to_string(),
        strings(&case["steps"]),
        scores,
    )
}

/// The model at `path` (folder or GGUF) on the CPU backend, matrices in `format`.
pub async fn load_cpu_model(
    path: &std::path::Path,
    format: ttsearch::quant::WeightFormat,
) -> ttsearch::Result<ttsearch::model::CpuModel> {
    use ttsearch::load;
    let checkpoint = load::open(&load::path_source(path)?, None).await?;
    let weights =
        ttsearch::model::ModelWeights::load(&checkpoint.config, &checkpoint.store, format).await?;
    Ok(ttsearch::model::CpuModel::new(checkpoint.config, weights))
}

/// The tokenizer of the model at `path` (folder or GGUF).
pub async fn load_tokenizer(
    path: &std::path::Path,
) -> ttsearch::Result<ttsearch::tokenize::Tokenizer> {
    ttsearch::load::path_tokenizer(path).await
}

/// The model at `path` as a PRM of `kind` on `device`, with `blocks` KV blocks.
pub async fn load_prm(
    path: &std::path::Path,
    format: ttsearch::quant::WeightFormat,
    kind: ttsearch::prm::PrmFormat,
    device: ttsearch::load::Device,
    blocks: usize,
) -> ttsearch::Result<ttsearch::prm::Prm<ttsearch::engine::AnyBackend>> {
    use ttsearch::load::{self, KvBudget, LoadOptions};
    let options = LoadOptions {
        dtype: format,
        device,
        kv: KvBudget::Blocks(blocks),
        ..LoadOptions::default()
    };
    load::load(&load::path_source(path)?, None, &options)
        .await?
        .into_prm(Some(kind))
}

/// [`load_prm`] on the CPU.
pub async fn load_cpu_prm(
    path: &std::path::Path,
    format: ttsearch::quant::WeightFormat,
    kind: ttsearch::prm::PrmFormat,
    blocks: usize,
) -> ttsearch::Result<ttsearch::prm::Prm<ttsearch::engine::AnyBackend>> {
    load_prm(path, format, kind, ttsearch::load::Device::Cpu, blocks).await
}

/// [`load_prm`] on the GPU `ctx`.
pub async fn load_gpu_prm(
    ctx: &GpuContext,
    path: &std::path::Path,
    format: ttsearch::quant::WeightFormat,
    kind: ttsearch::prm::PrmFormat,
    blocks: usize,
) -> ttsearch::Result<ttsearch::prm::Prm<ttsearch::engine::AnyBackend>> {
    load_prm(
        path,
        format,
        kind,
        ttsearch::load::Device::Gpu(ctx.clone()),
        blocks,
    )
    .await
}

/// The folder of the real tokenizer files (`scripts/fetch_tokenizers.sh`), or `None` with a
/// SKIPPED line; TTSEARCH_REQUIRE_TOKENIZERS=1 makes their absence a failure.
pub fn tokenizers_dir() -> Option<std::path::PathBuf> {
    let dir = std::env::var_os("TTSEARCH_TOKENIZERS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/tokenizers")
        });
    if dir.join("qwen2.5/tokenizer.json").exists() {
        return Some(dir);
    }
    if std::env::var("TTSEARCH_REQUIRE_TOKENIZERS").is_ok_and(|v| v == "1") {
        panic!("tokenizer files required: run scripts/fetch_tokenizers.sh");
    }
    eprintln!("SKIPPED: real tokenizer files: run scripts/fetch_tokenizers.sh");
    None
}
