//! Sampling one token from a row of logits on the CPU: greedy, temperature, top-k and top-p
//! with a counter-based random draw, plus the chosen token's logprob (from the untempered
//! log-softmax) and the top logprobs.

use super::params::SamplingParams;
use super::random::uniform;

/// A sampled token with its logprobs.
#[derive(Debug, Clone, PartialEq)]
pub struct Sampled {
    /// The token id.
    pub token: u32,
    /// Its logprob under the model (log-softmax of the untempered logits).
    pub logprob: f32,
    /// The most likely tokens and their logprobs, best first (as many as asked for).
    pub top_logprobs: Vec<(u32, f32)>,
}

/// Log of the softmax normaliser of `logits` (max-shifted, f64 sums).
fn log_normaliser(logits: &[f32]) -> f32 {
    let max = logits.iter().fold(f32::NEG_INFINITY, |m, v| m.max(*v));
    let sum: f64 = logits.iter().map(|v| ((v - max) as f64).exp()).sum();
    max + sum.ln() as f32
}

/// Indices of the `k` largest values, largest first, ties by lower index.
fn top_indices(values: &[f32], k: usize) -> Vec<u32> {
    let mut idx: Vec<u32> = (0..values.len() as u32).collect();
    let order = |a: &u32, b: &u32| {
        values[*b as usize]
            .total_cmp(&values[*a as usize])
            .then(a.cmp(b))
    };
    if k < idx.len() {
        idx.select_nth_unstable_by(k, order);
        idx.truncate(k);
    }
    idx.sort_by(order);
    idx
}

/// Samples the token at `step` of random stream `stream` from `logits` [vocab].
pub fn sample(logits: &[f32], params: &SamplingParams, stream: u64, step: u64) -> Sampled {
    sample_with(logits, params, uniform(params.seed, stream, step))
}

/// The logit thresholds of top-k and top-p: the tokens kept are those whose logit reaches both.
/// top-k: the k-th largest logit (ties at it are kept). top-p: the largest logit v such that
/// the tokens at or above v hold at least top_p of the tempered mass of the top-k tokens.
/// The GPU kernel finds the same thresholds by bisection.
fn thresholds(logits: &[f32], params: &SamplingParams, max: f32) -> f32 {
    let n = logits.len();
    let kth = if params.top_k > 0 && params.top_k < n {
        let mut sorted = logits.to_vec();
        let k = params.top_k - 1;
        sorted.select_nth_unstable_by(k, |a, b| b.total_cmp(a));
        sorted[k]
    } else {
        f32::NEG_INFINITY
    };
    if params.top_p >= 1.0 {
        return kth;
    }
    let t = params.temperature as f64;
    let mut candidates: Vec<f32> = logits.iter().copied().filter(|v| *v >= kth).collect();
    candidates.sort_by(|a, b| b.total_cmp(a));
    let weight = |v: f32| ((v - max) as f64 / t).exp();
    let total: f64 = candidates.iter().map(|v| weight(*v)).sum();
    let mut mass = 0.0;
    for v in &candidates {
        mass += weight(*v);
        if mass >= params.top_p as f64 * total {
            return *v;
        }
    }
    candidates.last().copied().unwrap_or(kth)
}

/// Samples from `logits` [vocab] with the uniform draw `u` in [0, 1): greedy at temperature 0,
/// otherwise the inverse CDF at `u` times the kept mass, walking the kept tokens in id order.
pub fn sample_with(logits: &[f32], params: &SamplingParams, u: f32) -> Sampled {
    let norm = log_normaliser(logits);
    let argmax = top_indices(logits, 1).first().copied().unwrap_or(0);
    let token = if params.temperature == 0.0 {
        argmax
    } else {
        let max = logits[argmax as usize];
        let threshold = thresholds(logits, params, max);
        let t = params.temperature as f64;
        let weight = |v: f32| ((v - max) as f64 / t).exp();
        let kept: f64 = logits
            .iter()
            .filter(|v| **v >= threshold)
            .map(|v| weight(*v))
            .sum();
        let target = u as f64 * kept;
        let mut acc = 0.0;
        let mut chosen = None;
        let mut last_kept = argmax;
        for (i, v) in logits.iter().enumerate() {
            if *v >= threshold {
                acc += weight(*v);
                last_kept = i as u32;
                if acc > target {
                    chosen = Some(i as u32);
                    break;
                }
            }
        }
        chosen.unwrap_or(last_kept)
    };
    let top_logprobs = if params.logprobs > 0 {
        top_indices(logits, params.logprobs.min(logits.len()))
            .into_iter()
            .map(|i| (i, logits[i as usize] - norm))
            .collect()
    } else {
        Vec::new()
    };
    Sampled {
        token,
        logprob: logits[token as usize] - norm,
        top_logprobs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(temperature: f32, top_p: f32, top_k: usize) -> SamplingParams {
        SamplingParams {
            temperature,
            top_p,
            top_k,
            seed: 5,
            ..SamplingParams::default()
        }
    }

    #[test]
    fn greedy_takes_the_argmax_with_its_logprob() {
        let logits = [1.0, 3.0, 3.0, -2.0];
        let s = sample(&logits, &params(0.0, 1.0, 0), 0, 0);
        assert_eq!(s.token, 1, "ties go to the lower id");
        let norm = (logits.iter().map(|v: &f32| v.exp()).sum::<f32>()).ln();
        assert!((s.logprob - (3.0 - norm)).abs() < 1e-6);
    }

    #[test]
    fn sampling_follows_the_tempered_truncated_distribution() {
        let logits = [0.0f32, 1.0, 2.0, 0.5, -1.0];
        let n = 40_000;
        for (t, top_p, top_k) in [(1.0, 1.0, 0), (0.7, 1.0, 0), (1.0, 0.8, 0), (1.0, 1.0, 2)] {
            let p = params(t, top_p, top_k);
            let mut counts = [0usize; 5];
            for step in 0..n {
                counts[sample(&logits, &p, 3, step).token as usize] += 1;
            }
            // The expected distribution, computed independently.
            let mut order: Vec<usize> = (0..5).collect();
            order.sort_by(|a, b| logits[*b].total_cmp(&logits[*a]));
            if top_k > 0 {
                order.truncate(top_k);
            }
            let w: Vec<f64> = order
                .iter()
                .map(|&i| ((logits[i] / t) as f64).exp())
                .collect();
            let total: f64 = w.iter().sum();
            let mut keep = order.len();
            let mut mass = 0.0;
            for (i, x) in w.iter().enumerate() {
                mass += x / total;
                if mass >= top_p as f64 {
                    keep = i + 1;
                    break;
                }
            }
            let kept: f64 = w[..keep].iter().sum();
            for (j, &i) in order.iter().enumerate() {
                let want = if j < keep { w[j] / kept } else { 0.0 };
                let got = counts[i] as f64 / n as f64;
                assert!(
                    (got - want).abs() < 0.01,
                    "T={t} p={top_p} k={top_k} token {i}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn same_stream_and_step_give_the_same_token() {
        let logits: Vec<f32> = (0..1000).map(|i| ((i * 37) % 101) as f32 / 10.0).collect();
        let p = params(1.0, 0.95, 50);
        assert_eq!(sample(&logits, &p, 9, 4), sample(&logits, &p, 9, 4));
        let tokens: std::collections::BTreeSet<u32> =
            (0..50).map(|s| sample(&logits, &p, s, 0).token).collect();
        assert!(tokens.len() > 5, "different streams draw different tokens");
    }
}
