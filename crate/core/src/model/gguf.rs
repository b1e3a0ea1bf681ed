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
/// The header is read in pieces of this size (more when one item is longer), parsed as they
/// arrive: only the unread rest of the last piece is held besides the parsed values.
const CHUNK: u64 = 1 << 20;
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
    /// Array of values, stored by element type.
    Array(GgufArray),
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
    pub fn as_array(&self) -> Option<&GgufArray> {
        match self {
            GgufValue::Array(a) => Some(a),
            _ => None,
        }
    }
}

/// A metadata array, one vector of its element type: a 262k-entry vocabulary's scores take 4
/// bytes a token, its strings one buffer and an end offset each.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum GgufArray {
    /// u8 elements.
    U8(Vec<u8>),
    /// i8 elements.
    I8(Vec<i8>),
    /// u16 elements.
    U16(Vec<u16>),
    /// i16 elements.
    I16(Vec<i16>),
    /// u32 elements.
    U32(Vec<u32>),
    /// i32 elements.
    I32(Vec<i32>),
    /// u64 elements.
    U64(Vec<u64>),
    /// i64 elements.
    I64(Vec<i64>),
    /// f32 elements.
    F32(Vec<f32>),
    /// f64 elements.
    F64(Vec<f64>),
    /// bool elements.
    Bool(Vec<bool>),
    /// String elements.
    String(GgufStrings),
    /// Arrays of arrays.
    Array(Vec<GgufArray>),
}

impl GgufArray {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            GgufArray::U8(v) => v.len(),
            GgufArray::I8(v) => v.len(),
            GgufArray::U16(v) => v.len(),
            GgufArray::I16(v) => v.len(),
            GgufArray::U32(v) => v.len(),
            GgufArray::I32(v) => v.len(),
            GgufArray::U64(v) => v.len(),
            GgufArray::I64(v) => v.len(),
            GgufArray::F32(v) => v.len(),
            GgufArray::F64(v) => v.len(),
            GgufArray::Bool(v) => v.len(),
            GgufArray::String(v) => v.len(),
            GgufArray::Array(v) => v.len(),
        }
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Element `i` as an integer, if the elements are integers (and it fits an i64).
    pub fn integer(&self, i: usize) -> Option<i64> {
        match self {
            GgufArray::U8(v) => v.get(i).map(|&x| i64::from(x)),
            GgufArray::I8(v) => v.get(i).map(|&x| i64::from(x)),
            GgufArray::U16(v) => v.get(i).map(|&x| i64::from(x)),
            GgufArray::I16(v) => v.get(i).map(|&x| i64::from(x)),
            GgufArray::U32(v) => v.get(i).map(|&x| i64::from(x)),
            GgufArray::I32(v) => v.get(i).map(|&x| i64::from(x)),
            GgufArray::U64(v) => v.get(i).and_then(|&x| i64::try_from(x).ok()),
            GgufArray::I64(v) => v.get(i).copied(),
            _ => None,
        }
    }

    /// The string elements, if the elements are strings.
    pub fn strings(&self) -> Option<&GgufStrings> {
        match self {
            GgufArray::String(s) => Some(s),
            _ => None,
        }
    }

    /// Element `i` as a value of its own (a string or an inner array is copied).
    pub fn get(&self, i: usize) -> Option<GgufValue> {
        Some(match self {
            GgufArray::U8(v) => GgufValue::U64(u64::from(*v.get(i)?)),
            GgufArray::U16(v) => GgufValue::U64(u64::from(*v.get(i)?)),
            GgufArray::U32(v) => GgufValue::U64(u64::from(*v.get(i)?)),
            GgufArray::U64(v) => GgufValue::U64(*v.get(i)?),
            GgufArray::I8(v) => GgufValue::I64(i64::from(*v.get(i)?)),
            GgufArray::I16(v) => GgufValue::I64(i64::from(*v.get(i)?)),
            GgufArray::I32(v) => GgufValue::I64(i64::from(*v.get(i)?)),
            GgufArray::I64(v) => GgufValue::I64(*v.get(i)?),
            GgufArray::F32(v) => GgufValue::F64(f64::from(*v.get(i)?)),
            GgufArray::F64(v) => GgufValue::F64(*v.get(i)?),
            GgufArray::Bool(v) => GgufValue::Bool(*v.get(i)?),
            GgufArray::String(v) => GgufValue::String(v.get(i)?.to_owned()),
            GgufArray::Array(v) => GgufValue::Array(v.get(i)?.clone()),
        })
    }

    /// The elements as values of their own (see [`GgufArray::get`]).
    pub fn values(&self) -> impl Iterator<Item = GgufValue> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

/// Strings in one buffer: `text[ends[i - 1]..ends[i]]` is string `i`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GgufStrings {
    text: String,
    ends: Vec<usize>,
}

impl GgufStrings {
    /// No strings, room for `strings` of `bytes` in all.
    pub fn with_capacity(strings: usize, bytes: usize) -> Self {
        Self {
            text: String::with_capacity(bytes),
            ends: Vec::with_capacity(strings),
        }
    }

