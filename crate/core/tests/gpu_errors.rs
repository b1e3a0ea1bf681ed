//! The GPU runtime's typed errors: shapes, buffer limits, and a lost device.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use ttsearch::gpu::{GpuContext, GpuOptions};

#[test]
fn shape_mismatch_is_a_typed_error() {
    let Some(ctx) = common::gpu() else { return };
    let w = ctx.upload_f32(&[1.0; 6], "w").unwrap();
    let x = ctx.upload_f32(&[1.0; 2], "x").unwrap();
    let y = ctx.create_buffer(2, "y").unwrap();
    let mut batch = ctx.batch();
    let err = batch.matvec(&w, &x, &y, 2, 3).unwrap_err();
    assert_eq!(err.code(), "shape", "{err}");
    assert!(batch.is_empty());
}

#[test]
fn buffer_over_the_binding_limit_is_a_typed_error() {
    let Some(ctx) = common::gpu() else { return };
    let limit = ctx.report().limits.max_storage_buffer_binding_size;
    let words = (limit / 4 + 1) as usize;
    let err = ctx.create_buffer(words, "too big").unwrap_err();
    assert_eq!(err.code(), "buffer_too_large", "{err}");
}

#[test]
fn reports_adapter_and_real_limits() {
    let Some(ctx) = common::gpu() else { return };
    let report = ctx.report();
    assert!(!report.name.is_empty());
    // The device was created with the adapter's limits, not WebGPU's 128 MiB default binding.
    assert_eq!(
        report.limits.max_storage_buffer_binding_size,
        ctx.limits().max_storage_buffer_binding_size
    );
    assert!(report.limits.max_compute_invocations_per_workgroup >= 256);
}

#[test]
fn lost_device_fails_every_later_call() {
    if common::gpu().is_none() {
        return;
    }
    // A device of its own: destroying the shared one would break the other tests.
    let ctx = ttsearch::block_on(GpuContext::with_options(&GpuOptions::default())).unwrap();
    let x = ctx.upload_f32(&[1.0, 2.0], "x").unwrap();
    ctx.destroy();
    let err = ttsearch::block_on(ctx.read_f32(&x)).unwrap_err();
    assert_eq!(err.code(), "device_lost", "{err}");
    let err = ctx.create_buffer(4, "after loss").unwrap_err();
    assert_eq!(err.code(), "device_lost", "{err}");
}
