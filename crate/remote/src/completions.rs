//! The OpenAI-compatible completions API (`POST /v1/completions`) as vLLM and llama.cpp's
//! servers serve it: the request ttsearch sends (token-id prompts, plain temperature / top-p
//! sampling with every other sampler turned off) and the parts of the answer it reads.
//!
//! - The prompt goes as token ids, rendered locally, so the server adds no second BOS and
//!   tokenizes nothing: prompts are exactly ttsearch's.
//! - Sampling: `temperature` (0 is greedy), `top_p`, `seed`; `top_k: -1`, `min_p: 0`,
//!   `repeat_penalty: 1` and `repetition_penalty: 1` turn off the samplers servers enable by
//!   default (llama-cpp-python's top-k 40, min-p 0.05 and repeat penalty 1.1).
//! - Stop strings: `include_stop_str_in_output: true` asks vLLM to keep the stop string in the
//!   text; vLLM's `stop_reason` says which stop string (a string), stop token (a number) or EOS
//!   (null) ended a choice. A server that gives neither the stop string nor a `stop_reason`
//!   (llama.cpp's servers) says "stop" for both; its choice is read by the token count: one
//!   that stopped on EOS has as many completion tokens as its text has, one cut at the stop
//!   string has more (the tokens that spelled it). Where the count cannot tell (the stop
//!   string merges into the text's last token, or the count is unknown) the choice is read as
//!   a step: if it was EOS, the next call generates nothing and the path ends there, one
//!   request later and with the separator after its text.

use crate::server_kind::PromptInput;
use serde_json::{Value, json};
use ttsearch::search::StepEnd;
use ttsearch::{Error, Result};

/// One completions request.
#[derive(Debug, Clone, PartialEq)]
pub struct CompletionRequest<'a> {
    /// The model's name on the server.
    pub model: &'a str,
    /// The prompt.
    pub prompt: &'a PromptInput,
    /// Choices to sample from it.
    pub n: usize,
    /// New tokens at most.
    pub max_tokens: usize,
    /// 0: greedy.
    pub temperature: f32,
    /// Nucleus mass (1: off).
    pub top_p: f32,
    /// The random seed.
    pub seed: u64,
    /// Stop strings (kept in the text where the server can).
    pub stop: &'a [String],
    /// Top logprobs per generated token (None: none).
    pub logprobs: Option<usize>,
    /// The `top_k` that turns top-k off on this server.
    pub top_k_off: i64,
}

impl CompletionRequest<'_> {
    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut body = json!({
            "model": self.model,
            "prompt": self.prompt,
            "n": self.n,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            // llama.cpp takes a 32-bit seed.
            "seed": self.seed & 0x7fff_ffff,
            "top_k": self.top_k_off,
            "min_p": 0.0,
            "repeat_penalty": 1.0,
            "repetition_penalty": 1.0,
            "frequency_penalty": 0.0,
            "presence_penalty": 0.0,
            "stream": false,
        });
        if !self.stop.is_empty() {
            body["stop"] = json!(self.stop);
            body["include_stop_str_in_output"] = json!(true);
        }
        if let Some(k) = self.logprobs {
            body["logprobs"] = json!(k);
        }
        body
    }
}

/// One choice of an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// Its index among the request's choices.
    pub index: usize,
    /// The text.
    pub text: String,
    /// "stop", "length", or what else the server says.
    pub finish_reason: String,
    /// vLLM's `stop_reason`: `Some(Some(s))` a stop string, `Some(None)` EOS or a stop token,
    /// `None` when the server does not give the field.
    pub stop_reason: Option<Option<String>>,
    /// The `logprobs` object, when asked for.
    pub logprobs: Value,
}

/// The choices of an answer, in index order.
pub fn choices(answer: &Value) -> Result<Vec<Choice>> {
    let bad = |detail: &str| Error::Network(format!("a completions answer {detail}"));
    let list = answer["choices"]
        .as_array()
        .ok_or_else(|| bad("has no choices"))?;
    let mut out = Vec::with_capacity(list.len());
    for (i, c) in list.iter().enumerate() {
        let text = c["text"]
            .as_str()
            .ok_or_else(|| bad("has a choice without text"))?;
        let stop_reason = c.get("stop_reason").map(|r| r.as_str().map(str::to_string));
        out.push(Choice {
            index: c["index"].as_u64().map_or(i, |v| v as usize),
            text: text.to_string(),
            finish_reason: c["finish_reason"].as_str().unwrap_or("stop").to_string(),
            stop_reason,
            logprobs: c["logprobs"].clone(),
        });
    }
    out.sort_by_key(|c| c.index);
    Ok(out)
}

