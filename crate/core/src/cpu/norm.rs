//! RMSNorm on the CPU, in the Llama/Qwen form (w) and the Gemma form (1 + w).

use super::expect_len;
use crate::error::{Error, Result};

/// y = x / sqrt(mean(x^2) + eps) * (weight + weight_offset), row by row.
///
/// x: [rows, n], weight: [n] -> y: [rows, n]. `weight_offset` is 0 for Llama/Qwen, 1 for Gemma.
pub fn rms_norm(
    x: &[f32],
    weight: &[f32],
    rows: usize,
    n: usize,
    eps: f32,
    weight_offset: f32,
) -> Result<Vec<f32>> {
    expect_len("rms_norm", "x", x.len(), rows * n)?;
    expect_len("rms_norm", "weight", weight.len(), n)?;
    if n == 0 {
        return Err(Error::shape("rms_norm", "row length is zero"));
    }
    let mut y = Vec::with_capacity(rows * n);
    for row in x.chunks_exact(n) {
        let mean_sq = row.iter().map(|v| v * v).sum::<f32>() / n as f32;
        let inv = 1.0 / (mean_sq + eps).sqrt();
        y.extend(
            row.iter()
                .zip(weight)
                .map(|(v, w)| v * inv * (w + weight_offset)),
        );
    }
    Ok(y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        // x = [3, 4]: mean(x^2) = 12.5, 1/sqrt(12.5) = 0.28284273
        let y = rms_norm(&[3., 4.], &[1., 2.], 1, 2, 0.0, 0.0).unwrap();
        assert!((y[0] - 0.848_528_1).abs() < 1e-6);
        assert!((y[1] - 2.262_741_8).abs() < 1e-6);
        let g = rms_norm(&[3., 4.], &[0., 1.], 1, 2, 0.0, 1.0).unwrap();
        assert_eq!(g, y);
    }
}
