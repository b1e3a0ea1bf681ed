//! Which server a pool talks to, read from `GET /v1/models` (`owned_by`), and what that changes
//! in a request: how the prompt goes (token ids, or text for servers that take only text) and
//! how a sampler is turned off.
//!
//! | server | `owned_by` | prompt | top-k off | `n` | stop string kept | `stop_reason` | top logprobs |
//! | --- | --- | --- | --- | --- | --- | --- | --- |
//! | vLLM | "vllm" | token ids | -1 | yes (choice k seeded seed + k) | `include_stop_str_in_output` | yes | legacy |
//! | llama.cpp's llama-server | "llamacpp" | token ids | 0 | not relied on | no | no | chat-style |
//! | llama-cpp-python's server | "me" | text (its tokenizer adds BOS) | 0 | no (one choice) | no | no | legacy |
//!
//! Any other server is treated as vLLM is (OpenAI's completions API takes token ids). A server
//! that returns fewer choices than `n` asked gets the rest as requests of one, choice k seeded
//! seed + k.

use ttsearch::tokenize::{Prompt, Tokenizer};

/// The kind of an OpenAI-compatible server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerKind {
    /// vLLM's OpenAI-compatible server.
    Vllm,
    /// llama.cpp's own `llama-server`.
    LlamaServer,
    /// llama-cpp-python's `python -m llama_cpp.server`.
    LlamaCppPython,
    /// Any other server of the API.
    Other,
}

/// What a prompt is sent as.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(untagged)]
pub enum PromptInput {
    /// Token ids.
    Ids(Vec<u32>),
    /// Text the server tokenizes (special tokens parsed, BOS added by the server).
    Text(String),
}

impl ServerKind {
    /// The kind a `GET /v1/models` answer names.
    pub fn from_models(answer: &serde_json::Value) -> Self {
        let owner = answer["data"][0]["owned_by"].as_str().unwrap_or("");
        match owner {
            "vllm" => ServerKind::Vllm,
            "llamacpp" => ServerKind::LlamaServer,
            "me" => ServerKind::LlamaCppPython,
            _ => ServerKind::Other,
        }
    }

    /// Whether the server takes the prompt only as text.
    pub fn text_prompts(self) -> bool {
        self == ServerKind::LlamaCppPython
    }

    /// The `top_k` that turns top-k sampling off.
    pub fn top_k_off(self) -> i64 {
        match self {
            ServerKind::Vllm | ServerKind::Other => -1,
            ServerKind::LlamaServer | ServerKind::LlamaCppPython => 0,
        }
    }

    /// `prompt` as this server takes it: its ids, or its text without the leading BOS the
    /// server's tokenizer adds itself.
    pub fn input(self, prompt: &Prompt, tokenizer: &Tokenizer) -> PromptInput {
        if !self.text_prompts() {
            return PromptInput::Ids(prompt.ids.clone());
        }
        let text = match (&tokenizer.bos_token, tokenizer.add_bos) {
            (Some(bos), true) if !bos.is_empty() => prompt.text.strip_prefix(bos.as_str()),
            _ => None,
        };
        PromptInput::Text(text.unwrap_or(&prompt.text).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kinds_from_owners() {
        let of = |o: &str| ServerKind::from_models(&json!({"data": [{"id": "m", "owned_by": o}]}));
        assert_eq!(of("vllm"), ServerKind::Vllm);
        assert_eq!(of("llamacpp"), ServerKind::LlamaServer);
        assert_eq!(of("me"), ServerKind::LlamaCppPython);
        assert_eq!(of("openai"), ServerKind::Other);
        assert_eq!(
            serde_json::to_value(PromptInput::Ids(vec![1, 2])).ok(),
            Some(json!([1, 2]))
        );
        assert_eq!(
            serde_json::to_value(PromptInput::Text("a".into())).ok(),
            Some(json!("a"))
        );
    }
}
