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
    let norm = log_normaliser(logits);
    let token = if params.temperature == 0.0 {
        top_indices(logits, 1).first().copied().unwrap_or(0)
    } else {
        let k = if params.top_k == 0 {
            logits.len()
        } else {
            params.top_k.min(logits.len())
        };
        // Candidates best first; probabilities of the tempered logits over them.
        let candidates = top_indices(logits, k);
        let t = params.temperature;
        let best = candidates.first().map_or(0.0, |&i| logits[i as usize]);
        let weights: Vec<f64> = candidates
            .iter()
            .map(|&i| (((logits[i as usize] - best) / t) as f64).exp())
            .collect();
        let total: f64 = weights.iter().sum();
        // Smallest prefix whose mass reaches top_p (at least one token).
        let mut kept = weights.len();
        if params.top_p < 1.0 {
            let mut mass = 0.0;
            for (i, w) in weights.iter().enumerate() {
                mass += w / total;
                if mass >= params.top_p as f64 {
                    kept = i + 1;
                    break;
                }
            }
        }
        let kept_mass: f64 = weights[..kept].iter().sum();
        let target = uniform(params.seed, stream, step) as f64 * kept_mass;
        let mut acc = 0.0;
        let mut chosen = candidates[kept - 1];
        for (i, w) in weights[..kept].iter().enumerate() {
            acc += w;
            if target < acc {
                chosen = candidates[i];
                break;
            }
        }
        chosen
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
