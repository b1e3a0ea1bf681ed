//! Aggregation of a completion's step scores into one score (search-and-learn's agg_strategy).

use crate::error::{Error, Result};

/// How step scores combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AggStrategy {
    /// The last step's score (search-and-learn's default).
    #[default]
    Last,
    /// The lowest step score.
    Min,
    /// The product of the step scores.
    Prod,
    /// The mean step score (reported by cotts).
    Mean,
}

impl AggStrategy {
    /// From its search-and-learn name: last, min, prod, mean.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "last" => Ok(Self::Last),
            "min" => Ok(Self::Min),
            "prod" => Ok(Self::Prod),
            "mean" => Ok(Self::Mean),
            other => Err(Error::InvalidArgument(format!(
                "agg_strategy {other:?}: use last, min, prod or mean"
            ))),
        }
    }

    /// The aggregate of `scores`; a completion without scored steps gets 0.
    pub fn apply(self, scores: &[f32]) -> f32 {
        if scores.is_empty() {
            return 0.0;
        }
        match self {
            Self::Last => scores[scores.len() - 1],
            Self::Min => scores.iter().copied().fold(f32::INFINITY, f32::min),
            Self::Prod => scores.iter().product(),
            Self::Mean => scores.iter().sum::<f32>() / scores.len() as f32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AggStrategy;

    #[test]
    fn aggregates() {
        let s = [0.9, 0.5, 0.8];
        assert_eq!(AggStrategy::Last.apply(&s), 0.8);
        assert_eq!(AggStrategy::Min.apply(&s), 0.5);
        assert!((AggStrategy::Prod.apply(&s) - 0.36).abs() < 1e-6);
        assert!((AggStrategy::Mean.apply(&s) - 2.2 / 3.0).abs() < 1e-6);
        assert_eq!(AggStrategy::Last.apply(&[]), 0.0);
        assert_eq!(
            AggStrategy::parse("prod").expect("known"),
            AggStrategy::Prod
        );
        assert_eq!(
            AggStrategy::parse("max").expect_err("unknown").code(),
            "invalid_argument"
        );
    }
}
