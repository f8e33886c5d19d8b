//! SSTable format versions and what each one changes, decided once and asked everywhere.
//!
//! Mirrors Cassandra's `BigFormat.BigVersion` / `BtiFormat.BtiVersion` and ScyllaDB's
//! `sstables/version.hh`. Parsers take a [`Version`] and ask capability methods
//! (`has_uint_deletion_time()`...) instead of comparing letters.
//!
//! DataStax's trie-indexed versions (`aa` … `cb`, written by DataStax Enterprise 6.x and
//! DataStax's Cassandra releases) follow datastax/cassandra
//! `src/java/org/apache/cassandra/io/sstable/format/bti/BtiFormat.java`, `BtiVersion`: its
//! constructor sets every capability from the first letter (`aOrLater`, `bOrLater`,
//! `cOrLater`, `dOrLater`) and a few second letters (`ac`, `ad`, `bb`, `cb`), and its comment
//! block names the release of each letter. `docs/datastax-formats.md` has the table.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// The index format family of a set: BIG (Index.db/Summary.db) or BTI (Partitions.db/Rows.db).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FormatKind {
    /// Classic `big` format with Index.db and Summary.db.
    Big,
    /// Trie-indexed format (Cassandra 5.0 `bti`, DataStax `aa`…`cb`, ScyllaDB `ms`/`mt`).
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
    /// DataStax Enterprise 6.0 BTI (`BtiVersion`: "aa (DSE 6.0): trie index format"): legacy
    /// min/max clustering (not trusted), pre-4.0 Bloom filter, no originating host id.
    Aa,
    /// DSE 6.0.11 / 6.7.6 BTI: `aa` with accurate legacy min/max clustering (DB-3691,
    /// CASSANDRA-14861).
    Ac,
    /// DSE 6.0.14 / 6.7.11 BTI: `ac` with the originating host id (DB-4629).
    Ad,
    /// DSE 6.8 BTI: improved min/max, the partition-deletion marker before the host id
    /// ("misplaced"), DSE-only Statistics fields (zero-copy, NodeSync, max column value
    /// lengths), new Bloom filter; encrypted indices and metadata for encrypted tables.
    Ba,
    /// DSE 6.8.5 BTI: `ba` with the originating host id.
    Bb,
    /// DataStax's Cassandra on OSS 4.0 (DSE-DB): `bb` without the DSE-only fields, with
    /// `isTransient`.
    Ca,
    /// DataStax's Cassandra on OSS 5.0: `ca` with the token-space coverage.
    Cb,
}

impl Version {
    /// All versions: Apache Cassandra's and ScyllaDB's oldest first, then DataStax's.
    pub const ALL: [Version; 24] = [
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
        Version::Aa,
        Version::Ac,
        Version::Ad,
        Version::Ba,
        Version::Bb,
        Version::Ca,
        Version::Cb,
    ];

