//! Decoding of `Data.db` in the 3.0+ storage engine (ma..nc, oa, da; ScyllaDB mc..mt):
//! partitions, static rows, rows, range-tombstone markers and cells.
//!
//! Mirrors Cassandra's `db/rows/UnfilteredSerializer`, `db/rows/Cell.Serializer`,
//! `db/ClusteringPrefix.Serializer`, `db/Columns.Serializer.deserializeSubset`,
//! `db/DeletionTime.Serializer` and `db/SerializationHeader` (delta decoding), and ScyllaDB's
//! `sstables/mx/reader.cc` for its shadowable-deletion extension.
//!
//! [`DataReader`] streams: it pulls decompressed chunks from a [`DataSource`] into one reused
//! buffer and hands out items that **borrow** from it (keys, clustering values, cell values),
//! so memory grows with the largest row, never with the partition or the file. Because items
//! borrow the buffer, the reader is a *lending* reader (`next_partition`, `next_unfiltered`)
//! rather than an `Iterator`; both methods return `Result<Option<_>>` and, after an error,
//! keep returning that the input is finished with an error.

use crate::buffer::ChunkBuffer;
use crate::cursor::Cursor;
use crate::error::{Component, Error, Result};
use crate::offsets::DataOffset;
use crate::source::DataSource;
use crate::types::CqlType;
use crate::version::Version;

/// Unfiltered flags (`UnfilteredSerializer`).
mod flags {
    pub const END_OF_PARTITION: u8 = 0x01;
    pub const IS_MARKER: u8 = 0x02;
    pub const HAS_TIMESTAMP: u8 = 0x04;
    pub const HAS_TTL: u8 = 0x08;
    pub const HAS_DELETION: u8 = 0x10;
    pub const HAS_ALL_COLUMNS: u8 = 0x20;
    pub const HAS_COMPLEX_DELETION: u8 = 0x40;
    pub const EXTENSION_FLAG: u8 = 0x80;
    // Extended flags.
    pub const IS_STATIC: u8 = 0x01;
    pub const HAS_SHADOWABLE_DELETION: u8 = 0x02;
    pub const HAS_SCYLLA_SHADOWABLE_DELETION: u8 = 0x80;
    // Cell flags (`Cell.Serializer`).
    pub const CELL_IS_DELETED: u8 = 0x01;
    pub const CELL_IS_EXPIRING: u8 = 0x02;
    pub const CELL_HAS_EMPTY_VALUE: u8 = 0x04;
    pub const CELL_USE_ROW_TIMESTAMP: u8 = 0x08;
    pub const CELL_USE_ROW_TTL: u8 = 0x10;
}

/// A row cannot be larger than this; larger sizes mean corrupt input (Cassandra caps values at
/// 2 GiB as well).
const MAX_ITEM_SIZE: u64 = i32::MAX as u64;

/// `LivenessInfo.EXPIRED_LIVENESS_TTL`: a primary-key liveness that is already dead.
pub const EXPIRED_LIVENESS_TTL: i32 = i32::MAX;

/// A deletion: everything written at or before `marked_for_delete_at` is deleted
/// (`db/DeletionTime`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeletionTime {
    /// Timestamp (microseconds) of the deletion.
    pub marked_for_delete_at: i64,
    /// When the deletion happened, seconds since the epoch (drives purging, not visibility).
    pub local_deletion_time: i64,
}

impl Default for DeletionTime {
    fn default() -> Self {
        DeletionTime::LIVE
    }
}

impl DeletionTime {
    /// No deletion.
    pub const LIVE: DeletionTime = DeletionTime {
        marked_for_delete_at: i64::MIN,
        local_deletion_time: i64::MAX,
    };

    /// Whether this is "no deletion".
    pub fn is_live(&self) -> bool {
        self.marked_for_delete_at == i64::MIN
    }

    /// Whether data written at `timestamp` is deleted by this.
    pub fn deletes(&self, timestamp: i64) -> bool {
        !self.is_live() && timestamp <= self.marked_for_delete_at
    }

    /// Whether this deletion wins over `other` (`DeletionTime.supersedes`).
    pub fn supersedes(&self, other: &DeletionTime) -> bool {
        self.marked_for_delete_at > other.marked_for_delete_at
            || (self.marked_for_delete_at == other.marked_for_delete_at
                && self.local_deletion_time > other.local_deletion_time)
    }
}

