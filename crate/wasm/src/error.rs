//! Conversion of core errors into JS `Error` objects with a stable `code`.

use wasm_bindgen::JsValue;

/// Builds `Error { name: "TtsearchError", code, message }` from a core error.
pub fn to_js_error(error: ttsearch::Error) -> JsValue {
    let js = js_sys::Error::new(&error.to_string());
    js.set_name("TtsearchError");
    // Setting a property on a fresh Error object cannot fail; if it ever did, the message stays.
    let _ = js_sys::Reflect::set(&js, &"code".into(), &error.code().into());
    js.into()
}

/// Serializes a value into a plain JS object, or a TtsearchError if that fails.
pub(crate) fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, JsValue> {
    serde_wasm_bindgen::to_value(value)
        .map_err(|e| to_js_error(ttsearch::Error::InvalidArgument(e.to_string())))
}
