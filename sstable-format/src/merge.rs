//! Merging every version of every row across SSTables (of one node or of several replicas)
//! into what Cassandra would return: a streaming k-way merge of partitions by (token, key),
//! then per partition a merge of rows in clustering order, reconciling cells with the
//! Cassandra 4.0+ rules.
//!
//! Mirrors `db/rows/UnfilteredRowIterators.merge`, `db/rows/Rows.merge`,
//! `db/rows/Cells.reconcile` (CASSANDRA-14592 tie-breaking), `db/LivenessInfo.supersedes`,
//! `db/DeletionTime.supersedes` and `db/context/CounterContext.merge`.
//!
//! The merged stream is itself a [`PartitionReader`], so the consumers of a single SSTable
//! (JSON, Arrow) read merged data unchanged.
//!
//! A partition that only one source holds (disjoint SSTables, or a partition one replica alone
//! has) passes through without a copy: its rows and range-tombstone markers are the source's
//! own, borrowed from its reader, only their column indices mapped onto the output. A
//! partition of several sources is merged: each source's next row is copied once (its head:
//! the readers' buffers move on), rows at one clustering position are reconciled by reference,
//! and the output row borrows the winning cells from the heads (only merged counter values are
//! new bytes). In those partitions range tombstones are applied during the merge: each
//! source's open range deletion is tracked from its markers, and the strongest one open at a
//! row is folded into that row's deletion, so a merged partition carries no markers.
//! Memory: one decoded chunk per source (the readers) plus one row per source (the heads).
//!
//! Cells are addressed by the *output* column index space (the table's columns), so SSTables
//! written before and after a column was added merge correctly; each source maps its own
//! header's columns onto it with a [`ColumnMap`], and cells of dropped columns are left out.

use std::cmp::Ordering;

use crate::compare::{compare_values, ClusteringComparator};
use crate::data::{
    BoundKind, Cell, CellKind, DeletionTime, LivenessInfo, PartitionHeader, PartitionReader, Row,
    Unfiltered, EXPIRED_LIVENESS_TTL,
};
use crate::error::Result;
use crate::offsets::DataOffset;
use crate::partitioner::{Partitioner, Token};
use crate::types::CqlType;
use crate::value::CounterContext;

/// How one source's cell column indices map to the output columns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnMap {
    /// For each static column of the source (its `Cell::column`), the output column.
    pub statics: Vec<Option<u32>>,
    /// For each regular column of the source, the output column.
    pub regulars: Vec<Option<u32>>,
}

/// What the merge did, for the run's report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MergeStats {
    /// Partitions read, summed over sources.
    pub partitions_read: u64,
    /// Distinct partitions produced.
    pub partitions_out: u64,
    /// Rows (and static rows) read, summed over sources.
    pub rows_read: u64,
    /// Row versions merged away (a row present in k sources counts k-1).
    pub rows_superseded: u64,
    /// Cell versions that lost reconciliation to another version.
    pub cells_superseded: u64,
    /// Tombstones seen: partition, range (markers), row, collection and cell deletions.
    pub tombstones: u64,
}

/// An owned copy of a row, reusing its allocations from row to row.
#[derive(Debug, Default, Clone)]
struct OwnedRow {
    is_static: bool,
    clustering: Vec<Option<Vec<u8>>>,
    liveness: Option<LivenessInfo>,
    deletion: DeletionTime,
    deletion_is_shadowable: bool,
    scylla_shadowable_deletion: Option<DeletionTime>,
    complex_deletions: Vec<(u32, DeletionTime)>,
    cells: Vec<OwnedCell>,
    len: usize,
}

#[derive(Debug, Default, Clone)]
struct OwnedCell {
    column: u32,
    timestamp: i64,
    kind: Option<CellKind>,
    path: Option<Vec<u8>>,
    value: Vec<u8>,
}

impl OwnedCell {
    fn kind(&self) -> CellKind {
        self.kind.unwrap_or(CellKind::Live)
    }

    fn set(&mut self, column: u32, c: &Cell<'_>) {
        self.column = column;
        self.timestamp = c.timestamp;
        self.kind = Some(c.kind);
        match (c.path, &mut self.path) {
            (Some(p), Some(own)) => {
                own.clear();
                own.extend_from_slice(p);
            }
            (Some(p), None) => self.path = Some(p.to_vec()),
            (None, _) => self.path = None,
        }
        self.value.clear();
        self.value.extend_from_slice(c.value);
    }

