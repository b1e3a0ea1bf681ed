//! Choosing an answer from scored completions: naive (best aggregated score), weighted
//! Best-of-N (answer groups by canonical form, the aggregated scores summed per group, the best
//! group wins) and majority vote (the largest group; ties go to the group seen first).

use super::aggregate::AggStrategy;
use super::params::Strategy;
use crate::grade::{extract_answer, group_answers};

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

/// Selects over `completions` with step scores aggregated by `agg`.
pub fn select(completions: &[Completion], agg: AggStrategy) -> Selection {
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
    let groups = group_answers(&answers);
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
