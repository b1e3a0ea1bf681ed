//! Errors across the JS boundary: core errors become JS `Error`s named "TtsearchError" with a
//! stable `code`, and errors JS hands back (a failed download, an abort) become core errors with
//! the same code.

use wasm_bindgen::{JsCast, JsValue};

/// Builds `Error { name: "TtsearchError", code, message }` from a core error.
pub fn to_js_error(error: ttsearch::Error) -> JsValue {
    let js = js_sys::Error::new(&error.to_string());
    js.set_name("TtsearchError");
    // Setting a property on a fresh Error object cannot fail; if it ever did, the message stays.
    let _ = js_sys::Reflect::set(&js, &"code".into(), &error.code().into());
    js.into()
}

/// The core error for a JS error value: its `code` (when it has a known one) and its message.
pub fn from_js_error(value: JsValue) -> ttsearch::Error {
    use ttsearch::Error as E;
    let get = |key: &str| {
        js_sys::Reflect::get(&value, &key.into())
            .ok()
            .and_then(|v| v.as_string())
    };
    let message = value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| format!("{value:?}"));
    match get("code").as_deref() {
        Some("not_found") => E::NotFound(message),
        Some("unauthorized") => E::Unauthorized(message),
        Some("network") => E::Network(message),
        Some("cancelled") => E::Cancelled,
        Some("out_of_memory") => E::OutOfMemory(message),
        Some("invalid_argument") => E::InvalidArgument(message),
        Some("unsupported") => E::Unsupported(message),
        Some("device_lost") => E::DeviceLost(message),
        _ => match get("name").as_deref() {
            Some("AbortError") => E::Cancelled,
            Some("NotFoundError") => E::NotFound(message),
            _ => E::Io(message),
        },
    }
}

/// Serializes a value into a plain JS object, or a TtsearchError if that fails.
pub(crate) fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| to_js_error(ttsearch::Error::InvalidArgument(e.to_string())))
}

/// Deserializes a plain JS object (camelCase fields, unknown ones refused) into options,
/// through JSON so that every field of the object is seen.
pub(crate) fn from_js<T: serde::de::DeserializeOwned>(
    value: JsValue,
    what: &str,
) -> Result<T, ttsearch::Error> {
    let bad = |detail: String| ttsearch::Error::InvalidArgument(format!("{what}: {detail}"));
    if value.is_undefined() || value.is_null() {
        return serde_json::from_str("{}").map_err(|e| bad(e.to_string()));
    }
    let text = js_sys::JSON::stringify(&value)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| bad("not a plain object".to_string()))?;
    serde_json::from_str(&text).map_err(|e| bad(e.to_string()))
}
