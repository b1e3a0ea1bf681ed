//! Kernel self-check: every GPU kernel against the CPU backend on random inputs.
//!
//! The native and in-browser kernel tests, `ttsearch selfcheck` and the demo page all run these
//! checks, so a user can verify their own GPU the same way CI verifies lavapipe and SwiftShader.

mod paged;
mod sample;

use crate::cpu;
use crate::error::{Error, Result};
use crate::gpu::{GpuContext, Kernel, LinearKernel};
use crate::quant::blocks::BlockMatrix;
use crate::quant::ggml::GgmlType;
use crate::quant::{Q4Matrix, WeightFormat, WeightMatrix};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

/// The outcome of one kernel on one shape.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CheckCase {
    /// Kernel name.
    pub kernel: &'static str,
    /// The dimensions, in the order the kernel's doc gives them.
    pub shape: Vec<usize>,
    /// Largest |gpu - cpu| over all outputs.
    pub max_abs_error: f32,
    /// The bound the error had to stay within.
    pub tolerance: f32,
    /// Whether the case passed.
    pub passed: bool,
}

/// The outcome of a whole self-check run.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SelfCheckReport {
    /// The seed of the random inputs (rerun with it to reproduce).
    pub seed: u64,
    /// One entry per kernel and shape.
    pub cases: Vec<CheckCase>,
    /// Whether every case passed.
    pub passed: bool,
}

/// The shapes the self-check uses for `kernel`: tiny, exact multiples of the workgroup tiling,
/// and odd sizes that are multiples of nothing.
///
/// matvec and q4_matvec: [rows, cols]; matmul: [m, n, k]; rms_norm and softmax: [rows, n];
/// linear: [m, rows, cols]; embed_rows: [tokens, rows, cols]; paged_attn (after kv_write):
/// [sequences, heads, kv_heads, head_dim, block_size, shared prefix]; sample: [rows, vocab,
/// top_k, top_n].
pub fn default_shapes(kernel: Kernel) -> Vec<Vec<usize>> {
    match kernel {
        Kernel::Matvec => vec![
            vec![1, 1],
            vec![7, 33],
            vec![64, 64],
            vec![301, 257],
            vec![5, 1500],
        ],
        Kernel::Matmul => vec![
            vec![1, 1, 1],
            vec![3, 5, 7],
            vec![16, 16, 16],
            vec![17, 33, 50],
            vec![40, 70, 129],
        ],
        Kernel::RmsNorm => vec![vec![1, 1], vec![3, 100], vec![5, 640], vec![2, 1001]],
        Kernel::Softmax => vec![vec![1, 1], vec![4, 100], vec![3, 1000], vec![2, 5003]],
        Kernel::Q4Matvec => vec![vec![1, 32], vec![7, 96], vec![65, 320], vec![130, 2080]],
        // [m, rows, cols]: weights split into three row parts or more; m across the input tile
        // (8) and rows across the row block (8); widths that are not multiples of 32 take the
        // value-by-value path (q8 and q4 are stored as f16 there).
        Kernel::Linear(_) => vec![
            vec![1, 7, 64],
            vec![3, 66, 96],
            vec![5, 130, 320],
            vec![8, 9, 32],
            vec![9, 17, 100],
            vec![16, 24, 33],
            vec![70, 41, 160],
        ],
        // [m, rows, cols]: m and rows across the 32 x 64 tiles; widths multiples of 32.
        Kernel::LinearTiled(_) => vec![
            vec![1, 7, 64],
            vec![33, 65, 96],
            vec![70, 130, 320],
            vec![40, 64, 32],
        ],
        // [n tokens, vocab rows, cols]: embeddings split into three row parts or more.
        Kernel::EmbedRows(_) => vec![vec![4, 50, 64], vec![9, 302, 96]],
        // [m, rows, cols]: cols in whole blocks of the type (256 values for k-quants, 32 else);
        // an odd number of blocks per row leaves rows that do not start a word.
        Kernel::LinearBlocks(ty) | Kernel::LinearTiledBlocks(ty) => {
            let b = ty.block_size();
            vec![
                vec![1, 7, b],
                vec![5, 66, 3 * b],
                vec![9, 17, 2 * b],
                vec![70, 41, b],
                vec![70, 130, 2 * b],
            ]
        }
        Kernel::EmbedRowsBlocks(ty) => {
            let b = ty.block_size();
            vec![vec![4, 50, b], vec![9, 33, 3 * b]]
        }
        // [sequences, heads, kv_heads, head_dim, block_size, shared prefix]: contexts within one
        // tile of 64 keys and across several; heads up to 256 dimensions (Gemma's).
        Kernel::PagedAttn => vec![
            vec![1, 2, 1, 16, 4, 3],
            vec![3, 4, 2, 16, 16, 12],
            vec![5, 8, 2, 64, 16, 70],
            vec![4, 14, 2, 64, 7, 150],
            vec![2, 4, 1, 256, 16, 130],
        ],
        // [rows, vocab, top_k, top_n]
        Kernel::Sample => vec![
            vec![4, 50, 5, 3],
            vec![8, 1000, 40, 5],
            vec![6, 5003, 20, 2],
        ],
        // The other model kernels are checked through whole forward passes (GPU against CPU).
        Kernel::BiasAdd | Kernel::Add | Kernel::GatedAct | Kernel::Rope | Kernel::KvWrite => {
            Vec::new()
        }
    }
}

