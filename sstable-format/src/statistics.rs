//! `Statistics.db`: the sstable's metadata (partitioner, size and timestamp statistics, repair
//! state, clustering bounds) and, from 3.0 (`ma`), the serialization header that decodes
//! `Data.db`.
//!
//! Mirrors Cassandra's `io/sstable/metadata/MetadataSerializer` (the offsets table and, from
//! `na`, its CRC32s), `ValidationMetadata`, `CompactionMetadata`, `StatsMetadata`
//! (`StatsMetadataSerializer`) and `db/SerializationHeader` (`SerializationHeader.Serializer`,
//! `db/rows/EncodingStats.Serializer`). ScyllaDB writes the same layout (`sstables/types.hh`).
//! DataStax's `aa` … `cb` follow datastax/cassandra `StatsMetadata.StatsMetadataSerializer`
//! (DSE-only fields, the partition-deletion marker before the host id; see
//! `docs/datastax-formats.md`).
//!
//! Components are located through the offsets table, never by parsing one after the other, so
//! a padded component does not shift the others.

use std::fmt;

use crate::cursor::Cursor;
use crate::data::{BoundKind, Layout};
use crate::error::{Component, Error, Result};
use crate::types::CqlType;
use crate::version::Version;

/// `EncodingStats.TIMESTAMP_EPOCH`: 2015-09-22T00:00Z in microseconds.
pub const TIMESTAMP_EPOCH: i64 = 1_442_880_000_000_000;
/// `EncodingStats.DELETION_TIME_EPOCH`: 2015-09-22T00:00Z in seconds.
pub const DELETION_TIME_EPOCH: i32 = 1_442_880_000;

const COMPONENT: Component = Component::Statistics;

/// A 128-bit UUID as stored (most significant long first).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Uuid(pub [u8; 16]);

impl Uuid {
    /// Reads 16 bytes (msb long, lsb long).
    pub(crate) fn read(c: &mut Cursor<'_>, what: &'static str) -> Result<Uuid> {
        Ok(Uuid(c.read_array(what)?))
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uuid({self})")
    }
}

/// The metadata component kinds of the offsets table (`MetadataType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetadataType {
    /// `VALIDATION` (0): partitioner and bloom filter chance.
    Validation,
    /// `COMPACTION` (1): ancestors (2.x) and the cardinality estimator.
    Compaction,
    /// `STATS` (2): statistics.
    Stats,
    /// `HEADER` (3, ma+): the serialization header.
    Header,
}

impl MetadataType {
    fn from_ordinal(o: i32) -> Option<MetadataType> {
        Some(match o {
            0 => MetadataType::Validation,
            1 => MetadataType::Compaction,
            2 => MetadataType::Stats,
            3 => MetadataType::Header,
            _ => return None,
        })
    }
}

/// One entry of the offsets table: where a component's body lies in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetadataEntry {
    /// Component kind.
    pub kind: MetadataType,
    /// Absolute offset of the body.
    pub offset: u64,
    /// Body length (without the trailing CRC32 in na+).
    pub len: u64,
}

/// `ValidationMetadata`.
#[derive(Debug, Clone, PartialEq)]
pub struct Validation {
    /// Partitioner class name (e.g. `org.apache.cassandra.dht.Murmur3Partitioner`).
    pub partitioner: String,
    /// Bloom filter false-positive chance.
    pub bloom_filter_fp_chance: f64,
}

impl Validation {
    /// The partitioner's simple class name (`Murmur3Partitioner`).
    pub fn partitioner_name(&self) -> &str {
        self.partitioner
            .rsplit('.')
            .next()
            .unwrap_or(&self.partitioner)
    }
}

/// `CompactionMetadata`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compaction {
    /// Generations of the sstables this one was compacted from (2.x only; empty later).
    pub ancestors: Vec<i32>,
    /// Serialized HyperLogLogPlus cardinality estimator (opaque).
    pub cardinality: Vec<u8>,
}

/// `utils/EstimatedHistogram`: `buckets[i]` counts values in `(offsets[i-1], offsets[i]]`;
/// the last bucket counts values above the largest offset (overflow).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EstimatedHistogram {
    /// Bucket upper bounds (one fewer than `buckets`).
    pub offsets: Vec<i64>,
    /// Bucket counts; the last one is the overflow bucket.
    pub buckets: Vec<i64>,
}

impl EstimatedHistogram {
    fn read(c: &mut Cursor<'_>, what: &'static str) -> Result<EstimatedHistogram> {
        let n = c.read_len_i32(what)?;
        if n.saturating_mul(16) > c.remaining() {
            return Err(c.invalid(format!("{what}: {n} buckets do not fit the component")));
        }
        let mut offsets = Vec::with_capacity(n.saturating_sub(1));
        let mut buckets = Vec::with_capacity(n);
        for i in 0..n {
            let offset = c.read_i64(what)?;
            if i > 0 {
                offsets.push(offset);
            }
            buckets.push(c.read_i64(what)?);
        }
        Ok(EstimatedHistogram { offsets, buckets })
    }

    /// The total number of values recorded (overflow included).
    pub fn count(&self) -> i64 {
        self.buckets.iter().fold(0i64, |a, b| a.saturating_add(*b))
    }

    /// Whether values above the largest bucket were recorded.
    pub fn is_overflowed(&self) -> bool {
        self.buckets.last().is_some_and(|b| *b > 0)
    }

    /// The mean as Cassandra estimates it (each value counted as its bucket's upper bound,
    /// rounded up); `None` when empty or overflowed.
    pub fn mean(&self) -> Option<i64> {
        if self.is_overflowed() {
            return None;
        }
        let (mut elements, mut sum) = (0f64, 0f64);
        for (count, offset) in self.buckets.iter().zip(&self.offsets) {
            elements += *count as f64;
            sum += *count as f64 * *offset as f64;
        }
        (elements > 0.0).then(|| (sum / elements).ceil() as i64)
    }

    /// The largest recorded value's bucket bound; `None` when overflowed, 0 when empty.
    pub fn max(&self) -> Option<i64> {
        if self.is_overflowed() {
            return None;
        }
        Some(
            self.buckets
                .iter()
                .zip(&self.offsets)
                .rev()
                .find(|(count, _)| **count > 0)
                .map_or(0, |(_, offset)| *offset),
        )
    }
}

/// The tombstone drop-time histogram (`StreamingHistogram` / `TombstoneHistogram`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TombstoneHistogram {
    /// The stored maximum bin count.
    pub max_bin_size: Option<i32>,
    /// (local deletion time in seconds, tombstone count) bins.
    pub bins: Vec<(f64, i64)>,
}

impl TombstoneHistogram {
    fn read(c: &mut Cursor<'_>, version: Version) -> Result<TombstoneHistogram> {
        const WHAT: &str = "tombstone histogram";
        if version.has_uint_deletion_time() {
            // 5.0 TombstoneHistogram.HistogramSerializer: int maxBin, int size, then size x
            // (long point, int count). Its serializedSize() counts 16 bytes per bin, so the
            // pre-sized STATS body ends in 4 zero bytes per bin (read_stats accepts them). The
            // corpus's oa/da files have empty histograms, so the bin layout is from the code.
            let max_bin = c.read_i32(WHAT)?;
            let n = c.read_len_i32(WHAT)?;
            if n.saturating_mul(12) > c.remaining() {
                return Err(c.invalid(format!("{WHAT}: {n} bins do not fit the component")));
            }
            let mut bins = Vec::with_capacity(n);
            for _ in 0..n {
                let point = c.read_i64(WHAT)?;
                let count = c.read_i32(WHAT)?;
                bins.push((point as f64, i64::from(count)));
            }
            Ok(TombstoneHistogram {
                max_bin_size: Some(max_bin),
                bins,
            })
        } else {
            // LegacyHistogramSerializer / StreamingHistogram: int maxBin, int size, size x
            // (double point, long count).
            let max_bin = c.read_i32(WHAT)?;
            let n = c.read_len_i32(WHAT)?;
            if n.saturating_mul(16) > c.remaining() {
                return Err(c.invalid(format!("{WHAT}: {n} bins do not fit the component")));
            }
            let mut bins = Vec::with_capacity(n);
            for _ in 0..n {
                let point = c.read_f64(WHAT)?;
                let count = c.read_i64(WHAT)?;
                bins.push((point, count));
            }
            Ok(TombstoneHistogram {
                max_bin_size: Some(max_bin),
                bins,
            })
        }
    }
}

