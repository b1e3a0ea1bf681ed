//! Byte sources that model files are read from, range by range: a file, a buffer in memory,
//! and (later) an HTTP range reader. Weights are read tensor by tensor, never whole.

use crate::error::{Error, Result};
use std::sync::Arc;

/// Random-access bytes. `read_at` is async so that network sources fit the same interface.
#[allow(async_fn_in_trait)]
pub trait ByteSource {
    /// Total length in bytes.
    fn len(&self) -> u64;

    /// Whether the source is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads `len` bytes at `offset`; fails with [`Error::Format`] past the end.
    async fn read_at(&self, offset: u64, len: usize) -> Result<Vec<u8>>;
}

fn check_range(total: u64, offset: u64, len: usize) -> Result<()> {
    let end = offset.checked_add(len as u64);
    if end.is_none_or(|end| end > total) {
        return Err(Error::format(
            "byte source",
            format!(
                "read of {len} bytes at {offset} past the end ({total} bytes): truncated file?"
            ),
        ));
    }
    Ok(())
}

/// Bytes held in memory (a downloaded file, a test fixture).
#[derive(Debug, Clone)]
pub struct MemorySource {
    bytes: Arc<[u8]>,
}

impl MemorySource {
    /// Wraps bytes.
    pub fn new(bytes: impl Into<Arc<[u8]>>) -> Self {
        Self {
            bytes: bytes.into(),
        }
    }
}

impl ByteSource for MemorySource {
    fn len(&self) -> u64 {
        self.bytes.len() as u64
    }

    async fn read_at(&self, offset: u64, len: usize) -> Result<Vec<u8>> {
        check_range(self.len(), offset, len)?;
        let start = offset as usize;
        Ok(self.bytes[start..start + len].to_vec())
    }
}

/// A file on disk (native only), read with positioned reads.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug)]
pub struct FileSource {
    file: std::sync::Mutex<std::fs::File>,
    len: u64,
    path: String,
}

#[cfg(not(target_arch = "wasm32"))]
impl FileSource {
    /// Opens a file.
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|e| Error::Io(format!("{name}: {e}")))?;
        let len = file
            .metadata()
            .map_err(|e| Error::Io(format!("{name}: {e}")))?
            .len();
        Ok(Self {
            file: std::sync::Mutex::new(file),
            len,
            path: name,
        })
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl ByteSource for FileSource {
    fn len(&self) -> u64 {
        self.len
    }

    async fn read_at(&self, offset: u64, len: usize) -> Result<Vec<u8>> {
        use std::io::{Read, Seek, SeekFrom};
        check_range(self.len, offset, len)?;
        let io = |e: std::io::Error| Error::Io(format!("{}: {e}", self.path));
        let mut file = self
            .file
            .lock()
            .map_err(|_| Error::Io(format!("{}: file lock poisoned", self.path)))?;
        let mut buf = vec![0u8; len];
        file.seek(SeekFrom::Start(offset)).map_err(io)?;
        file.read_exact(&mut buf).map_err(io)?;
        Ok(buf)
    }
}
