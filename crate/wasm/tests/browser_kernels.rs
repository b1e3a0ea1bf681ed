//! Every GPU kernel against the CPU backend in headless Chromium's WebGPU (SwiftShader in CI).

#![cfg(target_arch = "wasm32")]

use ttsearch::gpu::{GpuContext, Kernel};
use ttsearch::selfcheck::{check_kernel, default_shapes};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn fresh_seed() -> u64 {
    (js_sys::Math::random() * 9.007_199_254_740_991e15) as u64
}

/// Fails (never skips) when the browser offers no WebGPU adapter.
async fn gpu() -> GpuContext {
    GpuContext::new()
        .await
        .unwrap_or_else(|e| panic!("WebGPU adapter required in the browser tests: {e}"))
}

/// The default shapes plus one random shape per kernel.
fn shapes(kernel: Kernel, seed: u64) -> Vec<Vec<usize>> {
    let mut shapes = default_shapes(kernel);
    let a = 1 + (seed % 37) as usize;
    let b = 1 + (seed / 37 % 401) as usize;
    shapes.push(match kernel {
        Kernel::Matmul => vec![a, 1 + b % 60, 1 + (seed % 97) as usize],
        Kernel::Q4Matvec => vec![a, 32 * (1 + b % 20)],
        Kernel::Linear(_) | Kernel::LinearTiled(_) => {
            vec![1 + (seed % 70) as usize, b, 32 * (1 + b % 6)]
        }
        Kernel::EmbedRows(_) => vec![1 + a % 5, b, 32 * (1 + b % 6)],
        Kernel::LinearBlocks(ty) | Kernel::LinearTiledBlocks(ty) => {
            vec![1 + (seed % 70) as usize, b, ty.block_size() * (1 + b % 3)]
        }
        Kernel::EmbedRowsBlocks(ty) => vec![1 + a % 5, b, ty.block_size() * (1 + b % 3)],
        Kernel::PagedAttn => {
            vec![
                1 + a % 5,
                2 * (1 + b % 4),
                2,
                2 * (1 + a % 32),
                1 + b % 16,
                1 + b % 200,
            ]
        }
        Kernel::Sample => vec![1 + a % 6, 20 + b * 5, 1 + a % 15, b % 4],
        _ => vec![a, b],
    });
    shapes
}

async fn check_all_shapes(kernel: Kernel) {
    let ctx = gpu().await;
    let seed = fresh_seed();
    console_log!("{} seed {seed} on {}", kernel.name(), ctx.report().name);
    for (i, shape) in shapes(kernel, seed).iter().enumerate() {
        let case = check_kernel(&ctx, kernel, shape, seed + i as u64)
            .await
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

#[wasm_bindgen_test]
async fn matvec_matches_cpu() {
    check_all_shapes(Kernel::Matvec).await;
}

#[wasm_bindgen_test]
async fn matmul_matches_cpu() {
    check_all_shapes(Kernel::Matmul).await;
}

#[wasm_bindgen_test]
async fn rms_norm_matches_cpu() {
    check_all_shapes(Kernel::RmsNorm).await;
}

#[wasm_bindgen_test]
async fn softmax_matches_cpu() {
    check_all_shapes(Kernel::Softmax).await;
}

#[wasm_bindgen_test]
async fn q4_matvec_matches_cpu() {
    check_all_shapes(Kernel::Q4Matvec).await;
}

#[wasm_bindgen_test]
async fn linear_in_every_weight_format_matches_cpu() {
    for kernel in Kernel::ALL
        .into_iter()
        .filter(|k| matches!(k, Kernel::Linear(_) | Kernel::LinearTiled(_)))
    {
        check_all_shapes(kernel).await;
    }
}

#[wasm_bindgen_test]
async fn linear_and_embed_rows_on_gguf_blocks_match_the_dequantized_values() {
    for kernel in Kernel::ALL.into_iter().filter(|k| {
        matches!(
            k,
            Kernel::LinearBlocks(_) | Kernel::LinearTiledBlocks(_) | Kernel::EmbedRowsBlocks(_)
        )
    }) {
        check_all_shapes(kernel).await;
    }
}

#[wasm_bindgen_test]
async fn embed_rows_in_every_weight_format_matches_cpu() {
    for kernel in Kernel::ALL
        .into_iter()
        .filter(|k| matches!(k, Kernel::EmbedRows(_)))
    {
        check_all_shapes(kernel).await;
    }
}

#[wasm_bindgen_test]
async fn paged_attention_matches_cpu() {
    check_all_shapes(Kernel::PagedAttn).await;
}

#[wasm_bindgen_test]
async fn sampling_matches_cpu() {
    check_all_shapes(Kernel::Sample).await;
}

#[wasm_bindgen_test]
async fn device_has_the_adapter_limits_not_the_defaults() {
    let ctx = gpu().await;
    let limits = ctx.report().limits;
    console_log!("adapter {:?}", ctx.report());
    assert_eq!(ctx.report().backend, "webgpu");
    // WebGPU's default binding limit is 128 MiB; SwiftShader offers more and we must get it.
    assert!(
        limits.max_storage_buffer_binding_size > 128 << 20,
        "{limits:?}"
    );
}

#[wasm_bindgen_test]
async fn errors_are_typed_in_the_browser() {
    let ctx = gpu().await;
    let w = ctx.upload_f32(&[1.0; 6], "w").unwrap();
    let x = ctx.upload_f32(&[1.0; 2], "x").unwrap();
    let y = ctx.create_buffer(2, "y").unwrap();
    let mut batch = ctx.batch();
    assert_eq!(batch.matvec(&w, &x, &y, 2, 3).unwrap_err().code(), "shape");
    ctx.destroy();
    assert_eq!(ctx.read_f32(&y).await.unwrap_err().code(), "device_lost");
}
