//! Beam search with search-and-learn's semantics: n beams in flight; each iteration every
//! active beam samples one step (all in one batched call), completed beams (EOS, the token
//! limit, an empty step) leave, an optional filter drops beams with identical text, the best
//! n / M by aggregated score survive, and each survivor is copied M times (policy and scorer
//! sequences forked) back to n. The search stops when no beam is active or after
//! num_iterations; the last iteration generates to the end. With `shrink_width` (cotts), the
//! beams in flight shrink by the number completed, so that at most n completions are made.

use super::events::{PruneReason, SearchEvent};
use super::path::Path;
use super::policy::{Generated, Policy, StepEnd, StepScorer, Until};
use super::run::{Candidate, Run, stream_key};
use super::vote::{Completion, select};
use crate::error::Result;
use crate::grade::extract_answer;
use crate::kv::SeqId;
use std::collections::HashSet;

/// Stream tag of beam steps.
const BEAM: u64 = 2;

/// Whether a path ends with this generated piece: EOS, length, or an empty step.
pub(super) fn ends(g: &Generated) -> bool {
    g.end != StepEnd::Step || g.text.is_empty()
}

/// Copies beams cyclically (forking both sequences) until there are `target`, as
/// search-and-learn's `(active * repeats)[:n]`.
fn refill<M: Policy + StepScorer>(
    run: &mut Run<'_, M>,
    mut active: Vec<Path>,
    target: usize,
) -> Result<Vec<Path>> {
    let len = active.len();
    while active.len() > target {
        if let Some(b) = active.pop() {
            run.release_path(&b)?;
        }
    }
    for j in len..target {
        let src = &active[j % len];
        let (p, s) = (src.policy, src.scorer);
        let copy = Path {
            policy: run.fork_policy(p, 1)?[0],
            scorer: run.fork_scorer(s, 1)?[0],
            text: src.text.clone(),
            scores: src.scores.clone(),
            tokens: src.tokens,
            node: src.node,
        };
        active.push(copy);
    }
    Ok(active)
}

/// Runs beam search; returns up to n completed beams (in completion order, or by score with
/// `sort_completed`).
pub async fn beam_search<M: Policy + StepScorer>(run: &mut Run<'_, M>) -> Result<Vec<Completion>> {
    let p = run.params.clone();
    let n = p.n;
    let mut active: Vec<Path> = run.start_paths(n).await?;
    let mut completed: Vec<(Completion, f32)> = Vec::new();
    for i in 0..p.num_iterations {
        run.check()?;
        let target = if p.shrink_width {
            n.saturating_sub(completed.len())
        } else {
            n
        };
        if target == 0 || active.is_empty() {
            break;
        }
        run.iterations = i + 1;
        if active.len() != target {
            active = refill(run, active, target)?;
        }
        let last = i + 1 == p.num_iterations;
        let until = if last { Until::End } else { Until::Step };
        let lookahead = if last { 0 } else { p.lookahead };
        let keyed: Vec<(SeqId, u64)> = active
            .iter()
            .enumerate()
            .map(|(j, b)| (b.policy, stream_key(&[BEAM, i as u64, j as u64])))
            .collect();
        let gens = run.generate(&keyed, until, None, false).await?;
        let candidates: Vec<Candidate<'_>> = active
            .iter()
            .zip(&gens)
            .map(|(b, g)| Candidate {
                policy: b.policy,
                scorer: b.scorer,
                text: &g.text,
                ended: ends(g),
            })
            .collect();
        let scored = run.score_candidates(&candidates, lookahead).await?;
        let mut survivors: Vec<(Path, f32)> = Vec::new();
        let mut finished_now = false;
        for ((mut b, g), s) in active.drain(..).zip(&gens).zip(scored) {
            b.text.push_str(&g.text);
            b.tokens += g.tokens;
            b.scores.extend(&s.step);
            let with_rollout: Vec<f32> = b.scores.iter().chain(&s.rollout).copied().collect();
            let aggregated = p.agg_strategy.apply(&with_rollout);
            let node = run.node();
            run.emit(SearchEvent::StepProposed {
                node,
                parent: b.node,
                iteration: i,
                text: g.text.clone(),
                scores: s.step.clone(),
                aggregated,
            });
            b.node = node;
            if ends(g) {
                let final_score = p.agg_strategy.apply(&b.scores);
                run.emit(SearchEvent::Completed {
                    node,
                    iteration: i,
                    text: b.text.clone(),
                    aggregated: final_score,
                    answer: extract_answer(&b.text).answer,
                });
                run.release_path(&b)?;
                completed.push((b.completion(), final_score));
                finished_now = true;
            } else {
                survivors.push((b, aggregated));
            }
        }
        if finished_now {
            let done: Vec<Completion> = completed.iter().map(|(c, _)| c.clone()).collect();
            let answer = select(&done, p.agg_strategy).answer_for(p.strategy);
            run.answer_now(answer);
        }
        if survivors.is_empty() {
            break;
        }
        if p.filter_duplicates {
            let mut seen = HashSet::new();
            let mut unique = Vec::new();
            for (b, score) in survivors {
                if seen.insert(b.text.clone()) {
                    unique.push((b, score));
                } else {
                    run.prune(b.policy, b.scorer, b.node, i, PruneReason::Duplicate)?;
                }
            }
            survivors = unique;
        }
        // The best target / M by aggregated score (ties: the earlier beam) survive.
        let keep = (target / p.beam_width).max(1);
        let mut order: Vec<usize> = (0..survivors.len()).collect();
        order.sort_by(|&a, &b| survivors[b].1.total_cmp(&survivors[a].1));
        let kept: HashSet<usize> = order.into_iter().take(keep).collect();
        for (j, (b, _)) in survivors.into_iter().enumerate() {
            if kept.contains(&j) {
                active.push(b);
            } else {
                run.prune(b.policy, b.scorer, b.node, i, PruneReason::Score)?;
            }
        }
    }
    for b in active {
        run.release_path(&b)?;
    }
    if p.sort_completed {
        completed.sort_by(|a, b| b.1.total_cmp(&a.1));
    }
    Ok(completed.into_iter().take(n).map(|(c, _)| c).collect())
}
