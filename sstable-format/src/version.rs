//! SSTable format versions and what each one changes, decided once and asked everywhere.
//!
//! Mirrors Cassandra's `BigFormat.BigVersion` / `BtiFormat.BtiVersion` and ScyllaDB's
//! `sstables/version.hh`. Parsers take a [`Version`] and ask capability methods
//! (`has_uint_deletion_time()`...) instead of comparing letters.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// The index format family of a set: BIG (Index.db/Summary.db) or BTI (Partitions.db/Rows.db).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FormatKind {
    /// Classic `big` format with Index.db and Summary.db.
    Big,
    /// Trie-indexed format (Cassandra 5.0 `bti`, ScyllaDB `ms`/`mt`).
    Bti,
}

impl fmt::Display for FormatKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FormatKind::Big => "big",
            FormatKind::Bti => "bti",
        })
    }
}

/// A known SSTable format version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Version {
    /// Cassandra 1.2.5+ (`ic`): the 2.0 cell layout, with a row size and an atom count before
    /// each partition's atoms, the 1.2 Statistics.db and Summary.db.
    Ic,
    /// Cassandra 2.0 (read by 2.x only; recognised, decoding partial).
    Jb,
    /// Cassandra 2.1.
    Ka,
    /// Cassandra 2.2.
    La,
    /// Cassandra 2.2.7+.
    Lb,
    /// Cassandra 3.0.0.
    Ma,
    /// Cassandra 3.0.7 / 3.7.
    Mb,
    /// Cassandra 3.0.8 / 3.9; ScyllaDB's first 3.x format.
    Mc,
    /// Cassandra 3.0.18 / 3.11.4.
    Md,
    /// Cassandra 3.0.25 / 3.11.11.
    Me,
    /// ScyllaDB 2025.4: `me` Data.db with a trie index.
    Ms,
    /// ScyllaDB 2026.2: `me` Data.db with a trie index in legacy key order.
    Mt,
    /// Cassandra 4.0-rc1.
    Na,
    /// Cassandra 4.0.0.
    Nb,
    /// Cassandra 4.1 / 5.0 (compatibility mode).
    Nc,
    /// Cassandra 5.0 (BIG).
    Oa,
    /// Cassandra 5.0 BTI.
    Da,
}

impl Version {
    /// All versions, oldest first.
    pub const ALL: [Version; 17] = [
        Version::Ic,
        Version::Jb,
        Version::Ka,
        Version::La,
        Version::Lb,
        Version::Ma,
        Version::Mb,
        Version::Mc,
        Version::Md,
        Version::Me,
        Version::Ms,
        Version::Mt,
        Version::Na,
        Version::Nb,
        Version::Nc,
        Version::Oa,
        Version::Da,
    ];

