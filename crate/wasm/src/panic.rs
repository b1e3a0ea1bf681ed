//! What a panic says, kept where the JS around the module finds it: the release build aborts
//! on a panic (the instance is then dead), so the message is written to
//! `globalThis.__ttsearchPanic` first and the package rejects the call with code `internal`
//! and this message, then starts a fresh instance.

use wasm_bindgen::prelude::*;

/// Installs the panic hook once, when the module starts.
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        let message = info.to_string();
        let _ = js_sys::Reflect::set(
            &js_sys::global(),
            &"__ttsearchPanic".into(),
            &message.into(),
        );
    }));
}

/// Panics on purpose (tests of the package's recovery from a dead instance).
#[wasm_bindgen(js_name = panicForTesting)]
pub fn panic_for_testing() {
    panic!("a deliberate panic, to test recovery");
}
