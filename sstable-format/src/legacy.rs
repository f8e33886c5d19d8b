//! Decoding of `Data.db` in the pre-3.0 storage engine (`ka`, `la`, `lb`, and `jb`, whose
//! Data.db is laid out the same, and 1.2's `ic`, whose partitions differ only in their header:
//! a long data size after the key and an int atom count after the deletion time, and no
//! end-of-partition marker; C12 `SSTableWriter.append`, read by C20
//! `SSTableIdentityIterator` when `hasRowSizeAndColumnCount`): cells ("atoms") regrouped into the CQL rows, range-tombstone
//! markers and partitions that [`crate::data`] yields for 3.0+ files, so that everything
//! downstream (reconciliation, JSON, merging) is shared.
//!
//! Mirrors Cassandra 2.1's `db/OnDiskAtom.Serializer.deserializeFromSSTable`,
//! `db/ColumnSerializer.deserializeColumnBody`, `db/RangeTombstone.Serializer` and
//! `db/marshal/CompositeType`, and 3.11's `db/LegacyLayout` (`decodeCellName`, `decodeBound`,
//! `CellGrouper`, `RangeTombstone` handling in `UnfilteredDeserializer.OldFormatDeserializer`),
//! which is how Cassandra 3.x turns these files into rows.
//!
//! 2.x files carry no serialization header, so the layout comes from the CQL schema
//! ([`LegacyLayout::from_schema`]). [`LegacyReader`] is a lending reader like
//! [`DataReader`](crate::data::DataReader): items borrow the reused chunk buffer, and memory
//! grows with the largest CQL row (plus the range tombstones open at a point), never with the
//! partition.
//!
//! What the reader does with the atoms of a partition:
//! * consecutive cells with the same clustering prefix form one [`Row`]; the row marker (empty
//!   column name) becomes the primary-key [`LivenessInfo`]; cells of the static prefix
//!   (`0xFFFF`) form the static row, which comes first;
//! * a range tombstone covering exactly one row becomes that row's deletion, one covering one
//!   multi-cell column of one row becomes a complex deletion, and any other becomes
//!   [`RangeTombstoneMarker`]s: overlapping and repeated tombstones (2.x repeats the open ones
//!   at every index block) are normalised into non-overlapping bounds and boundaries in
//!   clustering order, as Cassandra's `RangeTombstoneList` would;
//! * cells of columns the schema does not have (dropped, or damaged names such as
//!   CASSANDRA-15081's) are skipped, as Cassandra 3.x does; a cell named after a primary-key
//!   column (which some 2.x writers let through) is skipped too, but still makes its row
//!   exist, as Cassandra's `legacy_ka_with_illegal_cell_names` test asserts;
//! * a cell name that does not fit the schema is an error naming Data.db and the offset
//!   (issue 11 item 4; skipping would silently give no rows): an unknown "column" followed by
//!   an empty component or a column name of the schema (the shape of names read with a
//!   clustering column too few), a collection element of a simple column or a multi-cell
//!   column's cell without one, or no column component at all (a clustering column too many).

use std::cmp::Ordering;

use crate::buffer::ChunkBuffer;
use crate::compare::compare_values;
use crate::cursor::Cursor;
use crate::data::{
    BoundKind, Cell, CellKind, DeletionTime, LivenessInfo, PartitionHeader, RangeTombstoneMarker,
    Row, Unfiltered, EXPIRED_LIVENESS_TTL,
};
use crate::error::{Component, Error, Result};
use crate::offsets::DataOffset;
use crate::schema::{ClusteringOrder, ColumnDef, ColumnKind, TableSchema};
use crate::source::DataSource;
use crate::types::CqlType;
use crate::version::Version;

/// Atom mask bits (`ColumnSerializer`).
mod mask {
    pub const DELETION: u8 = 0x01;
    pub const EXPIRATION: u8 = 0x02;
    pub const COUNTER: u8 = 0x04;
    pub const COUNTER_UPDATE: u8 = 0x08;
    pub const RANGE_TOMBSTONE: u8 = 0x10;
}

/// How the cell names of a table are built (2.x `CFMetaData` flags, from CQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TableKind {
    /// A CQL3 table without COMPACT STORAGE: names are the clustering values, the column name
    /// and, for multi-cell columns, the cell path (always compound).
    Sparse,
    /// COMPACT STORAGE with clustering columns: names are the clustering values only, and the
    /// value is the table's single regular column (if any).
    Dense,
    /// COMPACT STORAGE without clustering columns: names are the raw column names of the
    /// table's regular columns; each partition is one CQL row.
    StaticCompact,
}

/// The table layout the legacy decoder needs, built from the CQL schema.
///
/// `Cell::column` of a static-row cell indexes [`LegacyLayout::statics`], and of any other
/// row [`LegacyLayout::regulars`]: the schema's static and regular columns, each in
/// definition order.
#[derive(Debug, Clone, PartialEq)]
pub struct LegacyLayout {
    version: Version,
    kind: TableKind,
    compound: bool,
    clustering: Vec<(CqlType, bool)>,
    statics: Vec<ColumnDef>,
    regulars: Vec<ColumnDef>,
    /// Names of the partition-key and clustering columns (illegal as cell names).
    primary_key: Vec<String>,
    /// Names of the columns the schema declares dropped: their cells are skipped.
    dropped: Vec<String>,
}

impl LegacyLayout {
    /// The layout of `table` for a file of format `version` (`jb`, `ka`, `la` or `lb`).
    pub fn from_schema(table: &TableSchema, version: Version) -> Result<LegacyLayout> {
        if !version.is_legacy_layout() {
            return Err(Error::UnsupportedVersion {
                version: version.to_string(),
                reason: "3.0+ Data.db is decoded by data::DataReader",
            });
        }
        let statics: Vec<ColumnDef> = table.static_columns().cloned().collect();
        let regulars: Vec<ColumnDef> = table.regular_columns().cloned().collect();
        let kind = match (table.compact_storage, table.clustering.is_empty()) {
            (false, _) => TableKind::Sparse,
            (true, false) => TableKind::Dense,
            (true, true) => TableKind::StaticCompact,
        };
        if kind == TableKind::Dense && regulars.len() > 1 {
            return Err(Error::invalid(
                Component::Schema,
                0,
                format!(
                    "COMPACT STORAGE table {} has clustering columns and {} regular columns (at most one)",
                    table.name,
                    regulars.len()
                ),
            ));
        }
        if kind != TableKind::Sparse && !statics.is_empty() {
            return Err(Error::invalid(
                Component::Schema,
                0,
                format!(
                    "COMPACT STORAGE table {} cannot have static columns",
                    table.name
                ),
            ));
        }
        let compound = match kind {
            TableKind::Sparse => true,
            TableKind::Dense => table.clustering.len() > 1,
            TableKind::StaticCompact => false,
        };
        Ok(LegacyLayout {
            version,
            kind,
            compound,
            clustering: table
                .clustering
                .iter()
                .map(|c| (c.ty.clone(), c.clustering_order == ClusteringOrder::Desc))
                .collect(),
            statics,
            regulars,
            primary_key: table
                .partition_key
                .iter()
                .chain(&table.clustering)
                .map(|c| c.name.clone())
                .collect(),
            dropped: table.dropped.iter().map(|d| d.name.clone()).collect(),
        })
    }

    /// The format version of the file.
    pub fn version(&self) -> Version {
        self.version
    }

    /// How cell names are built.
    pub fn kind(&self) -> TableKind {
        self.kind
    }

    /// Whether cell names are `CompositeType` (every table but COMPACT STORAGE ones with at
    /// most one clustering column).
    pub fn is_compound(&self) -> bool {
        self.compound
    }

    /// Number of clustering columns.
    pub fn clustering_len(&self) -> usize {
        self.clustering.len()
    }

    /// Static columns in definition order: what a static-row `Cell::column` indexes.
    pub fn statics(&self) -> &[ColumnDef] {
        &self.statics
    }

    /// Regular columns in definition order: what a `Cell::column` of other rows indexes.
    pub fn regulars(&self) -> &[ColumnDef] {
        &self.regulars
    }

