//! How each PRM family lays out a question and its steps as tokens: a prefix, then per step a
//! chunk of tokens to append whose last token is the step's marker. Every format is
//! append-only, so a KV-cached PRM feeds each step once (search-and-learn re-scores the whole
//! prefix every iteration, a cost quadratic in depth). Every score is in [0, 1]; an empty step
//! is never scored.
//!
//! | PRM | input | marker | read-out |
//! | --- | --- | --- | --- |
//! | Skywork-o1-Open-PRM-Qwen-2.5 (1.5B, 7B) | BOS text + question + "\n", then each step (newlines inside it as spaces) and the "\n" token | the "\n" after each step | value head Linear(hidden, 1) on the last hidden state, sigmoid |
//! | Qwen2.5-Math-PRM (7B, 72B) | chat template: system "Please reason step by step, and put your final answer within \boxed{}.", user = question, assistant = the steps, each ended by "<extra_0>" (id 151651) | "<extra_0>" | Linear(h, h), ReLU, Linear(h, 2); softmax, class 1 |
//! | RLHFlow Llama3.1-8B-PRM | the PRM's chat template; user turn = question + " " + step 1, assistant "+", user step 2, assistant "+", ... | each assistant "+" | softmax over the "+" and "-" logits at the position that predicts "+"; P("+") |
//! | Math-Shepherd (Mistral 7B) | question + " " + the steps, each followed by " ки" | "ки" (id 12902) | softmax over the logits of "+" (648) and "-" (387) at each tag; P("+") |
//! | TRL PRMTrainer (`*ForTokenClassification`, e.g. HuggingFaceH4/Qwen2.5-Math-1.5B-Instruct-PRM-0.2) | BOS id (when the tokenizer has one) + question, then each step followed by the separator, every piece tokenized on its own without special tokens | the separator's last token after each step | score Linear(h, 2) on the last hidden state; softmax, label 1 |
//! | generative verifier (any chat model, the policy too) | the model's template; [`VERIFIER_INSTRUCTION`], the problem and "Step: " + step k per user turn, "Yes" per assistant turn | the position before each answer | P("Yes") against P("No") |
//!
//! A model without a chat template (a base GGUF) verifies in plain text of the same shape: the
//! instruction and the problem, then per step "Step: " + step + "\nCorrect:" and the answer
//! " Yes" before the next step, scored as P(" Yes") against P(" No").
//!
//! TRL's format, as `tokenize_row` of `trl.experimental.prm.PRMTrainer` builds training rows in
//! TRL 1.13.0 (the last release that has the trainer; 0.13.0, which trained HuggingFaceH4's
//! PRMs, builds them the same way):
//!
//! - the prompt (here the question, as given: no chat template, no system prompt) is tokenized
//!   alone with `add_special_tokens=False`; when the tokenizer defines a BOS token its id is put
//!   in front (Qwen2.5's tokenizers define none, Llama 3's do), and nothing else is added: no
//!   separator between the question and the first step, no EOS at the end;
//! - every step is tokenized alone, the same way, and the separator's tokens (`step_separator`
//!   tokenized alone) follow it, the last step included; pieces are never tokenized across
//!   their boundary, so the sequence is append-only as it stands;
//! - the step's label sits on the last token of step + separator (the separator's last token;
//!   the step's own last token for an empty separator). `train_on_last_step_only` keeps only
//!   the last step's label in training and changes no token, so scoring reads every step's
//!   position either way; truncation (`max_length`, `max_completion_length`) is a training
//!   limit and is not applied;
//! - the score is softmax over the two labels' logits, label 1 (TRL turns a `True` label into
//!   1): P(correct).
//!
//! The separator: the one `training_args.bin` (the trainer's arguments, which transformers'
//! Trainer saves beside the weights) records as `step_separator`, else "\n\n" (search-and-learn's
//! recipe; TRL's default is "\n"; a file the unpickler cannot read counts as absent); a
//! caller's option overrides both.

use crate::error::{Error, Result};
use crate::tokenize::{Message, QWEN_SYSTEM_PROMPT, RenderOptions, Tokenizer};

/// Math-Shepherd's step tag.
const SHEPHERD_TAG: &str = "\u{43a}\u{438}";

/// The generative verifier's instruction, before the problem in the first user turn.
pub const VERIFIER_INSTRUCTION: &str = "Check one step of a solution to a math problem. Answer Yes \
if the step is correct and No otherwise.\n\nProblem: ";

