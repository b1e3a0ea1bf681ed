//! The GGUF v2/v3 container: header, metadata key-values, tensor infos, and tensor data read
//! tensor by tensor from a [`ByteSource`].
//!
//! Every count and length in the file is checked against the file's size before anything is
//! allocated, so a corrupt or hostile file gives [`Error::Format`], never a panic or a huge
//! allocation.

use super::ggml::{GgmlType, dequantize};
use super::source::ByteSource;
use crate::error::{Error, Result};
use std::collections::BTreeMap;

const MAGIC: &[u8; 4] = b"GGUF";
const DEFAULT_ALIGNMENT: u64 = 32;
/// GGML tensors have at most four dimensions.
const MAX_DIMS: u32 = 4;
/// Arrays inside arrays, at most this deep.
const MAX_NESTING: usize = 4;
/// First read of the header; grows fourfold while the header is longer.
const FIRST_READ: u64 = 1 << 20;
/// Largest header read (the metadata of real models is a few MB, mostly the vocabulary): a
/// hostile header cannot make a reader take more.
const MAX_HEADER: u64 = 64 << 20;

/// A metadata value.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum GgufValue {
    /// Unsigned integers (u8, u16, u32, u64).
    U64(u64),
    /// Signed integers (i8, i16, i32, i64).
    I64(i64),
    /// f32 and f64.
    F64(f64),
    /// bool.
    Bool(bool),
    /// UTF-8 string (invalid UTF-8 is replaced).
    String(String),
    /// Array of values.
    Array(Vec<GgufValue>),
}

impl GgufValue {
    /// The value as an unsigned integer, if it is a non-negative integer.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            GgufValue::U64(v) => Some(*v),
            GgufValue::I64(v) => u64::try_from(*v).ok(),
            _ => None,
        }
    }

    /// The value as a float, if it is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            GgufValue::U64(v) => Some(*v as f64),
            GgufValue::I64(v) => Some(*v as f64),
            GgufValue::F64(v) => Some(*v),
            _ => None,
        }
    }

    /// The value as a string slice.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            GgufValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value as an array.
    pub fn as_array(&self) -> Option<&[GgufValue]> {
        match self {
            GgufValue::Array(a) => Some(a),
            _ => None,
        }
    }
}

/// Where one tensor lives in the file.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GgufTensorInfo {
    /// Tensor name ("blk.0.attn_q.weight").
    pub name: String,
    /// Dimensions in GGML order: `dims[0]` is the innermost (a row's length).
    pub dims: Vec<u64>,
    /// Element type.
    pub ty: GgmlType,
    /// Absolute byte offset of the data in the file.
    pub offset: u64,
    /// Number of values.
    pub values: u64,
    /// Bytes of data.
    pub byte_len: u64,
}

impl GgufTensorInfo {
    /// (rows, cols) of a matrix: cols = dims[0], rows = the product of the other dims.
    pub fn rows_cols(&self) -> (u64, u64) {
        let cols = self.dims.first().copied().unwrap_or(1);
        (self.dims.iter().skip(1).product(), cols)
    }
}

/// A parsed GGUF header: metadata and tensor directory.
#[derive(Debug, Clone, PartialEq)]
pub struct GgufFile {
    /// Format version (2 or 3).
    pub version: u32,
    /// Metadata by key.
    pub metadata: BTreeMap<String, GgufValue>,
    /// Tensors in file order.
    pub tensors: Vec<GgufTensorInfo>,
    /// Absolute offset of the tensor data section.
    pub data_offset: u64,
    /// Alignment of tensor data.
    pub alignment: u64,
}

enum Stop {
    /// The header runs past the bytes read so far: read more and parse again.
    NeedMore,
    Fail(Error),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Stop::Fail(e)
    }
}

fn bad(detail: impl Into<String>) -> Stop {
    Stop::Fail(Error::format("GGUF file", detail))
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    file_len: u64,
}

