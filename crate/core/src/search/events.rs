//! The typed events a search reports while it runs, enough for a page to draw the search tree
//! live: node 0 is the prompt, every proposed step is a new node under the node it extends.

use super::params::Strategy;
use serde::Serialize;

/// Why a node left the search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PruneReason {
    /// Its aggregated score was not among the best kept.
    Score,
    /// Another beam has the same text.
    Duplicate,
    /// A sibling candidate scored higher (DVTS keeps one per subtree).
    Sibling,
}

/// The compute-optimal choice and its evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AutoChoice {
    /// Probe samples drawn.
    pub probes: usize,
    /// Share of the probes in the largest answer group.
    pub agreement: f32,
    /// Mean aggregated PRM score of the probes (None without a scorer).
    pub mean_score: Option<f32>,
    /// Predicted difficulty, 1 (easy) to 5 (hard).
    pub difficulty: u8,
    /// The policy's parameter count, when known.
    pub policy_parameters: Option<u64>,
    /// The strategy chosen.
    pub strategy: Strategy,
    /// The budget given to it (0: the probes are the answer).
    pub n: usize,
    /// Why, in words.
    pub reason: String,
}

/// Something that happened in a search.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SearchEvent {
    /// The search began.
    Started {
        /// The strategy (auto before its choice).
        strategy: Strategy,
        /// Budget.
        n: usize,
        /// M.
        beam_width: usize,
        /// Most iterations.
        num_iterations: usize,
        /// Lookahead steps.
        lookahead: usize,
    },
    /// The compute-optimal choice was made.
    AutoChose(AutoChoice),
    /// A new step (or a whole sample) was generated and scored.
    StepProposed {
        /// This step's node.
        node: u32,
        /// The node it extends.
        parent: u32,
        /// The iteration (0-based).
        iteration: usize,
        /// The step's text.
        text: String,
        /// The scores of the step's parts (a step generated to the end may hold several).
        scores: Vec<f32>,
        /// The path's aggregated score that selection uses (lookahead included).
        aggregated: f32,
    },
    /// A node was dropped.
    Pruned {
        /// The node.
        node: u32,
        /// The iteration.
        iteration: usize,
        /// Why.
        reason: PruneReason,
    },
    /// A path became a finished completion.
    Completed {
        /// Its last node.
        node: u32,
        /// The iteration.
        iteration: usize,
        /// The whole solution.
        text: String,
        /// Its aggregated score.
        aggregated: f32,
        /// Its extracted answer.
        answer: String,
    },
    /// The answer the strategy would give now changed.
    AnswerChanged {
        /// The new answer.
        answer: String,
    },
    /// Work so far, after each generate and each scoring call (counters since the search
    /// began).
    Progress {
        /// Tokens the policy sampled.
        generated_tokens: u64,
        /// Tokens fed to the scorer.
        prm_tokens_fed: u64,
        /// Tokens search-and-learn's whole-prefix re-scoring would have fed by now.
        prm_rescore_tokens: u64,
        /// Policy KV blocks in use now.
        policy_kv_blocks: usize,
        /// Seconds since the search began.
        seconds: f64,
    },
    /// The search ended.
    Finished {
        /// The chosen answer.
        answer: Option<String>,
        /// Completions returned.
        completions: usize,
    },
}