/// The primary-key liveness of a row (`db/LivenessInfo`): the row marker written by INSERT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LivenessInfo {
    /// Write timestamp, or `None` for rows without a marker (UPDATE-only, compact tables).
    pub timestamp: Option<i64>,
    /// TTL in seconds and local expiration time (seconds since the epoch), if expiring.
    /// A TTL of [`EXPIRED_LIVENESS_TTL`] means the marker is dead.
    pub ttl: Option<(i32, i64)>,
}

impl LivenessInfo {
    /// No liveness information.
    pub const EMPTY: LivenessInfo = LivenessInfo {
        timestamp: None,
        ttl: None,
    };
}

/// What a cell holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CellKind {
    /// A regular live value.
    Live,
    /// A value with a TTL, expiring at `local_expiration_time` (seconds since the epoch).
    Expiring {
        /// TTL in seconds.
        ttl: i32,
        /// Expiration time, seconds since the epoch.
        local_expiration_time: i64,
    },
    /// A tombstone, written at `local_deletion_time` (seconds since the epoch).
    Tombstone {
        /// Deletion time, seconds since the epoch.
        local_deletion_time: i64,
    },
}

/// One cell, borrowing its path and value from the decoded chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell<'a> {
    /// Index of the column in the row's column list ([`Layout::statics`] or
    /// [`Layout::regulars`]).
    pub column: u32,
    /// Write timestamp (microseconds).
    pub timestamp: i64,
    /// Live, expiring or deleted.
    pub kind: CellKind,
    /// Cell path of a multi-cell column: list element timeuuid, set element, map key, UDT
    /// field index.
    pub path: Option<&'a [u8]>,
    /// Serialized value (empty for tombstones and set elements).
    pub value: &'a [u8],
}

/// A row (or the static row) of a partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row<'a> {
    /// Whether this is the partition's static row.
    pub is_static: bool,
    /// Clustering values (`None` = null, empty slice = empty value); empty for the static row.
    pub clustering: Vec<Option<&'a [u8]>>,
    /// Primary-key liveness.
    pub liveness: LivenessInfo,
    /// Row deletion (`DeletionTime::LIVE` if none).
    pub deletion: DeletionTime,
    /// The row deletion is shadowable (Cassandra's deprecated view flag).
    pub deletion_is_shadowable: bool,
    /// ScyllaDB's separate shadowable row tombstone.
    pub scylla_shadowable_deletion: Option<DeletionTime>,
    /// Deletions of whole multi-cell columns: (column index, deletion).
    pub complex_deletions: Vec<(u32, DeletionTime)>,
    /// Cells in column order; the cells of a multi-cell column follow its path order.
    pub cells: Vec<Cell<'a>>,
    /// Position of the row's flags byte in the uncompressed Data.db.
    pub offset: DataOffset,
}

/// The kind of a clustering bound or boundary (`ClusteringPrefix.Kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BoundKind {
    /// Exclusive end bound.
    ExclEndBound,
    /// Inclusive start bound.
    InclStartBound,
    /// Boundary closing exclusively and opening inclusively.
    ExclEndInclStartBoundary,
    /// Inclusive end and exclusive start boundary.
    InclEndExclStartBoundary,
    /// Inclusive end bound.
    InclEndBound,
    /// Exclusive start bound.
    ExclStartBound,
}

impl BoundKind {
    fn from_ordinal(o: u8) -> Option<BoundKind> {
        Some(match o {
            0 => BoundKind::ExclEndBound,
            1 => BoundKind::InclStartBound,
            2 => BoundKind::ExclEndInclStartBoundary,
            5 => BoundKind::InclEndExclStartBoundary,
            6 => BoundKind::InclEndBound,
            7 => BoundKind::ExclStartBound,
            _ => return None,
        })
    }

    /// Whether this is a boundary (closes one deletion and opens another).
    pub fn is_boundary(self) -> bool {
        matches!(
            self,
            BoundKind::ExclEndInclStartBoundary | BoundKind::InclEndExclStartBoundary
        )
    }

    /// Whether this bound opens a range (start bounds and boundaries).
    pub fn is_open(self) -> bool {
        !matches!(self, BoundKind::ExclEndBound | BoundKind::InclEndBound)
    }

    /// Whether this bound closes a range (end bounds and boundaries).
    pub fn is_close(self) -> bool {
        !matches!(self, BoundKind::InclStartBound | BoundKind::ExclStartBound)
    }
}

