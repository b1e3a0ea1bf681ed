//! Tokenizers and chat prompts in JS: a model's tokenizer from its tokenizer.json and
//! tokenizer_config.json bytes (or a GGUF file's vocabulary), token ids, text, and the exact
//! math prompt, continuing a partial solution when given.

use crate::error::{to_js, to_js_error};
use ttsearch::model::{ByteSource, GgufFile};
use ttsearch::tokenize::{Date, RenderOptions, system_prompt_for};
use wasm_bindgen::prelude::*;

/// A JS byte array read by ranges, each copied into the wasm heap only when asked for.
struct JsBytes(js_sys::Uint8Array);

impl ByteSource for JsBytes {
    fn len(&self) -> u64 {
        u64::from(self.0.length())
    }

    async fn read_at(&self, offset: u64, len: usize) -> ttsearch::Result<Vec<u8>> {
        let end = offset
            .checked_add(len as u64)
            .filter(|&end| end <= self.len());
        let (Some(end), Ok(start)) = (end, u32::try_from(offset)) else {
            return Err(ttsearch::Error::Format {
                what: "GGUF bytes",
                detail: format!(
                    "read of {len} bytes at {offset} past the end ({} bytes): truncated file?",
                    self.len()
                ),
            });
        };
        // `end` is at most the array's u32 length.
        Ok(self.0.subarray(start, end as u32).to_vec())
    }
}

/// A model's tokenizer.
#[wasm_bindgen]
pub struct Tokenizer {
    inner: ttsearch::tokenize::Tokenizer,
}

fn today() -> Date {
    let now = js_sys::Date::new_0();
    Date {
        year: i64::from(now.get_full_year()),
        month: now.get_month() + 1,
        day: now.get_date(),
    }
}

#[wasm_bindgen]
impl Tokenizer {
    /// From tokenizer.json bytes and, when available, tokenizer_config.json and
    /// generation_config.json bytes.
    #[wasm_bindgen(js_name = fromFiles)]
    pub fn from_files(
        tokenizer_json: &[u8],
        tokenizer_config: Option<Vec<u8>>,
        generation_config: Option<Vec<u8>>,
    ) -> Result<Tokenizer, JsValue> {
        ttsearch::tokenize::Tokenizer::from_hf(
            tokenizer_json,
            tokenizer_config.as_deref(),
            generation_config.as_deref(),
        )
        .map(|inner| Tokenizer { inner })
        .map_err(to_js_error)
    }

    /// From the bytes of a GGUF file (its metadata holds the vocabulary): a `Uint8Array` (or
    /// anything `new Uint8Array` takes), read a piece at a time where it lies, so that the file
    /// never enters the wasm heap whole.
    #[wasm_bindgen(js_name = fromGguf)]
    pub async fn from_gguf(bytes: JsValue) -> Result<Tokenizer, JsValue> {
        let bytes = match bytes.dyn_into::<js_sys::Uint8Array>() {
            Ok(array) => array,
            Err(other) => js_sys::Uint8Array::new(&other),
        };
        let mut file = GgufFile::read(&JsBytes(bytes)).await.map_err(to_js_error)?;
        ttsearch::tokenize::Tokenizer::take_from_gguf(&mut file)
            .map(|inner| Tokenizer { inner })
            .map_err(to_js_error)
    }

    /// Token ids of `text` (with the model's special tokens when asked).
    pub fn encode(&self, text: &str, add_special_tokens: bool) -> Result<Vec<u32>, JsValue> {
        self.inner
            .encode(text, add_special_tokens)
            .map_err(to_js_error)
    }

    /// Text of `ids`.
    pub fn decode(&self, ids: Vec<u32>, skip_special_tokens: bool) -> Result<String, JsValue> {
        self.inner
            .decode(&ids, skip_special_tokens)
            .map_err(to_js_error)
    }

    /// Token ids that end generation.
    #[wasm_bindgen(getter, js_name = eosTokenIds)]
    pub fn eos_token_ids(&self) -> Vec<u32> {
        self.inner.eos_token_ids.clone()
    }

    /// `{ text, ids }` of the prompt for `problem` (system message: `system`, or the recipe's
    /// for `architecture` "llama" / others), continuing `partial` exactly when given.
    #[wasm_bindgen(js_name = mathPrompt)]
    pub fn math_prompt(
        &self,
        problem: &str,
        partial: Option<String>,
        system: Option<String>,
        architecture: Option<String>,
    ) -> Result<JsValue, JsValue> {
        let system = system.unwrap_or_else(|| {
            let arch = match architecture.as_deref() {
                Some("llama") => ttsearch::model::Architecture::Llama,
                _ => ttsearch::model::Architecture::Qwen2,
            };
            system_prompt_for(arch).to_string()
        });
        let options = RenderOptions {
            date: Some(today()),
            ..RenderOptions::default()
        };
        let prompt = self
            .inner
            .math_prompt(&system, problem, partial.as_deref(), &options)
            .map_err(to_js_error)?;
        to_js(&prompt)
    }
}
