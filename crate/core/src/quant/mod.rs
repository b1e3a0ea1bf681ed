//! Weight formats shared by the CPU and GPU backends: packed f16, symmetric int8 and int4
//! groups of 32 with f16 scales, and the matrix type that holds any of them.

pub mod blocks;
pub mod f16pack;
pub mod ggml;
pub mod q4;
pub mod q8;
pub mod weight;

pub use q4::Q4Matrix;
pub use q8::Q8Matrix;
pub use weight::{WeightFormat, WeightMatrix};
