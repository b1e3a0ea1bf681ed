//! [`RemoteVerifier`]: the generative verifier (any chat model, the policy's own server
//! included) over the completions API. Its sequences are the verifier format's token ids
//! (`PrmFormat::Generative`, rendered locally as the local verifier renders them); each scored
//! step is one request of the whole sequence for one greedy token with the top logprobs, and
//! the score is P("Yes") against P("No") read from them, as the local verifier reads its
//! logits. An answer missing from the top logprobs counts as probability 0 (both missing: 0.5).
//! Servers that take only text get the ids decoded, special tokens kept, without the BOS their
//! tokenizer adds.

use crate::completions::{CompletionRequest, choices};
use crate::counters::Usage;
use crate::pool::Pool;
use crate::server_kind::PromptInput;
use std::collections::HashMap;
use std::sync::Arc;
use ttsearch::kv::SeqId;
use ttsearch::prm::PrmFormat;
use ttsearch::search::{ScorerStats, StepScorer};
use ttsearch::tokenize::Tokenizer;
use ttsearch::{Error, Result};

/// Top logprobs asked for per scored step.
const TOP_LOGPROBS: usize = 20;

/// A verifier sequence: the problem, its token ids and the steps scored.
#[derive(Debug, Clone)]
struct Sequence {
    problem: Arc<str>,
    ids: Vec<u32>,
    steps: usize,
}

/// A generative verifier served by a pool of OpenAI-compatible servers.
pub struct RemoteVerifier {
    pool: Arc<Pool>,
    tokenizer: Arc<Tokenizer>,
    sequences: HashMap<SeqId, Sequence>,
    next_id: u64,
    stats: ScorerStats,
}

/// P(yes) against P(no) from one position's top logprobs (token text to logprob).
pub fn yes_no_score(top: &serde_json::Value, yes: &str, no: &str) -> f32 {
    let prob = |answer: &str| -> f64 {
        top.get(answer)
            .and_then(serde_json::Value::as_f64)
            .filter(|lp| lp.is_finite())
            .map_or(0.0, f64::exp)
    };
    let (p_yes, p_no) = (prob(yes), prob(no));
    if p_yes + p_no <= 0.0 {
        return 0.5;
    }
    (p_yes / (p_yes + p_no)) as f32
}

impl RemoteVerifier {
    /// A verifier on `pool` whose prompts `tokenizer` (the served model's) renders.
    pub fn new(pool: Arc<Pool>, tokenizer: Arc<Tokenizer>) -> Self {
        Self {
            pool,
            tokenizer,
            sequences: HashMap::new(),
            next_id: 0,
            stats: ScorerStats::default(),
        }
    }

    fn add(&mut self, seq: Sequence) -> SeqId {
        let id = SeqId(self.next_id);
        self.next_id += 1;
        self.sequences.insert(id, seq);
        id
    }

    fn seq(&self, id: SeqId) -> Result<&Sequence> {
        self.sequences
            .get(&id)
            .ok_or_else(|| Error::InvalidArgument(format!("no verifier sequence {}", id.0)))
    }

    /// The prompt `ids` as the pool's servers take it.
    fn input(&self, ids: &[u32]) -> Result<PromptInput> {
        if !self.pool.kind().text_prompts() {
            return Ok(PromptInput::Ids(ids.to_vec()));
        }
        let skip_bos =
            self.tokenizer.add_bos && ids.first() == self.tokenizer.bos_token_id.as_ref();
        let ids = if skip_bos { &ids[1..] } else { ids };
        Ok(PromptInput::Text(self.tokenizer.decode(ids, false)?))
    }

    /// One step's score and the prompt tokens the server computed for it.
    fn score_one(&self, ids: &[u32]) -> Result<(f32, u64)> {
        let prompt = self.input(ids)?;
        let body = CompletionRequest {
            model: self.pool.model(),
            prompt: &prompt,
            n: 1,
            max_tokens: 1,
            temperature: 0.0,
            top_p: 1.0,
            seed: 0,
            stop: &[],
            logprobs: Some(TOP_LOGPROBS),
            top_k_off: self.pool.kind().top_k_off(),
        }
        .body();
        let answer = self.pool.post("/completions", &body)?;
        let usage = Usage::of(&answer, ids.len() as u64);
        self.pool.counters().add_usage(&usage);
        let choice = choices(&answer)?
            .into_iter()
            .next()
            .ok_or_else(|| Error::Network("a completions answer has no choices".into()))?;
        let top = &choice.logprobs["top_logprobs"][0];
        if !top.is_object() {
            return Err(Error::Network(
                "the server returned no top logprobs for the verifier's answer".into(),
            ));
        }
        let (yes, no) = PrmFormat::Generative.answer_pair(&self.tokenizer);
        Ok((yes_no_score(top, yes, no), usage.computed()))
    }
}

impl StepScorer for RemoteVerifier {
    async fn start(&mut self, problem: &str) -> Result<SeqId> {
        let ids = PrmFormat::Generative.prefix(&self.tokenizer, problem)?;
        Ok(self.add(Sequence {
            problem: Arc::from(problem),
            ids,
            steps: 0,
        }))
    }

    fn fork(&mut self, seq: SeqId, k: usize) -> Result<Vec<SeqId>> {
        let parent = self.seq(seq)?.clone();
        Ok((0..k).map(|_| self.add(parent.clone())).collect())
    }

    async fn score_steps(&mut self, items: &[(SeqId, &str)]) -> Result<Vec<f32>> {
        let mut prompts = Vec::with_capacity(items.len());
        for (id, step) in items {
            let seq = self.seq(*id)?;
            let chunk =
                PrmFormat::Generative.step(&self.tokenizer, &seq.problem, step, seq.steps, "")?;
            let mut ids = seq.ids.clone();
            ids.extend(chunk);
            prompts.push(ids);
        }
        let this = &*self;
        let results: Vec<Result<(f32, u64)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = prompts
                .iter()
                .map(|ids| scope.spawn(move || this.score_one(ids)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(Error::Internal("a request thread panicked".into()))
                    })
                })
                .collect()
        });
        let mut scores = Vec::with_capacity(items.len());
        for (((id, _), ids), result) in items.iter().zip(prompts).zip(results) {
            let (score, computed) = result?;
            self.stats.tokens_fed += computed;
            self.stats.rescore_tokens += ids.len() as u64;
            if let Some(seq) = self.sequences.get_mut(id) {
                seq.ids = ids;
                seq.steps += 1;
            }
            scores.push(score);
        }
        Ok(scores)
    }

    fn release(&mut self, seq: SeqId) -> Result<()> {
        self.sequences
            .remove(&seq)
            .map(|_| ())
            .ok_or_else(|| Error::InvalidArgument(format!("no verifier sequence {}", seq.0)))
    }

    fn stats(&self) -> ScorerStats {
        self.stats
    }

    fn sequence_tokens(&self, seq: SeqId) -> Option<usize> {
        self.sequences.get(&seq).map(|s| s.ids.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yes_against_no() {
        let top = json!({"Yes": (0.6f64).ln(), "No": (0.2f64).ln(), "Maybe": -3.0});
        assert!((yes_no_score(&top, "Yes", "No") - 0.75).abs() < 1e-6);
        assert_eq!(yes_no_score(&json!({"Yes": -0.1}), "Yes", "No"), 1.0);
        assert_eq!(yes_no_score(&json!({}), "Yes", "No"), 0.5);
    }
}
