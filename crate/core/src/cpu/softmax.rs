//! Row-wise softmax on the CPU (max-subtracted, so large logits do not overflow).

use super::expect_len;
use crate::error::{Error, Result};

/// y[r] = softmax(x[r]). x: [rows, n] -> y: [rows, n].
pub fn softmax(x: &[f32], rows: usize, n: usize) -> Result<Vec<f32>> {
    expect_len("softmax", "x", x.len(), rows * n)?;
    if n == 0 {
        return Err(Error::shape("softmax", "row length is zero"));
    }
    let mut y = Vec::with_capacity(rows * n);
    for row in x.chunks_exact(n) {
        let max = row.iter().fold(f32::NEG_INFINITY, |m, v| m.max(*v));
        let start = y.len();
        let mut sum = 0.0f32;
        for v in row {
            let e = (v - max).exp();
            sum += e;
            y.push(e);
        }
        let inv = 1.0 / sum;
        for v in &mut y[start..] {
            *v *= inv;
        }
    }
    Ok(y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand_and_stable() {
        let y = softmax(&[0.0, 2.0f32.ln(), 1000.0, 1000.0], 2, 2).unwrap();
        assert!((y[0] - 1.0 / 3.0).abs() < 1e-6);
        assert!((y[1] - 2.0 / 3.0).abs() < 1e-6);
        assert_eq!(&y[2..], &[0.5, 0.5]);
    }
}
