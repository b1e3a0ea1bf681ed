//! Fuzz target: any two strings as a prediction and a gold answer.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let (pred, gold) = text.split_at(text.char_indices().nth(text.chars().count() / 2).map_or(0, |(i, _)| i));
        let _ = ttsearch::grade::grade(pred, gold);
        let _ = ttsearch::grade::canonical_form(pred);
    }
});
