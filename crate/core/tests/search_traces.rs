//! Every strategy against hand-derived traces on a scripted policy and scorer: which candidates
//! are kept, pruned, refilled, which complete and which answer wins; lookahead changing a
//! choice; cancellation and errors releasing every sequence.

#![cfg(not(target_arch = "wasm32"))]

use std::collections::HashMap;
use ttsearch::engine::CancelToken;
use ttsearch::kv::SeqId;
use ttsearch::search::{
    AggStrategy, GenerateRequest, Generated, Policy, PolicyStats, PruneReason, ScorerStats,
    SearchEvent, SearchOptions, SearchParams, StepEnd, StepScorer, Strategy, Until, search,
    select_search_and_learn,
};
use ttsearch::{Error, Result, block_on};

/// A scripted policy and scorer. The policy continues a text with an option of
/// `script[text]`: the j-th sequence with that text in a call gets option j (mod the count),
/// greedy calls get option 0; an option ending in "$" ends with EOS (the "$" is dropped).
/// Generating to the end keeps going while the text has a script. The scorer reads each
/// step's score from `scores`.
struct Scripted {
    script: HashMap<String, Vec<String>>,
    scores: HashMap<String, f32>,
    policy_seqs: HashMap<SeqId, String>,
    scorer_seqs: HashMap<SeqId, usize>,
    next: u64,
    generate_calls: usize,
    score_calls: usize,
    /// Cancel this token during the generate call with this number (1-based).
    cancel_at: Option<(usize, CancelToken)>,
    /// Fail the score call with this number.
    fail_score_at: Option<usize>,
    generated: u64,
    fed: u64,
}

impl Scripted {
    fn new(script: &[(&str, &[&str])], scores: &[(&str, f32)]) -> Self {
        Self {
            script: script
                .iter()
                .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
                .collect(),
            scores: scores.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            policy_seqs: HashMap::new(),
            scorer_seqs: HashMap::new(),
            next: 0,
            generate_calls: 0,
            score_calls: 0,
            cancel_at: None,
            fail_score_at: None,
            generated: 0,
            fed: 0,
        }
    }

    fn id(&mut self) -> SeqId {
        self.next += 1;
        SeqId(self.next)
    }

    fn live(&self) -> usize {
        self.policy_seqs.len() + self.scorer_seqs.len()
    }

    fn option(&self, text: &str, j: usize, greedy: bool) -> Option<String> {
        let options = self.script.get(text)?;
        Some(options[if greedy { 0 } else { j % options.len() }].clone())
    }
}

fn unknown(seq: SeqId) -> Error {
    Error::InvalidArgument(format!("unknown sequence {}", seq.0))
}