/// A range-tombstone bound or boundary (`RangeTombstoneMarker`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeTombstoneMarker<'a> {
    /// Bound kind.
    pub kind: BoundKind,
    /// The clustering prefix of the bound (may be shorter than the clustering).
    pub values: Vec<Option<&'a [u8]>>,
    /// Deletion closed here (end bounds and boundaries).
    pub close: Option<DeletionTime>,
    /// Deletion opened here (start bounds and boundaries).
    pub open: Option<DeletionTime>,
    /// Position of the marker's flags byte in the uncompressed Data.db.
    pub offset: DataOffset,
}

/// A row or a range-tombstone marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unfiltered<'a> {
    /// A row (static or clustered).
    Row(Row<'a>),
    /// A range-tombstone bound or boundary.
    Marker(RangeTombstoneMarker<'a>),
}

/// The start of a partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionHeader<'a> {
    /// Serialized partition key (CompositeType encoding for multi-column keys).
    pub key: &'a [u8],
    /// Partition deletion (`DeletionTime::LIVE` if none).
    pub deletion: DeletionTime,
    /// Position of the partition in the uncompressed Data.db.
    pub offset: DataOffset,
}

/// What the path of a multi-cell column's cells is.
///
/// Every cell value of a multi-cell column is length-prefixed, whatever its element type:
/// `Cell.Serializer.serialize` writes it with `header.getType(column).writeValue`, and the type
/// of a multi-cell collection or UDT column (`CollectionType`, `UserType` with `isMultiCell()`)
/// is never fixed-width (`valueLengthIfFixed() == -1`), so a `list<int>` element or a UDT's
/// `int` field carries a uvint length like a `text` one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComplexLayout {
    /// A list, set or map: the path is the element's key (a timeuuid for lists).
    Collection,
    /// A non-frozen UDT: the path is a 2-byte field index.
    Udt,
}

/// How one column's cells are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnLayout {
    /// One cell; values of this fixed width, or length-prefixed when `None`.
    Simple(Option<usize>),
    /// Several cells with paths.
    Complex(ComplexLayout),
}

impl ColumnLayout {
    /// The layout of a column of type `ty`.
    pub fn for_type(ty: &CqlType) -> ColumnLayout {
        if !ty.is_multi_cell() {
            return ColumnLayout::Simple(ty.fixed_length());
        }
        match ty.unreversed() {
            CqlType::Udt(_) => ColumnLayout::Complex(ComplexLayout::Udt),
            _ => ColumnLayout::Complex(ComplexLayout::Collection),
        }
    }
}

/// Everything the decoder needs from the serialization header: delta bases, clustering value
/// widths, and the static and regular columns in row order (simple columns first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Format version of the file.
    pub version: Version,
    /// `EncodingStats.minTimestamp`.
    pub min_timestamp: i64,
    /// `EncodingStats.minLocalDeletionTime`.
    pub min_local_deletion_time: i64,
    /// `EncodingStats.minTTL`.
    pub min_ttl: i64,
    /// Fixed width of each clustering column's values (`None` = length-prefixed).
    pub clustering: Vec<Option<usize>>,
    /// Static columns, in row order.
    pub statics: Vec<ColumnLayout>,
    /// Regular columns, in row order.
    pub regulars: Vec<ColumnLayout>,
}

impl Layout {
    /// Builds a layout from the header's types. `statics` and `regulars` must already be in row
    /// order (simple columns first, then complex ones).
    pub fn new(
        version: Version,
        (min_timestamp, min_local_deletion_time, min_ttl): (i64, i64, i64),
        clustering: &[CqlType],
        statics: &[&CqlType],
        regulars: &[&CqlType],
    ) -> Result<Layout> {
        if version.is_legacy_layout() {
            return Err(Error::UnsupportedVersion {
                version: version.to_string(),
                reason: "pre-3.0 Data.db is decoded by the legacy reader",
            });
        }
        Ok(Layout {
            version,
            min_timestamp,
            min_local_deletion_time,
            min_ttl,
            clustering: clustering.iter().map(CqlType::fixed_length).collect(),
            statics: statics.iter().map(|t| ColumnLayout::for_type(t)).collect(),
            regulars: regulars.iter().map(|t| ColumnLayout::for_type(t)).collect(),
        })
    }

    fn timestamp(&self, c: &mut Cursor<'_>) -> Result<i64> {
        Ok(self
            .min_timestamp
            .wrapping_add(c.read_uvint("delta timestamp")? as i64))
    }

