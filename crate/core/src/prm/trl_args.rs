//! The step separator a TRL PRM was trained with, read from the `training_args.bin` its
//! checkpoint folder holds: `torch.save` of the trainer's `PRMConfig`, whose pickled state has
//! `step_separator`. Read by the crate's unpickler, which runs no code.

use crate::error::Result;
use crate::model::MemorySource;
use crate::model::pickle::Value;
use crate::model::pytorch::read_pickle;

/// The file TRL's trainers save their arguments in.
pub const TRAINING_ARGS: &str = "training_args.bin";

/// How deep the search for the field goes (the config is the root or one call down).
const MAX_DEPTH: usize = 8;

/// The `step_separator` a `training_args.bin` records, if it records one.
pub async fn recorded_separator(bytes: &[u8]) -> Result<Option<String>> {
    let source = MemorySource::new(bytes.to_vec());
    let (_, _, root) = read_pickle(&source).await?;
    Ok(find(&root, 0).map(str::to_string))
}

fn find(value: &Value, depth: usize) -> Option<&str> {
    if depth > MAX_DEPTH {
        return None;
    }
    match value {
        Value::Dict(items) => items.iter().find_map(|(k, v)| match (k.as_str(), v) {
            (Some("step_separator"), Value::Str(s)) => Some(s.as_str()),
            _ => None,
        }),
        Value::Call { args, state, .. } => state
            .as_deref()
            .and_then(|s| find(s, depth + 1))
            .or_else(|| find(args, depth + 1)),
        Value::Tuple(items) | Value::List(items) => items.iter().find_map(|v| find(v, depth + 1)),
        _ => None,
    }
}