impl Policy for Scripted {
    async fn start(&mut self, _problem: &str) -> Result<SeqId> {
        let id = self.id();
        self.policy_seqs.insert(id, String::new());
        Ok(id)
    }
    fn fork(&mut self, seq: SeqId, k: usize) -> Result<Vec<SeqId>> {
        let text = self.policy_seqs.get(&seq).cloned().ok_or(unknown(seq))?;
        Ok((0..k)
            .map(|_| {
                let id = self.id();
                self.policy_seqs.insert(id, text.clone());
                id
            })
            .collect())
    }
    async fn generate(
        &mut self,
        seqs: &[(SeqId, u64)],
        request: &GenerateRequest,
        cancel: Option<&CancelToken>,
    ) -> Result<Vec<Generated>> {
        self.generate_calls += 1;
        if let Some((at, token)) = &self.cancel_at
            && *at == self.generate_calls
        {
            token.cancel();
        }
        if cancel.is_some_and(CancelToken::is_cancelled) {
            return Err(Error::Cancelled);
        }
        let greedy = request.params.temperature == 0.0;
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut out = Vec::new();
        for (seq, _) in seqs {
            let start = self.policy_seqs.get(seq).cloned().ok_or(unknown(*seq))?;
            let j = *seen
                .entry(start.clone())
                .and_modify(|c| *c += 1)
                .or_insert(0);
            let mut text = start.clone();
            let mut end = StepEnd::Eos;
            let mut first = true;
            while let Some(option) = self.option(&text, if first { j } else { 0 }, greedy) {
                first = false;
                if let Some(body) = option.strip_suffix('$') {
                    text.push_str(body);
                    end = StepEnd::Eos;
                    break;
                }
                text.push_str(&option);
                end = StepEnd::Step;
                if request.until == Until::Step {
                    break;
                }
                end = StepEnd::Eos;
            }
            let new = text[start.len()..].to_string();
            let tokens = new.split_whitespace().count();
            self.generated += tokens as u64;
            if request.release_finished {
                self.policy_seqs.remove(seq);
            } else {
                self.policy_seqs.insert(*seq, text);
            }
            out.push(Generated {
                text: new,
                tokens,
                end,
            });
        }
        Ok(out)
    }
    fn release(&mut self, seq: SeqId) -> Result<()> {
        self.policy_seqs
            .remove(&seq)
            .map(|_| ())
            .ok_or(unknown(seq))
    }
    fn stats(&self) -> PolicyStats {
        PolicyStats {
            generated_tokens: self.generated,
            ..PolicyStats::default()
        }
    }
}

impl StepScorer for Scripted {
    async fn start(&mut self, _problem: &str) -> Result<SeqId> {
        let id = self.id();
        self.scorer_seqs.insert(id, 0);
        Ok(id)
    }
    fn fork(&mut self, seq: SeqId, k: usize) -> Result<Vec<SeqId>> {
        let steps = *self.scorer_seqs.get(&seq).ok_or(unknown(seq))?;
        Ok((0..k)
            .map(|_| {
                let id = self.id();
                self.scorer_seqs.insert(id, steps);
                id
            })
            .collect())
    }
    async fn score_steps(&mut self, items: &[(SeqId, &str)]) -> Result<Vec<f32>> {
        self.score_calls += 1;
        if self.fail_score_at == Some(self.score_calls) {
            return Err(Error::InvalidArgument("scorer failed".into()));
        }
        items
            .iter()
            .map(|(seq, step)| {
                *self.scorer_seqs.get_mut(seq).ok_or(unknown(*seq))? += 1;
                self.fed += 1;
                self.scores
                    .get(*step)
                    .copied()
                    .ok_or_else(|| Error::InvalidArgument(format!("no score for {step:?}")))
            })
            .collect()
    }
    fn release(&mut self, seq: SeqId) -> Result<()> {
        self.scorer_seqs
            .remove(&seq)
            .map(|_| ())
            .ok_or(unknown(seq))
    }
    fn stats(&self) -> ScorerStats {
        ScorerStats {
            tokens_fed: self.fed,
            ..ScorerStats::default()
        }
    }
}

fn params(strategy: Strategy, n: usize, beam_width: usize, num_iterations: usize) -> SearchParams {
    SearchParams {
        strategy,
        n,
        beam_width,
        num_iterations,
        ..SearchParams::default()
    }
}

/// Runs a search, collecting its events.
fn run(
    models: &mut Scripted,
    p: &SearchParams,
) -> (Result<ttsearch::search::SearchOutcome>, Vec<SearchEvent>) {
    let mut events = Vec::new();
    let mut sink = |e: &SearchEvent| events.push(e.clone());
    let out = block_on(search(
        models,
        "problem",
        p,
        SearchOptions {
            on_event: Some(&mut sink),
            ..SearchOptions::default()
        },
    ));
    (out, events)
}

fn texts(out: &ttsearch::search::SearchOutcome) -> Vec<&str> {
    out.completions.iter().map(|c| c.text.as_str()).collect()
}

fn pruned(events: &[SearchEvent]) -> Vec<(usize, PruneReason)> {
    events
        .iter()
        .filter_map(|e| match e {
            SearchEvent::Pruned {
                iteration, reason, ..
            } => Some((*iteration, *reason)),
            _ => None,
        })
        .collect()
}