    /// Whether a cell whose column component names no column has the shape of a name read with
    /// too few clustering columns: its next component (read as a collection path) is empty
    /// (the row marker) or a column of the schema, so the "column" is a clustering value.
    /// A dropped or damaged column has no such component (or a real element key).
    fn misplaced_name(&self, path: Option<&[u8]>) -> bool {
        let Some(path) = path else {
            return false;
        };
        !self.dropped.iter().any(|d| d.as_bytes() == path)
            && (path.is_empty()
                || self
                    .statics
                    .iter()
                    .chain(&self.regulars)
                    .any(|c| c.name.as_bytes() == path))
    }

    fn find_column(&self, is_static: bool, name: &[u8]) -> Option<(u32, &ColumnDef)> {
        let cols = if is_static {
            &self.statics
        } else {
            &self.regulars
        };
        cols.iter()
            .enumerate()
            .find(|(_, c)| c.name.as_bytes() == name)
            .map(|(i, c)| (i as u32, c))
    }

    /// Orders two bounds (or a bound and a row position) by clustering.
    fn compare(&self, a: &Position, b: &Position) -> Ordering {
        for (i, (x, y)) in a.values.iter().zip(&b.values).enumerate() {
            let ord = match self.clustering.get(i) {
                Some((ty, desc)) => {
                    let o = compare_values(ty, x, y);
                    if *desc {
                        o.reverse()
                    } else {
                        o
                    }
                }
                None => x.cmp(y),
            };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        match a.values.len().cmp(&b.values.len()) {
            Ordering::Equal => a.bias.cmp(&b.bias),
            // The shorter is a prefix: its bias puts it before or after all its extensions.
            Ordering::Less => {
                if a.bias < 0 {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            Ordering::Greater => {
                if b.bias < 0 {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
        }
    }
}

/// A clustering position owned by the range-tombstone tracker: values and a bias that places
/// a prefix before (-1) or after (+1) everything it prefixes; rows have bias 0.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Position {
    values: Vec<Vec<u8>>,
    bias: i8,
}

// ---------------------------------------------------------------------------------------------
// Atoms and names
// ---------------------------------------------------------------------------------------------

/// One on-disk atom: a cell or a range tombstone.
#[derive(Debug, Clone, Copy)]
struct Atom<'a> {
    name: &'a [u8],
    /// Absolute offset of the name's length.
    offset: u64,
    body: AtomBody<'a>,
}

#[derive(Debug, Clone, Copy)]
enum AtomBody<'a> {
    Cell {
        timestamp: i64,
        kind: CellKind,
        value: &'a [u8],
    },
    RangeTombstone {
        end: &'a [u8],
        deletion: DeletionTime,
    },
}

fn read_deletion_time(c: &mut Cursor<'_>) -> Result<DeletionTime> {
    let ldt = c.read_i32("local deletion time")?;
    let mfda = c.read_i64("marked for delete at")?;
    Ok(if mfda == i64::MIN {
        DeletionTime::LIVE
    } else {
        DeletionTime {
            marked_for_delete_at: mfda,
            local_deletion_time: i64::from(ldt),
        }
    })
}

fn read_value<'a>(c: &mut Cursor<'a>) -> Result<&'a [u8]> {
    let n = c.read_len_i32("cell value length")?;
    c.read_bytes(n, "cell value")
}

/// Reads the next atom, or `None` for the empty name that ends a partition
/// (`OnDiskAtom.Serializer.deserializeFromSSTable`).
fn read_atom<'a>(c: &mut Cursor<'a>) -> Result<Option<Atom<'a>>> {
    let offset = c.offset();
    let name = c.read_short_bytes("cell name")?;
    if name.is_empty() {
        return Ok(None);
    }
    let at = c.offset();
    let m = c.read_u8("cell mask")?;
    let body = if m & mask::RANGE_TOMBSTONE != 0 {
        let end = c.read_short_bytes("range tombstone end")?;
        let deletion = read_deletion_time(c)?;
        AtomBody::RangeTombstone { end, deletion }
    } else if m & mask::COUNTER != 0 {
        c.skip(8, "counter timestamp of last delete")?;
        let timestamp = c.read_i64("cell timestamp")?;
        let value = read_value(c)?;
        AtomBody::Cell {
            timestamp,
            kind: CellKind::Live,
            value,
        }
    } else if m & mask::EXPIRATION != 0 {
        let ttl = c.read_i32("cell ttl")?;
        let expiry = c.read_i32("cell expiration time")?;
        let timestamp = c.read_i64("cell timestamp")?;
        let value = read_value(c)?;
        AtomBody::Cell {
            timestamp,
            kind: CellKind::Expiring {
                ttl,
                local_expiration_time: i64::from(expiry),
            },
            value,
        }
    } else {
        let timestamp = c.read_i64("cell timestamp")?;
        let value_at = c.offset();
        let value = read_value(c)?;
        if m & mask::COUNTER_UPDATE != 0 {
            return Err(c.invalid_at(at, "counter update cell in an sstable"));
        }
        if m & mask::DELETION != 0 {
            let ldt = <[u8; 4]>::try_from(value).map_err(|_| {
                c.invalid_at(
                    value_at,
                    format!(
                        "deleted cell value must be a 4-byte deletion time, got {} bytes",
                        value.len()
                    ),
                )
            })?;
            AtomBody::Cell {
                timestamp,
                kind: CellKind::Tombstone {
                    local_deletion_time: i64::from(i32::from_be_bytes(ldt)),
                },
                value: &[],
            }
        } else {
            AtomBody::Cell {
                timestamp,
                kind: CellKind::Live,
                value,
            }
        }
    };
    Ok(Some(Atom { name, offset, body }))
}

/// Reads the next atom without a schema (for checks that only need the atom stream, such as
/// the promoted-index cross-check of [`crate::verify`]): its name and whether it is a range
/// tombstone, or `None` for the empty name that ends a partition.
pub(crate) fn read_atom_name<'a>(c: &mut Cursor<'a>) -> Result<Option<(&'a [u8], bool)>> {
    Ok(read_atom(c)?.map(|a| (a.name, matches!(a.body, AtomBody::RangeTombstone { .. }))))
}

/// Reads a 2.x `DeletionTime` (int local deletion time, long marked-for-delete-at).
pub(crate) fn read_legacy_deletion_time(c: &mut Cursor<'_>) -> Result<DeletionTime> {
    read_deletion_time(c)
}

/// One `CompositeType` component: value and end-of-component byte.
fn read_component<'a>(c: &mut Cursor<'a>) -> Result<(&'a [u8], i8)> {
    let v = c.read_short_bytes("composite component")?;
    let eoc = c.read_u8("end of component")? as i8;
    Ok((v, eoc))
}

/// A cell name or bound split as the layout says (`LegacyLayout.decodeCellName`,
/// `decodeBound`), borrowing the name.
#[derive(Debug, Clone, Copy, Default)]
struct NameParts<'a> {
    is_static: bool,
    /// The encoded clustering components (compound) or the raw value (non-compound).
    clustering: &'a [u8],
    /// How many clustering components `clustering` holds.
    count: usize,
    /// The column name component, if any.
    column: Option<&'a [u8]>,
    /// The collection element / key component, if any.
    path: Option<&'a [u8]>,
    /// End-of-component byte of the last component (0 for non-compound names).
    eoc: i8,
}

fn split_name<'a>(layout: &LegacyLayout, name: &'a [u8], offset: u64) -> Result<NameParts<'a>> {
    if !layout.compound {
        return Ok(match layout.kind {
            TableKind::StaticCompact => NameParts {
                column: Some(name),
                ..NameParts::default()
            },
            _ => match composite_wrapped(layout, name) {
                Some((value, eoc)) => NameParts {
                    clustering: value,
                    count: 1,
                    eoc,
                    ..NameParts::default()
                },
                None => NameParts {
                    clustering: name,
                    count: usize::from(!name.is_empty()),
                    ..NameParts::default()
                },
            },
        });
    }
    let mut c = Cursor::with_base(name, Component::Data, offset);
    let mut parts = NameParts::default();
    if name.starts_with(&[0xff, 0xff]) {
        parts.is_static = true;
        c.skip(2, "static marker")?;
    }
    let from = c.position();
    let n = layout.clustering.len();
    while parts.count < n && !c.is_empty() {
        parts.eoc = read_component(&mut c)?.1;
        parts.count += 1;
    }
    parts.clustering = name.get(from..c.position()).unwrap_or(&[]);
    if layout.kind == TableKind::Sparse {
        if !c.is_empty() {
            let (col, eoc) = read_component(&mut c)?;
            parts.column = Some(col);
            parts.eoc = eoc;
        }
        if !c.is_empty() {
            let (path, eoc) = read_component(&mut c)?;
            parts.path = Some(path);
            parts.eoc = eoc;
        }
    }
    if !c.is_empty() {
        return Err(c.invalid(format!(
            "cell name has more components than the {n} clustering column(s) of the schema allow"
        )));
    }
    Ok(parts)
}

