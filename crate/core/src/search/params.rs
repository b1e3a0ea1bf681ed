//! Search parameters with search-and-learn's names and defaults (n 4, beam_width 4,
//! num_iterations 40, lookahead 0, agg_strategy last, temperature 0.8, top_p 1.0, no top_k,
//! max_tokens 2048 per generate call, seed 42; cotts uses temperature 0.7), and the checks that
//! reject combinations no strategy can run, saying what to change.

use super::aggregate::AggStrategy;
use crate::engine::SamplingParams;
use crate::error::{Error, Result};

/// A search strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// One greedy sample.
    Cot,
    /// N samples, the most frequent answer.
    Majority,
    /// N samples, the best aggregated PRM score.
    Bon,
    /// N samples, the answer group with the largest summed score.
    WeightedBon,
    /// Beam search: N beams, N / M kept per iteration.
    Beam,
    /// Diverse verifier tree search: N / M greedy subtrees of M candidates.
    Dvts,
    /// Compute-optimal choice from probe samples and the policy's size.
    Auto,
}

impl Strategy {
    /// From its CLI name: cot, majority, bon, weighted-bon, beam, dvts, auto.
    pub fn parse(name: &str) -> Result<Self> {
        Ok(match name {
            "cot" => Self::Cot,
            "majority" => Self::Majority,
            "bon" => Self::Bon,
            "weighted-bon" => Self::WeightedBon,
            "beam" => Self::Beam,
            "dvts" => Self::Dvts,
            "auto" => Self::Auto,
            other => {
                return Err(Error::InvalidArgument(format!(
                    "strategy {other:?}: use cot, majority, bon, weighted-bon, beam, dvts or auto"
                )));
            }
        })
    }
}

/// Parameters of a search, with search-and-learn's names.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SearchParams {
    /// The strategy.
    pub strategy: Strategy,
    /// Budget: samples, beams or leaves.
    pub n: usize,
    /// M: beams kept per survivor (beam search), candidates per subtree step (DVTS).
    pub beam_width: usize,
    /// Most steps per beam.
    pub num_iterations: usize,
    /// Greedy rollout steps scored with each candidate step (0: none).
    pub lookahead: usize,
    /// Step-score aggregation.
    pub agg_strategy: AggStrategy,
    /// Sampling temperature.
    pub temperature: f32,
    /// Nucleus mass.
    pub top_p: f32,
    /// Tokens per generate call.
    pub max_tokens: usize,
    /// Seed of every sample's random stream.
    pub seed: u64,
    /// Beam search: drop beams whose text equals an earlier beam's (search-and-learn's
    /// filter_duplicates).
    pub filter_duplicates: bool,
    /// Beam search: return the completed beams best first (search-and-learn's sort_completed);
    /// otherwise in the order they completed.
    pub sort_completed: bool,
    /// Beam search: the beams in flight shrink as beams complete (cotts) instead of being
    /// refilled to n (search-and-learn).
    pub shrink_width: bool,
    /// Auto: probe samples drawn to estimate the difficulty.
    pub auto_probes: usize,
}

impl Default for SearchParams {
    /// search-and-learn's defaults: n 4, beam_width 4, 40 iterations, lookahead 0, agg last,
    /// temperature 0.8, top_p 1.0, max_tokens 2048, seed 42.
    fn default() -> Self {
        Self {
            strategy: Strategy::Beam,
            n: 4,
            beam_width: 4,
            num_iterations: 40,
            lookahead: 0,
            agg_strategy: AggStrategy::Last,
            temperature: 0.8,
            top_p: 1.0,
            max_tokens: 2048,
            seed: 42,
            filter_duplicates: false,
            sort_completed: false,
            shrink_width: false,
            auto_probes: 4,
        }
    }
}

impl SearchParams {
    /// The sampling parameters of the policy's generate calls.
    pub fn sampling(&self) -> SamplingParams {
        SamplingParams {
            temperature: self.temperature,
            top_p: self.top_p,
            max_tokens: self.max_tokens,
            seed: self.seed,
            ..SamplingParams::default()
        }
    }

    /// Rejects invalid combinations with a message that says what to change.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::InvalidArgument(msg));
        if self.n == 0 {
            return bad("n must be at least 1".into());
        }
        self.sampling().validate()?;
        match self.strategy {
            Strategy::Beam | Strategy::Dvts => {
                if self.beam_width == 0 {
                    return bad("beam_width must be at least 1".into());
                }
                if self.num_iterations == 0 {
                    return bad("num_iterations must be at least 1".into());
                }
                if !self.n.is_multiple_of(self.beam_width) {
                    let name = if self.strategy == Strategy::Dvts {
                        "DVTS"
                    } else {
                        "beam search"
                    };
                    return bad(format!(
                        "{name} needs n to be a multiple of beam_width: n = {} and beam_width = {}; \
                         use n = {} or beam_width dividing {}",
                        self.n,
                        self.beam_width,
                        self.n.div_ceil(self.beam_width) * self.beam_width,
                        self.n
                    ));
                }
            }
            Strategy::Auto if self.auto_probes == 0 || self.beam_width == 0 => {
                return bad("auto needs auto_probes and beam_width of at least 1".into());
            }
            Strategy::Cot if self.n != 1 => {
                return bad(format!(
                    "cot takes one greedy sample: use n = 1, not {}",
                    self.n
                ));
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_combinations_say_what_to_change() {
        assert!(SearchParams::default().validate().is_ok());
        let dvts = SearchParams {
            strategy: Strategy::Dvts,
            n: 6,
            beam_width: 4,
            ..SearchParams::default()
        };
        let msg = dvts.validate().expect_err("6 % 4").to_string();
        assert!(msg.contains("use n = 8"), "{msg}");
        for p in [
            SearchParams {
                n: 0,
                ..SearchParams::default()
            },
            SearchParams {
                num_iterations: 0,
                ..SearchParams::default()
            },
            SearchParams {
                top_p: 0.0,
                ..SearchParams::default()
            },
            SearchParams {
                strategy: Strategy::Cot,
                n: 4,
                ..SearchParams::default()
            },
        ] {
            assert_eq!(
                p.validate().expect_err("invalid").code(),
                "invalid_argument"
            );
        }
        assert_eq!(
            Strategy::parse("weighted-bon").expect("known"),
            Strategy::WeightedBon
        );
    }
}
