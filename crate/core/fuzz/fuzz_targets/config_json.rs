//! Fuzz target: any text as an HF config.json.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ttsearch::model::ModelConfig::from_hf_json(text);
    }
});
