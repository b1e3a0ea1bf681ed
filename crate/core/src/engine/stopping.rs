//! When a sequence stops: its EOS tokens, max tokens and the context end, and stop strings (the
//! first one completed by its newest bytes), with the cut that keeps tokens, cache and text in
//! agreement when a stop string ends inside a token.

use super::backend::Backend;
use super::output::{FinishReason, SeqOutput};
use super::registry::SeqState;
use crate::error::{Error, Result};
use crate::tokenize::{TokenCodec, decode_bytes};

/// Why a sequence stops after its newest token `token`, if it does: a stop string completed by
/// the newest of its new text's `bytes` (from byte `before` on; the sequence is cut just after
/// it, and the byte where its text now ends comes back too), an EOS token, or its length.
#[allow(clippy::too_many_arguments)]
pub(super) fn check_stop<B: Backend>(
    state: &mut SeqState,
    out: &mut SeqOutput,
    bytes: &mut Vec<u8>,
    token: u32,
    before: usize,
    stops: &[String],
    eos: &[u32],
    max_tokens: usize,
    max_positions: usize,
    codec: Option<&dyn TokenCodec>,
    backend: &mut B,
) -> Result<Option<(FinishReason, Option<usize>)>> {
    if let Some(codec) = codec
        && let Some((stop, end)) = find_stop(bytes, before, stops)
    {
        cut_at_stop(state, out, bytes, codec, end, backend)?;
        return Ok(Some((FinishReason::Stop(stop), Some(end))));
    }
    if eos.contains(&token) {
        return Ok(Some((FinishReason::Eos, None)));
    }
    if out.tokens.len() >= max_tokens || state.tokens.len() >= max_positions {
        return Ok(Some((FinishReason::Length, None)));
    }
    Ok(None)
}

/// Ends a sequence's text at byte `end` (just after a stop string): the tokens whose bytes
/// reach past `end` are dropped (from the cache too) and the kept part of their text is
/// re-tokenized and appended, so that tokens and text agree.
fn cut_at_stop<B: Backend>(
    state: &mut SeqState,
    out: &mut SeqOutput,
    bytes: &mut Vec<u8>,
    codec: &dyn TokenCodec,
    end: usize,
    backend: &mut B,
) -> Result<()> {
    if end == bytes.len() {
        return Ok(());
    }
    // Drop tokens from the end until the dropped tokens cover every byte past `end` and the
    // kept text of the dropped ones starts on a character boundary.
    let mut dropped = 0;
    let mut start = bytes.len();
    loop {
        let Some(&last) = out
            .tokens
            .get(out.tokens.len() - dropped - 1..)
            .and_then(|t| t.first())
        else {
            return Err(Error::InvalidArgument(
                "stop string outside the new text".into(),
            ));
        };
        start -= codec.token_bytes(last)?.len();
        dropped += 1;
        if start <= end && std::str::from_utf8(&bytes[start..end]).is_ok() {
            break;
        }
        if dropped == out.tokens.len() {
            return Err(Error::InvalidArgument(
                "cannot re-tokenize the stop tail".into(),
            ));
        }
    }
    let tail = std::str::from_utf8(&bytes[start..end])
        .map_err(|e| Error::InvalidArgument(format!("stop tail: {e}")))?;
    let retokenized = codec.encode(tail)?;
    let keep = out.tokens.len() - dropped;
    out.tokens.truncate(keep);
    out.logprobs.truncate(keep);
    out.top_logprobs.truncate(keep.min(out.top_logprobs.len()));
    let total = state.tokens.len() - dropped;
    state.tokens.truncate(total);
    let cached = backend.blocks().len(out.seq)?;
    backend.truncate(out.seq, cached.min(total))?;
    state.tokens.extend_from_slice(&retokenized);
    out.tokens.extend_from_slice(&retokenized);
    out.logprobs.extend(retokenized.iter().map(|_| None));
    bytes.truncate(start);
    bytes.extend(decode_bytes(codec, &retokenized)?);
    Ok(())
}

/// The stop string that ends earliest among those whose occurrence ends after byte `before` of
/// `bytes` (occurrences that end earlier were seen in earlier steps), and the byte just after it.
pub fn find_stop(bytes: &[u8], before: usize, stops: &[String]) -> Option<(String, usize)> {
    let mut best: Option<(String, usize)> = None;
    for stop in stops {
        let s = stop.as_bytes();
        let from = (before + 1).saturating_sub(s.len());
        let hit = bytes[from.min(bytes.len())..]
            .windows(s.len())
            .position(|w| w == s)
            .map(|p| from + p + s.len());
        if let Some(end) = hit {
            if end > before && best.as_ref().is_none_or(|(_, e)| end < *e) {
                best = Some((stop.clone(), end));
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::find_stop;

    #[test]
    fn finds_the_earliest_new_stop() {
        let stops = vec!["\n\n".to_string(), "boxed{".to_string()];
        assert_eq!(find_stop(b"a\n\nb", 2, &stops), Some(("\n\n".into(), 3)));
        // Completed by a later token's first byte.
        assert_eq!(find_stop(b"ab\n\nxyz", 3, &stops), Some(("\n\n".into(), 4)));
        // Seen before: not reported again.
        assert_eq!(find_stop(b"\n\nabc", 3, &stops), None);
        assert_eq!(
            find_stop(b"\\boxed{12}\n\n", 5, &stops),
            Some(("boxed{".into(), 7))
        );
        assert_eq!(find_stop(b"abc", 0, &[]), None);
    }
}