    fn local_deletion_time(&self, c: &mut Cursor<'_>) -> Result<i64> {
        let delta = c.read_uvint("delta local deletion time")?;
        Ok(if self.version.has_uint_deletion_time() {
            i64::from((self.min_local_deletion_time as u32).wrapping_add(delta as u32))
        } else {
            i64::from((self.min_local_deletion_time as i32).wrapping_add(delta as i32))
        })
    }

    fn ttl(&self, c: &mut Cursor<'_>) -> Result<i32> {
        Ok((self.min_ttl as i32).wrapping_add(c.read_uvint("delta ttl")? as i32))
    }

    fn deletion_time(&self, c: &mut Cursor<'_>) -> Result<DeletionTime> {
        let mfda = self.timestamp(c)?;
        let ldt = self.local_deletion_time(c)?;
        Ok(if mfda == i64::MIN {
            DeletionTime::LIVE
        } else {
            DeletionTime {
                marked_for_delete_at: mfda,
                local_deletion_time: ldt,
            }
        })
    }

    /// Reads a partition-level `DeletionTime` (not delta-encoded).
    fn partition_deletion(&self, c: &mut Cursor<'_>) -> Result<DeletionTime> {
        if self.version.has_uint_deletion_time() {
            // 5.0: 0x80 alone is LIVE; otherwise the first byte is the top of the mfda.
            if c.peek_u8() == Some(0x80) {
                c.skip(1, "partition deletion")?;
                return Ok(DeletionTime::LIVE);
            }
            let at = c.offset();
            let mfda = c.read_i64("partition deletion timestamp")?;
            let ldt = c.read_u32("partition deletion time")?;
            if mfda < 0 {
                return Err(
                    c.invalid_at(at, format!("invalid partition deletion timestamp {mfda}"))
                );
            }
            Ok(DeletionTime {
                marked_for_delete_at: mfda,
                local_deletion_time: i64::from(ldt),
            })
        } else {
            let ldt = c.read_i32("partition deletion time")?;
            let mfda = c.read_i64("partition deletion timestamp")?;
            Ok(if mfda == i64::MIN {
                DeletionTime::LIVE
            } else {
                DeletionTime {
                    marked_for_delete_at: mfda,
                    local_deletion_time: i64::from(ldt),
                }
            })
        }
    }
}

/// Reads a value of a fixed width or with a vint length prefix (`AbstractType.readValue`).
fn read_value<'a>(
    c: &mut Cursor<'a>,
    fixed: Option<usize>,
    what: &'static str,
) -> Result<&'a [u8]> {
    match fixed {
        Some(n) => c.read_bytes(n, what),
        None => c.read_vint_bytes(what),
    }
}

/// Reads `count` clustering values encoded with the 2-bits-per-value null/empty headers
/// (`ClusteringPrefix.Serializer.deserializeValuesWithoutSize`).
fn read_clustering_values<'a>(
    c: &mut Cursor<'a>,
    count: usize,
    widths: &[Option<usize>],
    out: &mut Vec<Option<&'a [u8]>>,
) -> Result<()> {
    let mut header = 0u64;
    for i in 0..count {
        if i % 32 == 0 {
            header = c.read_uvint("clustering header")?;
        }
        let shift = (i % 32) * 2;
        let is_empty = header & (1u64 << shift) != 0;
        let is_null = header & (1u64 << (shift + 1)) != 0;
        if is_null {
            out.push(None);
        } else if is_empty {
            out.push(Some(&[]));
        } else {
            let at = c.offset();
            let width = widths.get(i).ok_or_else(|| {
                c.invalid_at(
                    at,
                    format!(
                        "clustering value {i} beyond the header's {} types",
                        widths.len()
                    ),
                )
            })?;
            out.push(Some(read_value(c, *width, "clustering value")?));
        }
    }
    Ok(())
}

/// Skips clustering values (for measuring an item's length).
fn skip_clustering_values(
    c: &mut Cursor<'_>,
    count: usize,
    widths: &[Option<usize>],
) -> Result<()> {
    let mut header = 0u64;
    for i in 0..count {
        if i % 32 == 0 {
            header = c.read_uvint("clustering header")?;
        }
        let shift = (i % 32) * 2;
        if header & (0b11u64 << shift) == 0 {
            let width = widths.get(i).copied().flatten();
            match width {
                Some(n) => c.skip(n, "clustering value")?,
                None => {
                    let n = c.read_uvint_len("clustering value length")?;
                    c.skip(n, "clustering value")?;
                }
            }
        }
    }
    Ok(())
}