impl Cursor<'_> {
    fn take(&mut self, n: u64) -> std::result::Result<&[u8], Stop> {
        let end = (self.pos as u64)
            .checked_add(n)
            .ok_or_else(|| bad("length overflows"))?;
        if end > self.file_len {
            return Err(bad(format!(
                "needs {end} bytes, the file has {}: truncated",
                self.file_len
            )));
        }
        if end > self.buf.len() as u64 {
            return Err(Stop::NeedMore);
        }
        let start = self.pos;
        self.pos = end as usize;
        Ok(&self.buf[start..end as usize])
    }

    fn array<const N: usize>(&mut self) -> std::result::Result<[u8; N], Stop> {
        let bytes = self.take(N as u64)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    fn u32(&mut self) -> std::result::Result<u32, Stop> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> std::result::Result<u64, Stop> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// A count of items that take at least `min_item_bytes` each: bounded by the file's size.
    fn count(&mut self, min_item_bytes: u64, what: &str) -> std::result::Result<u64, Stop> {
        let n = self.u64()?;
        let remaining = self.file_len.saturating_sub(self.pos as u64);
        if n.saturating_mul(min_item_bytes) > remaining {
            return Err(bad(format!(
                "{what} count {n} cannot fit in the {remaining} bytes left"
            )));
        }
        Ok(n)
    }

    fn string(&mut self) -> std::result::Result<String, Stop> {
        let len = self.count(1, "string length")?;
        Ok(String::from_utf8_lossy(self.take(len)?).into_owned())
    }

    fn value(&mut self, ty: u32, depth: usize) -> std::result::Result<GgufValue, Stop> {
        Ok(match ty {
            0 => GgufValue::U64(self.array::<1>()?[0] as u64),
            1 => GgufValue::I64(self.array::<1>()?[0] as i8 as i64),
            2 => GgufValue::U64(u16::from_le_bytes(self.array()?) as u64),
            3 => GgufValue::I64(i16::from_le_bytes(self.array()?) as i64),
            4 => GgufValue::U64(self.u32()? as u64),
            5 => GgufValue::I64(i32::from_le_bytes(self.array()?) as i64),
            6 => GgufValue::F64(f32::from_le_bytes(self.array()?) as f64),
            7 => GgufValue::Bool(self.array::<1>()?[0] != 0),
            8 => GgufValue::String(self.string()?),
            9 => {
                if depth >= MAX_NESTING {
                    return Err(bad("arrays nested too deep"));
                }
                let elem = self.u32()?;
                let n = self.count(1, "array length")?;
                let mut items = Vec::with_capacity(n.min(1 << 16) as usize);
                for _ in 0..n {
                    items.push(self.value(elem, depth + 1)?);
                }
                GgufValue::Array(items)
            }
            10 => GgufValue::U64(self.u64()?),
            11 => GgufValue::I64(i64::from_le_bytes(self.array()?)),
            12 => GgufValue::F64(f64::from_le_bytes(self.array()?)),
            other => return Err(bad(format!("unknown metadata value type {other}"))),
        })
    }
}

fn parse(buf: &[u8], file_len: u64) -> std::result::Result<GgufFile, Stop> {
    let mut c = Cursor {
        buf,
        pos: 0,
        file_len,
    };
    if &c.array::<4>()? != MAGIC {
        return Err(bad("missing the GGUF magic: not a GGUF file"));
    }
    let version = c.u32()?;
    if !(2..=3).contains(&version) {
        return Err(Stop::Fail(Error::Unsupported(format!(
            "GGUF version {version}"
        ))));
    }
    // A tensor info takes at least 24 bytes, a key-value at least 12.
    let tensor_count = c.count(24, "tensor")?;
    let kv_count = c.count(12, "metadata")?;
    let mut metadata = BTreeMap::new();
    for _ in 0..kv_count {
        let key = c.string()?;
        let ty = c.u32()?;
        let value = c.value(ty, 0)?;
        metadata.insert(key, value);
    }
    let alignment = match metadata.get("general.alignment") {
        None => DEFAULT_ALIGNMENT,
        Some(v) => match v.as_u64() {
            Some(a) if a.is_power_of_two() => a,
            _ => {
                return Err(bad(format!(
                    "general.alignment {v:?} is not a power of two"
                )));
            }
        },
    };
    let mut raw = Vec::with_capacity(tensor_count.min(1 << 16) as usize);
    for _ in 0..tensor_count {
        let name = c.string()?;
        let n_dims = c.u32()?;
        if n_dims == 0 || n_dims > MAX_DIMS {
            return Err(bad(format!("tensor {name} has {n_dims} dimensions")));
        }
        let mut dims = Vec::with_capacity(n_dims as usize);
        for _ in 0..n_dims {
            dims.push(c.u64()?);
        }
        let ty = GgmlType::from_id(c.u32()?)?;
        let offset = c.u64()?;
        raw.push((name, dims, ty, offset));
    }
    let data_offset = (c.pos as u64).div_ceil(alignment) * alignment;
    let mut tensors = Vec::with_capacity(raw.len());
    for (name, dims, ty, offset) in raw {
        let values = dims
            .iter()
            .try_fold(1u64, |acc, d| acc.checked_mul(*d))
            .ok_or_else(|| bad(format!("tensor {name}: dimensions {dims:?} overflow")))?;
        let byte_len = ty.byte_len(values).map_err(Stop::Fail)?;
        if !offset.is_multiple_of(alignment) {
            return Err(bad(format!(
                "tensor {name}: offset {offset} is not aligned to {alignment}"
            )));
        }
        let start = data_offset
            .checked_add(offset)
            .ok_or_else(|| bad("offset overflows"))?;
        let end = start
            .checked_add(byte_len)
            .ok_or_else(|| bad("size overflows"))?;
        if end > file_len {
            return Err(bad(format!(
                "tensor {name} ends at byte {end}, past the end of the file ({file_len} bytes): truncated"
            )));
        }
        tensors.push(GgufTensorInfo {
            name,
            dims,
            ty,
            offset: start,
            values,
            byte_len,
        });
    }
    Ok(GgufFile {
        version,
        metadata,
        tensors,
        data_offset,
        alignment,
    })
}