/// ScyllaDB wrote range-tombstone bounds of non-compound (COMPACT STORAGE, one clustering
/// column) tables as one-component composites (`broken_non_compound_pi_and_range_tombstone`
/// in its test data). For a fixed-width clustering type the two readings cannot be confused:
/// a name of width + 3 bytes that holds a composite of one value of the width is that value.
fn composite_wrapped<'a>(layout: &LegacyLayout, name: &'a [u8]) -> Option<(&'a [u8], i8)> {
    let width = layout.clustering.first()?.0.fixed_length()?;
    if name.len() != width + 3 {
        return None;
    }
    let mut c = Cursor::new(name, Component::Data);
    let (value, eoc) = read_component(&mut c).ok()?;
    (value.len() == width && c.is_empty() && matches!(eoc, -1..=1)).then_some((value, eoc))
}

/// Whether two encoded clusterings hold the same values (end-of-component bytes ignored).
fn same_clustering(layout: &LegacyLayout, a: &[u8], b: &[u8]) -> bool {
    if !layout.compound || a == b {
        return a == b;
    }
    let mut ca = Cursor::new(a, Component::Data);
    let mut cb = Cursor::new(b, Component::Data);
    loop {
        match (ca.is_empty(), cb.is_empty()) {
            (true, true) => return true,
            (false, false) => {}
            _ => return false,
        }
        match (read_component(&mut ca), read_component(&mut cb)) {
            (Ok((x, _)), Ok((y, _))) if x == y => {}
            _ => return false,
        }
    }
}

/// Appends the clustering values of an encoded clustering to `out`.
fn clustering_values<'a>(
    layout: &LegacyLayout,
    raw: &'a [u8],
    offset: u64,
    out: &mut Vec<Option<&'a [u8]>>,
) -> Result<()> {
    if !layout.compound {
        if !raw.is_empty() || layout.clustering.len() == 1 {
            out.push(Some(raw));
        }
        return Ok(());
    }
    let mut c = Cursor::with_base(raw, Component::Data, offset);
    while !c.is_empty() {
        out.push(Some(read_component(&mut c)?.0));
    }
    Ok(())
}

/// What a range tombstone means for the rows it touches (`CellGrouper.addRangeTombstone`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RtShape {
    /// Deletes exactly one row (or the static row's cells of one column).
    Row,
    /// Deletes one multi-cell column of one row: the column's index.
    Complex(u32),
    /// Anything else: a range of rows.
    Range,
}

fn rt_shape(layout: &LegacyLayout, start: &NameParts<'_>, end: &NameParts<'_>) -> RtShape {
    let n = layout.clustering.len();
    let same_row = start.is_static == end.is_static
        && start.count == n
        && end.count == n
        && same_clustering(layout, start.clustering, end.clustering)
        && start.path.is_none()
        && end.path.is_none();
    if !same_row {
        return RtShape::Range;
    }
    match (start.column, end.column) {
        (Some(a), Some(b)) if a == b && layout.kind == TableKind::Sparse => {
            match layout.find_column(start.is_static, a) {
                Some((idx, def)) if def.ty.is_multi_cell() => RtShape::Complex(idx),
                // A repeat of a row deletion cut at a cell (2.x index blocks): the row.
                _ if !start.is_static => RtShape::Row,
                _ => RtShape::Range,
            }
        }
        (_, None) if !start.is_static && (n > 0 || start.column.is_none()) => RtShape::Row,
        _ => RtShape::Range,
    }
}

/// The clustering position of a bound (`LegacyLayout.decodeBound`).
fn bound_position(
    layout: &LegacyLayout,
    parts: &NameParts<'_>,
    offset: u64,
    is_start: bool,
) -> Result<Position> {
    let mut values = Vec::with_capacity(parts.count + 1);
    let mut borrowed = Vec::with_capacity(parts.count);
    clustering_values(layout, parts.clustering, offset, &mut borrowed)?;
    values.extend(borrowed.into_iter().map(|v| v.unwrap_or(&[]).to_vec()));
    if values.is_empty() {
        return Ok(Position {
            values,
            bias: if is_start { -1 } else { 1 },
        });
    }
    let eoc = if layout.compound && parts.column.is_none() {
        parts.eoc
    } else {
        0
    };
    let bias = if is_start {
        if eoc <= 0 {
            -1
        } else {
            1
        }
    } else if eoc == 0 && values.len() < layout.clustering.len() && layout.compound {
        // CASSANDRA-12423: an end prefix with EOC 0 stops before anything longer.
        values.push(Vec::new());
        -1
    } else if eoc >= 0 {
        1
    } else {
        -1
    };
    Ok(Position { values, bias })
}

// ---------------------------------------------------------------------------------------------
// Range tombstone normalisation
// ---------------------------------------------------------------------------------------------

/// An open range tombstone.
#[derive(Debug, Clone)]
struct OpenRt {
    end: Position,
    /// The end bound as written, to recognise repeats.
    end_raw: Vec<u8>,
    deletion: DeletionTime,
}

/// A marker built from owned bounds, lent out as a [`RangeTombstoneMarker`].
#[derive(Debug, Clone)]
struct OwnedMarker {
    kind: BoundKind,
    values: Vec<Vec<u8>>,
    close: Option<DeletionTime>,
    open: Option<DeletionTime>,
    offset: DataOffset,
}

/// Turns 2.x's possibly overlapping and repeated range tombstones into non-overlapping
/// markers (the part of `RangeTombstoneList` / `OldFormatDeserializer.TombstoneTracker` that
/// a single sstable needs).
#[derive(Debug, Default)]
struct Tracker {
    open: Vec<OpenRt>,
    /// The deletion the emitted markers currently have open.
    active: Option<DeletionTime>,
    pending: std::collections::VecDeque<OwnedMarker>,
}

fn strongest(open: &[OpenRt]) -> Option<DeletionTime> {
    open.iter()
        .map(|r| r.deletion)
        .fold(None, |best, d| match best {
            Some(b) if !d.supersedes(&b) => Some(b),
            _ => Some(d),
        })
}

impl Tracker {
    fn clear(&mut self) {
        self.open.clear();
        self.active = None;
        self.pending.clear();
    }

    fn is_repeat(&self, end_raw: &[u8], deletion: &DeletionTime) -> bool {
        self.open
            .iter()
            .any(|r| r.end_raw == end_raw && r.deletion == *deletion)
    }

    fn emit(&mut self, at: &Position, new: Option<DeletionTime>, offset: DataOffset) {
        if new == self.active {
            return;
        }
        let old = self.active;
        let opening_start = at.bias < 0;
        let kind = match (old, new) {
            (None, _) if opening_start => BoundKind::InclStartBound,
            (None, _) => BoundKind::ExclStartBound,
            (_, None) if at.bias > 0 => BoundKind::InclEndBound,
            (_, None) => BoundKind::ExclEndBound,
            _ if opening_start => BoundKind::ExclEndInclStartBoundary,
            _ => BoundKind::InclEndExclStartBoundary,
        };
        let values = at.values.clone();
        self.pending.push_back(OwnedMarker {
            kind,
            values,
            close: old,
            open: new,
            offset,
        });
        self.active = new;
    }

    /// Closes the tombstones that end before `pos` (or at it, when `inclusive`).
    fn close_before(
        &mut self,
        layout: &LegacyLayout,
        pos: &Position,
        inclusive: bool,
        offset: DataOffset,
    ) {
        loop {
            let first = self
                .open
                .iter()
                .enumerate()
                .filter(|(_, r)| match layout.compare(&r.end, pos) {
                    Ordering::Less => true,
                    Ordering::Equal => inclusive,
                    Ordering::Greater => false,
                })
                .min_by(|(_, a), (_, b)| layout.compare(&a.end, &b.end))
                .map(|(i, _)| i);
            let Some(i) = first else {
                return;
            };
            let end = self.open.swap_remove(i).end;
            self.open
                .retain(|r| layout.compare(&r.end, &end) != Ordering::Equal);
            let new = strongest(&self.open);
            self.emit(&end, new, offset);
        }
    }

