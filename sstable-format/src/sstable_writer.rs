//! Writing complete SSTable sets (BIG format, `mc`..`nb`): from a table description and
//! partitions in token order, the bytes of every component — `Data.db` (uncompressed with
//! `CRC.db`, or LZ4 chunks with `CompressionInfo.db`), `Index.db`, `Summary.db`, `Filter.db`,
//! `Statistics.db`, `Digest.crc32` and `TOC.txt`. Used to build test sets and the sample backup;
//! no file I/O: [`write_sstable`] returns the files as a name → bytes map, and
//! [`SstableStreamWriter`] hands them out piece by piece for sets too large for memory.
//!
//! Mirrors Cassandra 4.0's `io/sstable/format/big/BigTableWriter` (partition loop, `IndexWriter`,
//! `StatsCollector`), `io/sstable/metadata/MetadataCollector` and `MetadataSerializer`
//! (`StatsMetadata`, `ValidationMetadata`, `CompactionMetadata`, `db/SerializationHeader`),
//! `db/rows/EncodingStats.Collector`, `io/sstable/IndexSummaryBuilder`, `utils/FilterFactory`,
//! `utils/BloomCalculations`, `utils/BloomFilterSerializer`, `utils/EstimatedHistogram` and
//! `utils/streamhist/StreamingTombstoneHistogramBuilder` (3.x: `StreamingHistogram`). Rows are
//! encoded by [`crate::writer::DataWriter`].
//!
//! Deliberate simplifications (documented in the report of the writer):
//! * no promoted index in `Index.db` (Cassandra writes one for partitions over 64 KiB;
//!   readers then scan the partition);
//! * the COMPACTION cardinality is an empty HyperLogLog++ (p=13, sp=25, sparse, no entries):
//!   valid, but its key estimate is 0;
//! * commit-log positions are `CommitLogPosition.NONE` with no intervals (nothing was
//!   replayed from a commit log);
//! * the tombstone histogram keeps at most 100 bins by merging the closest pair, like
//!   `StreamingHistogram`, but without the spool.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::chunks::compress_chunk;
use crate::compression_info::{write_compression_info, Codec};
use crate::cursor::encode_uvint;
use crate::data::{
    BoundKind, Cell, CellKind, DeletionTime, LivenessInfo, RangeTombstoneMarker, Row,
};
use crate::error::{Component, Error, Result};
use crate::key::build_composite;
use crate::offsets::DataOffset;
use crate::partitioner::{murmur3_token, murmur3_x64_128_cassandra};
use crate::statistics::{
    ColumnSpec, EncodingStats, SerializationHeader, DELETION_TIME_EPOCH, TIMESTAMP_EPOCH,
};
use crate::types::CqlType;
use crate::version::{FormatKind, Version};
use crate::writer::DataWriter;

/// `Cell.NO_DELETION_TIME` / `LivenessInfo.NO_EXPIRATION_TIME`.
const NO_DELETION_TIME: i64 = i32::MAX as i64;
/// The murmur3 partitioner's class name as VALIDATION stores it.
pub const MURMUR3_PARTITIONER: &str = "org.apache.cassandra.dht.Murmur3Partitioner";

fn invalid(message: impl Into<String>) -> Error {
    Error::invalid(Component::Data, 0, message)
}

// ---------------------------------------------------------------------------------------------
// Table and data model
// ---------------------------------------------------------------------------------------------

/// A named column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnDef {
    /// Column name.
    pub name: String,
    /// Column type (`Reversed` for a DESC clustering column).
    pub ty: CqlType,
}

impl ColumnDef {
    /// A column `name` of type `ty`.
    pub fn new(name: &str, ty: CqlType) -> ColumnDef {
        ColumnDef {
            name: name.to_string(),
            ty,
        }
    }
}

/// What the writer needs to know of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDef {
    /// Keyspace name.
    pub keyspace: String,
    /// Table name.
    pub name: String,
    /// Partition key columns, in key order.
    pub partition_key: Vec<ColumnDef>,
    /// Clustering columns, in clustering order.
    pub clustering: Vec<ColumnDef>,
    /// Static columns (any order: the writer sorts them as Cassandra does).
    pub statics: Vec<ColumnDef>,
    /// Regular columns (any order).
    pub regulars: Vec<ColumnDef>,
}

impl TableDef {
    /// The partition key type: the column's type, or `CompositeType` of several.
    pub fn partition_key_type(&self) -> CqlType {
        match self.partition_key.as_slice() {
            [one] => one.ty.clone(),
            many => CqlType::Composite(many.iter().map(|c| c.ty.clone()).collect()),
        }
    }

    /// The clustering types.
    pub fn clustering_types(&self) -> Vec<CqlType> {
        self.clustering.iter().map(|c| c.ty.clone()).collect()
    }

    /// The static (`statics = true`) or regular columns in Cassandra's `Columns` order: simple
    /// columns first, then multi-cell ones, each group by unsigned name bytes
    /// (`ColumnMetadata.compareTo`). This is the header order and the cell order in rows.
    pub fn row_order(&self, statics: bool) -> Vec<&ColumnDef> {
        let cols = if statics {
            &self.statics
        } else {
            &self.regulars
        };
        let mut v: Vec<&ColumnDef> = cols.iter().collect();
        v.sort_by(|a, b| {
            a.ty.is_multi_cell()
                .cmp(&b.ty.is_multi_cell())
                .then_with(|| a.name.as_bytes().cmp(b.name.as_bytes()))
        });
        v
    }

    /// The serialization header of a set of this table with `stats`.
    pub fn serialization_header(&self, stats: EncodingStats) -> SerializationHeader {
        let spec = |c: &&ColumnDef| ColumnSpec {
            name: c.name.as_bytes().to_vec(),
            ty: c.ty.clone(),
        };
        SerializationHeader {
            encoding_stats: stats,
            partition_key_type: self.partition_key_type(),
            clustering_types: self.clustering_types(),
            static_columns: self.row_order(true).iter().map(spec).collect(),
            regular_columns: self.row_order(false).iter().map(spec).collect(),
        }
    }

    /// The serialized partition key of `values` (one per key column; composite when several).
    pub fn partition_key(&self, values: &[&[u8]]) -> Vec<u8> {
        match values {
            [one] if self.partition_key.len() <= 1 => one.to_vec(),
            many => build_composite(many),
        }
    }
}

/// One cell, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellData {
    /// Column name.
    pub column: String,
    /// Write timestamp (µs).
    pub timestamp: i64,
    /// Live, expiring or tombstone.
    pub kind: CellKind,
    /// Cell path of a multi-cell column (list timeuuid, set element, map key, UDT field index).
    pub path: Option<Vec<u8>>,
    /// Serialized value (empty for tombstones and set elements).
    pub value: Vec<u8>,
}

impl CellData {
    /// A live cell.
    pub fn live(column: &str, timestamp: i64, value: impl Into<Vec<u8>>) -> CellData {
        CellData {
            column: column.to_string(),
            timestamp,
            kind: CellKind::Live,
            path: None,
            value: value.into(),
        }
    }

    /// An expiring cell written at `timestamp` with `ttl`, expiring at `local_expiration_time`.
    pub fn expiring(
        column: &str,
        timestamp: i64,
        ttl: i32,
        local_expiration_time: i64,
        value: impl Into<Vec<u8>>,
    ) -> CellData {
        CellData {
            kind: CellKind::Expiring {
                ttl,
                local_expiration_time,
            },
            ..CellData::live(column, timestamp, value)
        }
    }

    /// A cell tombstone.
    pub fn tombstone(column: &str, timestamp: i64, local_deletion_time: i64) -> CellData {
        CellData {
            kind: CellKind::Tombstone {
                local_deletion_time,
            },
            ..CellData::live(column, timestamp, Vec::new())
        }
    }

    /// The same cell with a cell path (cells of multi-cell columns).
    pub fn with_path(mut self, path: impl Into<Vec<u8>>) -> CellData {
        self.path = Some(path.into());
        self
    }
}

