//! ttsearch's own models in the two search roles: [`EnginePolicy`] (a generation engine with
//! its tokenizer and prompt), [`crate::prm::Prm`] as a [`StepScorer`], and [`SelfVerified`]:
//! one engine that writes the steps and, as a generative verifier, checks them.

use super::policy::{
    GenerateRequest, Generated, Policy, PolicyStats, ScorerStats, StepEnd, StepScorer, Until,
};
use crate::engine::{Backend, CancelToken, Engine, ExtendOptions, FinishReason};
use crate::error::{Error, Result};
use crate::kv::SeqId;
use crate::model::Architecture;
use crate::prm::Prm;
use crate::tokenize::{Prompt, RenderOptions, TokenCodec, Tokenizer, system_prompt_for};

/// The step separator: a step is the text up to and including it.
pub const STEP_SEPARATOR: &str = "\n\n";

/// How a policy's prompt is written.
#[derive(Debug, Clone, Default)]
pub struct PolicyPrompt {
    /// The system message (default: the one for the model's architecture).
    pub system: Option<String>,
    /// Render options (date) for the chat template.
    pub render: RenderOptions,
}

impl PolicyPrompt {
    /// The prompt's token ids: the model's chat template with the system message and the
    /// problem; a model without a template (a base GGUF) gets a plain-text prompt.
    pub fn ids<B: Backend>(
        &self,
        engine: &Engine<B>,
        tokenizer: &Tokenizer,
        problem: &str,
    ) -> Result<Vec<u32>> {
        let architecture = engine.backend().config().architecture;
        Ok(self.render(architecture, tokenizer, problem, None)?.ids)
    }

    /// The prompt (text and token ids) for a model of `architecture` (whose system message it
    /// takes unless one was given), continuing the partial solution `partial` when given: the
    /// chat template continues the assistant message exactly as given; a model without a
    /// template gets the plain-text prompt followed by `partial`.
    pub fn render(
        &self,
        architecture: Architecture,
        tokenizer: &Tokenizer,
        problem: &str,
        partial: Option<&str>,
    ) -> Result<Prompt> {
        let system = self
            .system
            .as_deref()
            .unwrap_or_else(|| system_prompt_for(architecture));
        if tokenizer.chat_template.is_some() {
            return tokenizer.math_prompt(system, problem, partial, &self.render);
        }
        let text = format!(
            "{system}\n\nProblem:\n{problem}\n\nSolution:\n{}",
            partial.unwrap_or("")
        );
        let ids = tokenizer.encode(&text, tokenizer.add_bos)?;
        Ok(Prompt { text, ids })
    }
}

/// One batched generate call on `engine`.
async fn generate_on<B: Backend>(
    engine: &mut Engine<B>,
    codec: &dyn TokenCodec,
    seqs: &[(SeqId, u64)],
    request: &GenerateRequest,
    cancel: Option<&CancelToken>,
    resubmitted: &mut u64,
) -> Result<Vec<Generated>> {
    let ids: Vec<SeqId> = seqs.iter().map(|(id, _)| *id).collect();
    let streams: Vec<u64> = seqs.iter().map(|(_, key)| *key).collect();
    for id in &ids {
        *resubmitted += engine.tokens(*id)?.len() as u64;
    }
    let mut params = request.params.clone();
    if request.until == Until::Step {
        params.stop.push(STEP_SEPARATOR.to_string());
    }
    let options = ExtendOptions {
        codec: Some(codec),
        cancel,
        release_finished: request.release_finished,
        streams: Some(&streams),
        on_text: None,
    };
    let outputs = engine.extend(&ids, &params, options).await?;
    Ok(outputs
        .into_iter()
        .map(|out| Generated {
            tokens: out.tokens.len(),
            end: match out.finish_reason {
                FinishReason::Stop(_) => StepEnd::Step,
                FinishReason::Eos => StepEnd::Eos,
                FinishReason::Length => StepEnd::Length,
            },
            text: out.text,
        })
        .collect())
}

fn policy_stats<B: Backend>(engine: &Engine<B>, resubmitted: u64, not_policy: u64) -> PolicyStats {
    let c = engine.counters();
    PolicyStats {
        prefill_tokens: c.prefill_tokens.saturating_sub(not_policy),
        decode_tokens: c.decode_tokens,
        generated_tokens: c.generated_tokens,
        resubmitted_tokens: resubmitted,
        kv_blocks_peak: c.kv_blocks_peak,
        kv_blocks_in_use: c.kv_blocks_in_use,
    }
}

/// A policy on a generation engine.
pub struct EnginePolicy<B: Backend> {
    /// The engine.
    pub engine: Engine<B>,
    /// Its tokenizer.
    pub tokenizer: Tokenizer,
    /// How prompts are written.
    pub prompt: PolicyPrompt,
    resubmitted: u64,
}

impl<B: Backend> EnginePolicy<B> {
    /// A policy writing prompts as `prompt` says.
    pub fn new(engine: Engine<B>, tokenizer: Tokenizer, prompt: PolicyPrompt) -> Self {
        Self {
            engine,
            tokenizer,
            prompt,
            resubmitted: 0,
        }
    }

    /// The engine and the tokenizer back.
    pub fn into_parts(self) -> (Engine<B>, Tokenizer) {
        (self.engine, self.tokenizer)
    }
}

