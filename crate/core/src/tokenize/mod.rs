//! Tokenizers (HF tokenizer.json and GGUF vocabularies), token bytes, the special tokens and
//! chat templates that come with them, and the prompts ttsearch builds from them.

mod bytes;
mod chat;
mod codec;
mod gguf_vocab;
mod prompt;
mod tokenizer;

pub use bytes::{byte_to_char, char_to_byte, sentencepiece_bytes};
pub use chat::{ChatTemplate, Date, Message, RenderOptions};
pub use codec::{ByteCodec, TokenCodec, Utf8Stream, decode_bytes};
pub use prompt::{LLAMA_SYSTEM_PROMPT, Prompt, QWEN_SYSTEM_PROMPT, system_prompt_for};
pub use tokenizer::{Tokenizer, VocabKind};
