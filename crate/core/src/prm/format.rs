//! How each PRM family lays out a question and its steps as tokens (REFERENCE.md §4): a prefix
//! for the question, then per step the tokens to append, the last of which is the step marker.

use crate::error::{Error, Result};
use crate::tokenize::Tokenizer;

/// A PRM input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrmFormat {
    /// Skywork-o1-Open-PRM: BOS text + question + "\n", then each step (inner newlines as
    /// spaces) followed by the "\n" token, the marker.
    Skywork,
}

impl PrmFormat {
    /// Tokens before the first step.
    pub fn prefix(self, tokenizer: &Tokenizer, question: &str) -> Result<Vec<u32>> {
        match self {
            PrmFormat::Skywork => {
                let bos = tokenizer.bos_token.clone().unwrap_or_default();
                tokenizer.encode(&format!("{bos}{question}\n"), false)
            }
        }
    }

    /// Tokens of one step, ending with its marker.
    pub fn step(self, tokenizer: &Tokenizer, step: &str) -> Result<Vec<u32>> {
        match self {
            PrmFormat::Skywork => {
                let newline = *tokenizer.encode("\n", false)?.last().ok_or_else(|| {
                    Error::Unsupported("the tokenizer cannot spell \"\\n\"".into())
                })?;
                let text = step.replace('\n', " ");
                let mut ids = if text.is_empty() {
                    Vec::new()
                } else {
                    tokenizer.encode(&text, false)?
                };
                ids.push(newline);
                Ok(ids)
            }
        }
    }
}
