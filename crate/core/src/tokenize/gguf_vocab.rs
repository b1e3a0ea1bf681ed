//! Tokenizers from GGUF metadata: byte-level BPE vocabularies with their merges and split regex
//! (`tokenizer.ggml.model` "gpt2": Qwen, Llama 3, SmolLM2), and Gemma's SentencePiece
//! vocabulary ("llama" model, no merges stored: they are recovered from the vocabulary order, as
//! transformers does), written out as a tokenizer.json for the `tokenizers` crate.

use super::tokenizer::{Tokenizer, VocabKind};
use crate::error::{Error, Result};
use crate::model::{GgufFile, GgufValue};
use serde_json::{Value, json};
use std::collections::HashMap;

/// llama.cpp's token types.
const CONTROL: i64 = 3;
const USER_DEFINED: i64 = 4;

const GPT2_SPLIT: &str =
    r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
const LLAMA3_SPLIT: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
const QWEN2_SPLIT: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

fn strings(file: &GgufFile, key: &str) -> Result<Vec<String>> {
    file.get(key)
        .and_then(GgufValue::as_array)
        .ok_or_else(|| Error::format("GGUF tokenizer", format!("missing {key}")))?
        .iter()
        .map(|v| {
            v.as_str()
                .map(String::from)
                .ok_or_else(|| Error::format("GGUF tokenizer", format!("{key} holds a non-string")))
        })
        .collect()
}

fn token_types(file: &GgufFile, n: usize) -> Vec<i64> {
    match file
        .get("tokenizer.ggml.token_type")
        .and_then(GgufValue::as_array)
    {
        Some(types) if types.len() == n => types
            .iter()
            .map(|v| match v {
                GgufValue::I64(i) => *i,
                GgufValue::U64(u) => *u as i64,
                _ => 1,
            })
            .collect(),
        _ => vec![1; n],
    }
}

fn id(file: &GgufFile, key: &str) -> Option<u32> {
    file.get(key).and_then(GgufValue::as_u64).map(|v| v as u32)
}

fn flag(file: &GgufFile, key: &str) -> Option<bool> {
    match file.get(key)? {
        GgufValue::Bool(b) => Some(*b),
        other => other.as_u64().map(|v| v != 0),
    }
}

fn added(id: usize, content: &str, special: bool) -> Value {
    json!({"id": id, "content": content, "single_word": false, "lstrip": false, "rstrip": false,
           "normalized": false, "special": special})
}

/// The vocabulary map of a tokenizer.json, and its added tokens: llama.cpp's control tokens as
/// special ones, its user-defined tokens as plain added ones.
fn vocab_and_added(
    tokens: &[String],
    types: &[i64],
) -> (serde_json::Map<String, Value>, Vec<Value>) {
    let vocab = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| (t.clone(), json!(i)))
        .collect();
    let added_tokens = tokens
        .iter()
        .zip(types)
        .enumerate()
        .filter(|(_, (_, ty))| **ty == CONTROL || **ty == USER_DEFINED)
        .map(|(i, (t, ty))| added(i, t, *ty == CONTROL))
        .collect();
    (vocab, added_tokens)
}

fn bos_processor(bos: Option<(&str, u32)>, fallback: Value) -> Value {
    match bos {
        Some((token, id)) => json!({
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": token, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": token, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": token, "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {token: {"id": token, "ids": [id], "tokens": [token]}}
        }),
        None => fallback,
    }
}

/// Merges implied by a vocabulary without stored merges: every split of a token into two
/// tokens, best first by the token's position in the file (earlier is better), then longer left
/// and right parts, then by the parts' ids (transformers' rule for Gemma GGUFs).
fn recover_merges(tokens: &[String]) -> Vec<(String, String)> {
    let mut vocab: HashMap<&str, usize> = HashMap::with_capacity(tokens.len());
    let mut first_seen = Vec::with_capacity(tokens.len());
    for (i, t) in tokens.iter().enumerate() {
        if vocab.insert(t.as_str(), i).is_none() {
            first_seen.push(t.as_str());
        }
    }
    // (position key, left chars, right chars, left id, right id, left, right)
    let mut merges = Vec::new();
    for token in first_seen {
        let position = vocab[token];
        let mut local = Vec::new();
        for (cut, _) in token.char_indices().skip(1) {
            let (l, r) = token.split_at(cut);
            if let (Some(&li), Some(&ri)) = (vocab.get(l), vocab.get(r)) {
                local.push((li, ri, l, r));
            }
        }
        local.sort_by_key(|(li, ri, _, _)| (*li, *ri));
        for (li, ri, l, r) in local {
            merges.push((position, l.chars().count(), r.chars().count(), li, ri, l, r));
        }
    }
    // Stable: equal keys keep the per-token order above.
    merges.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(b.2.cmp(&a.2)));
    merges
        .into_iter()
        .map(|m| (m.5.to_string(), m.6.to_string()))
        .collect()
}