/// A commit-log position (`CommitLogPosition`, `ReplayPosition` in 2.x).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CommitLogPosition {
    /// Segment id.
    pub segment_id: i64,
    /// Position in the segment.
    pub position: i32,
}

impl CommitLogPosition {
    fn read(c: &mut Cursor<'_>) -> Result<CommitLogPosition> {
        Ok(CommitLogPosition {
            segment_id: c.read_i64("commit log segment")?,
            position: c.read_i32("commit log position")?,
        })
    }
}

/// A clustering bound of the covered-clustering Slice (`ClusteringBound`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusteringBound {
    /// `ClusteringPrefix.Kind` ordinal as stored.
    pub kind_ordinal: u8,
    /// Values of the bound's prefix, raw (`None` = null).
    pub values: Vec<Option<Vec<u8>>>,
}

impl ClusteringBound {
    /// The bound kind, when the ordinal is a bound or boundary kind.
    pub fn kind(&self) -> Option<BoundKind> {
        Some(match self.kind_ordinal {
            0 => BoundKind::ExclEndBound,
            1 => BoundKind::InclStartBound,
            2 => BoundKind::ExclEndInclStartBoundary,
            5 => BoundKind::InclEndExclStartBoundary,
            6 => BoundKind::InclEndBound,
            7 => BoundKind::ExclStartBound,
            _ => return None,
        })
    }

    fn read(c: &mut Cursor<'_>, types: &[CqlType]) -> Result<ClusteringBound> {
        let at = c.offset();
        let kind_ordinal = c.read_u8("clustering bound kind")?;
        if kind_ordinal > 9 {
            return Err(c.invalid_at(at, format!("bad clustering kind {kind_ordinal}")));
        }
        let size = usize::from(c.read_u16("clustering bound size")?);
        if size > types.len() {
            return Err(c.invalid_at(
                at,
                format!(
                    "clustering bound has {size} values but there are {} clustering types",
                    types.len()
                ),
            ));
        }
        let values = read_clustering_values(c, types.get(..size).unwrap_or(&[]))?;
        Ok(ClusteringBound {
            kind_ordinal,
            values,
        })
    }
}

/// Reads clustering values without size (`ClusteringPrefix.Serializer.deserializeValuesWithoutSize`):
/// per 32 values a uvint header with 2 bits each (empty, null), then each present value.
fn read_clustering_values(c: &mut Cursor<'_>, types: &[CqlType]) -> Result<Vec<Option<Vec<u8>>>> {
    let mut out = Vec::with_capacity(types.len());
    let mut header = 0u64;
    for (i, ty) in types.iter().enumerate() {
        if i % 32 == 0 {
            header = c.read_uvint("clustering header")?;
        }
        let shift = (i % 32) * 2;
        let empty = (header >> shift) & 1 != 0;
        let null = (header >> (shift + 1)) & 1 != 0;
        if null {
            out.push(None);
        } else if empty {
            out.push(Some(Vec::new()));
        } else {
            let v = match ty.fixed_length() {
                Some(n) => c.read_bytes(n, "clustering value")?,
                None => c.read_vint_bytes("clustering value")?,
            };
            out.push(Some(v.to_vec()));
        }
    }
    Ok(out)
}

/// The improved min/max clustering (nc+): the clustering types and the covered `Slice`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoveredClustering {
    /// Clustering types as stored with the slice.
    pub types: Vec<CqlType>,
    /// Slice start (smallest clustering, inclusive start bound normally).
    pub start: ClusteringBound,
    /// Slice end.
    pub end: ClusteringBound,
}

/// `StatsMetadata`.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// Estimated partition sizes in bytes.
    pub partition_sizes: EstimatedHistogram,
    /// Estimated cells per partition.
    pub cells_per_partition: EstimatedHistogram,
    /// Commit-log upper bound (the replay position in 2.x).
    pub commit_log_upper_bound: CommitLogPosition,
    /// Smallest write timestamp (µs).
    pub min_timestamp: i64,
    /// Largest write timestamp (µs).
    pub max_timestamp: i64,
    /// Smallest local deletion time in seconds; `None` when there is none or the version does
    /// not store it (2.x).
    pub min_local_deletion_time: Option<i64>,
    /// Largest local deletion time in seconds; `None` when there is none.
    pub max_local_deletion_time: Option<i64>,
    /// Smallest TTL (3.0+; 0 means no TTL).
    pub min_ttl: Option<i32>,
    /// Largest TTL (3.0+).
    pub max_ttl: Option<i32>,
    /// Compression ratio (-1.0 when uncompressed).
    pub compression_ratio: f64,
    /// Tombstone drop-time histogram.
    pub tombstone_histogram: TombstoneHistogram,
    /// Leveled compaction level.
    pub sstable_level: i32,
    /// Repair time (ms since epoch), 0 when unrepaired.
    pub repaired_at: i64,
    /// Legacy minimum clustering values (ka..nc; DataStax `aa`, `ac`, `ad`), raw; unreliable
    /// before md (and in DataStax `aa`).
    pub legacy_min_clustering: Option<Vec<Vec<u8>>>,
    /// Legacy maximum clustering values (ka..nc), raw.
    pub legacy_max_clustering: Option<Vec<Vec<u8>>>,
    /// Improved min/max (nc+; DataStax `ba`…`cb`).
    pub covered_clustering: Option<CoveredClustering>,
    /// Whether pre-2.1 counter shards may be present.
    pub has_legacy_counter_shards: bool,
    /// Total columns set (3.0+).
    pub total_columns_set: Option<i64>,
    /// Total rows (3.0+).
    pub total_rows: Option<i64>,
    /// Commit-log lower bound (lb, mb+).
    pub commit_log_lower_bound: Option<CommitLogPosition>,
    /// Commit-log intervals covered (mc+).
    pub commit_log_intervals: Option<Vec<(CommitLogPosition, CommitLogPosition)>>,
    /// Pending repair session (na+, when set).
    pub pending_repair: Option<Uuid>,
    /// Transient replica data (na+; DataStax `ca`, `cb`).
    pub is_transient: Option<bool>,
    /// Host that wrote the sstable (me, nb+; DataStax `ad`, `bb`, `ca`, `cb`; when set).
    pub originating_host_id: Option<Uuid>,
    /// Whether a partition-level deletion is present (nc+; DataStax `ba`…`cb`).
    pub has_partition_level_deletions: Option<bool>,
    /// First partition key, serialized (nc, oa, da: [`Version::has_key_range`]).
    pub first_key: Option<Vec<u8>>,
    /// Last partition key, serialized (nc, oa, da).
    pub last_key: Option<Vec<u8>>,
    /// Fraction of the token space covered (oa+; DataStax `cb`).
    pub token_space_coverage: Option<f64>,
}

/// `EncodingStats`: the bases of the delta-encoded values in Data.db (already added to the
/// epochs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EncodingStats {
    /// Minimum timestamp (µs).
    pub min_timestamp: i64,
    /// Minimum local deletion time (seconds; unsigned 32-bit in oa/da).
    pub min_local_deletion_time: i64,
    /// Minimum TTL.
    pub min_ttl: i64,
}

/// A column of the serialization header.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ColumnSpec {
    /// Column name bytes.
    pub name: Vec<u8>,
    /// Column type.
    pub ty: CqlType,
}

