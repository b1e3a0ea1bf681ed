//! Generation: batched decoding of many sequences over a paged KV cache with seeded sampling,
//! stop conditions, logprobs and teacher-forced scoring; the API the search layer uses.

mod backend;
mod codec;
mod generate;
mod gpu_decode;
mod params;
mod random;
mod sampler;
mod stop;

pub use backend::{Backend, CpuBackend, GpuBackend};
pub use codec::{ByteCodec, TokenCodec, Utf8Stream, decode_bytes};
pub use generate::{
    CancelToken, Counters, Engine, ExtendOptions, FinishReason, SeqOutput, TextCallback,
};
pub use gpu_decode::forward_sample;
pub use params::SamplingParams;
pub use random::{pcg_hash, uniform};
pub use sampler::{Sampled, sample, sample_with};