/// A PRM input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrmFormat {
    /// Skywork-o1-Open-PRM: BOS text + question + "\n", then each step (inner newlines as
    /// spaces) and the "\n" token, the marker. Value head.
    Skywork,
    /// Qwen2.5-Math-PRM: the chat template with the Qwen system prompt and the question, the
    /// assistant turn holding each step followed by "<extra_0>", the marker. Classifier head.
    QwenPrm,
    /// RLHFlow: the chat template; user turns hold the question + " " + step 1, then step k,
    /// assistant turns hold "+"; the marker is the token before each "+". LM-token read-out.
    Rlhflow,
    /// Math-Shepherd: question + " " + steps joined by "\n", each ending " ки" (the marker).
    /// LM-token read-out.
    MathShepherd,
    /// TRL's PRMTrainer: BOS id (when the tokenizer has one) + question, then each step's
    /// tokens followed by the separator's, the marker the separator's last token; every piece
    /// tokenized alone without special tokens. Token-classifier head (two labels).
    Trl,
    /// A generative verifier from any chat model (the policy itself included): the model's
    /// template; the first user turn holds [`VERIFIER_INSTRUCTION`], the problem and
    /// "\n\nStep: " + step 1, later ones "Step: " + step k; assistant turns answer "Yes"; the
    /// score is P("Yes") against P("No") before each answer.
    Generative,
}

/// Placeholders for the parts of a conversation the template wraps.
const SLOTS: [&str; 3] = [
    "\u{E000}0\u{E001}",
    "\u{E000}1\u{E001}",
    "\u{E000}2\u{E001}",
];

/// The plain-text turns of a verifier without a chat template: (before the first user content,
/// after a user content, after an answer).
fn plain_pieces(tokenizer: &Tokenizer) -> (String, String, String) {
    let bos = if tokenizer.add_bos {
        String::new()
    } else {
        tokenizer.bos_token.clone().unwrap_or_default()
    };
    (bos, "\nCorrect:".to_string(), "\n\n".to_string())
}

/// The verifier's turns: the template's, or plain text for a model without one.
fn verifier_pieces(tokenizer: &Tokenizer) -> Result<(String, String, String)> {
    match tokenizer.chat_template {
        Some(_) => turn_pieces(tokenizer),
        None => Ok(plain_pieces(tokenizer)),
    }
}

/// The template's text around message contents: (before the first user content, after a user
/// content up to the assistant's content, after an assistant content up to the next user's).
fn turn_pieces(tokenizer: &Tokenizer) -> Result<(String, String, String)> {
    let chat = tokenizer.chat()?;
    let messages = [
        Message::new("user", SLOTS[0]),
        Message::new("assistant", SLOTS[1]),
        Message::new("user", SLOTS[2]),
    ];
    let text = chat.render(
        &messages,
        &RenderOptions {
            add_generation_prompt: true,
            ..RenderOptions::default()
        },
    )?;
    let at = |slot: &str| {
        text.find(slot)
            .ok_or_else(|| Error::Template("the chat template drops a message's content".into()))
    };
    let (a, b, c) = (at(SLOTS[0])?, at(SLOTS[1])?, at(SLOTS[2])?);
    Ok((
        text[..a].to_string(),
        text[c + SLOTS[2].len()..].to_string(),
        text[b + SLOTS[1].len()..c].to_string(),
    ))
}

