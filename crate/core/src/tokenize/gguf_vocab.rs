//! Tokenizers from GGUF metadata: byte-level BPE vocabularies with their merges and split regex
//! (`tokenizer.ggml.model` "gpt2": Qwen, Llama 3, SmolLM2), and Gemma's SentencePiece
//! vocabulary ("llama" model, no merges stored: they are recovered from the vocabulary order, as
//! transformers does). The `tokenizers` model and its pipeline are built straight from the
//! file's strings, with no tokenizer.json in between: beyond the file's own strings, a 262k-token
//! vocabulary lives only in the model's maps, and its merges exist as strings only while the model
//! is built.

use super::tokenizer::{Tokenizer, VocabKind};
use crate::error::{Error, Result};
use crate::model::{GgufFile, GgufValue};
use tokenizers::decoders::byte_fallback::ByteFallback;
use tokenizers::decoders::fuse::Fuse;
use tokenizers::decoders::sequence::Sequence as DecoderSequence;
use tokenizers::models::bpe::{BPE, Merges, Vocab};
use tokenizers::normalizers::replace::Replace;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::sequence::Sequence as PreTokenizerSequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::processors::template::{
    Piece, Sequence, SpecialToken, Template, TemplateProcessing,
};
use tokenizers::{
    AddedToken, DecoderWrapper, NormalizerWrapper, PostProcessorWrapper, PreTokenizerWrapper,
    SplitDelimiterBehavior,
};

/// llama.cpp's token types.
const CONTROL: i64 = 3;
const USER_DEFINED: i64 = 4;

const GPT2_SPLIT: &str =
    r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
const LLAMA3_SPLIT: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
const QWEN2_SPLIT: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// SentencePiece's spelling of a space.
const SPACE: &str = "\u{2581}";

fn malformed(detail: impl Into<String>) -> Error {
    Error::format("GGUF tokenizer", detail)
}

/// The entries of a metadata array of strings, borrowed from the file.
fn string_entries<'a>(
    file: &'a GgufFile,
    key: &'a str,
) -> Result<impl Iterator<Item = Result<&'a str>> + 'a> {
    let values = file
        .get(key)
        .and_then(GgufValue::as_array)
        .ok_or_else(|| malformed(format!("missing {key}")))?;
    Ok(values.iter().map(move |v| {
        v.as_str()
            .ok_or_else(|| malformed(format!("{key} holds a non-string")))
    }))
}