impl GgufFile {
    /// Reads and checks the header of a GGUF file (not the tensor data).
    pub async fn read<S: ByteSource>(source: &S) -> Result<Self> {
        let file_len = source.len();
        let mut size = file_len.min(FIRST_READ);
        loop {
            let buf = source.read_at(0, size as usize).await?;
            match parse(&buf, file_len) {
                Ok(file) => return Ok(file),
                Err(Stop::Fail(e)) => return Err(e),
                Err(Stop::NeedMore) if size >= MAX_HEADER => {
                    return Err(Error::format(
                        "GGUF file",
                        format!("header larger than {} MiB", MAX_HEADER >> 20),
                    ));
                }
                Err(Stop::NeedMore) if size < file_len => {
                    size = file_len.min(size * 4).min(MAX_HEADER)
                }
                Err(Stop::NeedMore) => {
                    return Err(Error::format("GGUF file", "header runs past the end"));
                }
            }
        }
    }

    /// A metadata value.
    pub fn get(&self, key: &str) -> Option<&GgufValue> {
        self.metadata.get(key)
    }

    /// The tensor named `name`.
    pub fn tensor(&self, name: &str) -> Option<&GgufTensorInfo> {
        self.tensors.iter().find(|t| t.name == name)
    }

    /// The raw bytes of one tensor.
    pub async fn tensor_bytes<S: ByteSource>(
        &self,
        source: &S,
        tensor: &GgufTensorInfo,
    ) -> Result<Vec<u8>> {
        let len = usize::try_from(tensor.byte_len).map_err(|_| {
            Error::Unsupported(format!(
                "tensor {} is too large for this platform",
                tensor.name
            ))
        })?;
        source.read_at(tensor.offset, len).await
    }

    /// Rows `start..end` of one tensor (rows of `dims[0]` values, whole blocks each)
    /// dequantized to f32.
    pub async fn rows_f32<S: ByteSource>(
        &self,
        source: &S,
        tensor: &GgufTensorInfo,
        start: usize,
        end: usize,
    ) -> Result<Vec<f32>> {
        dequantize(
            tensor.ty,
            &self.rows_bytes(source, tensor, start, end).await?,
        )
    }

    /// Rows `start..end` of a tensor as the file's bytes (whole blocks: GGUF rows never share
    /// one).
    pub async fn rows_bytes<S: ByteSource>(
        &self,
        source: &S,
        tensor: &GgufTensorInfo,
        start: usize,
        end: usize,
    ) -> Result<Vec<u8>> {
        let (rows, _) = tensor.rows_cols();
        if start > end || end as u64 > rows || rows == 0 {
            return Err(Error::shape(
                "GGUF rows",
                format!("rows {start}..{end} of {} ({rows} rows)", tensor.name),
            ));
        }
        let row_bytes = tensor.byte_len / rows;
        let len = usize::try_from((end - start) as u64 * row_bytes).map_err(|_| {
            Error::Unsupported(format!(
                "rows of {} too large for this platform",
                tensor.name
            ))
        })?;
        source
            .read_at(tensor.offset + start as u64 * row_bytes, len)
            .await
    }

    /// One tensor dequantized to f32, in GGML order (rows of `dims[0]` values).
    pub async fn tensor_f32<S: ByteSource>(
        &self,
        source: &S,
        tensor: &GgufTensorInfo,
    ) -> Result<Vec<f32>> {
        dequantize(tensor.ty, &self.tensor_bytes(source, tensor).await?)
    }
}