    fn as_cell(&self) -> Cell<'_> {
        Cell {
            column: self.column,
            timestamp: self.timestamp,
            kind: self.kind(),
            path: self.path.as_deref(),
            value: &self.value,
        }
    }
}

impl OwnedRow {
    fn cells(&self) -> &[OwnedCell] {
        self.cells.get(..self.len).unwrap_or(&[])
    }

    /// Appends a cell, reusing an old one's allocations when there is one.
    fn push_with(&mut self, f: impl FnOnce(&mut OwnedCell)) {
        match self.cells.get_mut(self.len) {
            Some(c) => f(c),
            None => {
                let mut c = OwnedCell::default();
                f(&mut c);
                self.cells.push(c);
            }
        }
        self.len += 1;
    }

    fn load(&mut self, row: &Row<'_>, map: &[Option<u32>]) {
        self.is_static = row.is_static;
        self.clustering.truncate(row.clustering.len());
        for (i, v) in row.clustering.iter().enumerate() {
            match (self.clustering.get_mut(i), v) {
                (Some(Some(own)), Some(v)) => {
                    own.clear();
                    own.extend_from_slice(v);
                }
                (Some(slot), v) => *slot = v.map(<[u8]>::to_vec),
                (None, v) => self.clustering.push(v.map(<[u8]>::to_vec)),
            }
        }
        self.liveness = Some(row.liveness);
        self.deletion = row.deletion;
        self.deletion_is_shadowable = row.deletion_is_shadowable;
        self.scylla_shadowable_deletion = row.scylla_shadowable_deletion;
        self.complex_deletions.clear();
        for (c, d) in &row.complex_deletions {
            if let Some(Some(out)) = map.get(*c as usize) {
                self.complex_deletions.push((*out, *d));
            }
        }
        self.len = 0;
        for c in &row.cells {
            if let Some(Some(out)) = map.get(c.column as usize) {
                self.push_with(|own| own.set(*out, c));
            }
        }
        // Sources order cells by their own header; the output orders by output column, then
        // by cell path in the column type's order (a stable sort keeps each source's path order).
        let len = self.len;
        if let Some(cells) = self.cells.get_mut(..len) {
            if cells
                .windows(2)
                .any(|w| matches!(w, [a, b] if a.column > b.column))
            {
                cells.sort_by_key(|c| c.column);
            }
        }
        self.complex_deletions.sort_by_key(|(c, _)| *c);
    }

    fn clustering_refs(&self) -> Vec<Option<&[u8]>> {
        self.clustering.iter().map(|v| v.as_deref()).collect()
    }
}

/// The head of one source within the current partition.
#[derive(Debug, Clone)]
enum Head {
    Row(OwnedRow),
    Marker {
        kind: BoundKind,
        values: Vec<Option<Vec<u8>>>,
        open: Option<DeletionTime>,
    },
}

struct Source<'r> {
    reader: Box<dyn PartitionReader + 'r>,
    map: ColumnMap,
    /// Whether `map` sends every static / regular column to the same index.
    identity: (bool, bool),
    /// Whether the source has a next partition: its token, deletion and key (`next_key`).
    next: Option<(Token, DeletionTime)>,
    next_key: Vec<u8>,
    /// Whether it takes part in the current partition.
    active: bool,
    head: Option<Head>,
    spare: OwnedRow,
    open: Option<DeletionTime>,
}

/// A reconciled cell of the output row: a cell of a member's head (source, index in its
/// cells), or a merged counter value (`bytes` of [`Merger::counters`]) on top of such a cell.
#[derive(Debug, Clone, Copy)]
enum Pick {
    Cell(usize, usize),
    Counter {
        base: (usize, usize),
        timestamp: i64,
        bytes: (usize, usize),
    },
}

/// The row-level parts of the output row; its clustering is that of the first member's head,
/// its cells [`Merger::picks`].
#[derive(Debug, Default, Clone)]
struct OutRow {
    first: usize,
    is_static: bool,
    liveness: Option<LivenessInfo>,
    deletion: DeletionTime,
    deletion_is_shadowable: bool,
    scylla_shadowable_deletion: Option<DeletionTime>,
    complex_deletions: Vec<(u32, DeletionTime)>,
}

