//! Little-endian reads from a byte slice, each failing with the caller's format error on a
//! slice that ends too soon (the ZIP directory and the pickle reader share it).

use crate::error::{Error, Result};

/// A cursor over `bytes`.
pub(crate) struct LeReader<'a> {
    /// The bytes read.
    pub bytes: &'a [u8],
    /// The next byte's index.
    pub at: usize,
    /// What the bytes are, for errors ("ZIP archive").
    what: &'static str,
}

impl<'a> LeReader<'a> {
    /// A cursor at the start of `bytes`.
    pub fn new(bytes: &'a [u8], what: &'static str) -> Self {
        Self { bytes, at: 0, what }
    }
    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| Error::format(self.what, "truncated: a record runs past the end"))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }
    /// The next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    /// The next u8.
    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    /// The next u16.
    pub fn u16(&mut self) -> Result<u16> {
        self.array().map(u16::from_le_bytes)
    }
    /// The next u32.
    pub fn u32(&mut self) -> Result<u32> {
        self.array().map(u32::from_le_bytes)
    }
    /// The next u64.
    pub fn u64(&mut self) -> Result<u64> {
        self.array().map(u64::from_le_bytes)
    }
}
