//! Test-time search: CoT, majority vote, Best-of-N, weighted Best-of-N, beam search, DVTS,
//! lookahead and the compute-optimal choice, over two traits: a [`Policy`] that extends
//! sequences and a [`StepScorer`] that scores steps. Every search reports typed events, can be
//! cancelled (every sequence is then released), and returns its completions, the three
//! selections and a report of the work done.
//!
//! The strategies follow search-and-learn (huggingface/search-and-learn, the code of Hugging
//! Face's "scaling test-time compute" study): the same generate calls in the same order, the
//! same scores ranked. cotts (the code of "Can 1B LLM Surpass 405B LLM?", arXiv 2502.06703)
//! supplies options and the compute-optimal rules.
//! - A step is the text up to and including "\n\n" (the stop string stays in the text); the
//!   last iteration has no stop string and generates to EOS. A path is complete on EOS, on the
//!   token limit (vLLM reports no stop reason for it and search-and-learn treats it as EOS) or
//!   when its new step is empty.
//! - Step scores are aggregated by `agg_strategy`: last (the default), min, prod, and cotts'
//!   mean. The aggregate ranks candidates during a search (beam survivors, DVTS's best
//!   candidate) and chooses the naive and weighted answers ([`select`]; search-and-learn's
//!   `pred` field is its naive choice too). search-and-learn's evaluation (`score()`) records
//!   pred_naive@n, pred_weighted@n and pred_maj@n from each completion's last step score
//!   whatever agg_strategy was, over the first n completions: [`select_search_and_learn`]
//!   applies that rule, and `ttsearch eval` writes it under those names.
//! - Best-of-N samples n whole solutions from one prompt and scores their steps; majority vote
//!   groups the answers by canonical form; weighted Best-of-N sums the aggregated scores per
//!   group. Beam search and DVTS are described in their files.
//! - Lookahead k: after a step, k more steps are rolled out greedily (temperature 0) and the
//!   step is scored with its rollout; the last iteration has none.
//! - Best-of-N and DVTS runs with a smaller n are prefixes of one larger run (DVTS keeps its
//!   groups of M together); beam search runs once per n.
//!
//! Where ttsearch departs from search-and-learn, on purpose:
//! - An empty step (also an empty piece between two "\n\n") is never scored; its path keeps
//!   its aggregate (search-and-learn scores the empty string).
//! - Ties go to the earlier beam or candidate (numpy's argsort, which it uses, is not stable).
//! - Beam search returns up to n completed beams; search-and-learn copies some to fill n.
//! - Beam search with lookahead ranks each beam by its step and rollout, as lookahead search
//!   means and as search-and-learn's own DVTS does; its beam search generates the rollouts and
//!   then scores the beams without them, so they cost tokens and change nothing.
//! - DVTS generates with the configured max_tokens; search-and-learn's DVTS always uses 2048
//!   whatever its config says.
//! - Completions carry their own steps' scores, not those of the rollout that chose them
//!   (search-and-learn's DVTS records the scores of the step with its rollout).
//! - Beam search, DVTS and auto answer with weighted Best-of-N over their completions (all
//!   three selections are always reported).
//! - The answer and the selections a search returns use the agg_strategy aggregate (as the
//!   ranking does); search-and-learn's evaluation uses the last step score
//!   ([`select_search_and_learn`]). Under [`select`] completions without an answer never vote;
//!   search-and-learn's evaluation counts them as one group, the empty answer, which can win.
//!
//! Not a departure: a step that ends on the token limit ends its path in beam search and in
//! DVTS alike, as in search-and-learn (vLLM gives no stop reason for it, which
//! search-and-learn reads as EOS).

mod aggregate;
mod auto;
mod beam;
mod dvts;
mod engine_models;
mod events;
mod params;
mod path;
mod policy;
mod run;
mod sample;
mod vote;

pub use aggregate::AggStrategy;
pub use auto::{Evidence as AutoEvidence, choose as auto_choose, difficulty as auto_difficulty};
pub use engine_models::{EnginePolicy, PolicyPrompt, STEP_SEPARATOR, SelfVerified};
pub use events::{AutoChoice, PruneReason, SearchEvent};
pub use params::{SearchParams, Strategy};
pub use policy::{
    GenerateRequest, Generated, Models, NoScorer, Policy, PolicyStats, ScorerStats, StepEnd,
    StepScorer, Until,
};
pub use run::{Clock, EventSink, PhaseSeconds, SearchOptions, split_steps, stream_key};
pub use vote::{Completion, Selection, select, select_search_and_learn};

use crate::error::{Error, Result};
use run::Run;

/// The work a search did.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct SearchReport {
    /// Policy prompt tokens fed (prefill and re-tokenized stop tails).
    pub policy_prefill_tokens: u64,
    /// Policy tokens fed by decode steps.
    pub policy_decode_tokens: u64,
    /// Tokens the policy sampled (lookahead rollouts included).
    pub generated_tokens: u64,
    /// Prompt tokens search-and-learn's procedure would have prefilled into the policy (each
    /// sequence's whole prompt and text at every generate call).
    pub policy_resubmitted_tokens: u64,
    /// Tokens fed to the scorer.
    pub prm_tokens_fed: u64,
    /// Tokens search-and-learn's procedure would have fed the scorer: every scored text's
    /// whole sequence at every scoring (once per iteration per beam, lookahead rollouts
    /// included).
    pub prm_rescore_tokens: u64,
    /// Most KV blocks in use at once (policy; the scorer's when it has its own cache).
    pub policy_kv_blocks_peak: usize,
    /// Most KV blocks the scorer's cache held at once.
    pub prm_kv_blocks_peak: usize,
    /// Iterations run (1 for whole-solution sampling).
    pub iterations: usize,
    /// Seconds per phase.
    pub seconds: PhaseSeconds,
}

