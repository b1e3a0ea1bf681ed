//! Process reward models: a backbone run by the generation engine plus a head that turns the
//! hidden state at each step marker into a score in [0, 1]; steps are scored incrementally, each
//! PRM sequence keeping its own KV cache.

mod format;
mod head;
mod scorer;
mod trl_args;

pub use format::{PrmFormat, VERIFIER_INSTRUCTION};
pub use head::{PrmHead, TRL_DEFAULT_SEPARATOR};
pub use scorer::Prm;
pub use trl_args::{TRAINING_ARGS, recorded_separator};