/// A metadata array of strings, borrowed from the file.
fn strings<'a>(file: &'a GgufFile, key: &'a str) -> Result<Vec<&'a str>> {
    string_entries(file, key)?.collect()
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

/// Token text to id; a repeated entry keeps its last id.
fn vocab<S: AsRef<str>>(tokens: &[S]) -> Result<Vocab> {
    if u32::try_from(tokens.len()).is_err() {
        return Err(malformed(format!(
            "{} tokens do not fit 32-bit ids",
            tokens.len()
        )));
    }
    let mut vocab = Vocab::with_capacity(tokens.len());
    for (id, token) in (0u32..).zip(tokens) {
        vocab.insert(token.as_ref().to_owned(), id);
    }
    Ok(vocab)
}

/// The added tokens: llama.cpp's control tokens as special ones, its user-defined tokens as plain
/// ones, none of them normalized.
fn added_tokens<S: AsRef<str>>(tokens: &[S], types: &[i64]) -> Vec<AddedToken> {
    tokens
        .iter()
        .zip(types)
        .filter(|(_, ty)| **ty == CONTROL || **ty == USER_DEFINED)
        .map(|(token, ty)| AddedToken::from(token.as_ref(), *ty == CONTROL).normalized(false))
        .collect()
}

/// A piece of a post-processing template, whatever the text of its special token (the crate's
/// own conversion parses "id:type_id" strings).
struct TemplatePiece(Piece);

impl TryFrom<TemplatePiece> for Piece {
    type Error = String;

    fn try_from(piece: TemplatePiece) -> std::result::Result<Self, String> {
        Ok(piece.0)
    }
}

fn template(pieces: Vec<Piece>) -> Result<Template> {
    Template::try_from(pieces.into_iter().map(TemplatePiece).collect::<Vec<_>>()).map_err(malformed)
}

/// The post-processor that prepends BOS (`token`, `id`) to each sequence.
fn bos_processor(token: &str, id: u32) -> Result<PostProcessorWrapper> {
    let bos = |type_id| Piece::SpecialToken {
        id: token.to_owned(),
        type_id,
    };
    let sequence = |id, type_id| Piece::Sequence { id, type_id };
    let processor = TemplateProcessing::builder()
        .single(template(vec![bos(0), sequence(Sequence::A, 0)])?)
        .pair(template(vec![
            bos(0),
            sequence(Sequence::A, 0),
            bos(1),
            sequence(Sequence::B, 1),
        ])?)
        .special_tokens(vec![SpecialToken::from((token, id))])
        .build()
        .map_err(|e| malformed(e.to_string()))?;
    Ok(PostProcessorWrapper::Template(processor))
}

/// Every split of a token into two tokens of the vocabulary, best first: by the token's position
/// in the file (earlier is better; a repeated token counts at its last position), then longer left
/// part. This is transformers' order for Gemma GGUFs (position, longer left part, longer right
/// part, the parts' ids); only the first two keys ever decide, as one token and one left length
/// give one split, so the splits come out in order with no sort.
fn splits<'a, S: AsRef<str>>(
    tokens: &'a [S],
    vocab: &'a Vocab,
) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
    (0u32..)
        .zip(tokens)
        .map(|(id, token)| (id, token.as_ref()))
        .filter(move |(id, token)| vocab.get(*token) == Some(id))
        .flat_map(move |(_, token)| {
            token
                .char_indices()
                .rev()
                .map(|(cut, _)| cut)
                .filter(|&cut| cut > 0)
                .map(move |cut| token.split_at(cut))
                .filter(move |(left, right)| {
                    vocab.contains_key(*left) && vocab.contains_key(*right)
                })
        })
}

/// The merges implied by a vocabulary without stored merges (see [`splits`]), allocated once at
/// their exact count.
fn recover_merges<S: AsRef<str>>(tokens: &[S], vocab: &Vocab) -> Merges {
    let mut merges = Vec::with_capacity(splits(tokens, vocab).count());
    merges.extend(splits(tokens, vocab).map(|(l, r)| (l.to_owned(), r.to_owned())));
    merges
}

/// The merges a byte-level GGUF stores, "left right" each.
fn stored_merges(file: &GgufFile) -> Result<Merges> {
    let key = "tokenizer.ggml.merges";
    let lines = string_entries(file, key)?;
    let mut merges = Vec::with_capacity(lines.size_hint().0);
    for line in lines {
        let line = line?;
        if line.starts_with("#version") {
            continue;
        }
        match line.split_once(' ') {
            Some((left, right)) if !right.contains(' ') => {
                merges.push((left.to_owned(), right.to_owned()))
            }
            _ => {
                return Err(malformed(format!(
                    "{key} entry {line:?} is not two tokens separated by a space"
                )));
            }
        }
    }
    Ok(merges)
}

/// How the two supported vocabularies differ in their pipelines.
struct Pipeline {
    kind: VocabKind,
    add_bos_default: bool,
    normalizer: Option<NormalizerWrapper>,
    pre_tokenizer: PreTokenizerWrapper,
    /// The post-processor when no BOS is added.
    post_processor: Option<PostProcessorWrapper>,
    decoder: DecoderWrapper,
}

impl Pipeline {
    /// GPT-2 byte-level BPE: split regex, then bytes as characters.
    fn byte_level(split: &str) -> Result<Self> {
        let byte_level = ByteLevel::new(false, false, false);
        let split = Split::new(
            SplitPattern::Regex(split.to_owned()),
            SplitDelimiterBehavior::Isolated,
            false,
        )
        .map_err(|e| malformed(e.to_string()))?;
        Ok(Self {
            kind: VocabKind::ByteLevel,
            add_bos_default: false,
            normalizer: None,
            pre_tokenizer: PreTokenizerWrapper::Sequence(PreTokenizerSequence::new(vec![
                PreTokenizerWrapper::Split(split),
                PreTokenizerWrapper::ByteLevel(byte_level),
            ])),
            post_processor: Some(PostProcessorWrapper::ByteLevel(byte_level)),
            decoder: DecoderWrapper::ByteLevel(byte_level),
        })
    }

