//! ttsearch's JavaScript API (wasm-bindgen): the only crate that knows about JS.
//!
//! Every fallible call returns a rejected promise (or throws) with a JS `Error` whose `name` is
//! "TtsearchError" and whose `code` is the core error's stable code; nothing panics across the
//! boundary.

mod cancel;
mod device;
mod error;
mod files;
mod gpu;
mod grade;
mod heap;
mod model;
mod panic;
mod solver;
mod tokenize;

pub use cancel::Cancel;
pub use error::{from_js_error, to_js_error};
pub use gpu::Gpu;
pub use grade::{canonical_form, extract_answer, grade, group_answers, is_equivalent};
pub use heap::{heap_stats, reset_heap_peak};
pub use model::Model;
pub use solver::Solver;
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

/// Whether a WebGPU adapter can be had here (creates the shared device when it can).
#[wasm_bindgen(js_name = webGpuAvailable)]
pub async fn webgpu_available() -> bool {
    device::webgpu_available().await
}

/// `{ buffers, bytes }` of the storage buffers the shared WebGPU device holds (models' weights,
/// KV caches, pools), or `null` before any model used WebGPU.
#[wasm_bindgen(js_name = deviceBufferStats)]
pub fn device_buffer_stats() -> Result<JsValue, JsValue> {
    match device::buffer_stats() {
        Some(stats) => error::to_js(&stats),
        None => Ok(JsValue::NULL),
    }
}

/// Destroys the shared WebGPU device as if it were lost: the models on it reject with
/// `device_lost`, and the next load creates a new device (tests of recovery).
#[wasm_bindgen(js_name = loseDeviceForTesting)]
pub fn lose_device_for_testing() {
    device::destroy();
}
