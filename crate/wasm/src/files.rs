//! A folder of model files that JS provides: `{ describe, open(name) }`, where `open` resolves
//! to `null` (no such file) or `{ size, read(offset, length) }` and `read` resolves to a
//! `Uint8Array`. The package's JS behind it downloads (with progress and Cache Storage), reads
//! Blobs and Files by ranges, or reads a path in Node; the loader reads tensor by tensor, so the
//! wasm heap never holds a whole file.

use crate::error::from_js_error;
use ttsearch::load::ModelFiles;
use ttsearch::model::ByteSource;
use ttsearch::{Error, Result};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    /// The JS folder object.
    pub type JsModelFiles;
    #[wasm_bindgen(method, getter)]
    pub fn describe(this: &JsModelFiles) -> String;
    #[wasm_bindgen(method, catch)]
    fn open(this: &JsModelFiles, name: &str) -> std::result::Result<js_sys::Promise, JsValue>;

    /// One JS file object.
    pub type JsFile;
    #[wasm_bindgen(method, getter)]
    fn size(this: &JsFile) -> f64;
    #[wasm_bindgen(method, catch)]
    fn read(
        this: &JsFile,
        offset: f64,
        length: f64,
    ) -> std::result::Result<js_sys::Promise, JsValue>;
}

/// [`ModelFiles`] over the JS folder object.
pub struct JsFiles(pub JsModelFiles);

/// A [`ByteSource`] over one JS file object.
pub struct JsSource {
    file: JsFile,
    len: u64,
    name: String,
}

async fn settle(promise: std::result::Result<js_sys::Promise, JsValue>) -> Result<JsValue> {
    let promise = promise.map_err(from_js_error)?;
    JsFuture::from(promise).await.map_err(from_js_error)
}

impl ModelFiles for JsFiles {
    type Source = JsSource;
    async fn open(&self, name: &str) -> Result<Option<JsSource>> {
        let value = settle(self.0.open(name)).await?;
        if value.is_null() || value.is_undefined() {
            return Ok(None);
        }
        let file: JsFile = value.unchecked_into();
        let size = file.size();
        if !(size.is_finite() && size >= 0.0) {
            return Err(Error::InvalidArgument(format!("{name}: size {size}")));
        }
        Ok(Some(JsSource {
            file,
            len: size as u64,
            name: name.to_string(),
        }))
    }
    fn describe(&self) -> String {
        self.0.describe()
    }
}

impl ByteSource for JsSource {
    fn len(&self) -> u64 {
        self.len
    }

    async fn read_at(&self, offset: u64, len: usize) -> Result<Vec<u8>> {
        if offset
            .checked_add(len as u64)
            .is_none_or(|end| end > self.len)
        {
            return Err(Error::Format {
                what: "model file",
                detail: format!(
                    "{}: read of {len} bytes at {offset} past the end ({} bytes): truncated file?",
                    self.name, self.len
                ),
            });
        }
        let value = settle(self.file.read(offset as f64, len as f64)).await?;
        let bytes = js_sys::Uint8Array::new(&value);
        if bytes.length() as usize != len {
            return Err(Error::Network(format!(
                "{}: asked for {len} bytes at {offset}, got {}",
                self.name,
                bytes.length()
            )));
        }
        Ok(bytes.to_vec())
    }
}