    /// Gemma's SentencePiece-style BPE: spaces spelled "\u{2581}", words ending at spaces, byte
    /// fallback.
    fn sentencepiece() -> Result<Self> {
        let fail = |e: Box<dyn std::error::Error + Send + Sync>| malformed(e.to_string());
        Ok(Self {
            kind: VocabKind::SentencePiece,
            add_bos_default: true,
            normalizer: Some(NormalizerWrapper::Replace(
                Replace::new(" ", SPACE).map_err(fail)?,
            )),
            pre_tokenizer: PreTokenizerWrapper::Split(
                Split::new(
                    SplitPattern::String(" ".to_owned()),
                    SplitDelimiterBehavior::MergedWithPrevious,
                    false,
                )
                .map_err(fail)?,
            ),
            post_processor: None,
            decoder: DecoderWrapper::Sequence(DecoderSequence::new(vec![
                DecoderWrapper::Replace(Replace::new(SPACE, " ").map_err(fail)?),
                DecoderWrapper::ByteFallback(ByteFallback::new()),
                DecoderWrapper::Fuse(Fuse::new()),
            ])),
        })
    }
}

fn byte_level_split(file: &GgufFile) -> Result<&'static str> {
    let pre = file
        .get("tokenizer.ggml.pre")
        .and_then(GgufValue::as_str)
        .unwrap_or("default");
    match pre {
        "qwen2" | "deepseek-r1-qwen" => Ok(QWEN2_SPLIT),
        "llama3" | "llama-v3" | "llama-bpe" | "smaug-bpe" | "dbrx" => Ok(LLAMA3_SPLIT),
        "default" | "gpt2" | "gpt-2" | "smollm" => Ok(GPT2_SPLIT),
        other => Err(Error::Unsupported(format!(
            "GGUF pre-tokenizer {other:?} (qwen2, llama-bpe and gpt2 splits are supported)"
        ))),
    }
}

/// The length of an entry made only of spaces.
fn space_run(token: &str) -> Option<usize> {
    (!token.is_empty() && token.bytes().all(|b| b == b' ')).then_some(token.len())
}

/// Gemma's vocabulary as the model spells it: runs of spaces are stored as spaces, the
/// vocabulary spells them with "\u{2581}"; each becomes a slice of `spaces`, a run at least as
/// long as the longest.
fn respell_spaces<'a>(tokens: &mut [&'a str], spaces: &'a str) {
    for token in tokens.iter_mut() {
        if let Some(run) = space_run(token).and_then(|n| spaces.get(..n * SPACE.len())) {
            *token = run;
        }
    }
}

/// The BPE model with its pipeline (`post_processor` in place of the pipeline's own) and added
/// tokens.
fn build(
    model: BPE,
    pipeline: Pipeline,
    post_processor: Option<PostProcessorWrapper>,
    added: &[AddedToken],
) -> tokenizers::Tokenizer {
    let mut inner = tokenizers::Tokenizer::new(model);
    inner
        .with_normalizer(pipeline.normalizer)
        .with_pre_tokenizer(Some(pipeline.pre_tokenizer))
        .with_post_processor(post_processor)
        .with_decoder(Some(pipeline.decoder));
    inner.add_tokens(added);
    inner
}

impl Tokenizer {
    /// The tokenizer a GGUF file's metadata describes.
    pub fn from_gguf(file: &GgufFile) -> Result<Self> {
        let prepared = Prepared::read(file)?;
        prepared.finish(file)
    }

    /// [`Tokenizer::from_gguf`], taking the vocabulary arrays ([`VOCABULARY_KEYS`]) out of the
    /// file's metadata once they are copied and before the model is built, so that the peak
    /// holds one copy of a large vocabulary instead of two (Gemma 3's 262,144 tokens: about 10
    /// MB less in wasm). The rest of the metadata stays.
    pub fn take_from_gguf(file: &mut GgufFile) -> Result<Self> {
        let prepared = Prepared::read(file)?;
        for key in VOCABULARY_KEYS {
            file.metadata.remove(key);
        }
        prepared.finish(file)
    }
}

