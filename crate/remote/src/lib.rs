//! ttsearch's search on OpenAI-compatible inference servers (vLLM, llama.cpp's server): a
//! [`RemotePolicy`] over the completions API, and a [`RemotePrm`]: the generative verifier and
//! the LM-token PRMs over the same API, reward-head PRMs over vLLM's pooling API; each on a
//! [`Pool`] of servers with least-loaded dispatch, timeouts and retries.

mod completions;
mod counters;
mod next_token;
mod parallel;
mod policy;
mod pool;
mod pooling;
mod remote_prm;
mod server_kind;

pub use completions::{Choice, CompletionRequest, choices, ending};
pub use counters::{CounterSnapshot, Counters, Usage};
pub use next_token::yes_no_score;
pub use policy::RemotePolicy;
pub use pool::{Pool, RetryPolicy, ServerStats};
pub use pooling::last_step_reward;
pub use remote_prm::RemotePrm;
pub use server_kind::{PromptInput, ServerKind};
