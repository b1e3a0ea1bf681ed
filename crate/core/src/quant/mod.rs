//! Weight formats shared by the CPU and GPU backends: packed f16 and symmetric int4 groups.

pub mod f16pack;
pub mod q4;

pub use q4::Q4Matrix;