impl ColumnSpec {
    /// The name as text (lossy).
    pub fn name_str(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.name)
    }
}

/// `SerializationHeader` (ma+).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerializationHeader {
    /// Delta-encoding bases.
    pub encoding_stats: EncodingStats,
    /// Partition key type (`Composite` for multi-column keys).
    pub partition_key_type: CqlType,
    /// Clustering column types (`Reversed` for DESC).
    pub clustering_types: Vec<CqlType>,
    /// Static columns in file order.
    pub static_columns: Vec<ColumnSpec>,
    /// Regular columns in file order.
    pub regular_columns: Vec<ColumnSpec>,
}

impl SerializationHeader {
    /// The static (`statics = true`) or regular columns in row order: a stable partition of the
    /// file order into simple columns first, then multi-cell ones. This is the index space of
    /// the column bitmaps and the order of cells in rows (Cassandra writes this order already;
    /// ScyllaDB writes schema order).
    pub fn ordered_columns(&self, statics: bool) -> Vec<&ColumnSpec> {
        let cols = if statics {
            &self.static_columns
        } else {
            &self.regular_columns
        };
        cols.iter()
            .filter(|c| !c.ty.is_multi_cell())
            .chain(cols.iter().filter(|c| c.ty.is_multi_cell()))
            .collect()
    }

    /// The decoder layout of `Data.db` for this header.
    pub fn layout(&self, version: Version) -> Result<Layout> {
        let statics: Vec<&CqlType> = self.ordered_columns(true).iter().map(|c| &c.ty).collect();
        let regulars: Vec<&CqlType> = self.ordered_columns(false).iter().map(|c| &c.ty).collect();
        let s = self.encoding_stats;
        Layout::new(
            version,
            (s.min_timestamp, s.min_local_deletion_time, s.min_ttl),
            &self.clustering_types,
            &statics,
            &regulars,
        )
    }

    fn read(c: &mut Cursor<'_>, version: Version) -> Result<SerializationHeader> {
        let ts = c.read_uvint("encoding stats min timestamp")?;
        let ldt = c.read_uvint("encoding stats min local deletion time")?;
        let ttl = c.read_uvint("encoding stats min ttl")?;
        // Java adds the epochs in long (timestamp) and int (deletion time): 32-bit wrap.
        let min_ldt = (ldt as i32).wrapping_add(DELETION_TIME_EPOCH);
        let encoding_stats = EncodingStats {
            min_timestamp: (ts as i64).wrapping_add(TIMESTAMP_EPOCH),
            min_local_deletion_time: if version.has_uint_deletion_time() {
                i64::from(min_ldt as u32)
            } else {
                i64::from(min_ldt)
            },
            min_ttl: i64::from(ttl as i32),
        };
        let partition_key_type = read_type(c)?;
        let n = read_count(c, "clustering type count")?;
        let mut clustering_types = Vec::with_capacity(n);
        for _ in 0..n {
            clustering_types.push(read_type(c)?);
        }
        let static_columns = read_columns(c)?;
        let regular_columns = read_columns(c)?;
        Ok(SerializationHeader {
            encoding_stats,
            partition_key_type,
            clustering_types,
            static_columns,
            regular_columns,
        })
    }
}

/// A count stored as uvint; each counted item takes at least one byte.
fn read_count(c: &mut Cursor<'_>, what: &'static str) -> Result<usize> {
    let at = c.offset();
    let n = c.read_uvint(what)?;
    match usize::try_from(n) {
        Ok(n) if n <= c.remaining() => Ok(n),
        _ => Err(c.invalid_at(at, format!("{what} {n} exceeds the component"))),
    }
}

/// A type string: uvint length + UTF-8 (`AbstractTypeSerializer`).
fn read_type(c: &mut Cursor<'_>) -> Result<CqlType> {
    let at = c.offset();
    let raw = c.read_vint_bytes("type string")?;
    let s = std::str::from_utf8(raw).map_err(|_| c.invalid_at(at, "type string is not UTF-8"))?;
    CqlType::parse_type_string(s).map_err(|e| c.invalid_at(at, e.to_string()))
}

fn read_columns(c: &mut Cursor<'_>) -> Result<Vec<ColumnSpec>> {
    let n = read_count(c, "column count")?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let name = c.read_vint_bytes("column name")?.to_vec();
        let ty = read_type(c)?;
        out.push(ColumnSpec { name, ty });
    }
    Ok(out)
}

/// A parsed `Statistics.db`.
#[derive(Debug, Clone, PartialEq)]
pub struct Statistics {
    /// The format version the file was parsed as.
    pub version: Version,
    /// The offsets table.
    pub entries: Vec<MetadataEntry>,
    /// `VALIDATION`, when present.
    pub validation: Option<Validation>,
    /// `COMPACTION`, when present.
    pub compaction: Option<Compaction>,
    /// `STATS`, when present.
    pub stats: Option<Stats>,
    /// `HEADER` (ma+), when present.
    pub header: Option<SerializationHeader>,
}

impl Statistics {
    /// Parses a whole `Statistics.db` of format `version`, verifying the na+ CRC32s.
    pub fn parse(bytes: &[u8], version: Version) -> Result<Statistics> {
        if !version.has_metadata_component_table() {
            return parse_legacy(bytes, version);
        }
        let entries = read_offsets_table(bytes, version)?;
        let mut out = Statistics {
            version,
            entries: entries.clone(),
            validation: None,
            compaction: None,
            stats: None,
            header: None,
        };
        for e in &entries {
            let body = body_cursor(bytes, e, version)?;
            match e.kind {
                MetadataType::Validation => out.validation = Some(read_validation(body)?),
                MetadataType::Compaction => out.compaction = Some(read_compaction(body, version)?),
                MetadataType::Stats => out.stats = Some(read_stats(body, version)?),
                MetadataType::Header => {
                    if !version.has_serialization_header() {
                        return Err(Error::invalid(
                            COMPONENT,
                            e.offset,
                            format!("serialization header in a {version} file"),
                        ));
                    }
                    let mut c = body;
                    let h = SerializationHeader::read(&mut c, version)?;
                    c.expect_end("serialization header")?;
                    out.header = Some(h);
                }
            }
        }
        Ok(out)
    }
}

