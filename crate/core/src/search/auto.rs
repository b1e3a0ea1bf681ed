//! Compute-optimal choice ("auto"): a few probe samples give a difficulty estimate (answer
//! agreement and PRM scores, in five bins as in arXiv 2408.03314, which picks per problem from a
//! predicted difficulty), then the strategy follows cotts' rules by policy size within the
//! caller's budget n: on MATH-500 a policy under 7B runs beam search, 7B-32B DVTS for easy and
//! medium problems and beam search for hard ones, over 32B Best-of-N; on AIME24 under 14B DVTS,
//! else Best-of-N.

use super::events::AutoChoice;
use super::params::Strategy;
use super::policy::{Policy, StepScorer};
use super::run::Run;
use super::sample::sample;
use super::vote::{Completion, select};
use crate::error::Result;
use crate::grade::group_answers;

/// Billions of parameters below which cotts picks beam search on MATH.
const SMALL_B: f64 = 7.0;
/// Billions above which cotts picks Best-of-N on MATH.
const LARGE_B: f64 = 32.0;
/// Billions below which cotts picks DVTS on AIME.
const AIME_SMALL_B: f64 = 14.0;

/// The difficulty bin (1 easy .. 5 hard) of a confidence in [0, 1].
pub fn difficulty(confidence: f32) -> u8 {
    1 + ((1.0 - confidence.clamp(0.0, 1.0)) * 5.0).floor().min(4.0) as u8
}

/// What the probes and the caller tell the choice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evidence {
    /// Difficulty bin, 1 (easy) to 5 (hard).
    pub difficulty: u8,
    /// Share of the probes in the largest answer group.
    pub agreement: f32,
    /// Probe samples drawn.
    pub probes: usize,
    /// Whether a step scorer is available.
    pub scored: bool,
    /// The policy's parameter count, when known.
    pub parameters: Option<u64>,
    /// AIME-level problems.
    pub competition: bool,
}

/// The strategy and its budget (from the caller's `n` and `beam_width`), by cotts' rules.
pub fn choose(e: Evidence, n: usize, beam_width: usize) -> (Strategy, usize, String) {
    let Evidence {
        difficulty,
        agreement,
        probes,
        scored,
        parameters,
        competition,
    } = e;
    let billions = parameters.map(|p| p as f64 / 1e9);
    let size = billions.map_or("of unknown size".to_string(), |b| format!("of {b:.2}B"));
    if difficulty == 1 && agreement >= 1.0 && probes >= 2 {
        return (
            Strategy::WeightedBon,
            0,
            format!("all {probes} probes agree with high scores: their answer stands"),
        );
    }
    let (strategy, why) = if !scored {
        (
            Strategy::Majority,
            "no step scorer: majority vote".to_string(),
        )
    } else if competition {
        match billions {
            Some(b) if b >= AIME_SMALL_B => (
                Strategy::Bon,
                format!("AIME-level problem, policy {size} (>= 14B): Best-of-N"),
            ),
            _ => (
                Strategy::Dvts,
                format!("AIME-level problem, policy {size} (< 14B): DVTS"),
            ),
        }
    } else {
        match billions {
            Some(b) if b > LARGE_B => (Strategy::Bon, format!("policy {size} (> 32B): Best-of-N")),
            Some(b) if b >= SMALL_B && difficulty <= 3 => (
                Strategy::Dvts,
                format!("policy {size} (7B-32B), difficulty {difficulty} (easy/medium): DVTS"),
            ),
            Some(b) if b >= SMALL_B => (
                Strategy::Beam,
                format!("policy {size} (7B-32B), difficulty {difficulty} (hard): beam search"),
            ),
            _ => (Strategy::Beam, format!("policy {size} (< 7B): beam search")),
        }
    };
    if matches!(strategy, Strategy::Beam | Strategy::Dvts) {
        let rounded = n / beam_width * beam_width;
        if rounded == 0 {
            return (
                Strategy::WeightedBon,
                n,
                format!("{why}; n = {n} is below beam_width = {beam_width}: weighted Best-of-N"),
            );
        }
        return (strategy, rounded, why);
    }
    (strategy, n, why)
}

/// Draws the probes and makes the choice; the probes are returned (they are the answer when
/// the choice's budget is 0).
pub async fn probe<M: Policy + StepScorer>(
    run: &mut Run<'_, M>,
) -> Result<(AutoChoice, Vec<Completion>)> {
    let p = run.params.clone();
    let probes = p.auto_probes.min(p.n).max(1);
    let scored = run.models.available();
    let completions = sample(run, probes, false, scored).await?;
    let selection = select(&completions, p.agg_strategy);
    let answered: Vec<&String> = selection.answers.iter().filter(|a| !a.is_empty()).collect();
    let largest = group_answers(&answered)
        .iter()
        .map(|g| g.members.len())
        .max()
        .unwrap_or(0);
    let agreement = largest as f32 / probes as f32;
    let mean_score = scored.then(|| selection.aggregated.iter().sum::<f32>() / probes as f32);
    let confidence = mean_score.map_or(agreement, |s| (agreement + s) / 2.0);
    let difficulty = difficulty(confidence);
    let parameters = run.models.parameters();
    let evidence = Evidence {
        difficulty,
        agreement,
        probes,
        scored,
        parameters,
        competition: run.competition,
    };
    let (strategy, n, reason) = choose(evidence, p.n, p.beam_width);
    Ok((
        AutoChoice {
            probes,
            agreement,
            mean_score,
            difficulty,
            policy_parameters: parameters,
            strategy,
            n,
            reason,
        },
        completions,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(
        difficulty: u8,
        agreement: f32,
        scored: bool,
        parameters: Option<u64>,
        competition: bool,
    ) -> Evidence {
        Evidence {
            difficulty,
            agreement,
            probes: 4,
            scored,
            parameters,
            competition,
        }
    }

    #[test]
    fn cotts_rules() {
        let small = Some(500_000_000);
        let mid = Some(14_000_000_000);
        let large = Some(72_000_000_000);
        assert_eq!(
            choose(ev(3, 0.5, true, small, false), 16, 4).0,
            Strategy::Beam
        );
        assert_eq!(
            choose(ev(2, 0.5, true, mid, false), 16, 4).0,
            Strategy::Dvts
        );
        assert_eq!(
            choose(ev(5, 0.25, true, mid, false), 16, 4).0,
            Strategy::Beam
        );
        assert_eq!(
            choose(ev(5, 0.25, true, large, false), 16, 4).0,
            Strategy::Bon
        );
        assert_eq!(
            choose(ev(4, 0.5, true, small, true), 16, 4).0,
            Strategy::Dvts
        );
        assert_eq!(
            choose(ev(4, 0.5, true, large, true), 16, 4).0,
            Strategy::Bon
        );
        assert_eq!(
            choose(ev(4, 0.5, false, small, false), 16, 4).0,
            Strategy::Majority
        );
        // Easy and unanimous: the probes stand.
        assert_eq!(choose(ev(1, 1.0, true, small, false), 16, 4).1, 0);
        // Budgets round down to whole groups of M; below M, weighted Best-of-N.
        assert_eq!(choose(ev(3, 0.5, true, small, false), 10, 4).1, 8);
        assert_eq!(
            choose(ev(3, 0.5, true, small, false), 2, 4).0,
            Strategy::WeightedBon
        );
        assert_eq!(difficulty(1.0), 1);
        assert_eq!(difficulty(0.0), 5);
        assert_eq!(difficulty(0.5), 3);
    }
}