    fn close_all(&mut self, layout: &LegacyLayout, offset: DataOffset) {
        let top = Position {
            values: Vec::new(),
            bias: 1,
        };
        self.close_before(layout, &top, true, offset);
    }

    fn add(&mut self, start: Position, rt: OpenRt, offset: DataOffset) {
        self.open.push(rt);
        let new = strongest(&self.open);
        self.emit(&start, new, offset);
    }
}

// ---------------------------------------------------------------------------------------------
// The reader
// ---------------------------------------------------------------------------------------------

/// What the next atom of a partition starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    /// The end of the partition (`len` bytes).
    End,
    /// A row (static or clustered).
    Row,
    /// A range of rows deleted.
    Range,
    /// A range tombstone that repeats one already open.
    Repeat,
}

/// Streaming decoder of one 2.x `Data.db`, yielding the rows of [`crate::data`].
#[derive(Debug)]
pub struct LegacyReader<S> {
    buf: ChunkBuffer<S>,
    layout: LegacyLayout,
    tracker: Tracker,
    marker: Option<OwnedMarker>,
    end: Option<u64>,
    in_partition: bool,
    /// `ic`: the atoms the partition header announced that are still unread.
    atoms_left: Option<u64>,
    /// `ic`: where the partition's data size says it ends.
    partition_end: Option<u64>,
    failed: bool,
}

impl<S: DataSource> LegacyReader<S> {
    /// A reader that decodes from the source's current position (a partition boundary).
    pub fn new(source: S, layout: LegacyLayout) -> Self {
        LegacyReader {
            buf: ChunkBuffer::new(source),
            layout,
            tracker: Tracker::default(),
            marker: None,
            end: None,
            in_partition: false,
            atoms_left: None,
            partition_end: None,
            failed: false,
        }
    }

    /// Stops before the partition that starts at `end` (a partition boundary), like
    /// [`crate::data::DataReader::with_end`].
    pub fn with_end(mut self, end: DataOffset) -> Self {
        self.end = Some(end.0);
        self
    }

    /// The layout in use.
    pub fn layout(&self) -> &LegacyLayout {
        &self.layout
    }

    /// The uncompressed position of the next byte to decode.
    pub fn position(&self) -> DataOffset {
        self.buf.position()
    }

    /// Discards bytes until `offset` (a partition boundary at or after the current position).
    pub fn skip_to(&mut self, offset: DataOffset) -> Result<()> {
        self.buf.skip_to(offset)
    }

    fn fail<T>(&mut self, r: Result<T>) -> Result<T> {
        if r.is_err() {
            self.failed = true;
        }
        r
    }

    fn stopped(&self) -> Error {
        Error::invalid(
            Component::Data,
            self.position().0,
            "reading stopped after an earlier error",
        )
    }