fn random_vec(rng: &mut SmallRng, len: usize, scale: f32) -> Vec<f32> {
    (0..len)
        .map(|_| rng.random_range(-1.0f32..1.0) * scale)
        .collect()
}

/// A [rows, cols] matrix of random blocks of type `ty`: random quantized bytes, the f16 scales
/// (and minimums) drawn small and positive, as a quantizer would make them.
fn random_blocks(
    rng: &mut SmallRng,
    ty: GgmlType,
    rows: usize,
    cols: usize,
) -> Result<BlockMatrix> {
    let (size, per_row) = (ty.type_size(), cols / ty.block_size().max(1));
    let mut data: Vec<u8> = (0..rows * per_row * size).map(|_| rng.random()).collect();
    let (scale_at, magnitude): (&[usize], f32) = match ty {
        GgmlType::Q4K | GgmlType::Q5K => (&[0, 2], 0.004),
        GgmlType::Q6K => (&[208], 0.002),
        _ => (&[0], 0.05),
    };
    for block in data.chunks_exact_mut(size) {
        for &at in scale_at {
            let v = half::f16::from_f32(rng.random_range(0.2f32..1.0) * magnitude);
            block[at..at + 2].copy_from_slice(&v.to_bits().to_le_bytes());
        }
    }
    BlockMatrix::new(ty, rows, cols, data)
}

fn dims<const N: usize>(kernel: Kernel, shape: &[usize]) -> Result<[usize; N]> {
    <[usize; N]>::try_from(shape).map_err(|_| {
        Error::InvalidArgument(format!(
            "kernel {} takes {N} dimensions, got {shape:?}",
            kernel.name()
        ))
    })
}

