//! The reused window over decompressed `Data.db` bytes that both row decoders read from: it
//! pulls chunks from a [`DataSource`], drops consumed bytes only when more are needed, and lets
//! a decoder measure an item (retrying as chunks arrive) before taking it whole, so that items
//! can borrow contiguous bytes however the chunks cut them.
//!
//! Plays the part of Cassandra's `io/util/RandomAccessReader` buffer under
//! `db/rows/UnfilteredSerializer` (3.0+, [`crate::data`]) and `db/OnDiskAtom.Serializer`
//! (2.x, [`crate::legacy`]).

use crate::cursor::Cursor;
use crate::error::{Component, Error, Result};
use crate::offsets::DataOffset;
use crate::source::DataSource;

/// A growable window of uncompressed `Data.db` bytes fed by a [`DataSource`].
#[derive(Debug)]
pub(crate) struct ChunkBuffer<S> {
    source: S,
    buf: Vec<u8>,
    /// Consumed bytes at the front of `buf`.
    start: usize,
    /// Uncompressed offset of `buf[0]`.
    base: u64,
    exhausted: bool,
}

impl<S: DataSource> ChunkBuffer<S> {
    /// A buffer that starts at the source's current position.
    pub(crate) fn new(source: S) -> Self {
        let base = source.position().0;
        ChunkBuffer {
            source,
            buf: Vec::new(),
            start: 0,
            base,
            exhausted: false,
        }
    }

    /// The uncompressed position of the next unconsumed byte.
    pub(crate) fn position(&self) -> DataOffset {
        DataOffset(self.base + self.start as u64)
    }

    /// The buffer's allocated size: what decoding holds in memory.
    pub(crate) fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Buffered bytes not yet consumed.
    pub(crate) fn available(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Discards bytes until `offset` (at or after the current position).
    pub(crate) fn skip_to(&mut self, offset: DataOffset) -> Result<()> {
        while self.position() < offset {
            let avail = self.available();
            let want = (offset.0 - self.position().0) as usize;
            if avail == 0 {
                self.fill_more(want)?;
                continue;
            }
            self.start += avail.min(want);
        }
        Ok(())
    }

    /// Appends the next chunk, first dropping consumed bytes. `needed` only sizes the error
    /// when the source is already exhausted.
    pub(crate) fn fill_more(&mut self, needed: usize) -> Result<()> {
        if self.exhausted {
            return Err(Error::Truncated {
                component: Component::Data,
                offset: self.base + self.start as u64,
                needed: needed.saturating_sub(self.available()) as u64,
                what: "the rest of the item",
            });
        }
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.base += self.start as u64;
            self.start = 0;
        }
        if !self.source.fill(&mut self.buf)? {
            self.exhausted = true;
        }
        Ok(())
    }

    /// Makes sure the next `n` bytes are buffered.
    pub(crate) fn ensure(&mut self, n: usize) -> Result<()> {
        while self.available() < n {
            self.fill_more(n)?;
        }
        Ok(())
    }

    /// A cursor over all unconsumed buffered bytes (consumes nothing).
    pub(crate) fn rest(&self) -> Cursor<'_> {
        let rest = self.buf.get(self.start..).unwrap_or(&[]);
        Cursor::with_base(rest, Component::Data, self.base + self.start as u64)
    }

    /// Measures the next item with `measure` over the unconsumed bytes, fetching chunks while it
    /// reports [`Error::Truncated`] and the source has more. The
    /// result is typically the item's length, and what kind of item it is.
    pub(crate) fn measure<T>(
        &mut self,
        mut measure: impl FnMut(&mut Cursor<'_>) -> Result<T>,
    ) -> Result<T> {
        loop {
            let mut c = self.rest();
            let len = c.remaining();
            match measure(&mut c) {
                Ok(n) => return Ok(n),
                Err(Error::Truncated { .. }) if !self.exhausted => self.fill_more(len + 1)?,
                Err(e) => return Err(e),
            }
        }
    }

    /// A cursor over the next `n` buffered bytes (see [`ChunkBuffer::ensure`]); consumes them.
    pub(crate) fn take(&mut self, n: usize) -> Cursor<'_> {
        let from = self.start;
        self.start += n;
        let bytes = self.buf.get(from..from + n).unwrap_or(&[]);
        Cursor::with_base(bytes, Component::Data, self.base + from as u64)
    }

    /// Whether the input is exhausted at a clean boundary (nothing buffered, nothing left).
    pub(crate) fn at_end(&mut self) -> Result<bool> {
        while self.available() == 0 {
            if self.exhausted {
                return Ok(true);
            }
            self.fill_more(1)?;
        }
        Ok(false)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;
    use crate::source::SliceSource;

    #[test]
    fn measure_fetches_until_the_item_fits_and_take_borrows_it() {
        let data: Vec<u8> = (0u8..20).collect();
        let mut b = ChunkBuffer::new(SliceSource::new(&data, DataOffset(100), 3));
        let n = b
            .measure(|c| {
                c.skip(7, "item")?;
                Ok(7)
            })
            .unwrap();
        assert_eq!(n, 7);
        b.ensure(n).unwrap();
        let mut c = b.take(n);
        assert_eq!(c.offset(), 100);
        assert_eq!(c.read_bytes(7, "x").unwrap(), &data[..7]);
        assert_eq!(b.position(), DataOffset(107));
        b.skip_to(DataOffset(119)).unwrap();
        assert!(!b.at_end().unwrap());
        assert_eq!(b.take(1).read_u8("x").unwrap(), 19);
        assert!(b.at_end().unwrap());
        assert!(matches!(b.ensure(1), Err(Error::Truncated { .. })));
    }
}