    /// The next partition's header, or `None` at the end of the input. Unread rows of the
    /// current partition are skipped.
    pub fn next_partition(&mut self) -> Result<Option<PartitionHeader<'_>>> {
        if self.failed {
            return Err(self.stopped());
        }
        while self.in_partition {
            self.next_unfiltered()?;
        }
        self.tracker.clear();
        if self.end.is_some_and(|e| self.position().0 >= e) {
            return Ok(None);
        }
        if self.buf.available() == 0 {
            let r = self.buf.at_end();
            if self.fail(r)? {
                return Ok(None);
            }
        }
        let sized = self.layout.version.has_row_size_and_column_count();
        let r = self.buf.measure(|c| {
            let start = c.position();
            read_partition_header(c, sized)?;
            Ok(c.position() - start)
        });
        let n = self.fail(r)?;
        let r = self.buf.ensure(n);
        self.fail(r)?;
        self.in_partition = true;
        let offset = self.position();
        let mut c = self.buf.take(n);
        let header = read_partition_header(&mut c, sized);
        match header {
            Ok((key, deletion, sizes)) => {
                self.partition_end = sizes.map(|s| s.0);
                self.atoms_left = sizes.map(|s| s.1);
                Ok(Some(PartitionHeader {
                    key,
                    deletion,
                    offset,
                }))
            }
            Err(e) => {
                self.failed = true;
                Err(e)
            }
        }
    }

    /// The next row or marker of the current partition, or `None` at its end.
    pub fn next_unfiltered(&mut self) -> Result<Option<Unfiltered<'_>>> {
        if self.failed {
            return Err(self.stopped());
        }
        let r = self.advance();
        match self.fail(r)? {
            Step::Marker => Ok(self.marker.as_ref().map(|m| {
                Unfiltered::Marker(RangeTombstoneMarker {
                    kind: m.kind,
                    values: m.values.iter().map(|v| Some(v.as_slice())).collect(),
                    close: m.close,
                    open: m.open,
                    offset: m.offset,
                })
            })),
            Step::End => Ok(None),
            Step::Row(n) => {
                let offset = self.position();
                let mut c = self.buf.take(n);
                let r = decode_row(&mut c, &self.layout, &self.tracker, offset);
                match r {
                    Ok(row) => Ok(Some(Unfiltered::Row(row))),
                    Err(e) => {
                        self.failed = true;
                        Err(e)
                    }
                }
            }
        }
    }

    /// `ic`: fails if `len` bytes at `offset` reach past the end the partition's data size
    /// gives (a wrong atom count or size: damage, never rows made of the next partition).
    fn check_within(&self, offset: DataOffset, len: u64) -> Result<()> {
        match self.partition_end {
            Some(end) if offset.0.saturating_add(len) > end => Err(Error::invalid(
                Component::Data,
                offset.0,
                format!(
                    "atom of {len} byte(s) reaches past the partition's end at {end} (its data \
                     size and atom count disagree)"
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Processes atoms until a marker is ready, a row of `n` buffered bytes is next, or the
    /// partition ends.
    fn advance(&mut self) -> Result<Step> {
        loop {
            if let Some(m) = self.tracker.pending.pop_front() {
                self.marker = Some(m);
                return Ok(Step::Marker);
            }
            if !self.in_partition {
                return Ok(Step::End);
            }
            let layout = &self.layout;
            let tracker = &self.tracker;
            let (len, next) = if self.atoms_left == Some(0) {
                (0, Next::End)
            } else {
                self.buf.measure(|c| peek(c, layout, tracker))?
            };
            self.buf.ensure(len)?;
            let offset = self.position();
            self.check_within(offset, len as u64)?;
            if matches!(next, Next::Range | Next::Repeat) {
                if let Some(n) = self.atoms_left.as_mut() {
                    *n = n.saturating_sub(1);
                }
            }
            match next {
                Next::End => {
                    if let Some(left @ 1..) = self.atoms_left {
                        return Err(Error::invalid(
                            Component::Data,
                            offset.0,
                            format!(
                                "empty cell name with {left} atom(s) of the partition still to read"
                            ),
                        ));
                    }
                    if let Some(end) = self.partition_end.take() {
                        if end != offset.0 {
                            return Err(Error::invalid(
                                Component::Data,
                                offset.0,
                                format!(
                                    "the partition's atoms end at {}, its data size says {end}",
                                    offset.0
                                ),
                            ));
                        }
                    }
                    self.atoms_left = None;
                    self.buf.take(len);
                    self.tracker.close_all(&self.layout, offset);
                    self.in_partition = false;
                }
                Next::Repeat => {
                    self.buf.take(len);
                }
                Next::Range => {
                    let c = self.buf.rest();
                    let (start, rt) = owned_range(&mut c.clone(), &self.layout)?;
                    self.buf.take(len);
                    // Closes first, then the new tombstone (both queue markers in order).
                    self.tracker
                        .close_before(&self.layout, &start, true, offset);
                    self.tracker.add(start, rt, offset);
                }
                Next::Row => {
                    if !self.tracker.open.is_empty() {
                        let c = self.buf.rest();
                        if let Some(pos) = row_position(&mut c.clone(), &self.layout)? {
                            self.tracker.close_before(&self.layout, &pos, false, offset);
                            if !self.tracker.pending.is_empty() {
                                continue;
                            }
                        }
                    }
                    let layout = &self.layout;
                    let tracker = &self.tracker;
                    let limit = self.atoms_left;
                    let (n, atoms) = self
                        .buf
                        .measure(|c| measure_row(c, layout, tracker, limit))?;
                    self.buf.ensure(n)?;
                    self.check_within(offset, n as u64)?;
                    if let Some(left) = self.atoms_left.as_mut() {
                        *left = left.saturating_sub(atoms);
                    }
                    return Ok(Step::Row(n));
                }
            }
        }
    }
}

/// What [`LegacyReader::advance`] found.
#[derive(Debug, Clone, Copy)]
enum Step {
    Marker,
    End,
    Row(usize),
}

/// Classifies the next atom and returns its length.
fn peek(c: &mut Cursor<'_>, layout: &LegacyLayout, tracker: &Tracker) -> Result<(usize, Next)> {
    let from = c.position();
    let Some(atom) = read_atom(c)? else {
        return Ok((c.position() - from, Next::End));
    };
    let len = c.position() - from;
    let next = match atom.body {
        AtomBody::Cell { .. } => Next::Row,
        AtomBody::RangeTombstone { end, deletion } => {
            let start = split_name(layout, atom.name, atom.offset)?;
            let end_parts = split_name(layout, end, atom.offset)?;
            if tracker.is_repeat(end, &deletion) {
                Next::Repeat
            } else if rt_shape(layout, &start, &end_parts) == RtShape::Range {
                Next::Range
            } else {
                Next::Row
            }
        }
    };
    Ok((len, next))
}

/// Reads a range-of-rows tombstone into owned bounds.
fn owned_range(c: &mut Cursor<'_>, layout: &LegacyLayout) -> Result<(Position, OpenRt)> {
    let Some(Atom {
        name,
        offset,
        body: AtomBody::RangeTombstone { end, deletion },
    }) = read_atom(c)?
    else {
        return Err(c.invalid("expected a range tombstone"));
    };
    let start_parts = split_name(layout, name, offset)?;
    let end_parts = split_name(layout, end, offset)?;
    if layout.clustering.is_empty() && !(name.is_empty() && end.is_empty()) {
        // No clustering: a bounded range over column names (Thrift). 3.x cannot express it.
        if !start_parts.is_static && start_parts.column.is_some() {
            return Err(Error::Unsupported {
                component: Component::Data,
                offset,
                message: "range tombstone over column names of a table without clustering columns"
                    .into(),
            });
        }
    }
    let start = bound_position(layout, &start_parts, offset, true)?;
    let end_pos = bound_position(layout, &end_parts, offset, false)?;
    Ok((
        start,
        OpenRt {
            end: end_pos,
            end_raw: end.to_vec(),
            deletion,
        },
    ))
}

/// The clustering position of the row the next atom starts (`None` for the static row).
fn row_position(c: &mut Cursor<'_>, layout: &LegacyLayout) -> Result<Option<Position>> {
    let Some(atom) = read_atom(c)? else {
        return Ok(None);
    };
    let parts = split_name(layout, atom.name, atom.offset)?;
    if parts.is_static {
        return Ok(None);
    }
    let mut values = Vec::new();
    clustering_values(layout, parts.clustering, atom.offset, &mut values)?;
    Ok(Some(Position {
        values: values
            .into_iter()
            .map(|v| v.unwrap_or(&[]).to_vec())
            .collect(),
        bias: 0,
    }))
}

/// Whether an atom belongs to the row whose first atom had `key` (static flag, clustering).
fn belongs(
    layout: &LegacyLayout,
    tracker: &Tracker,
    key: (bool, &[u8]),
    atom: &Atom<'_>,
) -> Result<bool> {
    let parts = split_name(layout, atom.name, atom.offset)?;
    let same =
        |p: &NameParts<'_>| p.is_static == key.0 && same_clustering(layout, p.clustering, key.1);
    Ok(match atom.body {
        AtomBody::Cell { .. } => same(&parts),
        AtomBody::RangeTombstone { end, deletion } => {
            let end_parts = split_name(layout, end, atom.offset)?;
            tracker.is_repeat(end, &deletion)
                || (rt_shape(layout, &parts, &end_parts) != RtShape::Range && same(&parts))
        }
    })
}

/// The length and atom count of the row starting at the cursor (its atoms up to the first
/// that is not part of it, and at most `limit` atoms: `ic` partitions announce their atom
/// count and have no end marker), following `CellGrouper`.
fn measure_row(
    c: &mut Cursor<'_>,
    layout: &LegacyLayout,
    tracker: &Tracker,
    limit: Option<u64>,
) -> Result<(usize, u64)> {
    let from = c.position();
    let Some(first) = read_atom(c)? else {
        return Err(c.invalid("expected a row"));
    };
    let parts = split_name(layout, first.name, first.offset)?;
    let key = (parts.is_static, parts.clustering);
    let mut atoms = 1u64;
    loop {
        let before = c.position();
        if limit.is_some_and(|l| atoms >= l) {
            return Ok((before - from, atoms));
        }
        match read_atom(c)? {
            Some(atom) if belongs(layout, tracker, key, &atom)? => atoms += 1,
            _ => return Ok((before - from, atoms)),
        }
    }
}

/// A partition header: key and deletion, and for `ic` (`sized`) the end offset its data size
/// gives and its atom count (C12 `SSTableWriter.append`).
#[allow(
    clippy::type_complexity,
    reason = "a private helper returning the header's three parts"
)]
pub(crate) fn read_partition_header<'a>(
    c: &mut Cursor<'a>,
    sized: bool,
) -> Result<(&'a [u8], DeletionTime, Option<(u64, u64)>)> {
    let key = c.read_short_bytes("partition key")?;
    let size_at = c.offset();
    let sizes = if sized {
        let size = c.read_i64("partition data size")?;
        let size = u64::try_from(size)
            .ok()
            .filter(|&s| s >= 16)
            .ok_or_else(|| c.invalid_at(size_at, format!("invalid partition data size {size}")))?;
        Some(size_at + 8 + size)
    } else {
        None
    };
    let deletion = read_deletion_time(c)?;
    let sizes = match sizes {
        Some(end) => {
            let at = c.offset();
            let n = c.read_i32("partition atom count")?;
            let n = u64::try_from(n)
                .map_err(|_| c.invalid_at(at, format!("negative atom count {n}")))?;
            Some((end, n))
        }
        None => None,
    };
    Ok((key, deletion, sizes))
}

/// Decodes the atoms of one row (measured by [`measure_row`]).
fn decode_row<'a>(
    c: &mut Cursor<'a>,
    layout: &LegacyLayout,
    tracker: &Tracker,
    offset: DataOffset,
) -> Result<Row<'a>> {
    let mut row = Row {
        is_static: false,
        clustering: Vec::new(),
        liveness: LivenessInfo::EMPTY,
        deletion: DeletionTime::LIVE,
        deletion_is_shadowable: false,
        scylla_shadowable_deletion: None,
        complex_deletions: Vec::new(),
        cells: Vec::new(),
        offset,
    };
    let mut first = true;
    while !c.is_empty() {
        let Some(atom) = read_atom(c)? else {
            return Err(c.invalid("end of partition inside a row"));
        };
        let parts = split_name(layout, atom.name, atom.offset)?;
        if first {
            first = false;
            row.is_static = parts.is_static;
            if !parts.is_static {
                clustering_values(layout, parts.clustering, atom.offset, &mut row.clustering)?;
                if row.clustering.len() != layout.clustering.len() {
                    return Err(Error::invalid(
                        Component::Data,
                        atom.offset,
                        format!(
                            "cell name has {} clustering values, the schema {}",
                            row.clustering.len(),
                            layout.clustering.len()
                        ),
                    ));
                }
            }
        }
        match atom.body {
            AtomBody::RangeTombstone { end, deletion } => {
                if tracker.is_repeat(end, &deletion) {
                    continue;
                }
                let end_parts = split_name(layout, end, atom.offset)?;
                match rt_shape(layout, &parts, &end_parts) {
                    RtShape::Row => {
                        if deletion.supersedes(&row.deletion) {
                            row.deletion = deletion;
                        }
                    }
                    RtShape::Complex(idx) => {
                        match row.complex_deletions.iter_mut().find(|(i, _)| *i == idx) {
                            Some((_, d)) if deletion.supersedes(d) => *d = deletion,
                            Some(_) => {}
                            None => row.complex_deletions.push((idx, deletion)),
                        }
                    }
                    RtShape::Range => {}
                }
            }
            AtomBody::Cell {
                timestamp,
                kind,
                value,
            } => {
                let column = match layout.kind {
                    TableKind::Dense => {
                        if layout.regulars.is_empty() {
                            // No value column: the cell is the row's existence.
                            row.liveness = liveness_of(timestamp, kind);
                            continue;
                        }
                        Some(0)
                    }
                    TableKind::StaticCompact | TableKind::Sparse => match parts.column {
                        Some([]) if layout.kind == TableKind::Sparse && !parts.is_static => {
                            // The row marker.
                            row.liveness = liveness_of(timestamp, kind);
                            continue;
                        }
                        Some(name)
                            if layout.kind == TableKind::Sparse
                                && layout.primary_key.iter().any(|k| k.as_bytes() == name) =>
                        {
                            // A cell named after a primary-key column cannot be stored, but
                            // Cassandra 3.x still counts its row as existing (the row of such
                            // a cell is returned with null columns:
                            // `legacy_ka_with_illegal_cell_names`).
                            if row.liveness.timestamp.is_none() && !parts.is_static {
                                row.liveness = liveness_of(timestamp, kind);
                            }
                            continue;
                        }
                        Some(name)
                            if layout.find_column(parts.is_static, name).is_none()
                                && layout.find_column(!parts.is_static, name).is_some() =>
                        {
                            // ScyllaDB refuses this ("Mismatch between static cell and
                            // non-static column definition", broken_sstable_test.cc ::
                            // static_mismatch): the cell and the schema disagree on whether the
                            // column is static, so either the file or the schema is wrong.
                            return Err(Error::invalid(
                                Component::Data,
                                atom.offset,
                                format!(
                                    "{} cell for column {:?}, which the schema says is {}: \
                                     mismatch between the cell and the column definition",
                                    if parts.is_static {
                                        "static"
                                    } else {
                                        "non-static"
                                    },
                                    String::from_utf8_lossy(name),
                                    if parts.is_static {
                                        "not static"
                                    } else {
                                        "static"
                                    }
                                ),
                            ));
                        }
                        Some(name) if layout.kind == TableKind::Sparse => {
                            match layout.find_column(parts.is_static, name) {
                                Some((i, def))
                                    if def.ty.is_multi_cell() == parts.path.is_some() =>
                                {
                                    Some(i)
                                }
                                Some((_, def)) => {
                                    return Err(misfit(
                                        atom.offset,
                                        atom.name,
                                        format!(
                                        "column {:?} is {} but the cell {} a collection element",
                                        def.name,
                                        def.ty,
                                        if parts.path.is_some() {
                                            "names"
                                        } else {
                                            "lacks"
                                        }
                                    ),
                                    ))
                                }
                                None if !layout.misplaced_name(parts.path) => {
                                    // A column the schema does not have (dropped, or a name
                                    // damaged by an old writer): skipped, as Cassandra 3.0+
                                    // `LegacyLayout.decodeCellName` does (CASSANDRA-15081,
                                    // the `legacy_ka_15081` set's "paylo!d" cell).
                                    None
                                }
                                None => {
                                    return Err(misfit(
                                        atom.offset,
                                        atom.name,
                                        format!(
                                            "{:?} is no column of the schema and the next \
                                             component is a column name: does the schema lack \
                                             a clustering column?",
                                            String::from_utf8_lossy(name.get(..64).unwrap_or(name))
                                        ),
                                    ))
                                }
                            }
                        }
                        Some(name) => layout
                            .find_column(parts.is_static, name)
                            .filter(|(_, def)| {
                                def.ty.is_multi_cell() == parts.path.is_some()
                                    && matches!(def.kind, ColumnKind::Static | ColumnKind::Regular)
                            })
                            .map(|(i, _)| i),
                        None if layout.kind == TableKind::Sparse => {
                            return Err(misfit(
                                atom.offset,
                                atom.name,
                                format!(
                                    "it holds {} clustering value(s) and no column name; does the \
                                     schema have more clustering columns than the data?",
                                    parts.count
                                ),
                            ))
                        }
                        None => None,
                    },
                };
                // Dropped and primary-key column names are skipped (3.x does); in COMPACT
                // STORAGE tables without clustering, names that are no declared column too
                // (Thrift's dynamic columns, which 3.x hides).
                if let Some(column) = column {
                    row.cells.push(Cell {
                        column,
                        timestamp,
                        kind,
                        path: parts.path,
                        value,
                    });
                }
            }
        }
    }
    // 2.x sorts cells by column name; rows list them in column (definition) order.
    row.cells.sort_by_key(|c| c.column);
    Ok(row)
}

