//! [`RemotePolicy`]: a [`Policy`] whose model runs on OpenAI-compatible servers. Sequences live
//! here as text; each generate call renders every sequence's prompt locally (the chat template
//! continuing its partial solution, as the local engine's prompt) and sends it as token ids.
//! Sequences with the same prompt go as one request with `n` choices (a server that returns
//! fewer choices than asked gets the rest as requests of one); distinct prompts go in parallel.
//! Prompts of one search share their prefix byte for byte, so a server's prefix cache (vLLM's
//! automatic prefix caching, llama.cpp's slot cache) absorbs what they share.

use crate::completions::{Choice, CompletionRequest, choices, ending};
use crate::counters::Usage;
use crate::parallel::in_parallel;
use crate::pool::Pool;
use crate::server_kind::PromptInput;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use ttsearch::engine::CancelToken;
use ttsearch::kv::SeqId;
use ttsearch::model::Architecture;
use ttsearch::search::{
    GenerateRequest, Generated, Policy, PolicyPrompt, PolicyStats, STEP_SEPARATOR, Until,
};
use ttsearch::tokenize::{Prompt, Tokenizer};
use ttsearch::{Error, Result};

/// A sequence: its problem and the text written so far.
#[derive(Debug, Clone)]
struct Sequence {
    problem: Arc<str>,
    text: String,
}

/// One request to send: a prompt and the sequences (with their stream keys) it samples for.
struct Group {
    prompt: PromptInput,
    tokens: u64,
    /// New tokens at most: the call's, less what the context has no room for.
    max_tokens: usize,
    members: Vec<usize>,
    seed: u64,
}

/// A group's answer: each choice with its token count (when the server gave it for that
/// choice alone), and the prompt tokens the server computed for the group.
type GroupAnswer = (Vec<(Choice, Option<u64>)>, u64);

/// A policy served by a pool of OpenAI-compatible servers.
pub struct RemotePolicy {
    pool: Arc<Pool>,
    tokenizer: Arc<Tokenizer>,
    prompt: PolicyPrompt,
    architecture: Architecture,
    sequences: HashMap<SeqId, Sequence>,
    next_id: u64,
    /// Whether the servers return `n` choices for one prompt (cleared the first time one
    /// does not).
    honours_n: Arc<AtomicBool>,
    stats: PolicyStats,
    parameters: Option<u64>,
}

