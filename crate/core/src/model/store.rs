//! Where a model's tensors come from, by their HF names: safetensors checkpoints, or GGUF files
//! through llama.cpp's names; read whole (norms, biases) or a range of rows at a time (matrices,
//! so that a vocabulary-sized embedding never sits in memory whole).

use crate::error::{Error, Result};
use crate::quant::ggml::GgmlType;

/// A tensor as f32 values with its shape (HF layout: Linear weights are [out, in]).
#[derive(Debug, Clone, PartialEq)]
pub struct TensorData {
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// Row-major values.
    pub data: Vec<f32>,
}

/// A source of tensors by HF name ("model.layers.0.self_attn.q_proj.weight").
#[allow(async_fn_in_trait)]
pub trait TensorStore {
    /// Whether the tensor exists.
    fn contains(&self, name: &str) -> bool;

    /// The tensor's shape (HF order), without reading it.
    fn shape(&self, name: &str) -> Option<Vec<usize>>;

    /// Reads one tensor as f32.
    async fn tensor_f32(&self, name: &str) -> Result<TensorData>;

    /// Rows `start..end` of a 2-D tensor as f32 [end - start, cols]. The default reads the whole
    /// tensor; stores that can read a range do so.
    async fn rows_f32(&self, name: &str, start: usize, end: usize) -> Result<Vec<f32>> {
        let t = self.tensor_f32(name).await?;
        slice_rows(name, &t.shape, t.data, start, end)
    }

    /// The GGML type a 2-D tensor is stored in, for stores of GGUF files (others: `None`).
    fn block_type(&self, _name: &str) -> Option<GgmlType> {
        None
    }

    /// Rows `start..end` of a 2-D tensor as the file's own GGML blocks (in HF row order), for
    /// stores that have them.
    async fn rows_blocks(&self, name: &str, _start: usize, _end: usize) -> Result<Vec<u8>> {
        Err(Error::Unsupported(format!(
            "{name}: this checkpoint has no GGML blocks"
        )))
    }
}

/// Rows `start..end` of a row-major [rows, cols] tensor.
pub(crate) fn slice_rows(
    name: &str,
    shape: &[usize],
    mut data: Vec<f32>,
    start: usize,
    end: usize,
) -> Result<Vec<f32>> {
    let [rows, cols] = row_shape(name, shape)?;
    check_rows(name, rows, start, end)?;
    data.truncate(end * cols);
    data.drain(..start * cols);
    Ok(data)
}

/// (rows, cols) of a 2-D shape.
pub(crate) fn row_shape(name: &str, shape: &[usize]) -> Result<[usize; 2]> {
    match shape {
        [rows, cols] => Ok([*rows, *cols]),
        other => Err(Error::shape(
            "rows",
            format!("{name} has shape {other:?}, not a matrix"),
        )),
    }
}

/// Checks a row range.
pub(crate) fn check_rows(name: &str, rows: usize, start: usize, end: usize) -> Result<()> {
    if start > end || end > rows {
        return Err(Error::shape(
            "rows",
            format!("rows {start}..{end} of {name}, which has {rows}"),
        ));
    }
    Ok(())
}
