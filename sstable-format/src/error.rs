//! The error type of the crate: every decode failure names the component and the byte offset.

use std::fmt;

/// The on-disk component (or auxiliary input) that a decode error refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Component {
    /// `Data.db`: partitions and rows.
    Data,
    /// `Index.db`: partition index (BIG format).
    Index,
    /// `Summary.db`: sampled partition index (BIG format).
    Summary,
    /// `Filter.db`: bloom filter.
    Filter,
    /// `CompressionInfo.db`: compression parameters and chunk offsets.
    CompressionInfo,
    /// `Statistics.db`: metadata and the serialization header.
    Statistics,
    /// `Digest.*`: whole-file checksum of `Data.db`.
    Digest,
    /// `CRC.db`: per-chunk checksums of an uncompressed `Data.db`.
    Crc,
    /// `TOC.txt`: list of components.
    Toc,
    /// `Scylla.db`: ScyllaDB's extra metadata.
    Scylla,
    /// `Partitions.db`: BTI partition index trie.
    Partitions,
    /// `Rows.db`: BTI row index trie.
    Rows,
    /// A type string (from the serialization header or a schema).
    TypeString,
    /// A CQL schema (`schema.cql` or `--schema`).
    Schema,
}

impl Component {
    /// The file name suffix of the component (`Data.db`, `TOC.txt`...).
    pub fn file_suffix(self) -> &'static str {
        match self {
            Component::Data => "Data.db",
            Component::Index => "Index.db",
            Component::Summary => "Summary.db",
            Component::Filter => "Filter.db",
            Component::CompressionInfo => "CompressionInfo.db",
            Component::Statistics => "Statistics.db",
            Component::Digest => "Digest",
            Component::Crc => "CRC.db",
            Component::Toc => "TOC.txt",
            Component::Scylla => "Scylla.db",
            Component::Partitions => "Partitions.db",
            Component::Rows => "Rows.db",
            Component::TypeString => "type string",
            Component::Schema => "schema",
        }
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file_suffix())
    }
}

/// Errors from parsing SSTable bytes.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// The input ended before a value that had to be there.
    #[error("{component}: truncated at byte {offset}: needed {needed} more byte(s) for {what}")]
    Truncated {
        /// Component being read.
        component: Component,
        /// Absolute byte offset in the component where the read started.
        offset: u64,
        /// Bytes missing.
        needed: u64,
        /// What was being read.
        what: &'static str,
    },
    /// The bytes are present but do not form a valid value.
    #[error("{component}: invalid data at byte {offset}: {message}")]
    Invalid {
        /// Component being read.
        component: Component,
        /// Absolute byte offset in the component.
        offset: u64,
        /// What is wrong.
        message: String,
    },
    /// A stored checksum does not match the bytes.
    #[error(
        "{component}: checksum mismatch in chunk {chunk} at byte {offset}: stored {stored:#010x}, computed {computed:#010x}"
    )]
    ChecksumMismatch {
        /// Component whose bytes were checked (usually `Data.db`).
        component: Component,
        /// Chunk number (0-based).
        chunk: u64,
        /// Byte offset of the chunk in the component.
        offset: u64,
        /// Checksum stored on disk.
        stored: u32,
        /// Checksum computed from the bytes.
        computed: u32,
    },
    /// The whole-file digest does not match.
    #[error("{component}: whole-file digest mismatch: stored {stored}, computed {computed}")]
    DigestMismatch {
        /// Component whose digest failed (usually `Data.db`).
        component: Component,
        /// Digest stored in the Digest file.
        stored: u64,
        /// Digest computed over the bytes.
        computed: u64,
    },
    /// A compressed chunk failed to decompress.
    #[error(
        "{component}: chunk {chunk} at byte {offset} does not decompress ({codec}): {message}"
    )]
    Decompress {
        /// Component (usually `Data.db`).
        component: Component,
        /// Chunk number (0-based).
        chunk: u64,
        /// Byte offset of the chunk in the component.
        offset: u64,
        /// Codec name.
        codec: &'static str,
        /// Codec's message.
        message: String,
    },
    /// The SSTable format version is not one this crate reads.
    #[error("unsupported sstable format version {version:?}: {reason}")]
    UnsupportedVersion {
        /// The version letters as found.
        version: String,
        /// Why it is not supported.
        reason: &'static str,
    },
    /// The caller could not fetch the bytes of a component (an I/O or object-store error met
    /// by a [`crate::source::ByteRanges`] implementation).
    #[error("{component}: reading {len} byte(s) at byte {offset} of {name}: {message}")]
    Source {
        /// Component being read.
        component: Component,
        /// The file or object (a path or URL), as the caller names it.
        name: String,
        /// Absolute byte offset of the read in the component.
        offset: u64,
        /// Bytes requested.
        len: u64,
        /// What went wrong.
        message: String,
    },
    /// A feature of the input that is valid but not implemented.
    #[error("{component}: unsupported at byte {offset}: {message}")]
    Unsupported {
        /// Component being read.
        component: Component,
        /// Absolute byte offset.
        offset: u64,
        /// What is unsupported.
        message: String,
    },
}

impl Error {
    /// Shorthand for an [`Error::Invalid`].
    pub fn invalid(component: Component, offset: u64, message: impl Into<String>) -> Self {
        Error::Invalid {
            component,
            offset,
            message: message.into(),
        }
    }

    /// The component the error is about.
    pub fn component(&self) -> Option<Component> {
        match self {
            Error::Truncated { component, .. }
            | Error::Invalid { component, .. }
            | Error::ChecksumMismatch { component, .. }
            | Error::DigestMismatch { component, .. }
            | Error::Decompress { component, .. }
            | Error::Source { component, .. }
            | Error::Unsupported { component, .. } => Some(*component),
            Error::UnsupportedVersion { .. } => None,
        }
    }
}

/// Result alias of the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