/// A cell name that does not fit the schema (issue 11 item 4): an error naming Data.db and the
/// cell's offset, never a skipped cell (a schema that lacks a clustering column would otherwise
/// give no rows at all).
fn misfit(offset: u64, name: &[u8], why: String) -> Error {
    let shown: String = name.iter().take(64).map(|b| format!("{b:02x}")).collect();
    Error::invalid(
        Component::Data,
        offset,
        format!("cell name 0x{shown} does not fit the schema: {why}"),
    )
}

fn liveness_of(timestamp: i64, kind: CellKind) -> LivenessInfo {
    LivenessInfo {
        timestamp: Some(timestamp),
        ttl: match kind {
            CellKind::Live => None,
            CellKind::Expiring {
                ttl,
                local_expiration_time,
            } => Some((ttl, local_expiration_time)),
            CellKind::Tombstone {
                local_deletion_time,
            } => Some((EXPIRED_LIVENESS_TTL, local_deletion_time)),
        },
    }
}

impl<S: DataSource> crate::data::PartitionReader for LegacyReader<S> {
    fn next_partition(&mut self) -> Result<Option<PartitionHeader<'_>>> {
        LegacyReader::next_partition(self)
    }
    fn next_unfiltered(&mut self) -> Result<Option<Unfiltered<'_>>> {
        LegacyReader::next_unfiltered(self)
    }
    fn position(&self) -> DataOffset {
        LegacyReader::position(self)
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests"
)]
mod tests {
    use super::*;
    use crate::schema::Schema;
    use crate::source::SliceSource;

    const CQL: &str = "CREATE TABLE ks.t (pk int, ck int, s int static, v int, \
        l list<int>, m map<int, int>, PRIMARY KEY (pk, ck))";

    fn layout(cql: &str) -> LegacyLayout {
        let s = Schema::parse(cql).unwrap();
        LegacyLayout::from_schema(&s.tables[0], Version::Ka).unwrap()
    }

    fn int(i: i32) -> Vec<u8> {
        i.to_be_bytes().to_vec()
    }