/// The metadata keys of a GGUF vocabulary: what [`Tokenizer::take_from_gguf`] takes out.
pub const VOCABULARY_KEYS: [&str; 4] = [
    "tokenizer.ggml.tokens",
    "tokenizer.ggml.scores",
    "tokenizer.ggml.token_type",
    "tokenizer.ggml.merges",
];

/// A GGUF vocabulary copied out of the file's metadata, before its model is built.
struct Prepared {
    bpe: tokenizers::models::bpe::BpeBuilder,
    pipeline: Pipeline,
    added: Vec<AddedToken>,
    bos_id: Option<u32>,
    eos_id: Option<u32>,
    bos_token: Option<String>,
    eos_token: Option<String>,
}

impl Prepared {
    fn read(file: &GgufFile) -> Result<Self> {
        let model = file
            .get("tokenizer.ggml.model")
            .and_then(GgufValue::as_str)
            .ok_or_else(|| malformed("missing tokenizer.ggml.model"))?;
        let arch = file
            .get("general.architecture")
            .and_then(GgufValue::as_str)
            .unwrap_or_default();
        let mut tokens = strings(file, "tokenizer.ggml.tokens")?;
        let types = token_types(file, tokens.len());
        let bos_id = id(file, "tokenizer.ggml.bos_token_id");
        let eos_id = id(file, "tokenizer.ggml.eos_token_id");
        let bos_token = bos_id.and_then(|i| tokens.get(i as usize).map(|t| t.to_string()));
        let eos_token = eos_id.and_then(|i| tokens.get(i as usize).map(|t| t.to_string()));
        // Gemma's runs of spaces become slices of this one (see `respell_spaces`).
        let spaces = SPACE.repeat(
            tokens
                .iter()
                .filter_map(|t| space_run(t))
                .max()
                .unwrap_or(0),
        );
        let (pipeline, bpe, added) = match model {
            "gpt2" => {
                let split = byte_level_split(file)?;
                let merges = stored_merges(file)?;
                let bpe = BPE::builder()
                    .vocab_and_merges(vocab(&tokens)?, merges)
                    .ignore_merges(split == LLAMA3_SPLIT);
                (
                    Pipeline::byte_level(split)?,
                    bpe,
                    added_tokens(&tokens, &types),
                )
            }
            "llama" if arch.starts_with("gemma") => {
                respell_spaces(&mut tokens, &spaces);
                let vocab = vocab(&tokens)?;
                let merges = recover_merges(&tokens, &vocab);
                let bpe = BPE::builder()
                    .vocab_and_merges(vocab, merges)
                    .unk_token("<unk>".to_owned())
                    .fuse_unk(true)
                    .byte_fallback(true);
                (
                    Pipeline::sentencepiece()?,
                    bpe,
                    added_tokens(&tokens, &types),
                )
            }
            other => {
                return Err(Error::Unsupported(format!(
                    "GGUF tokenizer model {other:?} for architecture {arch:?} \
                     (gpt2 vocabularies and Gemma's are supported)"
                )));
            }
        };
        Ok(Self {
            bpe,
            pipeline,
            added,
            bos_id,
            eos_id,
            bos_token,
            eos_token,
        })
    }

