//! A partial solution in flight (beam, DVTS subtree): its sequences in both models, its text,
//! step scores and tokens, and its node in the event tree; starting n of them from one prompt,
//! releasing and pruning them.

use super::events::{PruneReason, SearchEvent};
use super::policy::{Policy, StepScorer};
use super::run::Run;
use super::vote::Completion;
use crate::error::{Error, Result};
use crate::kv::SeqId;

/// A path from the prompt.
pub struct Path {
    /// Its policy sequence.
    pub policy: SeqId,
    /// Its scorer sequence.
    pub scorer: SeqId,
    /// The text so far.
    pub text: String,
    /// The score of each step so far.
    pub scores: Vec<f32>,
    /// Tokens generated for it.
    pub tokens: usize,
    /// Its last node in the event tree (0: the prompt).
    pub node: u32,
}

impl Path {
    /// Its text and scores as a completion.
    pub fn completion(&self) -> Completion {
        Completion {
            text: self.text.clone(),
            scores: self.scores.clone(),
            tokens: self.tokens,
        }
    }
}

impl<M: Policy + StepScorer> Run<'_, M> {
    /// `k` empty paths: the prompt prefilled once in each model and forked `k` times.
    pub async fn start_paths(&mut self, k: usize) -> Result<Vec<Path>> {
        let (root, scorer_root) = self.start(true).await?;
        let scorer_root = scorer_root
            .ok_or_else(|| Error::InvalidArgument("this strategy needs a scorer".into()))?;
        let policies = self.fork_policy(root, k)?;
        let scorers = self.fork_scorer(scorer_root, k)?;
        self.release_policy(root)?;
        self.release_scorer(scorer_root)?;
        Ok(policies
            .into_iter()
            .zip(scorers)
            .map(|(policy, scorer)| Path {
                policy,
                scorer,
                text: String::new(),
                scores: Vec::new(),
                tokens: 0,
                node: 0,
            })
            .collect())
    }

    /// Frees a path's sequences.
    pub fn release_path(&mut self, path: &Path) -> Result<()> {
        self.release_policy(path.policy)?;
        self.release_scorer(path.scorer)
    }

    /// Drops a path (or a candidate) from the search: reported, then freed.
    pub fn prune(
        &mut self,
        policy: SeqId,
        scorer: SeqId,
        node: u32,
        iteration: usize,
        reason: PruneReason,
    ) -> Result<()> {
        self.emit(SearchEvent::Pruned {
            node,
            iteration,
            reason,
        });
        self.release_policy(policy)?;
        self.release_scorer(scorer)
    }
}