    /// A CompositeType name; `last_eoc` is the end-of-component byte of the last component.
    fn composite(parts: &[&[u8]], last_eoc: u8) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, p) in parts.iter().enumerate() {
            out.extend_from_slice(&(p.len() as u16).to_be_bytes());
            out.extend_from_slice(p);
            out.push(if i + 1 == parts.len() { last_eoc } else { 0 });
        }
        out
    }

    fn static_name(col: &[u8], path: Option<&[u8]>) -> Vec<u8> {
        let mut out = vec![0xff, 0xff];
        let mut parts: Vec<&[u8]> = vec![&[], col];
        parts.extend(path);
        out.extend(composite(&parts, 0));
        out
    }

    fn short(out: &mut Vec<u8>, b: &[u8]) {
        out.extend_from_slice(&(b.len() as u16).to_be_bytes());
        out.extend_from_slice(b);
    }

    fn cell(name: &[u8], ts: i64, value: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        short(&mut out, name);
        out.push(0);
        out.extend_from_slice(&ts.to_be_bytes());
        out.extend_from_slice(&(value.len() as i32).to_be_bytes());
        out.extend_from_slice(value);
        out
    }

    fn deleted(name: &[u8], ts: i64, ldt: i32) -> Vec<u8> {
        let mut out = Vec::new();
        short(&mut out, name);
        out.push(mask::DELETION);
        out.extend_from_slice(&ts.to_be_bytes());
        out.extend_from_slice(&4i32.to_be_bytes());
        out.extend_from_slice(&ldt.to_be_bytes());
        out
    }

    fn expiring(name: &[u8], ts: i64, ttl: i32, exp: i32, value: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        short(&mut out, name);
        out.push(mask::EXPIRATION);
        out.extend_from_slice(&ttl.to_be_bytes());
        out.extend_from_slice(&exp.to_be_bytes());
        out.extend_from_slice(&ts.to_be_bytes());
        out.extend_from_slice(&(value.len() as i32).to_be_bytes());
        out.extend_from_slice(value);
        out
    }

    fn counter(name: &[u8], ts: i64, context: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        short(&mut out, name);
        out.push(mask::COUNTER);
        out.extend_from_slice(&i64::MIN.to_be_bytes());
        out.extend_from_slice(&ts.to_be_bytes());
        out.extend_from_slice(&(context.len() as i32).to_be_bytes());
        out.extend_from_slice(context);
        out
    }

    fn rt(start: &[u8], end: &[u8], mfda: i64, ldt: i32) -> Vec<u8> {
        let mut out = Vec::new();
        short(&mut out, start);
        out.push(mask::RANGE_TOMBSTONE);
        short(&mut out, end);
        out.extend_from_slice(&ldt.to_be_bytes());
        out.extend_from_slice(&mfda.to_be_bytes());
        out
    }

    fn partition(key: &[u8], deletion: Option<(i32, i64)>, atoms: &[Vec<u8>]) -> Vec<u8> {
        let mut out = Vec::new();
        short(&mut out, key);
        let (ldt, mfda) = deletion.unwrap_or((i32::MAX, i64::MIN));
        out.extend_from_slice(&ldt.to_be_bytes());
        out.extend_from_slice(&mfda.to_be_bytes());
        for a in atoms {
            out.extend_from_slice(a);
        }
        out.extend_from_slice(&[0, 0]);
        out
    }

    /// Debug renderings of every item, for compact assertions.
    fn items(cql: &str, data: &[u8], chunk: usize) -> Result<Vec<String>> {
        let mut r = LegacyReader::new(SliceSource::new(data, DataOffset(0), chunk), layout(cql));
        let mut out = Vec::new();
        while let Some(p) = r.next_partition()? {
            out.push(format!(
                "P {:?} {:?}",
                p.key,
                (!p.deletion.is_live()).then_some(p.deletion.marked_for_delete_at)
            ));
            while let Some(u) = r.next_unfiltered()? {
                out.push(match u {
                    Unfiltered::Row(row) => format!(
                        "R static={} ck={:?} live={:?} del={:?} cd={:?} cells={:?}",
                        row.is_static,
                        row.clustering,
                        row.liveness,
                        (!row.deletion.is_live()).then_some(row.deletion.marked_for_delete_at),
                        row.complex_deletions
                            .iter()
                            .map(|(c, d)| (*c, d.marked_for_delete_at))
                            .collect::<Vec<_>>(),
                        row.cells
                            .iter()
                            .map(|c| (c.column, c.timestamp, c.kind, c.path, c.value))
                            .collect::<Vec<_>>()
                    ),
                    Unfiltered::Marker(m) => format!(
                        "M {:?} {:?} close={:?} open={:?}",
                        m.kind,
                        m.values,
                        m.close.map(|d| d.marked_for_delete_at),
                        m.open.map(|d| d.marked_for_delete_at)
                    ),
                });
            }
        }
        Ok(out)
    }

    /// Issue 11 item 4: a table written as `(pk, ck, v)` read with a schema that lacks `ck`
    /// used to give no rows, exit 0 and a passing verify (every cell was "an unknown column"
    /// and skipped). Now the first cell is an error naming Data.db and its offset.
    #[test]
    fn schema_lacking_a_clustering_column_is_an_error_not_zero_rows() {
        let data = partition(
            &int(1),
            None,
            &[
                cell(&composite(&[&int(5), b""], 0), 10, b""),
                cell(&composite(&[&int(5), b"v"], 0), 10, &int(9)),
            ],
        );
        // The right schema reads the row.
        let good = items(
            "CREATE TABLE ks.t (pk int, ck int, v int, PRIMARY KEY (pk, ck))",
            &data,
            7,
        )
        .unwrap();
        assert_eq!(good.len(), 2, "{good:?}");
        // Without `ck`: an error at the first cell (byte 18, after the key's 6 bytes and the
        // deletion's 12), not zero rows.
        let e = items("CREATE TABLE ks.t (pk int PRIMARY KEY, v int)", &data, 7).unwrap_err();
        assert_eq!(e.component(), Some(Component::Data), "{e}");
        assert!(e.to_string().contains("at byte 18"), "{e}");
        assert!(e.to_string().contains("does not fit the schema"), "{e}");
        // With an extra clustering column the cells hold no column name: an error too.
        let e = items(
            "CREATE TABLE ks.t (pk int, ck int, ck2 int, v int, PRIMARY KEY (pk, ck, ck2))",
            &data,
            7,
        )
        .unwrap_err();
        assert!(e.to_string().contains("does not fit the schema"), "{e}");
        // A collection element of a simple column: an error.
        let data = partition(
            &int(1),
            None,
            &[cell(&composite(&[&int(5), b"v", &int(0)], 0), 10, &int(9))],
        );
        let e = items(
            "CREATE TABLE ks.t (pk int, ck int, v int, PRIMARY KEY (pk, ck))",
            &data,
            7,
        )
        .unwrap_err();
        assert!(e.to_string().contains("does not fit the schema"), "{e}");
        // A column the schema declares dropped is still skipped, as Cassandra does.
        let data = partition(
            &int(1),
            None,
            &[
                cell(&composite(&[&int(5), b""], 0), 10, b""),
                cell(&composite(&[&int(5), b"old"], 0), 10, &int(9)),
            ],
        );
        let rows = items(
            "CREATE TABLE ks.t (pk int, ck int, v int, PRIMARY KEY (pk, ck)) \
             WITH DROPPED COLUMN RECORD old int USING TIMESTAMP 20",
            &data,
            7,
        )
        .unwrap();
        assert!(rows[1].contains("cells=[]"), "{rows:?}");
    }

    fn sample() -> Vec<u8> {
        let ck1 = int(1);
        let ck2 = int(2);
        let t1 = [0x11u8; 16];
        let mut data = partition(
            &int(7),
            None,
            &[
                cell(&static_name(b"s", None), 5, &int(70)),
                cell(&composite(&[&ck1, b""], 0), 10, b""),
                rt(
                    &composite(&[&ck1, b"l"], 0xff),
                    &composite(&[&ck1, b"l"], 1),
                    9,
                    100,
                ),
                cell(&composite(&[&ck1, b"l", &t1], 0), 10, &int(5)),
                cell(&composite(&[&ck1, b"m", &int(3)], 0), 10, &int(4)),
                expiring(&composite(&[&ck1, b"v"], 0), 10, 60, 1000, &int(9)),
                // An illegal cell named after the clustering column: skipped.
                cell(&composite(&[&ck1, b"ck"], 0), 10, &int(1)),
                rt(&composite(&[&ck2], 0xff), &composite(&[&ck2], 1), 20, 200),
                deleted(&composite(&[&ck2, b"v"], 0), 15, 150),
            ],
        );
        data.extend(partition(&int(8), Some((300, 30)), &[]));
        data
    }

    #[test]
    fn static_mismatch_with_the_schema_fails() {
        // CQL: `s` static, `v` regular. A static cell for `v`, or a clustered cell for `s`,
        // contradicts the schema (ScyllaDB's broken_sstable_test.cc :: static_mismatch).
        for (atom, want) in [
            (
                cell(&static_name(b"v", None), 5, &int(1)),
                "static cell for column \"v\"",
            ),
            (
                cell(&composite(&[&int(1), b"s"], 0), 5, &int(1)),
                "non-static cell for column \"s\"",
            ),
        ] {
            let data = partition(&int(7), None, &[atom]);
            let e = items(CQL, &data, 1000).unwrap_err();
            assert!(e.to_string().contains(want), "{e}");
            assert_eq!(e.component(), Some(Component::Data));
        }
    }

    #[test]
    fn rows_statics_collections_and_deletions() {
        let expected = vec![
            "P [0, 0, 0, 7] None".to_string(),
            "R static=true ck=[] live=LivenessInfo { timestamp: None, ttl: None } del=None cd=[] \
             cells=[(0, 5, Live, None, [0, 0, 0, 70])]"
                .into(),
            "R static=false ck=[Some([0, 0, 0, 1])] live=LivenessInfo { timestamp: Some(10), ttl: None } \
             del=None cd=[(1, 9)] cells=[(0, 10, Expiring { ttl: 60, local_expiration_time: 1000 }, None, \
             [0, 0, 0, 9]), (1, 10, Live, Some([17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17]), \
             [0, 0, 0, 5]), (2, 10, Live, Some([0, 0, 0, 3]), [0, 0, 0, 4])]"
                .into(),
            "R static=false ck=[Some([0, 0, 0, 2])] live=LivenessInfo { timestamp: None, ttl: None } \
             del=Some(20) cd=[] cells=[(0, 15, Tombstone { local_deletion_time: 150 }, None, [])]"
                .into(),
            "P [0, 0, 0, 8] Some(30)".into(),
        ];
        let data = sample();
        for chunk in [1, 3, 17, 4096] {
            assert_eq!(items(CQL, &data, chunk).unwrap(), expected, "chunk {chunk}");
        }
    }

    #[test]
    fn skipping_unread_rows() {
        let data = sample();
        let mut r = LegacyReader::new(SliceSource::new(&data, DataOffset(0), 5), layout(CQL));
        assert_eq!(r.next_partition().unwrap().unwrap().key, &int(7)[..]);
        assert_eq!(r.next_partition().unwrap().unwrap().key, &int(8)[..]);
        assert!(r.next_partition().unwrap().is_none());
        assert_eq!(r.position(), DataOffset(data.len() as u64));
    }

    #[test]
    fn overlapping_and_repeated_range_tombstones_become_markers() {
        let cql = "CREATE TABLE ks.t (pk int, a int, b int, v int, PRIMARY KEY (pk, a, b))";
        let (a1, a2, a3, a5) = (int(1), int(2), int(3), int(5));
        let data = partition(
            &int(1),
            None,
            &[
                // [a=1, a=5] at 10, and the stronger [a=2, a=3] at 20 inside it.
                rt(&composite(&[&a1], 0xff), &composite(&[&a5], 1), 10, 1),
                rt(&composite(&[&a2], 0xff), &composite(&[&a3], 1), 20, 2),
                cell(&composite(&[&a2, &a1, b"v"], 0), 5, &int(0)),
                // The writer repeats the open tombstones at an index block.
                rt(&composite(&[&a2], 0xff), &composite(&[&a3], 1), 20, 2),
                rt(&composite(&[&a1], 0xff), &composite(&[&a5], 1), 10, 1),
                cell(&composite(&[&a3, &a1, b"v"], 0), 5, &int(0)),
                cell(&composite(&[&int(4), &a1, b"v"], 0), 5, &int(0)),
            ],
        );
        let got = items(cql, &data, 7).unwrap();
        let kinds: Vec<&str> = got
            .iter()
            .map(|s| s.split(" ck=").next().unwrap().split(" [").next().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "P",
                "M InclStartBound",
                "M ExclEndInclStartBoundary",
                "R static=false",
                "R static=false",
                "M InclEndExclStartBoundary",
                "R static=false",
                "M InclEndBound",
            ],
            "{got:#?}"
        );
        assert!(
            got[2].ends_with("close=Some(10) open=Some(20)"),
            "{}",
            got[2]
        );
        assert!(got[5].contains("[Some([0, 0, 0, 3])] close=Some(20) open=Some(10)"));
        assert!(got[7].contains("[Some([0, 0, 0, 5])] close=Some(10) open=None"));
    }

    #[test]
    fn compact_tables() {
        // Dense, non-compound: the name is the clustering value.
        let dense = "CREATE TABLE ks.d (pk int, ck int, v int, PRIMARY KEY (pk, ck)) \
            WITH COMPACT STORAGE";
        let data = partition(&int(1), None, &[cell(&int(4), 3, &int(40))]);
        let got = items(dense, &data, 4).unwrap();
        assert!(
            got[1].contains("ck=[Some([0, 0, 0, 4])]")
                && got[1].contains("(0, 3, Live, None, [0, 0, 0, 40])")
        );
        // Static-compact: the name is the column name; one row per partition.
        let sparse = "CREATE TABLE ks.s (pk int PRIMARY KEY, a int, b int) WITH COMPACT STORAGE";
        let data = partition(
            &int(1),
            None,
            &[
                cell(b"a", 1, &int(10)),
                cell(b"b", 1, &int(20)),
                cell(b"zz", 1, b""),
            ],
        );
        let got = items(sparse, &data, 4).unwrap();
        assert_eq!(got.len(), 2, "{got:#?}");
        assert!(got[1].contains("ck=[]") && got[1].contains("(1, 1, Live, None, [0, 0, 0, 20])"));
        // Counters: the context is the value.
        let counters = "CREATE TABLE ks.c (pk int PRIMARY KEY, n counter)";
        let data = partition(
            &int(1),
            None,
            &[counter(&composite(&[b"n"], 0), 8, &[1, 2, 3])],
        );
        let got = items(counters, &data, 4).unwrap();
        assert!(got[1].contains("(0, 8, Live, None, [1, 2, 3])"), "{got:#?}");
    }

    #[test]
    fn truncated_and_corrupt_input_fails_cleanly() {
        let data = sample();
        // The second partition: key length, key, deletion time, end marker.
        let boundary = data.len() - (2 + 4 + 12 + 2);
        for cut in 0..data.len() {
            let r = items(CQL, &data[..cut], 3);
            if cut != 0 && cut != boundary {
                assert!(r.is_err(), "cut at {cut} gave {r:?}");
            }
        }
        // A deleted cell whose value is not a deletion time.
        let mut bad = partition(
            &int(1),
            None,
            &[deleted(&composite(&[&int(1), b"v"], 0), 1, 1)],
        );
        let len_at = bad.len() - 2 - 8;
        bad[len_at..len_at + 4].copy_from_slice(&3i32.to_be_bytes());
        bad.truncate(bad.len() - 3);
        bad.extend_from_slice(&[0, 0]);
        assert!(matches!(items(CQL, &bad, 8), Err(Error::Invalid { .. })));
        // Too many components for the schema.
        let bad = partition(
            &int(1),
            None,
            &[cell(&composite(&[&int(1), b"v", b"x", b"y"], 0), 1, b"")],
        );
        assert!(items(CQL, &bad, 8).is_err());
        // After an error, the reader stays stopped.
        let mut r = LegacyReader::new(SliceSource::new(&data[..40], DataOffset(0), 8), layout(CQL));
        r.next_partition().unwrap();
        while let Ok(Some(_)) = r.next_unfiltered() {}
        assert!(r.next_partition().is_err());
    }

    #[test]
    fn layout_index_space_and_versions() {
        let l = layout(CQL);
        assert_eq!(l.kind(), TableKind::Sparse);
        assert!(l.is_compound());
        assert_eq!(
            l.regulars()
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>(),
            ["v", "l", "m"]
        );
        assert_eq!(l.statics()[0].name, "s");
        let s = Schema::parse(CQL).unwrap();
        assert!(matches!(
            LegacyLayout::from_schema(&s.tables[0], Version::Mc),
            Err(Error::UnsupportedVersion { .. })
        ));
        assert!(LegacyLayout::from_schema(&s.tables[0], Version::Jb).is_ok());
    }

    #[test]
    fn clustering_order_of_values() {
        let varint = CqlType::Varint;
        assert_eq!(compare_values(&varint, &int(-1), &int(1)), Ordering::Less);
        assert_eq!(
            compare_values(&varint, &[0x80], &[0x00, 0x01]),
            Ordering::Less
        );
        assert_eq!(
            compare_values(&varint, &[0x01, 0x00], &[0x7f]),
            Ordering::Greater
        );
        assert_eq!(compare_values(&CqlType::Int, &[], &int(0)), Ordering::Less);
        assert_eq!(
            compare_values(&CqlType::Text, b"b", b"ab"),
            Ordering::Greater
        );
    }
}