/// Runs `kernel` on one shape with inputs drawn from `seed`, on the GPU and on the CPU.
pub async fn check_kernel(
    ctx: &GpuContext,
    kernel: Kernel,
    shape: &[usize],
    seed: u64,
) -> Result<CheckCase> {
    let mut rng = SmallRng::seed_from_u64(seed);
    // (gpu output, cpu output, relative tolerance)
    let (gpu, want, rel_tol) = match kernel {
        Kernel::Matvec => {
            let [rows, cols] = dims(kernel, shape)?;
            let w = random_vec(&mut rng, rows * cols, 1.0);
            let x = random_vec(&mut rng, cols, 1.0);
            let (wb, xb) = (ctx.upload_f32(&w, "w")?, ctx.upload_f32(&x, "x")?);
            let yb = ctx.create_buffer(rows, "y")?;
            let mut batch = ctx.batch();
            batch.matvec(&wb, &xb, &yb, rows, cols)?;
            batch.submit().await?;
            (
                ctx.read_f32(&yb).await?,
                cpu::matvec(&w, &x, rows, cols)?,
                2e-5,
            )
        }
        Kernel::Matmul => {
            let [m, n, k] = dims(kernel, shape)?;
            let x = random_vec(&mut rng, m * k, 1.0);
            let w = random_vec(&mut rng, n * k, 1.0);
            let (xb, wb) = (ctx.upload_f32(&x, "x")?, ctx.upload_f32(&w, "w")?);
            let yb = ctx.create_buffer(m * n, "y")?;
            let mut batch = ctx.batch();
            batch.matmul(&xb, &wb, &yb, m, n, k)?;
            batch.submit().await?;
            (
                ctx.read_f32(&yb).await?,
                cpu::matmul(&x, &w, m, n, k)?,
                2e-5,
            )
        }
        Kernel::RmsNorm => {
            let [rows, n] = dims(kernel, shape)?;
            let x = random_vec(&mut rng, rows * n, 3.0);
            let w = random_vec(&mut rng, n, 1.0);
            let offset = if seed.is_multiple_of(2) { 0.0 } else { 1.0 };
            let (xb, wb) = (ctx.upload_f32(&x, "x")?, ctx.upload_f32(&w, "w")?);
            let yb = ctx.create_buffer(rows * n, "y")?;
            let mut batch = ctx.batch();
            batch.rms_norm(&xb, &wb, &yb, rows, n, 1e-6, offset)?;
            batch.submit().await?;
            let want = cpu::rms_norm(&x, &w, rows, n, 1e-6, offset)?;
            (ctx.read_f32(&yb).await?, want, 2e-6)
        }
        Kernel::Softmax => {
            let [rows, n] = dims(kernel, shape)?;
            // Logit-sized values, so the max subtraction matters.
            let x = random_vec(&mut rng, rows * n, 30.0);
            let xb = ctx.upload_f32(&x, "x")?;
            let yb = ctx.create_buffer(rows * n, "y")?;
            let mut batch = ctx.batch();
            batch.softmax(&xb, &yb, rows, n)?;
            batch.submit().await?;
            (ctx.read_f32(&yb).await?, cpu::softmax(&x, rows, n)?, 2e-6)
        }
        Kernel::Q4Matvec => {
            let [rows, cols] = dims(kernel, shape)?;
            let w = random_vec(&mut rng, rows * cols, 1.0);
            let x = random_vec(&mut rng, cols, 1.0);
            let q = Q4Matrix::quantize(&w, rows, cols)?;
            let (qb, xb) = (ctx.upload_q4(&q)?, ctx.upload_f32(&x, "x")?);
            let yb = ctx.create_buffer(rows, "y")?;
            let mut batch = ctx.batch();
            batch.q4_matvec(&qb, &xb, &yb)?;
            batch.submit().await?;
            (ctx.read_f32(&yb).await?, cpu::q4_matvec(&q, &x)?, 2e-5)
        }
        Kernel::Linear(format) | Kernel::LinearTiled(format) => {
            let [m, rows, cols] = dims(kernel, shape)?;
            let which = match kernel {
                Kernel::LinearTiled(_) => LinearKernel::Tiled,
                _ => LinearKernel::Batched,
            };
            let w =
                WeightMatrix::from_f32(random_vec(&mut rng, rows * cols, 1.0), rows, cols, format)?;
            let x = random_vec(&mut rng, m * cols, 1.0);
            let gw = ctx.upload_weight(&w, Some((w.byte_len() as u64 / 3).max(8)))?;
            let (xb, yb) = (ctx.upload_f32(&x, "x")?, ctx.create_buffer(m * rows, "y")?);
            let mut batch = ctx.batch();
            batch.linear_with(which, &xb, m, &gw, &yb)?;
            batch.submit().await?;
            (ctx.read_f32(&yb).await?, cpu::linear(&x, m, &w)?, 2e-5)
        }
        Kernel::LinearBlocks(ty) | Kernel::LinearTiledBlocks(ty) => {
            let [m, rows, cols] = dims(kernel, shape)?;
            let which = match kernel {
                Kernel::LinearTiledBlocks(_) => LinearKernel::Tiled,
                _ => LinearKernel::Batched,
            };
            let blocks = random_blocks(&mut rng, ty, rows, cols)?;
            let exact = WeightMatrix::from_f32(blocks.dequantize(), rows, cols, WeightFormat::F32)?;
            let w = WeightMatrix::Blocks(blocks);
            let x = random_vec(&mut rng, m * cols, 1.0);
            let gw = ctx.upload_weight(&w, Some((w.byte_len() as u64 / 3).max(8)))?;
            if gw.block_type() != Some(ty) {
                return Err(Error::Gpu(format!(
                    "{} blocks not kept on the GPU",
                    ty.name()
                )));
            }
            let (xb, yb) = (ctx.upload_f32(&x, "x")?, ctx.create_buffer(m * rows, "y")?);
            let mut batch = ctx.batch();
            batch.linear_with(which, &xb, m, &gw, &yb)?;
            batch.submit().await?;
            // The file's values, as the f32 path multiplies them.
            (ctx.read_f32(&yb).await?, cpu::linear(&x, m, &exact)?, 2e-5)
        }
        Kernel::EmbedRowsBlocks(ty) => {
            let [n, rows, cols] = dims(kernel, shape)?;
            let blocks = random_blocks(&mut rng, ty, rows, cols)?;
            let values = blocks.dequantize();
            let w = WeightMatrix::Blocks(blocks);
            let tokens: Vec<u32> = (0..n).map(|_| rng.random_range(0..rows as u32)).collect();
            let gw = ctx.upload_weight(&w, Some((w.byte_len() as u64 / 3).max(8)))?;
            let (tb, xb) = (
                ctx.upload_u32(&tokens, "tokens")?,
                ctx.create_buffer(n * cols, "x")?,
            );
            let mut batch = ctx.batch();
            batch.embed_rows(&gw, &tb, &xb, n, 2.0)?;
            batch.submit().await?;
            let want: Vec<f32> = tokens
                .iter()
                .flat_map(|&t| values[t as usize * cols..(t as usize + 1) * cols].iter())
                .map(|v| v * 2.0)
                .collect();
            (ctx.read_f32(&xb).await?, want, 1e-6)
        }
        Kernel::EmbedRows(format) => {
            let [n, rows, cols] = dims(kernel, shape)?;
            let w =
                WeightMatrix::from_f32(random_vec(&mut rng, rows * cols, 1.0), rows, cols, format)?;
            let tokens: Vec<u32> = (0..n).map(|_| rng.random_range(0..rows as u32)).collect();
            let gw = ctx.upload_weight(&w, Some((w.byte_len() as u64 / 3).max(8)))?;
            let (tb, xb) = (
                ctx.upload_u32(&tokens, "tokens")?,
                ctx.create_buffer(n * cols, "x")?,
            );
            let mut batch = ctx.batch();
            batch.embed_rows(&gw, &tb, &xb, n, 2.0)?;
            batch.submit().await?;
            let mut want = vec![0f32; n * cols];
            for (t, row) in tokens.iter().zip(want.chunks_exact_mut(cols)) {
                w.dequantize_row(*t as usize, row);
                row.iter_mut().for_each(|v| *v *= 2.0);
            }
            (ctx.read_f32(&xb).await?, want, 1e-6)
        }
        Kernel::PagedAttn => {
            let (gpu, want) = paged::run(ctx, dims(kernel, shape)?, &mut rng).await?;
            (gpu, want, 2e-5)
        }
        // Token ids must be equal; logprobs within 1e-5 of the largest magnitude.
        Kernel::Sample => {
            let (gpu, want) = sample::run(ctx, dims(kernel, shape)?, &mut rng).await?;
            (gpu, want, 1e-6)
        }
        other => {
            return Err(Error::InvalidArgument(format!(
                "kernel {} is checked through whole forward passes, not alone",
                other.name()
            )));
        }
    };
    let scale = want.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    let tolerance = rel_tol * scale;
    let max_abs_error = max_abs_error(&gpu, &want)?;
    Ok(CheckCase {
        kernel: kernel.name(),
        shape: shape.to_vec(),
        max_abs_error,
        tolerance,
        passed: max_abs_error <= tolerance,
    })
}

