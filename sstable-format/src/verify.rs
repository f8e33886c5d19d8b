//! Deep verification of `Data.db` contents: the invariants Cassandra's
//! `sstableverify --extended` (`io/sstable/format/SortedTableVerifier`, 4.x `Verifier`) and
//! `Scrubber` check while reading every partition and row, on top of the checksums.
//!
//! [`verify_partitions`] drains a [`PartitionReader`] (3.0+ [`crate::data::DataReader`] or 2.x
//! [`crate::legacy::LegacyReader`]) and reports the **first** violation as an [`Error`] with
//! component `Data.db` and the byte offset (uncompressed) of the offending partition, row or
//! marker:
//!
//! * the stream decodes to its end (decode errors pass through unchanged);
//! * partitions are in strictly increasing (token, key) order (`DecoratedKey` order; not
//!   checked for `LocalPartitioner`, whose order is the key type's);
//! * no negative local deletion time, local expiration time or TTL, in partition deletions,
//!   row deletions, primary-key liveness, complex deletions, cells and range-tombstone markers.
//!   Cassandra 3.0/3.11 wrote such values when `now + ttl` overflowed 2038-01-19
//!   (CASSANDRA-14092, the `negative-local-expiration-test` sets) and 4.x checks
//!   `DeletionTime.validate()` (`localDeletionTime >= 0`) when reading
//!   (CASSANDRA-18676..18680, the `negative-ldts-invalid-deletions-test` sets);
//! * at most one static row, before every clustered row;
//! * clustered rows strictly increasing: with a comparator ([`ClusteringComparator`]), each row
//!   sorts after the previous one; without, no row repeats the previous row's clustering
//!   (the `cf_with_duplicates_3_0` case Cassandra's scrub repairs);
//! * range-tombstone markers pair up: an open bound only when none is open, a close or
//!   boundary only when one is, a close carrying the deletion that was opened, nothing left
//!   open at the end of a partition.

use std::cmp::Ordering;

use crate::cursor::Cursor;
use crate::data::{DeletionTime, PartitionReader, Unfiltered, EXPIRED_LIVENESS_TTL};
use crate::error::{Component, Error, Result};
use crate::partitioner::{Partitioner, Token};
use crate::statistics::{MetadataType, Statistics};
use crate::version::Version;

/// A quirk of a file written in the wild: bytes that Cassandra and ScyllaDB read although
/// they differ from what the format describes. The readers accept each one by its exact shape
/// (anything else stays an error) and `inspect --verify` reports it as a warning naming the
/// component and the byte offset. The quirks and the writers that produce them:
///
/// * **CRC.db with one checksum more than the slices of Data.db need**, the extra one being
///   the checksum of zero bytes (CRC32 `0x00000000`, Adler32 `0x00000001`). Cassandra's
///   `io/util/ChecksummedSequentialWriter.flushData` appends one checksum per buffer flush
///   (`crcMetadata.appendDirect(toAppend, false)`), and the final `doPrepare` ->
///   `syncInternal()` flushes again; when the buffer is already empty (Data.db ending on a
///   slice boundary), that flush appends the checksum of an empty buffer. Told from damage by
///   its shape: exactly one extra checksum, of the empty input; two or more extra, or one of
///   any other value, is an error ([`crate::crc::CrcDb::check_count_with`]).
/// * **Counter shards out of Cassandra's order** (Data.db, offset of the row). Cassandra keeps
///   the shards of a counter context sorted by counter id in unsigned byte order
///   (`db/context/CounterContext`, `CounterId.compareTo` = `ByteBufferUtil.compareUnsigned`).
///   ScyllaDB 1.7.4 and earlier, and later releases while a cluster does not yet support the
///   `CORRECT_COUNTER_ORDER` feature, sort them with `counter_id::less_compare_1_7_4`
///   (scylladb/scylladb `counters.cc`: the most significant 64 bits compared as a *signed*
///   `int64_t`, then the least significant ones, signed) and write them in that order
///   (`sstables/sstables.cc`, `write_counter_value`: `for (auto&& s :
///   ccv.shards_compatible_with_1_7_4()) write_shard(s)`, after a header listing every shard
///   as global, `std::numeric_limits<int16_t>::min() + i`). Its current order, `counter_id`'s
///   `operator<` = `utils::UUID::operator<` (`utils/UUID.hh`: both halves compared as
///   `uint64_t`), is Cassandra's byte order. Scylla reads any order
///   (`counter_cell_builder::add_maybe_unsorted_shard` then `sort_and_remove_duplicates`);
///   the lake sums the counts of a cell and merges contexts after sorting them, so the value is
///   Cassandra's. Told from damage by its shape ([`check_counter_shards`]): every shard global
///   and the ids strictly increasing in that signed order; repeated ids or any other order is
///   an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quirk {
    /// The component that carries it.
    pub component: Component,
    /// Byte offset of the quirk in that component.
    pub offset: u64,
    /// What it is and which writer produces it.
    pub message: String,
}

impl std::fmt::Display for Quirk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} at byte {}: {}",
            self.component.file_suffix(),
            self.offset,
            self.message
        )
    }
}

/// Compares two clusterings of the table (values as stored, `None` for a null/missing
/// component). Must order them as the table's clustering comparator does (reversed columns
/// included).
pub type ClusteringComparator<'a> = dyn Fn(&[Option<&[u8]>], &[Option<&[u8]>]) -> Ordering + 'a;

/// What a successful [`verify_partitions`] saw.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct VerifySummary {
    /// Partitions read.
    pub partitions: u64,
    /// Rows (static included) read.
    pub rows: u64,
    /// Range-tombstone markers read.
    pub markers: u64,
    /// Cells read.
    pub cells: u64,
}

fn fail(offset: u64, message: String) -> Error {
    Error::invalid(Component::Data, offset, message)
}

/// Checks a deletion's local deletion time (`DeletionTime.validate`).
fn check_deletion(d: &DeletionTime, offset: u64, what: &str) -> Result<()> {
    if !d.is_live() && d.local_deletion_time < 0 {
        return Err(fail(
            offset,
            format!(
                "{what} has a negative local deletion time {} (timestamp {}): invalid deletion",
                d.local_deletion_time, d.marked_for_delete_at
            ),
        ));
    }
    Ok(())
}

fn check_expiration(ttl: i32, local_expiration_time: i64, offset: u64, what: &str) -> Result<()> {
    if ttl < 0 {
        return Err(fail(offset, format!("{what} has a negative TTL {ttl}")));
    }
    if local_expiration_time < 0 {
        return Err(fail(
            offset,
            format!(
                "{what} has a negative local expiration time {local_expiration_time} (TTL {ttl}): \
                 the expiration overflowed (CASSANDRA-14092)"
            ),
        ));
    }
    Ok(())
}

/// Reads every partition and row of `reader` and checks the invariants listed in the module
/// documentation; returns what was read, or the first violation (see the module docs).
///
/// `partitioner` (from Statistics.db) enables the partition-order check; `compare` enables the
/// full clustering-order check (otherwise only exact repeats are caught).
pub fn verify_partitions(
    reader: &mut dyn PartitionReader,
    partitioner: Option<Partitioner>,
    compare: Option<&ClusteringComparator<'_>>,
) -> Result<VerifySummary> {
    verify_partitions_with(reader, partitioner, compare, None, &mut Vec::new())
}

/// Says which cells hold counter contexts: `(is_static, column)` with `column` the index of
/// [`crate::data::Cell::column`] (the row's static or regular columns).
pub type CounterColumns<'a> = dyn Fn(bool, u32) -> bool + 'a;

