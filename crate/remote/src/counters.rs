//! Counters shared by every client of a server pool: requests, retries, failures, requests in
//! flight, and the tokens sent, computed and generated (read from the answers' `usage`).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Live counters (every field counts up, except `in_flight`).
#[derive(Debug, Default)]
pub struct Counters {
    /// Requests answered with a success.
    pub requests: AtomicU64,
    /// Attempts retried (after a 429, a 5xx, a timeout or a connection error).
    pub retries: AtomicU64,
    /// Requests that failed for good.
    pub failures: AtomicU64,
    /// Requests in flight now.
    pub in_flight: AtomicUsize,
    /// Prompt tokens sent (`usage.prompt_tokens`, once per prompt).
    pub prompt_tokens: AtomicU64,
    /// Prompt tokens the servers said came from their prefix cache
    /// (`usage.prompt_tokens_details.cached_tokens`, or llama-server's `timings.cache_n`).
    pub cached_tokens: AtomicU64,
    /// Whether any answer said how many prompt tokens were cached.
    pub cache_reported: AtomicU64,
    /// Tokens generated (`usage.completion_tokens`).
    pub completion_tokens: AtomicU64,
}

/// The counters at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CounterSnapshot {
    /// Requests answered with a success.
    pub requests: u64,
    /// Attempts retried.
    pub retries: u64,
    /// Requests that failed for good.
    pub failures: u64,
    /// Requests in flight.
    pub in_flight: usize,
    /// Prompt tokens sent.
    pub prompt_tokens: u64,
    /// Prompt tokens the servers said they took from their prefix cache (None: no server said).
    pub cached_tokens: Option<u64>,
    /// Tokens generated.
    pub completion_tokens: u64,
}

impl Counters {
    /// The counters now.
    pub fn snapshot(&self) -> CounterSnapshot {
        let get = |a: &AtomicU64| a.load(Ordering::SeqCst);
        CounterSnapshot {
            requests: get(&self.requests),
            retries: get(&self.retries),
            failures: get(&self.failures),
            in_flight: self.in_flight.load(Ordering::SeqCst),
            prompt_tokens: get(&self.prompt_tokens),
            cached_tokens: (get(&self.cache_reported) > 0).then(|| get(&self.cached_tokens)),
            completion_tokens: get(&self.completion_tokens),
        }
    }

    /// Adds an answer's usage.
    pub fn add_usage(&self, usage: &Usage) {
        let add = |a: &AtomicU64, v: u64| {
            a.fetch_add(v, Ordering::SeqCst);
        };
        add(&self.prompt_tokens, usage.prompt_tokens);
        add(
            &self.completion_tokens,
            usage.completion_tokens.unwrap_or(0),
        );
        if let Some(n) = usage.cached_tokens {
            add(&self.cached_tokens, n);
            add(&self.cache_reported, 1);
        }
    }
}

/// The token counts of one answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Prompt tokens (`usage.prompt_tokens`; the prompt's own count when absent).
    pub prompt_tokens: u64,
    /// Prompt tokens the server took from its prefix cache, where it says
    /// (`usage.prompt_tokens_details.cached_tokens`, or llama-server's `timings.cache_n`).
    pub cached_tokens: Option<u64>,
    /// Tokens generated (`usage.completion_tokens`), where it says.
    pub completion_tokens: Option<u64>,
}

impl Usage {
    /// The usage of `answer`, whose prompt had `sent` tokens here.
    pub fn of(answer: &serde_json::Value, sent: u64) -> Self {
        let usage = &answer["usage"];
        Usage {
            prompt_tokens: usage["prompt_tokens"].as_u64().unwrap_or(sent),
            cached_tokens: usage["prompt_tokens_details"]["cached_tokens"]
                .as_u64()
                .or_else(|| answer["timings"]["cache_n"].as_u64()),
            completion_tokens: usage["completion_tokens"].as_u64(),
        }
    }

    /// Prompt tokens the server computed: sent less cached.
    pub fn computed(&self) -> u64 {
        self.prompt_tokens
            .saturating_sub(self.cached_tokens.unwrap_or(0))
    }
}