/// How a choice of a request with stop string `stop` ended, and its text with the stop string
/// kept. `count` tokenizes a text (for servers that do not say, see the module's docs) and
/// `completion_tokens` is the choice's token count when known.
pub fn ending(
    choice: &Choice,
    stop: Option<&str>,
    completion_tokens: Option<u64>,
    count: &dyn Fn(&str) -> Result<usize>,
) -> Result<(String, StepEnd)> {
    let text = choice.text.clone();
    if choice.finish_reason == "length" {
        return Ok((text, StepEnd::Length));
    }
    let Some(stop) = stop else {
        return Ok((text, StepEnd::Eos));
    };
    if text.ends_with(stop) {
        return Ok((text, StepEnd::Step));
    }
    match &choice.stop_reason {
        Some(Some(s)) if s == stop => Ok((text + stop, StepEnd::Step)),
        Some(_) => Ok((text, StepEnd::Eos)),
        None => {
            let Some(n) = completion_tokens else {
                return Ok((text + stop, StepEnd::Step));
            };
            let own = count(&text)?;
            let merges = count(&format!("{text}{stop}"))? == own;
            if n as usize > own || merges {
                Ok((text + stop, StepEnd::Step))
            } else {
                Ok((text, StepEnd::Eos))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choice(text: &str, finish: &str, stop_reason: Option<Option<&str>>) -> Choice {
        Choice {
            index: 0,
            text: text.into(),
            finish_reason: finish.into(),
            stop_reason: stop_reason.map(|r| r.map(str::to_string)),
            logprobs: Value::Null,
        }
    }

    /// Characters as tokens, "\n\n" as one token.
    fn chars(t: &str) -> Result<usize> {
        Ok(t.replace("\n\n", "\n").chars().count())
    }

    #[test]
    fn endings_from_each_server_kind() {
        let stop = Some("\n\n");
        // vLLM with include_stop_str_in_output.
        let c = choice("a\n\n", "stop", Some(Some("\n\n")));
        assert_eq!(
            ending(&c, stop, None, &chars).ok(),
            Some(("a\n\n".into(), StepEnd::Step))
        );
        // vLLM without it: the stop reason says.
        let c = choice("a", "stop", Some(Some("\n\n")));
        assert_eq!(
            ending(&c, stop, None, &chars).ok(),
            Some(("a\n\n".into(), StepEnd::Step))
        );
        let c = choice("a", "stop", Some(None));
        assert_eq!(
            ending(&c, stop, None, &chars).ok(),
            Some(("a".into(), StepEnd::Eos))
        );
        // A server that says nothing: the token count decides.
        let c = choice("abc", "stop", None);
        assert_eq!(
            ending(&c, stop, Some(4), &chars).ok(),
            Some(("abc\n\n".into(), StepEnd::Step))
        );
        assert_eq!(
            ending(&c, stop, Some(3), &chars).ok(),
            Some(("abc".into(), StepEnd::Eos))
        );
        assert_eq!(
            ending(&c, stop, None, &chars).ok(),
            Some(("abc\n\n".into(), StepEnd::Step))
        );
        // A stop string that merges into the last token cannot be told from EOS: a step.
        let merged = |t: &str| Ok(t.trim_end_matches('\n').chars().count());
        assert_eq!(
            ending(&c, stop, Some(3), &merged).ok(),
            Some(("abc\n\n".into(), StepEnd::Step))
        );
        let c = choice("abc", "length", None);
        assert_eq!(
            ending(&c, stop, Some(3), &chars).ok(),
            Some(("abc".into(), StepEnd::Length))
        );
        assert_eq!(
            ending(&c, None, None, &chars).ok(),
            Some(("abc".into(), StepEnd::Length))
        );
    }

    #[test]
    fn bodies_turn_other_samplers_off() {
        let stop = vec!["\n\n".to_string()];
        let prompt = PromptInput::Ids(vec![1, 2]);
        let r = CompletionRequest {
            model: "m",
            prompt: &prompt,
            n: 2,
            max_tokens: 5,
            temperature: 0.8,
            top_p: 1.0,
            seed: u64::MAX,
            stop: &stop,
            logprobs: None,
            top_k_off: -1,
        };
        let b = r.body();
        assert_eq!(b["prompt"], json!([1, 2]));
        assert_eq!(b["top_k"], -1);
        assert_eq!(b["seed"], 0x7fff_ffff);
        assert_eq!(b["include_stop_str_in_output"], true);
        assert!(b.get("logprobs").is_none());
    }
}
