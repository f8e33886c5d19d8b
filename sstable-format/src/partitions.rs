//! Partition start offsets of an SSTable's `Data.db`, whatever its index format: the input of
//! a planner that splits a huge `Data.db` at partition boundaries.
//!
//! BIG sets read `Index.db` ([`crate::index`]); trie-indexed sets read `Partitions.db` and, for
//! partitions with a row index, `Rows.db` ([`crate::bti`]).

use crate::bti::{BtiPartitions, PartitionIndex};
use crate::error::{Component, Error, Result};
use crate::index::{Index, IndexEntries};
use crate::offsets::DataOffset;
use crate::version::{FormatKind, Version};

/// The index components of one SSTable, as byte slices (whole files).
#[derive(Debug, Clone, Copy)]
pub enum IndexFiles<'a> {
    /// BIG format: `Index.db`.
    Big {
        /// The whole `Index.db`.
        index: &'a [u8],
    },
    /// Trie format: `Partitions.db` and `Rows.db` (empty if the set has none).
    Bti {
        /// The whole `Partitions.db`.
        partitions: &'a [u8],
        /// The whole `Rows.db`.
        rows: &'a [u8],
    },
}

/// Where one partition starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionOffset<'a> {
    /// The partition key, when the index holds it (always for BIG; for BTI only for partitions
    /// with a row index — the others' keys are only in Data.db at `data_offset`).
    pub key: Option<&'a [u8]>,
    /// Start of the partition in the uncompressed `Data.db`.
    pub data_offset: DataOffset,
}

/// Every partition's `Data.db` start, in index order, which is Data.db order for every
/// Cassandra format and ScyllaDB `mt` (see [`crate::bti`] for `ms`). Fails up front when the
/// files do not match the version's index format.
pub fn partition_offsets<'a>(
    files: IndexFiles<'a>,
    version: Version,
) -> Result<PartitionOffsets<'a>> {
    let inner = match (files, version.format_kind()) {
        (IndexFiles::Big { index }, FormatKind::Big) => {
            Inner::Big(Index::parse_entries(index, version)?)
        }
        (IndexFiles::Bti { partitions, rows }, FormatKind::Bti) => {
            Inner::Bti(PartitionIndex::parse(partitions, version)?.partitions(rows, version))
        }
        (_, kind) => {
            return Err(Error::Unsupported {
                component: if kind == FormatKind::Big {
                    Component::Index
                } else {
                    Component::Partitions
                },
                offset: 0,
                message: format!("version {version} uses the {kind} index format"),
            })
        }
    };
    Ok(PartitionOffsets { inner })
}

#[derive(Debug, Clone)]
enum Inner<'a> {
    Big(IndexEntries<'a>),
    Bti(BtiPartitions<'a>),
}

/// Iterator of [`partition_offsets`]; stops after the first error.
#[derive(Debug, Clone)]
pub struct PartitionOffsets<'a> {
    inner: Inner<'a>,
}

impl<'a> Iterator for PartitionOffsets<'a> {
    type Item = Result<PartitionOffset<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            Inner::Big(it) => it.next().map(|r| {
                r.map(|e| PartitionOffset {
                    key: Some(e.key),
                    data_offset: e.data_offset,
                })
            }),
            Inner::Bti(it) => it.next().map(|r| {
                r.map(|p| PartitionOffset {
                    key: p.key,
                    data_offset: p.data_offset,
                })
            }),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn wrong_files_for_the_version() {
        assert!(partition_offsets(IndexFiles::Big { index: &[] }, Version::Da).is_err());
        assert!(partition_offsets(
            IndexFiles::Bti {
                partitions: &[],
                rows: &[]
            },
            Version::Nb
        )
        .is_err());
        assert_eq!(
            partition_offsets(IndexFiles::Big { index: &[] }, Version::Nb)
                .unwrap()
                .count(),
            0
        );
        assert_eq!(
            partition_offsets(
                IndexFiles::Bti {
                    partitions: &[],
                    rows: &[]
                },
                Version::Mt
            )
            .unwrap()
            .count(),
            0
        );
    }

    #[test]
    fn big_offsets() {
        let mut b = vec![0, 1, b'a'];
        b.extend_from_slice(&7i64.to_be_bytes());
        b.extend_from_slice(&0i32.to_be_bytes());
        let all: Vec<_> = partition_offsets(IndexFiles::Big { index: &b }, Version::Ka)
            .unwrap()
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(
            all,
            vec![PartitionOffset {
                key: Some(b"a"),
                data_offset: DataOffset(7)
            }]
        );
        let r: Vec<_> = partition_offsets(IndexFiles::Big { index: &b[..5] }, Version::Ka)
            .unwrap()
            .collect();
        assert_eq!(r.len(), 1);
        assert!(r[0].is_err());
    }
}
