//! Newtypes for the positions that flow between components, so that an uncompressed
//! `Data.db` position is never confused with a position in the compressed file.

use std::fmt;

/// A position in the *uncompressed* `Data.db` stream (what Index.db, Summary.db and the BTI
/// tries point at).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct DataOffset(pub u64);

/// A position in a file as stored on disk (for compressed `Data.db`, the compressed file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FileOffset(pub u64);

/// A position in `Index.db` (what Summary.db entries point at).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct IndexOffset(pub u64);

/// The number of a compression chunk (or CRC.db checksum slice), counted from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ChunkIndex(pub u64);

macro_rules! display_inner {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    )*};
}
display_inner!(DataOffset, FileOffset, IndexOffset, ChunkIndex);
