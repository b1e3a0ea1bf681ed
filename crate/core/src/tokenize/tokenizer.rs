//! A model's tokenizer: HF `tokenizer.json` run by the `tokenizers` crate, with the special
//! tokens, EOS set and chat template of `tokenizer_config.json` / `generation_config.json`, and
//! the raw bytes of every token for stop strings and UTF-8-safe streaming.

use super::bytes::{byte_level_bytes, char_to_byte, sentencepiece_bytes};
use super::codec::TokenCodec;
use crate::error::{Error, Result};
use serde_json::Value;

/// How vocabulary entries spell bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VocabKind {
    /// GPT-2 byte-level BPE (Qwen2.5, Llama 3, SmolLM2).
    ByteLevel,
    /// SentencePiece-style BPE with "\u{2581}" spaces and byte fallback (Gemma).
    SentencePiece,
}

/// A tokenizer with its special tokens and chat template.
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
    kind: VocabKind,
    /// The bytes of every token id back to back; none for special tokens.
    bytes: Vec<u8>,
    /// Where each id's bytes start in `bytes`, and after the last id where they end.
    offsets: Vec<usize>,
    special: Vec<bool>,
    /// BOS id, if the model has one.
    pub bos_token_id: Option<u32>,
    /// BOS text (for templates).
    pub bos_token: Option<String>,
    /// EOS text (for templates).
    pub eos_token: Option<String>,
    /// Every id that ends generation (tokenizer_config, generation_config, GGUF).
    pub eos_token_ids: Vec<u32>,
    /// Whether encoding with special tokens prepends BOS.
    pub add_bos: bool,
    /// The model's chat template (Jinja), if it has one.
    pub chat_template: Option<String>,
}

fn format_error(what: &'static str, e: impl std::fmt::Display) -> Error {
    Error::format(what, e.to_string())
}

/// A special token's text in tokenizer_config.json: a string or {"content": ...}.
fn token_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("content")?.as_str().map(String::from),
        _ => None,
    }
}

/// Ids in generation_config.json's eos_token_id: one id or a list.
fn ids(v: Option<&Value>) -> Vec<u32> {
    match v {
        Some(Value::Number(n)) => n.as_u64().map(|n| n as u32).into_iter().collect(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|n| n.as_u64())
            .map(|n| n as u32)
            .collect(),
        _ => Vec::new(),
    }
}

