//! Token bytes and text: the [`TokenCodec`] trait the engine uses for stop strings and
//! streaming (implemented by [`super::Tokenizer`]), a byte-level codec, and UTF-8-safe
//! incremental text.

use crate::error::Result;

/// Maps tokens to their bytes and text back to tokens (no special tokens added).
pub trait TokenCodec {
    /// The bytes token `id` stands for (empty for special tokens).
    fn token_bytes(&self, id: u32) -> Result<Vec<u8>>;
    /// Tokens of `text`, as the model's tokenizer splits it (no BOS or other specials).
    fn encode(&self, text: &str) -> Result<Vec<u32>>;
}

/// Byte-level vocabulary: token i is byte i (ids 256 and above are special, with no bytes).
#[derive(Debug, Clone, Copy, Default)]
pub struct ByteCodec;

impl TokenCodec for ByteCodec {
    fn token_bytes(&self, id: u32) -> Result<Vec<u8>> {
        Ok(u8::try_from(id).map(|b| vec![b]).unwrap_or_default())
    }
    fn encode(&self, text: &str) -> Result<Vec<u32>> {
        Ok(text.bytes().map(u32::from).collect())
    }
}

/// Turns a growing byte string into text pieces that never split a UTF-8 character: each call
/// returns what became complete; invalid sequences come out as U+FFFD once they are certain.
#[derive(Debug, Clone, Default)]
pub struct Utf8Stream {
    pending: Vec<u8>,
}

impl Utf8Stream {
    /// Adds bytes; returns the text that is now complete.
    pub fn push(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let mut out = String::new();
        loop {
            match std::str::from_utf8(&self.pending) {
                Ok(s) => {
                    out.push_str(s);
                    self.pending.clear();
                    return out;
                }
                Err(e) => {
                    let valid = e.valid_up_to();
                    // SAFETY-free: the prefix was just validated.
                    out.push_str(&String::from_utf8_lossy(&self.pending[..valid]));
                    match e.error_len() {
                        // An incomplete character at the end: wait for more bytes.
                        None => {
                            self.pending.drain(..valid);
                            return out;
                        }
                        Some(bad) => {
                            out.push('\u{FFFD}');
                            self.pending.drain(..valid + bad);
                        }
                    }
                }
            }
        }
    }

    /// Whatever is left at the end (an incomplete character becomes U+FFFD).
    pub fn finish(&mut self) -> String {
        let rest = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        rest
    }
}

/// Token bytes of `ids` concatenated.
pub fn decode_bytes(codec: &dyn TokenCodec, ids: &[u32]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for &id in ids {
        out.extend(codec.token_bytes(id)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::Utf8Stream;

    #[test]
    fn multibyte_characters_split_across_tokens_come_out_whole() {
        let text = "x = ½ · π → ∞ 😀";
        let bytes = text.as_bytes();
        for chunk in 1..5 {
            let mut s = Utf8Stream::default();
            let mut out = String::new();
            for piece in bytes.chunks(chunk) {
                let got = s.push(piece);
                assert!(text.starts_with(&(out.clone() + &got)));
                out.push_str(&got);
            }
            out.push_str(&s.finish());
            assert_eq!(out, text);
        }
    }

    #[test]
    fn invalid_bytes_become_replacement_characters() {
        let mut s = Utf8Stream::default();
        assert_eq!(s.push(&[b'a', 0xFF, b'b']), "a\u{FFFD}b");
        assert_eq!(s.push(&[0xE2, 0x82]), "");
        assert_eq!(s.finish(), "\u{FFFD}");
    }
}
