//! Linear layers on the CPU: matrix-vector and matrix-matrix products, f32 and int4 weights.

use super::expect_len;
use super::parallel::for_row_ranges;
use crate::error::{Error, Result};
use crate::quant::WeightMatrix;
use crate::quant::q4::{GROUP_SIZE, NIBBLES_PER_WORD, Q4Matrix};

/// Dot product with independent accumulators (the compiler vectorizes the inner loop and the
/// additions overlap); on x86-64 CPUs with AVX2 and FMA, a copy compiled for them.
#[inline]
pub(super) fn dot(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports the features this copy is compiled for (checked above).
            return unsafe { dot_avx2(a, b) };
        }
    }
    dot_lanes::<16>(a, b, false)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn dot_avx2(a: &[f32], b: &[f32]) -> f32 {
    // Eight 8-lane accumulators: enough independent FMA chains to hide their latency.
    dot_lanes::<64>(a, b, true)
}

#[inline(always)]
fn dot_lanes<const LANES: usize>(a: &[f32], b: &[f32], fused: bool) -> f32 {
    let mut acc = [0.0f32; LANES];
    let (a_chunks, b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for i in 0..LANES {
            // mul_add is a single instruction only where FMA is enabled.
            acc[i] = if fused {
                x[i].mul_add(y[i], acc[i])
            } else {
                acc[i] + x[i] * y[i]
            };
        }
    }
    let mut width = LANES / 2;
    while width > 0 {
        for i in 0..width {
            acc[i] += acc[i + width];
        }
        width /= 2;
    }
    acc[0] + tail
}

/// y = W x. W: [rows, cols] row-major, x: [cols] -> y: [rows].
pub fn matvec(weight: &[f32], x: &[f32], rows: usize, cols: usize) -> Result<Vec<f32>> {
    expect_len("matvec", "weight", weight.len(), rows * cols)?;
    expect_len("matvec", "x", x.len(), cols)?;
    if cols == 0 {
        return Ok(vec![0.0; rows]);
    }
    Ok(weight.chunks_exact(cols).map(|row| dot(row, x)).collect())
}

/// Y = X W^T. X: [m, k], W: [n, k] (HF Linear layout) -> Y: [m, n].
pub fn matmul(x: &[f32], weight: &[f32], m: usize, n: usize, k: usize) -> Result<Vec<f32>> {
    expect_len("matmul", "x", x.len(), m * k)?;
    expect_len("matmul", "weight", weight.len(), n * k)?;
    let mut y = vec![0.0f32; m * n];
    if k == 0 {
        return Ok(y);
    }
    // Weight rows outermost: each is read once for all m input rows.
    for_row_ranges(&mut y, m, n, k, |rows, out| {
        for (j, r) in rows.enumerate() {
            let w_row = &weight[r * k..(r + 1) * k];
            for (i, x_row) in x.chunks_exact(k).enumerate() {
                out[i * (out.len() / m) + j] = dot(x_row, w_row);
            }
        }
    });
    Ok(y)
}

/// Y = X W^T for a weight matrix in any format. x: [m, cols] -> y: [m, rows].
///
/// f32 goes through [`matmul`], GGUF blocks through integer products on int8 activations
/// ([`super::int_dot`]); other formats dequantize one weight row at a time (each weight is read
/// once) and dot it with every input row.
pub fn linear(x: &[f32], m: usize, w: &WeightMatrix) -> Result<Vec<f32>> {
    let (rows, cols) = (w.rows(), w.cols());
    match w {
        WeightMatrix::F32 { data, .. } => return matmul(x, data, m, rows, cols),
        WeightMatrix::Blocks(b) => return super::int_dot::linear_blocks(x, m, b),
        _ => {}
    }
    expect_len("linear", "x", x.len(), m * cols)?;
    let mut y = vec![0f32; m * rows];
    if cols == 0 {
        return Ok(y);
    }
    for_row_ranges(&mut y, m, rows, cols, |range, out| {
        let width = range.len();
        let mut row = vec![0f32; cols];
        for (j, r) in range.enumerate() {
            w.dequantize_row(r, &mut row);
            for (i, xi) in x.chunks_exact(cols).enumerate() {
                out[i * width + j] = dot(xi, &row);
            }
        }
    });
    Ok(y)
}