    /// The two letters of the version.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::Ic => "ic",
            Version::Jb => "jb",
            Version::Ka => "ka",
            Version::La => "la",
            Version::Lb => "lb",
            Version::Ma => "ma",
            Version::Mb => "mb",
            Version::Mc => "mc",
            Version::Md => "md",
            Version::Me => "me",
            Version::Ms => "ms",
            Version::Mt => "mt",
            Version::Na => "na",
            Version::Nb => "nb",
            Version::Nc => "nc",
            Version::Oa => "oa",
            Version::Da => "da",
        }
    }

    /// Index format the version implies (ScyllaDB's `ms`/`mt` say `big` in their names but
    /// carry tries).
    pub fn format_kind(self) -> FormatKind {
        match self {
            Version::Ms | Version::Mt | Version::Da => FormatKind::Bti,
            _ => FormatKind::Big,
        }
    }

    /// Pre-3.0 cell layout in Data.db (`ka`, `la`, `lb`, `jb`, `ic`).
    pub fn is_legacy_layout(self) -> bool {
        matches!(
            self,
            Version::Ic | Version::Jb | Version::Ka | Version::La | Version::Lb
        )
    }

    /// Each partition of Data.db starts with a long data size after its key, and an int atom
    /// count after its deletion time, and has no end-of-partition marker (before 2.0's `ja`;
    /// C20 `Descriptor.Version.hasRowSizeAndColumnCount`, CASSANDRA-4180; written by C12
    /// `SSTableWriter.append`: `writeLong(dataSize)`, `serializeForSSTable`,
    /// `writeInt(builder.writtenAtomCount())`).
    pub fn has_row_size_and_column_count(self) -> bool {
        matches!(self, Version::Ic)
    }

    /// Statistics.db has the max local deletion time, the bloom filter fp chance and the
    /// min/max column names (`ja`+; C20 `Descriptor.Version.tracksMaxLocalDeletionTime`,
    /// `hasBloomFilterFPChance`, `tracksMaxMinColumnNames`, read by C20
    /// `SSTableMetadata.SSTableMetadataSerializer.deserialize`).
    pub fn has_ja_statistics_fields(self) -> bool {
        !matches!(self, Version::Ic)
    }

    /// Statistics.db is a table of metadata components (C21 `MetadataSerializer`, `ka`+);
    /// before, one unframed record (C20 `SSTableMetadata.SSTableMetadataSerializer`, read by
    /// C21 `LegacyMetadataSerializer`).
    pub fn has_metadata_component_table(self) -> bool {
        !matches!(self, Version::Ic | Version::Jb)
    }

    /// Summary.db is the off-heap layout (offsets region, LE entries; `ja`+; C20
    /// `Descriptor.Version.offHeapSummaries`). Before, C12 `IndexSummary.IndexSummarySerializer`
    /// wrote BE `long position, int-length key` entries.
    pub fn has_off_heap_summary(self) -> bool {
        !matches!(self, Version::Ic)
    }

    /// The checksum after each compressed chunk covers the compressed bytes (`jb`+; C20
    /// `Descriptor.Version.hasPostCompressionAdlerChecksums`). Before, it is a CRC32 of the
    /// uncompressed bytes (C20 `CompressedRandomAccessReader.decompressChunk`).
    pub fn has_post_compression_checksums(self) -> bool {
        !matches!(self, Version::Ic)
    }

    /// Statistics.db holds a SerializationHeader (3.0 and later).
    pub fn has_serialization_header(self) -> bool {
        !self.is_legacy_layout()
    }

    /// Local deletion times are unsigned 32-bit and DeletionTime uses the 5.0 encoding
    /// (`hasUintDeletionTime`, oa and da).
    pub fn has_uint_deletion_time(self) -> bool {
        matches!(self, Version::Oa | Version::Da)
    }

    /// Statistics carries the improved min/max clustering Slice, the partition-level
    /// deletion marker and the first/last keys (`hasImprovedMinMax`, `hasKeyRange`: nc+).
    pub fn has_improved_min_max(self) -> bool {
        matches!(self, Version::Nc | Version::Oa | Version::Da)
    }

    /// Statistics carries the token-space coverage (oa+).
    pub fn has_token_space_coverage(self) -> bool {
        matches!(self, Version::Oa | Version::Da)
    }

    /// CompressionInfo carries `maxCompressedLength`, and chunks may be stored raw (na+).
    pub fn has_max_compressed_length(self) -> bool {
        matches!(
            self,
            Version::Na | Version::Nb | Version::Nc | Version::Oa | Version::Da
        )
    }

    /// Statistics has pendingRepair and isTransient (na+).
    pub fn has_pending_repair(self) -> bool {
        self.has_max_compressed_length()
    }

    /// Statistics components are followed by CRC32s (na+).
    pub fn has_metadata_checksum(self) -> bool {
        self.has_max_compressed_length()
    }

    /// Filter.db uses the pre-4.0 bit layout.
    pub fn has_old_bloom_filter_format(self) -> bool {
        !self.has_max_compressed_length()
    }

    /// Statistics has the commit-log lower bound (lb, mb+).
    pub fn has_commit_log_lower_bound(self) -> bool {
        !matches!(
            self,
            Version::Ic | Version::Jb | Version::Ka | Version::La | Version::Ma
        )
    }

    /// Statistics has commit-log intervals (mc+).
    pub fn has_commit_log_intervals(self) -> bool {
        !matches!(
            self,
            Version::Ic
                | Version::Jb
                | Version::Ka
                | Version::La
                | Version::Lb
                | Version::Ma
                | Version::Mb
        )
    }

    /// Statistics has the originating host id (me, ms, mt, nb and later; not na).
    pub fn has_originating_host_id(self) -> bool {
        matches!(
            self,
            Version::Me
                | Version::Ms
                | Version::Mt
                | Version::Nb
                | Version::Nc
                | Version::Oa
                | Version::Da
        )
    }

    /// Statistics has the legacy min/max clustering column lists (ka..nc).
    pub fn has_legacy_min_max(self) -> bool {
        !matches!(self, Version::Oa | Version::Da)
    }

    /// The clustering min/max in Statistics can be trusted (md+; CASSANDRA-14861).
    pub fn has_accurate_min_max(self) -> bool {
        !matches!(
            self,
            Version::Ic
                | Version::Jb
                | Version::Ka
                | Version::La
                | Version::Lb
                | Version::Ma
                | Version::Mb
                | Version::Mc
        )
    }

    /// Summary.db carries the sampling level and the size at full sampling (ka+;
    /// C21 `IndexSummary.IndexSummarySerializer` `withSamplingLevel`).
    pub fn has_summary_sampling_level(self) -> bool {
        !matches!(self, Version::Ic | Version::Jb)
    }

    /// Index.db entries use fixed-width positions and sizes (long position, int size; before
    /// 3.0) instead of unsigned vints (`RowIndexEntry.Serializer`).
    pub fn has_fixed_width_index_entries(self) -> bool {
        self.is_legacy_layout()
    }

    /// Statistics has the compaction ancestors list (before 3.0).
    pub fn has_compaction_ancestors(self) -> bool {
        self.is_legacy_layout()
    }

    /// The checksum algorithm of compressed chunks and CRC.db.
    pub fn chunk_checksum(self) -> ChecksumKind {
        if self.is_legacy_layout() && self.has_post_compression_checksums() {
            ChecksumKind::Adler32
        } else {
            ChecksumKind::Crc32
        }
    }

    /// The checksum algorithm of CRC.db (uncompressed `Data.db`): CRC32 in `jb` and from 3.0 on,
    /// Adler32 in `ka`/`la`/`lb` (C21 `BigVersion.hasAllAdlerChecksums`, ka+). Differs from
    /// [`Version::chunk_checksum`] only for `jb`, whose compressed chunks already used Adler32
    /// (`hasPostCompressionAdlerChecksums`) while its CRC.db kept CRC32 (checked on the corpus).
    pub fn crc_db_checksum(self) -> ChecksumKind {
        match self {
            Version::Ka | Version::La | Version::Lb => ChecksumKind::Adler32,
            _ => ChecksumKind::Crc32,
        }
    }

    /// The file name suffix of the Digest component (`Digest.sha1` in ka, holding Adler32).
    pub fn digest_component(self) -> &'static str {
        match self {
            Version::Ic | Version::Jb | Version::Ka => "Digest.sha1",
            Version::La | Version::Lb => "Digest.adler32",
            _ => "Digest.crc32",
        }
    }

    /// The algorithm of the whole-file digest.
    pub fn digest_checksum(self) -> DigestKind {
        match self {
            Version::Ic | Version::Jb => DigestKind::Sha1,
            Version::Ka | Version::La | Version::Lb => DigestKind::Adler32,
            _ => DigestKind::Crc32,
        }
    }
}

