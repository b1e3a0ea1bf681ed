//! safetensors files, single or sharded (model.safetensors.index.json): headers parsed with the
//! `safetensors` crate from the header bytes alone, tensors read one by one from a [`ByteSource`].

use super::shards::{Shards, TensorFile};
use super::source::ByteSource;
use super::store::{TensorData, check_rows};
use crate::error::{Error, Result};
use half::{bf16, f16};
use safetensors::Dtype;
use safetensors::tensor::{Metadata, TensorInfo};
use std::collections::HashMap;

/// Largest header accepted (the crate's own limit is 100 MB).
const MAX_HEADER: u64 = 100 << 20;

fn bad(detail: impl Into<String>) -> Error {
    Error::format("safetensors file", detail)
}

/// One safetensors file: its tensor directory and where the data starts.
pub struct SafetensorsFile<S> {
    source: S,
    data_start: u64,
    tensors: HashMap<String, TensorInfo>,
}

impl<S: ByteSource> SafetensorsFile<S> {
    /// Reads and checks the header: every tensor's byte range must match its dtype and shape and
    /// lie inside the file.
    pub async fn open(source: S) -> Result<Self> {
        let len = source.len();
        if len < 8 {
            return Err(bad(format!("{len} bytes: too short for a header")));
        }
        let prefix = source.read_at(0, 8).await?;
        let mut n = [0u8; 8];
        n.copy_from_slice(&prefix);
        let header_len = u64::from_le_bytes(n);
        if header_len > MAX_HEADER || header_len + 8 > len {
            return Err(bad(format!(
                "header of {header_len} bytes in a {len}-byte file"
            )));
        }
        let header = source.read_at(8, header_len as usize).await?;
        let metadata: Metadata =
            serde_json::from_slice(&header).map_err(|e| bad(format!("header: {e}")))?;
        let data_start = 8 + header_len;
        let mut tensors = HashMap::new();
        for (name, info) in metadata.tensors() {
            let (start, end) = info.data_offsets;
            let values = info
                .shape
                .iter()
                .try_fold(1usize, |a, d| a.checked_mul(*d))
                .ok_or_else(|| bad(format!("{name}: shape {:?} overflows", info.shape)))?;
            let bits = values
                .checked_mul(info.dtype.bitsize())
                .ok_or_else(|| bad(format!("{name}: size overflows")))?;
            if end < start || (end - start) * 8 != bits {
                return Err(bad(format!(
                    "{name}: byte range {start}..{end} does not hold {:?} {:?}",
                    info.dtype, info.shape
                )));
            }
            if data_start + end as u64 > len {
                return Err(bad(format!(
                    "{name} ends past the end of the file: truncated"
                )));
            }
            tensors.insert(name, info.clone());
        }
        Ok(Self {
            source,
            data_start,
            tensors,
        })
    }

    /// Dtype and shape of a tensor.
    pub fn info(&self, name: &str) -> Option<&TensorInfo> {
        self.tensors.get(name)
    }

    /// A tensor converted to f32 (from f32, f16 or bf16).
    pub async fn read_f32(&self, name: &str) -> Result<TensorData> {
        let info = self.tensor_info(name)?;
        let rows = info.shape.first().copied().unwrap_or(1);
        let data = self.read_rows(name, 0, rows.max(1)).await?;
        Ok(TensorData {
            shape: info.shape.clone(),
            data,
        })
    }

    fn tensor_info(&self, name: &str) -> Result<&TensorInfo> {
        self.tensors
            .get(name)
            .ok_or_else(|| bad(format!("no tensor named {name}")))
    }

    /// Rows `start..end` of a tensor (its outermost dimension) converted to f32; a vector is one
    /// row.
    pub async fn read_rows(&self, name: &str, start: usize, end: usize) -> Result<Vec<f32>> {
        let info = self.tensor_info(name)?;
        let at = self.data_start + info.data_offsets.0 as u64;
        read_rows_at(&self.source, at, name, &info.shape, info.dtype, start, end).await
    }
}

/// Rows `start..end` (outermost dimension; a vector is one row) of a contiguous tensor of
/// `shape` and `dtype` whose bytes start at `at` in `source`, as f32.
pub(crate) async fn read_rows_at<S: ByteSource>(
    source: &S,
    at: u64,
    name: &str,
    shape: &[usize],
    dtype: Dtype,
    start: usize,
    end: usize,
) -> Result<Vec<f32>> {
    let rows = shape.first().copied().unwrap_or(1).max(1);
    check_rows(name, rows, start, end)?;
    let values: usize = shape.iter().product();
    let row_bytes = values / rows * (dtype.bitsize() / 8);
    let bytes = source
        .read_at(at + (start * row_bytes) as u64, (end - start) * row_bytes)
        .await?;
    decode_f32(name, dtype, &bytes)
}

/// Little-endian f32, f16 or bf16 values as f32.
pub(crate) fn decode_f32(name: &str, dtype: Dtype, bytes: &[u8]) -> Result<Vec<f32>> {
    Ok(match dtype {
        Dtype::F32 => bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        Dtype::F16 => bytes
            .chunks_exact(2)
            .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        Dtype::BF16 => bytes
            .chunks_exact(2)
            .map(|b| bf16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        other => {
            return Err(Error::Unsupported(format!(
                "tensor {name} has dtype {other:?}"
            )));
        }
    })
}

/// A checkpoint made of one or more safetensors files.
pub type SafetensorsModel<S> = Shards<SafetensorsFile<S>>;

impl<S: ByteSource> TensorFile for SafetensorsFile<S> {
    fn names(&self) -> Vec<&str> {
        self.tensors.keys().map(String::as_str).collect()
    }
    fn shape_of(&self, name: &str) -> Option<Vec<usize>> {
        self.tensors.get(name).map(|t| t.shape.clone())
    }
    fn dtype_of(&self, name: &str) -> Option<Dtype> {
        self.tensors.get(name).map(|t| t.dtype)
    }
    async fn read_rows(&self, name: &str, start: usize, end: usize) -> Result<Vec<f32>> {
        SafetensorsFile::read_rows(self, name, start, end).await
    }
}

impl<S: ByteSource> Shards<SafetensorsFile<S>> {
    /// Every tensor: name, dtype and shape.
    pub fn tensors(&self) -> impl Iterator<Item = (&str, &TensorInfo)> {
        self.files()
            .iter()
            .flat_map(|f| f.tensors.iter().map(|(n, i)| (n.as_str(), i)))
    }
}
