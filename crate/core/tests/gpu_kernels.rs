//! Every GPU kernel against the CPU backend on fresh random inputs, natively (lavapipe in CI).

#![cfg(not(target_arch = "wasm32"))]

mod common;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use ttsearch::gpu::Kernel;
use ttsearch::selfcheck::{check_kernel, default_shapes};

/// The default shapes plus three random ones drawn from the seed.
fn shapes(kernel: Kernel, rng: &mut SmallRng) -> Vec<Vec<usize>> {
    let mut shapes = default_shapes(kernel);
    for _ in 0..3 {
        let a = rng.random_range(1..50);
        let b = rng.random_range(1..700);
        shapes.push(match kernel {
            Kernel::Matmul => vec![a, rng.random_range(1..90), rng.random_range(1..200)],
            Kernel::Q4Matvec => vec![a, 32 * rng.random_range(1..40)],
            Kernel::Linear(_) | Kernel::LinearTiled(_) => {
                vec![rng.random_range(1..71), b, 32 * rng.random_range(1..12)]
            }
            Kernel::EmbedRows(_) => vec![1 + a % 9, b, 32 * rng.random_range(1..12)],
            Kernel::LinearBlocks(ty) | Kernel::LinearTiledBlocks(ty) => {
                vec![
                    rng.random_range(1..71),
                    b,
                    ty.block_size() * rng.random_range(1..4),
                ]
            }
            Kernel::EmbedRowsBlocks(ty) => {
                vec![1 + a % 9, b, ty.block_size() * rng.random_range(1..4)]
            }
            // [sequences, heads, kv_heads, head_dim, block_size, shared prefix]
            Kernel::PagedAttn => {
                let kv = rng.random_range(1..4);
                vec![
                    1 + a % 6,
                    kv * rng.random_range(1..5),
                    kv,
                    2 * rng.random_range(1..40),
                    rng.random_range(1..33),
                    rng.random_range(1..300),
                ]
            }
            // [rows, vocab, top_k, top_n]
            Kernel::Sample => vec![
                1 + a % 7,
                20 + b * 7,
                rng.random_range(1..20),
                rng.random_range(0..6),
            ],
            _ => vec![a, b],
        });
    }
    shapes
}

fn check_all_shapes(kernel: Kernel) {
    let Some(ctx) = common::gpu() else { return };
    let seed = common::seed();
    let mut rng = SmallRng::seed_from_u64(seed);
    for (i, shape) in shapes(kernel, &mut rng).iter().enumerate() {
        let case = ttsearch::block_on(check_kernel(ctx, kernel, shape, seed + i as u64))
            .unwrap_or_else(|e| panic!("{} {shape:?}: {e}", kernel.name()));
        assert!(
            case.passed,
            "{} {shape:?}: max abs error {} > tolerance {} (seed {seed})",
            kernel.name(),
            case.max_abs_error,
            case.tolerance
        );
    }
}

#[test]
fn matvec_matches_cpu() {
    check_all_shapes(Kernel::Matvec);
}

#[test]
fn matmul_matches_cpu() {
    check_all_shapes(Kernel::Matmul);
}

#[test]
fn rms_norm_matches_cpu() {
    check_all_shapes(Kernel::RmsNorm);
}

#[test]
fn softmax_matches_cpu() {
    check_all_shapes(Kernel::Softmax);
}

#[test]
fn q4_matvec_matches_cpu() {
    check_all_shapes(Kernel::Q4Matvec);
}

#[test]
fn linear_in_every_weight_format_matches_cpu() {
    for kernel in Kernel::ALL
        .into_iter()
        .filter(|k| matches!(k, Kernel::Linear(_) | Kernel::LinearTiled(_)))
    {
        check_all_shapes(kernel);
    }
}

#[test]
fn linear_and_embed_rows_on_gguf_blocks_match_the_dequantized_values() {
    for kernel in Kernel::ALL.into_iter().filter(|k| {
        matches!(
            k,
            Kernel::LinearBlocks(_) | Kernel::LinearTiledBlocks(_) | Kernel::EmbedRowsBlocks(_)
        )
    }) {
        check_all_shapes(kernel);
    }
}

#[test]
fn embed_rows_in_every_weight_format_matches_cpu() {
    for kernel in Kernel::ALL
        .into_iter()
        .filter(|k| matches!(k, Kernel::EmbedRows(_)))
    {
        check_all_shapes(kernel);
    }
}