/// `jb` (Cassandra 2.0) Statistics.db: one unframed record, read as Cassandra 2.1+
/// `io/sstable/metadata/LegacyMetadataSerializer.deserialize` does: partition-size and
/// column-count histograms, replay position, min/max timestamp, max local deletion time, bloom
/// filter fp chance, compression ratio, partitioner (writeUTF), ancestors (int count + ints),
/// tombstone histogram (StreamingHistogram), sstable level (only if bytes remain), then min and
/// max column names (int count + short-length blobs). No offsets table ([`Statistics::entries`]
/// is empty); fields the layout lacks are left `None` (min deletion time, TTLs, rows), the
/// repair time is 0 (unrepaired) and legacy counter shards are assumed, as Cassandra does.
///
/// `ic` (Cassandra 1.2.5+) lacks the max local deletion time, the bloom filter fp chance and
/// the min/max column names (C20 `SSTableMetadataSerializer.deserialize`: read only when
/// `tracksMaxLocalDeletionTime`, `hasBloomFilterFPChance`, `tracksMaxMinColumnNames`, all `ja`+);
/// its level is read, as for `jb`, only if bytes remain.
fn parse_legacy(bytes: &[u8], version: Version) -> Result<Statistics> {
    let mut c = Cursor::new(bytes, COMPONENT);
    let c = &mut c;
    let partition_sizes = EstimatedHistogram::read(c, "partition size histogram")?;
    let cells_per_partition = EstimatedHistogram::read(c, "column count histogram")?;
    let commit_log_upper_bound = CommitLogPosition::read(c)?;
    let min_timestamp = c.read_i64("min timestamp")?;
    let max_timestamp = c.read_i64("max timestamp")?;
    let ja = version.has_ja_statistics_fields();
    let max_ldt = if ja {
        c.read_i32("max local deletion time")?
    } else {
        i32::MAX
    };
    // C20 `SSTableMetadata.NO_BLOOM_FLITER_FP_CHANCE` when the file does not record it.
    let bloom_filter_fp_chance = if ja {
        c.read_f64("bloom filter fp chance")?
    } else {
        -1.0
    };
    let compression_ratio = c.read_f64("compression ratio")?;
    let partitioner = c.read_utf("partitioner")?;
    let n = c.read_len_i32("ancestor count")?;
    if n.saturating_mul(4) > c.remaining() {
        return Err(c.invalid(format!("{n} ancestors do not fit the component")));
    }
    let mut ancestors = Vec::with_capacity(n);
    for _ in 0..n {
        ancestors.push(c.read_i32("ancestor")?);
    }
    let tombstone_histogram = TombstoneHistogram::read(c, version)?;
    // Cassandra reads the level only if bytes remain, then the column names unconditionally;
    // a file that ends after the histogram is accepted with level 0 and no names.
    let (sstable_level, legacy_min_clustering, legacy_max_clustering) = if c.is_empty() {
        (0, Vec::new(), Vec::new())
    } else if !ja {
        (c.read_i32("sstable level")?, Vec::new(), Vec::new())
    } else {
        (
            c.read_i32("sstable level")?,
            read_legacy_clustering(c)?,
            read_legacy_clustering(c)?,
        )
    };
    c.expect_end("legacy statistics")?;
    Ok(Statistics {
        version,
        entries: Vec::new(),
        validation: Some(Validation {
            partitioner,
            bloom_filter_fp_chance,
        }),
        compaction: Some(Compaction {
            ancestors,
            cardinality: Vec::new(),
        }),
        stats: Some(Stats {
            partition_sizes,
            cells_per_partition,
            commit_log_upper_bound,
            min_timestamp,
            max_timestamp,
            min_local_deletion_time: None,
            max_local_deletion_time: (max_ldt != i32::MAX).then_some(i64::from(max_ldt)),
            min_ttl: None,
            max_ttl: None,
            compression_ratio,
            tombstone_histogram,
            sstable_level,
            repaired_at: 0,
            legacy_min_clustering: Some(legacy_min_clustering),
            legacy_max_clustering: Some(legacy_max_clustering),
            covered_clustering: None,
            has_legacy_counter_shards: true,
            total_columns_set: None,
            total_rows: None,
            commit_log_lower_bound: None,
            commit_log_intervals: None,
            pending_repair: None,
            is_transient: None,
            originating_host_id: None,
            has_partition_level_deletions: None,
            first_key: None,
            last_key: None,
            token_space_coverage: None,
        }),
        header: None,
    })
}

fn check_crc(c: &mut Cursor<'_>, covered: &[u8], covered_at: u64) -> Result<()> {
    let stored = c.read_u32("metadata checksum")?;
    let computed = crc32fast::hash(covered);
    if stored == computed {
        Ok(())
    } else {
        Err(Error::ChecksumMismatch {
            component: COMPONENT,
            chunk: 0,
            offset: covered_at,
            stored,
            computed,
        })
    }
}

fn read_offsets_table(bytes: &[u8], version: Version) -> Result<Vec<MetadataEntry>> {
    let mut c = Cursor::new(bytes, COMPONENT);
    let count = c.read_len_i32("metadata component count")?;
    if count > 16 {
        return Err(Error::invalid(
            COMPONENT,
            0,
            format!("{count} metadata components (at most 4 exist)"),
        ));
    }
    let checksummed = version.has_metadata_checksum();
    if checksummed {
        check_crc(&mut c, bytes.get(..4).unwrap_or(&[]), 0)?;
    }
    let table_start = c.position();
    let mut raw = Vec::with_capacity(count);
    for _ in 0..count {
        let at = c.offset();
        let ordinal = c.read_i32("metadata type")?;
        let kind = MetadataType::from_ordinal(ordinal).ok_or_else(|| {
            Error::invalid(COMPONENT, at, format!("unknown metadata type {ordinal}"))
        })?;
        let off_at = c.offset();
        let offset = c.read_i32("metadata offset")?;
        let offset = u64::try_from(offset)
            .map_err(|_| Error::invalid(COMPONENT, off_at, format!("negative offset {offset}")))?;
        if raw
            .iter()
            .any(|(k, _, _): &(MetadataType, u64, u64)| *k == kind)
        {
            return Err(Error::invalid(
                COMPONENT,
                at,
                format!("duplicate {kind:?} entry"),
            ));
        }
        raw.push((kind, offset, off_at));
    }
    if checksummed {
        // The running CRC covers the count and all the entries (its first 4 bytes are the count).
        let mut covered = bytes.get(..4).unwrap_or(&[]).to_vec();
        covered.extend_from_slice(bytes.get(table_start..c.position()).unwrap_or(&[]));
        check_crc(&mut c, &covered, 0)?;
    }
    let header_end = c.offset();
    let file_len = bytes.len() as u64;
    let mut sorted: Vec<u64> = raw.iter().map(|(_, o, _)| *o).collect();
    sorted.sort_unstable();
    let trailer = if checksummed { 4 } else { 0 };
    let mut entries = Vec::with_capacity(raw.len());
    for (kind, offset, off_at) in raw {
        if offset < header_end || offset > file_len {
            return Err(Error::invalid(
                COMPONENT,
                off_at,
                format!("{kind:?} offset {offset} outside the bodies ({header_end}..{file_len})"),
            ));
        }
        let end = sorted
            .iter()
            .copied()
            .find(|o| *o > offset)
            .unwrap_or(file_len);
        let len = (end - offset).checked_sub(trailer).ok_or_else(|| {
            Error::invalid(
                COMPONENT,
                offset,
                format!("{kind:?} body too short for its CRC"),
            )
        })?;
        entries.push(MetadataEntry { kind, offset, len });
    }
    Ok(entries)
}

/// A cursor over one component body, its CRC (na+) verified.
fn body_cursor<'a>(bytes: &'a [u8], e: &MetadataEntry, version: Version) -> Result<Cursor<'a>> {
    let mut c = Cursor::new(bytes, COMPONENT);
    let start =
        usize::try_from(e.offset).map_err(|_| Error::invalid(COMPONENT, e.offset, "offset"))?;
    let len = usize::try_from(e.len).map_err(|_| Error::invalid(COMPONENT, e.offset, "length"))?;
    c.skip(start, "metadata component")?;
    let body = c.split(len, "metadata component")?;
    if version.has_metadata_checksum() {
        check_crc(&mut c, body.rest(), e.offset)?;
    }
    Ok(body)
}

fn read_validation(mut c: Cursor<'_>) -> Result<Validation> {
    let partitioner = c.read_utf("partitioner")?;
    let bloom_filter_fp_chance = c.read_f64("bloom filter fp chance")?;
    c.expect_end("validation metadata")?;
    Ok(Validation {
        partitioner,
        bloom_filter_fp_chance,
    })
}

fn read_compaction(mut c: Cursor<'_>, version: Version) -> Result<Compaction> {
    let mut ancestors = Vec::new();
    if version.has_compaction_ancestors() {
        let n = c.read_len_i32("ancestor count")?;
        if n.saturating_mul(4) > c.remaining() {
            return Err(c.invalid(format!("{n} ancestors do not fit the component")));
        }
        for _ in 0..n {
            ancestors.push(c.read_i32("ancestor")?);
        }
    }
    let n = c.read_len_i32("cardinality length")?;
    let cardinality = c.read_bytes(n, "cardinality")?.to_vec();
    c.expect_end("compaction metadata")?;
    Ok(Compaction {
        ancestors,
        cardinality,
    })
}

