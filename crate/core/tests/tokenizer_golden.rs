//! Tokenizers and chat templates against the reference implementations on the real Qwen2.5,
//! Llama 3.2 and Gemma 3 tokenizer files (scripts/fetch_tokenizers.sh; goldens from PyPI
//! `tokenizers` and transformers in tests/fixtures/tokenizers/golden.json, written by
//! scripts/gen_tokenizer_golden.py), and Gemma's tokenizer rebuilt from the GGUF's vocabulary.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{load_tokenizer, tokenizers_dir};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use ttsearch::block_on;
use ttsearch::tokenize::{Message, RenderOptions, Tokenizer};
use ttsearch::tokenize::{TokenCodec, decode_bytes};

const GOLDEN: &str = include_str!("../../../tests/fixtures/tokenizers/golden.json");

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .expect("ids")
        .iter()
        .map(|x| x.as_u64().expect("id") as u32)
        .collect()
}

fn check_encodings(name: &str, tokenizer: &Tokenizer, cases: &Value, with_decode: bool) {
    for case in cases.as_array().expect("cases") {
        let text = case["text"].as_str().expect("text");
        assert_eq!(
            tokenizer.encode(text, false).expect("encode"),
            ids(&case["ids"]),
            "{name}: {text:?}"
        );
        assert_eq!(
            tokenizer.encode(text, true).expect("encode"),
            ids(&case["ids_with_special"]),
            "{name} with special tokens: {text:?}"
        );
        if with_decode {
            let decoded = tokenizer.decode(&ids(&case["ids"]), true).expect("decode");
            assert_eq!(
                decoded,
                case["decoded"].as_str().expect("decoded"),
                "{name}: decode {text:?}"
            );
            // Token bytes concatenate to the text (special tokens carry none).
            let plain = ids(&case["ids"]);
            if plain.iter().all(|&id| !tokenizer.is_special(id)) {
                let bytes = decode_bytes(tokenizer, &plain).expect("bytes");
                assert_eq!(
                    String::from_utf8_lossy(&bytes),
                    decoded,
                    "{name}: token bytes of {text:?}"
                );
            }
        }
    }
}

#[test]
fn token_ids_and_chat_prompts_match_transformers() {
    let Some(dir) = tokenizers_dir() else { return };
    let golden: Value = serde_json::from_str(GOLDEN).expect("golden");
    for (name, entry) in golden["tokenizers"].as_object().expect("tokenizers") {
        let tokenizer = block_on(load_tokenizer(&dir.join(name))).expect("tokenizer loads");
        check_encodings(name, &tokenizer, &entry["encode"], true);
        assert_eq!(
            tokenizer.bos_token.as_deref(),
            entry["bos_token"].as_str(),
            "{name} bos"
        );
        assert_eq!(
            tokenizer.eos_token.as_deref(),
            entry["eos_token"].as_str(),
            "{name} eos"
        );
        let chat = tokenizer.chat().expect("chat template");
        for case in entry["chat"].as_array().expect("chat cases") {
            let messages: Vec<Message> =
                serde_json::from_value(case["messages"].clone()).expect("messages");
            let extra: BTreeMap<String, Value> =
                serde_json::from_value(case["extra"].clone()).expect("extra");
            let options = RenderOptions {
                add_generation_prompt: case["add_generation_prompt"].as_bool().unwrap_or(false),
                extra,
                ..RenderOptions::default()
            };
            let want = case["text"].as_str().expect("text");
            let label = format!("{name} {}", case["case"]);
            if case["continue_final_message"].as_bool() == Some(true) {
                let partial = &messages.last().expect("partial").content;
                let got = chat
                    .render_continuation(&messages, &options)
                    .expect("continuation");
                assert!(
                    got.ends_with(partial.as_str()),
                    "{label}: partial text not kept verbatim"
                );
                match case["sal_text"].as_str() {
                    // The model's template trims; search-and-learn's variant does not and has no BOS.
                    Some(sal) => {
                        let bos = tokenizer.bos_token.clone().unwrap_or_default();
                        assert_eq!(got, format!("{bos}{sal}"), "{label}");
                    }
                    // transformers keeps the message when the template does not trim it, and
                    // trims its trailing whitespace when the template does.
                    None if want.ends_with(partial.as_str()) => assert_eq!(got, want, "{label}"),
                    None => {
                        assert_eq!(got.trim_end(), want.trim_end(), "{label}");
                    }
                }
                let ids = tokenizer.encode_chat(&got).expect("ids");
                let bos = tokenizer.bos_token_id;
                assert!(
                    bos.is_none() || ids.iter().filter(|&&i| Some(i) == bos).count() <= 1,
                    "{label}: two BOS"
                );
            } else {
                let got = chat.render(&messages, &options).expect("render");
                assert_eq!(got, want, "{label}");
                assert_eq!(
                    tokenizer.encode_chat(&got).expect("ids"),
                    ids(&case["ids"]),
                    "{label} ids"
                );
            }
        }
    }
}

/// Gemma's tokenizer rebuilt from the GGUF's vocabulary (no merges stored) equals transformers'
/// GGUF tokenizer, and the tokenizer.json of the same vocabulary.
#[test]
fn gemma_gguf_vocabulary_matches_transformers() {
    let Some(path) = std::env::var_os("TTSEARCH_GEMMA_GGUF") else {
        eprintln!("SKIPPED: GGUF tokenizer: set TTSEARCH_GEMMA_GGUF (scripts/fetch_gemma.sh)");
        return;
    };
    let golden: Value = serde_json::from_str(GOLDEN).expect("golden");
    let tokenizer = block_on(load_tokenizer(&PathBuf::from(path))).expect("GGUF tokenizer");
    check_encodings(
        "gemma3 gguf",
        &tokenizer,
        &golden["gguf_gemma3"]["encode"],
        false,
    );
    assert_eq!(tokenizer.bos_token.as_deref(), Some("<bos>"));
    assert!(tokenizer.add_bos);
    // This file carries no tokenizer.chat_template.
    assert_eq!(
        tokenizer.chat().err().map(|e| e.code()),
        Some("unsupported")
    );
    // Streaming pieces: every token's bytes, "\n\n" a single token.
    let nl = tokenizer.encode("\n\n", false).expect("encode");
    assert_eq!(tokenizer.token_bytes(nl[0]).expect("bytes"), b"\n\n");
}

#[test]
fn malformed_tokenizer_files_are_typed_errors() {
    for (json, code) in [
        (&b"{not json"[..], "format"),
        (
            br#"{"version": "1.0", "decoder": {"type": "WordPiece"}, "model": {}}"#,
            "unsupported",
        ),
        (
            br#"{"version": "1.0", "decoder": {"type": "ByteLevel"}, "model": {"type": "BPE"}}"#,
            "format",
        ),
    ] {
        let err = Tokenizer::from_hf(json, None, None)
            .err()
            .expect("rejected");
        assert_eq!(err.code(), code, "{err}");
    }
    let err = Tokenizer::from_hf(
        br#"{"version":"1.0","added_tokens":[],"normalizer":null,"pre_tokenizer":null,"post_processor":null,
            "decoder":{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":false,"use_regex":false},
            "model":{"type":"BPE","vocab":{"a":0},"merges":[]}}"#,
        Some(b"{bad"),
        None,
    )
    .err()
    .expect("bad config");
    assert_eq!(err.code(), "format");
}
