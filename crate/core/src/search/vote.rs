//! Choosing an answer from scored completions: naive (best aggregated score), weighted
//! Best-of-N (answer groups by canonical form, the aggregated scores summed per group, the best
//! group wins) and majority vote (the largest group; ties go to the group seen first).
//!
//! Two rules: ttsearch's own ([`select`]: step scores aggregated by the search's agg_strategy,
//! completions without an answer never vote) and search-and-learn's evaluation
//! ([`select_search_and_learn`], its `score()`: each completion's last step score whatever
//! agg_strategy the search ran with, and the completions without an answer voting as one
//! group, the empty answer). Its recorded pred_naive@n, pred_weighted@n and pred_maj@n follow
//! the second; the two agree under agg_strategy last unless the empty answer would win a vote.

use super::aggregate::AggStrategy;
use super::params::Strategy;
use crate::grade::{AnswerGroup, extract_answer, group_answers};

/// A finished completion and its step scores.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Completion {
    /// The whole solution text.
    pub text: String,
    /// The PRM score of each step.
    pub scores: Vec<f32>,
    /// Tokens the policy generated for it (search-and-learn's completion_tokens).
    pub tokens: usize,
}

/// The three selections over a set of completions.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Selection {
    /// Each completion's extracted final answer ("" when none).
    pub answers: Vec<String>,
    /// Each completion's aggregated score.
    pub aggregated: Vec<f32>,
    /// The completion with the best aggregated score (first on ties).
    pub naive: Option<usize>,
    /// The answer of the group with the largest summed aggregated score.
    pub weighted: Option<String>,
    /// The answer of the largest group.
    pub majority: Option<String>,
}

impl Selection {
    /// The answer a strategy gives: CoT and Best-of-N the best-scored completion's, majority
    /// vote the largest group's, weighted Best-of-N, beam search, DVTS and auto the group with
    /// the largest summed score (the three are always reported side by side).
    pub fn answer_for(&self, strategy: Strategy) -> Option<String> {
        match strategy {
            Strategy::Cot | Strategy::Bon => self
                .naive
                .and_then(|i| self.answers.get(i))
                .filter(|a| !a.is_empty())
                .cloned(),
            Strategy::Majority => self.majority.clone(),
            Strategy::WeightedBon | Strategy::Beam | Strategy::Dvts | Strategy::Auto => {
                self.weighted.clone()
            }
        }
    }
}

/// Selects over `completions` by ttsearch's rule: step scores aggregated by `agg` (the one
/// the search ranked with); completions without an answer never vote.
pub fn select(completions: &[Completion], agg: AggStrategy) -> Selection {
    select_with(completions, agg, false)
}

/// Selects over `completions` by search-and-learn's evaluation rule (its `score()`, which
/// records pred_naive@n, pred_weighted@n and pred_maj@n): every completion's last step score,
/// whatever agg_strategy the search ran with, and the completions without an answer voting
/// as one group whose answer is empty (it can win). `aggregated` then holds the last step
/// scores. Naive picks the first of the best; groups keep their order of first appearance.
pub fn select_search_and_learn(completions: &[Completion]) -> Selection {
    select_with(completions, AggStrategy::Last, true)
}

