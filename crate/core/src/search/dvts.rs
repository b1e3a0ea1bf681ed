//! Diverse verifier tree search: n / M independent greedy subtrees; every iteration each live
//! subtree samples M candidate steps (all subtrees in one batched call), scores them (with the
//! lookahead rollout when lookahead > 0), keeps the best and frees the others. A subtree ends on
//! EOS, the token limit (as in search-and-learn, which reads vLLM's missing stop reason for a
//! length end as EOS), an empty step or once "boxed{" is in its text. The output is each
//! subtree's last M siblings (prefix + each candidate), subtree by subtree, so a run with a
//! smaller n gives exactly the first subtrees of a larger one (candidate c of subtree t at
//! iteration i draws from stream (t, i, c)).

use super::beam::ends;
use super::events::{PruneReason, SearchEvent};
use super::path::Path;
use super::policy::{Policy, StepScorer, Until};
use super::run::{Candidate, Run, stream_key};
use super::vote::{Completion, select};
use crate::error::Result;
use crate::grade::extract_answer;
use crate::kv::SeqId;

/// Stream tag of DVTS candidates.
const DVTS: u64 = 3;

struct Subtree {
    path: Path,
    done: bool,
    /// The last iteration's candidates as completions (prefix + candidate).
    siblings: Vec<Completion>,
}

/// Runs DVTS; returns n completions (M per subtree).
pub async fn dvts<M: Policy + StepScorer>(run: &mut Run<'_, M>) -> Result<Vec<Completion>> {
    let p = run.params.clone();
    let m = p.beam_width;
    let mut trees: Vec<Subtree> = run
        .start_paths(p.n / m)
        .await?
        .into_iter()
        .map(|path| Subtree {
            path,
            done: false,
            siblings: Vec::new(),
        })
        .collect();
    for i in 0..p.num_iterations {
        run.check()?;
        let live: Vec<usize> = (0..trees.len()).filter(|&t| !trees[t].done).collect();
        if live.is_empty() {
            break;
        }
        run.iterations = i + 1;
        let last = i + 1 == p.num_iterations;
        let until = if last { Until::End } else { Until::Step };
        let lookahead = if last { 0 } else { p.lookahead };
        // M candidates per live subtree: forks of its sequences (the parents are freed).
        let mut keyed: Vec<(SeqId, u64)> = Vec::new();
        let mut scorers: Vec<SeqId> = Vec::new();
        for &t in &live {
            let (tp, ts) = (trees[t].path.policy, trees[t].path.scorer);
            let kids = run.fork_policy(tp, m)?;
            scorers.extend(run.fork_scorer(ts, m)?);
            run.release_policy(tp)?;
            run.release_scorer(ts)?;
            for (c, kid) in kids.into_iter().enumerate() {
                keyed.push((kid, stream_key(&[DVTS, t as u64, i as u64, c as u64])));
            }
        }
        let gens = run.generate(&keyed, until, None, false).await?;
        let candidates: Vec<Candidate<'_>> = keyed
            .iter()
            .zip(&scorers)
            .zip(&gens)
            .map(|(((policy, _), scorer), g)| Candidate {
                policy: *policy,
                scorer: *scorer,
                text: &g.text,
                ended: ends(g),
            })
            .collect();
        let scored = run.score_candidates(&candidates, lookahead).await?;
        for (k, &t) in live.iter().enumerate() {
            let range = k * m..(k + 1) * m;
            let mut aggs = Vec::with_capacity(m);
            let mut nodes = Vec::with_capacity(m);
            let mut siblings = Vec::with_capacity(m);
            for c in range.clone() {
                let tree = &trees[t];
                let scores: Vec<f32> = tree
                    .path
                    .scores
                    .iter()
                    .chain(&scored[c].step)
                    .copied()
                    .collect();
                let with_rollout: Vec<f32> =
                    scores.iter().chain(&scored[c].rollout).copied().collect();
                let aggregated = p.agg_strategy.apply(&with_rollout);
                let node = run.node();
                let parent = trees[t].path.node;
                run.emit(SearchEvent::StepProposed {
                    node,
                    parent,
                    iteration: i,
                    text: gens[c].text.clone(),
                    scores: scored[c].step.clone(),
                    aggregated,
                });
                siblings.push(Completion {
                    text: format!("{}{}", trees[t].path.text, gens[c].text),
                    scores,
                    tokens: trees[t].path.tokens + gens[c].tokens,
                });
                aggs.push(aggregated);
                nodes.push(node);
            }
            // The best candidate (ties: the first) continues the subtree.
            let best = (0..m).fold(0, |b, c| if aggs[c] > aggs[b] { c } else { b });
            let c = range.start + best;
            let done = ends(&gens[c]) || {
                let mut text = trees[t].path.text.clone();
                text.push_str(&gens[c].text);
                text.contains("boxed{")
            };
            for (j, k) in range.clone().enumerate() {
                if j == best {
                    continue;
                }
                if done {
                    // The last siblings of a finished subtree are completions, not pruned.
                    run.emit(SearchEvent::Completed {
                        node: nodes[j],
                        iteration: i,
                        text: siblings[j].text.clone(),
                        aggregated: aggs[j],
                        answer: extract_answer(&siblings[j].text).answer,
                    });
                    run.release_policy(keyed[k].0)?;
                    run.release_scorer(scorers[k])?;
                } else {
                    run.prune(keyed[k].0, scorers[k], nodes[j], i, PruneReason::Sibling)?;
                }
            }
            let tree = &mut trees[t];
            tree.path.policy = keyed[c].0;
            tree.path.scorer = scorers[c];
            tree.path.text.push_str(&gens[c].text);
            tree.path.scores.extend(&scored[c].step);
            tree.path.tokens += gens[c].tokens;
            tree.path.node = nodes[best];
            tree.siblings = siblings;
            tree.done = done;
            if tree.done {
                let event = SearchEvent::Completed {
                    node: tree.path.node,
                    iteration: i,
                    text: tree.path.text.clone(),
                    aggregated: p.agg_strategy.apply(&tree.path.scores),
                    answer: extract_answer(&tree.path.text).answer,
                };
                run.release_path(&trees[t].path)?;
                run.emit(event);
            }
        }
        let so_far: Vec<Completion> = trees
            .iter()
            .filter(|t| t.done)
            .flat_map(|t| t.siblings.iter().cloned())
            .collect();
        let answer = select(&so_far, p.agg_strategy).answer_for(p.strategy);
        run.answer_now(answer);
    }
    let mut out = Vec::with_capacity(p.n);
    for tree in trees {
        if !tree.done {
            run.release_path(&tree.path)?;
        }
        out.extend(tree.siblings);
    }
    Ok(out)
}
