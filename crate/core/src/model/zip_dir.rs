//! The directory of a ZIP archive read from a [`ByteSource`] by ranges (the tail, the central
//! directory, one local header per entry read): names, compression, sizes and where each
//! entry's bytes start. ZIP64 archives included. Only what reading stored (uncompressed)
//! entries needs: PyTorch checkpoints are archives of stored entries.

use super::le_reader::LeReader;
use super::source::ByteSource;
use crate::error::{Error, Result};

const EOCD_SIGNATURE: u32 = 0x0605_4b50;
const EOCD_LEN: u64 = 22;
const ZIP64_LOCATOR_SIGNATURE: u32 = 0x0706_4b50;
const ZIP64_LOCATOR_LEN: u64 = 20;
const ZIP64_EOCD_SIGNATURE: u32 = 0x0606_4b50;
const ZIP64_EOCD_LEN: usize = 56;
const CENTRAL_SIGNATURE: u32 = 0x0201_4b50;
const CENTRAL_LEN: usize = 46;
const LOCAL_SIGNATURE: u32 = 0x0403_4b50;
const LOCAL_LEN: usize = 30;
/// The ZIP64 extended-information extra field.
const ZIP64_EXTRA: u16 = 0x0001;
/// The longest archive comment (so the end record lies in the last 64 KiB + 22 bytes).
const MAX_COMMENT: u64 = 0xffff;
/// The largest central directory accepted (a checkpoint's has a few thousand entries).
const MAX_DIRECTORY: u64 = 64 << 20;

/// Compression method of a stored (uncompressed) entry.
pub const STORED: u16 = 0;

fn bad(detail: impl Into<String>) -> Error {
    Error::format("ZIP archive", detail)
}

/// One entry of the central directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipEntry {
    /// The entry's path inside the archive.
    pub name: String,
    /// Compression method ([`STORED`] is none).
    pub method: u16,
    /// Bytes stored.
    pub compressed_size: u64,
    /// Bytes after decompression.
    pub size: u64,
    /// Where the entry's local header starts.
    pub header_offset: u64,
}

/// Where the central directory is: (offset, size, entries).
async fn locate_directory<S: ByteSource>(source: &S) -> Result<(u64, u64, u64)> {
    let len = source.len();
    if len < EOCD_LEN {
        return Err(bad(format!("{len} bytes: too short for an archive")));
    }
    let tail_len = len.min(EOCD_LEN + MAX_COMMENT);
    let tail_start = len - tail_len;
    let tail = source.read_at(tail_start, tail_len as usize).await?;
    let signature = EOCD_SIGNATURE.to_le_bytes();
    let eocd = (0..=tail.len() - EOCD_LEN as usize)
        .rev()
        .find(|&i| tail[i..i + 4] == signature)
        .ok_or_else(|| bad("no end-of-directory record: not a ZIP archive, or truncated"))?;
    let mut r = LeReader::new(&tail[eocd + 4..], "ZIP archive");
    let _disk = r.u16()?;
    let _directory_disk = r.u16()?;
    let _entries_here = r.u16()?;
    let entries = r.u16()?;
    let size = r.u32()?;
    let offset = r.u32()?;
    let eocd_at = tail_start + eocd as u64;
    let zip64 = entries == u16::MAX || size == u32::MAX || offset == u32::MAX;
    if !zip64 {
        return Ok((u64::from(offset), u64::from(size), u64::from(entries)));
    }
    if eocd_at < ZIP64_LOCATOR_LEN {
        return Err(bad("ZIP64 archive without its locator"));
    }
    let locator = source
        .read_at(eocd_at - ZIP64_LOCATOR_LEN, ZIP64_LOCATOR_LEN as usize)
        .await?;
    let mut r = LeReader::new(&locator, "ZIP archive");
    if r.u32()? != ZIP64_LOCATOR_SIGNATURE {
        return Err(bad("ZIP64 archive without its locator"));
    }
    let _disk = r.u32()?;
    let record_at = r.u64()?;
    if record_at
        .checked_add(ZIP64_EOCD_LEN as u64)
        .is_none_or(|e| e > len)
    {
        return Err(bad("the ZIP64 end record lies outside the file"));
    }
    let record = source.read_at(record_at, ZIP64_EOCD_LEN).await?;
    let mut r = LeReader::new(&record, "ZIP archive");
    if r.u32()? != ZIP64_EOCD_SIGNATURE {
        return Err(bad("no ZIP64 end record where its locator points"));
    }
    let _record_size = r.u64()?;
    let _made_by = r.u16()?;
    let _needed = r.u16()?;
    let _disk = r.u32()?;
    let _directory_disk = r.u32()?;
    let _entries_here = r.u64()?;
    let entries = r.u64()?;
    let size = r.u64()?;
    let offset = r.u64()?;
    Ok((offset, size, entries))
}

