//! GGUF files made from the tiny models by llama.cpp's own converter and quantizer
//! (tests/fixtures/models/gguf, scripts/gen_tiny_gguf.py): the CPU forward pass against
//! transformers (f32 and f16 files, which hold the exact weights) and against llama.cpp's logits
//! on the same file (every file: f32, f16, Q8_0, Q5_0, Q4_0, Q4_K_M, Q6_K).

#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{ids, max_diff, rows};
use std::path::PathBuf;
use ttsearch::model::{
    Architecture, CpuModel, FileSource, GgufStore, LayerAttention, ModelWeights, RopeScaling, Rows,
};
use ttsearch::quant::WeightFormat;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/models/gguf")
}

fn json(path: PathBuf) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("JSON")
}

fn load(file: &str, format: WeightFormat) -> CpuModel {
    let source = FileSource::open(dir().join(file)).expect("opens");
    let (config, store) = ttsearch::block_on(GgufStore::open(source)).expect("header");
    let weights =
        ttsearch::block_on(ModelWeights::load(&config, &store, format)).expect("weights load");
    CpuModel::new(config, weights)
}

/// Logits of every position of `tokens`, and the final hidden states.
fn forward(model: &CpuModel, tokens: &[u32]) -> (Vec<Vec<f32>>, Vec<f32>) {
    let out = common::cpu_run(model, tokens, Rows::All);
    (out.logits, out.hidden)
}

/// f32 and f16 GGUFs hold the transformers weights exactly (qwen2-tiny is stored in f16), so
/// the Llama Q/K un-permutation and the llama3 rotary factors must reproduce transformers.
#[test]
fn exact_gguf_files_match_transformers() {
    for (file, model_dir) in [
        ("qwen2-tiny-f32.gguf", "qwen2-tiny"),
        ("qwen2-tiny-f16.gguf", "qwen2-tiny"),
        ("llama-tiny-f32.gguf", "llama-tiny"),
    ] {
        let golden = json(dir().join("..").join(model_dir).join("golden.json"));
        let model = load(file, WeightFormat::F32);
        for seq in golden["sequences"].as_array().expect("sequences") {
            let (logits, hidden) = forward(&model, &ids(&seq["tokens"]));
            assert_eq!(logits.len(), rows(&seq["logits"]).len(), "{file}");
            for (p, (got, want)) in logits.iter().zip(rows(&seq["logits"])).enumerate() {
                let d = max_diff(got, &want);
                assert!(d < 1e-4, "{file} position {p}: max |logit diff| {d}");
            }
            let d = max_diff(&hidden, &rows(&seq["hidden"]).concat());
            assert!(d < 1e-4, "{file}: hidden states differ by {d}");
        }
    }
}

#[test]
fn gguf_metadata_gives_the_model_config() {
    let source = FileSource::open(dir().join("llama-tiny-q4_0.gguf")).expect("opens");
    let (config, _) = ttsearch::block_on(GgufStore::open(source)).expect("header");
    assert_eq!(config.architecture, Architecture::Llama);
    assert!(!config.tie_word_embeddings);
    // llama.cpp stores llama3 scaling as per-frequency factors (head_dim 16: 8 of them).
    match &config.rope.scaling {
        RopeScaling::Factors(f) => assert_eq!(f.len(), 8),
        other => panic!("expected rope_freqs factors, got {other:?}"),
    }
    let source = FileSource::open(dir().join("gemma3-tiny-f32.gguf")).expect("opens");
    let (config, _) = ttsearch::block_on(GgufStore::open(source)).expect("header");
    assert_eq!(config.architecture, Architecture::Gemma3);
    assert_eq!(config.sliding_window, Some(4));
    assert_eq!(config.rope.theta, 1_000_000.0);
    assert_eq!(config.rope_local.as_ref().map(|r| r.theta), Some(10_000.0));
    // The converter writes no layer pattern for Gemma 3, so llama.cpp (and we) use its default
    // period of 6: both layers of the tiny model are sliding-window layers in the GGUF.
    assert_eq!(
        config.layer_types,
        vec![LayerAttention::Sliding, LayerAttention::Sliding]
    );
}

/// Every file against llama.cpp on the same file, in f32 (the file's values exactly), repacked to
/// q8, and as the file's own blocks with integer products (gguf). llama.cpp keeps its KV cache in
/// f16 (about 5e-3 from exact on these models) and quantizes activations to 8 bits inside
/// quantized matrix products (about 0.1 here), so the bound is loose for quantized files; top-1
/// must agree wherever llama.cpp's own top-1/top-2 gap is at least 0.25. The file's own blocks
/// must come at least as close to llama.cpp as q8 does, file by file.
#[test]
fn every_gguf_file_matches_llama_cpp() {
    let reference = json(dir().join("llamacpp.json"));
    let files = reference["files"].as_object().expect("files");
    assert!(
        files.len() >= 17,
        "llamacpp.json lists {} files",
        files.len()
    );
    let (mut q8_total, mut gguf_total) = (0f32, 0f32);
    for (file, entry) in files {
        let exact = file.ends_with("-f32.gguf") || file.ends_with("-f16.gguf");
        let bound = if exact { 1e-2 } else { 0.25 };
        for format in [WeightFormat::F32, WeightFormat::Q8, WeightFormat::Gguf] {
            if exact && format == WeightFormat::Q8 {
                continue;
            }
            let worst = compare_with_llama_cpp(file, entry, format, bound);
            if !exact {
                match format {
                    WeightFormat::Q8 => q8_total += worst,
                    WeightFormat::Gguf => gguf_total += worst,
                    _ => {}
                }
            }
        }
    }
    eprintln!(
        "quantized files, sum of the largest differences to llama.cpp: q8 {q8_total:.4}, gguf {gguf_total:.4}"
    );
    assert!(
        gguf_total <= q8_total,
        "gguf blocks {gguf_total} from llama.cpp over the quantized files, q8 {q8_total}"
    );
}

