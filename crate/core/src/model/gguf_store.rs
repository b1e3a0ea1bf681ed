//! GGUF checkpoints as a [`TensorStore`] of HF names: llama.cpp's tensor names mapped back
//! through the tensor list, its Q/K row permutation (Llama) undone, and its shift of norm weights
//! (Gemma's `1 + w` form stored as is) removed, so that the same forward pass runs safetensors and
//! GGUF checkpoints.

use super::config::{ModelConfig, RopeScaling};
use super::ggml::GgmlType;
use super::gguf::GgufFile;
use super::source::ByteSource;
use super::store::{TensorData, TensorStore, slice_rows};
use super::tensors::{Part, TensorSpec};
use crate::error::{Error, Result};
use std::collections::HashMap;

/// A GGUF file read through HF tensor names.
pub struct GgufStore<S> {
    file: GgufFile,
    source: S,
    /// The model's tensors by HF name.
    tensors: HashMap<String, TensorSpec>,
    norm_offset: f32,
    permuted_qk: bool,
    num_attention_heads: usize,
    num_key_value_heads: usize,
}

impl<S: ByteSource> GgufStore<S> {
    /// Wraps a parsed GGUF header and its bytes.
    pub fn new(file: GgufFile, source: S, config: &ModelConfig) -> Self {
        Self {
            file,
            source,
            tensors: config
                .tensors()
                .into_iter()
                .map(|t| (t.name.clone(), t))
                .collect(),
            norm_offset: config.form.norm_offset,
            permuted_qk: config.architecture.spec().gguf_permutes_qk,
            num_attention_heads: config.num_attention_heads,
            num_key_value_heads: config.num_key_value_heads,
        }
    }

    /// Reads the header and the model config of a GGUF checkpoint, including llama.cpp's
    /// per-frequency rotary factors (`rope_freqs.weight`, how its converter stores Llama 3
    /// scaling), and wraps the file as a store.
    pub async fn open(source: S) -> Result<(ModelConfig, Self)> {
        let file = GgufFile::read(&source).await?;
        let mut config = ModelConfig::from_gguf(&file)?;
        if let Some(info) = file.tensor("rope_freqs.weight") {
            let factors = file.tensor_f32(&source, info).await?;
            if factors.len() != config.head_dim / 2
                || !factors.iter().all(|f| f.is_finite() && *f > 0.0)
            {
                return Err(Error::format(
                    "GGUF checkpoint",
                    format!(
                        "rope_freqs.weight has {} values, expected {} positive ones",
                        factors.len(),
                        config.head_dim / 2
                    ),
                ));
            }
            config.rope.scaling = RopeScaling::Factors(factors);
        }
        let store = Self::new(file, source, &config);
        Ok((config, store))
    }

    /// The parsed header.
    pub fn file(&self) -> &GgufFile {
        &self.file
    }

    /// The parsed header, to change: [`crate::tokenize::Tokenizer::take_from_gguf`] takes the
    /// vocabulary out of it (the config and the tensors are read by then).
    pub fn file_mut(&mut self) -> &mut GgufFile {
        &mut self.file
    }

    /// The GGML type of tensor `name` (an HF name).
    pub fn ggml_type(&self, name: &str) -> Option<GgmlType> {
        Some(self.file.tensor(&self.tensors.get(name)?.gguf_name)?.ty)
    }

    /// The source the tensors are read from.
    pub fn source(&self) -> &S {
        &self.source
    }
}

/// Undoes llama.cpp's permutation of Q/K rows (its converter interleaves the two rotary halves
/// of each head for Llama): rows [heads, 2, half] <- [heads, half, 2]. A row is `cols` elements
/// (f32 values, or the bytes of a row of blocks).
fn unpermute_rows<T: Copy + Default>(
    data: &[T],
    rows: usize,
    cols: usize,
    heads: usize,
) -> Result<Vec<T>> {
    if heads == 0 || !rows.is_multiple_of(2 * heads) {
        return Err(Error::shape(
            "GGUF Q/K",
            format!("{rows} rows do not split into {heads} heads of pairs"),
        ));
    }
    let half = rows / heads / 2;
    let mut out = vec![T::default(); data.len()];
    for h in 0..heads {
        for i in 0..half {
            for pair in 0..2 {
                let src = (h * half + i) * 2 + pair; // row in the file
                let dst = h * 2 * half + pair * half + i; // row in HF order
                out[dst * cols..(dst + 1) * cols]
                    .copy_from_slice(&data[src * cols..(src + 1) * cols]);
            }
        }
    }
    Ok(out)
}

