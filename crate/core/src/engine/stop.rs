//! Stop strings: the first one completed by a sequence's newest bytes.

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
