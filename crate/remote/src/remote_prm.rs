//! [`RemotePrm`]: a step scorer on servers. Its sequences are the PRM format's token ids,
//! rendered here as the local scorer renders them (`ttsearch::prm::PrmFormat`); each scored
//! step sends the whole sequence (requests of one call in parallel) and reads the new step's
//! score: from the next-token logprobs over the completions API for the generative verifier
//! and the LM-token PRMs (`next_token`), from vLLM's pooling API for reward-head PRMs
//! (`pooling`).

use crate::parallel::in_parallel;
use crate::pool::Pool;
use crate::{next_token, pooling};
use std::collections::HashMap;
use std::sync::Arc;
use ttsearch::kv::SeqId;
use ttsearch::prm::PrmFormat;
use ttsearch::search::{ScorerStats, StepScorer};
use ttsearch::tokenize::Tokenizer;
use ttsearch::{Error, Result};

/// A scorer sequence: the problem, its token ids and the steps scored.
#[derive(Debug, Clone)]
struct Sequence {
    problem: Arc<str>,
    ids: Vec<u32>,
    steps: usize,
}

/// A PRM or generative verifier served by a pool of OpenAI-compatible servers.
pub struct RemotePrm {
    pool: Arc<Pool>,
    tokenizer: Arc<Tokenizer>,
    format: PrmFormat,
    sequences: HashMap<SeqId, Sequence>,
    next_id: u64,
    stats: ScorerStats,
}

impl RemotePrm {
    /// A scorer of `format` on `pool`, whose inputs `tokenizer` (the served model's) renders:
    /// generative, rlhflow or math-shepherd over the completions API, qwen-prm over vLLM's
    /// pooling API.
    pub fn new(pool: Arc<Pool>, tokenizer: Arc<Tokenizer>, format: PrmFormat) -> Result<Self> {
        if !(format.lm_token() || format == PrmFormat::QwenPrm) {
            return Err(Error::Unsupported(format!(
                "a {} PRM on servers: its head is not served by the completions or pooling API; \
                 run it locally",
                format.name()
            )));
        }
        Ok(Self {
            pool,
            tokenizer,
            format,
            sequences: HashMap::new(),
            next_id: 0,
            stats: ScorerStats::default(),
        })
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
            .ok_or_else(|| Error::InvalidArgument(format!("no scorer sequence {}", id.0)))
    }

    /// One step's score (the whole sequence `ids` sent) and the prompt tokens the server
    /// computed for it.
    fn score_one(&self, ids: &[u32]) -> Result<(f32, u64)> {
        match self.format {
            PrmFormat::QwenPrm => pooling::step_score(&self.pool, ids),
            _ => next_token::step_score(&self.pool, &self.tokenizer, self.format, ids),
        }
    }
}

impl StepScorer for RemotePrm {
    async fn start(&mut self, problem: &str) -> Result<SeqId> {
        let ids = self.format.prefix(&self.tokenizer, problem)?;
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
            let chunk = self
                .format
                .step(&self.tokenizer, &seq.problem, step, seq.steps, "")?;
            let mut ids = seq.ids.clone();
            ids.extend(chunk);
            prompts.push(ids);
        }
        let this = &*self;
        let results = in_parallel(&prompts, |ids| this.score_one(ids));
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
            .ok_or_else(|| Error::InvalidArgument(format!("no scorer sequence {}", seq.0)))
    }

    fn stats(&self) -> ScorerStats {
        self.stats
    }

    fn sequence_tokens(&self, seq: SeqId) -> Option<usize> {
        self.sequences.get(&seq).map(|s| s.ids.len())
    }
}