/// The largest |a - b| over two slices of equal length; infinite where any difference is NaN
/// (a NaN output must fail every comparison), a `shape` error where the lengths differ.
pub fn max_abs_error(a: &[f32], b: &[f32]) -> Result<f32> {
    if a.len() != b.len() {
        return Err(Error::shape(
            "comparison",
            format!("{} values against {}", a.len(), b.len()),
        ));
    }
    Ok(a.iter()
        .zip(b)
        .map(|(x, y)| {
            let d = (x - y).abs();
            if d.is_nan() { f32::INFINITY } else { d }
        })
        .fold(0.0f32, f32::max))
}

/// Checks every kernel on its [`default_shapes`], drawing each case's inputs from `seed`.
pub async fn run(ctx: &GpuContext, seed: u64) -> Result<SelfCheckReport> {
    let mut cases = Vec::new();
    for (k, kernel) in Kernel::ALL.into_iter().enumerate() {
        for (i, shape) in default_shapes(kernel).iter().enumerate() {
            let case_seed = seed.wrapping_add(1000 * k as u64 + i as u64);
            cases.push(check_kernel(ctx, kernel, shape, case_seed).await?);
        }
    }
    let passed = cases.iter().all(|c| c.passed);
    Ok(SelfCheckReport {
        seed,
        cases,
        passed,
    })
}

#[cfg(test)]
mod tests {
    use super::max_abs_error;

    #[test]
    fn comparisons_fail_on_nan_and_on_length() {
        assert_eq!(max_abs_error(&[1.0, 2.0], &[1.0, 2.5]).ok(), Some(0.5));
        // A NaN anywhere, on either side, is an infinite error: it passes no tolerance.
        assert_eq!(
            max_abs_error(&[f32::NAN, 0.0], &[0.0, 0.0]).ok(),
            Some(f32::INFINITY)
        );
        assert_eq!(max_abs_error(&[0.0], &[f32::NAN]).ok(), Some(f32::INFINITY));
        assert!(max_abs_error(&[1.0], &[1.0, 2.0]).is_err());
        assert!(max_abs_error(&[], &[0.0]).is_err());
    }
}