/// The columns present in a row, as a list of indices into the superset
/// (`Columns.Serializer.deserializeSubset`).
enum Present {
    All(usize),
    Bitmap { missing: u64, total: usize },
    List(Vec<u32>),
}

impl Present {
    fn read(c: &mut Cursor<'_>, total: usize) -> Result<Present> {
        let at = c.offset();
        let encoded = c.read_uvint("column subset")?;
        if encoded == 0 {
            return Ok(Present::All(total));
        }
        if total < 64 {
            if total < 64 && encoded >> total != 0 {
                return Err(c.invalid_at(
                    at,
                    format!("column subset {encoded:#x} names columns beyond the header's {total}"),
                ));
            }
            return Ok(Present::Bitmap {
                missing: encoded,
                total,
            });
        }
        // Large subset: `encoded` is the number of missing columns.
        let missing = usize::try_from(encoded)
            .ok()
            .filter(|m| *m <= total)
            .ok_or_else(|| {
                c.invalid_at(
                    at,
                    format!("column subset misses {encoded} of {total} columns"),
                )
            })?;
        let present = total - missing;
        let mut list = Vec::with_capacity(present);
        if present < total / 2 {
            for _ in 0..present {
                let at = c.offset();
                let idx = c.read_uvint("present column index")?;
                if idx >= total as u64 {
                    return Err(c.invalid_at(at, format!("column index {idx} beyond {total}")));
                }
                list.push(idx as u32);
            }
        } else {
            let mut idx = 0u64;
            for _ in 0..missing {
                let at = c.offset();
                let next_missing = c.read_uvint("missing column index")?;
                if next_missing >= total as u64 || next_missing < idx {
                    return Err(c.invalid_at(
                        at,
                        format!(
                            "missing column index {next_missing} out of order or beyond {total}"
                        ),
                    ));
                }
                while idx < next_missing {
                    list.push(idx as u32);
                    idx += 1;
                }
                idx += 1;
            }
            while idx < total as u64 {
                list.push(idx as u32);
                idx += 1;
            }
        }
        Ok(Present::List(list))
    }

    fn for_each(&self, mut f: impl FnMut(u32) -> Result<()>) -> Result<()> {
        match self {
            Present::All(n) => (0..*n as u32).try_for_each(f),
            Present::Bitmap { missing, total } => {
                for i in 0..*total as u32 {
                    if missing & (1u64 << i) == 0 {
                        f(i)?;
                    }
                }
                Ok(())
            }
            Present::List(list) => list.iter().try_for_each(|i| f(*i)),
        }
    }
}

/// Streaming decoder of one `Data.db` (or of a byte range of it that starts and ends at
/// partition boundaries).
#[derive(Debug)]
pub struct DataReader<S> {
    buf: ChunkBuffer<S>,
    layout: Layout,
    end: Option<u64>,
    in_partition: bool,
    failed: bool,
}

impl<S: DataSource> DataReader<S> {
    /// A reader that decodes from the source's current position (a partition boundary).
    pub fn new(source: S, layout: Layout) -> Self {
        DataReader {
            buf: ChunkBuffer::new(source),
            layout,
            end: None,
            in_partition: false,
            failed: false,
        }
    }

    /// Stops before the partition that starts at `end` (a partition boundary). A source that
    /// starts before the reader's first partition is skipped with [`DataReader::skip_to`].
    pub fn with_end(mut self, end: DataOffset) -> Self {
        self.end = Some(end.0);
        self
    }

    /// The decoding buffer's allocated size in bytes: memory held for decoded chunks, which
    /// grows with the largest row (plus a chunk), never with the partition or the file.
    pub fn buffer_capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// The layout in use.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The uncompressed position of the next byte to decode.
    pub fn position(&self) -> DataOffset {
        self.buf.position()
    }

    /// Discards bytes until `offset` (which must be a partition boundary at or after the
    /// current position), e.g. when the source starts at a chunk boundary before it.
    pub fn skip_to(&mut self, offset: DataOffset) -> Result<()> {
        self.buf.skip_to(offset)
    }

    fn fail<T>(&mut self, r: Result<T>) -> Result<T> {
        if r.is_err() {
            self.failed = true;
        }
        r
    }

