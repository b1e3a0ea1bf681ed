//! The bytes behind vocabulary entries: GPT-2's byte-to-character alphabet of byte-level BPE
//! vocabularies (Qwen, Llama 3), and SentencePiece pieces ("\u{2581}" for a space, "<0xNN>" byte
//! tokens) of Gemma's vocabulary.

/// GPT-2's map from a byte to the character that spells it in a byte-level vocabulary.
pub fn byte_to_char() -> [char; 256] {
    let mut table = ['\0'; 256];
    let mut extra = 0u32;
    for (b, slot) in table.iter_mut().enumerate() {
        let printable =
            (0x21..=0x7e).contains(&b) || (0xa1..=0xac).contains(&b) || (0xae..=0xff).contains(&b);
        let code = if printable {
            b as u32
        } else {
            extra += 1;
            255 + extra
        };
        *slot = char::from_u32(code).unwrap_or('\u{fffd}');
    }
    table
}

/// The bytes a byte-level vocabulary entry spells, or `None` when it uses characters outside
/// the byte alphabet (then it is an added token written as plain text).
pub fn byte_level_bytes(
    token: &str,
    char_to_byte: &std::collections::HashMap<char, u8>,
) -> Option<Vec<u8>> {
    token
        .chars()
        .map(|c| char_to_byte.get(&c).copied())
        .collect()
}

/// The inverse of [`byte_to_char`].
pub fn char_to_byte() -> std::collections::HashMap<char, u8> {
    byte_to_char()
        .iter()
        .enumerate()
        .map(|(b, c)| (*c, b as u8))
        .collect()
}

/// The bytes of a SentencePiece piece: "<0xNN>" is byte NN, "\u{2581}" is a space.
pub fn sentencepiece_bytes(piece: &str) -> Vec<u8> {
    if let Some(hex) = piece.strip_prefix("<0x").and_then(|r| r.strip_suffix('>')) {
        if hex.len() == 2 {
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                return vec![b];
            }
        }
    }
    piece.replace('\u{2581}', " ").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpt2_alphabet() {
        let t = byte_to_char();
        assert_eq!(t[b'a' as usize], 'a');
        assert_eq!(t[b' ' as usize], '\u{120}'); // "Ġ"
        assert_eq!(t[b'\n' as usize], '\u{10a}'); // "Ċ"
        let back = char_to_byte();
        assert_eq!(back.len(), 256);
        assert_eq!(byte_level_bytes("\u{120}hi", &back), Some(b" hi".to_vec()));
        assert_eq!(
            byte_level_bytes("<|im_end|>", &back),
            Some(b"<|im_end|>".to_vec())
        );
        assert_eq!(byte_level_bytes("\u{2581}", &back), None);
    }

    #[test]
    fn sentencepiece_pieces() {
        assert_eq!(sentencepiece_bytes("<0x0A>"), b"\n");
        assert_eq!(sentencepiece_bytes("\u{2581}the"), b" the");
        assert_eq!(sentencepiece_bytes("<bos>"), b"<bos>");
    }
}