fn read_legacy_clustering(c: &mut Cursor<'_>) -> Result<Vec<Vec<u8>>> {
    let n = c.read_len_i32("clustering value count")?;
    if n.saturating_mul(2) > c.remaining() {
        return Err(c.invalid(format!("{n} clustering values do not fit the component")));
    }
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(c.read_short_bytes("clustering value")?.to_vec());
    }
    Ok(out)
}

fn read_covered_clustering(c: &mut Cursor<'_>) -> Result<CoveredClustering> {
    let n = read_count(c, "clustering type count")?;
    let mut types = Vec::with_capacity(n);
    for _ in 0..n {
        types.push(read_type(c)?);
    }
    let start = ClusteringBound::read(c, &types)?;
    let end = ClusteringBound::read(c, &types)?;
    Ok(CoveredClustering { types, start, end })
}

/// The fields DSE 6.8 (`ba`, `bb`) writes after the pending repair, checked and skipped as
/// datastax/cassandra `StatsMetadata.StatsMetadataSerializer.deserialize` reads them: a
/// zero-copy flag byte (and, when set, `ZeroCopyMetadata.Serializer`: long dataStart, long
/// dataEnd, int chunkSize, long estimatedKeys, short-length first and last keys), the
/// incremental NodeSync long, and the max column value lengths (int count, then per column a
/// uvint-length name and an int).
///
/// A zero-copy-streamed sstable's Data.db is a slice of the sender's, and its index
/// positions point into the sender's whole file (`ZeroCopyMetadata`, `SliceDescriptor`): it is
/// refused rather than read at the wrong positions.
fn read_datastax_6_8_fields(c: &mut Cursor<'_>, version: Version) -> Result<()> {
    if version.has_zero_copy_metadata() {
        let at = c.offset();
        if c.read_u8("zero copy metadata flag")? != 0 {
            let start = c.read_i64("zero copy data start")?;
            let end = c.read_i64("zero copy data end")?;
            return Err(Error::Unsupported {
                component: COMPONENT,
                offset: at,
                message: format!(
                    "a DSE 6.8 zero-copy-streamed slice (bytes {start}..{end} of the sender's \
                     Data.db; datastax/cassandra ZeroCopyMetadata): its index positions point \
                     into the sender's file, which is not read"
                ),
            });
        }
    }
    if version.has_incremental_node_sync_metadata() {
        c.read_i64("incremental NodeSync metadata")?;
    }
    if version.has_max_column_value_lengths() {
        let n = c.read_len_i32("max column value length count")?;
        if n.saturating_mul(5) > c.remaining() {
            return Err(c.invalid(format!(
                "{n} max column value lengths do not fit the component"
            )));
        }
        for _ in 0..n {
            c.read_vint_bytes("max column value length name")?;
            c.read_i32("max column value length")?;
        }
    }
    Ok(())
}

