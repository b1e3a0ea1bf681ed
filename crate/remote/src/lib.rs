//! ttsearch's search on OpenAI-compatible inference servers (vLLM, llama.cpp's server): a
//! [`RemotePolicy`] over the completions API, a generative verifier over the same API, PRMs
//! read from prompt logprobs, and reward-model PRMs over vLLM's pooling API; each on a [`Pool`]
//! of servers with least-loaded dispatch, timeouts and retries.

mod completions;
mod counters;
mod policy;
mod pool;
mod server_kind;
mod verifier;

pub use completions::{Choice, CompletionRequest, choices, ending};
pub use counters::{CounterSnapshot, Counters, Usage};
pub use policy::RemotePolicy;
pub use pool::{Pool, RetryPolicy, ServerStats};
pub use server_kind::{PromptInput, ServerKind};
pub use verifier::{RemoteVerifier, yes_no_score};