/// The k-way merge of several SSTables' partitions and rows. Implements [`PartitionReader`].
pub struct Merger<'r> {
    sources: Vec<Source<'r>>,
    partitioner: Partitioner,
    clustering: ClusteringComparator,
    /// Output columns' types (for cell paths and counters).
    column_types: Vec<CqlType>,
    key: Vec<u8>,
    /// The current partition's only source, whose rows pass through unchanged.
    single: Option<usize>,
    /// Sources whose heads make up the row last returned: they move on at the next call.
    pending: Vec<usize>,
    members: Vec<usize>,
    out: OutRow,
    picks: Vec<Pick>,
    /// Merged counter values of the current row.
    counters: Vec<u8>,
    /// Per member, its next cell during a row merge.
    cursors: Vec<usize>,
    in_partition: bool,
    stats: MergeStats,
    started: bool,
}

impl std::fmt::Debug for Merger<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Merger")
            .field("sources", &self.sources.len())
            .field("stats", &self.stats)
            .finish()
    }
}

fn max_deletion(a: DeletionTime, b: DeletionTime) -> DeletionTime {
    if b.supersedes(&a) {
        b
    } else {
        a
    }
}

/// `LivenessInfo.supersedes` (4.0): higher timestamp; then an expired liveness wins; then the
/// later expiration (a non-expiring one counts as never expiring).
fn liveness_supersedes(a: &LivenessInfo, b: &LivenessInfo) -> bool {
    match (a.timestamp, b.timestamp) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(ta), Some(tb)) if ta != tb => ta > tb,
        _ => {
            let expired = |l: &LivenessInfo| l.ttl.is_some_and(|(t, _)| t == EXPIRED_LIVENESS_TTL);
            if expired(a) != expired(b) {
                return expired(a);
            }
            match (a.ttl, b.ttl) {
                (Some((_, ea)), Some((_, eb))) => ea > eb,
                (None, Some(_)) => false,
                (Some(_), None) => true,
                (None, None) => false,
            }
        }
    }
}

/// `Cells.reconcile` for regular cells (4.0+): higher timestamp; on a tie a tombstone or
/// expiring cell beats a live one, a tombstone beats an expiring one, then the later local
/// deletion time, then the greater value (unsigned bytes). Returns whether `a` wins.
fn regular_wins(a: &OwnedCell, b: &OwnedCell) -> bool {
    if a.timestamp != b.timestamp {
        return a.timestamp > b.timestamp;
    }
    let ldt = |c: &OwnedCell| match c.kind() {
        CellKind::Live => None,
        CellKind::Expiring {
            local_expiration_time,
            ..
        } => Some(local_expiration_time),
        CellKind::Tombstone {
            local_deletion_time,
        } => Some(local_deletion_time),
    };
    let (la, lb) = (ldt(a), ldt(b));
    if la.is_some() || lb.is_some() {
        if la.is_some() != lb.is_some() {
            return la.is_some();
        }
        let tomb = |c: &OwnedCell| matches!(c.kind(), CellKind::Tombstone { .. });
        if tomb(a) != tomb(b) {
            return tomb(a);
        }
        if la != lb {
            return la > lb;
        }
    }
    a.value >= b.value
}

/// Whether `map` sends column `i` to `i` for every column.
fn is_identity(map: &[Option<u32>]) -> bool {
    map.iter()
        .enumerate()
        .all(|(i, m)| *m == u32::try_from(i).ok())
}

/// Maps a passed-through row's columns onto the output: cells and complex deletions of dropped
/// columns are left out, and they are ordered by output column (a stable sort keeps each
/// column's path order).
fn map_row(row: &mut Row<'_>, map: &[Option<u32>]) {
    row.cells.retain_mut(|c| match map.get(c.column as usize) {
        Some(Some(out)) => {
            c.column = *out;
            true
        }
        _ => false,
    });
    if row
        .cells
        .windows(2)
        .any(|w| matches!(w, [a, b] if a.column > b.column))
    {
        row.cells.sort_by_key(|c| c.column);
    }
    row.complex_deletions
        .retain_mut(|(c, _)| match map.get(*c as usize) {
            Some(Some(out)) => {
                *c = *out;
                true
            }
            _ => false,
        });
    row.complex_deletions.sort_by_key(|(c, _)| *c);
}