    /// The next partition's header, or `None` at the end of the input (or range). Unread rows
    /// of the current partition are skipped.
    pub fn next_partition(&mut self) -> Result<Option<PartitionHeader<'_>>> {
        if self.failed {
            return Err(Error::invalid(
                Component::Data,
                self.position().0,
                "reading stopped after an earlier error",
            ));
        }
        if self.in_partition {
            let r = self.skip_rest_of_partition();
            self.fail(r)?;
        }
        if self.end.is_some_and(|e| self.position().0 >= e) {
            return Ok(None);
        }
        if self.buf.available() == 0 {
            let r = self.buf.at_end();
            if self.fail(r)? {
                return Ok(None);
            }
        }
        let layout = &self.layout;
        let r = self.buf.measure(|c| measure_partition_header(c, layout));
        let n = self.fail(r)?;
        if let Some(end) = self.end {
            if self.position().0 + n as u64 > end {
                self.failed = true;
                return Err(Error::invalid(
                    Component::Data,
                    self.position().0,
                    format!("partition header crosses the end of the range at {end}"),
                ));
            }
        }
        let r = self.buf.ensure(n);
        self.fail(r)?;
        self.in_partition = true;
        let offset = self.position();
        let mut c = self.buf.take(n);
        let header = c
            .read_short_bytes("partition key")
            .and_then(|key| Ok((key, self.layout.partition_deletion(&mut c)?)));
        match header {
            Ok((key, deletion)) => Ok(Some(PartitionHeader {
                key,
                deletion,
                offset,
            })),
            Err(e) => {
                self.failed = true;
                Err(e)
            }
        }
    }

    fn skip_rest_of_partition(&mut self) -> Result<()> {
        while self.in_partition {
            let layout = &self.layout;
            let n = self.buf.measure(|c| measure_unfiltered(c, layout))?;
            self.buf.ensure(n)?;
            let c = self.buf.take(n);
            if c.rest()
                .first()
                .is_some_and(|f| f & flags::END_OF_PARTITION != 0)
            {
                self.in_partition = false;
            }
        }
        Ok(())
    }

    /// The next row or marker of the current partition, or `None` at its end.
    pub fn next_unfiltered(&mut self) -> Result<Option<Unfiltered<'_>>> {
        if self.failed {
            return Err(Error::invalid(
                Component::Data,
                self.position().0,
                "reading stopped after an earlier error",
            ));
        }
        if !self.in_partition {
            return Ok(None);
        }
        let layout = &self.layout;
        let r = self.buf.measure(|c| measure_unfiltered(c, layout));
        let n = self.fail(r)?;
        let r = self.buf.ensure(n);
        self.fail(r)?;
        let offset = self.position();
        let mut c = self.buf.take(n);
        let result = decode_unfiltered(&mut c, &self.layout, offset);
        match result {
            Ok(Some(u)) => Ok(Some(u)),
            Ok(None) => {
                self.in_partition = false;
                Ok(None)
            }
            Err(e) => {
                self.failed = true;
                Err(e)
            }
        }
    }
}

fn measure_partition_header(c: &mut Cursor<'_>, layout: &Layout) -> Result<usize> {
    let start = c.position();
    c.read_short_bytes("partition key")?;
    layout.partition_deletion(c)?;
    Ok(c.position() - start)
}

fn checked_size(c: &Cursor<'_>, size: u64, what: &str) -> Result<usize> {
    if size > MAX_ITEM_SIZE {
        return Err(c.invalid(format!("{what} size {size} is not plausible")));
    }
    Ok(size as usize)
}

fn measure_unfiltered(c: &mut Cursor<'_>, layout: &Layout) -> Result<usize> {
    let start = c.position();
    let f = c.read_u8("unfiltered flags")?;
    if f & flags::END_OF_PARTITION != 0 {
        return Ok(1);
    }
    if f & flags::IS_MARKER != 0 {
        c.read_u8("bound kind")?;
        let count = c.read_u16("bound size")?;
        skip_clustering_values(c, usize::from(count), &layout.clustering)?;
    } else {
        let ext = if f & flags::EXTENSION_FLAG != 0 {
            c.read_u8("extended flags")?
        } else {
            0
        };
        if ext & flags::IS_STATIC == 0 {
            skip_clustering_values(c, layout.clustering.len(), &layout.clustering)?;
        }
    }
    let size = c.read_uvint("unfiltered size")?;
    let size = checked_size(c, size, "row")?;
    let body = c.position() - start;
    // Report the total without reading the body: the caller buffers it.
    Ok(body + size)
}