/// The beam search script (n = 4, M = 2, 3 iterations):
/// it 0: 4 beams from the prompt: A .9, B .2, C .5, D .7 (EOS) -> D completes; keep A, C.
/// it 1: refill [A, C, A', C']: A1 .3, C1 .6, A2 .8, C2 .95 (EOS) -> C C2 completes;
///       keep A A2 (.8), C C1 (.6); A A1 pruned.
/// it 2 (to the end): [C C1, A A2, C C1', A A2']: C3 .1, A3 .4, C4 C5 (.2, .3), A4 .85.
fn beam_script() -> Scripted {
    let a = "alpha\n\n";
    let c = "charlie\n\n";
    let aa2 = "alpha\n\nalpha two\n\n";
    let cc1 = "charlie\n\ncharlie one\n\n";
    Scripted::new(
        &[
            (
                "",
                &["alpha\n\n", "bravo\n\n", "charlie\n\n", "delta \\boxed{1}$"],
            ),
            (a, &["alpha one\n\n", "alpha two\n\n"]),
            (c, &["charlie one\n\n", "charlie two \\boxed{2}$"]),
            (aa2, &["alpha three \\boxed{1}$", "alpha four \\boxed{4}$"]),
            (
                cc1,
                &["charlie three \\boxed{1}$", "charlie four\n\ncharlie five$"],
            ),
        ],
        &[
            ("alpha", 0.9),
            ("bravo", 0.2),
            ("charlie", 0.5),
            ("delta \\boxed{1}", 0.7),
            ("alpha one", 0.3),
            ("alpha two", 0.8),
            ("charlie one", 0.6),
            ("charlie two \\boxed{2}", 0.95),
            ("charlie three \\boxed{1}", 0.1),
            ("alpha three \\boxed{1}", 0.4),
            ("charlie four", 0.2),
            ("charlie five", 0.3),
            ("alpha four \\boxed{4}", 0.85),
        ],
    )
}

#[test]
fn beam_search_keeps_refills_and_completes_as_search_and_learn() {
    let mut models = beam_script();
    let (out, events) = run(&mut models, &params(Strategy::Beam, 4, 2, 3));
    let out = out.expect("searches");
    // Completion order: D (it 0), C C2 (it 1), then it 2's four; the first n = 4 are kept.
    assert_eq!(
        texts(&out),
        [
            "delta \\boxed{1}",
            "charlie\n\ncharlie two \\boxed{2}",
            "charlie\n\ncharlie one\n\ncharlie three \\boxed{1}",
            "alpha\n\nalpha two\n\nalpha three \\boxed{1}",
        ]
    );
    assert_eq!(out.completions[1].scores, [0.5, 0.95]);
    assert_eq!(out.completions[3].scores, [0.9, 0.8, 0.4]);
    // Six beams completed in all (two over n are dropped), B and A A1 were pruned by score.
    let completed = events
        .iter()
        .filter(|e| matches!(e, SearchEvent::Completed { .. }))
        .count();
    assert_eq!(completed, 6);
    assert_eq!(
        pruned(&events),
        [(0, PruneReason::Score), (1, PruneReason::Score)]
    );
    // Naive: C C2 (.95) answers 2; weighted: "1" sums .7 + .1 + .4 = 1.2 > .95.
    assert_eq!(out.selection.naive, Some(1));
    assert_eq!(out.selection.weighted.as_deref(), Some("1"));
    assert_eq!(out.selection.majority.as_deref(), Some("1"));
    assert_eq!(out.answer.as_deref(), Some("1"));
    assert_eq!(out.report.iterations, 3);
    assert_eq!(models.live(), 0, "every sequence released");

    // sort_completed: best first, then the first n.
    let mut models = beam_script();
    let p = SearchParams {
        sort_completed: true,
        ..params(Strategy::Beam, 4, 2, 3)
    };
    let out = run(&mut models, &p).0.expect("searches");
    let aggregated: Vec<f32> = out.selection.aggregated.clone();
    assert_eq!(aggregated, [0.95, 0.85, 0.7, 0.4]);
    assert_eq!(models.live(), 0);
}