impl<B: Backend> Policy for EnginePolicy<B> {
    async fn start(&mut self, problem: &str) -> Result<SeqId> {
        let ids = self.prompt.ids(&self.engine, &self.tokenizer, problem)?;
        self.engine.prefill(&ids).await
    }
    fn fork(&mut self, seq: SeqId, k: usize) -> Result<Vec<SeqId>> {
        self.engine.fork(seq, k)
    }
    async fn generate(
        &mut self,
        seqs: &[(SeqId, u64)],
        request: &GenerateRequest,
        cancel: Option<&CancelToken>,
    ) -> Result<Vec<Generated>> {
        generate_on(
            &mut self.engine,
            &self.tokenizer,
            seqs,
            request,
            cancel,
            &mut self.resubmitted,
        )
        .await
    }
    fn release(&mut self, seq: SeqId) -> Result<()> {
        self.engine.release(seq)
    }
    fn stats(&self) -> PolicyStats {
        policy_stats(&self.engine, self.resubmitted, 0)
    }
    fn parameters(&self) -> Option<u64> {
        Some(self.engine.backend().config().parameter_count())
    }
}

impl<B: Backend> StepScorer for Prm<B> {
    async fn start(&mut self, problem: &str) -> Result<SeqId> {
        Prm::start(self, problem).await
    }
    fn fork(&mut self, seq: SeqId, k: usize) -> Result<Vec<SeqId>> {
        Prm::fork(self, seq, k)
    }
    async fn score_steps(&mut self, items: &[(SeqId, &str)]) -> Result<Vec<f32>> {
        Prm::score_steps(self, items).await
    }
    fn release(&mut self, seq: SeqId) -> Result<()> {
        Prm::release(self, seq)
    }
    fn stats(&self) -> ScorerStats {
        ScorerStats {
            tokens_fed: self.tokens_fed(),
            rescore_tokens: self.rescore_tokens(),
            kv_blocks_peak: self.engine().counters().kv_blocks_peak,
        }
    }
    fn sequence_tokens(&self, seq: SeqId) -> Option<usize> {
        self.engine().tokens(seq).ok().map(<[u32]>::len)
    }
}

/// One model as policy and generative verifier ([`crate::prm::PrmFormat::Generative`]): one copy
/// of the weights, one KV cache holding both roles' sequences.
pub struct SelfVerified<B: Backend> {
    /// The verifier, whose engine also generates.
    pub prm: Prm<B>,
    /// How policy prompts are written.
    pub prompt: PolicyPrompt,
    resubmitted: u64,
}

impl<B: Backend> SelfVerified<B> {
    /// The policy role on `prm`'s engine and tokenizer.
    pub fn new(prm: Prm<B>, prompt: PolicyPrompt) -> Self {
        Self {
            prm,
            prompt,
            resubmitted: 0,
        }
    }

    /// The verifier back.
    pub fn into_prm(self) -> Prm<B> {
        self.prm
    }

    fn parts(&mut self) -> Result<(&mut Engine<B>, &Tokenizer)> {
        match self.prm.engine_and_tokenizer() {
            (engine, Some(tokenizer)) => Ok((engine, tokenizer)),
            (_, None) => Err(Error::InvalidArgument(
                "a self-verifying policy needs the verifier's tokenizer".into(),
            )),
        }
    }
}

impl<B: Backend> Policy for SelfVerified<B> {
    async fn start(&mut self, problem: &str) -> Result<SeqId> {
        let prompt = self.prompt.clone();
        let (engine, tokenizer) = self.parts()?;
        let ids = prompt.ids(engine, tokenizer, problem)?;
        engine.prefill(&ids).await
    }
    fn fork(&mut self, seq: SeqId, k: usize) -> Result<Vec<SeqId>> {
        self.prm.engine_mut().fork(seq, k)
    }
    async fn generate(
        &mut self,
        seqs: &[(SeqId, u64)],
        request: &GenerateRequest,
        cancel: Option<&CancelToken>,
    ) -> Result<Vec<Generated>> {
        let mut resubmitted = self.resubmitted;
        let (engine, tokenizer) = self.parts()?;
        let out = generate_on(engine, tokenizer, seqs, request, cancel, &mut resubmitted).await;
        self.resubmitted = resubmitted;
        out
    }
    fn release(&mut self, seq: SeqId) -> Result<()> {
        self.prm.engine_mut().release(seq)
    }
    fn stats(&self) -> PolicyStats {
        policy_stats(self.prm.engine(), self.resubmitted, self.prm.tokens_fed())
    }
    fn parameters(&self) -> Option<u64> {
        Some(self.prm.engine().backend().config().parameter_count())
    }
}

impl<B: Backend> StepScorer for SelfVerified<B> {
    async fn start(&mut self, problem: &str) -> Result<SeqId> {
        self.prm.start(problem).await
    }
    fn fork(&mut self, seq: SeqId, k: usize) -> Result<Vec<SeqId>> {
        self.prm.fork(seq, k)
    }
    async fn score_steps(&mut self, items: &[(SeqId, &str)]) -> Result<Vec<f32>> {
        self.prm.score_steps(items).await
    }
    fn release(&mut self, seq: SeqId) -> Result<()> {
        self.prm.release(seq)
    }
    fn stats(&self) -> ScorerStats {
        StepScorer::stats(&self.prm)
    }
    fn sequence_tokens(&self, seq: SeqId) -> Option<usize> {
        self.prm.sequence_tokens(seq)
    }
}