fn decode_unfiltered<'a>(
    c: &mut Cursor<'a>,
    layout: &Layout,
    offset: DataOffset,
) -> Result<Option<Unfiltered<'a>>> {
    let f = c.read_u8("unfiltered flags")?;
    if f & flags::END_OF_PARTITION != 0 {
        return Ok(None);
    }
    if f & flags::IS_MARKER != 0 {
        return decode_marker(c, layout, offset).map(|m| Some(Unfiltered::Marker(m)));
    }
    let ext = if f & flags::EXTENSION_FLAG != 0 {
        c.read_u8("extended flags")?
    } else {
        0
    };
    let is_static = ext & flags::IS_STATIC != 0;
    let mut clustering = Vec::new();
    if !is_static {
        clustering.reserve(layout.clustering.len());
        read_clustering_values(
            c,
            layout.clustering.len(),
            &layout.clustering,
            &mut clustering,
        )?;
    }
    let size = c.read_uvint("row size")?;
    let size = checked_size(c, size, "row")?;
    let mut body = c.split(size, "row body")?;
    body.read_uvint("previous unfiltered size")?;

    let mut liveness = LivenessInfo::EMPTY;
    if f & flags::HAS_TIMESTAMP != 0 {
        liveness.timestamp = Some(layout.timestamp(&mut body)?);
        if f & flags::HAS_TTL != 0 {
            let ttl = layout.ttl(&mut body)?;
            let ldt = layout.local_deletion_time(&mut body)?;
            liveness.ttl = Some((ttl, ldt));
        }
    }
    let deletion = if f & flags::HAS_DELETION != 0 {
        layout.deletion_time(&mut body)?
    } else {
        DeletionTime::LIVE
    };
    let scylla_shadowable_deletion = if ext & flags::HAS_SCYLLA_SHADOWABLE_DELETION != 0 {
        Some(layout.deletion_time(&mut body)?)
    } else {
        None
    };
    let columns = if is_static {
        &layout.statics
    } else {
        &layout.regulars
    };
    let present = if f & flags::HAS_ALL_COLUMNS != 0 {
        Present::All(columns.len())
    } else {
        Present::read(&mut body, columns.len())?
    };
    let mut cells = Vec::new();
    let mut complex_deletions = Vec::new();
    let has_complex_deletion = f & flags::HAS_COMPLEX_DELETION != 0;
    present.for_each(|idx| {
        let at = body.offset();
        let column = columns.get(idx as usize).ok_or_else(|| {
            body.invalid_at(
                at,
                format!("column {idx} beyond the header's {}", columns.len()),
            )
        })?;
        match column {
            ColumnLayout::Simple(width) => {
                cells.push(decode_cell(
                    &mut body, layout, idx, &liveness, None, *width,
                )?);
            }
            ColumnLayout::Complex(cl) => {
                if has_complex_deletion {
                    let d = layout.deletion_time(&mut body)?;
                    if !d.is_live() {
                        complex_deletions.push((idx, d));
                    }
                }
                let count = body.read_uvint("complex cell count")?;
                if count > body.remaining() as u64 {
                    return Err(body.invalid_at(at, format!("{count} cells cannot fit in the row")));
                }
                for _ in 0..count {
                    cells.push(decode_cell(
                        &mut body,
                        layout,
                        idx,
                        &liveness,
                        Some(cl),
                        None,
                    )?);
                }
            }
        }
        Ok(())
    })?;
    body.expect_end("row")?;
    Ok(Some(Unfiltered::Row(Row {
        is_static,
        clustering,
        liveness,
        deletion,
        deletion_is_shadowable: ext & flags::HAS_SHADOWABLE_DELETION != 0,
        scylla_shadowable_deletion,
        complex_deletions,
        cells,
        offset,
    })))
}

