//! How decoded `Data.db` bytes reach the row decoder: a source appends the uncompressed bytes
//! of the next chunk to a caller-owned buffer, so that buffers are reused and a row that spans
//! chunks becomes contiguous. Implemented for compressed files (CompressionInfo.db) and for
//! uncompressed ones (checked by CRC.db when present).

use crate::error::Result;
use crate::offsets::DataOffset;

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
