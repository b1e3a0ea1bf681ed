//! PyTorch checkpoints (`pytorch_model.bin`, single or sharded): the ZIP archive `torch.save`
//! writes, whose `data.pkl` pickles the state dict (each tensor a `_rebuild_tensor_v2` call on
//! a persistent storage id) and whose `data/<key>` entries hold the storages' raw bytes. The
//! directory and the pickle are read once; tensors are read by rows straight from their
//! storage entries, like safetensors. f32, f16 and bf16 storages; contiguous tensors only.

use super::pickle::{self, Value};
use super::safetensors::read_rows_at;
use super::shards::{Shards, TensorFile};
use super::source::ByteSource;
use super::zip_dir::{self, STORED, ZipEntry};
use crate::error::{Error, Result};
use safetensors::Dtype;
use std::collections::HashMap;

/// The largest `data.pkl` accepted (a state dict's is tens of kilobytes).
const MAX_PICKLE: u64 = 64 << 20;

fn bad(detail: impl Into<String>) -> Error {
    Error::format("PyTorch checkpoint", detail)
}

/// Where one tensor's bytes are.
#[derive(Debug, Clone)]
struct Located {
    dtype: Dtype,
    shape: Vec<usize>,
    /// The storage entry.
    entry: usize,
    /// Bytes into the storage where the tensor starts.
    start: u64,
}

/// One PyTorch checkpoint file.
pub struct PytorchFile<S> {
    source: S,
    entries: Vec<ZipEntry>,
    tensors: HashMap<String, Located>,
}

/// A checkpoint made of one or more PyTorch files.
pub type PytorchModel<S> = Shards<PytorchFile<S>>;

/// The element type of a storage class (`torch.BFloat16Storage`).
fn storage_dtype(module: &str, name: &str) -> Result<Dtype> {
    match (module, name) {
        ("torch", "FloatStorage") => Ok(Dtype::F32),
        ("torch", "HalfStorage") => Ok(Dtype::F16),
        ("torch", "BFloat16Storage") => Ok(Dtype::BF16),
        _ => Err(Error::Unsupported(format!(
            "PyTorch storage {module}.{name}: f32, f16 and bf16 storages are read"
        ))),
    }
}

/// A tensor as the pickle describes it.
struct TensorParts {
    dtype: Dtype,
    /// The storage's key (its entry is `data/<key>`).
    storage: String,
    /// Elements into the storage.
    offset: u64,
    shape: Vec<usize>,
    stride: Vec<i64>,
}

/// A tensor of the state dict; None for a value that is not a tensor.
fn tensor_parts(value: &Value) -> Result<Option<TensorParts>> {
    let Value::Call { callable, args, .. } = value else {
        return Ok(None);
    };
    let Value::Global(module, name) = callable.as_ref() else {
        return Ok(None);
    };
    let args = args.as_items().unwrap_or(&[]);
    match (module.as_str(), name.as_str()) {
        // A Parameter wraps its tensor.
        ("torch._utils", "_rebuild_parameter" | "_rebuild_parameter_with_state") => {
            match args.first() {
                Some(inner) => tensor_parts(inner),
                None => Err(bad("_rebuild_parameter without a tensor")),
            }
        }
        ("torch._utils", "_rebuild_tensor_v2") => {
            let [Value::PersistentId(pid), offset, size, stride, ..] = args else {
                return Err(bad("_rebuild_tensor_v2 with unexpected arguments"));
            };
            let pid = pid.as_items().unwrap_or(&[]);
            let [tag, Value::Global(m, class), key, ..] = pid else {
                return Err(bad("a storage id that is not ('storage', class, key, ...)"));
            };
            if tag.as_str() != Some("storage") {
                return Err(bad("a persistent id that is not a storage"));
            }
            let key = match key {
                Value::Str(s) => s.clone(),
                Value::Int(i) => i.to_string(),
                _ => return Err(bad("a storage key that is not a str")),
            };
            let dims = |v: &Value, what: &str| -> Result<Vec<i64>> {
                v.as_items()
                    .ok_or_else(|| bad(format!("tensor {what} is not a tuple")))?
                    .iter()
                    .map(|d| {
                        d.as_int()
                            .ok_or_else(|| bad(format!("tensor {what} is not ints")))
                    })
                    .collect()
            };
            let shape = dims(size, "size")?
                .into_iter()
                .map(|d| usize::try_from(d).map_err(|_| bad("a negative dimension")))
                .collect::<Result<Vec<_>>>()?;
            let offset = offset
                .as_int()
                .and_then(|o| u64::try_from(o).ok())
                .ok_or_else(|| bad("a storage offset that is not a non-negative int"))?;
            Ok(Some(TensorParts {
                dtype: storage_dtype(m, class)?,
                storage: key,
                offset,
                shape,
                stride: dims(stride, "stride")?,
            }))
        }
        _ => Ok(None),
    }
}