impl PrmFormat {
    /// The format for a PRM family name: skywork, qwen-prm, rlhflow, math-shepherd, trl,
    /// generative.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "skywork" => Ok(PrmFormat::Skywork),
            "qwen-prm" => Ok(PrmFormat::QwenPrm),
            "rlhflow" => Ok(PrmFormat::Rlhflow),
            "math-shepherd" => Ok(PrmFormat::MathShepherd),
            "trl" => Ok(PrmFormat::Trl),
            "generative" => Ok(PrmFormat::Generative),
            other => Err(Error::InvalidArgument(format!(
                "unknown PRM kind {other:?} (skywork, qwen-prm, rlhflow, math-shepherd, trl, \
                 generative)"
            ))),
        }
    }

    /// The family's name, as [`PrmFormat::parse`] reads it.
    pub fn name(self) -> &'static str {
        match self {
            PrmFormat::Skywork => "skywork",
            PrmFormat::QwenPrm => "qwen-prm",
            PrmFormat::Rlhflow => "rlhflow",
            PrmFormat::MathShepherd => "math-shepherd",
            PrmFormat::Trl => "trl",
            PrmFormat::Generative => "generative",
        }
    }

    /// The format a checkpoint's head implies: a value head is Skywork's, a classifier head
    /// Qwen2.5-Math-PRM's, a token classifier (a `*ForTokenClassification` config with two
    /// labels) TRL's. A plain causal LM can be read in several formats (RLHFlow,
    /// Math-Shepherd, generative), so it needs an explicit kind.
    pub fn detect(head: Option<&super::PrmHead>) -> Result<Self> {
        match head {
            Some(super::PrmHead::Value { .. }) => Ok(PrmFormat::Skywork),
            Some(super::PrmHead::Classifier { .. }) => Ok(PrmFormat::QwenPrm),
            Some(super::PrmHead::TokenClassifier { .. }) => Ok(PrmFormat::Trl),
            _ => Err(Error::InvalidArgument(
                "this checkpoint has no PRM head: give its kind (rlhflow, math-shepherd or \
                 generative)"
                    .into(),
            )),
        }
    }

    /// Tokens before the first step.
    pub fn prefix(self, tokenizer: &Tokenizer, question: &str) -> Result<Vec<u32>> {
        match self {
            PrmFormat::Skywork => {
                let bos = tokenizer.bos_token.clone().unwrap_or_default();
                tokenizer.encode(&format!("{bos}{question}\n"), false)
            }
            PrmFormat::QwenPrm => {
                let messages = [
                    Message::new("system", QWEN_SYSTEM_PROMPT),
                    Message::new("user", question),
                    Message::new("assistant", ""),
                ];
                let text = tokenizer
                    .chat()?
                    .render_continuation(&messages, &RenderOptions::default())?;
                tokenizer.encode_chat(&text)
            }
            PrmFormat::Rlhflow => tokenizer.encode_chat(&turn_pieces(tokenizer)?.0),
            PrmFormat::Generative => tokenizer.encode_chat(&verifier_pieces(tokenizer)?.0),
            PrmFormat::MathShepherd => tokenizer.encode(question, false),
            PrmFormat::Trl => {
                let mut ids: Vec<u32> = tokenizer.bos_token_id.into_iter().collect();
                ids.extend(tokenizer.encode(question, false)?);
                Ok(ids)
            }
        }
    }

    /// Tokens of step `index` (0-based), ending with its marker; `separator` is the text that
    /// follows every step in formats that take one (TRL's `step_separator`), unused by others.
    pub fn step(
        self,
        tokenizer: &Tokenizer,
        question: &str,
        step: &str,
        index: usize,
        separator: &str,
    ) -> Result<Vec<u32>> {
        let encode = |text: &str| tokenizer.encode(text, false);
        match self {
            PrmFormat::Trl => {
                let mut ids = encode(step)?;
                ids.extend(encode(separator)?);
                if ids.is_empty() {
                    return Err(Error::InvalidArgument(
                        "an empty step with an empty separator has no token to score".into(),
                    ));
                }
                Ok(ids)
            }
            PrmFormat::Skywork => {
                let newline = *encode("\n")?.last().ok_or_else(|| {
                    Error::Unsupported("the tokenizer cannot spell \"\\n\"".into())
                })?;
                let text = step.replace('\n', " ");
                let mut ids = if text.is_empty() {
                    Vec::new()
                } else {
                    encode(&text)?
                };
                ids.push(newline);
                Ok(ids)
            }
            PrmFormat::QwenPrm => encode(&format!("{step}<extra_0>")),
            PrmFormat::Rlhflow => {
                let (_, user_end, assistant_end) = turn_pieces(tokenizer)?;
                let text = if index == 0 {
                    format!("{question} {step}{user_end}")
                } else {
                    format!("+{assistant_end}{step}{user_end}")
                };
                encode(&text)
            }
            PrmFormat::Generative => {
                let (_, user_end, assistant_end) = verifier_pieces(tokenizer)?;
                let (yes, _) = self.answer_pair(tokenizer);
                let text = if index == 0 {
                    format!("{VERIFIER_INSTRUCTION}{question}\n\nStep: {step}{user_end}")
                } else {
                    format!("{yes}{assistant_end}Step: {step}{user_end}")
                };
                encode(&text)
            }
            PrmFormat::MathShepherd => {
                // The space after the question belongs to the first step's first token.
                let sep = if index == 0 { " " } else { "\n" };
                encode(&format!("{sep}{step} {SHEPHERD_TAG}"))
            }
        }
    }

    /// Whether the format reads LM logits (else a hidden-state head).
    pub fn lm_token(self) -> bool {
        matches!(
            self,
            PrmFormat::Rlhflow | PrmFormat::MathShepherd | PrmFormat::Generative
        )
    }

    /// The positive and negative answers an LM-token read-out compares (a verifier without a
    /// chat template answers after a space, in plain text).
    pub fn answer_pair(self, tokenizer: &Tokenizer) -> (&'static str, &'static str) {
        match self {
            PrmFormat::Generative if tokenizer.chat_template.is_none() => (" Yes", " No"),
            PrmFormat::Generative => ("Yes", "No"),
            _ => ("+", "-"),
        }
    }
}
