//! How decoded `Data.db` bytes reach the row decoder: a source appends the uncompressed bytes
//! of the next chunk to a caller-owned buffer, so that buffers are reused and a row that spans
//! chunks becomes contiguous. Implemented for compressed files (CompressionInfo.db) and for
//! uncompressed ones (checked by CRC.db when present).
//!
//! The stored bytes of `Data.db` reach those readers through [`ByteRanges`]: a whole file in
//! memory (`&[u8]`, a memory map: zero-copy), or anything the caller fetches piecewise (ranged
//! object-store reads with read-ahead). The crate itself stays free of I/O.

use crate::error::{Component, Error, Result};
use crate::offsets::{DataOffset, FileOffset};

/// The stored bytes of a file, handed out by byte range. Requests of one reader are mostly
/// sequential and ascending (chunk after chunk); an implementation may read ahead.
pub trait ByteRanges {
    /// The file's length in bytes.
    fn len(&self) -> u64;

    /// Whether the file is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `len` bytes at `at`. Callers check the range against [`ByteRanges::len`] first;
    /// a range past the end is an [`Error::Truncated`], a failed fetch an [`Error::Source`].
    /// The slice lives until the next call.
    fn get(&mut self, at: FileOffset, len: u64) -> Result<&[u8]>;
}

impl ByteRanges for &[u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }

    fn get(&mut self, at: FileOffset, len: u64) -> Result<&[u8]> {
        let data: &[u8] = self;
        usize::try_from(at.0)
            .ok()
            .zip(usize::try_from(len).ok())
            .and_then(|(a, n)| data.get(a..a.checked_add(n)?))
            .ok_or(Error::Truncated {
                component: Component::Data,
                offset: at.0,
                needed: at
                    .0
                    .saturating_add(len)
                    .saturating_sub(<[u8]>::len(data) as u64),
                what: "stored bytes",
            })
    }
}

impl<T: ByteRanges + ?Sized> ByteRanges for Box<T> {
    fn len(&self) -> u64 {
        (**self).len()
    }

    fn get(&mut self, at: FileOffset, len: u64) -> Result<&[u8]> {
        (**self).get(at, len)
    }
}

/// A sequence of uncompressed `Data.db` chunks.
pub trait DataSource {
    /// Appends the next chunk's uncompressed bytes to `out`. Returns `Ok(false)` (appending
    /// nothing) once the source is exhausted. Checksums are verified before bytes are appended.
    fn fill(&mut self, out: &mut Vec<u8>) -> Result<bool>;

    /// The uncompressed position of the next byte `fill` would append.
    fn position(&self) -> DataOffset;
}

/// A source over bytes that are already uncompressed and checked (tests, fuzzing, and the
/// writer's round trips). Hands out `chunk` bytes per call.
#[derive(Debug, Clone)]
pub struct SliceSource<'a> {
    data: &'a [u8],
    pos: usize,
    chunk: usize,
    base: u64,
}

impl<'a> SliceSource<'a> {
    /// A source over `data`, whose first byte is at uncompressed offset `base`.
    pub fn new(data: &'a [u8], base: DataOffset, chunk: usize) -> Self {
        SliceSource {
            data,
            pos: 0,
            chunk: chunk.max(1),
            base: base.0,
        }
    }
}

impl DataSource for SliceSource<'_> {
    fn fill(&mut self, out: &mut Vec<u8>) -> Result<bool> {
        let end = self.pos.saturating_add(self.chunk).min(self.data.len());
        match self.data.get(self.pos..end) {
            Some(bytes) if !bytes.is_empty() => {
                out.extend_from_slice(bytes);
                self.pos = end;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn position(&self) -> DataOffset {
        DataOffset(self.base + self.pos as u64)
    }
}

impl<T: DataSource + ?Sized> DataSource for Box<T> {
    fn fill(&mut self, out: &mut Vec<u8>) -> Result<bool> {
        (**self).fill(out)
    }

    fn position(&self) -> DataOffset {
        (**self).position()
    }
}

impl<T: DataSource + ?Sized> DataSource for &mut T {
    fn fill(&mut self, out: &mut Vec<u8>) -> Result<bool> {
        (**self).fill(out)
    }

    fn position(&self) -> DataOffset {
        (**self).position()
    }
}
