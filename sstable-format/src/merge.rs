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
//! (JSON, Arrow) read merged data unchanged. Range tombstones are applied during the merge:
//! each source's open range deletion is tracked from its markers, and the strongest one open
//! at a row is folded into that row's deletion, so the merged stream carries no markers.
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

    fn copy_from(&mut self, o: &OwnedCell) {
        self.column = o.column;
        self.timestamp = o.timestamp;
        self.kind = o.kind;
        match (&o.path, &mut self.path) {
            (Some(p), Some(own)) => {
                own.clear();
                own.extend_from_slice(p);
            }
            (Some(p), None) => self.path = Some(p.clone()),
            (None, _) => self.path = None,
        }
        self.value.clear();
        self.value.extend_from_slice(&o.value);
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

    fn as_row(&self) -> Row<'_> {
        Row {
            is_static: self.is_static,
            clustering: self.clustering.iter().map(|v| v.as_deref()).collect(),
            liveness: self.liveness.unwrap_or(LivenessInfo::EMPTY),
            deletion: self.deletion,
            deletion_is_shadowable: self.deletion_is_shadowable,
            scylla_shadowable_deletion: self.scylla_shadowable_deletion,
            complex_deletions: self.complex_deletions.clone(),
            cells: self.cells().iter().map(OwnedCell::as_cell).collect(),
            offset: DataOffset(0),
        }
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
    /// The source's next partition: (token, key, deletion).
    next: Option<(Token, Vec<u8>, DeletionTime)>,
    /// Whether it takes part in the current partition.
    active: bool,
    head: Option<Head>,
    spare: OwnedRow,
    open: Option<DeletionTime>,
}