fn read_stats(mut c: Cursor<'_>, version: Version) -> Result<Stats> {
    let c = &mut c;
    let partition_sizes = EstimatedHistogram::read(c, "partition size histogram")?;
    let cells_per_partition = EstimatedHistogram::read(c, "cells per partition histogram")?;
    let commit_log_upper_bound = CommitLogPosition::read(c)?;
    let min_timestamp = c.read_i64("min timestamp")?;
    let max_timestamp = c.read_i64("max timestamp")?;
    let store_rows = version.has_serialization_header();
    let ldt = |c: &mut Cursor<'_>, what| -> Result<Option<i64>> {
        if version.has_uint_deletion_time() {
            let v = c.read_u32(what)?;
            Ok((v != u32::MAX).then_some(i64::from(v)))
        } else {
            let v = c.read_i32(what)?;
            Ok((v != i32::MAX).then_some(i64::from(v)))
        }
    };
    let min_local_deletion_time = if store_rows {
        ldt(c, "min local deletion time")?
    } else {
        None
    };
    let max_local_deletion_time = ldt(c, "max local deletion time")?;
    let (min_ttl, max_ttl) = if store_rows {
        (Some(c.read_i32("min ttl")?), Some(c.read_i32("max ttl")?))
    } else {
        (None, None)
    };
    let compression_ratio = c.read_f64("compression ratio")?;
    let tombstone_histogram = TombstoneHistogram::read(c, version)?;
    let sstable_level = c.read_i32("sstable level")?;
    let repaired_at = c.read_i64("repaired at")?;
    let (mut legacy_min_clustering, mut legacy_max_clustering, mut covered_clustering) =
        (None, None, None);
    if version.has_legacy_min_max() {
        legacy_min_clustering = Some(read_legacy_clustering(c)?);
        legacy_max_clustering = Some(read_legacy_clustering(c)?);
    } else if version.has_improved_min_max() {
        covered_clustering = Some(read_covered_clustering(c)?);
    }
    let has_legacy_counter_shards = c.read_bool("has legacy counter shards")?;
    let (total_columns_set, total_rows) = if store_rows {
        (
            Some(c.read_i64("total columns set")?),
            Some(c.read_i64("total rows")?),
        )
    } else {
        (None, None)
    };
    let commit_log_lower_bound = if version.has_commit_log_lower_bound() {
        Some(CommitLogPosition::read(c)?)
    } else {
        None
    };
    let commit_log_intervals = if version.has_commit_log_intervals() {
        let n = c.read_len_i32("commit log interval count")?;
        if n.saturating_mul(24) > c.remaining() {
            return Err(c.invalid(format!("{n} commit log intervals do not fit the component")));
        }
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push((CommitLogPosition::read(c)?, CommitLogPosition::read(c)?));
        }
        Some(v)
    } else {
        None
    };
    let (mut pending_repair, mut is_transient) = (None, None);
    if version.has_pending_repair() && c.read_u8("pending repair flag")? != 0 {
        pending_repair = Some(Uuid::read(c, "pending repair")?);
    }
    read_datastax_6_8_fields(c, version)?;
    // Pre-release 4.0 `na` files (written before CASSANDRA-14404, found in Cassandra's own
    // legacy test data) end right after the pending-repair flag: the offsets table bounds the
    // body, so an exhausted body means "not recorded". DataStax's `ca`/`cb` always write it.
    if version.has_is_transient() && (version.is_datastax() || !c.is_empty()) {
        is_transient = Some(c.read_bool("is transient")?);
    }
    let mut has_partition_level_deletions = None;
    if version.has_misplaced_partition_level_deletions_marker() {
        has_partition_level_deletions = Some(c.read_bool("has partition level deletions")?);
    }
    let mut originating_host_id = None;
    if version.has_originating_host_id() && c.read_u8("originating host id flag")? != 0 {
        originating_host_id = Some(Uuid::read(c, "originating host id")?);
    }
    let (mut first_key, mut last_key, mut token_space_coverage) = (None, None, None);
    if version.has_partition_level_deletions_marker() {
        has_partition_level_deletions = Some(c.read_bool("has partition level deletions")?);
    }
    if version.has_improved_min_max() && version.has_legacy_min_max() {
        // nc: the improved min/max follows the legacy one here.
        covered_clustering = Some(read_covered_clustering(c)?);
    }
    if version.has_key_range() {
        first_key = Some(c.read_vint_bytes("first key")?.to_vec());
        last_key = Some(c.read_vint_bytes("last key")?.to_vec());
    }
    if version.has_token_space_coverage() {
        token_space_coverage = Some(c.read_f64("token space coverage")?);
    }
    // serializedSize() may over-count (the pre-sized buffer ends in zeros): allow only zeros.
    if c.rest().iter().any(|b| *b != 0) {
        return Err(c.invalid(format!(
            "{} unexpected trailing byte(s) after stats metadata",
            c.remaining()
        )));
    }
    Ok(Stats {
        partition_sizes,
        cells_per_partition,
        commit_log_upper_bound,
        min_timestamp,
        max_timestamp,
        min_local_deletion_time,
        max_local_deletion_time,
        min_ttl,
        max_ttl,
        compression_ratio,
        tombstone_histogram,
        sstable_level,
        repaired_at,
        legacy_min_clustering,
        legacy_max_clustering,
        covered_clustering,
        has_legacy_counter_shards,
        total_columns_set,
        total_rows,
        commit_log_lower_bound,
        commit_log_intervals,
        pending_repair,
        is_transient,
        originating_host_id,
        has_partition_level_deletions,
        first_key,
        last_key,
        token_space_coverage,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
    use super::*;
    use crate::cursor::encode_uvint;

    fn utf(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&(s.len() as u16).to_be_bytes());
        out.extend_from_slice(s.as_bytes());
    }

    fn vstr(out: &mut Vec<u8>, s: &[u8]) {
        encode_uvint(s.len() as u64, out);
        out.extend_from_slice(s);
    }

    fn validation() -> Vec<u8> {
        let mut v = Vec::new();
        utf(&mut v, "org.apache.cassandra.dht.Murmur3Partitioner");
        v.extend_from_slice(&0.01f64.to_be_bytes());
        v
    }

    fn compaction(version: Version) -> Vec<u8> {
        let mut v = Vec::new();
        if version.has_compaction_ancestors() {
            v.extend_from_slice(&1i32.to_be_bytes());
            v.extend_from_slice(&7i32.to_be_bytes());
        }
        v.extend_from_slice(&3i32.to_be_bytes());
        v.extend_from_slice(&[1, 2, 3]);
        v
    }

    fn stats(version: Version) -> Vec<u8> {
        let mut v = Vec::new();
        // partition sizes: bucket offsets [1, 2], buckets [0, 3, 0] (the last is overflow)
        v.extend_from_slice(&3i32.to_be_bytes());
        for (o, c) in [(1i64, 0i64), (1, 3), (2, 0)] {
            v.extend_from_slice(&o.to_be_bytes());
            v.extend_from_slice(&c.to_be_bytes());
        }
        // cells per partition: one bucket (overflow) with a count
        v.extend_from_slice(&1i32.to_be_bytes());
        v.extend_from_slice(&1i64.to_be_bytes());
        v.extend_from_slice(&2i64.to_be_bytes());
        v.extend_from_slice(&5i64.to_be_bytes()); // commit log segment
        v.extend_from_slice(&6i32.to_be_bytes()); // position
        v.extend_from_slice(&100i64.to_be_bytes());
        v.extend_from_slice(&200i64.to_be_bytes());
        if version.has_uint_deletion_time() {
            v.extend_from_slice(&3_000_000_000u32.to_be_bytes());
            v.extend_from_slice(&u32::MAX.to_be_bytes());
        } else {
            if version.has_serialization_header() {
                v.extend_from_slice(&1_000i32.to_be_bytes());
            }
            v.extend_from_slice(&i32::MAX.to_be_bytes());
        }
        if version.has_serialization_header() {
            v.extend_from_slice(&0i32.to_be_bytes());
            v.extend_from_slice(&60i32.to_be_bytes());
        }
        v.extend_from_slice(&0.5f64.to_be_bytes());
        // tombstone histogram with one bin
        v.extend_from_slice(&100i32.to_be_bytes());
        v.extend_from_slice(&1i32.to_be_bytes());
        if version.has_uint_deletion_time() {
            v.extend_from_slice(&1_000i64.to_be_bytes());
            v.extend_from_slice(&4i32.to_be_bytes());
        } else {
            v.extend_from_slice(&1_000f64.to_be_bytes());
            v.extend_from_slice(&4i64.to_be_bytes());
        }
        v.extend_from_slice(&2i32.to_be_bytes()); // level
        v.extend_from_slice(&9i64.to_be_bytes()); // repaired at
        let improved = |v: &mut Vec<u8>| {
            encode_uvint(1, v);
            vstr(v, b"Int32Type");
            // start: INCL_START, 1 value; header 0, then 4 bytes
            v.push(1);
            v.extend_from_slice(&1u16.to_be_bytes());
            v.push(0);
            v.extend_from_slice(&1i32.to_be_bytes());
            // end: INCL_END, no values
            v.push(6);
            v.extend_from_slice(&0u16.to_be_bytes());
        };
        if version.has_legacy_min_max() {
            v.extend_from_slice(&1i32.to_be_bytes());
            v.extend_from_slice(&[0, 1, 0xaa]);
            v.extend_from_slice(&0i32.to_be_bytes());
        } else {
            improved(&mut v);
        }
        v.push(0); // has legacy counter shards
        if version.has_serialization_header() {
            v.extend_from_slice(&10i64.to_be_bytes());
            v.extend_from_slice(&11i64.to_be_bytes());
        }
        if version.has_commit_log_lower_bound() {
            v.extend_from_slice(&[0; 12]);
        }
        if version.has_commit_log_intervals() {
            v.extend_from_slice(&1i32.to_be_bytes());
            v.extend_from_slice(&[0; 24]);
        }
        if version.has_pending_repair() {
            v.push(1);
            v.extend_from_slice(&[0x11; 16]);
        }
        if version.has_zero_copy_metadata() {
            v.push(0);
        }
        if version.has_incremental_node_sync_metadata() {
            v.extend_from_slice(&i64::MAX.to_be_bytes());
        }
        if version.has_max_column_value_lengths() {
            v.extend_from_slice(&1i32.to_be_bytes());
            vstr(&mut v, b"a");
            v.extend_from_slice(&4i32.to_be_bytes());
        }
        if version.has_is_transient() {
            v.push(1);
        }
        if version.has_misplaced_partition_level_deletions_marker() {
            v.push(1);
        }
        if version.has_originating_host_id() {
            v.push(0);
        }
        if version.has_partition_level_deletions_marker() {
            v.push(1);
        }
        if version.has_improved_min_max() && version.has_legacy_min_max() {
            improved(&mut v);
        }
        if version.has_key_range() {
            vstr(&mut v, b"k1");
            vstr(&mut v, b"k9");
        }
        if version.has_token_space_coverage() {
            v.extend_from_slice(&0.25f64.to_be_bytes());
            v.extend_from_slice(&[0; 8]); // serializedSize() padding
        }
        v
    }

    fn header() -> Vec<u8> {
        let mut v = Vec::new();
        encode_uvint(10, &mut v);
        encode_uvint(-1i64 as u64, &mut v); // wraps to EPOCH - 1 in 32 bits
        encode_uvint(0, &mut v);
        vstr(&mut v, b"Int32Type");
        encode_uvint(1, &mut v);
        vstr(&mut v, b"ReversedType(UTF8Type)");
        encode_uvint(0, &mut v);
        encode_uvint(3, &mut v);
        vstr(&mut v, b"m");
        vstr(&mut v, b"MapType(Int32Type,Int32Type)");
        vstr(&mut v, b"a");
        vstr(&mut v, b"Int32Type");
        vstr(&mut v, b"b");
        vstr(&mut v, b"FrozenType(ListType(Int32Type))");
        v
    }

    fn file(version: Version) -> Vec<u8> {
        let mut bodies = vec![
            (0i32, validation()),
            (1, compaction(version)),
            (2, stats(version)),
        ];
        if version.has_serialization_header() {
            bodies.push((3, header()));
        }
        let crc = version.has_metadata_checksum();
        let mut out = Vec::new();
        out.extend_from_slice(&(bodies.len() as i32).to_be_bytes());
        if crc {
            out.extend_from_slice(&crc32fast::hash(&out).to_be_bytes());
        }
        let table_len = bodies.len() * 8 + if crc { 4 } else { 0 };
        let mut offset = out.len() + table_len;
        let mut table = Vec::new();
        for (t, b) in &bodies {
            table.extend_from_slice(&t.to_be_bytes());
            table.extend_from_slice(&(offset as i32).to_be_bytes());
            offset += b.len() + if crc { 4 } else { 0 };
        }
        let mut running = out[..4].to_vec();
        running.extend_from_slice(&table);
        out.extend_from_slice(&table);
        if crc {
            out.extend_from_slice(&crc32fast::hash(&running).to_be_bytes());
        }
        for (_, b) in &bodies {
            out.extend_from_slice(b);
            if crc {
                out.extend_from_slice(&crc32fast::hash(b).to_be_bytes());
            }
        }
        out
    }

    #[test]
    fn parses_every_version() {
        for v in Version::ALL {
            if !v.has_metadata_component_table() {
                // Tested by `jb_legacy_layout` and the corpus `ic` golden test.
                continue;
            }
            let s = Statistics::parse(&file(v), v).unwrap_or_else(|e| panic!("{v}: {e}"));
            let val = s.validation.unwrap();
            assert_eq!(val.partitioner_name(), "Murmur3Partitioner");
            assert_eq!(s.compaction.unwrap().cardinality, vec![1, 2, 3]);
            let st = s.stats.unwrap();
            assert_eq!((st.min_timestamp, st.max_timestamp), (100, 200));
            assert_eq!(st.partition_sizes.count(), 3);
            // Pair i stores bucket i's lower bound: bucket 1's upper bound is 2.
            assert_eq!(st.partition_sizes.offsets, vec![1, 2]);
            assert_eq!(st.partition_sizes.mean(), Some(2));
            assert_eq!(st.partition_sizes.max(), Some(2));
            assert!(st.cells_per_partition.is_overflowed());
            assert_eq!(st.cells_per_partition.mean(), None);
            assert_eq!(st.tombstone_histogram.bins, vec![(1000.0, 4)]);
            assert_eq!((st.sstable_level, st.repaired_at), (2, 9));
            assert_eq!(st.max_local_deletion_time, None);
            if v.has_uint_deletion_time() {
                assert_eq!(st.min_local_deletion_time, Some(3_000_000_000));
            } else if v.has_serialization_header() {
                assert_eq!(st.min_local_deletion_time, Some(1_000));
            } else {
                assert_eq!(st.min_local_deletion_time, None);
            }
            assert_eq!(st.legacy_min_clustering.is_some(), v.has_legacy_min_max());
            if v.has_improved_min_max() {
                let cov = st.covered_clustering.unwrap();
                assert_eq!(cov.types, vec![CqlType::Int]);
                assert_eq!(cov.start.kind(), Some(BoundKind::InclStartBound));
                assert_eq!(cov.start.values, vec![Some(vec![0, 0, 0, 1])]);
                assert_eq!(cov.end.kind(), Some(BoundKind::InclEndBound));
                assert_eq!(st.has_partition_level_deletions, Some(true));
            } else {
                assert!(st.covered_clustering.is_none());
                assert!(st.has_partition_level_deletions.is_none());
            }
            if v.has_key_range() {
                assert_eq!(st.first_key.as_deref(), Some(&b"k1"[..]));
                assert_eq!(st.last_key.as_deref(), Some(&b"k9"[..]));
            } else {
                assert!(st.first_key.is_none() && st.last_key.is_none());
            }
            assert_eq!(
                st.token_space_coverage.is_some(),
                v.has_token_space_coverage()
            );
            if v.has_pending_repair() {
                assert_eq!(st.pending_repair, Some(Uuid([0x11; 16])));
            }
            assert_eq!(st.is_transient, v.has_is_transient().then_some(true));
            assert_eq!(s.header.is_some(), v.has_serialization_header());
            if let Some(h) = s.header {
                assert_eq!(h.encoding_stats.min_timestamp, TIMESTAMP_EPOCH + 10);
                let ldt = i64::from(DELETION_TIME_EPOCH) - 1;
                assert_eq!(h.encoding_stats.min_local_deletion_time, ldt);
                assert_eq!(
                    h.clustering_types,
                    vec![CqlType::Reversed(Box::new(CqlType::Text))]
                );
                let names: Vec<_> = h.regular_columns.iter().map(|c| c.name_str()).collect();
                assert_eq!(names, ["m", "a", "b"], "file order kept");
                let ordered: Vec<_> = h
                    .ordered_columns(false)
                    .iter()
                    .map(|c| c.name_str())
                    .collect();
                assert_eq!(ordered, ["a", "b", "m"], "simple first, stable");
                assert!(h.ordered_columns(true).is_empty());
                h.layout(v).unwrap();
            }
        }
    }

    /// A `jb` file in `LegacyMetadataSerializer` order.
    fn jb_file(with_level_and_names: bool) -> Vec<u8> {
        let mut b = Vec::new();
        for hist in [&[(0i64, 1i64), (1, 2)][..], &[(0, 0), (5, 1)][..]] {
            b.extend((hist.len() as i32).to_be_bytes());
            for (o, n) in hist {
                b.extend(o.to_be_bytes());
                b.extend(n.to_be_bytes());
            }
        }
        b.extend(7i64.to_be_bytes()); // replay segment
        b.extend(42i32.to_be_bytes()); // replay position
        b.extend(100i64.to_be_bytes());
        b.extend(200i64.to_be_bytes());
        b.extend(1_500_000_000i32.to_be_bytes());
        b.extend(0.01f64.to_be_bytes());
        b.extend(0.5f64.to_be_bytes());
        utf(&mut b, "org.apache.cassandra.dht.Murmur3Partitioner");
        b.extend(2i32.to_be_bytes());
        b.extend(3i32.to_be_bytes());
        b.extend(4i32.to_be_bytes());
        b.extend(50i32.to_be_bytes()); // max bin
        b.extend(1i32.to_be_bytes());
        b.extend(1000f64.to_be_bytes());
        b.extend(4i64.to_be_bytes());
        if with_level_and_names {
            b.extend(3i32.to_be_bytes());
            for v in [&b"a"[..], b"zz"] {
                b.extend(1i32.to_be_bytes());
                b.extend((v.len() as u16).to_be_bytes());
                b.extend(v);
            }
        }
        b
    }

    #[test]
    fn jb_legacy_layout() {
        let s = Statistics::parse(&jb_file(true), Version::Jb).unwrap();
        assert!(s.entries.is_empty() && s.header.is_none());
        let val = s.validation.unwrap();
        assert_eq!(val.partitioner_name(), "Murmur3Partitioner");
        assert_eq!(val.bloom_filter_fp_chance, 0.01);
        assert_eq!(s.compaction.unwrap().ancestors, vec![3, 4]);
        let st = s.stats.unwrap();
        assert_eq!(st.partition_sizes.count(), 3);
        assert_eq!(st.cells_per_partition.count(), 1);
        assert_eq!(st.commit_log_upper_bound.segment_id, 7);
        assert_eq!((st.min_timestamp, st.max_timestamp), (100, 200));
        assert_eq!(st.max_local_deletion_time, Some(1_500_000_000));
        assert_eq!((st.min_local_deletion_time, st.min_ttl), (None, None));
        assert_eq!(st.compression_ratio, 0.5);
        assert_eq!(st.tombstone_histogram.bins, vec![(1000.0, 4)]);
        assert_eq!(st.sstable_level, 3);
        assert_eq!(st.legacy_min_clustering, Some(vec![b"a".to_vec()]));
        assert_eq!(st.legacy_max_clustering, Some(vec![b"zz".to_vec()]));
        // Files written before the level and names existed end after the histogram.
        let st = Statistics::parse(&jb_file(false), Version::Jb)
            .unwrap()
            .stats
            .unwrap();
        assert_eq!(st.sstable_level, 0);
        assert_eq!(st.legacy_min_clustering, Some(vec![]));
        // Truncation anywhere (past the histogram) or trailing bytes: errors, never panics.
        let full = jb_file(true);
        for cut in 0..full.len() {
            if cut == jb_file(false).len() {
                continue;
            }
            let e = Statistics::parse(&full[..cut], Version::Jb).unwrap_err();
            assert_eq!(e.component(), Some(Component::Statistics), "cut {cut}");
        }
        let mut long = full.clone();
        long.push(1);
        assert!(Statistics::parse(&long, Version::Jb).is_err());
        for i in 0..full.len() {
            let mut bad = full.clone();
            bad[i] ^= 0xff;
            let _ = Statistics::parse(&bad, Version::Jb);
        }
    }

    /// The STATS body of `stats(v)` without the serializedSize() padding.
    fn stats_body(v: Version) -> Vec<u8> {
        let mut b = stats(v);
        if v.has_token_space_coverage() {
            b.truncate(b.len() - 8);
        }
        b
    }

    #[test]
    fn datastax_stats_bodies_end_exactly_and_refuse_truncation() {
        for v in Version::DATASTAX {
            let b = stats_body(v);
            let st = read_stats(Cursor::new(&b, COMPONENT), v).unwrap();
            assert_eq!(st.legacy_min_clustering.is_some(), v.has_legacy_min_max());
            assert_eq!(st.covered_clustering.is_some(), !v.has_legacy_min_max());
            assert!(st.first_key.is_none(), "{v}: no key range before da");
            // No DataStax field is optional: every proper prefix is an error.
            for n in 0..b.len() {
                let e = read_stats(Cursor::new(&b[..n], COMPONENT), v).unwrap_err();
                assert_eq!(e.component(), Some(Component::Statistics), "{v} prefix {n}");
            }
            // A non-zero trailing byte is not padding.
            let mut long = b.clone();
            long.push(1);
            assert!(read_stats(Cursor::new(&long, COMPONENT), v).is_err(), "{v}");
        }
    }

    /// The tail of a `cb` STATS body after the commit-log intervals, as the corpus's
    /// `legacy_cb_simple` has it: pending repair, isTransient, the misplaced marker, a host
    /// id, then the token-space coverage.
    #[test]
    fn datastax_marker_precedes_the_host_id() {
        let mut b = stats_body(Version::Cb);
        let tail = 1 + 16 + 1 + 1 + 1 + 8;
        b.truncate(b.len() - tail);
        b.extend_from_slice(&[0, 0, 0, 1]);
        b.extend_from_slice(&[0xa5; 16]);
        b.extend_from_slice(&f64::NAN.to_be_bytes());
        let st = read_stats(Cursor::new(&b, COMPONENT), Version::Cb).unwrap();
        assert_eq!(st.pending_repair, None);
        assert_eq!(st.is_transient, Some(false));
        assert_eq!(st.has_partition_level_deletions, Some(false));
        assert_eq!(st.originating_host_id, Some(Uuid([0xa5; 16])));
        assert!(st.token_space_coverage.unwrap().is_nan());
        // Read in Cassandra 5.0's order (marker after the host id) the same bytes fail.
        assert!(read_stats(Cursor::new(&b, COMPONENT), Version::Da).is_err());
    }

    #[test]
    fn datastax_6_8_fields() {
        for v in [Version::Ba, Version::Bb] {
            let plain = stats_body(v);
            // Where the zero-copy flag is: after the commit-log intervals and pending repair.
            let mut at = plain.len() - 1 - (4 + 2 + 4) - 8 - 1;
            if v.has_originating_host_id() {
                at -= 1;
            }
            assert_eq!(plain[at], 0, "{v}: zero-copy flag");
            let mut zc = plain[..at].to_vec();
            zc.push(1);
            zc.extend_from_slice(&100i64.to_be_bytes());
            zc.extend_from_slice(&900i64.to_be_bytes());
            zc.extend_from_slice(&plain[at + 1..]);
            match read_stats(Cursor::new(&zc, COMPONENT), v).unwrap_err() {
                Error::Unsupported {
                    component,
                    offset,
                    message,
                } => {
                    assert_eq!((component, offset), (COMPONENT, at as u64));
                    assert!(message.contains("zero-copy"), "{message}");
                    assert!(message.contains("100..900"), "{message}");
                }
                e => panic!("{v}: {e}"),
            }
            // A max-column-value-length count that cannot fit.
            let mut big = plain.clone();
            big[at + 9..at + 13].copy_from_slice(&1_000_000i32.to_be_bytes());
            assert!(read_stats(Cursor::new(&big, COMPONENT), v).is_err(), "{v}");
        }
    }

    #[test]
    fn truncated_input_errors() {
        for v in [
            Version::Ka,
            Version::Mc,
            Version::Nb,
            Version::Nc,
            Version::Oa,
            Version::Aa,
            Version::Ad,
            Version::Ba,
            Version::Bb,
            Version::Ca,
            Version::Cb,
        ] {
            let f = file(v);
            for n in 0..f.len() {
                assert!(Statistics::parse(&f[..n], v).is_err(), "{v} prefix {n}");
            }
        }
    }

    #[test]
    fn corrupt_input_never_panics() {
        for v in [
            Version::La,
            Version::Me,
            Version::Na,
            Version::Oa,
            Version::Ac,
            Version::Bb,
            Version::Cb,
        ] {
            let f = file(v);
            for i in 0..f.len() {
                for x in [0x01u8, 0x80, 0xff] {
                    let mut g = f.clone();
                    g[i] ^= x;
                    let _ = Statistics::parse(&g, v);
                }
            }
        }
    }

    #[test]
    fn checksums_are_verified() {
        let f = file(Version::Nb);
        let last = f.len() - 1;
        let mut g = f.clone();
        g[last] ^= 1; // the header's CRC
        assert!(matches!(
            Statistics::parse(&g, Version::Nb),
            Err(Error::ChecksumMismatch { .. })
        ));
        let mut g = f.clone();
        g[9] ^= 1; // inside the offsets table: caught by the table CRC or the offset checks
        assert!(Statistics::parse(&g, Version::Nb).is_err());
        let mut g = f;
        g[4] ^= 1; // the count's CRC
        assert!(matches!(
            Statistics::parse(&g, Version::Nb),
            Err(Error::ChecksumMismatch { offset: 0, .. })
        ));
    }

    #[test]
    fn bad_tables() {
        // Unknown metadata type.
        let mut f = Vec::new();
        f.extend_from_slice(&1i32.to_be_bytes());
        f.extend_from_slice(&9i32.to_be_bytes());
        f.extend_from_slice(&12i32.to_be_bytes());
        assert!(Statistics::parse(&f, Version::Mc).is_err());
        // Offset past the end, negative count.
        let mut f = Vec::new();
        f.extend_from_slice(&1i32.to_be_bytes());
        f.extend_from_slice(&0i32.to_be_bytes());
        f.extend_from_slice(&1000i32.to_be_bytes());
        assert!(Statistics::parse(&f, Version::Mc).is_err());
        assert!(Statistics::parse(&(-1i32).to_be_bytes(), Version::Mc).is_err());
        // Non-zero bytes after the stats body are rejected, zero padding is not.
        let mut s = stats(Version::Mc);
        s.push(0);
        assert!(read_stats(Cursor::new(&s, COMPONENT), Version::Mc).is_ok());
        s.push(1);
        assert!(read_stats(Cursor::new(&s, COMPONENT), Version::Mc).is_err());
    }

    #[test]
    fn histogram_helpers() {
        let h = EstimatedHistogram::default();
        assert_eq!((h.count(), h.mean(), h.max()), (0, None, Some(0)));
        let h = EstimatedHistogram {
            offsets: vec![10, 20, 30],
            buckets: vec![1, 0, 2, 0],
        };
        assert_eq!(h.count(), 3);
        assert_eq!(h.mean(), Some(24)); // ceil((10 + 60) / 3)
        assert_eq!(h.max(), Some(30));
    }

    #[test]
    fn uuid_display() {
        let u = Uuid([
            0xe0, 0x0b, 0xdc, 0xa2, 0x5a, 0x85, 0x11, 0xf1, 0xb9, 0x7d, 0x4a, 0x36, 0x47, 0x96,
            0x22, 0x50,
        ]);
        assert_eq!(u.to_string(), "e00bdca2-5a85-11f1-b97d-4a3647962250");
    }
}