fn decode_cell<'a>(
    c: &mut Cursor<'a>,
    layout: &Layout,
    column: u32,
    row: &LivenessInfo,
    complex: Option<&ComplexLayout>,
    width: Option<usize>,
) -> Result<Cell<'a>> {
    let at = c.offset();
    let f = c.read_u8("cell flags")?;
    let timestamp = if f & flags::CELL_USE_ROW_TIMESTAMP != 0 {
        row.timestamp
            .ok_or_else(|| c.invalid_at(at, "cell uses the row timestamp but the row has none"))?
    } else {
        layout.timestamp(c)?
    };
    let deleted = f & flags::CELL_IS_DELETED != 0;
    let expiring = f & flags::CELL_IS_EXPIRING != 0;
    let kind = if f & flags::CELL_USE_ROW_TTL != 0 {
        match row.ttl {
            Some((ttl, ldt)) if expiring => CellKind::Expiring {
                ttl,
                local_expiration_time: ldt,
            },
            Some((_, ldt)) if deleted => CellKind::Tombstone {
                local_deletion_time: ldt,
            },
            _ if !deleted && !expiring => CellKind::Live,
            _ => return Err(c.invalid_at(at, "cell uses the row TTL but the row has none")),
        }
    } else if deleted || expiring {
        let ldt = layout.local_deletion_time(c)?;
        if expiring {
            let ttl = layout.ttl(c)?;
            CellKind::Expiring {
                ttl,
                local_expiration_time: ldt,
            }
        } else {
            CellKind::Tombstone {
                local_deletion_time: ldt,
            }
        }
    } else {
        CellKind::Live
    };
    let (path, width) = match complex {
        Some(cl) => {
            let path = c.read_vint_bytes("cell path")?;
            if *cl == ComplexLayout::Udt && path.len() != 2 {
                return Err(c.invalid_at(at, "UDT cell path is not a 2-byte field index"));
            }
            // Length-prefixed whatever the element type: see `ComplexLayout`.
            (Some(path), None)
        }
        None => (None, width),
    };
    let value = if f & flags::CELL_HAS_EMPTY_VALUE != 0 {
        &[][..]
    } else {
        read_value(c, width, "cell value")?
    };
    Ok(Cell {
        column,
        timestamp,
        kind,
        path,
        value,
    })
}

fn decode_marker<'a>(
    c: &mut Cursor<'a>,
    layout: &Layout,
    offset: DataOffset,
) -> Result<RangeTombstoneMarker<'a>> {
    let at = c.offset();
    let ordinal = c.read_u8("bound kind")?;
    let kind = BoundKind::from_ordinal(ordinal)
        .ok_or_else(|| c.invalid_at(at, format!("invalid range tombstone bound kind {ordinal}")))?;
    let count = usize::from(c.read_u16("bound size")?);
    if count > layout.clustering.len() {
        return Err(c.invalid_at(
            at,
            format!(
                "bound has {count} values but the table has {} clustering columns",
                layout.clustering.len()
            ),
        ));
    }
    let mut values = Vec::with_capacity(count);
    read_clustering_values(c, count, &layout.clustering, &mut values)?;
    let size = c.read_uvint("marker size")?;
    let size = checked_size(c, size, "marker")?;
    let mut body = c.split(size, "marker body")?;
    body.read_uvint("previous unfiltered size")?;
    let (close, open) = if kind.is_boundary() {
        let close = layout.deletion_time(&mut body)?;
        let open = layout.deletion_time(&mut body)?;
        (Some(close), Some(open))
    } else if kind.is_open() {
        (None, Some(layout.deletion_time(&mut body)?))
    } else {
        (Some(layout.deletion_time(&mut body)?), None)
    };
    body.expect_end("range tombstone marker")?;
    Ok(RangeTombstoneMarker {
        kind,
        values,
        close,
        open,
        offset,
    })
}

/// What both `Data.db` readers (this module's [`DataReader`] for 3.0+ and
/// [`crate::legacy::LegacyReader`] for 2.x) offer: a lending stream of partitions and their
/// rows, so that everything downstream is written once.
pub trait PartitionReader {
    /// The next partition's header, or `None` at the end (see [`DataReader::next_partition`]).
    fn next_partition(&mut self) -> Result<Option<PartitionHeader<'_>>>;
    /// The next row or marker of the current partition, or `None` at its end.
    fn next_unfiltered(&mut self) -> Result<Option<Unfiltered<'_>>>;
    /// The uncompressed position of the next byte to decode.
    fn position(&self) -> DataOffset;
    /// How far the reader has got, in uncompressed bytes, for progress reports: the position
    /// for one file, the sum of its sources' for a merge.
    fn progress(&self) -> u64 {
        self.position().0
    }
}

impl<S: DataSource> PartitionReader for DataReader<S> {
    fn next_partition(&mut self) -> Result<Option<PartitionHeader<'_>>> {
        DataReader::next_partition(self)
    }
    fn next_unfiltered(&mut self) -> Result<Option<Unfiltered<'_>>> {
        DataReader::next_unfiltered(self)
    }
    fn position(&self) -> DataOffset {
        DataReader::position(self)
    }
}
