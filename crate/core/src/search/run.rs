//! One search's running state: the sequences it holds in both models (all released on error or
//! cancellation), the event sink, the clock and the per-phase timers, and the shared moves of
//! every strategy (start, fork, generate a step, score new steps with optional lookahead).

use super::events::SearchEvent;
use super::params::SearchParams;
use super::policy::{
    GenerateRequest, Generated, Policy, PolicyStats, ScorerStats, StepEnd, StepScorer, Until,
};
use crate::engine::CancelToken;
use crate::error::{Error, Result};
use crate::kv::SeqId;
use std::collections::BTreeSet;

/// Where a search reports its events.
pub type EventSink<'a> = &'a mut dyn FnMut(&SearchEvent);

/// Seconds on some monotonic clock (the wasm crate passes `performance.now() / 1000`).
pub type Clock<'a> = &'a dyn Fn() -> f64;

/// Options of one search besides its parameters.
#[derive(Default)]
pub struct SearchOptions<'a> {
    /// Stops the search (every sequence is released) at the next check.
    pub cancel: Option<&'a CancelToken>,
    /// Receives events as they happen.
    pub on_event: Option<EventSink<'a>>,
    /// The clock for phase times (native default: the system's; wasm without one: zeros).
    pub clock: Option<Clock<'a>>,
    /// Competition-level problems (AIME): the compute-optimal choice uses cotts' AIME rules.
    pub competition: bool,
}

/// Seconds per phase.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct PhaseSeconds {
    /// Prefilling the prompt into both models.
    pub prefill: f64,
    /// Policy generate calls (lookahead rollouts included).
    pub generate: f64,
    /// Scorer calls.
    pub score: f64,
    /// The whole search.
    pub total: f64,
}

/// The text's steps as the scorer sees them: pieces between "\n\n", without the separator;
/// empty pieces are never scored (search-and-learn scores an empty trailing step).
pub fn split_steps(text: &str) -> Vec<&str> {
    text.split(super::STEP_SEPARATOR)
        .filter(|s| !s.is_empty())
        .collect()
}

/// A random-stream key from a sample's place in the search (splitmix64 over the parts), so
/// that samples do not depend on cache ids.
pub fn stream_key(parts: &[u64]) -> u64 {
    parts.iter().fold(0x9e37_79b9_7f4a_7c15u64, |h, &p| {
        let mut z = h ^ p.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    })
}

/// A candidate step to score: its sequences, its new text and whether its path ended.
pub struct Candidate<'t> {
    /// The policy sequence after the step.
    pub policy: SeqId,
    /// The scorer sequence, before the step.
    pub scorer: SeqId,
    /// The step's text.
    pub text: &'t str,
    /// Whether the path ended with this step (no lookahead then).
    pub ended: bool,
}

/// Scores of one candidate.
pub struct CandidateScores {
    /// Scores of the step's parts (appended to its scorer sequence).
    pub step: Vec<f32>,
    /// Scores of the lookahead rollout's steps (not kept in any sequence).
    pub rollout: Vec<f32>,
}

/// The state of one running search.
pub struct Run<'a, M> {
    /// The models.
    pub models: &'a mut M,
    /// The problem.
    pub problem: &'a str,
    /// The parameters.
    pub params: SearchParams,
    cancel: Option<&'a CancelToken>,
    on_event: Option<EventSink<'a>>,
    clock: Option<Clock<'a>>,
    #[cfg(not(target_arch = "wasm32"))]
    started: std::time::Instant,
    /// AIME-level problems.
    pub competition: bool,
    policy_live: BTreeSet<SeqId>,
    scorer_live: BTreeSet<SeqId>,
    next_node: u32,
    /// Time per phase so far.
    pub seconds: PhaseSeconds,
    /// Iterations run.
    pub iterations: usize,
    /// What search-and-learn's scoring would feed for the same calls (each scored text's
    /// whole sequence, once per scoring), when the scorer reports sequence lengths.
    pub rescore_tokens: Option<u64>,
    last_answer: Option<String>,
    /// The models' counters when the search began.
    pub policy_before: PolicyStats,
    /// The scorer's counters when the search began.
    pub scorer_before: ScorerStats,
    t0: f64,
}

impl<'a, M: Policy + StepScorer> Run<'a, M> {
    /// A run of `params` on `problem`.
    pub fn new(
        models: &'a mut M,
        problem: &'a str,
        params: SearchParams,
        options: SearchOptions<'a>,
    ) -> Self {
        let policy_before = Policy::stats(models);
        let scorer_before = StepScorer::stats(models);
        let mut run = Self {
            policy_before,
            scorer_before,
            t0: 0.0,
            models,
            problem,
            params,
            cancel: options.cancel,
            on_event: options.on_event,
            clock: options.clock,
            #[cfg(not(target_arch = "wasm32"))]
            started: std::time::Instant::now(),
            competition: options.competition,
            policy_live: BTreeSet::new(),
            scorer_live: BTreeSet::new(),
            next_node: 1,
            seconds: PhaseSeconds::default(),
            iterations: 0,
            rescore_tokens: Some(0),
            last_answer: None,
        };
        run.t0 = run.now();
        run
    }