/// The largest logit difference to llama.cpp over a file's sequences in `format` (asserted
/// below `bound`, with top-1 agreement at clear positions).
fn compare_with_llama_cpp(
    file: &str,
    entry: &serde_json::Value,
    format: WeightFormat,
    bound: f32,
) -> f32 {
    {
        let model = load(file, format);
        let (mut worst, mut clear, mut agree) = (0f32, 0, 0);
        for seq in entry["sequences"].as_array().expect("sequences") {
            let (logits, _) = forward(&model, &ids(&seq["tokens"]));
            assert_eq!(logits.len(), rows(&seq["logits"]).len(), "{file}");
            for (got, want) in logits.iter().zip(rows(&seq["logits"])) {
                worst = worst.max(max_diff(got, &want));
                let mut order: Vec<usize> = (0..want.len()).collect();
                order.sort_by(|&a, &b| want[b].total_cmp(&want[a]));
                if want[order[0]] - want[order[1]] >= 0.25 {
                    clear += 1;
                    agree += usize::from(argmax(got) == order[0]);
                }
            }
        }
        eprintln!(
            "{file} as {}: max |ours - llama.cpp| {worst:.4}, top-1 {agree}/{clear}",
            format.name()
        );
        assert!(
            worst.is_finite() && worst < bound,
            "{file} as {}: max |logit diff| to llama.cpp {worst}",
            format.name()
        );
        assert_eq!(
            agree,
            clear,
            "{file} as {}: top-1 differs from llama.cpp",
            format.name()
        );
        worst
    }
}

/// k-quant files against transformers on the unquantized weights: the quantization error, and
/// what repacking at load (q8/q4 group-32) adds to it.
#[test]
fn k_quant_files_against_transformers() {
    let golden = json(dir().join("llama-wide.json"));
    for (file, format, bound) in [
        ("llama-wide-q6_k.gguf", WeightFormat::F32, 0.5),
        ("llama-wide-q6_k.gguf", WeightFormat::Q8, 0.5),
        ("llama-wide-q4_k_m.gguf", WeightFormat::F32, 2.5),
        ("llama-wide-q4_k_m.gguf", WeightFormat::Q8, 2.5),
        ("llama-wide-q4_k_m.gguf", WeightFormat::Q4, 2.5),
        ("llama-wide-q6_k.gguf", WeightFormat::Gguf, 0.5),
        ("llama-wide-q4_k_m.gguf", WeightFormat::Gguf, 2.5),
    ] {
        let model = load(file, format);
        let mut worst = 0f32;
        for seq in golden["sequences"].as_array().expect("sequences") {
            let (logits, _) = forward(&model, &ids(&seq["tokens"]));
            assert_eq!(logits.len(), rows(&seq["logits"]).len(), "{file}");
            for (got, want) in logits.iter().zip(rows(&seq["logits"])) {
                worst = worst.max(max_diff(got, &want));
            }
        }
        eprintln!("{file} as {format:?}: max |ours - transformers f32| {worst:.3}");
        assert!(worst < bound, "{file} as {format:?}: {worst}");
    }
}

fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best
}

/// Loaded as gguf, a quantized file keeps its own blocks (memory equals the file's bytes), and
/// the blocks hold the values the f32 load reads, Llama's un-permuted Q/K rows included.
#[test]
fn gguf_format_keeps_the_files_blocks() {
    use ttsearch::quant::WeightMatrix;
    for file in [
        "llama-wide-q4_k_m.gguf",
        "llama-tiny-q5_0.gguf",
        "qwen2-tiny-q8_0.gguf",
    ] {
        let (blocks, exact) = (
            load(file, WeightFormat::Gguf),
            load(file, WeightFormat::F32),
        );
        let (b, e) = (&blocks.weights().layers[0], &exact.weights().layers[0]);
        for (name, got, want) in [
            ("q_proj", &b.q_proj.weight, &e.q_proj.weight),
            ("k_proj", &b.k_proj.weight, &e.k_proj.weight),
            ("down_proj", &b.down_proj.weight, &e.down_proj.weight),
        ] {
            assert!(
                matches!(got, WeightMatrix::Blocks(_)),
                "{file} {name}: loaded as {:?}",
                got.format()
            );
            assert!(
                got.byte_len() * 3 < want.byte_len(),
                "{file} {name}: not the file's blocks"
            );
            let (mut g, mut w) = (vec![0f32; got.cols()], vec![0f32; want.cols()]);
            for r in 0..got.rows() {
                got.dequantize_row(r, &mut g);
                want.dequantize_row(r, &mut w);
                assert_eq!(g, w, "{file} {name} row {r}");
            }
        }
    }
}
