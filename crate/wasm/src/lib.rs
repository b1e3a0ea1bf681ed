//! ttsearch's JavaScript API (wasm-bindgen): the only crate that knows about JS.
//!
//! Every fallible call returns a rejected promise (or throws) with a JS `Error` whose `name` is
//! "TtsearchError" and whose `code` is the core error's stable code; nothing panics across the
//! boundary.

mod error;
mod gpu;
mod grade;
mod tokenize;

pub use error::to_js_error;
pub use gpu::Gpu;
pub use grade::{canonical_form, extract_answer, grade, group_answers, is_equivalent};
pub use tokenize::Tokenizer;

use wasm_bindgen::prelude::*;

/// The version of the ttsearch core this module was built from.
#[wasm_bindgen]
pub fn version() -> String {
    ttsearch::VERSION.to_string()
}

/// Whether this JS environment exposes WebGPU at all (`navigator.gpu`).
#[wasm_bindgen(js_name = hasWebGpu)]
pub fn has_web_gpu() -> bool {
    gpu::navigator_gpu_present()
}
