//! Whole-solution sampling: CoT (one greedy sample), majority vote, Best-of-N and weighted
//! Best-of-N. One prefill, n forks decoded together to the end, each sample's steps scored on a
//! fork of the scorer's problem sequence. Sample i draws from stream i, so a run with a smaller
//! n gives exactly the first samples of a larger one.

use super::events::SearchEvent;
use super::policy::{Policy, StepScorer, Until};
use super::run::{Run, stream_key};
use super::vote::Completion;
use crate::error::Result;
use crate::kv::SeqId;

/// Stream tag of whole samples.
const SAMPLE: u64 = 1;

/// `n` whole solutions (greedy when `greedy`), scored when `scored`.
pub async fn sample<M: Policy + StepScorer>(
    run: &mut Run<'_, M>,
    n: usize,
    greedy: bool,
    scored: bool,
) -> Result<Vec<Completion>> {
    let (root, scorer_root) = run.start(scored).await?;
    let seqs = run.fork_policy(root, n)?;
    run.release_policy(root)?;
    let keyed: Vec<(SeqId, u64)> = seqs
        .iter()
        .enumerate()
        .map(|(i, &s)| (s, stream_key(&[SAMPLE, i as u64])))
        .collect();
    let temperature = greedy.then_some(0.0);
    let gens = run.generate(&keyed, Until::End, temperature, true).await?;
    let scores = match scorer_root {
        Some(root) => {
            let kids = run.fork_scorer(root, n)?;
            run.release_scorer(root)?;
            let items: Vec<(SeqId, &str)> = kids
                .iter()
                .zip(&gens)
                .map(|(&s, g)| (s, g.text.as_str()))
                .collect();
            let scores = run.score_finished(&items).await?;
            for s in kids {
                run.release_scorer(s)?;
            }
            scores
        }
        None => vec![Vec::new(); n],
    };
    run.iterations = 1;
    let agg = run.params.agg_strategy;
    let mut completions = Vec::with_capacity(n);
    for (g, scores) in gens.into_iter().zip(scores) {
        let node = run.node();
        let aggregated = agg.apply(&scores);
        run.emit(SearchEvent::StepProposed {
            node,
            parent: 0,
            iteration: 0,
            text: g.text.clone(),
            scores: scores.clone(),
            aggregated,
        });
        run.emit(SearchEvent::Completed {
            node,
            iteration: 0,
            text: g.text.clone(),
            aggregated,
            answer: crate::grade::extract_answer(&g.text).answer,
        });
        completions.push(Completion {
            text: g.text,
            scores,
            tokens: g.tokens,
        });
    }
    Ok(completions)
}
