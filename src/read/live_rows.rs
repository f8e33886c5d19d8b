//! Live CQL rows out of a [`PartitionReader`]: the one place that applies partition, range and
//! row deletions, TTL expiry and the static-row rules, and hands each live row to a
//! [`RowSink`] (`dump`'s JSON writer, `export`'s Arrow builders).
//!
//! Per partition: the sink hears [`RowSink::partition`] once (key, token), then one
//! [`RowSink::row`] per live clustered row; a partition whose only live data is its static row
//! gives one row with null clustering and regular columns (the CQL row of a static-compact
//! table). The live static cells are copied once per partition so that every row of the
//! partition sees them (the reader's buffers move on between rows).

use sstable_format::data::{Cell, CellKind, DeletionTime, PartitionReader, Unfiltered};
use sstable_format::key::split_partition_key;
use sstable_format::partitioner::{Partitioner, Token};
use sstable_format::reconcile::{effective_deletion, live_row, Now};
use sstable_format::CqlType;

use crate::read::table_view::{SetMapping, TableView};

/// One live cell, borrowed from the reader (regular rows) or from the partition's copy of its
/// static row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellRef<'a> {
    /// Cell path of a multi-cell column (list timeuuid, set element, map key, UDT field).
    pub path: Option<&'a [u8]>,
    /// Serialized value.
    pub value: &'a [u8],
    /// Write timestamp (microseconds).
    pub timestamp: i64,
    /// `(ttl, local_expiration_time)` of an expiring cell.
    pub ttl: Option<(i32, i64)>,
}

impl<'a> CellRef<'a> {
    fn of(c: &Cell<'a>) -> Self {
        CellRef {
            path: c.path,
            value: c.value,
            timestamp: c.timestamp,
            ttl: match c.kind {
                CellKind::Expiring {
                    ttl,
                    local_expiration_time,
                } => Some((ttl, local_expiration_time)),
                _ => None,
            },
        }
    }
}

/// A static cell copied out of the reader: ranges into [`StaticCells::bytes`].
#[derive(Debug, Clone, Copy)]
struct OwnedCell {
    path: Option<(usize, usize)>,
    value: (usize, usize),
    timestamp: i64,
    ttl: Option<(i32, i64)>,
}

/// The live static cells of the current partition.
#[derive(Debug, Default)]
struct StaticCells {
    bytes: Vec<u8>,
    cells: Vec<OwnedCell>,
}

impl StaticCells {
    fn clear(&mut self) {
        self.bytes.clear();
        self.cells.clear();
    }

    fn push(&mut self, c: &Cell<'_>) {
        let mut range = |b: &[u8]| {
            let start = self.bytes.len();
            self.bytes.extend_from_slice(b);
            (start, self.bytes.len())
        };
        let path = c.path.map(&mut range);
        let value = range(c.value);
        let r = CellRef::of(c);
        self.cells.push(OwnedCell {
            path,
            value,
            timestamp: r.timestamp,
            ttl: r.ttl,
        });
    }

    fn get(&self, i: usize) -> Option<CellRef<'_>> {
        let c = self.cells.get(i)?;
        let slice = |(a, b): (usize, usize)| self.bytes.get(a..b).unwrap_or(&[]);
        Some(CellRef {
            path: c.path.map(slice),
            value: slice(c.value),
            timestamp: c.timestamp,
            ttl: c.ttl,
        })
    }
}

/// Where an output column's cells are in the current row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    None,
    /// Cells `start..end` of the regular row's live cells; index into the mapping's regulars.
    Regular {
        start: usize,
        end: usize,
        col: usize,
    },
    /// Cells `start..end` of the static copy; index into the mapping's statics.
    Static {
        start: usize,
        end: usize,
        col: usize,
    },
}

/// The live cells of one output column in one row: one cell for a simple column, the live
/// cells (in path order) of a multi-cell column.
#[derive(Debug, Clone, Copy)]
pub struct ColumnCells<'a> {
    /// The type the cells decode with (the SSTable header's, which lays out the bytes).
    pub ty: &'a CqlType,
    /// The column is stored as several cells (a non-frozen collection or UDT).
    pub multi_cell: bool,
    source: CellSource<'a>,
    start: usize,
    end: usize,
}