/// Per-chunk checksum algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumKind {
    /// Adler-32 (2.x).
    Adler32,
    /// CRC-32 (3.0+).
    Crc32,
}

impl ChecksumKind {
    /// The checksum of `bytes`.
    pub fn compute(self, bytes: &[u8]) -> u32 {
        match self {
            ChecksumKind::Adler32 => adler32::adler32(bytes).unwrap_or(0),
            ChecksumKind::Crc32 => crc32fast::hash(bytes),
        }
    }
}

/// Whole-file digest algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestKind {
    /// SHA-1 (2.0 `jb`): not verified by this crate.
    Sha1,
    /// Adler-32 as decimal (2.1's `Digest.sha1` and 2.2's `Digest.adler32`).
    Adler32,
    /// CRC-32 as decimal (3.0+ `Digest.crc32`).
    Crc32,
}

impl FromStr for Version {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Version::ALL
            .iter()
            .copied()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| Error::UnsupportedVersion {
                version: s.to_string(),
                reason: if s.len() == 2 && s.as_bytes().iter().all(u8::is_ascii_lowercase) {
                    if s < "ic" {
                        "written by Cassandra 1.2.4 or older; upgrade it with Cassandra 1.2.5+'s sstableupgrade first"
                    } else {
                        "not a format this version of sstable-lake knows"
                    }
                } else {
                    "not a version string"
                },
            })
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn parse_and_capabilities() {
        for v in Version::ALL {
            assert_eq!(v.as_str().parse::<Version>().unwrap(), v);
        }
        assert_eq!("ic".parse::<Version>().unwrap(), Version::Ic);
        assert!(matches!(
            "ib".parse::<Version>(),
            Err(Error::UnsupportedVersion { .. })
        ));
        assert!(Version::Ic.has_row_size_and_column_count());
        assert!(!Version::Jb.has_row_size_and_column_count());
        assert!(!Version::Ic.has_off_heap_summary());
        assert_eq!(Version::Ic.chunk_checksum(), ChecksumKind::Crc32);
        assert_eq!(Version::Ic.digest_checksum(), DigestKind::Sha1);
        assert!(matches!(
            "zz".parse::<Version>(),
            Err(Error::UnsupportedVersion { .. })
        ));
        assert!(Version::Oa.has_uint_deletion_time());
        assert!(!Version::Nc.has_uint_deletion_time());
        assert!(Version::Nc.has_improved_min_max());
        assert!(!Version::Na.has_originating_host_id());
        assert!(Version::Me.has_originating_host_id());
        assert!(!Version::Ma.has_commit_log_lower_bound());
        assert!(Version::Lb.has_commit_log_lower_bound());
        assert_eq!(Version::Ms.format_kind(), FormatKind::Bti);
        assert_eq!(Version::Ka.chunk_checksum(), ChecksumKind::Adler32);
        assert_eq!(Version::Jb.chunk_checksum(), ChecksumKind::Adler32);
        assert_eq!(Version::Jb.crc_db_checksum(), ChecksumKind::Crc32);
        assert_eq!(Version::La.crc_db_checksum(), ChecksumKind::Adler32);
        assert_eq!(Version::Mc.crc_db_checksum(), ChecksumKind::Crc32);
        assert_eq!(Version::Ka.digest_checksum(), DigestKind::Adler32);
    }
}