    /// DataStax's trie-indexed versions, oldest first.
    pub const DATASTAX: [Version; 7] = [
        Version::Aa,
        Version::Ac,
        Version::Ad,
        Version::Ba,
        Version::Bb,
        Version::Ca,
        Version::Cb,
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
            Version::Aa => "aa",
            Version::Ac => "ac",
            Version::Ad => "ad",
            Version::Ba => "ba",
            Version::Bb => "bb",
            Version::Ca => "ca",
            Version::Cb => "cb",
        }
    }

    /// Index format the version implies (ScyllaDB's `ms`/`mt` say `big` in their names but
    /// carry tries).
    pub fn format_kind(self) -> FormatKind {
        if self.is_datastax() {
            return FormatKind::Bti;
        }
        match self {
            Version::Ms | Version::Mt | Version::Da => FormatKind::Bti,
            _ => FormatKind::Big,
        }
    }

    /// One of DataStax's trie-indexed versions (`aa` … `cb`; datastax/cassandra
    /// `BtiFormat.BtiVersion`: "versions aa-cz are not supported in OSS").
    pub fn is_datastax(self) -> bool {
        matches!(
            self,
            Version::Aa
                | Version::Ac
                | Version::Ad
                | Version::Ba
                | Version::Bb
                | Version::Ca
                | Version::Cb
        )
    }

    /// DataStax `b*`/`c*` (`bOrLater && !dOrLater` in `BtiVersion`).
    fn is_datastax_b_or_c(self) -> bool {
        matches!(self, Version::Ba | Version::Bb | Version::Ca | Version::Cb)
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

    /// Statistics carries the improved min/max clustering: the clustering types and the
    /// covered `Slice` (`hasImprovedMinMax`: nc+; DataStax `b*`/`c*`, where it takes the place
    /// of the legacy lists).
    pub fn has_improved_min_max(self) -> bool {
        matches!(self, Version::Nc | Version::Oa | Version::Da) || self.is_datastax_b_or_c()
    }

    /// Statistics carries the first and last partition keys (`hasKeyRange`: nc, oa, da; no
    /// DataStax version before `da`, whose keys are only in the Partitions.db footer).
    pub fn has_key_range(self) -> bool {
        matches!(self, Version::Nc | Version::Oa | Version::Da)
    }

    /// Statistics carries the partition-level-deletion presence marker after the originating
    /// host id (`hasPartitionLevelDeletionsPresenceMarker`: nc, oa, da).
    pub fn has_partition_level_deletions_marker(self) -> bool {
        matches!(self, Version::Nc | Version::Oa | Version::Da)
    }

    /// Statistics carries the partition-level-deletion presence marker *before* the
    /// originating host id, right after `isTransient` (DataStax `ba` … `cb`,
    /// `hasMisplacedPartitionLevelDeletionsPresenceMarker`: `bOrLater && !dOrLater`; the
    /// position is checked on the corpus's `cb` files).
    pub fn has_misplaced_partition_level_deletions_marker(self) -> bool {
        self.is_datastax_b_or_c()
    }

    /// Statistics carries the token-space coverage (oa+; DataStax `cb`).
    pub fn has_token_space_coverage(self) -> bool {
        matches!(self, Version::Oa | Version::Da | Version::Cb)
    }

    /// CompressionInfo carries `maxCompressedLength`, and chunks may be stored raw (na+; every
    /// DataStax version: `BtiVersion.hasMaxCompressedLength` is `true`).
    pub fn has_max_compressed_length(self) -> bool {
        matches!(
            self,
            Version::Na | Version::Nb | Version::Nc | Version::Oa | Version::Da
        ) || self.is_datastax()
    }

    /// Statistics has the pending-repair session (na+; every DataStax version).
    pub fn has_pending_repair(self) -> bool {
        self.has_max_compressed_length()
    }

    /// Statistics has `isTransient` after the pending repair (na+; DataStax `ca`, `cb` only:
    /// `BtiVersion.hasIsTransient` is `cOrLater`, "this field is not present in DSE").
    pub fn has_is_transient(self) -> bool {
        if self.is_datastax() {
            matches!(self, Version::Ca | Version::Cb)
        } else {
            self.has_pending_repair()
        }
    }

    /// Statistics has DSE 6.8's zero-copy-streaming slice (`hasZeroCopyMetadata`: `ba`, `bb`).
    pub fn has_zero_copy_metadata(self) -> bool {
        matches!(self, Version::Ba | Version::Bb)
    }

    /// Statistics has DSE 6.8's incremental NodeSync long (`hasIncrementalNodeSyncMetadata`:
    /// `ba`, `bb`).
    pub fn has_incremental_node_sync_metadata(self) -> bool {
        matches!(self, Version::Ba | Version::Bb)
    }

    /// Statistics has DSE 6.8's per-column maximum value lengths (`hasMaxColumnValueLengths`:
    /// `ba`, `bb`).
    pub fn has_max_column_value_lengths(self) -> bool {
        matches!(self, Version::Ba | Version::Bb)
    }

    /// Statistics components are followed by CRC32s (na+; every DataStax version).
    pub fn has_metadata_checksum(self) -> bool {
        self.has_max_compressed_length()
    }

    /// Filter.db uses the pre-4.0 bit layout (before na; DataStax `aa`, `ac`, `ad`:
    /// `hasOldBfFormat = aOrLater && !bOrLater`).
    pub fn has_old_bloom_filter_format(self) -> bool {
        if self.is_datastax() {
            matches!(self, Version::Aa | Version::Ac | Version::Ad)
        } else {
            !self.has_max_compressed_length()
        }
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

    /// Statistics has the originating host id (me, ms, mt, nb and later; not na; DataStax
    /// `ad`, `bb`, `ca`, `cb`: `bOrLater && >= "bb" || !bOrLater && >= "ad"`).
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
                | Version::Ad
                | Version::Bb
                | Version::Ca
                | Version::Cb
        )
    }

    /// Statistics has the legacy min/max clustering column lists (ka..nc; DataStax `aa`,
    /// `ac`, `ad`).
    pub fn has_legacy_min_max(self) -> bool {
        !matches!(self, Version::Oa | Version::Da) && !self.is_datastax_b_or_c()
    }

    /// The clustering min/max in Statistics can be trusted (md+, CASSANDRA-14861; DataStax
    /// `ac`+, DB-3691: its legacy lists from `ac`, its improved Slice from `ba`).
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
                | Version::Aa
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
                reason: unknown_version_reason(s),
            })
    }
}

