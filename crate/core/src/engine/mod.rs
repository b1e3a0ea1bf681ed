//! Generation: batched decoding of many sequences over a paged KV cache with seeded sampling,
//! stop conditions, logprobs and teacher-forced scoring; the API the search layer uses.
//!
//! The files follow the engine's jobs: the sequences it holds (`registry`), which of them
//! decode each step (`admission`), the decode loop (`extend`), when a sequence stops
//! (`stopping`), teacher forcing (`scoring`), and the backends it runs on.

mod admission;
mod backend;
mod extend;
mod gpu_decode;
mod output;
mod params;
mod random;
mod registry;
mod sampler;
mod scoring;
mod stopping;

pub use backend::{AnyBackend, Backend, CpuBackend, GpuBackend};
pub use extend::{CancelToken, ExtendOptions, TextCallback};
pub use output::{FinishReason, SeqOutput};
pub use params::SamplingParams;
pub use random::{pcg_hash, uniform};
pub use registry::{Counters, Engine, StepHook};
pub use sampler::{Sampled, sample, sample_with};
