//! The CPU backend: the same ops as the GPU kernels, in plain Rust.
//!
//! It is the fallback where no WebGPU exists and the oracle the GPU kernels are tested against.
//! Every function checks its operand shapes and returns [`crate::Error::Shape`] on a mismatch.

mod attention;
pub mod int_dot;
mod linear;
mod norm;
mod parallel;
mod softmax;

pub use attention::paged_attention;
pub use linear::{linear, matmul, matvec, q4_matvec};
pub use norm::rms_norm;
pub use softmax::softmax;

use crate::error::{Error, Result};

pub(crate) fn expect_len(op: &'static str, what: &str, got: usize, want: usize) -> Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(Error::shape(
            op,
            format!("{what} has {got} elements, expected {want}"),
        ))
    }
}