/// Why `s` is not a version this crate reads.
fn unknown_version_reason(s: &str) -> &'static str {
    let b = s.as_bytes();
    if b.len() != 2 || !b.iter().all(u8::is_ascii_lowercase) {
        return "not a version string";
    }
    match b.first() {
        // datastax/cassandra `BtiVersion`: "ab (DSE pre-6.8): ILLEGAL - handled as 'b'".
        Some(b'a') if s == "ab" => {
            "a pre-GA DSE 6.8 (\"LABS\") trie-indexed version that this sstable-lake does not read"
        }
        Some(b'a'..=b'c') => {
            "a DataStax (DSE 6.x / DataStax Cassandra) trie-indexed version that this sstable-lake \
             does not read (it reads aa, ac, ad, ba, bb, ca and cb)"
        }
        // 0.x wrote e*…g*, 1.0 to 1.2.4 h*/i* (`hb` … `ib`); `ic` (1.2.5+) is read.
        Some(b'e'..=b'i') if s < "ic" => {
            "written by Cassandra 1.2.4 or older; upgrade it with Cassandra 1.2.5+'s sstableupgrade first"
        }
        Some(b'j') if s == "ja" => {
            "written by Cassandra 2.0.0, which this sstable-lake does not read; upgrade it with \
             Cassandra 2.x's sstableupgrade first"
        }
        _ => "not a format this version of sstable-lake knows",
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

    /// Each DataStax letter against datastax/cassandra `BtiFormat.BtiVersion` (and the ranges of
    /// its `VersionSupportedFeaturesTest`): legacy min/max aa..az, accurate legacy min/max
    /// ac..az, host id ad..az and bb.., improved min/max ba.., misplaced marker ba..cz,
    /// zero-copy / NodeSync / max column value lengths ba..bz, isTransient ca.., token-space
    /// coverage cb.., old Bloom filter aa..az; key range, the 5.0 marker and unsigned deletion
    /// times only from da.
    #[test]
    fn datastax_capabilities_per_letter() {
        // (version, legacy min/max, accurate, host id, improved, misplaced marker, DSE 6.8
        // fields, isTransient, token-space coverage, old Bloom filter)
        let table = [
            (
                Version::Aa,
                true,
                false,
                false,
                false,
                false,
                false,
                false,
                false,
                true,
            ),
            (
                Version::Ac,
                true,
                true,
                false,
                false,
                false,
                false,
                false,
                false,
                true,
            ),
            (
                Version::Ad,
                true,
                true,
                true,
                false,
                false,
                false,
                false,
                false,
                true,
            ),
            (
                Version::Ba,
                false,
                true,
                false,
                true,
                true,
                true,
                false,
                false,
                false,
            ),
            (
                Version::Bb,
                false,
                true,
                true,
                true,
                true,
                true,
                false,
                false,
                false,
            ),
            (
                Version::Ca,
                false,
                true,
                true,
                true,
                true,
                false,
                true,
                false,
                false,
            ),
            (
                Version::Cb,
                false,
                true,
                true,
                true,
                true,
                false,
                true,
                true,
                false,
            ),
        ];
        assert_eq!(table.map(|t| t.0), Version::DATASTAX);
        for (v, legacy, accurate, host, improved, misplaced, dse68, transient, tsc, old_bf) in table
        {
            assert!(v.is_datastax(), "{v}");
            assert_eq!(v.as_str().parse::<Version>().unwrap(), v);
            assert_eq!(v.format_kind(), FormatKind::Bti, "{v}");
            assert_eq!(v.has_legacy_min_max(), legacy, "{v}");
            assert_eq!(v.has_accurate_min_max(), accurate, "{v}");
            assert_eq!(v.has_originating_host_id(), host, "{v}");
            assert_eq!(v.has_improved_min_max(), improved, "{v}");
            assert_eq!(
                v.has_misplaced_partition_level_deletions_marker(),
                misplaced,
                "{v}"
            );
            assert_eq!(v.has_zero_copy_metadata(), dse68, "{v}");
            assert_eq!(v.has_incremental_node_sync_metadata(), dse68, "{v}");
            assert_eq!(v.has_max_column_value_lengths(), dse68, "{v}");
            assert_eq!(v.has_is_transient(), transient, "{v}");
            assert_eq!(v.has_token_space_coverage(), tsc, "{v}");
            assert_eq!(v.has_old_bloom_filter_format(), old_bf, "{v}");
            // What every DataStax letter shares with da, and what none has before da.
            assert!(
                v.has_serialization_header() && v.has_pending_repair(),
                "{v}"
            );
            assert!(
                v.has_metadata_checksum() && v.has_max_compressed_length(),
                "{v}"
            );
            assert!(
                v.has_commit_log_lower_bound() && v.has_commit_log_intervals(),
                "{v}"
            );
            assert!(!v.has_uint_deletion_time(), "{v}");
            assert!(!v.has_key_range(), "{v}");
            assert!(!v.has_partition_level_deletions_marker(), "{v}");
            assert!(
                !v.is_legacy_layout() && !v.has_compaction_ancestors(),
                "{v}"
            );
            assert_eq!(v.chunk_checksum(), ChecksumKind::Crc32);
            assert_eq!(v.digest_component(), "Digest.crc32");
        }
        // Apache Cassandra's versions keep their capabilities.
        for v in [Version::Nc, Version::Oa, Version::Da] {
            assert!(
                v.has_key_range() && v.has_partition_level_deletions_marker(),
                "{v}"
            );
            assert!(!v.has_misplaced_partition_level_deletions_marker(), "{v}");
            assert!(!v.is_datastax() && !v.has_zero_copy_metadata(), "{v}");
        }
        assert!(Version::Na.has_is_transient() && !Version::Me.has_is_transient());
        assert!(Version::Me.has_old_bloom_filter_format());
        assert!(!Version::Na.has_old_bloom_filter_format());
        assert!(!Version::Mc.has_accurate_min_max() && Version::Md.has_accurate_min_max());
    }

    #[test]
    fn unknown_letters_say_who_wrote_them() {
        let reason = |s: &str| match s.parse::<Version>() {
            Err(Error::UnsupportedVersion { version, reason }) => {
                assert_eq!(version, s);
                reason
            }
            other => panic!("{s}: {other:?}"),
        };
        // DataStax letters this crate does not read: never blamed on Cassandra 1.x.
        for s in ["ae", "az", "bc", "cc", "cz"] {
            let r = reason(s);
            assert!(
                r.contains("DataStax") && r.contains("aa, ac, ad"),
                "{s}: {r}"
            );
        }
        assert!(reason("ab").contains("pre-GA DSE 6.8"));
        for s in ["hb", "ia", "ib"] {
            assert!(reason(s).contains("Cassandra 1.2.4 or older"), "{s}");
        }
        assert!(reason("ja").contains("Cassandra 2.0.0"));
        for s in ["db", "ob", "zz"] {
            assert!(reason(s).contains("not a format"), "{s}");
        }
        for s in ["", "a", "aaa", "A1", "Aa"] {
            assert_eq!(reason(s), "not a version string", "{s:?}");
        }
    }
}