/// Whether `stride` is the row-major stride of `shape` (dimensions of size 1 may have any).
fn contiguous(shape: &[usize], stride: &[i64]) -> bool {
    if shape.len() != stride.len() {
        return false;
    }
    let mut expected: i64 = 1;
    for (&d, &s) in shape.iter().zip(stride).rev() {
        if d != 1 && s != expected {
            return false;
        }
        expected = expected.saturating_mul(d as i64);
    }
    true
}

/// The directory of a `torch.save` archive, the folder its entries sit in (`archive/`) and the
/// object graph its `data.pkl` holds (a state dict, or any other object `torch.save` wrote, such
/// as a trainer's arguments).
pub async fn read_pickle<S: ByteSource>(source: &S) -> Result<(Vec<ZipEntry>, String, Value)> {
    let entries = zip_dir::read_directory(source).await?;
    let pickle_entry = entries
        .iter()
        .filter(|e| e.name == "data.pkl" || e.name.ends_with("/data.pkl"))
        .min_by_key(|e| e.name.len())
        .ok_or_else(|| bad("no data.pkl: not a torch.save archive"))?;
    if pickle_entry.size > MAX_PICKLE || pickle_entry.method != STORED {
        return Err(bad(format!(
            "data.pkl is {} bytes{}",
            pickle_entry.size,
            if pickle_entry.method == STORED {
                ""
            } else {
                ", compressed"
            }
        )));
    }
    let prefix = pickle_entry.name[..pickle_entry.name.len() - "data.pkl".len()].to_string();
    let at = zip_dir::data_offset(source, pickle_entry).await?;
    let bytes = source.read_at(at, pickle_entry.size as usize).await?;
    let root = pickle::load(&bytes)?;
    Ok((entries, prefix, root))
}

impl<S: ByteSource> PytorchFile<S> {
    /// Reads the archive's directory and its state dict; every tensor is checked to lie inside
    /// its storage entry.
    pub async fn open(source: S) -> Result<Self> {
        let (entries, prefix, root) = read_pickle(&source).await?;
        let by_name: HashMap<&str, usize> = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name.as_str(), i))
            .collect();
        let Value::Dict(items) = &root else {
            return Err(bad("data.pkl holds no state dict"));
        };
        let mut tensors = HashMap::new();
        for (key, value) in items {
            let Some(name) = key.as_str() else {
                continue;
            };
            let Some(TensorParts {
                dtype,
                storage,
                offset,
                shape,
                stride,
            }) = tensor_parts(value)?
            else {
                continue;
            };
            if !contiguous(&shape, &stride) {
                return Err(Error::Unsupported(format!(
                    "tensor {name} is not contiguous (shape {shape:?}, strides {stride:?})"
                )));
            }
            let entry_name = format!("{prefix}data/{storage}");
            let entry = *by_name
                .get(entry_name.as_str())
                .ok_or_else(|| bad(format!("{name}: no storage entry {entry_name}")))?;
            let element = (dtype.bitsize() / 8) as u64;
            let values = shape
                .iter()
                .try_fold(1u64, |a, &d| a.checked_mul(d as u64))
                .ok_or_else(|| bad(format!("{name}: shape {shape:?} overflows")))?;
            let start = offset
                .checked_mul(element)
                .ok_or_else(|| bad(format!("{name}: offset overflows")))?;
            let end = values
                .checked_mul(element)
                .and_then(|b| b.checked_add(start))
                .ok_or_else(|| bad(format!("{name}: size overflows")))?;
            if end > entries[entry].size || entries[entry].method != STORED {
                return Err(bad(format!(
                    "{name} does not fit its storage {entry_name} ({} bytes)",
                    entries[entry].size
                )));
            }
            tensors.insert(
                name.to_string(),
                Located {
                    dtype,
                    shape,
                    entry,
                    start,
                },
            );
        }
        if tensors.is_empty() {
            return Err(bad("the state dict holds no tensors"));
        }
        Ok(Self {
            source,
            entries,
            tensors,
        })
    }
}

impl<S: ByteSource> TensorFile for PytorchFile<S> {
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
        let t = self
            .tensors
            .get(name)
            .ok_or_else(|| bad(format!("no tensor named {name}")))?;
        // The entry's bytes start after its local header, read here rather than at open so
        // that opening reads a few ranges, not one per tensor.
        let data = zip_dir::data_offset(&self.source, &self.entries[t.entry]).await?;
        let at = data + t.start;
        read_rows_at(&self.source, at, name, &t.shape, t.dtype, start, end).await
    }
}