/// A row (clustered or static), owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowData {
    /// Clustering values (empty for the static row).
    pub clustering: Vec<Option<Vec<u8>>>,
    /// Primary-key liveness (the INSERT row marker).
    pub liveness: LivenessInfo,
    /// Row deletion.
    pub deletion: DeletionTime,
    /// Deletions of whole multi-cell columns, by column name.
    pub complex_deletions: Vec<(String, DeletionTime)>,
    /// Cells, any column order; the cells of one multi-cell column in path order.
    pub cells: Vec<CellData>,
}

impl RowData {
    /// An empty row at `clustering` (no marker, no deletion, no cells).
    pub fn new(clustering: Vec<Vec<u8>>) -> RowData {
        RowData {
            clustering: clustering.into_iter().map(Some).collect(),
            liveness: LivenessInfo::EMPTY,
            deletion: DeletionTime::LIVE,
            complex_deletions: Vec::new(),
            cells: Vec::new(),
        }
    }

    /// An INSERT-like row: a row marker at `timestamp` (with a TTL if `ttl` is set: `(ttl,
    /// local_expiration_time)`) and `cells`.
    pub fn inserted(
        clustering: Vec<Vec<u8>>,
        timestamp: i64,
        ttl: Option<(i32, i64)>,
        cells: Vec<CellData>,
    ) -> RowData {
        RowData {
            liveness: LivenessInfo {
                timestamp: Some(timestamp),
                ttl,
            },
            cells,
            ..RowData::new(clustering)
        }
    }

    fn is_empty(&self) -> bool {
        self.liveness.timestamp.is_none()
            && self.deletion.is_live()
            && self.cells.is_empty()
            && self.complex_deletions.iter().all(|(_, d)| d.is_live())
    }
}

/// A range-tombstone bound or boundary, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkerData {
    /// Bound kind.
    pub kind: BoundKind,
    /// Clustering prefix of the bound.
    pub values: Vec<Option<Vec<u8>>>,
    /// Deletion closed here.
    pub close: Option<DeletionTime>,
    /// Deletion opened here.
    pub open: Option<DeletionTime>,
}

/// A row or a marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnfilteredData {
    /// A clustered row.
    Row(RowData),
    /// A range-tombstone marker.
    Marker(MarkerData),
}

/// A partition, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionData {
    /// Serialized partition key ([`TableDef::partition_key`]).
    pub key: Vec<u8>,
    /// Partition deletion.
    pub deletion: DeletionTime,
    /// Static row, if any.
    pub static_row: Option<RowData>,
    /// Rows and markers in clustering order ([`sort_partitions`] sorts them).
    pub unfiltereds: Vec<UnfilteredData>,
}

