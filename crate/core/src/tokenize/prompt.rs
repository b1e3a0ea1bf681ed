//! The prompts of test-time search: the system prompts of the published recipes, and the
//! token-exact prompt for a problem, optionally continuing a partial solution.
//!
//! Llama 3.x policies get search-and-learn's system prompt ([`LLAMA_SYSTEM_PROMPT`], which cotts
//! reuses), every other policy Qwen2.5-Math's ([`QWEN_SYSTEM_PROMPT`]). A partial solution is
//! continued by rendering [system, user, assistant(partial)] with the model's own chat template
//! as a final assistant message left open (no end of turn), with the partial text exactly as
//! generated (never trimmed: a prefix ending in "\n\n" must stay so) and no second BOS.

use super::chat::{ChatTemplate, Message, RenderOptions};
use super::tokenizer::Tokenizer;
use crate::error::{Error, Result};
use crate::model::Architecture;

/// The system prompt search-and-learn gives Llama 3.x policies (and cotts reuses): the
/// `system_prompt` default of `Config` in search-and-learn's src/sal/config.py.
pub const LLAMA_SYSTEM_PROMPT: &str = "Solve the following math problem efficiently and clearly:\n\n\
- For simple problems (2 steps or fewer):\nProvide a concise solution with minimal explanation.\n\n\
- For complex problems (3 steps or more):\nUse this step-by-step format:\n\n\
## Step 1: [Concise description]\n[Brief explanation and calculations]\n\n\
## Step 2: [Concise description]\n[Brief explanation and calculations]\n\n...\n\n\
Regardless of the approach, always conclude with:\n\n\
Therefore, the final answer is: $\\boxed{answer}$. I hope it is correct.\n\n\
Where [answer] is just the final number or expression that solves the problem.";

/// The system prompt of Qwen2.5-Math and the other policies (Qwen2.5-Math's evaluation prompt).
pub const QWEN_SYSTEM_PROMPT: &str =
    "Please reason step by step, and put your final answer within \\boxed{}.";

/// The system prompt for a policy of `architecture`: Llama's for Llama models, Qwen's otherwise.
pub fn system_prompt_for(architecture: Architecture) -> &'static str {
    match architecture {
        Architecture::Llama => LLAMA_SYSTEM_PROMPT,
        _ => QWEN_SYSTEM_PROMPT,
    }
}

/// A rendered prompt and its token ids.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Prompt {
    /// The text the chat template produced.
    pub text: String,
    /// Its token ids (one BOS at most).
    pub ids: Vec<u32>,
}

impl Tokenizer {
    /// The model's chat template, compiled.
    pub fn chat(&self) -> Result<ChatTemplate> {
        let source = self
            .chat_template
            .as_deref()
            .ok_or_else(|| Error::Unsupported("the tokenizer has no chat template".into()))?;
        ChatTemplate::new(source, self.bos_token.clone(), self.eos_token.clone())
    }

    /// Token ids of a rendered chat text: BOS is added only where the tokenizer adds one and the
    /// template did not already write it.
    pub fn encode_chat(&self, text: &str) -> Result<Vec<u32>> {
        let has_bos = self
            .bos_token
            .as_deref()
            .is_some_and(|b| !b.is_empty() && text.starts_with(b));
        self.encode(text, self.add_bos && !has_bos)
    }

    /// The prompt for `problem` with `system` as the system message, ending with the assistant
    /// header; with `partial`, continuing that partial solution exactly as given (no trim).
    pub fn math_prompt(
        &self,
        system: &str,
        problem: &str,
        partial: Option<&str>,
        options: &RenderOptions,
    ) -> Result<Prompt> {
        let chat = self.chat()?;
        let mut messages = vec![
            Message::new("system", system),
            Message::new("user", problem),
        ];
        let text = match partial {
            Some(p) => {
                messages.push(Message::new("assistant", p));
                chat.render_continuation(&messages, options)?
            }
            None => chat.render(
                &messages,
                &RenderOptions {
                    add_generation_prompt: true,
                    ..options.clone()
                },
            )?,
        };
        let ids = self.encode_chat(&text)?;
        Ok(Prompt { text, ids })
    }
}
