//! Pure parsers for Apache Cassandra and ScyllaDB SSTable files.
//!
//! `sstable-format` knows the bytes of every SSTable component that backups still hold, from
//! Cassandra 2.1 (`ka`) to 5.0 (`oa`, `da`) and ScyllaDB's `mc`..`mt`. It does no I/O: callers hand
//! it byte slices (a memory map, an object-store range, a test vector) and get typed values or
//! fallible iterators back. Every read is bounds-checked; malformed input yields an [`Error`]
//! naming the component and the byte offset, never a panic.
//!
//! Layout: one module per on-disk component ([`statistics`], [`compression_info`], [`toc`],
//! [`digest`], [`scylla`], [`data`]...), plus the shared pieces: [`cursor`] (checked reads and
//! vints), [`version`] (format capabilities, dispatched once), [`types`] (CQL type trees).
//!
//! By default the crate only reads. The few encoders that the readers' own tests need stay
//! public beside their decoders (vints in [`cursor`], a chunk's compression in [`chunks`],
//! `CompressionInfo.db` in [`compression_info`]). Cargo features add the rest:
//!
//! | feature | adds |
//! | --- | --- |
//! | `write` | `writer` (3.0+ `Data.db` partitions, the inverse of [`data`]) and `sstable_writer` (whole BIG-format sets, `mc`..`nb`, in memory or streamed): used to build test sets and the sample backup |
//! | `synth` | `synth` (implies `write`): a deterministic synthetic time-series table of any size, for benchmarks and split tests; test support, not a stable API |
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(clippy::indexing_slicing, clippy::unwrap_used)]

pub mod bti;
mod buffer;
pub mod chunks;
pub mod compare;
pub mod compression_info;
pub mod crc;
pub mod cursor;
pub mod data;
pub mod descriptor;
pub mod digest;
pub mod error;
pub mod index;
pub mod key;
pub mod legacy;
pub mod legacy_schema;
pub mod merge;
pub mod offsets;
pub mod partitioner;
pub mod partitions;
pub mod reconcile;
pub mod schema;
pub mod scylla;
pub mod source;
pub mod split;
#[cfg(feature = "write")]
pub mod sstable_writer;
pub mod statistics;
pub mod summary;
#[cfg(feature = "synth")]
pub mod synth;
pub mod toc;
pub mod types;
pub mod value;
pub mod verify;
pub mod version;
#[cfg(feature = "write")]
pub mod writer;

pub use chunks::{
    verify_all, verify_all_ranges, verify_uncompressed, verify_uncompressed_ranges,
    CompressedSource, UncompressedSource, VerifyReport,
};
pub use compression_info::{Codec, CompressionInfo};
pub use crc::CrcDb;
pub use cursor::Cursor;
pub use digest::{compute_digest, compute_digest_value, Digest, DigestHasher, DigestValue};
pub use error::{Component, Error, Result};
pub use offsets::{ChunkIndex, DataOffset, FileOffset, IndexOffset};
pub use scylla::ScyllaMetadata;
pub use source::{ByteRanges, DataSource, SliceSource};
pub use statistics::{SerializationHeader, Statistics};
pub use toc::Toc;
pub use types::CqlType;
pub use version::{FormatKind, Version};