impl<S: ByteSource> TensorStore for GgufStore<S> {
    fn contains(&self, name: &str) -> bool {
        self.tensors
            .get(name)
            .is_some_and(|t| self.file.tensor(&t.gguf_name).is_some())
    }

    fn shape(&self, name: &str) -> Option<Vec<usize>> {
        let info = self.file.tensor(&self.tensors.get(name)?.gguf_name)?;
        // GGUF dims are innermost first; HF shapes outermost first.
        Some(info.dims.iter().rev().map(|d| *d as usize).collect())
    }

    async fn tensor_f32(&self, name: &str) -> Result<TensorData> {
        let (spec, info) = self.lookup(name)?;
        let mut data = self.file.tensor_f32(&self.source, info).await?;
        let shape: Vec<usize> = info.dims.iter().rev().map(|d| *d as usize).collect();
        if spec.part.is_norm() && self.norm_offset != 0.0 {
            data.iter_mut().for_each(|v| *v -= self.norm_offset);
        }
        if self.permuted_qk {
            let heads = match spec.part {
                Part::QProj => Some(self.num_attention_heads),
                Part::KProj => Some(self.num_key_value_heads),
                _ => None,
            };
            if let (Some(heads), [rows, cols]) = (heads, shape.as_slice()) {
                data = unpermute_rows(&data, *rows, *cols, heads)?;
            }
        }
        Ok(TensorData { shape, data })
    }

    async fn rows_f32(&self, name: &str, start: usize, end: usize) -> Result<Vec<f32>> {
        let (spec, info) = self.lookup(name)?;
        if self.permuted_qk && matches!(spec.part, Part::QProj | Part::KProj) {
            // Rows are permuted within heads: undo that on the whole (small) matrix.
            let t = self.tensor_f32(name).await?;
            return slice_rows(name, &t.shape, t.data, start, end);
        }
        self.file.rows_f32(&self.source, info, start, end).await
    }

    fn block_type(&self, name: &str) -> Option<GgmlType> {
        self.ggml_type(name)
    }

    async fn rows_blocks(&self, name: &str, start: usize, end: usize) -> Result<Vec<u8>> {
        let (spec, info) = self.lookup(name)?;
        let heads = match spec.part {
            Part::QProj if self.permuted_qk => self.num_attention_heads,
            Part::KProj if self.permuted_qk => self.num_key_value_heads,
            _ => return self.file.rows_bytes(&self.source, info, start, end).await,
        };
        // Rows are permuted within heads: undo that on the whole (small) matrix's rows of blocks.
        let (rows, _) = info.rows_cols();
        let rows = rows as usize;
        let whole = self.file.rows_bytes(&self.source, info, 0, rows).await?;
        let row_bytes = whole.len() / rows.max(1);
        let data = unpermute_rows(&whole, rows, row_bytes, heads)?;
        super::store::check_rows(name, rows, start, end)?;
        Ok(data[start * row_bytes..end * row_bytes].to_vec())
    }
}

impl<S> GgufStore<S> {
    fn lookup(&self, name: &str) -> Result<(&TensorSpec, &super::gguf::GgufTensorInfo)> {
        let spec = self
            .tensors
            .get(name)
            .ok_or_else(|| Error::Unsupported(format!("no GGUF name for tensor {name}")))?;
        let gguf_name = &spec.gguf_name;
        let info = self.file.tensor(gguf_name).ok_or_else(|| {
            Error::format(
                "GGUF checkpoint",
                format!("missing tensor {gguf_name} ({name})"),
            )
        })?;
        Ok((spec, info))
    }
}

#[cfg(test)]
mod tests {
    use super::unpermute_rows;

    #[test]
    fn unpermute_inverts_llama_cpp_permute() {
        // llama.cpp: w.reshape(heads, 2, half, cols).swapaxes(1, 2): HF row (h, pair, i) goes to
        // file row (h, i, pair). One column, 2 heads of 4 rows: HF rows 0..8.
        let hf: Vec<f32> = (0..8).map(|r| r as f32).collect();
        let file = vec![0.0, 2.0, 1.0, 3.0, 4.0, 6.0, 5.0, 7.0];
        assert_eq!(unpermute_rows(&file, 8, 1, 2).unwrap(), hf);
    }
}