    /// Reports the work done so far.
    pub fn progress(&mut self) {
        let policy = Policy::stats(self.models);
        let scorer = StepScorer::stats(self.models);
        let prm_tokens_fed = scorer.tokens_fed - self.scorer_before.tokens_fed;
        let event = SearchEvent::Progress {
            generated_tokens: policy.generated_tokens - self.policy_before.generated_tokens,
            prm_tokens_fed,
            prm_rescore_tokens: self
                .rescore_tokens
                .unwrap_or(scorer.rescore_tokens - self.scorer_before.rescore_tokens),
            policy_kv_blocks: policy.kv_blocks_in_use,
            seconds: self.now() - self.t0,
        };
        self.emit(event);
    }

    /// Seconds since some fixed point.
    pub fn now(&self) -> f64 {
        if let Some(clock) = self.clock {
            return clock();
        }
        #[cfg(not(target_arch = "wasm32"))]
        return self.started.elapsed().as_secs_f64();
        #[cfg(target_arch = "wasm32")]
        0.0
    }

    /// Reports an event.
    pub fn emit(&mut self, event: SearchEvent) {
        if let Some(sink) = self.on_event.as_mut() {
            sink(&event);
        }
    }

    /// Reports the answer when it differs from the last one reported.
    pub fn answer_now(&mut self, answer: Option<String>) {
        if let Some(answer) = answer
            && self.last_answer.as_ref() != Some(&answer)
        {
            self.last_answer = Some(answer.clone());
            self.emit(SearchEvent::AnswerChanged { answer });
        }
    }

    /// A new node id.
    pub fn node(&mut self) -> u32 {
        let id = self.next_node;
        self.next_node += 1;
        id
    }

    /// Fails with `cancelled` when cancellation was asked for.
    pub fn check(&self) -> Result<()> {
        if self.cancel.is_some_and(CancelToken::is_cancelled) {
            return Err(Error::Cancelled);
        }
        Ok(())
    }

    /// Prefills the prompt in the policy (and, with `scored`, the problem in the scorer).
    pub async fn start(&mut self, scored: bool) -> Result<(SeqId, Option<SeqId>)> {
        self.check()?;
        let t = self.now();
        let policy = Policy::start(self.models, self.problem).await?;
        self.policy_live.insert(policy);
        let scorer = if scored {
            let s = StepScorer::start(self.models, self.problem).await?;
            self.scorer_live.insert(s);
            Some(s)
        } else {
            None
        };
        self.seconds.prefill += self.now() - t;
        Ok((policy, scorer))
    }

    /// `k` policy sequences continuing `seq`.
    pub fn fork_policy(&mut self, seq: SeqId, k: usize) -> Result<Vec<SeqId>> {
        let kids = Policy::fork(self.models, seq, k)?;
        self.policy_live.extend(&kids);
        Ok(kids)
    }

    /// `k` scorer sequences continuing `seq`.
    pub fn fork_scorer(&mut self, seq: SeqId, k: usize) -> Result<Vec<SeqId>> {
        let kids = StepScorer::fork(self.models, seq, k)?;
        self.scorer_live.extend(&kids);
        Ok(kids)
    }

    /// Frees a policy sequence.
    pub fn release_policy(&mut self, seq: SeqId) -> Result<()> {
        self.policy_live.remove(&seq);
        Policy::release(self.models, seq)
    }

    /// Frees a scorer sequence.
    pub fn release_scorer(&mut self, seq: SeqId) -> Result<()> {
        self.scorer_live.remove(&seq);
        StepScorer::release(self.models, seq)
    }

    /// One batched generate call with the search's sampling (`temperature` overrides it);
    /// with `release_finished` the sequences are freed by the call.
    pub async fn generate(
        &mut self,
        seqs: &[(SeqId, u64)],
        until: Until,
        temperature: Option<f32>,
        release_finished: bool,
    ) -> Result<Vec<Generated>> {
        self.check()?;
        let mut params = self.params.sampling();
        if let Some(t) = temperature {
            params.temperature = t;
        }
        let request = GenerateRequest {
            until,
            params,
            release_finished,
        };
        let t = self.now();
        if release_finished {
            for (seq, _) in seqs {
                self.policy_live.remove(seq);
            }
        }
        let out = self.models.generate(seqs, &request, self.cancel).await;
        self.seconds.generate += self.now() - t;
        let out = out?;
        self.progress();
        if out.len() != seqs.len() {
            return Err(Error::InvalidArgument(format!(
                "the policy returned {} outputs for {} sequences",
                out.len(),
                seqs.len()
            )));
        }
        Ok(out)
    }