#[test]
fn beam_search_with_shrinking_width_makes_at_most_n_completions() {
    // it 0: D completes, keep A, C. it 1: 3 in flight [A, C, A']: A1 .3, C1 .6, A2 .8; keep
    // 3 / 2 = 1: A A2. it 2: 3 copies of A A2: A3, A4, A3 (option j mod 2).
    let mut models = beam_script();
    let p = SearchParams {
        shrink_width: true,
        ..params(Strategy::Beam, 4, 2, 3)
    };
    let (out, events) = run(&mut models, &p);
    let out = out.expect("searches");
    assert_eq!(
        texts(&out),
        [
            "delta \\boxed{1}",
            "alpha\n\nalpha two\n\nalpha three \\boxed{1}",
            "alpha\n\nalpha two\n\nalpha four \\boxed{4}",
            "alpha\n\nalpha two\n\nalpha three \\boxed{1}",
        ]
    );
    assert_eq!(
        pruned(&events),
        [
            (0, PruneReason::Score),
            (1, PruneReason::Score),
            (1, PruneReason::Score)
        ]
    );
    assert_eq!(models.live(), 0);
}

#[test]
fn beam_search_filters_duplicates_when_asked() {
    let script = || {
        Scripted::new(
            &[
                ("", &["alpha\n\n", "alpha\n\n", "charlie\n\n", "echo\n\n"]),
                ("alpha\n\n", &["xray$"]),
                ("charlie\n\n", &["yankee$"]),
            ],
            &[
                ("alpha", 0.9),
                ("charlie", 0.5),
                ("echo", 0.4),
                ("xray", 0.6),
                ("yankee", 0.3),
            ],
        )
    };
    // Without the filter both copies of "alpha" survive (ties: the earlier first).
    let mut models = script();
    let out = run(&mut models, &params(Strategy::Beam, 4, 2, 2))
        .0
        .expect("searches");
    assert_eq!(texts(&out), ["alpha\n\nxray"; 4]);
    let mut models = script();
    let p = SearchParams {
        filter_duplicates: true,
        ..params(Strategy::Beam, 4, 2, 2)
    };
    let (out, events) = run(&mut models, &p);
    let out = out.expect("searches");
    assert_eq!(
        texts(&out),
        [
            "alpha\n\nxray",
            "charlie\n\nyankee",
            "alpha\n\nxray",
            "charlie\n\nyankee"
        ]
    );
    assert_eq!(
        pruned(&events),
        [(0, PruneReason::Duplicate), (0, PruneReason::Score)]
    );
    assert_eq!(models.live(), 0);
}

/// DVTS (n = 4, M = 2: two subtrees), 3 iterations:
/// it 0: subtree 0 gets P .3, Q .6 -> Q; subtree 1 gets R .8, S .1 -> R.
/// it 1: subtree 0: Q1 .7 (has boxed{) , Q2 .2 -> Q1 and the subtree ends;
///       subtree 1: R1 .4, R2 .9 -> R2.
/// it 2 (to the end): subtree 1: R3 .5, R4 .65 -> R4.
fn dvts_script() -> Scripted {
    Scripted::new(
        &[
            ("", &["papa\n\n", "quebec\n\n", "romeo\n\n", "sierra\n\n"]),
            (
                "quebec\n\n",
                &["quebec one \\boxed{5}\n\n", "quebec two\n\n"],
            ),
            ("romeo\n\n", &["romeo one\n\n", "romeo two\n\n"]),
            (
                "romeo\n\nromeo two\n\n",
                &["romeo three \\boxed{5}$", "romeo four \\boxed{7}$"],
            ),
        ],
        &[
            ("papa", 0.3),
            ("quebec", 0.6),
            ("romeo", 0.8),
            ("sierra", 0.1),
            ("quebec one \\boxed{5}", 0.7),
            ("quebec two", 0.2),
            ("romeo one", 0.4),
            ("romeo two", 0.9),
            ("romeo three \\boxed{5}", 0.5),
            ("romeo four \\boxed{7}", 0.65),
        ],
    )
}