/// [`verify_partitions`], also checking the shard order of every live cell of the columns
/// `counters` names ([`check_counter_shards`]); the quirks found are pushed onto `quirks`.
pub fn verify_partitions_with(
    reader: &mut dyn PartitionReader,
    partitioner: Option<Partitioner>,
    compare: Option<&ClusteringComparator<'_>>,
    counters: Option<&CounterColumns<'_>>,
    quirks: &mut Vec<Quirk>,
) -> Result<VerifySummary> {
    let mut summary = VerifySummary::default();
    let partitioner = partitioner.filter(|p| *p != Partitioner::Local);
    let mut previous_key: Option<(Token, Vec<u8>)> = None;
    loop {
        let (key, offset) = {
            let Some(header) = reader.next_partition()? else {
                break;
            };
            let offset = header.offset.0;
            check_deletion(&header.deletion, offset, "partition deletion")?;
            (header.key.to_vec(), offset)
        };
        summary.partitions += 1;
        if let Some(p) = partitioner {
            let token = p.token(&key);
            if let Some((pt, pk)) = &previous_key {
                let order = pt.cmp(&token).then_with(|| pk.as_slice().cmp(&key));
                if order != Ordering::Less {
                    return Err(fail(
                        offset,
                        format!(
                            "partition key 0x{} (token {token}) {} the previous one 0x{} (token {pt}): \
                             partitions out of order",
                            hex(&key),
                            if order == Ordering::Equal { "repeats" } else { "sorts before" },
                            hex(pk)
                        ),
                    ));
                }
            }
            previous_key = Some((token, key));
        }
        verify_partition_body(reader, compare, counters, quirks, &mut summary)?;
    }
    Ok(summary)
}