    /// Appends a string.
    pub fn push(&mut self, s: &str) {
        self.text.push_str(s);
        self.ends.push(self.text.len());
    }

    /// Number of strings.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are no strings.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// String `i`.
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)?;
        let start = match i {
            0 => 0,
            _ => self.ends[i - 1],
        };
        self.text.get(start..end)
    }

    /// The strings in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.get(i).unwrap_or_default())
    }

    fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
    }
}

impl<S: AsRef<str>> FromIterator<S> for GgufStrings {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        let mut out = Self::default();
        for s in iter {
            out.push(s.as_ref());
        }
        out
    }
}

impl serde::Serialize for GgufStrings {
    fn serialize<Z: serde::Serializer>(
        &self,
        serializer: Z,
    ) -> std::result::Result<Z::Ok, Z::Error> {
        serializer.collect_seq(self.iter())
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

fn bad(detail: impl Into<String>) -> Error {
    Error::format("GGUF file", detail)
}

/// The header, read piece by piece as the parse reaches it.
struct Reader<'a, S> {
    source: &'a S,
    file_len: u64,
    /// Bytes of the file from `start` on (the unread rest of the last piece, then the next).
    buf: Vec<u8>,
    start: u64,
    /// Read position in `buf`.
    pos: usize,
}

impl<S: ByteSource> Reader<'_, S> {
    fn offset(&self) -> u64 {
        self.start + self.pos as u64
    }

    async fn take(&mut self, n: u64) -> Result<&[u8]> {
        let offset = self.offset();
        let end = offset
            .checked_add(n)
            .ok_or_else(|| bad("length overflows"))?;
        if end > self.file_len {
            return Err(bad(format!(
                "needs {end} bytes, the file has {}: truncated",
                self.file_len
            )));
        }
        if end > MAX_HEADER {
            return Err(bad(format!("header larger than {} MiB", MAX_HEADER >> 20)));
        }
        let buf_end = self.start + self.buf.len() as u64;
        if end > buf_end {
            // Keep the unread rest, read at least a piece more.
            self.buf.drain(..self.pos);
            self.start = offset;
            self.pos = 0;
            let read_end = end
                .max(buf_end.saturating_add(CHUNK))
                .min(self.file_len)
                .min(MAX_HEADER);
            let more = self
                .source
                .read_at(buf_end, (read_end - buf_end) as usize)
                .await?;
            if self.buf.is_empty() {
                self.buf = more;
            } else {
                self.buf.extend_from_slice(&more);
            }
        }
        let start = self.pos;
        self.pos += n as usize;
        Ok(&self.buf[start..self.pos])
    }