/// Reads the central directory.
pub async fn read_directory<S: ByteSource>(source: &S) -> Result<Vec<ZipEntry>> {
    let (offset, size, count) = locate_directory(source).await?;
    if size > MAX_DIRECTORY {
        return Err(bad(format!("a central directory of {size} bytes")));
    }
    if offset.checked_add(size).is_none_or(|e| e > source.len()) {
        return Err(bad(
            "the central directory lies outside the file: truncated",
        ));
    }
    let bytes = source.read_at(offset, size as usize).await?;
    let mut r = LeReader::new(&bytes, "ZIP archive");
    // Each record takes at least CENTRAL_LEN bytes, which bounds a lying count.
    let mut entries = Vec::with_capacity((count as usize).min(bytes.len() / CENTRAL_LEN));
    for _ in 0..count {
        if r.u32()? != CENTRAL_SIGNATURE {
            return Err(bad("a central directory record has a bad signature"));
        }
        let _made_by = r.u16()?;
        let _needed = r.u16()?;
        let flags = r.u16()?;
        let method = r.u16()?;
        let _time = r.u16()?;
        let _date = r.u16()?;
        let _crc = r.u32()?;
        let mut compressed_size = u64::from(r.u32()?);
        let mut entry_size = u64::from(r.u32()?);
        let name_len = usize::from(r.u16()?);
        let extra_len = usize::from(r.u16()?);
        let comment_len = usize::from(r.u16()?);
        let _disk = r.u16()?;
        let _internal = r.u16()?;
        let _external = r.u32()?;
        let mut header_offset = u64::from(r.u32()?);
        let name = r.take(name_len)?;
        let name = if flags & 0x800 != 0 || name.is_ascii() {
            String::from_utf8(name.to_vec()).map_err(|_| bad("an entry name is not UTF-8"))?
        } else {
            String::from_utf8_lossy(name).into_owned()
        };
        let mut extra = LeReader::new(r.take(extra_len)?, "ZIP archive");
        while extra.at + 4 <= extra.bytes.len() {
            let id = extra.u16()?;
            let len = usize::from(extra.u16()?);
            let mut field = LeReader::new(extra.take(len)?, "ZIP archive");
            if id != ZIP64_EXTRA {
                continue;
            }
            // Present only for the fields whose 32-bit value is saturated, in this order.
            if entry_size == u64::from(u32::MAX) {
                entry_size = field.u64()?;
            }
            if compressed_size == u64::from(u32::MAX) {
                compressed_size = field.u64()?;
            }
            if header_offset == u64::from(u32::MAX) {
                header_offset = field.u64()?;
            }
        }
        r.take(comment_len)?;
        entries.push(ZipEntry {
            name,
            method,
            compressed_size,
            size: entry_size,
            header_offset,
        });
    }
    Ok(entries)
}

/// Where a stored entry's bytes start (read from its local header), checked to lie in the file.
pub async fn data_offset<S: ByteSource>(source: &S, entry: &ZipEntry) -> Result<u64> {
    if entry.method != STORED {
        return Err(Error::Unsupported(format!(
            "ZIP entry {} is compressed (method {}): only stored entries are read",
            entry.name, entry.method
        )));
    }
    if entry
        .header_offset
        .checked_add(LOCAL_LEN as u64)
        .is_none_or(|e| e > source.len())
    {
        return Err(bad(format!(
            "{}: local header outside the file",
            entry.name
        )));
    }
    let header = source.read_at(entry.header_offset, LOCAL_LEN).await?;
    let mut r = LeReader::new(&header, "ZIP archive");
    if r.u32()? != LOCAL_SIGNATURE {
        return Err(bad(format!("{}: bad local header signature", entry.name)));
    }
    r.take(22)?;
    let name_len = u64::from(r.u16()?);
    let extra_len = u64::from(r.u16()?);
    let start = entry.header_offset + LOCAL_LEN as u64 + name_len + extra_len;
    if start
        .checked_add(entry.compressed_size)
        .is_none_or(|e| e > source.len())
    {
        return Err(bad(format!(
            "{} ends past the end of the file: truncated",
            entry.name
        )));
    }
    Ok(start)
}