#[test]
fn dvts_keeps_the_best_candidate_per_subtree_and_returns_last_siblings() {
    let mut models = dvts_script();
    let (out, events) = run(&mut models, &params(Strategy::Dvts, 4, 2, 3));
    let out = out.expect("searches");
    assert_eq!(
        texts(&out),
        [
            "quebec\n\nquebec one \\boxed{5}\n\n",
            "quebec\n\nquebec two\n\n",
            "romeo\n\nromeo two\n\nromeo three \\boxed{5}",
            "romeo\n\nromeo two\n\nromeo four \\boxed{7}",
        ]
    );
    assert_eq!(out.completions[3].scores, [0.8, 0.9, 0.65]);
    // Siblings pruned: P, S (it 0), R1 (it 1). The siblings of a finishing iteration (Q2 at it
    // 1, R3 at it 2) are returned completions: they complete with the best, not pruned.
    let p = pruned(&events);
    assert_eq!(p.len(), 3);
    assert!(p.iter().all(|(_, r)| *r == PruneReason::Sibling));
    let completed: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            SearchEvent::Completed { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    let mut returned = texts(&out);
    returned.sort();
    let mut completed_sorted = completed.clone();
    completed_sorted.sort();
    assert_eq!(
        completed_sorted, returned,
        "every returned completion completes"
    );
    // Weighted: 5 sums .7 + .5 = 1.2 > .65; naive: Q Q1 (.7).
    assert_eq!(out.answer.as_deref(), Some("5"));
    assert_eq!(out.selection.naive, Some(0));
    assert_eq!(out.report.iterations, 3);
    assert_eq!(models.live(), 0);
}

#[test]
fn lookahead_scores_the_greedy_rollout_and_changes_the_choice() {
    // One subtree (n = M = 2). P scores .9 but its greedy rollout P1 scores .1; Q scores .3
    // and its rollout .95: without lookahead DVTS keeps P, with lookahead 1 it keeps Q.
    let script = || {
        Scripted::new(
            &[
                ("", &["papa\n\n", "quebec\n\n"]),
                ("papa\n\n", &["papa one\n\n"]),
                ("quebec\n\n", &["quebec one\n\n"]),
                ("papa\n\npapa one\n\n", &["end$"]),
                ("quebec\n\nquebec one\n\n", &["end$"]),
            ],
            &[
                ("papa", 0.9),
                ("quebec", 0.3),
                ("papa one", 0.1),
                ("quebec one", 0.95),
                ("end", 0.5),
            ],
        )
    };
    let mut models = script();
    let out = run(&mut models, &params(Strategy::Dvts, 2, 2, 2))
        .0
        .expect("searches");
    assert!(out.completions[0].text.starts_with("papa\n\n"));
    let mut models = script();
    let p = SearchParams {
        lookahead: 1,
        ..params(Strategy::Dvts, 2, 2, 2)
    };
    let (out, events) = run(&mut models, &p);
    let out = out.expect("searches");
    assert!(out.completions[0].text.starts_with("quebec\n\nquebec one"));
    // The rollout was thrown away: the last iteration generated Q's steps again (to the end).
    assert_eq!(out.completions[0].scores, [0.3, 0.95, 0.5]);
    let first_aggregates: Vec<f32> = events
        .iter()
        .filter_map(|e| match e {
            SearchEvent::StepProposed {
                iteration: 0,
                aggregated,
                ..
            } => Some(*aggregated),
            _ => None,
        })
        .collect();
    assert_eq!(first_aggregates, [0.1, 0.95]);
    assert_eq!(models.live(), 0);
}

#[test]
fn sampling_strategies_select_as_defined() {
    let script = || {
        Scripted::new(
            &[(
                "",
                &[
                    "one\n\nso \\boxed{3}$",
                    "two\n\nso \\boxed{\\frac{6}{2}}$",
                    "three\n\nso \\boxed{4}$",
                    "four\n\nso \\boxed{3.0}$",
                ],
            )],
            &[
                ("one", 0.9),
                ("two", 0.2),
                ("three", 0.1),
                ("four", 0.5),
                ("so \\boxed{3}", 0.3),
                ("so \\boxed{\\frac{6}{2}}", 0.35),
                ("so \\boxed{4}", 0.9),
                ("so \\boxed{3.0}", 0.32),
            ],
        )
    };
    let answer = |strategy: Strategy, agg: AggStrategy| {
        let mut models = script();
        let p = SearchParams {
            agg_strategy: agg,
            ..params(strategy, 4, 4, 1)
        };
        let out = run(&mut models, &p).0.expect("searches");
        assert_eq!(models.live(), 0);
        assert_eq!(out.completions.len(), 4);
        out.answer
    };
    // Naive (last step): "three ... 4" has .9.
    assert_eq!(
        answer(Strategy::Bon, AggStrategy::Last).as_deref(),
        Some("4")
    );
    // Naive with min: "one" min .3, "two" .2, "three" .1, "four" .32 -> four -> 3.0.
    assert_eq!(
        answer(Strategy::Bon, AggStrategy::Min).as_deref(),
        Some("3.0")
    );
    // Weighted (last): group 3 = .3 + .35 + .32 = .97 > .9.
    assert_eq!(
        answer(Strategy::WeightedBon, AggStrategy::Last).as_deref(),
        Some("3")
    );
    assert_eq!(
        answer(Strategy::Majority, AggStrategy::Last).as_deref(),
        Some("3")
    );
    // CoT: one greedy sample (option 0).
    let mut models = script();
    let out = run(&mut models, &params(Strategy::Cot, 1, 4, 1))
        .0
        .expect("searches");
    assert_eq!(texts(&out), ["one\n\nso \\boxed{3}"]);
}

#[test]
fn search_and_learn_evaluation_reads_the_last_step_whatever_the_aggregation() {
    // Last steps: .95, .6, .5, .7 -> naive and weighted (1.45 against 1.3) choose 1.
    // min: .3, .6, .5, .7 and prod: .285, .48, .45, .49 -> naive and weighted choose 2.
    let script = || {
        Scripted::new(
            &[(
                "",
                &[
                    "a\n\nso \\boxed{1}$",
                    "b\n\nthus \\boxed{2}$",
                    "c\n\nhence \\boxed{1}$",
                    "d\n\nwe get \\boxed{2}$",
                ],
            )],
            &[
                ("a", 0.3),
                ("so \\boxed{1}", 0.95),
                ("b", 0.8),
                ("thus \\boxed{2}", 0.6),
                ("c", 0.9),
                ("hence \\boxed{1}", 0.5),
                ("d", 0.7),
                ("we get \\boxed{2}", 0.7),
            ],
        )
    };
    let outcome = |strategy: Strategy, agg: AggStrategy| {
        let mut models = script();
        let p = SearchParams {
            agg_strategy: agg,
            ..params(strategy, 4, 4, 1)
        };
        let out = run(&mut models, &p).0.expect("searches");
        assert_eq!(models.live(), 0);
        out
    };
    for agg in [AggStrategy::Min, AggStrategy::Prod] {
        let out = outcome(Strategy::WeightedBon, agg);
        assert_eq!(out.answer.as_deref(), Some("2"), "{agg:?}");
        assert_eq!(out.selection.naive, Some(3), "{agg:?}");
        let sal = select_search_and_learn(&out.completions);
        assert_eq!(sal.naive, Some(0), "{agg:?}");
        assert_eq!(sal.weighted.as_deref(), Some("1"), "{agg:?}");
        assert_eq!(sal.aggregated, [0.95, 0.6, 0.5, 0.7]);
        let bon = outcome(Strategy::Bon, agg);
        assert_eq!(bon.answer.as_deref(), Some("2"), "{agg:?}");
    }
    let out = outcome(Strategy::WeightedBon, AggStrategy::Last);
    assert_eq!(out.answer.as_deref(), Some("1"));
    assert_eq!(out.selection, select_search_and_learn(&out.completions));
}

#[test]
fn auto_reports_its_choice_and_reason() {
    let mut models = beam_script();
    let p = SearchParams {
        auto_probes: 4,
        ..params(Strategy::Auto, 4, 2, 3)
    };
    let (out, events) = run(&mut models, &p);
    let out = out.expect("searches");
    let choice = out.auto.clone().expect("auto reports its choice");
    // The scripted policy has no size: treated as small, so beam search with n = 4.
    assert_eq!(out.strategy, Strategy::Beam);
    assert_eq!(choice.strategy, Strategy::Beam);
    assert_eq!(choice.n, 4);
    assert_eq!(choice.probes, 4);
    assert!(choice.reason.contains("beam search"), "{}", choice.reason);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, SearchEvent::AutoChose(_)))
    );
    assert_eq!(models.live(), 0);
}

