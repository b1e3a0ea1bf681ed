//! The tokenizer and chat templates inside headless Chromium: the real Qwen2.5 tokenizer files
//! (scripts/fetch_tokenizers.sh) against the transformers goldens, through the JS-facing class.

#![cfg(target_arch = "wasm32")]

use serde_json::Value;
use ttsearch::tokenize::{Message, RenderOptions};
use ttsearch_wasm::Tokenizer;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const TOKENIZER: &[u8] = include_bytes!("../../../target/tokenizers/qwen2.5/tokenizer.json");
const CONFIG: &[u8] = include_bytes!("../../../target/tokenizers/qwen2.5/tokenizer_config.json");
const GOLDEN: &str = include_str!("../../../tests/fixtures/tokenizers/golden.json");

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .expect("ids")
        .iter()
        .map(|x| x.as_u64().expect("id") as u32)
        .collect()
}

#[wasm_bindgen_test]
fn qwen_tokenizer_matches_transformers_in_the_browser() {
    let golden: Value = serde_json::from_str(GOLDEN).expect("golden");
    let entry = &golden["tokenizers"]["qwen2.5"];
    let js = Tokenizer::from_files(TOKENIZER, Some(CONFIG.to_vec()), None)
        .unwrap_or_else(|_| panic!("tokenizer loads"));
    for case in entry["encode"].as_array().expect("cases") {
        let text = case["text"].as_str().expect("text");
        let got = js.encode(text, false).unwrap_or_else(|_| panic!("encode"));
        assert_eq!(got, ids(&case["ids"]), "{text:?}");
        let decoded = js.decode(got, true).unwrap_or_else(|_| panic!("decode"));
        assert_eq!(decoded, case["decoded"].as_str().expect("decoded"));
    }
    assert_eq!(js.eos_token_ids(), vec![151645]);
    // Chat templates through minijinja in wasm.
    let core = ttsearch::tokenize::Tokenizer::from_hf(TOKENIZER, Some(CONFIG), None).expect("core");
    let chat = core.chat().expect("template");
    for case in entry["chat"].as_array().expect("chat") {
        let messages: Vec<Message> =
            serde_json::from_value(case["messages"].clone()).expect("messages");
        let options = RenderOptions {
            add_generation_prompt: case["add_generation_prompt"].as_bool().unwrap_or(false),
            ..RenderOptions::default()
        };
        let want = case["text"].as_str().expect("text");
        let got = if case["continue_final_message"].as_bool() == Some(true) {
            chat.render_continuation(&messages, &options)
                .expect("continuation")
        } else {
            chat.render(&messages, &options).expect("render")
        };
        assert_eq!(got, want, "{}", case["case"]);
    }
    console_log!("tokenizer and chat template match transformers in the browser");
}

#[wasm_bindgen_test]
fn malformed_tokenizer_is_a_typed_js_error() {
    let err = Tokenizer::from_files(b"{oops", None, None)
        .err()
        .expect("rejected");
    let code = js_sys::Reflect::get(&err, &"code".into()).expect("code");
    assert_eq!(code.as_string().as_deref(), Some("format"));
}