#[derive(Debug, Clone, Copy)]
enum CellSource<'a> {
    Regular(&'a [&'a Cell<'a>]),
    Static(&'a StaticCells),
}

impl<'a> ColumnCells<'a> {
    /// The number of cells.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether there is no cell (never true for a column [`LiveCqlRow::column`] returns).
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    /// The cells, in path order.
    pub fn iter(&self) -> impl Iterator<Item = CellRef<'a>> + 'a {
        let source = self.source;
        (self.start..self.end).filter_map(move |i| match source {
            CellSource::Regular(cells) => cells.get(i).map(|c| CellRef::of(c)),
            CellSource::Static(s) => s.get(i),
        })
    }

    /// The first cell (the value of a simple column).
    pub fn first(&self) -> Option<CellRef<'a>> {
        self.iter().next()
    }

    /// The newest write timestamp of the cells (`writetime(col)`).
    pub fn max_timestamp(&self) -> Option<i64> {
        self.iter().map(|c| c.timestamp).max()
    }

    /// The soonest expiration of the cells' TTLs, if any cell expires.
    pub fn min_expiration(&self) -> Option<i64> {
        self.iter().filter_map(|c| c.ttl.map(|(_, e)| e)).min()
    }
}

/// One live CQL row as the sink sees it.
#[derive(Debug)]
pub struct LiveCqlRow<'a> {
    /// Clustering values (`None` = null); all `None` for the row of a static-only partition.
    pub clustering: &'a [Option<&'a [u8]>],
    /// Whether this row is a partition's static-only row (no clustered row was live).
    pub static_only: bool,
    regular: &'a [&'a Cell<'a>],
    statics: &'a StaticCells,
    slots: &'a [Slot],
    mapping: &'a SetMapping,
}

impl<'a> LiveCqlRow<'a> {
    /// The live cells of output column `i` (index into [`TableView::columns`]), if any.
    pub fn column(&self, i: usize) -> Option<ColumnCells<'a>> {
        let (source, start, end, ty) = match *self.slots.get(i)? {
            Slot::None => return None,
            Slot::Regular { start, end, col } => (
                CellSource::Regular(self.regular),
                start,
                end,
                &self.mapping.regulars.get(col)?.as_ref()?.1,
            ),
            Slot::Static { start, end, col } => (
                CellSource::Static(self.statics),
                start,
                end,
                &self.mapping.statics.get(col)?.as_ref()?.1,
            ),
        };
        let multi_cell = match source {
            CellSource::Regular(cells) => cells.get(start).is_some_and(|c| c.path.is_some()),
            CellSource::Static(s) => s.cells.get(start).is_some_and(|c| c.path.is_some()),
        };
        Some(ColumnCells {
            ty,
            multi_cell,
            source,
            start,
            end,
        })
    }
}

/// The partition being read, as the sink sees it.
#[derive(Debug)]
pub struct PartitionInfo<'a> {
    /// The serialized partition key.
    pub key: &'a [u8],
    /// The partition key's components (one per partition key column).
    pub key_parts: &'a [&'a [u8]],
    /// The partition's token.
    pub token: &'a Token,
    /// The reader's [`PartitionReader::progress`] after this partition's header.
    pub progress: u64,
}

/// Receives the live rows of a table.
pub trait RowSink {
    /// The sink's error; decoding errors of the reader convert into it.
    type Error: From<sstable_format::Error>;

    /// A new partition starts; its rows follow.
    fn partition(&mut self, p: &PartitionInfo<'_>) -> Result<(), Self::Error>;

    /// One live row of the current partition.
    fn row(&mut self, p: &PartitionInfo<'_>, row: &LiveCqlRow<'_>) -> Result<(), Self::Error>;
}

/// Counters of one [`LiveRows::run`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RowStats {
    /// Partitions read.
    pub partitions: u64,
    /// Rows handed to the sink.
    pub rows: u64,
    /// Cells hidden by a deletion (partition, range, row, collection or cell tombstone).
    pub cells_deleted: u64,
    /// Cells hidden because their TTL expired.
    pub cells_expired: u64,
}

/// The driver: reads partitions, applies the reconciliation rules, calls the sink.
#[derive(Debug)]
pub struct LiveRows<'v> {
    view: &'v TableView,
    mapping: &'v SetMapping,
    partitioner: Partitioner,
    now: Now,
    statics: StaticCells,
    static_slots: Vec<Slot>,
    slots: Vec<Slot>,
    /// Counters so far.
    pub stats: RowStats,
}