impl PartitionData {
    /// A live partition with no rows.
    pub fn new(key: Vec<u8>) -> PartitionData {
        PartitionData {
            key,
            deletion: DeletionTime::LIVE,
            static_row: None,
            unfiltereds: Vec::new(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Ordering (to be replaced by the comparator module)
// ---------------------------------------------------------------------------------------------

/// Cassandra's order of two serialized values ([`crate::compare::compare_values`]).
pub fn compare_values(ty: &CqlType, a: &[u8], b: &[u8]) -> Ordering {
    crate::compare::compare_values(ty, a, b)
}

/// Compares two clustering prefixes ([`crate::compare::ClusteringComparator`]): rows with rows,
/// rows with bounds, bounds with bounds. `None` kind is a row's clustering.
pub fn compare_clustering(
    types: &[CqlType],
    a: (&[Option<Vec<u8>>], Option<BoundKind>),
    b: (&[Option<Vec<u8>>], Option<BoundKind>),
) -> Ordering {
    let cmp = crate::compare::ClusteringComparator::new(types.to_vec());
    let va: Vec<Option<&[u8]>> = a.0.iter().map(|v| v.as_deref()).collect();
    let vb: Vec<Option<&[u8]>> = b.0.iter().map(|v| v.as_deref()).collect();
    match (a.1, b.1) {
        (None, None) => cmp.compare(&va, &vb),
        (None, Some(kb)) => cmp.compare_row_to_bound(&va, kb, &vb),
        (Some(ka), None) => cmp.compare_row_to_bound(&vb, ka, &va).reverse(),
        (Some(ka), Some(kb)) => cmp.compare_bounds(ka, &va, kb, &vb),
    }
}

/// Sorts partitions as an SSTable stores them — by Murmur3 token, then unsigned key bytes
/// (`DecoratedKey.compareTo`) — and each partition's rows and markers by clustering
/// ([`compare_clustering`]; stable, so markers given in order stay in order).
pub fn sort_partitions(table: &TableDef, partitions: &mut [PartitionData]) {
    let types = table.clustering_types();
    partitions.sort_by(|a, b| partition_order(&a.key, &b.key));
    for p in partitions.iter_mut() {
        p.unfiltereds.sort_by(|a, b| {
            let key = |u: &UnfilteredData| match u {
                UnfilteredData::Row(r) => (r.clustering.clone(), None),
                UnfilteredData::Marker(m) => (m.values.clone(), Some(m.kind)),
            };
            let (ka, kb) = (key(a), key(b));
            compare_clustering(&types, (&ka.0, ka.1), (&kb.0, kb.1))
        });
    }
}

/// Partition order under Murmur3Partitioner: token, then key bytes.
pub fn partition_order(a: &[u8], b: &[u8]) -> Ordering {
    murmur3_token(a)
        .cmp(&murmur3_token(b))
        .then_with(|| a.cmp(b))
}

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

/// How `Data.db` is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Uncompressed, with a `CRC.db` of 64 KiB slices.
    None,
    /// LZ4 chunks of `chunk_length` bytes, each followed by its CRC32, with
    /// `CompressionInfo.db`.
    Lz4 {
        /// Uncompressed chunk length (Cassandra's default: 16 KiB).
        chunk_length: u32,
    },
}

/// Writer settings.
#[derive(Debug, Clone, PartialEq)]
pub struct WriterOptions {
    /// Format version (`mc`..`nb`).
    pub version: Version,
    /// Generation in the file names (`nb-<generation>-big-Data.db`).
    pub generation: u64,
    /// Data.db storage.
    pub compression: Compression,
    /// `bloom_filter_fp_chance` (0.01 is the table default).
    pub bloom_filter_fp_chance: f64,
    /// Summary `min_index_interval` (128).
    pub min_index_interval: u32,
    /// Originating host id (me/nb), if any.
    pub originating_host_id: Option<[u8; 16]>,
    /// The EncodingStats to write instead of the computed minima (to reproduce a file whose
    /// writer used other bases, e.g. a memtable's).
    pub encoding_stats: Option<EncodingStats>,
    /// `repairedAt`.
    pub repaired_at: i64,
    /// List in the serialization header only the static and regular columns that have data
    /// (a cell or a complex deletion), as a memtable flush does (`Memtable.columns()`);
    /// otherwise every column of the table, as compaction of full-schema inputs does.
    pub only_used_columns: bool,
}

impl WriterOptions {
    /// Cassandra 4.0 defaults: `nb`, LZ4 with 16 KiB chunks, fp chance 0.01.
    pub fn nb(generation: u64) -> WriterOptions {
        WriterOptions {
            version: Version::Nb,
            generation,
            compression: Compression::Lz4 {
                chunk_length: 16 * 1024,
            },
            bloom_filter_fp_chance: 0.01,
            min_index_interval: 128,
            originating_host_id: None,
            encoding_stats: None,
            repaired_at: 0,
            only_used_columns: false,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Statistics collection
// ---------------------------------------------------------------------------------------------

/// `MetadataCollector.MinMaxLongTracker`.
#[derive(Debug, Clone, Copy)]
struct MinMax {
    set: bool,
    min: i64,
    max: i64,
}

impl MinMax {
    fn new() -> MinMax {
        MinMax {
            set: false,
            min: 0,
            max: 0,
        }
    }
    fn update(&mut self, v: i64) {
        if self.set {
            self.min = self.min.min(v);
            self.max = self.max.max(v);
        } else {
            *self = MinMax {
                set: true,
                min: v,
                max: v,
            };
        }
    }
    fn get(&self, default: (i64, i64)) -> (i64, i64) {
        if self.set {
            (self.min, self.max)
        } else {
            default
        }
    }
}

/// `EncodingStats.Collector`: minima over non-live deletions, expiring TTLs and timestamps.
#[derive(Debug, Default)]
struct EncodingCollector {
    ts: Option<i64>,
    ldt: Option<i64>,
    ttl: Option<i64>,
}

impl EncodingCollector {
    fn ts(&mut self, v: i64) {
        self.ts = Some(self.ts.map_or(v, |m| m.min(v)));
    }
    fn ldt(&mut self, v: i64) {
        self.ldt = Some(self.ldt.map_or(v, |m| m.min(v)));
    }
    fn ttl(&mut self, v: i64) {
        self.ttl = Some(self.ttl.map_or(v, |m| m.min(v)));
    }
    fn deletion(&mut self, d: DeletionTime) {
        if !d.is_live() {
            self.ts(d.marked_for_delete_at);
            self.ldt(d.local_deletion_time);
        }
    }
    fn row(&mut self, r: &RowData) {
        if let Some(ts) = r.liveness.timestamp {
            self.ts(ts);
            if let Some((ttl, ldt)) = r.liveness.ttl {
                self.ttl(i64::from(ttl));
                self.ldt(ldt);
            }
        }
        self.deletion(r.deletion);
        for (_, d) in &r.complex_deletions {
            self.deletion(*d);
        }
        for c in &r.cells {
            self.ts(c.timestamp);
            match c.kind {
                CellKind::Live => {}
                CellKind::Expiring {
                    ttl,
                    local_expiration_time,
                } => {
                    self.ttl(i64::from(ttl));
                    self.ldt(local_expiration_time);
                }
                CellKind::Tombstone {
                    local_deletion_time,
                } => self.ldt(local_deletion_time),
            }
        }
    }
    fn get(&self) -> EncodingStats {
        EncodingStats {
            min_timestamp: self.ts.unwrap_or(TIMESTAMP_EPOCH),
            min_local_deletion_time: self.ldt.unwrap_or(i64::from(DELETION_TIME_EPOCH)),
            min_ttl: self.ttl.unwrap_or(0),
        }
    }
}

/// The encoding statistics of `partitions` as a flush computes them.
pub fn encoding_stats(partitions: &[PartitionData]) -> EncodingStats {
    let mut c = EncodingCollector::default();
    for p in partitions {
        c.deletion(p.deletion);
        if let Some(s) = &p.static_row {
            c.row(s);
        }
        for u in &p.unfiltereds {
            match u {
                UnfilteredData::Row(r) => c.row(r),
                UnfilteredData::Marker(m) => {
                    for d in m.close.iter().chain(m.open.iter()) {
                        c.deletion(*d);
                    }
                }
            }
        }
    }
    c.get()
}

/// `utils/EstimatedHistogram` with `size` buckets before the overflow one.
#[derive(Debug, Clone)]
struct Histogram {
    offsets: Vec<i64>,
    buckets: Vec<i64>,
}

impl Histogram {
    fn new(size: usize) -> Histogram {
        let mut offsets = Vec::with_capacity(size);
        let mut last = 1i64;
        offsets.push(last);
        while offsets.len() < size {
            let mut next = (last as f64 * 1.2).round() as i64;
            if next == last {
                next += 1;
            }
            offsets.push(next);
            last = next;
        }
        Histogram {
            buckets: vec![0; size + 1],
            offsets,
        }
    }
    fn add(&mut self, v: i64) {
        let i = self.offsets.partition_point(|o| *o < v);
        if let Some(b) = self.buckets.get_mut(i) {
            *b += 1;
        }
    }
    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&(self.buckets.len() as i32).to_be_bytes());
        for (i, b) in self.buckets.iter().enumerate() {
            let o = self
                .offsets
                .get(i.saturating_sub(1))
                .copied()
                .unwrap_or_default();
            out.extend_from_slice(&o.to_be_bytes());
            out.extend_from_slice(&b.to_be_bytes());
        }
    }
}

/// `MetadataCollector` (4.0; 3.x where the versions differ).
#[derive(Debug)]
struct Collector {
    ts: MinMax,
    ldt: MinMax,
    ttl: MinMax,
    tombstones: BTreeMap<i64, i64>,
    min_clustering: Vec<Option<Vec<u8>>>,
    max_clustering: Vec<Option<Vec<u8>>>,
    total_columns_set: i64,
    total_rows: i64,
    partition_sizes: Histogram,
    cells_per_partition: Histogram,
    partition_cells: i64,
}

impl Collector {
    fn new(version: Version, clustering: usize) -> Collector {
        Collector {
            ts: MinMax::new(),
            ldt: MinMax::new(),
            ttl: MinMax::new(),
            tombstones: BTreeMap::new(),
            min_clustering: vec![None; clustering],
            max_clustering: vec![None; clustering],
            total_columns_set: 0,
            total_rows: 0,
            partition_sizes: Histogram::new(150),
            // 4.0 widened the cell-count histogram from 114 to 118 buckets (checked on the
            // corpus: mc files have 115 pairs, nb files 119).
            cells_per_partition: Histogram::new(if version.has_pending_repair() {
                118
            } else {
                114
            }),
            partition_cells: 0,
        }
    }

    fn local_deletion_time(&mut self, ldt: i64) {
        self.ldt.update(ldt);
        if ldt != NO_DELETION_TIME {
            // StreamingTombstoneHistogramBuilder rounds points up to 60 s.
            let point = match ldt.rem_euclid(60) {
                0 => ldt,
                d => ldt + 60 - d,
            };
            *self.tombstones.entry(point).or_default() += 1;
        }
    }

    fn deletion(&mut self, d: DeletionTime) {
        if !d.is_live() {
            self.ts.update(d.marked_for_delete_at);
            self.local_deletion_time(d.local_deletion_time);
        }
    }

    fn cell(&mut self, c: &CellData) {
        self.partition_cells += 1;
        self.ts.update(c.timestamp);
        let (ttl, ldt) = match c.kind {
            CellKind::Live => (0, NO_DELETION_TIME),
            CellKind::Expiring {
                ttl,
                local_expiration_time,
            } => (i64::from(ttl), local_expiration_time),
            CellKind::Tombstone {
                local_deletion_time,
            } => (0, local_deletion_time),
        };
        self.ttl.update(ttl);
        self.local_deletion_time(ldt);
    }

    /// `Rows.collectStats`.
    fn row(&mut self, r: &RowData, multi_cell: &dyn Fn(&str) -> bool) {
        if let Some(ts) = r.liveness.timestamp {
            self.ts.update(ts);
            let (ttl, ldt) = r
                .liveness
                .ttl
                .map_or((0, NO_DELETION_TIME), |(t, l)| (i64::from(t), l));
            self.ttl.update(ttl);
            self.local_deletion_time(ldt);
        }
        self.deletion(r.deletion);
        for (_, d) in &r.complex_deletions {
            self.deletion(*d);
        }
        let mut columns: Vec<&str> = Vec::new();
        for c in &r.cells {
            self.cell(c);
            if !multi_cell(&c.column) || !columns.contains(&c.column.as_str()) {
                columns.push(&c.column);
            }
        }
        self.total_columns_set += columns.len() as i64;
        self.total_rows += 1;
    }

    fn clustering(&mut self, types: &[CqlType], values: &[Option<Vec<u8>>]) {
        for (i, v) in values.iter().enumerate() {
            let (Some(v), Some(ty)) = (v, types.get(i)) else {
                continue;
            };
            if let Some(min) = self.min_clustering.get_mut(i) {
                if min
                    .as_ref()
                    .is_none_or(|m| compare_values(ty, v, m) == Ordering::Less)
                {
                    *min = Some(v.clone());
                }
            }
            if let Some(max) = self.max_clustering.get_mut(i) {
                if max
                    .as_ref()
                    .is_none_or(|m| compare_values(ty, v, m) == Ordering::Greater)
                {
                    *max = Some(v.clone());
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Component serializers
// ---------------------------------------------------------------------------------------------

fn put_utf(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_vbytes(out: &mut Vec<u8>, b: &[u8]) {
    encode_uvint(b.len() as u64, out);
    out.extend_from_slice(b);
}

/// `SerializationHeader.Serializer.serialize` (with `EncodingStats.Serializer`).
pub fn write_serialization_header(h: &SerializationHeader, out: &mut Vec<u8>) {
    let s = h.encoding_stats;
    encode_uvint(s.min_timestamp.wrapping_sub(TIMESTAMP_EPOCH) as u64, out);
    // Java: int - int, widened to long (sign-extended) by writeUnsignedVInt.
    let ldt = (s.min_local_deletion_time as i32).wrapping_sub(DELETION_TIME_EPOCH);
    encode_uvint(i64::from(ldt) as u64, out);
    encode_uvint(i64::from(s.min_ttl as i32) as u64, out);
    put_vbytes(out, h.partition_key_type.to_type_string().as_bytes());
    encode_uvint(h.clustering_types.len() as u64, out);
    for t in &h.clustering_types {
        put_vbytes(out, t.to_type_string().as_bytes());
    }
    for cols in [&h.static_columns, &h.regular_columns] {
        encode_uvint(cols.len() as u64, out);
        for c in cols {
            put_vbytes(out, &c.name);
            put_vbytes(out, c.ty.to_type_string().as_bytes());
        }
    }
}

/// `BloomCalculations.probs`: false-positive rates for i buckets per element and j hashes.
const BLOOM_PROBS: [&[f64]; 21] = [
    &[1.0],
    &[1.0, 1.0],
    &[1.0, 0.393, 0.400],
    &[1.0, 0.283, 0.237, 0.253],
    &[1.0, 0.221, 0.155, 0.147, 0.160],
    &[1.0, 0.181, 0.109, 0.092, 0.092, 0.101],
    &[1.0, 0.154, 0.0804, 0.0609, 0.0561, 0.0578, 0.0638],
    &[1.0, 0.133, 0.0618, 0.0423, 0.0359, 0.0347, 0.0364],
    &[1.0, 0.118, 0.0489, 0.0306, 0.024, 0.0217, 0.0216, 0.0229],
    &[
        1.0, 0.105, 0.0397, 0.0228, 0.0166, 0.0141, 0.0133, 0.0135, 0.0145,
    ],
    &[
        1.0, 0.0952, 0.0329, 0.0174, 0.0118, 0.00943, 0.00844, 0.00819, 0.00846,
    ],
    &[
        1.0, 0.0869, 0.0276, 0.0136, 0.00864, 0.0065, 0.00552, 0.00513, 0.00509,
    ],
    &[
        1.0, 0.08, 0.0236, 0.0108, 0.00646, 0.00459, 0.00371, 0.00329, 0.00314,
    ],
    &[
        1.0, 0.074, 0.0203, 0.00875, 0.00492, 0.00332, 0.00255, 0.00217, 0.00199, 0.00194,
    ],
    &[
        1.0, 0.0689, 0.0177, 0.00718, 0.00381, 0.00244, 0.00179, 0.00146, 0.00129, 0.00121, 0.0012,
    ],
    &[
        1.0, 0.0645, 0.0156, 0.00596, 0.003, 0.00183, 0.00128, 0.001, 0.000852, 0.000775, 0.000744,
    ],
    &[
        1.0, 0.0606, 0.0138, 0.005, 0.00239, 0.00139, 0.000935, 0.000702, 0.000574, 0.000505,
        0.00047, 0.000459,
    ],
    &[
        1.0, 0.0571, 0.0123, 0.00423, 0.00193, 0.00107, 0.000692, 0.000499, 0.000394, 0.000335,
        0.000302, 0.000287, 0.000284,
    ],
    &[
        1.0, 0.054, 0.0111, 0.00362, 0.00158, 0.000839, 0.000519, 0.00036, 0.000275, 0.000226,
        0.000198, 0.000183, 0.000176,
    ],
    &[
        1.0, 0.0513, 0.00998, 0.00312, 0.0013, 0.000663, 0.000394, 0.000264, 0.000194, 0.000155,
        0.000132, 0.000118, 0.000111, 0.000109,
    ],
    &[
        1.0, 0.0488, 0.00906, 0.0027, 0.00108, 0.00053, 0.000303, 0.000196, 0.00014, 0.000108,
        8.89e-05, 7.77e-05, 7.12e-05, 6.79e-05, 6.71e-05,
    ],
];

fn prob(buckets: usize, k: usize) -> f64 {
    BLOOM_PROBS
        .get(buckets)
        .and_then(|r| r.get(k))
        .copied()
        .unwrap_or(1.0)
}

fn opt_k(buckets: usize) -> usize {
    let row = BLOOM_PROBS.get(buckets).copied().unwrap_or(&[1.0]);
    let mut best = (f64::MAX, 1usize);
    for (j, p) in row.iter().enumerate() {
        if *p < best.0 {
            best = (*p, j.max(1));
        }
    }
    best.1
}

/// `BloomCalculations.computeBloomSpec(maxBuckets, fp)`: (hash count, buckets per element).
pub fn bloom_spec(fp_chance: f64) -> Result<(usize, usize)> {
    let max_buckets = BLOOM_PROBS.len() - 1;
    if fp_chance >= prob(2, 1) {
        return Ok((2, opt_k(2)));
    }
    let max_k = BLOOM_PROBS.get(max_buckets).map_or(0, |r| r.len() - 1);
    if fp_chance < prob(max_buckets, max_k) {
        return Err(invalid(format!(
            "bloom filter fp chance {fp_chance} is too small"
        )));
    }
    let mut buckets = 2;
    let mut k = opt_k(2);
    while prob(buckets, k) > fp_chance {
        buckets += 1;
        k = opt_k(buckets);
    }
    while prob(buckets, k - 1) <= fp_chance {
        k -= 1;
    }
    Ok((k, buckets))
}

/// Builds `Filter.db` for `keys` (`FilterFactory.getFilter(keys.len(), fp)`, murmur3 x64-128
/// of each key, `BloomFilter.setIndexes`, base = `h[1]`, inc = `h[0]`). From `na` the bit set is
/// written as raw bytes (bit i in byte i/8); before, as big-endian longs.
pub fn write_filter(keys: &[&[u8]], fp_chance: f64, version: Version) -> Result<Vec<u8>> {
    let mut bloom = BloomBuilder::new(keys.len() as u64, fp_chance)?;
    for key in keys {
        bloom.add(key);
    }
    Ok(bloom.write(version))
}

/// Builds `Summary.db` (`IndexSummaryBuilder` at full sampling, `IndexSummarySerializer`, then
/// the first and last keys): every `min_index_interval`-th key with its Index.db position.
pub fn write_summary(entries: &[(&[u8], u64)], min_index_interval: u32) -> Vec<u8> {
    let step = min_index_interval.max(1) as usize;
    let sampled: Vec<(&[u8], u64)> = entries.iter().step_by(step).copied().collect();
    summary_bytes(
        &sampled,
        entries.len() as u64,
        entries.first().map(|e| e.0),
        entries.last().map(|e| e.0),
        min_index_interval,
    )
}

/// `Summary.db` of the `sampled` keys (with their Index.db positions) of `count` keys.
fn summary_bytes(
    sampled: &[(&[u8], u64)],
    count: u64,
    first: Option<&[u8]>,
    last: Option<&[u8]>,
    min_index_interval: u32,
) -> Vec<u8> {
    let step = u64::from(min_index_interval.max(1));
    let mut body = Vec::new();
    let mut offsets = Vec::with_capacity(sampled.len());
    let base = sampled.len() * 4;
    for (key, pos) in sampled {
        offsets.push((base + body.len()) as u32);
        body.extend_from_slice(key);
        body.extend_from_slice(&pos.to_le_bytes());
    }
    let mut out = Vec::new();
    out.extend_from_slice(&(min_index_interval as i32).to_be_bytes());
    out.extend_from_slice(&(sampled.len() as i32).to_be_bytes());
    out.extend_from_slice(&((base + body.len()) as i64).to_be_bytes());
    out.extend_from_slice(&128i32.to_be_bytes()); // BASE_SAMPLING_LEVEL
    let full = count.div_ceil(step);
    out.extend_from_slice(&(full as i32).to_be_bytes());
    for o in offsets {
        out.extend_from_slice(&o.to_le_bytes());
    }
    out.extend_from_slice(&body);
    for key in [first, last] {
        let k = key.unwrap_or(&[]);
        out.extend_from_slice(&(k.len() as i32).to_be_bytes());
        out.extend_from_slice(k);
    }
    out
}

struct StatsInput<'a> {
    version: Version,
    collector: &'a Collector,
    compression_ratio: f64,
    repaired_at: i64,
    originating_host_id: Option<[u8; 16]>,
}

/// `StatsMetadata.StatsMetadataSerializer.serialize` for ma..nb.
fn write_stats(s: &StatsInput<'_>, out: &mut Vec<u8>) {
    let c = s.collector;
    let v = s.version;
    c.partition_sizes.write(out);
    c.cells_per_partition.write(out);
    // commitLogIntervals.upperBound().orElse(NONE)
    out.extend_from_slice(&(-1i64).to_be_bytes());
    out.extend_from_slice(&0i32.to_be_bytes());
    let (min_ts, max_ts) = c.ts.get((i64::MIN, i64::MAX));
    out.extend_from_slice(&min_ts.to_be_bytes());
    out.extend_from_slice(&max_ts.to_be_bytes());
    let (min_ldt, max_ldt) = c.ldt.get((NO_DELETION_TIME, NO_DELETION_TIME));
    out.extend_from_slice(&(min_ldt as i32).to_be_bytes());
    out.extend_from_slice(&(max_ldt as i32).to_be_bytes());
    let (min_ttl, max_ttl) = c.ttl.get((0, 0));
    out.extend_from_slice(&(min_ttl as i32).to_be_bytes());
    out.extend_from_slice(&(max_ttl as i32).to_be_bytes());
    out.extend_from_slice(&s.compression_ratio.to_be_bytes());
    // Tombstone histogram: 3.x StreamingHistogram writes its max bin size (100); 4.0's
    // LegacyHistogramSerializer writes the bin count there (checked on corpus files).
    let bins = merged_bins(&c.tombstones, 100);
    let max_bin = if v.has_pending_repair() {
        bins.len() as i32
    } else {
        100
    };
    out.extend_from_slice(&max_bin.to_be_bytes());
    out.extend_from_slice(&(bins.len() as i32).to_be_bytes());
    for (p, n) in &bins {
        out.extend_from_slice(&p.to_be_bytes());
        out.extend_from_slice(&n.to_be_bytes());
    }
    out.extend_from_slice(&0i32.to_be_bytes()); // sstable level
    out.extend_from_slice(&s.repaired_at.to_be_bytes());
    for values in [&c.min_clustering, &c.max_clustering] {
        // MetadataCollector.makeList: up to the first missing component.
        let list: Vec<&Vec<u8>> = values.iter().map_while(|v| v.as_ref()).collect();
        out.extend_from_slice(&(list.len() as i32).to_be_bytes());
        for v in list {
            out.extend_from_slice(&(v.len() as u16).to_be_bytes());
            out.extend_from_slice(v);
        }
    }
    out.push(0); // hasLegacyCounterShards
    out.extend_from_slice(&c.total_columns_set.to_be_bytes());
    out.extend_from_slice(&c.total_rows.to_be_bytes());
    if v.has_commit_log_lower_bound() {
        out.extend_from_slice(&(-1i64).to_be_bytes());
        out.extend_from_slice(&0i32.to_be_bytes());
    }
    if v.has_commit_log_intervals() {
        out.extend_from_slice(&0i32.to_be_bytes());
    }
    if v.has_pending_repair() {
        out.push(0); // no pending repair
        out.push(0); // not transient
    }
    if v.has_originating_host_id() {
        match s.originating_host_id {
            Some(id) => {
                out.push(1);
                out.extend_from_slice(&id);
            }
            None => out.push(0),
        }
    }
}

/// Tombstone-histogram bins (point, count) as doubles, merged down to `max` bins by joining
/// the closest neighbours (`StreamingHistogram`'s rule).
fn merged_bins(points: &BTreeMap<i64, i64>, max: usize) -> Vec<(f64, i64)> {
    let mut bins: Vec<(f64, i64)> = points.iter().map(|(p, n)| (*p as f64, *n)).collect();
    while bins.len() > max {
        let mut best = (f64::MAX, 0usize);
        for (i, w) in bins.windows(2).enumerate() {
            if let [a, b] = w {
                if b.0 - a.0 < best.0 {
                    best = (b.0 - a.0, i);
                }
            }
        }
        let i = best.1;
        if let (Some(a), Some(b)) = (bins.get(i).copied(), bins.get(i + 1).copied()) {
            let n = a.1 + b.1;
            let p = (a.0 * a.1 as f64 + b.0 * b.1 as f64) / n as f64;
            if let Some(slot) = bins.get_mut(i) {
                *slot = (p, n);
            }
            bins.remove(i + 1);
        }
    }
    bins
}

/// `MetadataSerializer.serialize`: the offsets table then VALIDATION, COMPACTION, STATS,
/// HEADER, with the na+ CRC32s.
fn write_statistics(version: Version, bodies: [&[u8]; 4]) -> Vec<u8> {
    let checksummed = version.has_metadata_checksum();
    let crc_len = if checksummed { 4 } else { 0 };
    let mut out = Vec::new();
    out.extend_from_slice(&4i32.to_be_bytes());
    if checksummed {
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    let mut offset = 4 + crc_len + 4 * 8 + crc_len;
    let mut table = Vec::new();
    for (ordinal, body) in bodies.iter().enumerate() {
        table.extend_from_slice(&(ordinal as i32).to_be_bytes());
        table.extend_from_slice(&(offset as i32).to_be_bytes());
        offset += body.len() + crc_len;
    }
    out.extend_from_slice(&table);
    if checksummed {
        let mut h = crc32fast::Hasher::new();
        h.update(&4i32.to_be_bytes());
        h.update(&table);
        out.extend_from_slice(&h.finalize().to_be_bytes());
    }
    for body in bodies {
        out.extend_from_slice(body);
        if checksummed {
            out.extend_from_slice(&crc32fast::hash(body).to_be_bytes());
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The set writer
// ---------------------------------------------------------------------------------------------

fn borrow_row<'a>(
    r: &'a RowData,
    is_static: bool,
    index: &BTreeMap<String, u32>,
) -> Result<Row<'a>> {
    let column = |name: &str| {
        index
            .get(name)
            .copied()
            .ok_or_else(|| invalid(format!("unknown column {name}")))
    };
    let mut cells = Vec::with_capacity(r.cells.len());
    for c in &r.cells {
        cells.push(Cell {
            column: column(&c.column)?,
            timestamp: c.timestamp,
            kind: c.kind,
            path: c.path.as_deref(),
            value: &c.value,
        });
    }
    // Column order; a multi-cell column's cells keep their given (path) order.
    cells.sort_by_key(|c| c.column);
    let mut complex_deletions = Vec::new();
    for (name, d) in &r.complex_deletions {
        if !d.is_live() {
            complex_deletions.push((column(name)?, *d));
        }
    }
    complex_deletions.sort_by_key(|(c, _)| *c);
    Ok(Row {
        is_static,
        clustering: r.clustering.iter().map(|v| v.as_deref()).collect(),
        liveness: r.liveness,
        deletion: r.deletion,
        deletion_is_shadowable: false,
        scylla_shadowable_deletion: None,
        complex_deletions,
        cells,
        offset: DataOffset(0),
    })
}

/// The file name of a component: `<version>-<generation>-big-<component>`.
pub fn file_name(version: Version, generation: u64, component: &str) -> String {
    format!("{}-{generation}-big-{component}", version.as_str())
}

/// Writes a complete SSTable set of `table` holding `partitions`, which must be in
/// [`partition_order`] (use [`sort_partitions`]). Returns file name → bytes for Data.db,
/// Index.db, Summary.db, Filter.db, Statistics.db, CompressionInfo.db or CRC.db,
/// Digest.crc32 and TOC.txt.
pub fn write_sstable(
    table: &TableDef,
    partitions: &[PartitionData],
    options: &WriterOptions,
) -> Result<BTreeMap<String, Vec<u8>>> {
    let used;
    let table = if options.only_used_columns {
        used = used_columns(table, partitions);
        &used
    } else {
        table
    };
    let stats = options
        .encoding_stats
        .unwrap_or_else(|| encoding_stats(partitions));
    let options = WriterOptions {
        encoding_stats: Some(stats),
        only_used_columns: false,
        ..options.clone()
    };
    let mut w = SstableStreamWriter::new(table, &options, partitions.len() as u64)?;
    for p in partitions {
        w.add(p)?;
    }
    w.finish()
}

/// `IndexSummaryBuilder` fed one key at a time: keeps every `min_index_interval`-th key.
#[derive(Debug)]
struct SummaryBuilder {
    step: u64,
    count: u64,
    sampled: Vec<(Vec<u8>, u64)>,
    first: Option<Vec<u8>>,
}

impl SummaryBuilder {
    fn add(&mut self, key: &[u8], index_position: u64) {
        if self.count.is_multiple_of(self.step) {
            self.sampled.push((key.to_vec(), index_position));
        }
        if self.first.is_none() {
            self.first = Some(key.to_vec());
        }
        self.count += 1;
    }
}

/// The bit set of `Filter.db`, sized for an expected number of keys.
#[derive(Debug)]
struct BloomBuilder {
    hashes: usize,
    size: u64,
    words: u64,
    set: Vec<u8>,
}

impl BloomBuilder {
    /// `FilterFactory.getFilter(expected_keys, fp)`.
    fn new(expected_keys: u64, fp_chance: f64) -> Result<BloomBuilder> {
        let (hashes, buckets) = bloom_spec(fp_chance)?;
        let bits = expected_keys.max(1) * buckets as u64 + 20;
        let words = (bits - 1) / 64 + 1;
        let len = usize::try_from(words * 8).map_err(|_| invalid("bloom filter too large"))?;
        Ok(BloomBuilder {
            hashes,
            size: words * 64,
            words,
            set: vec![0u8; len],
        })
    }

    /// `BloomFilter.setIndexes` with base = h[1], inc = h[0].
    fn add(&mut self, key: &[u8]) {
        let (h0, h1) = murmur3_x64_128_cassandra(key);
        let (mut base, inc) = (h1 as i64, h0 as i64);
        for _ in 0..self.hashes {
            let i = (base % self.size as i64).unsigned_abs();
            if let Some(b) = self.set.get_mut((i >> 3) as usize) {
                *b |= 1 << (i & 7);
            }
            base = base.wrapping_add(inc);
        }
    }

    /// From `na` the bit set is written as raw bytes (bit i in byte i/8); before, as
    /// big-endian longs.
    fn write(&self, version: Version) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.set.len() + 8);
        out.extend_from_slice(&(self.hashes as i32).to_be_bytes());
        out.extend_from_slice(&(self.words as i32).to_be_bytes());
        if version.has_old_bloom_filter_format() {
            for w in self.set.chunks(8) {
                out.extend(w.iter().rev());
            }
        } else {
            out.extend_from_slice(&self.set);
        }
        out
    }
}

/// Writes one SSTable set a partition at a time, with memory bounded by the largest
/// partition (plus Summary.db's sampled keys, the bloom filter and the chunk offsets): the
/// streaming form of [`write_sstable`], which it drives.
///
/// The caller feeds partitions in [`partition_order`] ([`SstableStreamWriter::add`]), takes
/// the finished bytes of `Data.db` (as stored: compressed chunks, or raw slices) and `Index.db`
/// whenever it likes ([`SstableStreamWriter::take_output`]) and appends them to its files, and
/// ends with [`SstableStreamWriter::finish`], which returns the remaining tails of `Data.db`
/// and `Index.db` and the whole other components. The serialization header's
/// [`EncodingStats`] cannot be computed before the data, so [`WriterOptions::encoding_stats`]
/// must be set (and [`WriterOptions::only_used_columns`] is not supported: the columns are
/// the table's).
#[derive(Debug)]
pub struct SstableStreamWriter {
    version: Version,
    options: WriterOptions,
    table: TableDef,
    header: SerializationHeader,
    static_index: BTreeMap<String, u32>,
    regular_index: BTreeMap<String, u32>,
    multi_cell: std::collections::BTreeSet<String>,
    has_statics: bool,
    clustering_types: Vec<CqlType>,
    data: DataWriter,
    collector: Collector,
    /// Index.db bytes not yet taken, and Index.db's length so far.
    index: Vec<u8>,
    index_length: u64,
    summary: SummaryBuilder,
    bloom: BloomBuilder,
    last_key: Option<Vec<u8>>,
    /// Stored Data.db bytes not yet taken, and the stored length so far.
    stored: Vec<u8>,
    stored_length: u64,
    /// Compressed: chunk offsets; uncompressed: CRC.db slice checksums.
    chunk_offsets: Vec<u64>,
    slice_checksums: Vec<u32>,
    digest: crate::digest::DigestHasher,
}

impl SstableStreamWriter {
    /// A writer of `table` with `options` (whose `encoding_stats` must be set), sizing the
    /// bloom filter for `expected_partitions` keys (`FilterFactory.getFilter(estimatedKeys)`;
    /// a wrong estimate only changes the false-positive rate).
    pub fn new(
        table: &TableDef,
        options: &WriterOptions,
        expected_partitions: u64,
    ) -> Result<SstableStreamWriter> {
        let version = options.version;
        if !version.has_serialization_header()
            || version.has_uint_deletion_time()
            || version.has_improved_min_max()
            || version.format_kind() != FormatKind::Big
            || matches!(version, Version::Ms | Version::Mt)
        {
            return Err(Error::UnsupportedVersion {
                version: version.to_string(),
                reason: "the writer writes BIG sets of ma..nb",
            });
        }
        let stats = options
            .encoding_stats
            .ok_or_else(|| invalid("the streaming writer needs WriterOptions::encoding_stats"))?;
        if options.only_used_columns {
            return Err(invalid(
                "the streaming writer does not support only_used_columns",
            ));
        }
        let header = table.serialization_header(stats);
        let layout = header.layout(version)?;
        let index_of = |cols: Vec<&ColumnDef>| -> BTreeMap<String, u32> {
            cols.iter()
                .enumerate()
                .map(|(i, c)| (c.name.clone(), i as u32))
                .collect()
        };
        let static_index = index_of(table.row_order(true));
        let regular_index = index_of(table.row_order(false));
        let multi_cell = table
            .statics
            .iter()
            .chain(&table.regulars)
            .filter(|c| c.ty.is_multi_cell())
            .map(|c| c.name.clone())
            .collect();
        Ok(SstableStreamWriter {
            version,
            options: options.clone(),
            table: table.clone(),
            header,
            has_statics: !static_index.is_empty(),
            static_index,
            regular_index,
            multi_cell,
            clustering_types: table.clustering_types(),
            data: DataWriter::new(layout),
            collector: Collector::new(version, table.clustering.len()),
            index: Vec::new(),
            index_length: 0,
            summary: SummaryBuilder {
                step: u64::from(options.min_index_interval.max(1)),
                count: 0,
                sampled: Vec::new(),
                first: None,
            },
            bloom: BloomBuilder::new(expected_partitions, options.bloom_filter_fp_chance)?,
            last_key: None,
            stored: Vec::new(),
            stored_length: 0,
            chunk_offsets: Vec::new(),
            slice_checksums: Vec::new(),
            digest: crate::digest::DigestHasher::from_kind(version.digest_checksum()),
        })
    }

    /// Partitions written so far.
    pub fn partitions(&self) -> u64 {
        self.summary.count
    }

    /// Length of the uncompressed Data.db so far.
    pub fn data_length(&self) -> u64 {
        self.data.position()
    }

    /// Length of the stored Data.db so far (complete chunks only).
    pub fn stored_length(&self) -> u64 {
        self.stored_length
    }

    /// Appends a partition, which must come after the previous one in [`partition_order`].
    pub fn add(&mut self, p: &PartitionData) -> Result<()> {
        if let Some(last) = &self.last_key {
            if partition_order(last, &p.key) != Ordering::Less {
                return Err(invalid(
                    "partitions are not in token order (or a key is repeated)",
                ));
            }
        }
        let start = self.data.position();
        self.summary.add(&p.key, self.index_length);
        self.bloom.add(&p.key);
        let before = self.index.len();
        put_short_bytes(&mut self.index, &p.key)?;
        encode_uvint(start, &mut self.index);
        encode_uvint(0, &mut self.index); // no promoted index
        self.index_length += (self.index.len() - before) as u64;

        let multi_cell = |name: &str| self.multi_cell.contains(name);
        let collector = &mut self.collector;
        let data = &mut self.data;
        collector.partition_cells = 0;
        collector.deletion(p.deletion);
        data.start_partition(&p.key, p.deletion)?;
        if self.has_statics {
            let empty = RowData::new(Vec::new());
            let row = p.static_row.as_ref().unwrap_or(&empty);
            if !row.is_empty() {
                collector.row(row, &multi_cell);
            }
            data.write_row(&borrow_row(row, true, &self.static_index)?)?;
        } else if p.static_row.as_ref().is_some_and(|r| !r.is_empty()) {
            return Err(invalid("a static row in a table without static columns"));
        }
        for u in &p.unfiltereds {
            match u {
                UnfilteredData::Row(r) => {
                    if r.clustering.len() != self.table.clustering.len() {
                        return Err(invalid("a row's clustering has the wrong size"));
                    }
                    collector.clustering(&self.clustering_types, &r.clustering);
                    collector.row(r, &multi_cell);
                    data.write_row(&borrow_row(r, false, &self.regular_index)?)?;
                }
                UnfilteredData::Marker(m) => {
                    collector.clustering(&self.clustering_types, &m.values);
                    for d in m.close.iter().chain(m.open.iter()) {
                        collector.deletion(*d);
                    }
                    data.write_marker(&RangeTombstoneMarker {
                        kind: m.kind,
                        values: m.values.iter().map(|v| v.as_deref()).collect(),
                        close: m.close,
                        open: m.open,
                        offset: DataOffset(0),
                    })?;
                }
            }
        }
        data.end_partition()?;
        let size = data.position() - start;
        collector.partition_sizes.add(size as i64);
        let cells = collector.partition_cells;
        collector.cells_per_partition.add(cells);
        self.last_key = Some(p.key.clone());
        self.store(false)
    }

    /// Stores the complete chunks (slices) of the buffered uncompressed bytes; with `last`,
    /// the final partial one too.
    fn store(&mut self, last: bool) -> Result<()> {
        let unit = match self.options.compression {
            Compression::None => 64 * 1024,
            Compression::Lz4 { chunk_length } => chunk_length.max(1) as usize,
        };
        let buffered = self.data.bytes();
        let whole = if last {
            buffered.len()
        } else {
            buffered.len() / unit * unit
        };
        let Some(ready) = buffered.get(..whole) else {
            return Ok(());
        };
        for chunk in ready.chunks(unit) {
            let start = self.stored.len();
            match self.options.compression {
                Compression::None => {
                    self.slice_checksums
                        .push(self.version.crc_db_checksum().compute(chunk));
                    self.stored.extend_from_slice(chunk);
                }
                Compression::Lz4 { .. } => {
                    self.chunk_offsets.push(self.stored_length);
                    compress_chunk(&Codec::Lz4, chunk, &mut self.stored)?;
                    let crc = crc32fast::hash(self.stored.get(start..).unwrap_or(&[]));
                    self.stored.extend_from_slice(&crc.to_be_bytes());
                }
            }
            let written = self.stored.get(start..).unwrap_or(&[]);
            self.digest.update(written);
            self.stored_length += written.len() as u64;
        }
        self.data.discard_front(whole);
        Ok(())
    }

    /// The stored `Data.db` bytes and the `Index.db` bytes produced since the last call, to be
    /// appended to the files.
    pub fn take_output(&mut self) -> (Vec<u8>, Vec<u8>) {
        (
            std::mem::take(&mut self.stored),
            std::mem::take(&mut self.index),
        )
    }

    /// Ends the set. Returns file name → bytes like [`write_sstable`], except that `Data.db`
    /// and `Index.db` hold only what [`SstableStreamWriter::take_output`] has not returned
    /// (their tails, to append).
    pub fn finish(mut self) -> Result<BTreeMap<String, Vec<u8>>> {
        self.store(true)?;
        let version = self.version;
        let options = &self.options;
        let raw_length = self.data.position();
        let mut files = BTreeMap::new();
        let name = |c: &str| file_name(version, options.generation, c);
        let mut toc = vec![
            "Data.db",
            "Index.db",
            "Summary.db",
            "Filter.db",
            "Statistics.db",
        ];
        let compression_ratio = match options.compression {
            Compression::None => {
                let mut crc = Vec::with_capacity(4 + 4 * self.slice_checksums.len());
                crc.extend_from_slice(&(64u32 * 1024).to_be_bytes());
                for c in &self.slice_checksums {
                    crc.extend_from_slice(&c.to_be_bytes());
                }
                files.insert(name("CRC.db"), crc);
                toc.push("CRC.db");
                -1.0
            }
            Compression::Lz4 { chunk_length } => {
                let mut info = Vec::new();
                write_compression_info(
                    "LZ4Compressor",
                    &[],
                    chunk_length,
                    version
                        .has_max_compressed_length()
                        .then_some(i32::MAX as u32),
                    raw_length,
                    &self.chunk_offsets,
                    &mut info,
                );
                files.insert(name("CompressionInfo.db"), info);
                toc.push("CompressionInfo.db");
                if raw_length == 0 {
                    -1.0
                } else {
                    self.stored_length as f64 / raw_length as f64
                }
            }
        };
        let digest = match self.digest.finish() {
            crate::digest::DigestValue::Checksum(v) => v,
            crate::digest::DigestValue::Sha1(_) => {
                return Err(invalid("the writer does not write SHA-1 digests"))
            }
        };
        files.insert(
            name(version.digest_component()),
            digest.to_string().into_bytes(),
        );
        toc.push(version.digest_component());
        files.insert(name("Data.db"), std::mem::take(&mut self.stored));
        files.insert(name("Filter.db"), self.bloom.write(version));
        let sampled: Vec<(&[u8], u64)> = self
            .summary
            .sampled
            .iter()
            .map(|(k, p)| (k.as_slice(), *p))
            .collect();
        files.insert(
            name("Summary.db"),
            summary_bytes(
                &sampled,
                self.summary.count,
                self.summary.first.as_deref(),
                self.last_key.as_deref(),
                options.min_index_interval,
            ),
        );
        files.insert(name("Index.db"), std::mem::take(&mut self.index));

        let mut validation = Vec::new();
        put_utf(&mut validation, MURMUR3_PARTITIONER);
        validation.extend_from_slice(&options.bloom_filter_fp_chance.to_be_bytes());
        let mut compaction = Vec::new();
        if version.has_compaction_ancestors() {
            compaction.extend_from_slice(&0i32.to_be_bytes());
        }
        // An empty sparse HyperLogLog++ (version -2, p 13, sp 25, format SPARSE, 0 entries).
        let hll = [0xff, 0xff, 0xff, 0xfe, 13, 25, 1, 0];
        compaction.extend_from_slice(&(hll.len() as i32).to_be_bytes());
        compaction.extend_from_slice(&hll);
        let mut stats_body = Vec::new();
        write_stats(
            &StatsInput {
                version,
                collector: &self.collector,
                compression_ratio,
                repaired_at: options.repaired_at,
                originating_host_id: options.originating_host_id,
            },
            &mut stats_body,
        );
        let mut header_body = Vec::new();
        write_serialization_header(&self.header, &mut header_body);
        files.insert(
            name("Statistics.db"),
            write_statistics(
                version,
                [&validation, &compaction, &stats_body, &header_body],
            ),
        );
        toc.push("TOC.txt");
        let mut toc_text = String::new();
        for c in toc {
            toc_text.push_str(c);
            toc_text.push('\n');
        }
        files.insert(name("TOC.txt"), toc_text.into_bytes());
        Ok(files)
    }
}

/// What [`write_sstable_streaming`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamedSet {
    /// Partitions written.
    pub partitions: u64,
    /// Uncompressed `Data.db` length.
    pub data_length: u64,
    /// Stored `Data.db` length.
    pub stored_length: u64,
}

/// Writes a set of `table` from `partitions` (in [`partition_order`]; `expected_partitions`
/// sizes the bloom filter) with an [`SstableStreamWriter`], handing every piece of every
/// component to `append(file name, bytes)`, which appends it to that file (creating it on the
/// first call). `Data.db` and `Index.db` come in many pieces as partitions are written, the
/// other components in one piece at the end.
pub fn write_sstable_streaming<E: From<Error>>(
    table: &TableDef,
    partitions: impl IntoIterator<Item = PartitionData>,
    expected_partitions: u64,
    options: &WriterOptions,
    mut append: impl FnMut(&str, &[u8]) -> std::result::Result<(), E>,
) -> std::result::Result<StreamedSet, E> {
    let data_name = file_name(options.version, options.generation, "Data.db");
    let index_name = file_name(options.version, options.generation, "Index.db");
    let mut w = SstableStreamWriter::new(table, options, expected_partitions)?;
    for p in partitions {
        w.add(&p)?;
        let (data, index) = w.take_output();
        if !data.is_empty() {
            append(&data_name, &data)?;
        }
        if !index.is_empty() {
            append(&index_name, &index)?;
        }
    }
    let (data, index) = w.take_output();
    append(&data_name, &data)?;
    append(&index_name, &index)?;
    let set = StreamedSet {
        partitions: w.partitions(),
        data_length: w.data_length(),
        stored_length: w.stored_length(),
    };
    let files = w.finish()?;
    let mut stored_length = 0;
    for (name, bytes) in &files {
        append(name, bytes)?;
        if *name == data_name {
            stored_length = bytes.len() as u64;
        }
    }
    Ok(StreamedSet {
        stored_length: stored_length + set.stored_length,
        ..set
    })
}

/// `table` with only the static and regular columns that `partitions` use.
fn used_columns(table: &TableDef, partitions: &[PartitionData]) -> TableDef {
    let mut names = std::collections::BTreeSet::new();
    for p in partitions {
        let rows = p
            .static_row
            .iter()
            .chain(p.unfiltereds.iter().filter_map(|u| match u {
                UnfilteredData::Row(r) => Some(r),
                UnfilteredData::Marker(_) => None,
            }));
        for r in rows {
            names.extend(r.cells.iter().map(|c| c.column.as_str()));
            names.extend(r.complex_deletions.iter().map(|(c, _)| c.as_str()));
        }
    }
    let keep = |cols: &[ColumnDef]| -> Vec<ColumnDef> {
        cols.iter()
            .filter(|c| names.contains(c.name.as_str()))
            .cloned()
            .collect()
    };
    TableDef {
        statics: keep(&table.statics),
        regulars: keep(&table.regulars),
        ..table.clone()
    }
}

fn put_short_bytes(out: &mut Vec<u8>, b: &[u8]) -> Result<()> {
    let len =
        u16::try_from(b.len()).map_err(|_| invalid("partition key longer than 65535 bytes"))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(b);
    Ok(())
}

/// A counter cell value: one global shard (`CounterContext.createGlobal`) of `count` at
/// `clock` for the counter id `id`.
pub fn counter_context(id: [u8; 16], clock: i64, count: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(36);
    out.extend_from_slice(&1i16.to_be_bytes());
    out.extend_from_slice(&i16::MIN.to_be_bytes());
    out.extend_from_slice(&id);
    out.extend_from_slice(&clock.to_be_bytes());
    out.extend_from_slice(&count.to_be_bytes());
    out
}

/// A counter cell value as ScyllaDB writes it while its cluster lacks the
/// `CORRECT_COUNTER_ORDER` feature (1.7.4 and earlier): a header listing every shard as global
/// (`std::numeric_limits<int16_t>::min() + i`), then the shards `(id, clock, count)` sorted
/// with `counter_id::less_compare_1_7_4` (most, then least significant 64 bits, each a signed
/// `int64_t`). Mirrors scylladb/scylladb `sstables/sstables.cc` `write_counter_value` (its
/// `shards_compatible_with_1_7_4()` branch) and `counters.cc`
/// `counter_id::less_compare_1_7_4::operator()`. See [`crate::verify::Quirk`].
pub fn scylla_1_7_4_counter_context(shards: &[([u8; 16], i64, i64)]) -> Vec<u8> {
    let mut sorted = shards.to_vec();
    let signed = |id: &[u8; 16]| {
        let (hi, lo) = id.split_at(8);
        let be = |b: &[u8]| b.iter().fold(0u64, |a, &x| (a << 8) | u64::from(x)) as i64;
        (be(hi), be(lo))
    };
    sorted.sort_by_key(|(id, _, _)| signed(id));
    let n = sorted.len() as i16;
    let mut out = Vec::with_capacity(2 + sorted.len() * 34);
    out.extend_from_slice(&n.to_be_bytes());
    for i in 0..n {
        out.extend_from_slice(&i16::MIN.wrapping_add(i).to_be_bytes());
    }
    for (id, clock, count) in &sorted {
        out.extend_from_slice(id);
        out.extend_from_slice(&clock.to_be_bytes());
        out.extend_from_slice(&count.to_be_bytes());
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn bloom_spec_of_the_default_chance() {
        // 0.01: 10 buckets per element, 5 hashes (Scylla/Cassandra 3.x golden Filter.db: 5).
        assert_eq!(bloom_spec(0.01).unwrap(), (5, 10));
        assert_eq!(bloom_spec(0.1).unwrap().1, 5);
        assert!(bloom_spec(1e-9).is_err());
    }

    #[test]
    fn histogram_offsets_and_buckets() {
        let mut h = Histogram::new(150);
        assert_eq!(&h.offsets[..8], &[1, 2, 3, 4, 5, 6, 7, 8]);
        // The corpus: 151 pairs, the last offset 1414838745986 (nb and mc alike).
        assert_eq!(h.offsets[149], 1_414_838_745_986);
        h.add(0);
        h.add(37);
        assert_eq!(h.buckets[0], 1);
        let i = h.offsets.iter().position(|o| *o >= 37).unwrap();
        assert_eq!(h.buckets[i], 1);
        assert_eq!(Histogram::new(114).offsets[113], 1_996_099_046);
        assert_eq!(Histogram::new(118).offsets[117], 4_139_110_981);
    }

    #[test]
    fn clustering_order() {
        let types = [CqlType::Int, CqlType::Text];
        let v = |i: i32, s: &str| vec![Some(i.to_be_bytes().to_vec()), Some(s.as_bytes().to_vec())];
        let a = v(-1, "z");
        let b = v(1, "a");
        assert_eq!(
            compare_clustering(&types, (&a, None), (&b, None)),
            Ordering::Less
        );
        let prefix = vec![Some(1i32.to_be_bytes().to_vec())];
        assert_eq!(
            compare_clustering(
                &types,
                (&prefix, Some(BoundKind::InclStartBound)),
                (&b, None)
            ),
            Ordering::Less
        );
        assert_eq!(
            compare_clustering(&types, (&prefix, Some(BoundKind::InclEndBound)), (&b, None)),
            Ordering::Greater
        );
        let rev = [CqlType::Reversed(Box::new(CqlType::Int)), CqlType::Text];
        assert_eq!(
            compare_clustering(&rev, (&a, None), (&b, None)),
            Ordering::Greater
        );
    }

    #[test]
    fn summary_layout() {
        let keys: Vec<Vec<u8>> = (0..300u32).map(|i| i.to_be_bytes().to_vec()).collect();
        let entries: Vec<(&[u8], u64)> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.as_slice(), i as u64 * 7))
            .collect();
        let s = write_summary(&entries, 128);
        assert_eq!(&s[..8], &[0, 0, 0, 128, 0, 0, 0, 3]);
        // 3 entries of 4 + 8 bytes and 3 offsets.
        assert_eq!(i64::from_be_bytes(s[8..16].try_into().unwrap()), 12 + 36);
        assert_eq!(&s[20..24], &3i32.to_be_bytes());
        assert_eq!(u32::from_le_bytes(s[24..28].try_into().unwrap()), 12);
        assert_eq!(&s[36..40], &keys[0][..]);
        assert_eq!(&s[48..52], &keys[128][..]);
        assert_eq!(u64::from_le_bytes(s[52..60].try_into().unwrap()), 128 * 7);
        // First and last keys at the end.
        assert_eq!(&s[s.len() - 16..s.len() - 12], &4i32.to_be_bytes());
        assert_eq!(&s[s.len() - 4..], &keys[299][..]);
    }
}
