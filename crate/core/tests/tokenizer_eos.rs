//! Engines stop on the tokenizer's whole EOS set, not only the config's: with the real Qwen2.5,
//! Llama 3.2 and Gemma 3 tokenizer files and their released generation_config.json token fields
//! (tests/fixtures/tokenizers/generation_config), an engine built by the loader holds every id of
//! the set (Qwen's `<|endoftext|>` and Gemma's `<end_of_turn>` are in no config.json);
//! tests/engine_cpu.rs checks that an id added this way ends generation.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::tokenizers_dir;
use std::path::PathBuf;
use ttsearch::block_on;
use ttsearch::load::{self, KvBudget, LoadOptions};
use ttsearch::model::{ModelConfig, RandomStore};
use ttsearch::quant::WeightFormat;
use ttsearch::tokenize::Tokenizer;

fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(path)
}

/// The family's released config, narrowed to one small layer (the vocabulary stays real).
fn small_config(name: &str) -> ModelConfig {
    let text = std::fs::read_to_string(fixture(&format!("configs/{name}"))).expect("config");
    let mut v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    for (key, value) in [
        ("hidden_size", 64),
        ("intermediate_size", 64),
        ("num_hidden_layers", 1),
        ("num_attention_heads", 4),
        ("num_key_value_heads", 1),
        ("head_dim", 16),
    ] {
        v[key] = value.into();
    }
    v["layer_types"] = serde_json::Value::Null;
    ModelConfig::from_hf_json(&v.to_string()).expect("small config")
}

#[test]
fn engines_stop_on_the_tokenizers_whole_eos_set() {
    let Some(dir) = tokenizers_dir() else { return };
    for (name, config, extra) in [
        ("qwen2.5", "qwen2-released.json", vec![151645, 151643]),
        (
            "llama3.2",
            "llama-released.json",
            vec![128001, 128008, 128009],
        ),
        ("gemma3", "gemma3-released.json", vec![1, 106]),
    ] {
        let read = |p: PathBuf| std::fs::read(&p).unwrap_or_else(|e| panic!("{p:?}: {e}"));
        let tokenizer = Tokenizer::from_hf(
            &read(dir.join(name).join("tokenizer.json")),
            Some(&read(dir.join(name).join("tokenizer_config.json"))),
            Some(&read(fixture(&format!(
                "tokenizers/generation_config/{name}.json"
            )))),
        )
        .expect("tokenizer");
        for id in &extra {
            assert!(
                tokenizer.eos_token_ids.contains(id),
                "{name}: the tokenizer's EOS set {:?} lacks {id}",
                tokenizer.eos_token_ids
            );
        }
        let config = small_config(config);
        let store = RandomStore::new(config.clone(), 3);
        let options = LoadOptions {
            dtype: WeightFormat::F32,
            kv: KvBudget::Blocks(8),
            ..LoadOptions::default()
        };
        let engine =
            block_on(load::engine(&config, &store, Some(&tokenizer), &options)).expect("engine");
        let mut want: Vec<u32> = config.eos_token_ids.clone();
        want.extend(&tokenizer.eos_token_ids);
        for id in &want {
            assert!(
                engine.eos_tokens().contains(id),
                "{name}: the engine does not stop on {id}: {:?}",
                engine.eos_tokens()
            );
        }
    }
}