/// The k-way merge of several SSTables' partitions and rows. Implements [`PartitionReader`].
pub struct Merger<'r> {
    sources: Vec<Source<'r>>,
    partitioner: Partitioner,
    clustering: ClusteringComparator,
    /// Output columns' types (for cell paths and counters).
    column_types: Vec<CqlType>,
    key: Vec<u8>,
    out: OwnedRow,
    scratch: Vec<u8>,
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
                    map,
                    next: None,
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
            out: OwnedRow::default(),
            scratch: Vec::new(),
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
                Some((partitioner.token(p.key), p.key.to_vec(), p.deletion))
            }
            None => None,
        };
        Ok(())
    }

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
                self.stats.rows_read += 1;
                if !row.deletion.is_live() {
                    self.stats.tombstones += 1;
                }
                self.stats.tombstones += row.complex_deletions.len() as u64;
                self.stats.tombstones += row
                    .cells
                    .iter()
                    .filter(|c| matches!(c.kind, CellKind::Tombstone { .. }))
                    .count() as u64;
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

    fn path_order(&self, column: u32, a: &[u8], b: &[u8]) -> Ordering {
        match self
            .column_types
            .get(column as usize)
            .map(CqlType::unreversed)
        {
            Some(CqlType::List { .. }) => compare_values(&CqlType::TimeUuid, a, b),
            Some(CqlType::Set { element, .. }) => compare_values(element, a, b),
            Some(CqlType::Map { key, .. }) => compare_values(key, a, b),
            _ => a.cmp(b),
        }
    }

    fn is_counter(&self, column: u32) -> bool {
        self.column_types
            .get(column as usize)
            .is_some_and(CqlType::is_counter)
    }

    /// Merges the rows of `members` (sources whose head is a row at the same position) into
    /// `self.out`.
    fn merge_rows(&mut self, members: &[usize]) -> Result<()> {
        let mut out = std::mem::take(&mut self.out);
        out.len = 0;
        out.complex_deletions.clear();
        let mut first = true;
        for &i in members {
            let Some(Source {
                head: Some(Head::Row(row)),
                ..
            }) = self.sources.get(i)
            else {
                continue;
            };
            if first {
                out.is_static = row.is_static;
                out.clustering.clone_from(&row.clustering);
                out.liveness = row.liveness;
                out.deletion = row.deletion;
                out.deletion_is_shadowable = row.deletion_is_shadowable;
                out.scylla_shadowable_deletion = row.scylla_shadowable_deletion;
                first = false;
            } else {
                self.stats.rows_superseded += 1;
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
        let mut idx: Vec<usize> = vec![0; members.len()];
        loop {
            // The smallest (column, path) among the members' next cells.
            let mut best: Option<(usize, &OwnedCell)> = None;
            for (m, &i) in members.iter().enumerate() {
                let Some(Source {
                    head: Some(Head::Row(row)),
                    ..
                }) = self.sources.get(i)
                else {
                    continue;
                };
                let Some(c) = row.cells().get(idx.get(m).copied().unwrap_or(usize::MAX)) else {
                    continue;
                };
                let better = match best {
                    None => true,
                    Some((_, b)) => self.cell_position(c, b) == Ordering::Less,
                };
                if better {
                    best = Some((m, c));
                }
            }
            let Some((_, pick)) = best else {
                break;
            };
            // Reconcile every member's version at that position.
            let mut winner: Option<OwnedCell> = None;
            let position = pick.clone();
            for (m, &i) in members.iter().enumerate() {
                let Some(Source {
                    head: Some(Head::Row(row)),
                    ..
                }) = self.sources.get(i)
                else {
                    continue;
                };
                let Some(slot) = idx.get_mut(m) else { continue };
                let Some(c) = row.cells().get(*slot) else {
                    continue;
                };
                if self.cell_position(c, &position) != Ordering::Equal {
                    continue;
                }
                *slot += 1;
                winner = Some(match winner {
                    None => c.clone(),
                    Some(w) => {
                        self.stats.cells_superseded += 1;
                        let counter = self.is_counter(w.column);
                        reconcile(counter, w, c, &mut self.scratch)?
                    }
                });
            }
            if let Some(w) = winner {
                out.push_with(|o| o.copy_from(&w));
            }
        }
        self.out = out;
        Ok(())
    }

    fn cell_position(&self, a: &OwnedCell, b: &OwnedCell) -> Ordering {
        a.column
            .cmp(&b.column)
            .then_with(|| match (&a.path, &b.path) {
                (Some(pa), Some(pb)) => self.path_order(a.column, pa, pb),
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
            })
    }
}

/// Reconciles two versions of one cell (`Cells.reconcile`).
fn reconcile(
    counter: bool,
    a: OwnedCell,
    b: &OwnedCell,
    scratch: &mut Vec<u8>,
) -> Result<OwnedCell> {
    let tomb = |c: &OwnedCell| matches!(c.kind(), CellKind::Tombstone { .. });
    if counter {
        // `Cells.resolveCounter`: a tombstone always wins; two live counters merge shard by
        // shard, keeping the later timestamp.
        return Ok(match (tomb(&a), tomb(b)) {
            (true, true) => {
                if b.timestamp > a.timestamp {
                    b.clone()
                } else {
                    a
                }
            }
            (true, false) => a,
            (false, true) => b.clone(),
            (false, false) => {
                let merged =
                    CounterContext::parse(&a.value)?.merge(&CounterContext::parse(&b.value)?);
                scratch.clear();
                merged.write(scratch);
                let mut c = a;
                c.timestamp = c.timestamp.max(b.timestamp);
                c.value.clear();
                c.value.extend_from_slice(scratch);
                c
            }
        });
    }
    Ok(if regular_wins(&a, b) { a } else { b.clone() })
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
            let Some((t, k, _)) = &src.next else { continue };
            let better = match best
                .and_then(|b| self.sources.get(b))
                .and_then(|s| s.next.as_ref())
            {
                None => true,
                Some((bt, bk, _)) => (t, k.as_slice()) < (bt, bk.as_slice()),
            };
            if better {
                best = Some(i);
            }
        }
        let Some(best) = best else {
            return Ok(None);
        };
        let Some((_, key, _)) = self.sources.get(best).and_then(|s| s.next.clone()) else {
            return Ok(None);
        };
        let mut deletion = DeletionTime::LIVE;
        let mut members = Vec::new();
        for (i, src) in self.sources.iter_mut().enumerate() {
            if let Some((_, k, d)) = &src.next {
                if *k == key {
                    src.active = true;
                    deletion = max_deletion(deletion, *d);
                    members.push(i);
                }
            }
        }
        for i in members {
            self.advance(i)?;
        }
        self.key = key;
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
            let mut members = Vec::new();
            if let Some(Some(bh)) = self.sources.get(best).map(|s| s.head.as_ref()) {
                for (i, src) in self.sources.iter().enumerate() {
                    if let (true, Some(h @ Head::Row(_))) = (src.active, src.head.as_ref()) {
                        if self.compare_heads(h, bh) == Ordering::Equal {
                            members.push(i);
                        }
                    }
                }
            }
            self.merge_rows(&members)?;
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
            for i in members {
                self.advance(i)?;
            }
            return Ok(Some(Unfiltered::Row(self.out.as_row())));
        }
    }

    fn position(&self) -> DataOffset {
        DataOffset(0)
    }

    fn progress(&self) -> u64 {
        self.sources.iter().map(|s| s.reader.progress()).sum()
    }
}
