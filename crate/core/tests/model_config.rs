//! Model configs: config.json as transformers 5 saves it and as the released checkpoints ship
//! it, for each architecture; and typed errors for what is missing or unsupported.

use ttsearch::model::{Activation, Architecture, LayerAttention, ModelConfig, Rope, RopeScaling};

fn fixture(name: &str) -> ModelConfig {
    let path = format!(
        "{}/../../tests/fixtures/configs/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    ModelConfig::from_hf_json(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn qwen2_released_and_tf5() {
    let c = fixture("qwen2-released.json");
    assert_eq!(c.architecture, Architecture::Qwen2);
    assert_eq!(
        (
            c.hidden_size,
            c.num_hidden_layers,
            c.num_attention_heads,
            c.num_key_value_heads
        ),
        (896, 24, 14, 2)
    );
    assert_eq!(c.head_dim, 64);
    assert_eq!(
        c.rope,
        Rope {
            theta: 1e6,
            scaling: RopeScaling::None
        }
    );
    assert!(c.attention_bias && c.tie_word_embeddings);
    assert_eq!(c.sliding_window, None, "use_sliding_window is false");
    assert!(c.layer_types.iter().all(|t| *t == LayerAttention::Full));
    assert_eq!(
        (c.bos_token_id, c.eos_token_ids.as_slice()),
        (Some(151643), &[151645][..])
    );
    let t = fixture("qwen2-tf5.json");
    assert_eq!(t.rope.theta, 1e6);
    assert_eq!((t.vocab_size, t.hidden_size, t.head_dim), (256, 64, 16));
}

#[test]
fn llama3_rope_scaling_in_both_schemas() {
    let want = RopeScaling::Llama3 {
        factor: 32.0,
        low_freq_factor: 1.0,
        high_freq_factor: 4.0,
        original_max_position_embeddings: 8192.0,
    };
    let c = fixture("llama-released.json");
    assert_eq!(c.architecture, Architecture::Llama);
    assert_eq!(
        c.rope,
        Rope {
            theta: 500000.0,
            scaling: want.clone()
        }
    );
    assert_eq!(c.eos_token_ids, vec![128001, 128008, 128009]);
    assert!(!c.attention_bias);
    assert_eq!(c.hidden_act, Activation::Silu);
    let t = fixture("llama-tf5.json");
    assert_eq!(
        t.rope,
        Rope {
            theta: 500000.0,
            scaling: want
        }
    );
    assert_eq!((t.head_dim, t.eos_token_ids.as_slice()), (16, &[2, 3][..]));
}

#[test]
fn gemma3_local_and_global_layers() {
    let c = fixture("gemma3-released.json");
    assert_eq!(c.architecture, Architecture::Gemma3);
    assert_eq!(
        (
            c.hidden_size,
            c.head_dim,
            c.num_attention_heads,
            c.num_key_value_heads
        ),
        (640, 256, 4, 1)
    );
    assert_eq!(c.rope.theta, 1e6);
    assert_eq!(c.rope_local.map(|r| r.theta), Some(10000.0));
    assert_eq!(c.sliding_window, Some(512));
    assert_eq!(c.hidden_act, Activation::GeluTanh);
    assert!(c.tie_word_embeddings, "Gemma ties by default");
    let full: Vec<usize> = (0..18)
        .filter(|i| c.layer_types[*i] == LayerAttention::Full)
        .collect();
    assert_eq!(full, vec![5, 11, 17]);
    assert_eq!(c.query_pre_attn_scalar, 256.0);
    let t = fixture("gemma3-tf5.json");
    assert_eq!(t.rope.theta, 1e6);
    assert_eq!(t.rope_local.map(|r| r.theta), Some(10000.0));
    assert_eq!(
        t.layer_types,
        vec![LayerAttention::Sliding, LayerAttention::Full]
    );
    assert_eq!(t.sliding_window, Some(8));
}

#[test]
fn typed_errors() {
    let err = |text: &str| ModelConfig::from_hf_json(text).unwrap_err();
    assert_eq!(err("{").code(), "format");
    assert_eq!(
        err(r#"{"architectures": ["MistralForCausalLM"]}"#).code(),
        "unsupported"
    );
    let missing = err(
        r#"{"model_type": "llama", "hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 2}"#,
    );
    assert_eq!(missing.code(), "format");
    assert!(missing.to_string().contains("vocab_size"), "{missing}");
    let odd = r#"{"model_type": "llama", "hidden_size": 64, "num_attention_heads": 3, "num_key_value_heads": 2,
        "num_hidden_layers": 1, "vocab_size": 10, "intermediate_size": 8, "max_position_embeddings": 8}"#;
    assert!(err(odd).to_string().contains("not a multiple"));
    let rope = r#"{"model_type": "llama", "hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 1,
        "vocab_size": 10, "intermediate_size": 8, "max_position_embeddings": 8, "rope_scaling": {"rope_type": "yarn", "factor": 4}}"#;
    assert_eq!(err(rope).code(), "unsupported");
}