    async fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let bytes = self.take(N as u64).await?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    async fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array().await?))
    }

    async fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array().await?))
    }

    /// A count of items that take at least `min_item_bytes` each: bounded by the bytes left in
    /// the file and in the largest header read.
    async fn count(&mut self, min_item_bytes: u64, what: &str) -> Result<usize> {
        let n = self.u64().await?;
        let remaining = self.file_len.min(MAX_HEADER).saturating_sub(self.offset());
        if n.saturating_mul(min_item_bytes) > remaining {
            return Err(bad(format!(
                "{what} count {n} cannot fit in the {remaining} bytes left"
            )));
        }
        usize::try_from(n).map_err(|_| bad(format!("{what} count {n} too large")))
    }

    async fn string(&mut self) -> Result<String> {
        let len = self.count(1, "string length").await?;
        Ok(String::from_utf8_lossy(self.take(len as u64).await?).into_owned())
    }

    async fn value(&mut self, ty: u32) -> Result<GgufValue> {
        Ok(match ty {
            0 => GgufValue::U64(u64::from(self.array::<1>().await?[0])),
            1 => GgufValue::I64(i64::from(self.array::<1>().await?[0] as i8)),
            2 => GgufValue::U64(u64::from(u16::from_le_bytes(self.array().await?))),
            3 => GgufValue::I64(i64::from(i16::from_le_bytes(self.array().await?))),
            4 => GgufValue::U64(u64::from(self.u32().await?)),
            5 => GgufValue::I64(i64::from(i32::from_le_bytes(self.array().await?))),
            6 => GgufValue::F64(f64::from(f32::from_le_bytes(self.array().await?))),
            7 => GgufValue::Bool(self.array::<1>().await?[0] != 0),
            8 => GgufValue::String(self.string().await?),
            9 => GgufValue::Array(self.array_value(0).await?),
            10 => GgufValue::U64(self.u64().await?),
            11 => GgufValue::I64(i64::from_le_bytes(self.array().await?)),
            12 => GgufValue::F64(f64::from_le_bytes(self.array().await?)),
            other => return Err(bad(format!("unknown metadata value type {other}"))),
        })
    }

    /// `n` fixed-size elements of `N` bytes each, read a piece at a time.
    async fn elements<const N: usize, T>(
        &mut self,
        n: usize,
        decode: impl Fn([u8; N]) -> T,
    ) -> Result<Vec<T>> {
        let mut out = Vec::with_capacity(n);
        let per_take = (CHUNK as usize / N).max(1);
        while out.len() < n {
            let k = (n - out.len()).min(per_take);
            let bytes = self.take((k * N) as u64).await?;
            out.extend(bytes.chunks_exact(N).map(|c| {
                let mut a = [0u8; N];
                a.copy_from_slice(c);
                decode(a)
            }));
        }
        Ok(out)
    }

    /// An array's element type, count and elements.
    async fn array_value(&mut self, depth: usize) -> Result<GgufArray> {
        if depth >= MAX_NESTING {
            return Err(bad("arrays nested too deep"));
        }
        let elem = self.u32().await?;
        // The fewest bytes an element takes: a string its length, an array its type and count.
        let min_bytes = match elem {
            0 | 1 | 7 => 1,
            2 | 3 => 2,
            4..=6 => 4,
            8 | 10..=12 => 8,
            9 => 12,
            other => return Err(bad(format!("unknown metadata value type {other}"))),
        };
        let n = self.count(min_bytes, "array length").await?;
        Ok(match elem {
            0 => GgufArray::U8(self.elements(n, |[b]: [u8; 1]| b).await?),
            1 => GgufArray::I8(self.elements(n, i8::from_le_bytes).await?),
            2 => GgufArray::U16(self.elements(n, u16::from_le_bytes).await?),
            3 => GgufArray::I16(self.elements(n, i16::from_le_bytes).await?),
            4 => GgufArray::U32(self.elements(n, u32::from_le_bytes).await?),
            5 => GgufArray::I32(self.elements(n, i32::from_le_bytes).await?),
            6 => GgufArray::F32(self.elements(n, f32::from_le_bytes).await?),
            7 => GgufArray::Bool(self.elements(n, |[b]: [u8; 1]| b != 0).await?),
            10 => GgufArray::U64(self.elements(n, u64::from_le_bytes).await?),
            11 => GgufArray::I64(self.elements(n, i64::from_le_bytes).await?),
            12 => GgufArray::F64(self.elements(n, f64::from_le_bytes).await?),
            8 => {
                let mut strings = GgufStrings::with_capacity(n, 0);
                for _ in 0..n {
                    let len = self.count(1, "string length").await?;
                    strings.push(&String::from_utf8_lossy(self.take(len as u64).await?));
                }
                strings.shrink_to_fit();
                GgufArray::String(strings)
            }
            _ => {
                let mut arrays = Vec::with_capacity(n.min(1 << 16));
                for _ in 0..n {
                    arrays.push(Box::pin(self.array_value(depth + 1)).await?);
                }
                GgufArray::Array(arrays)
            }
        })
    }
}

async fn parse<S: ByteSource>(c: &mut Reader<'_, S>) -> Result<GgufFile> {
    if &c.array::<4>().await? != MAGIC {
        return Err(bad("missing the GGUF magic: not a GGUF file"));
    }
    let version = c.u32().await?;
    if !(2..=3).contains(&version) {
        return Err(Error::Unsupported(format!("GGUF version {version}")));
    }
    // A tensor info takes at least 24 bytes, a key-value at least 12.
    let tensor_count = c.count(24, "tensor").await?;
    let kv_count = c.count(12, "metadata").await?;
    let mut metadata = BTreeMap::new();
    for _ in 0..kv_count {
        let key = c.string().await?;
        let ty = c.u32().await?;
        let value = c.value(ty).await?;
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
    let file_len = c.file_len;
    let mut raw = Vec::with_capacity(tensor_count.min(1 << 16));
    for _ in 0..tensor_count {
        let name = c.string().await?;
        let n_dims = c.u32().await?;
        if n_dims == 0 || n_dims > MAX_DIMS {
            return Err(bad(format!("tensor {name} has {n_dims} dimensions")));
        }
        let mut dims = Vec::with_capacity(n_dims as usize);
        for _ in 0..n_dims {
            dims.push(c.u64().await?);
        }
        let ty = GgmlType::from_id(c.u32().await?)?;
        let offset = c.u64().await?;
        raw.push((name, dims, ty, offset));
    }
    let data_offset = c.offset().div_ceil(alignment) * alignment;
    let mut tensors = Vec::with_capacity(raw.len());
    for (name, dims, ty, offset) in raw {
        let values = dims
            .iter()
            .try_fold(1u64, |acc, d| acc.checked_mul(*d))
            .ok_or_else(|| bad(format!("tensor {name}: dimensions {dims:?} overflow")))?;
        let byte_len = ty.byte_len(values)?;
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
    /// Reads and checks the header of a GGUF file (not the tensor data), a piece at a time.
    pub async fn read<S: ByteSource>(source: &S) -> Result<Self> {
        let mut reader = Reader {
            source,
            file_len: source.len(),
            buf: Vec::new(),
            start: 0,
            pos: 0,
        };
        parse(&mut reader).await
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
        let bytes = source
            .read_at(tensor.offset + start as u64 * row_bytes, len)
            .await?;
        dequantize(tensor.ty, &bytes)
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
