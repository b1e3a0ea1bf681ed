//! Rotary position embeddings: inverse frequencies (default, linear, llama3, per-frequency
//! factors) computed in f32 as
//! transformers computes them, and the rotate-half application to one head.

use super::config::{ModelConfig, Rope, RopeScaling};

/// Inverse frequencies [head_dim / 2] for `rope` (f32 throughout: rounding the frequencies to
/// another precision moves logits measurably).
pub fn inv_freq(rope: &Rope, head_dim: usize) -> Vec<f32> {
    let base = rope.theta as f32;
    let mut freqs: Vec<f32> = (0..head_dim / 2)
        .map(|i| 1.0 / base.powf((2 * i) as f32 / head_dim as f32))
        .collect();
    match rope.scaling {
        RopeScaling::None => {}
        RopeScaling::Linear { factor } => freqs.iter_mut().for_each(|f| *f /= factor as f32),
        RopeScaling::Factors(ref factors) => freqs
            .iter_mut()
            .zip(factors)
            .for_each(|(f, factor)| *f /= factor),
        RopeScaling::Llama3 {
            factor,
            low_freq_factor,
            high_freq_factor,
            original_max_position_embeddings,
        } => {
            let (factor, low, high, old) = (
                factor as f32,
                low_freq_factor as f32,
                high_freq_factor as f32,
                original_max_position_embeddings as f32,
            );
            let low_freq_wavelen = old / low;
            let high_freq_wavelen = old / high;
            for f in &mut freqs {
                let wavelen = 2.0 * std::f32::consts::PI / *f;
                if wavelen > low_freq_wavelen {
                    *f /= factor;
                } else if wavelen >= high_freq_wavelen {
                    let smooth = (old / wavelen - low) / (high - low);
                    *f = (1.0 - smooth) * *f / factor + smooth * *f;
                }
            }
        }
    }
    freqs
}

/// The inverse frequencies of full-attention layers and of sliding-window layers (their own rope
/// where the family has one, else the same).
pub fn inv_freqs(config: &ModelConfig) -> (Vec<f32>, Vec<f32>) {
    let global = inv_freq(&config.rope, config.head_dim);
    let local = inv_freq(
        config.rope_local.as_ref().unwrap_or(&config.rope),
        config.head_dim,
    );
    (global, local)
}

/// The (cos, sin) of every angle at `position`, as [head_dim / 2] pairs (f32, as transformers).
pub fn cos_sin(position: usize, inv_freq: &[f32]) -> impl Iterator<Item = (f32, f32)> + '_ {
    let pos = position as f32;
    inv_freq.iter().map(move |f| {
        let (sin, cos) = (pos * f).sin_cos();
        (cos, sin)
    })
}

/// The (cos, sin) table both backends' rotary embedding reads: [positions, head_dim / 2, 2].
pub fn table(inv_freq: &[f32], positions: &[u32]) -> Vec<f32> {
    positions
        .iter()
        .flat_map(|&p| cos_sin(p as usize, inv_freq).flat_map(|(c, s)| [c, s]))
        .collect()
}

/// Rotates one head [head_dim] by one position's (cos, sin) pairs [head_dim / 2, 2]
/// (rotate-half pairing: i with i + head_dim/2).
pub fn rotate(head: &mut [f32], cos_sin: &[f32]) {
    let half = head.len() / 2;
    for (i, pair) in cos_sin.chunks_exact(2).take(half).enumerate() {
        let (cos, sin) = (pair[0], pair[1]);
        let (a, b) = (head[i], head[i + half]);
        head[i] = a * cos - b * sin;
        head[i + half] = b * cos + a * sin;
    }
}