    fn finish(self, file: &GgufFile) -> Result<Tokenizer> {
        let Self {
            bpe,
            mut pipeline,
            added,
            bos_id,
            eos_id,
            bos_token,
            eos_token,
        } = self;
        // The builder holds the only copy of the vocabulary besides the file's, and the merges:
        // both go into the model, the merges as pairs of ids.
        let bpe = bpe.build().map_err(|e| malformed(e.to_string()))?;
        let add_bos =
            flag(file, "tokenizer.ggml.add_bos_token").unwrap_or(pipeline.add_bos_default);
        let post_processor = match (add_bos, bos_token.as_deref().zip(bos_id)) {
            (true, Some((token, id))) => Some(bos_processor(token, id)?),
            _ => pipeline.post_processor.take(),
        };
        let kind = pipeline.kind;
        let inner = build(bpe, pipeline, post_processor, &added);
        drop(added);
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
        Tokenizer::assemble(
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
}

#[cfg(test)]
mod tests {
    use super::{recover_merges, vocab};
    use crate::model::{GgufFile, GgufValue};
    use crate::tokenize::{TokenCodec, Tokenizer, VocabKind};

    fn merges(tokens: &[&str]) -> Vec<(String, String)> {
        let vocab = vocab(tokens).expect("vocab");
        recover_merges(tokens, &vocab)
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(l, r)| (l.to_string(), r.to_string()))
            .collect()
    }

    fn strings(list: &[&str]) -> GgufValue {
        GgufValue::Array(
            list.iter()
                .map(|s| GgufValue::String(s.to_string()))
                .collect(),
        )
    }

    fn file(entries: Vec<(&str, GgufValue)>) -> GgufFile {
        GgufFile {
            version: 3,
            metadata: entries
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            tensors: Vec::new(),
            data_offset: 0,
            alignment: 32,
        }
    }

    /// A byte-level vocabulary ("Ġ" is the space byte) with a control token.
    fn byte_level(merges: &[&str]) -> GgufFile {
        file(vec![
            ("general.architecture", GgufValue::String("qwen2".into())),
            ("tokenizer.ggml.model", GgufValue::String("gpt2".into())),
            ("tokenizer.ggml.pre", GgufValue::String("qwen2".into())),
            (
                "tokenizer.ggml.tokens",
                strings(&["a", "b", "ab", "\u{120}", "\u{120}ab", "<|end|>"]),
            ),
            (
                "tokenizer.ggml.token_type",
                GgufValue::Array([1, 1, 1, 1, 1, 3].map(GgufValue::I64).to_vec()),
            ),
            ("tokenizer.ggml.merges", strings(merges)),
            ("tokenizer.ggml.eos_token_id", GgufValue::U64(5)),
        ])
    }

    /// A Gemma-style vocabulary: control tokens, a byte token, "\u{2581}" spaces and a run of
    /// two spaces stored as spaces.
    fn gemma() -> GgufFile {
        file(vec![
            ("general.architecture", GgufValue::String("gemma3".into())),
            ("tokenizer.ggml.model", GgufValue::String("llama".into())),
            (
                "tokenizer.ggml.tokens",
                strings(&[
                    "<pad>",
                    "<eos>",
                    "<bos>",
                    "<unk>",
                    "<0x41>",
                    "\u{2581}",
                    "a",
                    "b",
                    "ab",
                    "\u{2581}ab",
                    "  ",
                ]),
            ),
            (
                "tokenizer.ggml.token_type",
                GgufValue::Array(
                    [3, 3, 3, 2, 6, 1, 1, 1, 1, 1, 1]
                        .map(GgufValue::I64)
                        .to_vec(),
                ),
            ),
            ("tokenizer.ggml.bos_token_id", GgufValue::U64(2)),
            ("tokenizer.ggml.eos_token_id", GgufValue::U64(1)),
            ("tokenizer.ggml.eot_token_id", GgufValue::U64(0)),
        ])
    }

    #[test]
    fn merges_follow_file_order_then_longer_parts() {
        assert_eq!(
            merges(&["a", "b", "c", "ab", "abc", "bc"]),
            pairs(&[("a", "b"), ("ab", "c"), ("a", "bc"), ("b", "c")])
        );
    }

    #[test]
    fn repeated_tokens_count_at_their_last_position() {
        // "ab" first at 2, again at 4: its merge comes after "ba"'s.
        assert_eq!(
            merges(&["a", "b", "ab", "ba", "ab"]),
            pairs(&[("b", "a"), ("a", "b")])
        );
    }

    #[test]
    fn merges_split_at_characters_not_bytes() {
        assert_eq!(
            merges(&[
                "\u{2581}",
                "\u{e9}",
                "\u{2581}\u{e9}",
                "\u{e9}\u{2581}\u{e9}"
            ]),
            pairs(&[("\u{2581}", "\u{e9}"), ("\u{e9}", "\u{2581}\u{e9}")])
        );
    }

    #[test]
    fn byte_level_vocabulary_uses_its_stored_merges() {
        let t = Tokenizer::from_gguf(&byte_level(&["#version: 2", "a b", "\u{120} ab"]))
            .expect("tokenizer");
        assert_eq!(t.kind(), VocabKind::ByteLevel);
        assert_eq!(t.encode("ab ab", true).expect("ids"), [2, 4]);
        assert_eq!(t.encode("ab<|end|>", false).expect("ids"), [2, 5]);
        assert!(t.is_special(5) && !t.is_special(4));
        assert_eq!(t.token_bytes(4).expect("bytes"), b" ab");
        assert_eq!(t.decode(&[2, 4, 5], true).expect("text"), "ab ab");
        assert_eq!(t.decode(&[2, 4, 5], false).expect("text"), "ab ab<|end|>");
        assert_eq!(t.eos_token.as_deref(), Some("<|end|>"));
        assert!(!t.add_bos);
        // Without the merge "Ġ ab", " ab" stays two tokens.
        let t = Tokenizer::from_gguf(&byte_level(&["a b"])).expect("tokenizer");
        assert_eq!(t.encode("ab ab", true).expect("ids"), [2, 3, 2]);
    }

    #[test]
    fn gemma_vocabulary_recovers_merges_and_prepends_bos() {
        let t = Tokenizer::from_gguf(&gemma()).expect("tokenizer");
        assert_eq!(t.kind(), VocabKind::SentencePiece);
        assert!(t.add_bos);
        assert_eq!(t.bos_token.as_deref(), Some("<bos>"));
        assert_eq!(t.eos_token_ids, [1, 0]);
        assert_eq!(t.encode("ab ab", true).expect("ids"), [2, 8, 9]);
        assert_eq!(t.encode("ab ab", false).expect("ids"), [8, 9]);
        // Byte fallback, then the unknown token for a byte the vocabulary lacks.
        assert_eq!(t.encode("Ab", false).expect("ids"), [4, 7]);
        assert_eq!(t.encode("c", false).expect("ids"), [3]);
        // Two spaces: the stored "  " entry, spelled "\u{2581}\u{2581}".
        assert_eq!(t.encode("  ", false).expect("ids"), [10]);
        assert_eq!(t.tokens(&[10]), ["\u{2581}\u{2581}"]);
        assert_eq!(t.token_bytes(10).expect("bytes"), b"  ");
        assert_eq!(t.decode(&[2, 8, 9, 4], true).expect("text"), "ab abA");
        assert_eq!(t.decode(&[2, 8], false).expect("text"), "<bos>ab");
        assert!(t.decode(&[11], false).is_err());
    }

    #[test]
    fn taking_the_vocabulary_out_gives_the_same_tokenizer() {
        let mut file = gemma();
        let kept = Tokenizer::from_gguf(&file).expect("tokenizer");
        let taken = Tokenizer::take_from_gguf(&mut file).expect("tokenizer");
        for text in ["ab ab", "Ab", "c", "  "] {
            assert_eq!(taken.encode(text, true).ok(), kept.encode(text, true).ok());
        }
        assert_eq!(taken.eos_token_ids, kept.eos_token_ids);
        assert!(super::VOCABULARY_KEYS.iter().all(|k| file.get(k).is_none()));
        assert!(file.get("tokenizer.ggml.model").is_some(), "the rest stays");
    }

    #[test]
    fn bad_vocabularies_are_typed_errors() {
        let code = |f: &GgufFile| Tokenizer::from_gguf(f).err().map(|e| e.code());
        assert_eq!(code(&byte_level(&["a b c"])), Some("format"));
        // A merge whose result is not in the vocabulary.
        assert_eq!(code(&byte_level(&["b a"])), Some("format"));
        let mut f = gemma();
        f.metadata.remove("tokenizer.ggml.tokens");
        assert_eq!(code(&f), Some("format"));
        let mut f = gemma();
        f.metadata.insert(
            "general.architecture".into(),
            GgufValue::String("llama".into()),
        );
        assert_eq!(code(&f), Some("unsupported"));
        let mut f = byte_level(&["a b"]);
        f.metadata.insert(
            "tokenizer.ggml.pre".into(),
            GgufValue::String("bloom".into()),
        );
        assert_eq!(code(&f), Some("unsupported"));
    }
}