/// y = W x with W in int4 group-32 form ([`Q4Matrix`]). x: [cols] -> y: [rows].
pub fn q4_matvec(weight: &Q4Matrix, x: &[f32]) -> Result<Vec<f32>> {
    expect_len("q4_matvec", "x", x.len(), weight.cols)?;
    if !weight.cols.is_multiple_of(GROUP_SIZE) {
        return Err(Error::shape(
            "q4_matvec",
            format!("cols = {} is not a multiple of {GROUP_SIZE}", weight.cols),
        ));
    }
    let words_per_row = weight.cols / NIBBLES_PER_WORD;
    let groups_per_row = weight.cols / GROUP_SIZE;
    expect_len(
        "q4_matvec",
        "qweight",
        weight.qweight.len(),
        weight.rows * words_per_row,
    )?;
    expect_len(
        "q4_matvec",
        "scales",
        weight.scales.len(),
        (weight.rows * groups_per_row).div_ceil(2),
    )?;
    let mut y = Vec::with_capacity(weight.rows);
    let mut dequant = [0.0f32; GROUP_SIZE];
    for r in 0..weight.rows {
        let mut acc = 0.0f32;
        for g in 0..groups_per_row {
            let scale = weight.scale(r * groups_per_row + g);
            let base = r * words_per_row + g * (GROUP_SIZE / NIBBLES_PER_WORD);
            for (w, chunk) in dequant.chunks_exact_mut(NIBBLES_PER_WORD).enumerate() {
                let word = weight.qweight[base + w];
                for (i, v) in chunk.iter_mut().enumerate() {
                    *v = (((word >> (4 * i)) & 0xf) as f32 - 8.0) * scale;
                }
            }
            acc += dot(&dequant, &x[g * GROUP_SIZE..(g + 1) * GROUP_SIZE]);
        }
        y.push(acc);
    }
    Ok(y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matvec_by_hand() {
        // [[1, 2, 3], [4, 5, 6]] . [1, 0, -1] = [-2, -2]
        let y = matvec(&[1., 2., 3., 4., 5., 6.], &[1., 0., -1.], 2, 3).unwrap();
        assert_eq!(y, vec![-2., -2.]);
    }

    #[test]
    fn matmul_by_hand() {
        // X = [[1, 2], [3, 4]], W = [[1, 0], [0, 1], [1, 1]] -> Y = X W^T = [[1, 2, 3], [3, 4, 7]]
        let y = matmul(&[1., 2., 3., 4.], &[1., 0., 0., 1., 1., 1.], 2, 3, 2).unwrap();
        assert_eq!(y, vec![1., 2., 3., 3., 4., 7.]);
    }

    #[test]
    fn shape_errors_are_typed() {
        assert_eq!(
            matvec(&[1.0; 5], &[1.0; 3], 2, 3).unwrap_err().code(),
            "shape"
        );
        assert_eq!(
            matmul(&[1.0; 4], &[1.0; 5], 2, 3, 2).unwrap_err().code(),
            "shape"
        );
    }

    #[test]
    fn q4_matvec_equals_matvec_on_dequantized_weights() {
        let w: Vec<f32> = (0..3 * 64)
            .map(|i| ((i * 7919 % 97) as f32 - 48.0) / 17.0)
            .collect();
        let x: Vec<f32> = (0..64).map(|i| (i as f32 - 30.0) / 9.0).collect();
        let q = Q4Matrix::quantize(&w, 3, 64).unwrap();
        let want = matvec(&q.dequantize(), &x, 3, 64).unwrap();
        let got = q4_matvec(&q, &x).unwrap();
        for (a, b) in got.iter().zip(&want) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
    }
}