/// Counts what a row read from a source holds, for [`MergeStats`].
fn count_row(stats: &mut MergeStats, row: &Row<'_>) {
    stats.rows_read += 1;
    if !row.deletion.is_live() {
        stats.tombstones += 1;
    }
    stats.tombstones += row.complex_deletions.len() as u64;
    stats.tombstones += row
        .cells
        .iter()
        .filter(|c| matches!(c.kind, CellKind::Tombstone { .. }))
        .count() as u64;
}

/// The cell `idx` of source `src`'s head row.
fn head_cell<'a>(sources: &'a [Source<'_>], (src, idx): (usize, usize)) -> Option<&'a OwnedCell> {
    match sources.get(src)?.head.as_ref()? {
        Head::Row(r) => r.cells().get(idx),
        Head::Marker { .. } => None,
    }
}

/// Orders two cells of one row by (column, path), paths in their column type's order.
fn cell_position(column_types: &[CqlType], a: &OwnedCell, b: &OwnedCell) -> Ordering {
    a.column
        .cmp(&b.column)
        .then_with(|| match (&a.path, &b.path) {
            (Some(pa), Some(pb)) => path_order(column_types, a.column, pa, pb),
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
        })
}

fn path_order(column_types: &[CqlType], column: u32, a: &[u8], b: &[u8]) -> Ordering {
    match column_types.get(column as usize).map(CqlType::unreversed) {
        Some(CqlType::List { .. }) => compare_values(&CqlType::TimeUuid, a, b),
        Some(CqlType::Set { element, .. }) => compare_values(element, a, b),
        Some(CqlType::Map { key, .. }) => compare_values(key, a, b),
        _ => a.cmp(b),
    }
}

impl<'r> Merger<'r> {
    /// A merge over `sources` (each a reader and the map of its columns onto the output),
    /// all of one table. `clustering` holds the clustering types (`Reversed` for DESC);
    /// `column_types` the output columns' types.
    pub fn new(
        sources: Vec<(Box<dyn PartitionReader + 'r>, ColumnMap)>,
        partitioner: Partitioner,
        clustering: Vec<CqlType>,
        column_types: Vec<CqlType>,
    ) -> Self {
        Merger {
            sources: sources
                .into_iter()
                .map(|(reader, map)| Source {
                    reader,
                    identity: (is_identity(&map.statics), is_identity(&map.regulars)),
                    map,
                    next: None,
                    next_key: Vec::new(),
                    active: false,
                    head: None,
                    spare: OwnedRow::default(),
                    open: None,
                })
                .collect(),
            partitioner,
            clustering: ClusteringComparator::new(clustering),
            column_types,
            key: Vec::new(),
            single: None,
            pending: Vec::new(),
            members: Vec::new(),
            out: OutRow::default(),
            picks: Vec::new(),
            counters: Vec::new(),
            cursors: Vec::new(),
            in_partition: false,
            stats: MergeStats::default(),
            started: false,
        }
    }

    /// What the merge did so far.
    pub fn stats(&self) -> MergeStats {
        self.stats
    }

    fn fetch_partition(
        src: &mut Source<'r>,
        partitioner: Partitioner,
        stats: &mut MergeStats,
    ) -> Result<()> {
        src.next = match src.reader.next_partition()? {
            Some(p) => {
                stats.partitions_read += 1;
                if !p.deletion.is_live() {
                    stats.tombstones += 1;
                }
                src.next_key.clear();
                src.next_key.extend_from_slice(p.key);
                Some((partitioner.token(p.key), p.deletion))
            }
            None => None,
        };
        Ok(())
    }

    /// Reads source `i`'s next row or marker into its head (a copy: the reader moves on).
    fn advance(&mut self, i: usize) -> Result<()> {
        let Some(src) = self.sources.get_mut(i) else {
            return Ok(());
        };
        let mut spare = match src.head.take() {
            Some(Head::Row(r)) => r,
            _ => std::mem::take(&mut src.spare),
        };
        src.head = match src.reader.next_unfiltered()? {
            None => {
                src.spare = spare;
                None
            }
            Some(Unfiltered::Row(row)) => {
                count_row(&mut self.stats, &row);
                let map = if row.is_static {
                    &src.map.statics
                } else {
                    &src.map.regulars
                };
                spare.load(&row, map);
                Some(Head::Row(spare))
            }
            Some(Unfiltered::Marker(m)) => {
                self.stats.tombstones += 1;
                src.spare = spare;
                Some(Head::Marker {
                    kind: m.kind,
                    values: m.values.iter().map(|v| v.map(<[u8]>::to_vec)).collect(),
                    open: m.open,
                })
            }
        };
        Ok(())
    }

    /// Orders two heads by clustering position (static row first, bounds by their kind).
    fn compare_heads(&self, a: &Head, b: &Head) -> Ordering {
        match (a, b) {
            (Head::Row(x), Head::Row(y)) => match (x.is_static, y.is_static) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Less,
                (false, true) => Ordering::Greater,
                (false, false) => {
                    // Rows of one table have full clusterings: compare component by component
                    // without building slices (this is the merge's hot comparison).
                    for (i, (a, b)) in x.clustering.iter().zip(&y.clustering).enumerate() {
                        let o = self
                            .clustering
                            .compare_component(i, a.as_deref(), b.as_deref());
                        if o.is_ne() {
                            return o;
                        }
                    }
                    x.clustering.len().cmp(&y.clustering.len())
                }
            },
            (Head::Row(x), Head::Marker { kind, values, .. }) => {
                if x.is_static {
                    return Ordering::Less;
                }
                let v: Vec<Option<&[u8]>> = values.iter().map(|v| v.as_deref()).collect();
                self.clustering
                    .compare_row_to_bound(&x.clustering_refs(), *kind, &v)
            }
            (Head::Marker { .. }, Head::Row(_)) => self.compare_heads(b, a).reverse(),
            (
                Head::Marker {
                    kind: ka,
                    values: va,
                    ..
                },
                Head::Marker {
                    kind: kb,
                    values: vb,
                    ..
                },
            ) => {
                let a: Vec<Option<&[u8]>> = va.iter().map(|v| v.as_deref()).collect();
                let b: Vec<Option<&[u8]>> = vb.iter().map(|v| v.as_deref()).collect();
                self.clustering.compare_bounds(*ka, &a, *kb, &b)
            }
        }
    }

    /// Merges the rows of `self.members` (sources whose head is a row at the same position)
    /// into `self.out` and `self.picks`: row-level parts reconciled, and per (column, path) the
    /// winning version, found by comparing the heads' cells in place. Nothing is copied but
    /// merged counter values.
    fn merge_rows(&mut self) -> Result<()> {
        let Merger {
            sources,
            column_types,
            members,
            out,
            picks,
            counters,
            cursors,
            stats,
            ..
        } = self;
        let sources: &[Source<'_>] = sources;
        let column_types: &[CqlType] = column_types;
        out.complex_deletions.clear();
        picks.clear();
        counters.clear();
        let mut first = true;
        for &i in members.iter() {
            let Some(Source {
                head: Some(Head::Row(row)),
                ..
            }) = sources.get(i)
            else {
                continue;
            };
            if first {
                out.first = i;
                out.is_static = row.is_static;
                out.liveness = row.liveness;
                out.deletion = row.deletion;
                out.deletion_is_shadowable = row.deletion_is_shadowable;
                out.scylla_shadowable_deletion = row.scylla_shadowable_deletion;
                first = false;
            } else {
                stats.rows_superseded += 1;
                let (a, b) = (
                    out.liveness.unwrap_or(LivenessInfo::EMPTY),
                    row.liveness.unwrap_or(LivenessInfo::EMPTY),
                );
                if liveness_supersedes(&b, &a) {
                    out.liveness = row.liveness;
                }
                if row.deletion.supersedes(&out.deletion) {
                    out.deletion = row.deletion;
                    out.deletion_is_shadowable = row.deletion_is_shadowable;
                }
                out.scylla_shadowable_deletion = match (
                    out.scylla_shadowable_deletion,
                    row.scylla_shadowable_deletion,
                ) {
                    (Some(a), Some(b)) => Some(max_deletion(a, b)),
                    (a, b) => a.or(b),
                };
            }
            for &(c, d) in &row.complex_deletions {
                match out.complex_deletions.iter_mut().find(|(oc, _)| *oc == c) {
                    Some((_, od)) => *od = max_deletion(*od, d),
                    None => out.complex_deletions.push((c, d)),
                }
            }
        }
        out.complex_deletions.sort_by_key(|(c, _)| *c);
        // Cells: a k-way merge by (column, path) of the members' cell lists.
        cursors.clear();
        cursors.resize(members.len(), 0);
        loop {
            // The smallest (column, path) among the members' next cells.
            let mut best: Option<&OwnedCell> = None;
            for (&i, &at) in members.iter().zip(cursors.iter()) {
                let Some(c) = head_cell(sources, (i, at)) else {
                    continue;
                };
                if best.is_none_or(|b| cell_position(column_types, c, b) == Ordering::Less) {
                    best = Some(c);
                }
            }
            let Some(position) = best else {
                break;
            };
            // Reconcile every member's version at that position, by reference.
            let mut winner: Option<Pick> = None;
            for (&i, at) in members.iter().zip(cursors.iter_mut()) {
                let Some(c) = head_cell(sources, (i, *at)) else {
                    continue;
                };
                if cell_position(column_types, c, position) != Ordering::Equal {
                    continue;
                }
                let this = Pick::Cell(i, *at);
                *at += 1;
                winner = Some(match winner {
                    None => this,
                    Some(w) => {
                        stats.cells_superseded += 1;
                        let counter = column_types
                            .get(c.column as usize)
                            .is_some_and(CqlType::is_counter);
                        reconcile(counter, sources, counters, w, (i, *at - 1))?
                    }
                });
            }
            if let Some(w) = winner {
                picks.push(w);
            }
        }
        Ok(())
    }

    /// The output row of the last [`Merger::merge_rows`], borrowing the members' heads.
    fn out_row(&self) -> Row<'_> {
        let cell = |at: (usize, usize)| head_cell(&self.sources, at).map(OwnedCell::as_cell);
        let cells = self
            .picks
            .iter()
            .filter_map(|p| match *p {
                Pick::Cell(src, idx) => cell((src, idx)),
                Pick::Counter {
                    base,
                    timestamp,
                    bytes: (start, end),
                } => cell(base).map(|c| Cell {
                    timestamp,
                    value: self.counters.get(start..end).unwrap_or_default(),
                    ..c
                }),
            })
            .collect();
        let clustering = match self
            .sources
            .get(self.out.first)
            .and_then(|s| s.head.as_ref())
        {
            Some(Head::Row(r)) => r.clustering_refs(),
            _ => Vec::new(),
        };
        Row {
            is_static: self.out.is_static,
            clustering,
            liveness: self.out.liveness.unwrap_or(LivenessInfo::EMPTY),
            deletion: self.out.deletion,
            deletion_is_shadowable: self.out.deletion_is_shadowable,
            scylla_shadowable_deletion: self.out.scylla_shadowable_deletion,
            complex_deletions: self.out.complex_deletions.clone(),
            cells,
            offset: DataOffset(0),
        }
    }

    /// The next row of a partition that only source `i` holds, passed through: its column
    /// indices mapped onto the output, markers unchanged.
    fn pass_through(&mut self, i: usize) -> Result<Option<Unfiltered<'_>>> {
        let Some(Source {
            reader,
            map,
            identity,
            ..
        }) = self.sources.get_mut(i)
        else {
            return Ok(None);
        };
        let stats = &mut self.stats;
        match reader.next_unfiltered()? {
            None => {
                self.in_partition = false;
                Ok(None)
            }
            Some(Unfiltered::Row(mut row)) => {
                count_row(stats, &row);
                let (map, identity) = if row.is_static {
                    (&map.statics, identity.0)
                } else {
                    (&map.regulars, identity.1)
                };
                if !identity {
                    map_row(&mut row, map);
                }
                Ok(Some(Unfiltered::Row(row)))
            }
            Some(Unfiltered::Marker(m)) => {
                stats.tombstones += 1;
                Ok(Some(Unfiltered::Marker(m)))
            }
        }
    }
}