impl Tokenizer {
    /// From the bytes of tokenizer.json and, when present, tokenizer_config.json and
    /// generation_config.json.
    pub fn from_hf(
        tokenizer_json: &[u8],
        tokenizer_config: Option<&[u8]>,
        generation_config: Option<&[u8]>,
    ) -> Result<Self> {
        let json: Value = serde_json::from_slice(tokenizer_json)
            .map_err(|e| format_error("tokenizer.json", e))?;
        let kind = match json.pointer("/decoder/type").and_then(Value::as_str) {
            Some("ByteLevel") => VocabKind::ByteLevel,
            Some("Sequence") => {
                let decoders = json.pointer("/decoder/decoders").and_then(Value::as_array);
                let fallback = decoders.is_some_and(|d| {
                    d.iter()
                        .any(|x| x.get("type").and_then(Value::as_str) == Some("ByteFallback"))
                });
                if !fallback {
                    return Err(Error::Unsupported(
                        "tokenizer.json decoder without ByteLevel or ByteFallback".into(),
                    ));
                }
                VocabKind::SentencePiece
            }
            other => {
                return Err(Error::Unsupported(format!(
                    "tokenizer.json decoder {other:?} (ByteLevel and SentencePiece-style BPE are supported)"
                )));
            }
        };
        let inner = tokenizers::Tokenizer::from_bytes(tokenizer_json)
            .map_err(|e| format_error("tokenizer.json", e))?;
        let config: Value = match tokenizer_config {
            Some(bytes) => serde_json::from_slice(bytes)
                .map_err(|e| format_error("tokenizer_config.json", e))?,
            None => Value::Null,
        };
        let generation: Value = match generation_config {
            Some(bytes) => serde_json::from_slice(bytes)
                .map_err(|e| format_error("generation_config.json", e))?,
            None => Value::Null,
        };
        let bos_token = token_text(config.get("bos_token"));
        let eos_token = token_text(config.get("eos_token"));
        let bos_token_id = bos_token.as_deref().and_then(|t| inner.token_to_id(t));
        let mut eos_token_ids: Vec<u32> = eos_token
            .as_deref()
            .and_then(|t| inner.token_to_id(t))
            .into_iter()
            .collect();
        for id in ids(generation.get("eos_token_id")) {
            if !eos_token_ids.contains(&id) {
                eos_token_ids.push(id);
            }
        }
        // add_bos_token when given; else whether the post-processor inserts BOS.
        let add_bos = match config.get("add_bos_token").and_then(Value::as_bool) {
            Some(flag) => flag,
            None => bos_token_id.is_some_and(|bos| {
                inner
                    .encode("a", true)
                    .is_ok_and(|e| e.get_ids().first() == Some(&bos))
            }),
        };
        let chat_template = match config.get("chat_template") {
            Some(Value::String(t)) => Some(t.clone()),
            // A list of named templates: the default one.
            Some(Value::Array(list)) => list
                .iter()
                .find(|t| t.get("name").and_then(Value::as_str) == Some("default"))
                .and_then(|t| t.get("template")?.as_str().map(String::from)),
            _ => None,
        };
        Self::assemble(
            inner,
            kind,
            bos_token_id,
            bos_token,
            eos_token,
            eos_token_ids,
            add_bos,
            chat_template,
        )
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn assemble(
        inner: tokenizers::Tokenizer,
        kind: VocabKind,
        bos_token_id: Option<u32>,
        bos_token: Option<String>,
        eos_token: Option<String>,
        eos_token_ids: Vec<u32>,
        add_bos: bool,
        chat_template: Option<String>,
    ) -> Result<Self> {
        // The ids run to the model's last or the last added token's. (`get_vocab_size(true)`
        // would copy the whole vocabulary into a new map to count it: for Gemma 3's 262,144
        // tokens that copy was the peak of the build.)
        let added_tokens = inner.get_added_tokens_decoder();
        let size = added_tokens
            .keys()
            .map(|&id| id as usize + 1)
            .fold(inner.get_vocab_size(false), usize::max);
        let mut special = vec![false; size];
        let mut added = vec![false; size];
        for (id, token) in added_tokens {
            if let Some(slot) = special.get_mut(id as usize) {
                *slot = token.special;
                added[id as usize] = true;
            }
        }
        let decode_table = char_to_byte();
        let mut bytes = Vec::new();
        let mut offsets = Vec::with_capacity(size + 1);
        offsets.push(0);
        for id in 0..size as u32 {
            let i = id as usize;
            if let Some(token) = inner.id_to_token(id).filter(|_| !special[i]) {
                match kind {
                    // Added (non-special) tokens of a byte-level vocabulary are plain text.
                    VocabKind::ByteLevel if added[i] => bytes.extend_from_slice(token.as_bytes()),
                    VocabKind::ByteLevel => match byte_level_bytes(&token, &decode_table) {
                        Some(b) => bytes.extend_from_slice(&b),
                        None => bytes.extend_from_slice(token.as_bytes()),
                    },
                    VocabKind::SentencePiece => bytes.extend(sentencepiece_bytes(&token)),
                }
            }
            offsets.push(bytes.len());
        }
        bytes.shrink_to_fit();
        Ok(Self {
            inner,
            kind,
            bytes,
            offsets,
            special,
            bos_token_id,
            bos_token,
            eos_token,
            eos_token_ids,
            add_bos,
            chat_template,
        })
    }

    /// The bytes of token `id`, if it is in the vocabulary.
    fn token_slice(&self, id: u32) -> Option<&[u8]> {
        let i = id as usize;
        let (start, end) = (*self.offsets.get(i)?, *self.offsets.get(i + 1)?);
        self.bytes.get(start..end)
    }

    /// How the vocabulary spells bytes.
    pub fn kind(&self) -> VocabKind {
        self.kind
    }

    /// Ids of `text`; with `add_special_tokens`, the model's post-processing (BOS where it adds one).
    pub fn encode(&self, text: &str, add_special_tokens: bool) -> Result<Vec<u32>> {
        self.inner
            .encode(text, add_special_tokens)
            .map(|e| e.get_ids().to_vec())
            .map_err(|e| Error::InvalidArgument(format!("cannot tokenize: {e}")))
    }

    /// The vocabulary entry of each id.
    pub fn tokens(&self, ids: &[u32]) -> Vec<String> {
        ids.iter()
            .map(|&id| self.inner.id_to_token(id).unwrap_or_default())
            .collect()
    }

    /// Text of `ids` (invalid UTF-8 replaced); special tokens are skipped when asked.
    pub fn decode(&self, ids: &[u32], skip_special_tokens: bool) -> Result<String> {
        let mut out = Vec::new();
        for &id in ids {
            let i = id as usize;
            if i >= self.special.len() {
                return Err(Error::InvalidArgument(format!(
                    "token id {id} outside the vocabulary"
                )));
            }
            if self.special[i] {
                if !skip_special_tokens {
                    out.extend(self.inner.id_to_token(id).unwrap_or_default().into_bytes());
                }
            } else {
                out.extend_from_slice(self.token_slice(id).unwrap_or_default());
            }
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// The id of a vocabulary entry.
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// Vocabulary size including added tokens.
    pub fn vocab_size(&self) -> usize {
        self.special.len()
    }

    /// Whether `id` is a special token.
    pub fn is_special(&self, id: u32) -> bool {
        self.special.get(id as usize).copied().unwrap_or(false)
    }
}

impl TokenCodec for Tokenizer {
    fn token_bytes(&self, id: u32) -> Result<Vec<u8>> {
        self.token_slice(id)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| Error::InvalidArgument(format!("token id {id} outside the vocabulary")))
    }

    fn encode(&self, text: &str) -> Result<Vec<u32>> {
        Tokenizer::encode(self, text, false)
    }
}