/// Sanity checks of Statistics.db's STATS metadata, as Cassandra and ScyllaDB apply on load:
/// the tombstone drop-time histogram must hold at most `max_bin_size` bins, with finite,
/// strictly increasing points and positive counts (Cassandra keeps bins in a sorted map;
/// ScyllaDB's `sstable_bad_tombstone_histogram_test` has a file whose bins are unsorted and
/// discards it); estimated histograms must not hold negative counts. The error names
/// `Statistics.db` and the offset of the STATS component (0 for `jb`, which has no table).
pub fn verify_statistics(statistics: &Statistics) -> Result<()> {
    let Some(stats) = &statistics.stats else {
        return Ok(());
    };
    let at = statistics
        .entries
        .iter()
        .find(|e| e.kind == MetadataType::Stats)
        .map_or(0, |e| e.offset);
    let bad = |m: String| Err(Error::invalid(Component::Statistics, at, m));
    let h = &stats.tombstone_histogram;
    if let Some(max) = h.max_bin_size {
        if max >= 0 && h.bins.len() > max as usize {
            return bad(format!(
                "tombstone histogram has {} bins, more than its maximum {max}",
                h.bins.len()
            ));
        }
    }
    let mut previous: Option<f64> = None;
    for (i, (point, count)) in h.bins.iter().enumerate() {
        if !point.is_finite() || *count <= 0 {
            return bad(format!(
                "tombstone histogram bin {i} is invalid (point {point}, count {count})"
            ));
        }
        if let Some(p) = previous {
            if *point <= p {
                return bad(format!(
                    "tombstone histogram bins are not in increasing order: bin {i} ({point}) after {p}"
                ));
            }
        }
        previous = Some(*point);
    }
    for (name, e) in [
        ("partition size", &stats.partition_sizes),
        ("cells per partition", &stats.cells_per_partition),
    ] {
        if e.buckets.iter().any(|b| *b < 0) {
            return bad(format!("{name} histogram has a negative count"));
        }
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

type Clustering = Vec<Option<Vec<u8>>>;

fn borrowed(c: &Clustering) -> Vec<Option<&[u8]>> {
    c.iter().map(|v| v.as_deref()).collect()
}

fn show(c: &[Option<&[u8]>]) -> String {
    let parts: Vec<String> = c
        .iter()
        .map(|v| v.map_or_else(|| "null".to_string(), |b| format!("0x{}", hex(b))))
        .collect();
    format!("({})", parts.join(", "))
}

/// The counter id of a shard as `counter_id::less_compare_1_7_4` orders it: the most and least
/// significant 64 bits as signed integers.
fn scylla_1_7_4_key(id: &[u8; 16]) -> (i64, i64) {
    let (hi, lo) = id.split_at(8);
    let be = |b: &[u8]| b.iter().fold(0u64, |a, &x| (a << 8) | u64::from(x)) as i64;
    (be(hi), be(lo))
}

/// Checks the shard order of one counter context (`value`, a live counter cell of the row at
/// `offset` in Data.db). Cassandra's order (ids strictly increasing, unsigned bytes) gives
/// `None`; ScyllaDB's pre-1.7.4 order (every shard global, ids strictly increasing as two
/// signed 64-bit integers, see [`Quirk`]) gives the quirk; anything else (a repeated id, or
/// shards in neither order) is an error: no writer produces it.
pub fn check_counter_shards(value: &[u8], offset: u64) -> Result<Option<Quirk>> {
    let ctx = crate::value::CounterContext::parse(value)
        .map_err(|e| fail(offset, format!("counter cell: {e}")))?;
    let ids: Vec<&[u8; 16]> = ctx.shards.iter().map(|s| &s.counter_id).collect();
    if ids.windows(2).all(|w| matches!(w, [a, b] if a < b)) {
        return Ok(None);
    }
    let all_global = ctx
        .shards
        .iter()
        .all(|s| s.kind == crate::value::ShardKind::Global);
    let scylla = ids
        .windows(2)
        .all(|w| matches!(w, [a, b] if scylla_1_7_4_key(a) < scylla_1_7_4_key(b)));
    if all_global && scylla {
        return Ok(Some(Quirk {
            component: Component::Data,
            offset,
            message:
                ("counter cell(s) with shards in ScyllaDB 1.7.4 order (counter ids as signed \
                 64-bit pairs, `write_counter_value` / `shards_compatible_with_1_7_4`), not \
                 Cassandra's byte order; read as Cassandra does (the counts are summed)")
                    .to_string(),
        }));
    }
    Err(fail(
        offset,
        format!(
            "counter cell shards are repeated or out of order ({} shards, ids {}): \
             neither Cassandra's nor ScyllaDB's shard order",
            ids.len(),
            ids.iter()
                .map(|i| hex(i.as_slice()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ))
}

fn verify_partition_body(
    reader: &mut dyn PartitionReader,
    compare: Option<&ClusteringComparator<'_>>,
    counters: Option<&CounterColumns<'_>>,
    quirks: &mut Vec<Quirk>,
    summary: &mut VerifySummary,
) -> Result<()> {
    let mut seen_clustered = false;
    let mut seen_static = false;
    let mut previous_row: Option<Clustering> = None;
    let mut open: Option<DeletionTime> = None;
    let mut last_offset = reader.position().0;
    while let Some(item) = reader.next_unfiltered()? {
        match item {
            Unfiltered::Row(row) => {
                let at = row.offset.0;
                last_offset = at;
                summary.rows += 1;
                summary.cells += row.cells.len() as u64;
                if row.is_static {
                    if seen_static || seen_clustered {
                        return Err(fail(
                            at,
                            "static row after another static or clustered row".to_string(),
                        ));
                    }
                    seen_static = true;
                } else {
                    seen_clustered = true;
                    if let Some(prev) = &previous_row {
                        let prev = borrowed(prev);
                        let order = match compare {
                            Some(cmp) => cmp(&prev, &row.clustering),
                            None if prev == row.clustering => Ordering::Equal,
                            None => Ordering::Less,
                        };
                        if order != Ordering::Less {
                            return Err(fail(
                                at,
                                format!(
                                    "row {} {} the previous row {}: rows out of order",
                                    show(&row.clustering),
                                    if order == Ordering::Equal {
                                        "duplicates"
                                    } else {
                                        "sorts before"
                                    },
                                    show(&prev)
                                ),
                            ));
                        }
                    }
                    previous_row = Some(
                        row.clustering
                            .iter()
                            .map(|v| v.map(<[u8]>::to_vec))
                            .collect(),
                    );
                }
                check_deletion(&row.deletion, at, "row deletion")?;
                if let Some(d) = &row.scylla_shadowable_deletion {
                    check_deletion(d, at, "row shadowable deletion")?;
                }
                if let Some((ttl, let_)) = row.liveness.ttl {
                    if ttl != EXPIRED_LIVENESS_TTL {
                        check_expiration(ttl, let_, at, "row liveness")?;
                    } else if let_ < 0 {
                        return Err(fail(
                            at,
                            format!(
                                "expired row liveness has a negative local deletion time {let_}"
                            ),
                        ));
                    }
                }
                for (column, d) in &row.complex_deletions {
                    check_deletion(d, at, &format!("complex deletion of column {column}"))?;
                }
                for cell in &row.cells {
                    match cell.kind {
                        crate::data::CellKind::Live => {
                            if counters.is_some_and(|f| f(row.is_static, cell.column))
                                && !cell.value.is_empty()
                            {
                                if let Some(q) = check_counter_shards(cell.value, at)? {
                                    // One warning per file is enough to name the quirk.
                                    if !quirks.iter().any(|x| x.message == q.message) {
                                        quirks.push(q);
                                    }
                                }
                            }
                        }
                        crate::data::CellKind::Expiring {
                            ttl,
                            local_expiration_time,
                        } => check_expiration(
                            ttl,
                            local_expiration_time,
                            at,
                            &format!("cell of column {}", cell.column),
                        )?,
                        crate::data::CellKind::Tombstone {
                            local_deletion_time,
                        } => {
                            if local_deletion_time < 0 {
                                return Err(fail(
                                    at,
                                    format!(
                                        "tombstone of column {} has a negative local deletion time {local_deletion_time}: invalid deletion",
                                        cell.column
                                    ),
                                ));
                            }
                        }
                    }
                }
            }
            Unfiltered::Marker(m) => {
                let at = m.offset.0;
                last_offset = at;
                summary.markers += 1;
                seen_clustered = true;
                let clustering = show(&m.values);
                if let Some(d) = &m.close {
                    check_deletion(d, at, "range tombstone")?;
                    match open.take() {
                        None => {
                            return Err(fail(
                                at,
                                format!("range tombstone closed at {clustering} was never opened"),
                            ))
                        }
                        Some(o) if o != *d => {
                            return Err(fail(
                                at,
                                format!(
                                    "range tombstone closed at {clustering} with deletion ({}, {}) but opened with ({}, {})",
                                    d.marked_for_delete_at,
                                    d.local_deletion_time,
                                    o.marked_for_delete_at,
                                    o.local_deletion_time
                                ),
                            ))
                        }
                        Some(_) => {}
                    }
                }
                if let Some(d) = &m.open {
                    check_deletion(d, at, "range tombstone")?;
                    if open.is_some() {
                        return Err(fail(
                            at,
                            format!(
                                "range tombstone opened at {clustering} while another is open: range tombstones must be disjoint"
                            ),
                        ));
                    }
                    open = Some(*d);
                }
            }
        }
    }
    if open.is_some() {
        return Err(fail(
            last_offset,
            "partition ends with a range tombstone still open".to_string(),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Summary.db against Index.db
// ---------------------------------------------------------------------------------------------

/// Checks `Summary.db` (`IndexSummary`): it must parse whole (a 0-byte or cut file is an
/// error, as Cassandra's `IndexSummary.serializer.deserialize` fails on it) and, with the
/// set's `Index.db`, every sampled entry must point at the start of an `Index.db` entry with
/// the same key, at increasing positions, and its first and last keys must be the index's.
/// Returns the number of sampled entries.
pub fn verify_summary(summary: &[u8], version: Version, index: Option<&[u8]>) -> Result<u64> {
    let s = crate::summary::Summary::parse(summary, version)?;
    let n = s.entries().len() as u64;
    let Some(index) = index else {
        return Ok(n);
    };
    let bad = |message: String| Error::invalid(Component::Summary, 0, message);
    let idx = crate::index::Index::new(index, version)?;
    let mut prev: Option<u64> = None;
    for (i, e) in s.entries().iter().enumerate() {
        if prev.is_some_and(|p| p >= e.index_offset.0) {
            return Err(bad(format!(
                "entry {i} points at Index.db byte {}, not after the previous entry's {}",
                e.index_offset.0,
                prev.unwrap_or(0)
            )));
        }
        prev = Some(e.index_offset.0);
        let ie = idx.entry_at(e.index_offset).map_err(|err| {
            bad(format!(
                "entry {i} points at Index.db byte {}, where no index entry decodes ({err})",
                e.index_offset.0
            ))
        })?;
        if ie.key != e.key {
            return Err(bad(format!(
                "entry {i} has key 0x{} but the Index.db entry at byte {} has key 0x{}",
                hex(e.key),
                e.index_offset.0,
                hex(ie.key)
            )));
        }
    }
    let mut first: Option<&[u8]> = None;
    let mut last: Option<&[u8]> = None;
    for e in crate::index::Index::parse_entries(index, version)? {
        let e = e?;
        first.get_or_insert(e.key);
        last = Some(e.key);
    }
    match (first, last) {
        (Some(f), Some(l)) if f != s.first_key() || l != s.last_key() => {
            return Err(bad(format!(
                "first/last keys 0x{}/0x{} are not Index.db's 0x{}/0x{}",
                hex(s.first_key()),
                hex(s.last_key()),
                hex(f),
                hex(l)
            )));
        }
        (Some(_), Some(_)) => {}
        _ if n > 0 => return Err(bad(format!("{n} sampled entries but Index.db is empty"))),
        _ => {}
    }
    Ok(n)
}

// ---------------------------------------------------------------------------------------------
// Partition index against Data.db
// ---------------------------------------------------------------------------------------------

/// What a successful [`verify_partition_index`] saw.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct IndexSummary {
    /// Index entries matched with the partitions of Data.db.
    pub entries: u64,
    /// Promoted-index blocks decoded and matched with Data.db.
    pub blocks: u64,
}

/// `IndexInfo.WIDTH_BASE` (3.0+): widths are stored as `width - 64 KiB`.
const WIDTH_BASE: i64 = 64 * 1024;

/// `ClusteringPrefix.Kind.CLUSTERING`.
const KIND_CLUSTERING: u8 = 4;

/// The name a promoted-index block records for its first or last item.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Name {
    /// A 2.x cell name or range-tombstone start, as stored.
    Raw(Vec<u8>),
    /// A 3.0+ clustering prefix: `ClusteringPrefix.Kind` ordinal and values.
    Prefix(u8, Vec<Option<Vec<u8>>>),
}

impl Name {
    fn show(&self) -> String {
        match self {
            Name::Raw(b) => format!("0x{}", hex(b)),
            Name::Prefix(kind, values) => {
                let v: Vec<Option<&[u8]>> = values.iter().map(|v| v.as_deref()).collect();
                let what = if *kind == KIND_CLUSTERING {
                    "row".to_string()
                } else {
                    format!("bound kind {kind}")
                };
                format!("{what} {}", show(&v))
            }
        }
    }
}

/// One decoded promoted-index block, positions made absolute in Data.db.
#[derive(Debug)]
struct Block {
    first: Name,
    last: Name,
    start: u64,
    end: u64,
    /// 3.0+: the range-tombstone deletion open after the block (`endOpenMarker`).
    end_open: Option<Option<DeletionTime>>,
}

/// One cell / range tombstone (2.x) or row / marker (3.0+) of Data.db.
struct Item {
    offset: u64,
    name: Name,
    is_range_tombstone: bool,
    /// 3.0+: the deletion open after this item.
    open_after: Option<DeletionTime>,
}

fn bound_ordinal(kind: crate::data::BoundKind) -> u8 {
    use crate::data::BoundKind as K;
    match kind {
        K::ExclEndBound => 0,
        K::InclStartBound => 1,
        K::ExclEndInclStartBoundary => 2,
        K::InclEndExclStartBoundary => 5,
        K::InclEndBound => 6,
        K::ExclStartBound => 7,
    }
}

/// Walks Data.db item by item: schema-free atoms for 2.x, rows and markers for 3.0+.
enum Walker<S> {
    Legacy {
        buf: crate::buffer::ChunkBuffer<S>,
        in_partition: bool,
        /// `ic`: whether partitions carry a data size and an atom count, and the atoms left.
        sized: bool,
        atoms_left: Option<u64>,
    },
    Rows {
        reader: Box<crate::data::DataReader<S>>,
        open: Option<DeletionTime>,
    },
}

impl<S: crate::source::DataSource> Walker<S> {
    fn position(&self) -> u64 {
        match self {
            Walker::Legacy { buf, .. } => buf.position().0,
            Walker::Rows { reader, .. } => reader.position().0,
        }
    }

    fn next_partition(&mut self) -> Result<Option<(Vec<u8>, u64)>> {
        match self {
            Walker::Legacy { in_partition, .. } if *in_partition => {
                while self.next_item()?.is_some() {}
                self.next_partition()
            }
            Walker::Legacy {
                buf,
                in_partition,
                sized,
                atoms_left,
            } => {
                if buf.available() == 0 && buf.at_end()? {
                    return Ok(None);
                }
                let sized = *sized;
                let n = buf.measure(|c| {
                    let from = c.position();
                    crate::legacy::read_partition_header(c, sized)?;
                    Ok(c.position() - from)
                })?;
                buf.ensure(n)?;
                let offset = buf.position().0;
                let mut c = buf.take(n);
                let (key, _, sizes) = crate::legacy::read_partition_header(&mut c, sized)?;
                *atoms_left = sizes.map(|s| s.1);
                *in_partition = true;
                Ok(Some((key.to_vec(), offset)))
            }
            Walker::Rows { reader, open } => {
                *open = None;
                Ok(reader
                    .next_partition()?
                    .map(|h| (h.key.to_vec(), h.offset.0)))
            }
        }
    }

    fn next_item(&mut self) -> Result<Option<Item>> {
        match self {
            Walker::Legacy {
                buf,
                in_partition,
                atoms_left,
                ..
            } => {
                if !*in_partition {
                    return Ok(None);
                }
                if *atoms_left == Some(0) {
                    *in_partition = false;
                    return Ok(None);
                }
                if let Some(n) = atoms_left.as_mut() {
                    *n -= 1;
                }
                let (n, atom) = buf.measure(|c| {
                    let from = c.position();
                    let atom = crate::legacy::read_atom_name(c)?.map(|(n, rt)| (n.to_vec(), rt));
                    Ok((c.position() - from, atom))
                })?;
                buf.ensure(n)?;
                let offset = buf.position().0;
                buf.take(n);
                match atom {
                    None => {
                        *in_partition = false;
                        Ok(None)
                    }
                    Some((name, is_range_tombstone)) => Ok(Some(Item {
                        offset,
                        name: Name::Raw(name),
                        is_range_tombstone,
                        open_after: None,
                    })),
                }
            }
            Walker::Rows { reader, open } => loop {
                let owned = |v: &[Option<&[u8]>]| v.iter().map(|x| x.map(<[u8]>::to_vec)).collect();
                match reader.next_unfiltered()? {
                    None => return Ok(None),
                    Some(Unfiltered::Row(r)) if r.is_static => continue,
                    Some(Unfiltered::Row(r)) => {
                        return Ok(Some(Item {
                            offset: r.offset.0,
                            name: Name::Prefix(KIND_CLUSTERING, owned(&r.clustering)),
                            is_range_tombstone: false,
                            open_after: *open,
                        }))
                    }
                    Some(Unfiltered::Marker(m)) => {
                        if m.close.is_some() {
                            *open = None;
                        }
                        if m.open.is_some() {
                            *open = m.open;
                        }
                        return Ok(Some(Item {
                            offset: m.offset.0,
                            name: Name::Prefix(bound_ordinal(m.kind), owned(&m.values)),
                            is_range_tombstone: true,
                            open_after: *open,
                        }));
                    }
                }
            },
        }
    }
}

/// Reads a 3.0+ clustering prefix of an `IndexInfo` (`ClusteringPrefix.Serializer`: kind
/// byte; for bounds a u16 size; then the values with their 2-bit null/empty headers).
fn read_prefix(c: &mut Cursor<'_>, widths: &[Option<usize>]) -> Result<Name> {
    let at = c.offset();
    let kind = c.read_u8("clustering prefix kind")?;
    let count = match kind {
        KIND_CLUSTERING => widths.len(),
        0 | 1 | 2 | 5 | 6 | 7 => usize::from(c.read_u16("clustering prefix size")?),
        k => {
            return Err(c.invalid_at(
                at,
                format!("invalid clustering prefix kind {k} in a promoted index block"),
            ))
        }
    };
    if count > widths.len() {
        return Err(c.invalid_at(
            at,
            format!(
                "clustering prefix has {count} values but the table has {} clustering columns",
                widths.len()
            ),
        ));
    }
    let mut values = Vec::with_capacity(count);
    let mut header = 0u64;
    for (i, width) in widths.iter().take(count).enumerate() {
        if i % 32 == 0 {
            header = c.read_uvint("clustering header")?;
        }
        let shift = (i % 32) * 2;
        if header & (1u64 << (shift + 1)) != 0 {
            values.push(None);
        } else if header & (1u64 << shift) != 0 {
            values.push(Some(Vec::new()));
        } else {
            let v = match width {
                Some(n) => c.read_bytes(*n, "clustering value")?,
                None => c.read_vint_bytes("clustering value")?,
            };
            values.push(Some(v.to_vec()));
        }
    }
    Ok(Name::Prefix(kind, values))
}

/// A deletion time of the Index.db format (2.x/3.x: int + long; 5.0: its own encoding).
fn read_index_deletion(c: &mut Cursor<'_>, version: Version) -> Result<Option<DeletionTime>> {
    if version.has_uint_deletion_time() {
        crate::index::skip_deletion_time(c, version)?;
        return Ok(None);
    }
    let at = c.offset();
    let d = crate::legacy::read_legacy_deletion_time(c)?;
    if !d.is_live() && d.local_deletion_time < 0 {
        return Err(c.invalid_at(
            at,
            format!(
                "promoted index deletion has a negative local deletion time {}",
                d.local_deletion_time
            ),
        ));
    }
    Ok(Some(d))
}

/// Decodes a whole promoted index (`RowIndexEntry` of 2.x: DeletionTime, int count, then
/// `IndexInfo`s of two short-length names, long offset, long width; of 3.0+: uvint partition
/// header length, DeletionTime, uvint count, `IndexInfo`s of two clustering prefixes, uvint
/// offset, vint width - 64 KiB, end-open marker, then the int offsets of the `IndexInfo`s).
/// Checks the blocks are in order, do not overlap and start after the partition header;
/// returns them with absolute Data.db positions.
fn decode_promoted_index(
    pi: &[u8],
    pi_offset: u64,
    partition_start: u64,
    key_len: usize,
    version: Version,
    widths: &[Option<usize>],
) -> Result<Vec<Block>> {
    let mut c = Cursor::with_base(pi, Component::Index, pi_offset);
    let legacy = version.has_fixed_width_index_entries();
    let (header_len, count) = if legacy {
        read_index_deletion(&mut c, version)?;
        let at = c.offset();
        let n = c.read_i32("promoted index block count")?;
        let n = usize::try_from(n)
            .map_err(|_| c.invalid_at(at, format!("negative promoted index block count {n}")))?;
        (2 + key_len as u64 + 12, n)
    } else {
        let h = c.read_uvint("partition header length")?;
        read_index_deletion(&mut c, version)?;
        let at = c.offset();
        let n = c.read_uvint("promoted index block count")?;
        let n = usize::try_from(n)
            .ok()
            .filter(|n| *n <= c.remaining())
            .ok_or_else(|| {
                c.invalid_at(at, format!("impossible promoted index block count {n}"))
            })?;
        (h, n)
    };
    if count == 0 {
        return Err(c.invalid("promoted index with no blocks"));
    }
    let infos_start = c.position();
    let mut positions = Vec::new();
    let mut blocks: Vec<Block> = Vec::new();
    let mut previous_end = header_len;
    for i in 0..count {
        let at = c.offset();
        positions.push(c.position() - infos_start);
        let (first, last, offset, width, end_open) = if legacy {
            let first = Name::Raw(c.read_short_bytes("index block first name")?.to_vec());
            let last = Name::Raw(c.read_short_bytes("index block last name")?.to_vec());
            let offset = c.read_i64("index block offset")?;
            let width = c.read_i64("index block width")?;
            (first, last, offset, width, None)
        } else {
            let first = read_prefix(&mut c, widths)?;
            let last = read_prefix(&mut c, widths)?;
            let offset = i64::try_from(c.read_uvint("index block offset")?).unwrap_or(-1);
            let width = c
                .read_svint("index block width")?
                .saturating_add(WIDTH_BASE);
            let open = if c.read_bool("index block end-open marker flag")? {
                read_index_deletion(&mut c, version)?
            } else {
                None
            };
            (first, last, offset, width, Some(open))
        };
        let (Ok(offset), Ok(width)) = (u64::try_from(offset), u64::try_from(width)) else {
            return Err(c.invalid_at(
                at,
                format!("promoted index block {i} has offset {offset} and width {width}"),
            ));
        };
        if offset < previous_end {
            return Err(c.invalid_at(
                at,
                format!(
                    "promoted index block {i} (offset {offset}, width {width}) {}",
                    if i == 0 {
                        format!("starts inside the partition header ({header_len} bytes)")
                    } else {
                        format!("overlaps or precedes the previous block (which ends at {previous_end})")
                    }
                ),
            ));
        }
        // ScyllaDB's 2.x writer records an open range tombstone as a block of width 0 at the
        // offset where the next block starts (its `promoted_index_read` test data): allowed.
        previous_end = offset.saturating_add(width);
        blocks.push(Block {
            first,
            last,
            start: partition_start.saturating_add(offset),
            end: partition_start.saturating_add(previous_end),
            end_open,
        });
    }
    if !legacy {
        for (i, want) in positions.iter().enumerate() {
            let at = c.offset();
            let got = c.read_i32("promoted index block offset")?;
            if usize::try_from(got).ok() != Some(*want) {
                return Err(c.invalid_at(
                    at,
                    format!(
                        "promoted index offsets table says block {i} is at {got}, it is at {want}"
                    ),
                ));
            }
        }
    }
    c.expect_end("promoted index")?;
    Ok(blocks)
}

/// A hint when an index name is the data's name wrapped as a one-component composite.
fn wrapped_hint(index: &Name, data: &Name) -> &'static str {
    if let (Name::Raw(i), Name::Raw(d)) = (index, data) {
        if i.len() == d.len() + 3
            && i.get(..2) == Some(&(d.len() as u16).to_be_bytes()[..])
            && i.get(2..2 + d.len()) == Some(d.as_slice())
            && i.last() == Some(&0)
        {
            return " (the index holds the name as a one-component composite while Data.db holds \
                     the plain non-compound name: the promoted index of a non-compound table \
                     written by ScyllaDB before its NonCompoundPIEntries fix, scylladb#2993, \
                     which ScyllaDB itself refuses to trust)";
        }
    }
    ""
}

/// Matches the blocks of one partition with its items as they are read.
struct BlockMatcher {
    blocks: Vec<Block>,
    at: u64,
    component: Component,
    /// Next block to start.
    next: usize,
    /// The block being read, with the last item seen in it.
    current: Option<(usize, Option<Item>)>,
    /// 2.x: the block whose first name is still to be seen (repeated range tombstones may come
    /// first).
    pending_first: Option<usize>,
}

impl BlockMatcher {
    fn fail(&self, message: String) -> Error {
        Error::invalid(self.component, self.at, message)
    }

    fn finish_block(&mut self, i: usize, last: Option<Item>) -> Result<()> {
        let Some(block) = self.blocks.get(i) else {
            return Ok(());
        };
        if let Some(p) = self.pending_first {
            if p == i {
                return Err(self.fail(format!(
                    "promoted index block {i} starts with {} but Data.db holds no such item in \
                     the block at bytes {}..{}",
                    block.first.show(),
                    block.start,
                    block.end
                )));
            }
        }
        let Some(last) = last else {
            return Err(self.fail(format!("promoted index block {i} holds no item")));
        };
        if last.name != block.last {
            return Err(self.fail(format!(
                "promoted index block {i} ends with {} but the last item of the block in \
                 Data.db (byte {}) is {}{}",
                block.last.show(),
                last.offset,
                last.name.show(),
                wrapped_hint(&block.last, &last.name)
            )));
        }
        if let Some(open) = block.end_open {
            if open != last.open_after {
                return Err(self.fail(format!(
                    "promoted index block {i} says {} range tombstone is open at its end, \
                     Data.db says {}",
                    if open.is_some() { "a" } else { "no" },
                    if last.open_after.is_some() {
                        "one is"
                    } else {
                        "none is"
                    }
                )));
            }
        }
        Ok(())
    }

    fn item(&mut self, item: Item, legacy: bool) -> Result<()> {
        if let Some((i, last)) = self.current.take() {
            let end = self.blocks.get(i).map_or(0, |b| b.end);
            if item.offset >= end {
                self.finish_block(i, last)?;
            } else {
                self.current = Some((i, last));
            }
        }
        while let Some(block) = self.blocks.get(self.next) {
            if item.offset != block.start || block.end != block.start {
                break;
            }
            // A block of width 0 names the item at its offset.
            if item.name != block.first || block.last != block.first {
                return Err(self.fail(format!(
                    "promoted index block {} (width 0) names {} but Data.db has {} at byte {}",
                    self.next,
                    block.first.show(),
                    item.name.show(),
                    item.offset
                )));
            }
            self.next += 1;
        }
        if let Some(block) = self.blocks.get(self.next) {
            if item.offset == block.start {
                if self.current.is_some() {
                    return Err(self.fail(format!(
                        "promoted index block {} starts at Data.db byte {} inside the previous block",
                        self.next, block.start
                    )));
                }
                self.current = Some((self.next, None));
                self.pending_first = Some(self.next);
                self.next += 1;
            } else if item.offset > block.start {
                return Err(self.fail(format!(
                    "promoted index block {} starts at Data.db byte {}, where no {} starts",
                    self.next,
                    block.start,
                    if legacy { "cell" } else { "row or marker" }
                )));
            }
        }
        if let Some(p) = self.pending_first {
            if let Some(block) = self.blocks.get(p) {
                if item.name == block.first {
                    self.pending_first = None;
                } else if !(legacy && item.is_range_tombstone) {
                    // 2.x repeats the open range tombstones at the start of a block, before
                    // its first name; nothing else may come first.
                    return Err(self.fail(format!(
                        "promoted index block {p} starts with {} but Data.db has {} there \
                         (byte {}){}",
                        block.first.show(),
                        item.name.show(),
                        item.offset,
                        wrapped_hint(&block.first, &item.name)
                    )));
                }
            }
        }
        if let Some((_, last)) = &mut self.current {
            *last = Some(item);
        }
        Ok(())
    }

    fn end(&mut self, partition_end: u64) -> Result<()> {
        if let Some((i, last)) = self.current.take() {
            self.finish_block(i, last)?;
        }
        if let Some(b) = self.blocks.iter().position(|b| b.end > partition_end) {
            return Err(self.fail(format!(
                "promoted index block {b} ends at Data.db byte {}, after the partition's end at {}",
                self.blocks.get(b).map_or(0, |b| b.end),
                partition_end
            )));
        }
        if self.next < self.blocks.len() {
            return Err(self.fail(format!(
                "promoted index block {} starts at Data.db byte {}, where no item starts",
                self.next,
                self.blocks.get(self.next).map_or(0, |b| b.start)
            )));
        }
        Ok(())
    }
}

/// Cross-checks the partition index with Data.db: every entry of Index.db (BIG) or
/// Partitions.db (BTI, through [`crate::partitions::partition_offsets`]) must point at the
/// start of the next partition of Data.db, with the same key, in the same order and count.
/// Every promoted index of Index.db is decoded whole (`decode_promoted_index`) and matched
/// with the data: each block must start where a cell (2.x) or row/marker (3.0+) starts, its
/// first and last names must be those of the first and last items of the block, it must end
/// within the partition, and (3.0+) its end-open marker must be the range tombstone open at
/// its end. BTI row indexes (Rows.db) are not decoded here.
///
/// `source` reads Data.db from its start; `layout` (3.0+ only, from the serialization header)
/// is required for 3.0+ files. Errors name Index.db (or Partitions.db) and the entry's offset
/// for what the index says, Data.db and the offset for what cannot be decoded there.
pub fn verify_partition_index<S: crate::source::DataSource>(
    source: S,
    files: crate::partitions::IndexFiles<'_>,
    version: Version,
    layout: Option<crate::data::Layout>,
) -> Result<IndexSummary> {
    use crate::partitions::IndexFiles;
    let legacy = version.is_legacy_layout();
    let widths = layout
        .as_ref()
        .map(|l| l.clustering.clone())
        .unwrap_or_default();
    let mut walker = if legacy {
        Walker::Legacy {
            buf: crate::buffer::ChunkBuffer::new(source),
            in_partition: false,
            sized: version.has_row_size_and_column_count(),
            atoms_left: None,
        }
    } else {
        let layout = layout.ok_or_else(|| {
            Error::invalid(
                Component::Statistics,
                0,
                "no serialization header: the partition index cannot be checked",
            )
        })?;
        Walker::Rows {
            reader: Box::new(crate::data::DataReader::new(source, layout)),
            open: None,
        }
    };
    // (key, data offset, index offset, promoted index, its offset)
    type Entry<'a> = (Option<&'a [u8]>, u64, u64, &'a [u8], u64);
    let (component, index_len, mut entries): (
        Component,
        u64,
        Box<dyn Iterator<Item = Result<Entry<'_>>>>,
    ) = match files {
        IndexFiles::Big { index } => (
            Component::Index,
            index.len() as u64,
            Box::new(
                crate::index::Index::parse_entries(index, version)?.map(move |r| {
                    r.map(|e| {
                        let fields = if version.has_fixed_width_index_entries() {
                            12
                        } else {
                            crate::cursor::uvint_size(e.data_offset.0)
                                + crate::cursor::uvint_size(e.promoted_index.len() as u64)
                        };
                        let pi_at = e.index_offset.0 + 2 + e.key.len() as u64 + fields as u64;
                        (
                            Some(e.key),
                            e.data_offset.0,
                            e.index_offset.0,
                            e.promoted_index,
                            pi_at,
                        )
                    })
                }),
            ),
        ),
        IndexFiles::Bti { partitions, .. } => (
            Component::Partitions,
            partitions.len() as u64,
            Box::new(
                crate::partitions::partition_offsets(files, version)?
                    .map(|r| r.map(|p| (p.key, p.data_offset.0, 0, &[][..], 0))),
            ),
        ),
    };
    let what = if component == Component::Index {
        "Index.db"
    } else {
        "Partitions.db"
    };
    let mut summary = IndexSummary::default();
    loop {
        let data = walker.next_partition()?;
        let entry = entries.next().transpose()?;
        let n = summary.entries;
        let ((key, start), (ikey, ioffset, at, pi, pi_at)) = match (data, entry) {
            (None, None) => break,
            (Some((key, start)), None) => {
                return Err(Error::invalid(
                    component,
                    index_len,
                    format!(
                        "{what} ends after {n} entries but Data.db has another partition (key \
                         0x{}) at byte {start}",
                        hex(&key)
                    ),
                ))
            }
            (None, Some((ikey, ioffset, at, _, _))) => {
                return Err(Error::invalid(
                    component,
                    at,
                    format!(
                        "entry {n} (key {}) points at Data.db byte {ioffset}, but Data.db holds \
                         only {n} partitions",
                        ikey.map_or_else(|| "not stored".to_string(), |k| format!("0x{}", hex(k)))
                    ),
                ))
            }
            (Some(d), Some(e)) => (d, e),
        };
        if ioffset != start {
            return Err(Error::invalid(
                component,
                at,
                format!(
                    "entry {n} points at Data.db byte {ioffset} but partition {n} (key 0x{}) \
                     starts at byte {start}",
                    hex(&key)
                ),
            ));
        }
        if let Some(k) = ikey {
            if k != key.as_slice() {
                return Err(Error::invalid(
                    component,
                    at,
                    format!(
                        "entry {n} has key 0x{} but the partition at Data.db byte {start} has \
                         key 0x{}",
                        hex(k),
                        hex(&key)
                    ),
                ));
            }
        }
        summary.entries += 1;
        let blocks = if pi.is_empty() {
            Vec::new()
        } else {
            decode_promoted_index(pi, pi_at, start, key.len(), version, &widths)?
        };
        summary.blocks += blocks.len() as u64;
        let mut matcher = BlockMatcher {
            blocks,
            at,
            component,
            next: 0,
            current: None,
            pending_first: None,
        };
        while let Some(item) = walker.next_item()? {
            matcher.item(item, legacy)?;
        }
        matcher.end(walker.position())?;
    }
    Ok(summary)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
    use super::*;
    use crate::data::{
        BoundKind, Cell, CellKind, LivenessInfo, PartitionHeader, RangeTombstoneMarker, Row,
    };
    use crate::offsets::DataOffset;

    /// An in-memory partition stream.
    #[derive(Debug, Clone)]
    enum Item {
        Row(bool, Vec<u8>, CellKind, DeletionTime, LivenessInfo),
        Marker(
            BoundKind,
            Vec<u8>,
            Option<DeletionTime>,
            Option<DeletionTime>,
        ),
    }

    struct Mock {
        partitions: Vec<(Vec<u8>, DeletionTime, Vec<Item>)>,
        p: usize,
        i: usize,
        error_at: Option<usize>,
    }

    impl Mock {
        fn new(partitions: Vec<(Vec<u8>, DeletionTime, Vec<Item>)>) -> Mock {
            Mock {
                partitions,
                p: 0,
                i: 0,
                error_at: None,
            }
        }
    }

    impl PartitionReader for Mock {
        fn next_partition(&mut self) -> Result<Option<PartitionHeader<'_>>> {
            if self.error_at == Some(self.p) {
                return Err(Error::Truncated {
                    component: Component::Data,
                    offset: 1000 * self.p as u64,
                    needed: 1,
                    what: "partition key",
                });
            }
            let Some((key, deletion, _)) = self.partitions.get(self.p) else {
                return Ok(None);
            };
            self.p += 1;
            self.i = 0;
            Ok(Some(PartitionHeader {
                key,
                deletion: *deletion,
                offset: DataOffset(1000 * (self.p as u64 - 1)),
            }))
        }

        fn next_unfiltered(&mut self) -> Result<Option<Unfiltered<'_>>> {
            let (_, _, items) = &self.partitions[self.p - 1];
            let Some(item) = items.get(self.i) else {
                return Ok(None);
            };
            let offset = DataOffset(1000 * (self.p as u64 - 1) + 10 * (self.i as u64 + 1));
            self.i += 1;
            Ok(Some(match item {
                Item::Row(is_static, ck, kind, deletion, liveness) => Unfiltered::Row(Row {
                    is_static: *is_static,
                    clustering: if *is_static { vec![] } else { vec![Some(ck)] },
                    liveness: *liveness,
                    deletion: *deletion,
                    deletion_is_shadowable: false,
                    scylla_shadowable_deletion: None,
                    complex_deletions: vec![],
                    cells: vec![Cell {
                        column: 0,
                        timestamp: 1,
                        kind: *kind,
                        path: None,
                        value: b"v",
                    }],
                    offset,
                }),
                Item::Marker(kind, ck, close, open) => Unfiltered::Marker(RangeTombstoneMarker {
                    kind: *kind,
                    values: vec![Some(ck)],
                    close: *close,
                    open: *open,
                    offset,
                }),
            }))
        }

        fn position(&self) -> DataOffset {
            DataOffset(0)
        }
    }

    const LIVE: DeletionTime = DeletionTime::LIVE;
    const DEL: DeletionTime = DeletionTime {
        marked_for_delete_at: 5,
        local_deletion_time: 100,
    };

    fn row(ck: u8) -> Item {
        Item::Row(false, vec![ck], CellKind::Live, LIVE, LivenessInfo::EMPTY)
    }

    fn good() -> Vec<(Vec<u8>, DeletionTime, Vec<Item>)> {
        vec![
            (
                b"a".to_vec(),
                LIVE,
                vec![
                    Item::Row(true, vec![], CellKind::Live, LIVE, LivenessInfo::EMPTY),
                    row(1),
                    Item::Marker(BoundKind::InclStartBound, vec![2], None, Some(DEL)),
                    Item::Marker(BoundKind::InclEndBound, vec![3], Some(DEL), None),
                    row(4),
                ],
            ),
            (b"b".to_vec(), DEL, vec![row(1)]),
        ]
    }

    fn run(
        parts: Vec<(Vec<u8>, DeletionTime, Vec<Item>)>,
        cmp: Option<&ClusteringComparator<'_>>,
    ) -> Result<VerifySummary> {
        verify_partitions(&mut Mock::new(parts), Some(Partitioner::ByteOrdered), cmp)
    }

    fn offset_of(r: Result<VerifySummary>) -> (u64, String) {
        match r.unwrap_err() {
            Error::Invalid {
                component: Component::Data,
                offset,
                message,
            } => (offset, message),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn good_stream_passes() {
        let s = run(good(), None).unwrap();
        assert_eq!(
            s,
            VerifySummary {
                partitions: 2,
                rows: 4,
                markers: 2,
                cells: 4
            }
        );
        let cmp = |a: &[Option<&[u8]>], b: &[Option<&[u8]>]| a.cmp(b);
        run(good(), Some(&cmp)).unwrap();
        // Without a partitioner nothing is said about the key order.
        let mut p = good();
        p.swap(0, 1);
        verify_partitions(&mut Mock::new(p.clone()), None, None).unwrap();
        verify_partitions(&mut Mock::new(p), Some(Partitioner::Local), None).unwrap();
    }

    #[test]
    fn partition_order() {
        let mut p = good();
        p.swap(0, 1);
        let (at, msg) = offset_of(run(p, None));
        assert_eq!(at, 1000);
        assert!(msg.contains("out of order"), "{msg}");
        let mut p = good();
        p[1].0 = b"a".to_vec();
        let (_, msg) = offset_of(run(p, None));
        assert!(msg.contains("repeats"), "{msg}");
    }

    #[test]
    fn negative_deletion_times_and_ttls() {
        let neg = DeletionTime {
            marked_for_delete_at: 5,
            local_deletion_time: -1,
        };
        let mut p = good();
        p[1].1 = neg;
        let (at, msg) = offset_of(run(p, None));
        assert_eq!(at, 1000);
        assert!(msg.contains("partition deletion"), "{msg}");
        let cases = [
            Item::Row(false, vec![9], CellKind::Live, neg, LivenessInfo::EMPTY),
            Item::Row(
                false,
                vec![9],
                CellKind::Expiring {
                    ttl: 10,
                    local_expiration_time: -2_147_483_000,
                },
                LIVE,
                LivenessInfo::EMPTY,
            ),
            Item::Row(
                false,
                vec![9],
                CellKind::Expiring {
                    ttl: -1,
                    local_expiration_time: 5,
                },
                LIVE,
                LivenessInfo::EMPTY,
            ),
            Item::Row(
                false,
                vec![9],
                CellKind::Tombstone {
                    local_deletion_time: -7,
                },
                LIVE,
                LivenessInfo::EMPTY,
            ),
            Item::Row(
                false,
                vec![9],
                CellKind::Live,
                LIVE,
                LivenessInfo {
                    timestamp: Some(1),
                    ttl: Some((10, -5)),
                },
            ),
        ];
        for item in cases {
            let mut p = good();
            p[0].2.push(item.clone());
            let (at, msg) = offset_of(run(p, None));
            assert_eq!(at, 60, "{item:?}: {msg}");
            assert!(msg.contains("negative"), "{msg}");
        }
        let mut p = good();
        p[0].2[2] = Item::Marker(BoundKind::InclStartBound, vec![2], None, Some(neg));
        let (at, _) = offset_of(run(p, None));
        assert_eq!(at, 30);
    }

    #[test]
    fn row_order_and_duplicates() {
        let mut p = good();
        p[0].2.push(row(4));
        let (at, msg) = offset_of(run(p, None));
        assert_eq!(at, 60);
        assert!(msg.contains("duplicates"), "{msg}");
        // Out of order is only seen with a comparator.
        let mut p = good();
        p[0].2.push(row(3));
        run(p.clone(), None).unwrap();
        let cmp = |a: &[Option<&[u8]>], b: &[Option<&[u8]>]| a.cmp(b);
        let (_, msg) = offset_of(run(p, Some(&cmp)));
        assert!(msg.contains("sorts before"), "{msg}");
        // A second static row, or one after clustered rows.
        let mut p = good();
        p[0].2.push(Item::Row(
            true,
            vec![],
            CellKind::Live,
            LIVE,
            LivenessInfo::EMPTY,
        ));
        let (_, msg) = offset_of(run(p, None));
        assert!(msg.contains("static"), "{msg}");
    }

    #[test]
    fn range_tombstone_pairing() {
        let other = DeletionTime {
            marked_for_delete_at: 6,
            local_deletion_time: 100,
        };
        let open = |d| Item::Marker(BoundKind::InclStartBound, vec![7], None, Some(d));
        let close = |d| Item::Marker(BoundKind::InclEndBound, vec![8], Some(d), None);
        for (items, want) in [
            (vec![close(DEL)], "never opened"),
            (vec![open(DEL), open(DEL)], "disjoint"),
            (vec![open(DEL), close(other)], "opened with"),
            (vec![open(DEL)], "still open"),
        ] {
            let mut p = good();
            p[1].2 = items;
            let (_, msg) = offset_of(run(p, None));
            assert!(msg.contains(want), "{msg}");
        }
        // A boundary closes one and opens the next.
        let mut p = good();
        p[1].2 = vec![
            open(DEL),
            Item::Marker(
                BoundKind::ExclEndInclStartBoundary,
                vec![8],
                Some(DEL),
                Some(other),
            ),
            close(other),
        ];
        run(p, None).unwrap();
    }

    #[test]
    fn statistics_sanity() {
        use crate::statistics::{EstimatedHistogram, Stats, TombstoneHistogram};
        let mut st = crate::statistics::Statistics {
            version: crate::version::Version::La,
            entries: vec![],
            validation: None,
            compaction: None,
            stats: None,
            header: None,
        };
        verify_statistics(&st).unwrap();
        let stats = |bins: Vec<(f64, i64)>, max| Stats {
            partition_sizes: EstimatedHistogram::default(),
            cells_per_partition: EstimatedHistogram::default(),
            commit_log_upper_bound: crate::statistics::CommitLogPosition {
                segment_id: 0,
                position: 0,
            },
            min_timestamp: 0,
            max_timestamp: 0,
            min_local_deletion_time: None,
            max_local_deletion_time: None,
            min_ttl: None,
            max_ttl: None,
            compression_ratio: 0.0,
            tombstone_histogram: TombstoneHistogram {
                max_bin_size: Some(max),
                bins,
            },
            sstable_level: 0,
            repaired_at: 0,
            legacy_min_clustering: None,
            legacy_max_clustering: None,
            covered_clustering: None,
            has_legacy_counter_shards: false,
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
        };
        st.stats = Some(stats(vec![(1.0, 1), (2.5, 3)], 100));
        verify_statistics(&st).unwrap();
        for (bins, max, want) in [
            (vec![(2.0, 1), (1.0, 1)], 100, "increasing"),
            (vec![(1.0, 1), (1.0, 1)], 100, "increasing"),
            (vec![(f64::NAN, 1)], 100, "invalid"),
            (vec![(1.0, 0)], 100, "invalid"),
            (vec![(1.0, 1), (2.0, 1)], 1, "maximum"),
        ] {
            st.stats = Some(stats(bins, max));
            let e = verify_statistics(&st).unwrap_err();
            assert_eq!(e.component(), Some(Component::Statistics));
            assert!(e.to_string().contains(want), "{e}");
        }
        let mut s = stats(vec![], 100);
        s.partition_sizes.buckets = vec![1, -1];
        st.stats = Some(s);
        assert!(verify_statistics(&st).is_err());
    }

    /// A 2.x partition: key, LIVE deletion, one cell per name, end marker.
    fn legacy_partition(key: &[u8], names: &[&[u8]]) -> (Vec<u8>, Vec<u64>) {
        let mut d = Vec::new();
        d.extend_from_slice(&(key.len() as u16).to_be_bytes());
        d.extend_from_slice(key);
        d.extend_from_slice(&i32::MAX.to_be_bytes());
        d.extend_from_slice(&i64::MIN.to_be_bytes());
        let mut offsets = Vec::new();
        for n in names {
            offsets.push(d.len() as u64);
            d.extend_from_slice(&(n.len() as u16).to_be_bytes());
            d.extend_from_slice(n);
            d.push(0);
            d.extend_from_slice(&1i64.to_be_bytes());
            d.extend_from_slice(&4i32.to_be_bytes());
            d.extend_from_slice(&[0, 0, 0, 1]);
        }
        d.extend_from_slice(&[0, 0]);
        (d, offsets)
    }

    fn legacy_entry(out: &mut Vec<u8>, key: &[u8], pos: u64, blocks: &[(&[u8], &[u8], u64, u64)]) {
        out.extend_from_slice(&(key.len() as u16).to_be_bytes());
        out.extend_from_slice(key);
        out.extend_from_slice(&(pos as i64).to_be_bytes());
        let mut pi = Vec::new();
        if !blocks.is_empty() {
            pi.extend_from_slice(&i32::MAX.to_be_bytes());
            pi.extend_from_slice(&i64::MIN.to_be_bytes());
            pi.extend_from_slice(&(blocks.len() as i32).to_be_bytes());
            for (first, last, offset, width) in blocks {
                for n in [first, last] {
                    pi.extend_from_slice(&(n.len() as u16).to_be_bytes());
                    pi.extend_from_slice(n);
                }
                pi.extend_from_slice(&(*offset as i64).to_be_bytes());
                pi.extend_from_slice(&(*width as i64).to_be_bytes());
            }
        }
        out.extend_from_slice(&(pi.len() as i32).to_be_bytes());
        out.extend_from_slice(&pi);
    }

    fn check_index(data: &[u8], index: &[u8]) -> Result<IndexSummary> {
        verify_partition_index(
            crate::source::SliceSource::new(data, DataOffset(0), 7),
            crate::partitions::IndexFiles::Big { index },
            Version::Ka,
            None,
        )
    }

    #[test]
    fn partition_index_matches_data() {
        let (mut data, o1) = legacy_partition(b"k1", &[b"\x00\x00\x00\x01", b"\x00\x00\x00\x02"]);
        let second = data.len() as u64;
        let (p2, _) = legacy_partition(b"k2", &[b"\x00\x00\x00\x03"]);
        data.extend_from_slice(&p2);
        let cell = 2 + 4 + 1 + 8 + 4 + 4;
        let blocks: [(&[u8], &[u8], u64, u64); 2] = [
            (b"\x00\x00\x00\x01", b"\x00\x00\x00\x01", o1[0], cell),
            (b"\x00\x00\x00\x02", b"\x00\x00\x00\x02", o1[1], cell),
        ];
        let mut index = Vec::new();
        legacy_entry(&mut index, b"k1", 0, &blocks);
        legacy_entry(&mut index, b"k2", second, &[]);
        let s = check_index(&data, &index).unwrap();
        assert_eq!(
            s,
            IndexSummary {
                entries: 2,
                blocks: 2
            }
        );

        let bad = |index: Vec<u8>, want: &str| {
            let e = check_index(&data, &index).unwrap_err();
            assert_eq!(e.component(), Some(Component::Index), "{e}");
            assert!(e.to_string().contains(want), "{e}");
        };
        // Wrong offset, wrong key, missing and extra entries.
        let mut i = Vec::new();
        legacy_entry(&mut i, b"k1", 0, &blocks);
        legacy_entry(&mut i, b"k2", second + 1, &[]);
        bad(i, "points at Data.db byte");
        let mut i = Vec::new();
        legacy_entry(&mut i, b"k1", 0, &blocks);
        legacy_entry(&mut i, b"kX", second, &[]);
        bad(i, "has key");
        let mut i = Vec::new();
        legacy_entry(&mut i, b"k1", 0, &blocks);
        bad(i, "ends after 1 entries");
        let mut i = index.clone();
        legacy_entry(&mut i, b"k3", 999, &[]);
        bad(i, "holds only 2 partitions");
        // A block name written as a one-component composite (scylladb#2993).
        let mut i = Vec::new();
        let wrapped: &[u8] = b"\x00\x04\x00\x00\x00\x01\x00";
        legacy_entry(
            &mut i,
            b"k1",
            0,
            &[(wrapped, wrapped, o1[0], cell), blocks[1]],
        );
        legacy_entry(&mut i, b"k2", second, &[]);
        bad(i, "one-component composite");
        // Wrong last name, a block off a cell boundary, overlapping and past the partition.
        for (blocks, want) in [
            (vec![(blocks[0].0, blocks[1].0, o1[0], cell)], "ends with"),
            (
                vec![(blocks[0].0, blocks[0].1, o1[0] + 1, cell)],
                "where no cell starts",
            ),
            (
                vec![blocks[0], (blocks[1].0, blocks[1].1, o1[0] + 3, cell)],
                "overlaps",
            ),
            (
                vec![(blocks[0].0, blocks[1].0, o1[0], 10_000)],
                "after the partition's end",
            ),
            (
                vec![(blocks[0].0, blocks[0].1, 3, cell)],
                "partition header",
            ),
        ] {
            let mut i = Vec::new();
            legacy_entry(&mut i, b"k1", 0, &blocks);
            legacy_entry(&mut i, b"k2", second, &[]);
            bad(i, want);
        }
        // A zero-width block naming the cell at its offset (ScyllaDB) is accepted.
        let mut i = Vec::new();
        legacy_entry(
            &mut i,
            b"k1",
            0,
            &[(blocks[0].0, blocks[0].1, o1[0], 0), blocks[0], blocks[1]],
        );
        legacy_entry(&mut i, b"k2", second, &[]);
        assert_eq!(check_index(&data, &i).unwrap().blocks, 3);
        // 3.0+ files need a layout.
        assert!(verify_partition_index(
            crate::source::SliceSource::new(&data, DataOffset(0), 7),
            crate::partitions::IndexFiles::Big { index: &index },
            Version::Mc,
            None,
        )
        .is_err());
    }

    #[test]
    fn decode_errors_pass_through() {
        let mut m = Mock::new(good());
        m.error_at = Some(1);
        let e = verify_partitions(&mut m, None, None).unwrap_err();
        assert!(matches!(e, Error::Truncated { offset: 1000, .. }), "{e:?}");
    }

    /// Issue 11 item 10: `inspect --verify` passed a 0-byte Summary.db. The summary is parsed
    /// whole and matched with Index.db: empty, cut, or pointing at the wrong entries fails.
    #[test]
    fn empty_or_damaged_summary_fails_verify() {
        // Index.db (nb): key, uvint data position, uvint promoted index size 0.
        let keys: Vec<Vec<u8>> = (0..5u8).map(|i| vec![b'k', i]).collect();
        let mut index = Vec::new();
        let mut at = Vec::new();
        for (i, k) in keys.iter().enumerate() {
            at.push(index.len() as u64);
            index.extend_from_slice(&(k.len() as u16).to_be_bytes());
            index.extend_from_slice(k);
            index.push(i as u8 * 10);
            index.push(0);
        }
        let entries: Vec<(&[u8], u64)> = keys.iter().map(|k| &k[..]).zip(at.clone()).collect();
        let good = crate::sstable_writer::write_summary(&entries, 2);
        assert_eq!(verify_summary(&good, Version::Nb, Some(&index)).unwrap(), 3);
        assert!(verify_summary(&[], Version::Nb, Some(&index)).is_err());
        assert!(verify_summary(&good[..good.len() - 3], Version::Nb, None).is_err());
        // Entries shifted by one index entry: keys no longer match.
        let shifted: Vec<(&[u8], u64)> = keys
            .iter()
            .map(|k| &k[..])
            .zip(at.iter().skip(1).chain([&at[0]]).copied())
            .collect();
        let bad = crate::sstable_writer::write_summary(&shifted, 2);
        let e = verify_summary(&bad, Version::Nb, Some(&index)).unwrap_err();
        assert!(e.to_string().contains("Index.db"), "{e}");
    }
}
