//! A cancellation handle JS holds while a call runs: an AbortSignal's listener (or the worker's
//! abort message) calls `cancel()`, and the call stops at its next decode step.

use ttsearch::engine::CancelToken;
use wasm_bindgen::prelude::*;

/// Stops the call it was given to.
#[wasm_bindgen]
#[derive(Default, Clone)]
pub struct Cancel {
    pub(crate) token: CancelToken,
}

#[wasm_bindgen]
impl Cancel {
    /// A fresh handle.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Asks the call to stop.
    pub fn cancel(&self) {
        self.token.cancel();
    }

    /// Whether `cancel` was called.
    #[wasm_bindgen(getter)]
    pub fn cancelled(&self) -> bool {
        self.token.is_cancelled()
    }
}