#[test]
fn dispatch_beyond_one_grid_dimension() {
    // 70,000 rows -> 70,000 workgroups, more than the 65,535 one dimension allows.
    let Some(ctx) = common::gpu() else { return };
    let seed = common::seed();
    let case = ttsearch::block_on(check_kernel(ctx, Kernel::Softmax, &[70_000, 3], seed))
        .expect("softmax over 70,000 rows");
    assert!(case.passed, "{case:?}");
}

#[test]
fn paged_attention_matches_cpu() {
    check_all_shapes(Kernel::PagedAttn);
}

#[test]
fn sampling_matches_cpu() {
    check_all_shapes(Kernel::Sample);
}

/// Long contexts: 16 sequences forked from a 4,096-token prefix (64 tiles of keys), with and
/// without a sliding window (the seed picks it).
#[test]
fn paged_attention_over_4096_positions_for_16_sequences() {
    let Some(ctx) = common::gpu() else { return };
    let seed = common::seed();
    for (i, shape) in [[16, 8, 2, 64, 16, 4096], [16, 4, 1, 256, 32, 4100]]
        .iter()
        .enumerate()
    {
        let case = ttsearch::block_on(check_kernel(ctx, Kernel::PagedAttn, shape, seed + i as u64))
            .unwrap_or_else(|e| panic!("paged_attn {shape:?}: {e}"));
        assert!(
            case.passed,
            "paged_attn {shape:?}: max abs error {} > tolerance {} (seed {seed})",
            case.max_abs_error, case.tolerance
        );
    }
}

/// GGUF blocks uploaded two rows at a time into several row parts, with rows of an odd number
/// of Q8_0 blocks (102 bytes: every other row starts mid-word): the products equal the f32
/// path's on the dequantized values; a chunk that ends on an odd row inside the matrix is
/// refused (its padding would overwrite the next row).
#[test]
fn gguf_blocks_written_in_chunks_across_parts() {
    use ttsearch::quant::blocks::BlockMatrix;
    use ttsearch::quant::ggml::GgmlType;
    use ttsearch::quant::{WeightFormat, WeightMatrix};
    let Some(ctx) = common::gpu() else { return };
    let mut rng = SmallRng::seed_from_u64(common::seed());
    let (rows, cols, m) = (13, 96, 3);
    let ty = GgmlType::Q8_0;
    let mut data: Vec<u8> = (0..rows * 3 * 34).map(|_| rng.random()).collect();
    for block in data.chunks_exact_mut(34) {
        let d = half::f16::from_f32(rng.random_range(0.002f32..0.01));
        block[..2].copy_from_slice(&d.to_bits().to_le_bytes());
    }
    let blocks = BlockMatrix::new(ty, rows, cols, data.clone()).expect("blocks");
    let exact =
        WeightMatrix::from_f32(blocks.dequantize(), rows, cols, WeightFormat::F32).expect("exact");
    let w = ctx
        .empty_blocks(rows, cols, ty, Some(4 * 102))
        .expect("matrix");
    assert!(w.parts() >= 3, "{} parts", w.parts());
    let chunk = |a: usize, b: usize| {
        WeightMatrix::Blocks(
            BlockMatrix::new(ty, b - a, cols, data[a * 102..b * 102].to_vec()).expect("chunk"),
        )
    };
    let odd = w.write_rows(ctx, 0, &chunk(0, 3));
    assert!(odd.is_err(), "a chunk ending on row 3 of 13 was taken");
    for a in (0..rows).step_by(2) {
        w.write_rows(ctx, a, &chunk(a, (a + 2).min(rows)))
            .expect("write");
    }
    let x: Vec<f32> = (0..m * cols).map(|_| rng.random_range(-1.0..1.0)).collect();
    let xb = ctx.upload_f32(&x, "x").expect("x");
    let yb = ctx.create_buffer(m * rows, "y").expect("y");
    let mut batch = ctx.batch();
    batch.linear(&xb, m, &w, &yb).expect("linear");
    ttsearch::block_on(batch.submit()).expect("submit");
    let got = ttsearch::block_on(ctx.read_f32(&yb)).expect("read");
    let want = ttsearch::cpu::linear(&x, m, &exact).expect("cpu");
    let err = ttsearch::selfcheck::max_abs_error(&got, &want).expect("same length");
    let scale = want.iter().fold(1f32, |a, v| a.max(v.abs()));
    assert!(err <= 2e-5 * scale, "max abs error {err}");
}