/// Reconciles the version so far `w` with the cell `b` (source, index) of the same (column,
/// path) (`Cells.reconcile`), by reference: the result is one of the two cells, or for two
/// live counters a merged value appended to `counters`.
fn reconcile(
    counter: bool,
    sources: &[Source<'_>],
    counters: &mut Vec<u8>,
    w: Pick,
    b: (usize, usize),
) -> Result<Pick> {
    let base = match w {
        Pick::Cell(s, i) => (s, i),
        Pick::Counter { base, .. } => base,
    };
    let (Some(a_cell), Some(b_cell)) = (head_cell(sources, base), head_cell(sources, b)) else {
        return Ok(w);
    };
    if !counter {
        // Only counters merge values: a regular winner is always a head's cell.
        return Ok(if regular_wins(a_cell, b_cell) {
            w
        } else {
            Pick::Cell(b.0, b.1)
        });
    }
    let tomb = |c: &OwnedCell| matches!(c.kind(), CellKind::Tombstone { .. });
    let (a_ts, a_value) = match w {
        Pick::Cell(..) => (a_cell.timestamp, &a_cell.value[..]),
        Pick::Counter {
            timestamp,
            bytes: (start, end),
            ..
        } => (timestamp, counters.get(start..end).unwrap_or_default()),
    };
    // `Cells.resolveCounter`: a tombstone always wins; two live counters merge shard by
    // shard, keeping the later timestamp. (A merged value is live.)
    Ok(
        match (tomb(a_cell) && matches!(w, Pick::Cell(..)), tomb(b_cell)) {
            (true, true) => {
                if b_cell.timestamp > a_ts {
                    Pick::Cell(b.0, b.1)
                } else {
                    w
                }
            }
            (true, false) => w,
            (false, true) => Pick::Cell(b.0, b.1),
            (false, false) => {
                let merged =
                    CounterContext::parse(a_value)?.merge(&CounterContext::parse(&b_cell.value)?);
                let mut bytes = Vec::new();
                merged.write(&mut bytes);
                let start = counters.len();
                counters.extend_from_slice(&bytes);
                Pick::Counter {
                    base,
                    timestamp: a_ts.max(b_cell.timestamp),
                    bytes: (start, counters.len()),
                }
            }
        },
    )
}

impl PartitionReader for Merger<'_> {
    fn next_partition(&mut self) -> Result<Option<PartitionHeader<'_>>> {
        if !self.started {
            self.started = true;
            let partitioner = self.partitioner;
            for src in &mut self.sources {
                Self::fetch_partition(src, partitioner, &mut self.stats)?;
            }
        }
        if self.in_partition {
            // Drain what the consumer did not read.
            while self.next_unfiltered()?.is_some() {}
        }
        // Sources of the previous partition move to their next one.
        let partitioner = self.partitioner;
        for src in &mut self.sources {
            if src.active {
                while src.reader.next_unfiltered()?.is_some() {}
                src.active = false;
                src.head = None;
                src.open = None;
                Self::fetch_partition(src, partitioner, &mut self.stats)?;
            }
        }
        // The smallest (token, key).
        let mut best: Option<usize> = None;
        for (i, src) in self.sources.iter().enumerate() {
            let Some((t, _)) = &src.next else { continue };
            let better = match best.and_then(|b| self.sources.get(b)) {
                Some(Source {
                    next: Some((bt, _)),
                    next_key: bk,
                    ..
                }) => (t, src.next_key.as_slice()) < (bt, bk.as_slice()),
                _ => true,
            };
            if better {
                best = Some(i);
            }
        }
        let Some(best) = best.and_then(|b| self.sources.get(b)) else {
            return Ok(None);
        };
        self.key.clear();
        self.key.extend_from_slice(&best.next_key);
        let mut deletion = DeletionTime::LIVE;
        let mut members = std::mem::take(&mut self.members);
        members.clear();
        for (i, src) in self.sources.iter_mut().enumerate() {
            if let Some((_, d)) = &src.next {
                if src.next_key == self.key {
                    src.active = true;
                    deletion = max_deletion(deletion, *d);
                    members.push(i);
                }
            }
        }
        self.pending.clear();
        self.single = match members.as_slice() {
            [one] => Some(*one),
            _ => {
                for &i in &members {
                    self.advance(i)?;
                }
                None
            }
        };
        self.members = members;
        self.in_partition = true;
        self.stats.partitions_out += 1;
        Ok(Some(PartitionHeader {
            key: &self.key,
            deletion,
            offset: DataOffset(0),
        }))
    }

    fn next_unfiltered(&mut self) -> Result<Option<Unfiltered<'_>>> {
        if !self.in_partition {
            return Ok(None);
        }
        if let Some(i) = self.single {
            return self.pass_through(i);
        }
        // The sources of the row returned last move on.
        let pending = std::mem::take(&mut self.pending);
        for &i in &pending {
            self.advance(i)?;
        }
        self.pending = pending;
        self.pending.clear();
        loop {
            // The smallest head.
            let mut best: Option<usize> = None;
            for (i, src) in self.sources.iter().enumerate() {
                let Some(h) = src.head.as_ref().filter(|_| src.active) else {
                    continue;
                };
                let better = match best
                    .and_then(|b| self.sources.get(b))
                    .and_then(|s| s.head.as_ref())
                {
                    None => true,
                    Some(bh) => self.compare_heads(h, bh) == Ordering::Less,
                };
                if better {
                    best = Some(i);
                }
            }
            let Some(best) = best else {
                self.in_partition = false;
                return Ok(None);
            };
            let is_marker = matches!(
                self.sources.get(best).and_then(|s| s.head.as_ref()),
                Some(Head::Marker { .. })
            );
            if is_marker {
                if let Some(src) = self.sources.get_mut(best) {
                    if let Some(Head::Marker { kind, open, .. }) = &src.head {
                        if kind.is_close() {
                            src.open = None;
                        }
                        if let Some(o) = open {
                            src.open = Some(*o);
                        }
                    }
                }
                self.advance(best)?;
                continue;
            }
            // Every source whose head is a row at the same position.
            let mut members = std::mem::take(&mut self.members);
            members.clear();
            if let Some(Some(bh)) = self.sources.get(best).map(|s| s.head.as_ref()) {
                for (i, src) in self.sources.iter().enumerate() {
                    if let (true, Some(h @ Head::Row(_))) = (src.active, src.head.as_ref()) {
                        if self.compare_heads(h, bh) == Ordering::Equal {
                            members.push(i);
                        }
                    }
                }
            }
            self.members = members;
            self.merge_rows()?;
            // Fold the strongest open range deletion of any source into the row.
            if !self.out.is_static {
                let range = self
                    .sources
                    .iter()
                    .filter(|s| s.active)
                    .filter_map(|s| s.open)
                    .fold(DeletionTime::LIVE, max_deletion);
                if range.supersedes(&self.out.deletion) {
                    self.out.deletion = range;
                    self.out.deletion_is_shadowable = false;
                }
            }
            // The members' heads are read by the returned row: they move on at the next call.
            self.pending.extend_from_slice(&self.members);
            return Ok(Some(Unfiltered::Row(self.out_row())));
        }
    }

    fn position(&self) -> DataOffset {
        DataOffset(0)
    }

    fn progress(&self) -> u64 {
        self.sources.iter().map(|s| s.reader.progress()).sum()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
    use super::*;

    fn cell(column: u32, value: &'static [u8]) -> Cell<'static> {
        Cell {
            column,
            timestamp: 1,
            kind: CellKind::Live,
            path: None,
            value,
        }
    }

    #[test]
    fn passed_through_rows_map_columns_in_output_order() {
        let mut row = Row {
            is_static: false,
            clustering: vec![Some(b"k".as_slice())],
            liveness: LivenessInfo::EMPTY,
            deletion: DeletionTime::LIVE,
            deletion_is_shadowable: false,
            scylla_shadowable_deletion: None,
            complex_deletions: vec![(1, DeletionTime::LIVE), (2, DeletionTime::LIVE)],
            cells: vec![cell(0, b"a"), cell(1, b"b"), cell(2, b"c")],
            offset: DataOffset(7),
        };
        // Source column 0 is output 2, 1 was dropped, 2 is output 0.
        map_row(&mut row, &[Some(2), None, Some(0)]);
        let got: Vec<(u32, &[u8])> = row.cells.iter().map(|c| (c.column, c.value)).collect();
        assert_eq!(got, vec![(0, b"c".as_slice()), (2, b"a".as_slice())]);
        assert_eq!(row.complex_deletions, vec![(0, DeletionTime::LIVE)]);
        assert!(is_identity(&[Some(0), Some(1)]));
        assert!(!is_identity(&[Some(1), Some(0)]));
        assert!(!is_identity(&[Some(0), None]));
    }
}