impl Tokenizer {
    /// The tokenizer a GGUF file's metadata describes.
    pub fn from_gguf(file: &GgufFile) -> Result<Self> {
        let model = file
            .get("tokenizer.ggml.model")
            .and_then(GgufValue::as_str)
            .ok_or_else(|| Error::format("GGUF tokenizer", "missing tokenizer.ggml.model"))?
            .to_string();
        let arch = file
            .get("general.architecture")
            .and_then(GgufValue::as_str)
            .unwrap_or_default()
            .to_string();
        let tokens = strings(file, "tokenizer.ggml.tokens")?;
        let types = token_types(file, tokens.len());
        let bos_id = id(file, "tokenizer.ggml.bos_token_id");
        let eos_id = id(file, "tokenizer.ggml.eos_token_id");
        let bos_token = bos_id.and_then(|i| tokens.get(i as usize).cloned());
        let eos_token = eos_id.and_then(|i| tokens.get(i as usize).cloned());
        let (kind, add_bos_default, tokenizer_json) = match model.as_str() {
            "gpt2" => (
                VocabKind::ByteLevel,
                false,
                Self::byte_level_json(file, &tokens, &types)?,
            ),
            "llama" if arch.starts_with("gemma") => (
                VocabKind::SentencePiece,
                true,
                Self::gemma_json(&tokens, &types),
            ),
            other => {
                return Err(Error::Unsupported(format!(
                    "GGUF tokenizer model {other:?} for architecture {arch:?} \
                     (gpt2 vocabularies and Gemma's are supported)"
                )));
            }
        };
        let add_bos = flag(file, "tokenizer.ggml.add_bos_token").unwrap_or(add_bos_default);
        let mut tokenizer_json = tokenizer_json;
        let bos_pair = bos_token.as_deref().zip(bos_id);
        let fallback = tokenizer_json["post_processor"].take();
        tokenizer_json["post_processor"] = if add_bos {
            bos_processor(bos_pair, fallback)
        } else {
            fallback
        };
        let text = tokenizer_json.to_string();
        let inner = tokenizers::Tokenizer::from_bytes(text.as_bytes())
            .map_err(|e| Error::format("GGUF tokenizer", e.to_string()))?;
        let mut eos_token_ids: Vec<u32> = eos_id.into_iter().collect();
        if let Some(eot) = id(file, "tokenizer.ggml.eot_token_id") {
            if !eos_token_ids.contains(&eot) {
                eos_token_ids.push(eot);
            }
        }
        let chat_template = file
            .get("tokenizer.chat_template")
            .and_then(GgufValue::as_str)
            .map(String::from);
        Self::assemble(
            inner,
            kind,
            bos_id,
            bos_token,
            eos_token,
            eos_token_ids,
            add_bos,
            chat_template,
        )
    }

    fn byte_level_json(file: &GgufFile, tokens: &[String], types: &[i64]) -> Result<Value> {
        let pre = file
            .get("tokenizer.ggml.pre")
            .and_then(GgufValue::as_str)
            .unwrap_or("default");
        let split = match pre {
            "qwen2" | "deepseek-r1-qwen" => QWEN2_SPLIT,
            "llama3" | "llama-v3" | "llama-bpe" | "smaug-bpe" | "dbrx" => LLAMA3_SPLIT,
            "default" | "gpt2" | "gpt-2" | "smollm" => GPT2_SPLIT,
            other => {
                return Err(Error::Unsupported(format!(
                    "GGUF pre-tokenizer {other:?} (qwen2, llama-bpe and gpt2 splits are supported)"
                )));
            }
        };
        let merges = strings(file, "tokenizer.ggml.merges")?;
        let (vocab, added_tokens) = vocab_and_added(tokens, types);
        let byte_level = json!({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false,
                                "use_regex": false});
        Ok(json!({
            "version": "1.0",
            "added_tokens": added_tokens,
            "normalizer": null,
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": split}, "behavior": "Isolated", "invert": false},
                byte_level.clone()]},
            "post_processor": byte_level.clone(),
            "decoder": byte_level,
            "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
                      "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false,
                      "ignore_merges": split == LLAMA3_SPLIT, "vocab": vocab, "merges": merges}
        }))
    }

    fn gemma_json(tokens: &[String], types: &[i64]) -> Value {
        // Runs of spaces are stored as spaces; the vocabulary spells them with "\u{2581}".
        let tokens: Vec<String> = tokens
            .iter()
            .map(|t| {
                if !t.is_empty() && t.chars().all(|c| c == ' ') {
                    "\u{2581}".repeat(t.chars().count())
                } else {
                    t.clone()
                }
            })
            .collect();
        let merges: Vec<Value> = recover_merges(&tokens)
            .into_iter()
            .map(|(l, r)| json!([l, r]))
            .collect();
        let (vocab, added_tokens) = vocab_and_added(&tokens, types);
        json!({
            "version": "1.0",
            "added_tokens": added_tokens,
            "normalizer": {"type": "Replace", "pattern": {"String": " "}, "content": "\u{2581}"},
            "pre_tokenizer": {"type": "Split", "pattern": {"String": " "}, "behavior": "MergedWithPrevious",
                              "invert": false},
            "post_processor": null,
            "decoder": {"type": "Sequence", "decoders": [
                {"type": "Replace", "pattern": {"String": "\u{2581}"}, "content": " "},
                {"type": "ByteFallback"}, {"type": "Fuse"}]},
            "model": {"type": "BPE", "dropout": null, "unk_token": "<unk>", "continuing_subword_prefix": null,
                      "end_of_word_suffix": null, "fuse_unk": true, "byte_fallback": true, "ignore_merges": false,
                      "vocab": vocab, "merges": merges}
        })
    }
}

#[cfg(test)]
mod tests {
    use super::recover_merges;

    #[test]
    fn merges_follow_file_order_then_longer_parts() {
        let tokens: Vec<String> = ["a", "b", "c", "ab", "abc", "bc"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let merges = recover_merges(&tokens);
        assert_eq!(
            merges,
            vec![
                ("a".to_string(), "b".to_string()),
                ("ab".to_string(), "c".to_string()),
                ("a".to_string(), "bc".to_string()),
                ("b".to_string(), "c".to_string()),
            ]
        );
    }
}