/// What a search returns.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SearchOutcome {
    /// The strategy that ran (auto's choice).
    pub strategy: Strategy,
    /// The chosen answer ([`Selection::answer_for`]).
    pub answer: Option<String>,
    /// Every returned completion with its step scores.
    pub completions: Vec<Completion>,
    /// Naive, weighted and majority selections over them.
    pub selection: Selection,
    /// Auto's choice and its evidence.
    pub auto: Option<AutoChoice>,
    /// The work done.
    pub report: SearchReport,
}

/// Searches for a solution of `problem`. On error or cancellation every sequence the search
/// created is released before the error returns.
pub async fn search<'a, M: Policy + StepScorer>(
    models: &'a mut M,
    problem: &'a str,
    params: &SearchParams,
    options: SearchOptions<'a>,
) -> Result<SearchOutcome> {
    params.validate()?;
    let needs_scorer = matches!(
        params.strategy,
        Strategy::Bon | Strategy::WeightedBon | Strategy::Beam | Strategy::Dvts
    );
    if needs_scorer && !models.available() {
        return Err(Error::InvalidArgument(format!(
            "{:?} needs a step scorer: give a PRM or use the policy as verifier",
            params.strategy
        )));
    }
    let mut run = Run::new(models, problem, params.clone(), options);
    let (policy_before, scorer_before) = (run.policy_before, run.scorer_before);
    let t0 = run.now();
    let result = execute(&mut run).await;
    // Whatever happened, nothing stays allocated.
    run.cleanup();
    let (strategy, completions, auto) = result?;
    let mut seconds = run.seconds;
    seconds.total = run.now() - t0;
    let iterations = run.iterations;
    let rescore_tokens = run.rescore_tokens;
    let policy = Policy::stats(run.models);
    let scorer = StepScorer::stats(run.models);
    let selection = select(&completions, params.agg_strategy);
    let answer = selection.answer_for(strategy);
    run.emit(SearchEvent::Finished {
        answer: answer.clone(),
        completions: completions.len(),
    });
    Ok(SearchOutcome {
        strategy,
        answer,
        completions,
        selection,
        auto,
        report: SearchReport {
            policy_prefill_tokens: policy.prefill_tokens - policy_before.prefill_tokens,
            policy_decode_tokens: policy.decode_tokens - policy_before.decode_tokens,
            generated_tokens: policy.generated_tokens - policy_before.generated_tokens,
            policy_resubmitted_tokens: policy.resubmitted_tokens - policy_before.resubmitted_tokens,
            prm_tokens_fed: scorer.tokens_fed - scorer_before.tokens_fed,
            prm_rescore_tokens: rescore_tokens
                .unwrap_or(scorer.rescore_tokens - scorer_before.rescore_tokens),
            policy_kv_blocks_peak: policy.kv_blocks_peak,
            prm_kv_blocks_peak: scorer.kv_blocks_peak,
            iterations,
            seconds,
        },
    })
}

type Executed = (Strategy, Vec<Completion>, Option<AutoChoice>);

async fn execute<M: Policy + StepScorer>(run: &mut Run<'_, M>) -> Result<Executed> {
    let p = run.params.clone();
    run.emit(SearchEvent::Started {
        strategy: p.strategy,
        n: p.n,
        beam_width: p.beam_width,
        num_iterations: p.num_iterations,
        lookahead: p.lookahead,
    });
    let scored = run.models.available();
    let (strategy, completions, auto) = match p.strategy {
        Strategy::Auto => {
            let (choice, probes) = auto::probe(run).await?;
            run.emit(SearchEvent::AutoChose(choice.clone()));
            let strategy = choice.strategy;
            if choice.n == 0 {
                (strategy, probes, Some(choice))
            } else {
                run.params.strategy = strategy;
                run.params.n = choice.n;
                let completions = run_strategy(run, strategy, scored).await?;
                (strategy, completions, Some(choice))
            }
        }
        s => (s, run_strategy(run, s, scored).await?, None),
    };
    let selection = select(&completions, p.agg_strategy);
    run.answer_now(selection.answer_for(strategy));
    Ok((strategy, completions, auto))
}

async fn run_strategy<M: Policy + StepScorer>(
    run: &mut Run<'_, M>,
    strategy: Strategy,
    scored: bool,
) -> Result<Vec<Completion>> {
    let n = run.params.n;
    match strategy {
        Strategy::Cot => sample::sample(run, 1, true, scored).await,
        Strategy::Majority => sample::sample(run, n, false, scored).await,
        Strategy::Bon | Strategy::WeightedBon => sample::sample(run, n, false, true).await,
        Strategy::Beam => beam::beam_search(run).await,
        Strategy::Dvts => dvts::dvts(run).await,
        Strategy::Auto => Err(Error::InvalidArgument("auto cannot choose auto".into())),
    }
}
