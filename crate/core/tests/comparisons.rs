//! The test helpers' comparisons fail on what they must: a NaN output and a length mismatch.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{assert_close, max_diff};

fn panics(f: impl FnOnce() + std::panic::UnwindSafe) -> bool {
    std::panic::catch_unwind(f).is_err()
}

#[test]
fn a_nan_output_fails_every_comparison() {
    assert!(max_diff(&[0.0, 1.0], &[0.0, 1.0]) < 1e-6);
    // Whatever the tolerance, NaN is not within it.
    assert!(max_diff(&[f32::NAN, 1.0], &[0.0, 1.0]) >= 1e30);
    assert!(max_diff(&[0.0], &[f32::NAN]) >= 1e30);
    assert!(panics(|| assert_close(&[f32::NAN], &[0.0f32], 1e30, "nan")));
    assert!(panics(|| assert_close(&[0.0f64], &[f64::NAN], 1e30, "nan")));
}

#[test]
fn a_length_mismatch_fails_every_comparison() {
    assert!(panics(|| {
        max_diff(&[1.0], &[1.0, 2.0]);
    }));
    // An empty result never matches a non-empty golden list.
    assert!(panics(|| assert_close(
        &[] as &[f32],
        &[0.5f64],
        1.0,
        "empty"
    )));
    assert_close(&[0.5f32], &[0.50001f64], 1e-4, "close");
}
