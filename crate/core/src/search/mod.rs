//! Test-time search: search-and-learn's parameters, step-score aggregation and the answer
//! selections (naive, weighted Best-of-N, majority vote); the strategies build on these.

mod aggregate;
mod params;
mod vote;

pub use aggregate::AggStrategy;
pub use params::{SearchParams, Strategy};
pub use vote::{Completion, Selection, select};
