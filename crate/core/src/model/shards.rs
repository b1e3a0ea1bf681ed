//! A checkpoint made of one or more files of tensors (safetensors or PyTorch shards): each
//! tensor name in one file, looked up by name, read through the file that holds it; and the
//! shard list of a `*.index.json`.

use super::store::{TensorData, TensorStore};
use crate::error::{Error, Result};
use ::safetensors::Dtype;
use std::collections::HashMap;

/// One file of tensors, read by name.
#[allow(async_fn_in_trait)]
pub trait TensorFile {
    /// Tensor names.
    fn names(&self) -> Vec<&str>;
    /// A tensor's shape.
    fn shape_of(&self, name: &str) -> Option<Vec<usize>>;
    /// A tensor's element type.
    fn dtype_of(&self, name: &str) -> Option<Dtype>;
    /// Rows `start..end` of a tensor (its outermost dimension) as f32; a vector is one row.
    async fn read_rows(&self, name: &str, start: usize, end: usize) -> Result<Vec<f32>>;
}

/// Shards joined by tensor name.
pub struct Shards<F> {
    files: Vec<F>,
    by_name: HashMap<String, usize>,
}

impl<F: TensorFile> Shards<F> {
    /// Joins already opened shards; a tensor name may appear in one shard only.
    pub fn from_files(files: Vec<F>) -> Result<Self> {
        let mut by_name = HashMap::new();
        for (i, f) in files.iter().enumerate() {
            for name in f.names() {
                if by_name.insert(name.to_string(), i).is_some() {
                    return Err(Error::format(
                        "checkpoint",
                        format!("tensor {name} appears in two shards"),
                    ));
                }
            }
        }
        Ok(Self { files, by_name })
    }

    /// The shards.
    pub fn files(&self) -> &[F] {
        &self.files
    }

    /// The dtype of tensor `name`.
    pub fn dtype(&self, name: &str) -> Option<Dtype> {
        self.files[*self.by_name.get(name)?].dtype_of(name)
    }

    fn file_of(&self, name: &str) -> Result<&F> {
        let i = *self
            .by_name
            .get(name)
            .ok_or_else(|| Error::format("checkpoint", format!("missing tensor {name}")))?;
        Ok(&self.files[i])
    }
}

impl<F: TensorFile> TensorStore for Shards<F> {
    fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    fn shape(&self, name: &str) -> Option<Vec<usize>> {
        self.files[*self.by_name.get(name)?].shape_of(name)
    }

    async fn tensor_f32(&self, name: &str) -> Result<TensorData> {
        let file = self.file_of(name)?;
        let shape = file
            .shape_of(name)
            .ok_or_else(|| Error::format("checkpoint", format!("missing tensor {name}")))?;
        let rows = shape.first().copied().unwrap_or(1).max(1);
        let data = file.read_rows(name, 0, rows).await?;
        Ok(TensorData { shape, data })
    }

    async fn rows_f32(&self, name: &str, start: usize, end: usize) -> Result<Vec<f32>> {
        self.file_of(name)?.read_rows(name, start, end).await
    }
}

/// The shard file names a `*.index.json` (`index` names it in messages) lists in its
/// `weight_map`, sorted, each once.
pub fn shard_names(index: &'static str, json: &str) -> Result<Vec<String>> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| Error::format(index, e.to_string()))?;
    let map = v
        .get("weight_map")
        .and_then(serde_json::Value::as_object)
        .ok_or_else(|| Error::format(index, "no weight_map object"))?;
    let mut names: Vec<String> = Vec::new();
    for file in map.values() {
        let file = file
            .as_str()
            .ok_or_else(|| Error::format(index, "a weight_map value is not a string"))?;
        if file.contains('/') || file.contains("..") {
            return Err(Error::format(
                index,
                format!("shard path {file} leaves the folder"),
            ));
        }
        if !names.iter().any(|n| n == file) {
            names.push(file.to_string());
        }
    }
    names.sort();
    Ok(names)
}