impl<'v> LiveRows<'v> {
    /// A driver for the rows of `view`, decoding cells with `mapping`, TTLs evaluated at `now`.
    pub fn new(
        view: &'v TableView,
        mapping: &'v SetMapping,
        partitioner: Partitioner,
        now: Now,
    ) -> Self {
        let n = view.columns.len();
        LiveRows {
            view,
            mapping,
            partitioner,
            now,
            statics: StaticCells::default(),
            static_slots: vec![Slot::None; n],
            slots: vec![Slot::None; n],
            stats: RowStats::default(),
        }
    }

    /// Reads every partition of `reader` into `sink`.
    pub fn run<S: RowSink>(
        &mut self,
        reader: &mut dyn PartitionReader,
        sink: &mut S,
    ) -> Result<(), S::Error> {
        let none: Vec<Option<&[u8]>> = vec![None; self.view.clustering.len()];
        while let Some(p) = reader.next_partition()? {
            let (key, deletion) = (p.key.to_vec(), p.deletion);
            let progress = reader.progress();
            self.stats.partitions += 1;
            let token = self.partitioner.token(&key);
            let key_parts = split_partition_key(&key, self.view.partition_key.len())?;
            let info = PartitionInfo {
                key: &key,
                key_parts: &key_parts,
                token: &token,
                progress,
            };
            sink.partition(&info)?;
            self.statics.clear();
            self.static_slots.iter_mut().for_each(|s| *s = Slot::None);
            let mut open_range: Option<DeletionTime> = None;
            let mut emitted = false;
            let mut has_static = false;
            while let Some(u) = reader.next_unfiltered()? {
                match u {
                    Unfiltered::Marker(m) => {
                        if m.kind.is_close() {
                            open_range = None;
                        }
                        if let Some(o) = m.open {
                            open_range = Some(o);
                        }
                    }
                    Unfiltered::Row(row) => {
                        let d = effective_deletion(deletion, open_range, &row);
                        let live = live_row(&row, d, self.now);
                        self.stats.cells_deleted += u64::from(live.deleted_cells);
                        self.stats.cells_expired += u64::from(live.expired_cells);
                        if row.is_static {
                            self.statics.clear();
                            for c in &live.cells {
                                self.statics.push(c);
                            }
                            fill_slots(
                                &live.cells,
                                &self.mapping.statics,
                                &mut self.static_slots,
                                true,
                            );
                            has_static = !live.cells.is_empty();
                        } else if live.is_live() {
                            fill_slots(&live.cells, &self.mapping.regulars, &mut self.slots, false);
                            for (s, st) in self.slots.iter_mut().zip(&self.static_slots) {
                                if *s == Slot::None {
                                    *s = *st;
                                }
                            }
                            let out = LiveCqlRow {
                                clustering: &row.clustering,
                                static_only: false,
                                regular: &live.cells,
                                statics: &self.statics,
                                slots: &self.slots,
                                mapping: self.mapping,
                            };
                            sink.row(&info, &out)?;
                            self.stats.rows += 1;
                            emitted = true;
                        }
                    }
                }
            }
            if !emitted && has_static {
                // A partition with only static data is one row, its clustering and regular
                // columns null (static-compact tables: the CQL row itself).
                let out = LiveCqlRow {
                    clustering: &none,
                    static_only: true,
                    regular: &[],
                    statics: &self.statics,
                    slots: &self.static_slots,
                    mapping: self.mapping,
                };
                sink.row(&info, &out)?;
                self.stats.rows += 1;
            }
        }
        Ok(())
    }
}

/// Records, per output column, the range of `cells` (live, in column order) that holds it.
fn fill_slots(
    cells: &[&Cell<'_>],
    columns: &[Option<(usize, CqlType)>],
    slots: &mut [Slot],
    is_static: bool,
) {
    slots.iter_mut().for_each(|s| *s = Slot::None);
    let mut i = 0;
    while let Some(first) = cells.get(i) {
        let col = first.column;
        let mut j = i + 1;
        while cells.get(j).is_some_and(|c| c.column == col) {
            j += 1;
        }
        let (start, end) = (i, j);
        i = j;
        let Some((out, _)) = columns.get(col as usize).and_then(|c| c.as_ref()) else {
            continue; // a dropped column
        };
        if let Some(slot) = slots.get_mut(*out) {
            let col = col as usize;
            *slot = if is_static {
                Slot::Static { start, end, col }
            } else {
                Slot::Regular { start, end, col }
            };
        }
    }
}