#[test]
fn cancellation_and_errors_release_every_sequence() {
    for at in 1..=3 {
        let mut models = beam_script();
        let token = CancelToken::default();
        models.cancel_at = Some((at, token.clone()));
        let out = block_on(search(
            &mut models,
            "problem",
            &params(Strategy::Beam, 4, 2, 3),
            SearchOptions {
                cancel: Some(&token),
                ..SearchOptions::default()
            },
        ));
        assert_eq!(out.expect_err("cancelled").code(), "cancelled");
        assert_eq!(models.live(), 0, "cancelled at generate call {at}");
    }
    // Cancelled from the event stream, between phases.
    let mut models = dvts_script();
    let token = CancelToken::default();
    let mut sink = |e: &SearchEvent| {
        if matches!(e, SearchEvent::Pruned { .. }) {
            token.cancel();
        }
    };
    let out = block_on(search(
        &mut models,
        "problem",
        &params(Strategy::Dvts, 4, 2, 3),
        SearchOptions {
            cancel: Some(&token),
            on_event: Some(&mut sink),
            ..SearchOptions::default()
        },
    ));
    assert_eq!(out.expect_err("cancelled").code(), "cancelled");
    assert_eq!(models.live(), 0);
    // A scorer error mid-search.
    let mut models = beam_script();
    models.fail_score_at = Some(2);
    let out = run(&mut models, &params(Strategy::Beam, 4, 2, 3)).0;
    assert_eq!(out.expect_err("fails").code(), "invalid_argument");
    assert_eq!(models.live(), 0);
}

#[test]
fn invalid_parameters_and_missing_scorer_are_rejected() {
    let mut models = beam_script();
    let err = run(&mut models, &params(Strategy::Dvts, 6, 4, 3))
        .0
        .expect_err("6 % 4");
    assert!(err.to_string().contains("use n = 8"), "{err}");
    let mut policy_only = ttsearch::search::Models {
        policy: beam_script(),
        scorer: ttsearch::search::NoScorer,
    };
    let out = block_on(search(
        &mut policy_only,
        "problem",
        &params(Strategy::Beam, 4, 2, 3),
        SearchOptions::default(),
    ));
    assert_eq!(out.expect_err("needs a scorer").code(), "invalid_argument");
    // Majority vote needs none.
    let out = block_on(search(
        &mut policy_only,
        "problem",
        &params(Strategy::Majority, 4, 2, 3),
        SearchOptions::default(),
    ))
    .expect("majority without a scorer");
    assert_eq!(out.completions.len(), 4);
    assert!(out.completions.iter().all(|c| c.scores.is_empty()));
}