fn select_with(completions: &[Completion], agg: AggStrategy, empty_votes: bool) -> Selection {
    let answers: Vec<String> = completions
        .iter()
        .map(|c| extract_answer(&c.text).answer)
        .collect();
    let aggregated: Vec<f32> = completions.iter().map(|c| agg.apply(&c.scores)).collect();
    let naive = aggregated
        .iter()
        .enumerate()
        .fold(None, |best: Option<(usize, f32)>, (i, &s)| match best {
            Some((_, b)) if b >= s => best,
            _ => Some((i, s)),
        })
        .map(|(i, _)| i);
    let mut groups = group_answers(&answers);
    let empty: Vec<usize> = (0..answers.len())
        .filter(|&i| answers[i].trim().is_empty())
        .collect();
    if let (true, Some(&first)) = (empty_votes, empty.first()) {
        // The empty answer's group takes its place in the order of first appearance.
        let at = groups
            .iter()
            .position(|g| g.members.first().is_some_and(|&m| m > first))
            .unwrap_or(groups.len());
        groups.insert(
            at,
            AnswerGroup {
                key: String::new(),
                answer: String::new(),
                members: empty,
            },
        );
    }
    let pick = |value: &dyn Fn(&[usize]) -> f32| -> Option<String> {
        groups
            .iter()
            .fold(None, |best: Option<(f32, &str)>, g| {
                let v = value(&g.members);
                match best {
                    Some((b, _)) if b >= v => best,
                    _ => Some((v, g.answer.as_str())),
                }
            })
            .map(|(_, answer)| answer.to_string())
    };
    let weighted = pick(&|members| members.iter().map(|&i| aggregated[i]).sum());
    let majority = pick(&|members| members.len() as f32);
    Selection {
        answers,
        aggregated,
        naive,
        weighted,
        majority,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(text: &str, scores: &[f32]) -> Completion {
        Completion {
            text: text.to_string(),
            scores: scores.to_vec(),
            tokens: 0,
        }
    }

    #[test]
    fn naive_weighted_and_majority_differ_as_they_should() {
        let completions = [
            c("So $\\boxed{3}$.", &[0.9, 0.3]),
            c("The answer is $\\boxed{\\frac{6}{2}}$.", &[0.2, 0.35]),
            c("Thus $\\boxed{4}$.", &[0.1, 0.9]),
            c("Hence $\\boxed{3.0}$", &[0.5, 0.32]),
            c("no answer here", &[0.95]),
        ];
        let s = select(&completions, AggStrategy::Last);
        // Naive: the single best last-step score.
        assert_eq!(s.naive, Some(4));
        // Majority: 3, 6/2 and 3.0 are one group of three.
        assert_eq!(s.majority.as_deref(), Some("3"));
        // Weighted: group "3" sums 0.3 + 0.35 + 0.32 = 0.97 > 0.9 for "4".
        assert_eq!(s.weighted.as_deref(), Some("3"));
        // With min aggregation, group "3" sums 0.3 + 0.2 + 0.32 = 0.82 and "4" has 0.1.
        let s = select(&completions, AggStrategy::Min);
        assert_eq!(s.weighted.as_deref(), Some("3"));
        assert_eq!(s.answers[4], "");
    }

    /// Last-step scores choose answer 1, min and prod scores answer 2.
    fn two_rules() -> Vec<Completion> {
        vec![
            c("So $\\boxed{1}$.", &[0.3, 0.95]),
            c("So $\\boxed{2}$.", &[0.8, 0.6]),
            c("So $\\boxed{1}$.", &[0.9, 0.5]),
            c("So $\\boxed{2}$.", &[0.7, 0.7]),
        ]
    }

    #[test]
    fn search_and_learn_selects_by_the_last_step_whatever_the_aggregation() {
        let completions = two_rules();
        let sal = select_search_and_learn(&completions);
        assert_eq!(sal, select(&completions, AggStrategy::Last));
        // Naive: 0.95 is the best last step; weighted: "1" sums 1.45 against 1.3.
        assert_eq!(sal.naive, Some(0));
        assert_eq!(sal.weighted.as_deref(), Some("1"));
        assert_eq!(sal.aggregated, [0.95, 0.6, 0.5, 0.7]);
        for agg in [AggStrategy::Min, AggStrategy::Prod] {
            // min: 0.3, 0.6, 0.5, 0.7 ("2" sums 1.3 against 0.8); prod: 0.285, 0.48, 0.45,
            // 0.49 ("2" sums 0.97 against 0.735).
            let own = select(&completions, agg);
            assert_eq!(own.naive, Some(3), "{agg:?}");
            assert_eq!(own.weighted.as_deref(), Some("2"), "{agg:?}");
            // Majority reads no score: a tie of two, the first seen wins under both rules.
            assert_eq!(own.majority.as_deref(), Some("1"));
            assert_eq!(sal.majority.as_deref(), Some("1"));
        }
    }

    #[test]
    fn completions_without_an_answer_vote_only_under_search_and_learn() {
        let completions = [
            c("$\\boxed{5}$", &[0.1]),
            c("no answer here", &[0.9]),
            c("I am not sure", &[0.8]),
            c("$\\boxed{6}$", &[0.3]),
            c("$\\boxed{6}$", &[0.2]),
        ];
        let sal = select_search_and_learn(&completions);
        // The empty answer's group (1.7, two votes) is seen before "6" (0.5, two votes).
        assert_eq!(sal.weighted.as_deref(), Some(""));
        assert_eq!(sal.majority.as_deref(), Some(""));
        assert_eq!(sal.naive, Some(1));
        let own = select(&completions, AggStrategy::Last);
        assert_eq!(own.weighted.as_deref(), Some("6"));
        assert_eq!(own.majority.as_deref(), Some("6"));
        assert_eq!(own.naive, Some(1));
        // Seen after the others, the empty group loses a tie of votes.
        let later = [
            c("$\\boxed{6}$", &[0.3]),
            c("no answer here", &[0.1]),
            c("$\\boxed{6}$", &[0.2]),
            c("I am not sure", &[0.1]),
        ];
        assert_eq!(
            select_search_and_learn(&later).majority.as_deref(),
            Some("6")
        );
    }

    #[test]
    fn ties_go_to_the_first_seen() {
        let completions = [c("$\\boxed{1}$", &[0.5]), c("$\\boxed{2}$", &[0.5])];
        let s = select(&completions, AggStrategy::Last);
        assert_eq!(s.naive, Some(0));
        assert_eq!(s.majority.as_deref(), Some("1"));
        assert_eq!(s.weighted.as_deref(), Some("1"));
        assert_eq!(select(&[], AggStrategy::Last).naive, None);
    }
}