    /// Scores every text's steps on its scorer sequence (appended), in rounds of one batched
    /// call per step index; returns each text's step scores.
    pub async fn score_texts(&mut self, items: &[(SeqId, &str)]) -> Result<Vec<Vec<f32>>> {
        self.check()?;
        let steps: Vec<Vec<&str>> = items.iter().map(|(_, t)| split_steps(t)).collect();
        let mut scores: Vec<Vec<f32>> = vec![Vec::new(); items.len()];
        let rounds = steps.iter().map(Vec::len).max().unwrap_or(0);
        let t = self.now();
        for round in 0..rounds {
            let (who, batch): (Vec<usize>, Vec<(SeqId, &str)>) = steps
                .iter()
                .enumerate()
                .filter_map(|(i, s)| s.get(round).map(|step| (i, (items[i].0, *step))))
                .unzip();
            let got = self.models.score_steps(&batch).await;
            let got = match got {
                Ok(got) if got.len() == batch.len() => got,
                Ok(got) => {
                    return Err(Error::InvalidArgument(format!(
                        "the scorer returned {} scores for {} steps",
                        got.len(),
                        batch.len()
                    )));
                }
                Err(e) => {
                    self.seconds.score += self.now() - t;
                    return Err(e);
                }
            };
            for (i, s) in who.into_iter().zip(got) {
                scores[i].push(s);
            }
        }
        self.seconds.score += self.now() - t;
        if rounds > 0 {
            self.progress();
        }
        Ok(scores)
    }

    /// Counts what search-and-learn would feed to score `seq`'s text from scratch (its whole
    /// sequence), once per scored text.
    pub fn count_rescore(&mut self, seq: SeqId) {
        let len = self.models.sequence_tokens(seq);
        self.rescore_tokens = self.rescore_tokens.zip(len).map(|(a, b)| a + b as u64);
    }

    /// Scores whole texts (Best-of-N samples), counting each as one scoring.
    pub async fn score_finished(&mut self, items: &[(SeqId, &str)]) -> Result<Vec<Vec<f32>>> {
        let scores = self.score_texts(items).await?;
        for (seq, _) in items {
            self.count_rescore(*seq);
        }
        Ok(scores)
    }

    /// Scores each candidate's step on its scorer sequence and, with `lookahead` > 0, rolls
    /// out `lookahead` more steps greedily from each candidate that has not ended and scores
    /// them on a fork of its scorer sequence (the rollouts are then freed).
    pub async fn score_candidates(
        &mut self,
        candidates: &[Candidate<'_>],
        lookahead: usize,
    ) -> Result<Vec<CandidateScores>> {
        let items: Vec<(SeqId, &str)> = candidates.iter().map(|c| (c.scorer, c.text)).collect();
        let step = self.score_texts(&items).await?;
        let mut out: Vec<CandidateScores> = step
            .into_iter()
            .map(|step| CandidateScores {
                step,
                rollout: Vec::new(),
            })
            .collect();
        let rolling: Vec<usize> = (0..candidates.len())
            .filter(|&i| lookahead > 0 && !candidates[i].ended)
            .collect();
        // search-and-learn scores each candidate once: with its rollout when it has one.
        for (i, c) in candidates.iter().enumerate() {
            if !rolling.contains(&i) {
                self.count_rescore(c.scorer);
            }
        }
        if rolling.is_empty() {
            return Ok(out);
        }
        let mut policy = Vec::new();
        let mut scorer = Vec::new();
        for &i in &rolling {
            policy.push(self.fork_policy(candidates[i].policy, 1)?[0]);
            scorer.push(self.fork_scorer(candidates[i].scorer, 1)?[0]);
        }
        let mut open: Vec<usize> = (0..rolling.len()).collect();
        for _ in 0..lookahead {
            if open.is_empty() {
                break;
            }
            let seqs: Vec<(SeqId, u64)> = open.iter().map(|&r| (policy[r], 0)).collect();
            let gens = self.generate(&seqs, Until::Step, Some(0.0), false).await?;
            let items: Vec<(SeqId, &str)> = open
                .iter()
                .zip(&gens)
                .map(|(&r, g)| (scorer[r], g.text.as_str()))
                .collect();
            let scores = self.score_texts(&items).await?;
            let mut still = Vec::new();
            for ((&r, g), s) in open.iter().zip(&gens).zip(scores) {
                out[rolling[r]].rollout.extend(s);
                if g.end == StepEnd::Step && !g.text.is_empty() {
                    still.push(r);
                }
            }
            open = still;
        }
        for (p, s) in policy.into_iter().zip(scorer) {
            self.count_rescore(s);
            self.release_policy(p)?;
            self.release_scorer(s)?;
        }
        Ok(out)
    }

    /// Frees every sequence the search still holds (after an error or cancellation), ignoring
    /// sequences the models already dropped.
    pub fn cleanup(&mut self) {
        for seq in std::mem::take(&mut self.policy_live) {
            let _ = Policy::release(self.models, seq);
        }
        for seq in std::mem::take(&mut self.scorer_live) {
            let _ = StepScorer::release(self.models, seq);
        }
    }
}
