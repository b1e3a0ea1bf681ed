//! Process reward models: a backbone run by the generation engine plus a head that turns the
//! hidden state at each step marker into a score in [0, 1]; steps are scored incrementally, each
//! PRM sequence keeping its own KV cache.

mod format;
mod head;
mod scorer;

pub use format::{PrmFormat, VERIFIER_INSTRUCTION};
pub use head::PrmHead;
pub use scorer::Prm;