/// Mixes a call's seed and a sequence's stream key into one request seed.
fn request_seed(seed: u64, key: u64) -> u64 {
    let mut z = seed ^ key.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl RemotePolicy {
    /// A policy on `pool`, whose prompts `tokenizer` renders as `prompt` says for a model of
    /// `architecture` (which picks the default system message). `honours_n` is shared by
    /// every policy of the pool.
    pub fn new(
        pool: Arc<Pool>,
        tokenizer: Arc<Tokenizer>,
        prompt: PolicyPrompt,
        architecture: Architecture,
        honours_n: Arc<AtomicBool>,
    ) -> Self {
        Self {
            pool,
            tokenizer,
            prompt,
            architecture,
            sequences: HashMap::new(),
            next_id: 0,
            honours_n,
            stats: PolicyStats::default(),
            parameters: None,
        }
    }

    /// Reports `parameters` as the model's size (the compute-optimal choice reads it).
    pub fn with_parameters(mut self, parameters: Option<u64>) -> Self {
        self.parameters = parameters;
        self
    }

    fn seq(&self, id: SeqId) -> Result<&Sequence> {
        self.sequences
            .get(&id)
            .ok_or_else(|| Error::InvalidArgument(format!("no policy sequence {}", id.0)))
    }

    fn add(&mut self, seq: Sequence) -> SeqId {
        let id = SeqId(self.next_id);
        self.next_id += 1;
        self.sequences.insert(id, seq);
        id
    }

    /// The prompt for `seq`.
    fn render(&self, seq: &Sequence) -> Result<Prompt> {
        let partial = (!seq.text.is_empty()).then_some(seq.text.as_str());
        self.prompt
            .render(self.architecture, &self.tokenizer, &seq.problem, partial)
    }

    /// Sends one request; its choices, its completion tokens and the prompt tokens the server
    /// computed (sent less cached, where it says).
    fn send(
        &self,
        group: &Group,
        n: usize,
        seed: u64,
        request: &GenerateRequest,
        stop: &[String],
    ) -> Result<(Vec<Choice>, Option<u64>, u64)> {
        let body = CompletionRequest {
            model: self.pool.model(),
            prompt: &group.prompt,
            n,
            max_tokens: group.max_tokens,
            temperature: request.params.temperature,
            top_p: request.params.top_p,
            seed,
            stop,
            logprobs: None,
            top_k_off: self.pool.kind().top_k_off(),
        }
        .body();
        let answer = self.pool.post("/completions", &body)?;
        let usage = Usage::of(&answer, group.tokens);
        self.pool.counters().add_usage(&usage);
        Ok((choices(&answer)?, usage.completion_tokens, usage.computed()))
    }

    /// Every group's choices, requests in parallel.
    fn send_all(
        &self,
        groups: &[Group],
        request: &GenerateRequest,
        stop: &[String],
    ) -> Result<Vec<GroupAnswer>> {
        let results = in_parallel(groups, |g| self.send_group(g, request, stop));
        results.into_iter().collect()
    }

    /// One group's choices: one request with `n` choices, completed by requests of one when
    /// the server returns fewer.
    fn send_group(
        &self,
        group: &Group,
        request: &GenerateRequest,
        stop: &[String],
    ) -> Result<GroupAnswer> {
        let want = group.members.len();
        let mut out = Vec::with_capacity(want);
        let mut computed = 0;
        if group.max_tokens == 0 {
            // The context is full: the path ends on length, as the local engine's would.
            let full = Choice {
                index: 0,
                text: String::new(),
                finish_reason: "length".into(),
                stop_reason: None,
                logprobs: serde_json::Value::Null,
            };
            return Ok((vec![(full, Some(0)); want], 0));
        }
        if want > 1 && self.honours_n.load(Ordering::SeqCst) {
            let (list, tokens, prompt) = self.send(group, want, group.seed, request, stop)?;
            computed += prompt;
            if list.len() >= want {
                // Per-choice token counts are unknown with n > 1.
                let list = list.into_iter().take(want).map(|c| (c, None)).collect();
                return Ok((list, computed));
            }
            self.honours_n.store(false, Ordering::SeqCst);
            let single = list.len() == 1;
            out.extend(
                list.into_iter()
                    .map(|c| (c, if single { tokens } else { None })),
            );
        }
        // The rest as requests of one, in parallel; choice k takes the group's seed + k, as vLLM
        // seeds the choices of a request with n.
        let seeds: Vec<u64> = (out.len()..want)
            .map(|k| group.seed.wrapping_add(k as u64) & 0x7fff_ffff)
            .collect();
        let singles = in_parallel(&seeds, |&seed| self.send(group, 1, seed, request, stop));
        for single in singles {
            let (list, tokens, prompt) = single?;
            computed += prompt;
            let choice = list
                .into_iter()
                .next()
                .ok_or_else(|| Error::Network("a completions answer has no choices".into()))?;
            out.push((choice, tokens));
        }
        Ok((out, computed))
    }
}

impl Policy for RemotePolicy {
    async fn start(&mut self, problem: &str) -> Result<SeqId> {
        let seq = Sequence {
            problem: Arc::from(problem),
            text: String::new(),
        };
        // Renders once so that a template error shows here.
        self.render(&seq)?;
        Ok(self.add(seq))
    }

    fn fork(&mut self, seq: SeqId, k: usize) -> Result<Vec<SeqId>> {
        let parent = self.seq(seq)?.clone();
        Ok((0..k).map(|_| self.add(parent.clone())).collect())
    }

    async fn generate(
        &mut self,
        seqs: &[(SeqId, u64)],
        request: &GenerateRequest,
        cancel: Option<&CancelToken>,
    ) -> Result<Vec<Generated>> {
        if cancel.is_some_and(CancelToken::is_cancelled) {
            return Err(Error::Cancelled);
        }
        if request.params.top_k != 0 || !request.params.stop_token_ids.is_empty() {
            return Err(Error::Unsupported(
                "a remote policy samples with temperature and top_p only".into(),
            ));
        }
        let mut stop: Vec<String> = request.params.stop.clone();
        if request.until == Until::Step {
            stop.push(STEP_SEPARATOR.to_string());
        }
        // Groups of sequences with the same prompt, in the order of their first member.
        let mut by_prompt: BTreeMap<Vec<u32>, usize> = BTreeMap::new();
        let mut groups: Vec<Group> = Vec::new();
        let kind = self.pool.kind();
        for (i, (id, key)) in seqs.iter().enumerate() {
            let prompt = self.render(self.seq(*id)?)?;
            self.stats.resubmitted_tokens += prompt.ids.len() as u64;
            match by_prompt.get(&prompt.ids) {
                Some(&g) => groups[g].members.push(i),
                None => {
                    by_prompt.insert(prompt.ids.clone(), groups.len());
                    groups.push(Group {
                        prompt: kind.input(&prompt, &self.tokenizer),
                        tokens: prompt.ids.len() as u64,
                        max_tokens: match self.pool.context() {
                            Some(context) => request
                                .params
                                .max_tokens
                                .min(context.saturating_sub(prompt.ids.len())),
                            None => request.params.max_tokens,
                        },
                        members: vec![i],
                        seed: request_seed(request.params.seed, *key) & 0x7fff_ffff,
                    });
                }
            }
        }
        let answers = self.send_all(&groups, request, &stop);
        // The caller never releases the sequences of a release_finished call, errors included.
        if request.release_finished {
            for (id, _) in seqs {
                self.sequences.remove(id);
            }
        }
        let answers = answers?;
        let mut out: Vec<Option<Generated>> = vec![None; seqs.len()];
        let separator = (request.until == Until::Step).then_some(STEP_SEPARATOR);
        let tokenizer = Arc::clone(&self.tokenizer);
        let count = |text: &str| -> Result<usize> { Ok(tokenizer.encode(text, false)?.len()) };
        for (group, (choices, computed)) in groups.iter().zip(answers) {
            self.stats.prefill_tokens += computed;
            for (&member, (choice, tokens)) in group.members.iter().zip(choices) {
                let (text, end) = ending(&choice, separator, tokens, &count)?;
                let n = match tokens {
                    Some(n) => n as usize,
                    None => count(&text)?,
                };
                self.stats.generated_tokens += n as u64;
                out[member] = Some(Generated {
                    text,
                    tokens: n,
                    end,
                });
            }
        }
        self.stats.decode_tokens = self.stats.generated_tokens;
        let mut result = Vec::with_capacity(seqs.len());
        for ((id, _), generated) in seqs.iter().zip(out) {
            let generated =
                generated.ok_or_else(|| Error::Internal("a sequence got no completion".into()))?;
            if let Some(seq) = self.sequences.get_mut(id) {
                seq.text.push_str(&generated.text);
            }
            result.push(generated);
        }
        Ok(result)
    }

    fn release(&mut self, seq: SeqId) -> Result<()> {
        self.sequences
            .remove(&seq)
            .map(|_| ())
            .ok_or_else(|| Error::InvalidArgument(format!("no policy sequence {}", seq.0)))
    }

    fn stats(&self) -> PolicyStats {
        self.stats
    }

    fn parameters(&self) -> Option<u64> {
        self.parameters
    }
}
