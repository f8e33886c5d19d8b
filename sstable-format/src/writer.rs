//! Encoding of 3.0+ `Data.db` partitions (the inverse of [`crate::data`]): used to build test
//! SSTables from arbitrary mutations and, later, the sample backups of the project.
//!
//! Mirrors `db/rows/UnfilteredSerializer.serialize`, `db/rows/Cell.Serializer.serialize`,
//! `db/Columns.Serializer.serializeSubset` and `db/SerializationHeader` delta encoding.

use crate::cursor::{encode_uvint, uvint_size};
use crate::data::{
    CellKind, ColumnLayout, ComplexLayout, DeletionTime, Layout, RangeTombstoneMarker, Row,
};
use crate::error::{Component, Error, Result};

/// Writes partitions of one SSTable's `Data.db` into a byte vector.
#[derive(Debug)]
pub struct DataWriter {
    layout: Layout,
    out: Vec<u8>,
    body: Vec<u8>,
    previous_size: u64,
    /// Position of the current partition's start in the whole stream.
    partition_start: u64,
    /// Bytes already taken out of `out` by [`DataWriter::discard_front`].
    taken: u64,
    in_partition: bool,
}

fn invalid(message: impl Into<String>) -> Error {
    Error::invalid(Component::Data, 0, message)
}

impl DataWriter {
    /// A writer for rows laid out as `layout`.
    pub fn new(layout: Layout) -> Self {
        DataWriter {
            layout,
            out: Vec::new(),
            body: Vec::new(),
            previous_size: 0,
            partition_start: 0,
            taken: 0,
            in_partition: false,
        }
    }

    /// Bytes written and not yet discarded (all of the uncompressed Data.db unless
    /// [`DataWriter::discard_front`] was called).
    pub fn bytes(&self) -> &[u8] {
        &self.out
    }

    /// Length of the uncompressed stream written so far, discarded bytes included.
    pub fn position(&self) -> u64 {
        self.taken + self.out.len() as u64
    }

    /// Drops the first `n` buffered bytes (a streaming caller has stored them), so that the
    /// buffer stays bounded. Positions keep counting from the start of the stream.
    pub fn discard_front(&mut self, n: usize) {
        let n = n.min(self.out.len());
        self.out.drain(..n);
        self.taken += n as u64;
    }

    /// The uncompressed Data.db (what [`DataWriter::discard_front`] left).
    pub fn finish(self) -> Vec<u8> {
        self.out
    }

    fn delta_ts(&self, ts: i64, out: &mut Vec<u8>) {
        encode_uvint(ts.wrapping_sub(self.layout.min_timestamp) as u64, out);
    }

    fn delta_ldt(&self, ldt: i64, out: &mut Vec<u8>) {
        let d = (ldt as i32).wrapping_sub(self.layout.min_local_deletion_time as i32);
        encode_uvint(i64::from(d) as u64, out);
    }

    fn delta_ttl(&self, ttl: i32, out: &mut Vec<u8>) {
        let d = ttl.wrapping_sub(self.layout.min_ttl as i32);
        encode_uvint(i64::from(d) as u64, out);
    }

    fn deletion(&self, d: DeletionTime, out: &mut Vec<u8>) {
        if d.is_live() {
            // Cassandra writes LIVE as (Long.MIN_VALUE, Integer.MAX_VALUE) deltas.
            self.delta_ts(i64::MIN, out);
            self.delta_ldt(i64::from(i32::MAX), out);
        } else {
            self.delta_ts(d.marked_for_delete_at, out);
            self.delta_ldt(d.local_deletion_time, out);
        }
    }

    /// Starts a partition.
    pub fn start_partition(&mut self, key: &[u8], deletion: DeletionTime) -> Result<()> {
        if self.in_partition {
            return Err(invalid("start_partition inside a partition"));
        }
        let len = u16::try_from(key.len())
            .map_err(|_| invalid("partition key longer than 65535 bytes"))?;
        self.partition_start = self.position();
        self.out.extend_from_slice(&len.to_be_bytes());
        self.out.extend_from_slice(key);
        if self.layout.version.has_uint_deletion_time() {
            if deletion.is_live() {
                self.out.push(0x80);
            } else {
                self.out
                    .extend_from_slice(&deletion.marked_for_delete_at.to_be_bytes());
                self.out
                    .extend_from_slice(&(deletion.local_deletion_time as u32).to_be_bytes());
            }
        } else if deletion.is_live() {
            self.out.extend_from_slice(&i32::MAX.to_be_bytes());
            self.out.extend_from_slice(&i64::MIN.to_be_bytes());
        } else {
            self.out
                .extend_from_slice(&(deletion.local_deletion_time as i32).to_be_bytes());
            self.out
                .extend_from_slice(&deletion.marked_for_delete_at.to_be_bytes());
        }
        self.in_partition = true;
        // `ColumnIndex`: the first unfiltered's "previous size" is its offset in the partition
        // (`pos - previousRowStart` with `previousRowStart = 0`); the static row gets 0.
        self.previous_size = self.position() - self.partition_start;
        Ok(())
    }

    /// Ends the current partition.
    pub fn end_partition(&mut self) -> Result<()> {
        if !self.in_partition {
            return Err(invalid("end_partition outside a partition"));
        }
        self.out.push(0x01);
        self.in_partition = false;
        Ok(())
    }

    fn clustering(&self, values: &[Option<&[u8]>], out: &mut Vec<u8>) -> Result<()> {
        for (group_start, group) in values.chunks(32).enumerate().map(|(i, g)| (i * 32, g)) {
            let mut header = 0u64;
            for (i, v) in group.iter().enumerate() {
                match v {
                    None => header |= 1u64 << (i * 2 + 1),
                    Some([]) => header |= 1u64 << (i * 2),
                    Some(_) => {}
                }
            }
            encode_uvint(header, out);
            for (i, v) in group.iter().enumerate() {
                if let Some(b) = v {
                    if !b.is_empty() {
                        let width = self
                            .layout
                            .clustering
                            .get(group_start + i)
                            .copied()
                            .flatten();
                        write_value(b, width, out)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Writes a row (static or clustered). Cells must be in column order, with the cells of a
    /// multi-cell column consecutive and in path order.
    pub fn write_row(&mut self, row: &Row<'_>) -> Result<()> {
        if !self.in_partition {
            return Err(invalid("write_row outside a partition"));
        }
        let columns = if row.is_static {
            &self.layout.statics
        } else {
            &self.layout.regulars
        };
        // Which columns are present: those with cells, plus complex columns with a deletion.
        let mut present = vec![false; columns.len()];
        for c in &row.cells {
            *present.get_mut(c.column as usize).ok_or_else(|| {
                invalid(format!("cell of column {} beyond the layout", c.column))
            })? = true;
        }
        for (c, _) in &row.complex_deletions {
            *present
                .get_mut(*c as usize)
                .ok_or_else(|| invalid(format!("deletion of column {c} beyond the layout")))? =
                true;
        }
        let all = present.iter().all(|p| *p);
        let mut flags = 0u8;
        let mut ext = 0u8;
        if row.liveness.timestamp.is_some() {
            flags |= 0x04;
            if row.liveness.ttl.is_some() {
                flags |= 0x08;
            }
        }
        if !row.deletion.is_live() {
            flags |= 0x10;
        }
        if all {
            flags |= 0x20;
        }
        if !row.complex_deletions.is_empty() {
            flags |= 0x40;
        }
        if row.is_static {
            ext |= 0x01;
        }
        if row.deletion_is_shadowable {
            ext |= 0x02;
        }
        if ext != 0 {
            flags |= 0x80;
        }
        let mut body = std::mem::take(&mut self.body);
        body.clear();
        if let Some(ts) = row.liveness.timestamp {
            self.delta_ts(ts, &mut body);
            if let Some((ttl, ldt)) = row.liveness.ttl {
                self.delta_ttl(ttl, &mut body);
                self.delta_ldt(ldt, &mut body);
            }
        }
        if !row.deletion.is_live() {
            self.deletion(row.deletion, &mut body);
        }
        if !all {
            write_subset(&present, &mut body)?;
        }
        let mut cells = row.cells.iter().peekable();
        for (idx, column) in columns.iter().enumerate() {
            if !present.get(idx).copied().unwrap_or(false) {
                continue;
            }
            match column {
                ColumnLayout::Simple(width) => {
                    let cell = cells
                        .next()
                        .filter(|c| c.column as usize == idx)
                        .ok_or_else(|| invalid(format!("cells of column {idx} out of order")))?;
                    self.cell(row, cell, None, *width, &mut body)?;
                }
                ColumnLayout::Complex(cl) => {
                    if !row.complex_deletions.is_empty() {
                        let d = row
                            .complex_deletions
                            .iter()
                            .find(|(c, _)| *c as usize == idx)
                            .map_or(DeletionTime::LIVE, |(_, d)| *d);
                        self.deletion(d, &mut body);
                    }
                    let mut group = Vec::new();
                    while let Some(c) = cells.next_if(|c| c.column as usize == idx) {
                        group.push(c);
                    }
                    encode_uvint(group.len() as u64, &mut body);
                    for c in group {
                        self.cell(row, c, Some(cl), None, &mut body)?;
                    }
                }
            }
        }
        if cells.next().is_some() {
            return Err(invalid("cells out of column order"));
        }
        let start = self.out.len();
        self.out.push(flags);
        if ext != 0 {
            self.out.push(ext);
        }
        if !row.is_static {
            let mut clustering = Vec::new();
            self.clustering(&row.clustering, &mut clustering)?;
            self.out.extend_from_slice(&clustering);
        }
        let prev = if row.is_static { 0 } else { self.previous_size };
        encode_uvint(body.len() as u64 + uvint_size(prev) as u64, &mut self.out);
        encode_uvint(prev, &mut self.out);
        self.out.extend_from_slice(&body);
        self.previous_size = if row.is_static {
            self.position() - self.partition_start
        } else {
            (self.out.len() - start) as u64
        };
        self.body = body;
        Ok(())
    }

    fn cell(
        &self,
        row: &Row<'_>,
        cell: &crate::data::Cell<'_>,
        complex: Option<&ComplexLayout>,
        width: Option<usize>,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        let mut flags = 0u8;
        let (deleted, expiring) = match cell.kind {
            CellKind::Live => (false, false),
            CellKind::Expiring { .. } => (false, true),
            CellKind::Tombstone { .. } => (true, false),
        };
        if deleted {
            flags |= 0x01;
        }
        if expiring {
            flags |= 0x02;
        }
        if cell.value.is_empty() {
            flags |= 0x04;
        }
        let use_row_ts = row.liveness.timestamp == Some(cell.timestamp);
        if use_row_ts {
            flags |= 0x08;
        }
        let use_row_ttl = match (cell.kind, row.liveness.ttl) {
            (
                CellKind::Expiring {
                    ttl,
                    local_expiration_time,
                },
                Some((rttl, rldt)),
            ) => ttl == rttl && local_expiration_time == rldt,
            _ => false,
        };
        if use_row_ttl {
            flags |= 0x10;
        }
        out.push(flags);
        if !use_row_ts {
            self.delta_ts(cell.timestamp, out);
        }
        if !use_row_ttl {
            match cell.kind {
                CellKind::Live => {}
                CellKind::Expiring {
                    ttl,
                    local_expiration_time,
                } => {
                    self.delta_ldt(local_expiration_time, out);
                    self.delta_ttl(ttl, out);
                }
                CellKind::Tombstone {
                    local_deletion_time,
                } => self.delta_ldt(local_deletion_time, out),
            }
        }
        let width = match complex {
            Some(cl) => {
                let path = cell
                    .path
                    .ok_or_else(|| invalid("a multi-cell column's cell needs a path"))?;
                if *cl == ComplexLayout::Udt && path.len() != 2 {
                    return Err(invalid("UDT cell path must be 2 bytes"));
                }
                encode_uvint(path.len() as u64, out);
                out.extend_from_slice(path);
                // Cassandra writes a multi-cell column's values with the column's own type,
                // which is never fixed-width: always length-prefixed (see `ComplexLayout`).
                None
            }
            None => width,
        };
        if !cell.value.is_empty() {
            write_value(cell.value, width, out)?;
        }
        Ok(())
    }

    /// Writes a range-tombstone bound or boundary.
    pub fn write_marker(&mut self, m: &RangeTombstoneMarker<'_>) -> Result<()> {
        if !self.in_partition {
            return Err(invalid("write_marker outside a partition"));
        }
        let ordinal: u8 = match m.kind {
            crate::data::BoundKind::ExclEndBound => 0,
            crate::data::BoundKind::InclStartBound => 1,
            crate::data::BoundKind::ExclEndInclStartBoundary => 2,
            crate::data::BoundKind::InclEndExclStartBoundary => 5,
            crate::data::BoundKind::InclEndBound => 6,
            crate::data::BoundKind::ExclStartBound => 7,
        };
        let mut body = Vec::new();
        match (m.kind.is_boundary(), m.close, m.open) {
            (true, Some(c), Some(o)) => {
                self.deletion(c, &mut body);
                self.deletion(o, &mut body);
            }
            (false, Some(d), None) if m.kind.is_close() => self.deletion(d, &mut body),
            (false, None, Some(d)) if m.kind.is_open() => self.deletion(d, &mut body),
            _ => return Err(invalid("marker deletions do not match its kind")),
        }
        let start = self.out.len();
        self.out.push(0x02);
        self.out.push(ordinal);
        let count = u16::try_from(m.values.len()).map_err(|_| invalid("too many bound values"))?;
        self.out.extend_from_slice(&count.to_be_bytes());
        let mut clustering = Vec::new();
        self.clustering(&m.values, &mut clustering)?;
        self.out.extend_from_slice(&clustering);
        let prev = self.previous_size;
        encode_uvint(body.len() as u64 + uvint_size(prev) as u64, &mut self.out);
        encode_uvint(prev, &mut self.out);
        self.out.extend_from_slice(&body);
        self.previous_size = (self.out.len() - start) as u64;
        Ok(())
    }
}

fn write_value(v: &[u8], width: Option<usize>, out: &mut Vec<u8>) -> Result<()> {
    match width {
        Some(w) if w == v.len() => out.extend_from_slice(v),
        Some(w) => {
            return Err(invalid(format!(
                "value of {} bytes for a fixed width of {w}",
                v.len()
            )))
        }
        None => {
            encode_uvint(v.len() as u64, out);
            out.extend_from_slice(v);
        }
    }
    Ok(())
}

/// `Columns.Serializer.serializeSubset`.
fn write_subset(present: &[bool], out: &mut Vec<u8>) -> Result<()> {
    let total = present.len();
    if total < 64 {
        let mut missing = 0u64;
        for (i, p) in present.iter().enumerate() {
            if !p {
                missing |= 1u64 << i;
            }
        }
        encode_uvint(missing, out);
        return Ok(());
    }
    let count = present.iter().filter(|p| **p).count();
    encode_uvint((total - count) as u64, out);
    if count < total / 2 {
        for (i, p) in present.iter().enumerate() {
            if *p {
                encode_uvint(i as u64, out);
            }
        }
    } else {
        for (i, p) in present.iter().enumerate() {
            if !p {
                encode_uvint(i as u64, out);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{BoundKind, Cell, DataReader, LivenessInfo, Unfiltered};
    use crate::offsets::DataOffset;
    use crate::source::SliceSource;
    use crate::types::CqlType;
    use crate::version::Version;

    fn layout(version: Version, regulars: usize) -> Layout {
        let list = CqlType::List {
            element: Box::new(CqlType::Int),
            frozen: false,
        };
        let mut regs: Vec<CqlType> = (0..regulars).map(|_| CqlType::Text).collect();
        regs.push(CqlType::Int);
        regs.push(list);
        let st = [CqlType::BigInt];
        Layout::new(
            version,
            (1_000_000, 1_600_000_000, 0),
            &[CqlType::Int, CqlType::Text],
            &st.iter().collect::<Vec<_>>(),
            &regs.iter().collect::<Vec<_>>(),
        )
        .unwrap()
    }

    fn del(ts: i64, ldt: i64) -> DeletionTime {
        DeletionTime {
            marked_for_delete_at: ts,
            local_deletion_time: ldt,
        }
    }

    fn sample_rows(n_text: usize) -> Vec<Row<'static>> {
        let int_col = n_text as u32;
        let list_col = n_text as u32 + 1;
        vec![
            Row {
                is_static: true,
                clustering: vec![],
                liveness: LivenessInfo::EMPTY,
                deletion: DeletionTime::LIVE,
                deletion_is_shadowable: false,
                scylla_shadowable_deletion: None,
                complex_deletions: vec![],
                cells: vec![Cell {
                    column: 0,
                    timestamp: 5_000_000,
                    kind: CellKind::Live,
                    path: None,
                    value: &[0, 0, 0, 0, 0, 0, 0, 9],
                }],
                offset: DataOffset(0),
            },
            Row {
                is_static: false,
                clustering: vec![Some(&[0, 0, 0, 1]), Some(b"a")],
                liveness: LivenessInfo {
                    timestamp: Some(2_000_000),
                    ttl: Some((3600, 1_700_000_000)),
                },
                deletion: DeletionTime::LIVE,
                deletion_is_shadowable: false,
                scylla_shadowable_deletion: None,
                complex_deletions: vec![(list_col, del(1_999_999, 1_650_000_000))],
                cells: vec![
                    Cell {
                        column: 0,
                        timestamp: 2_000_000,
                        kind: CellKind::Expiring {
                            ttl: 3600,
                            local_expiration_time: 1_700_000_000,
                        },
                        path: None,
                        value: b"hello",
                    },
                    Cell {
                        column: int_col,
                        timestamp: 3_000_000,
                        kind: CellKind::Tombstone {
                            local_deletion_time: 1_650_000_001,
                        },
                        path: None,
                        value: b"",
                    },
                    Cell {
                        column: list_col,
                        timestamp: 2_000_000,
                        kind: CellKind::Live,
                        path: Some(&[1; 16]),
                        value: &[0, 0, 0, 7],
                    },
                    Cell {
                        column: list_col,
                        timestamp: 2_000_001,
                        kind: CellKind::Expiring {
                            ttl: 10,
                            local_expiration_time: 1_600_000_100,
                        },
                        path: Some(&[2; 16]),
                        value: &[0, 0, 0, 8],
                    },
                ],
                offset: DataOffset(0),
            },
            Row {
                is_static: false,
                clustering: vec![None, Some(b"")],
                liveness: LivenessInfo::EMPTY,
                deletion: del(4_000_000, 1_660_000_000),
                deletion_is_shadowable: true,
                scylla_shadowable_deletion: None,
                complex_deletions: vec![],
                cells: vec![],
                offset: DataOffset(0),
            },
        ]
    }

    fn write_sample(version: Version, n_text: usize) -> (Layout, Vec<u8>, Vec<Row<'static>>) {
        let layout = layout(version, n_text);
        let rows = sample_rows(n_text);
        let mut w = DataWriter::new(layout.clone());
        w.start_partition(b"key1", del(1_500_000, 1_600_000_000))
            .unwrap();
        w.write_row(&rows[0]).unwrap();
        w.write_marker(&RangeTombstoneMarker {
            kind: BoundKind::InclStartBound,
            values: vec![Some(&[0, 0, 0, 0])],
            close: None,
            open: Some(del(1_000_001, 1_600_000_001)),
            offset: DataOffset(0),
        })
        .unwrap();
        w.write_row(&rows[1]).unwrap();
        w.write_row(&rows[2]).unwrap();
        w.write_marker(&RangeTombstoneMarker {
            kind: BoundKind::InclEndBound,
            values: vec![Some(&[0, 0, 0, 9])],
            close: Some(del(1_000_001, 1_600_000_001)),
            open: None,
            offset: DataOffset(0),
        })
        .unwrap();
        w.end_partition().unwrap();
        w.start_partition(b"key2", DeletionTime::LIVE).unwrap();
        w.write_row(&rows[0]).unwrap();
        w.end_partition().unwrap();
        (layout, w.finish(), rows)
    }

    fn strip(mut r: Row<'_>) -> Row<'_> {
        r.offset = DataOffset(0);
        r
    }

    /// Cassandra writes every value of a multi-cell column length-prefixed, even a
    /// `list<int>` element (`Cell.Serializer.serialize` uses the column's multi-cell type, which
    /// is never fixed-width); cqlite-py and ScyllaDB (`writer::write_cell`) do the same.
    #[test]
    fn fixed_width_elements_of_non_frozen_collections_are_length_prefixed() {
        for ty in [
            CqlType::List {
                element: Box::new(CqlType::Int),
                frozen: false,
            },
            CqlType::Map {
                key: Box::new(CqlType::Text),
                value: Box::new(CqlType::Int),
                frozen: false,
            },
        ] {
            let layout = Layout::new(Version::Nb, (0, 0, 0), &[], &[], &[&ty]).unwrap();
            let row = Row {
                is_static: false,
                clustering: vec![],
                liveness: LivenessInfo {
                    timestamp: Some(7),
                    ttl: None,
                },
                deletion: DeletionTime::LIVE,
                deletion_is_shadowable: false,
                scylla_shadowable_deletion: None,
                complex_deletions: vec![],
                cells: vec![Cell {
                    column: 0,
                    timestamp: 7,
                    kind: CellKind::Live,
                    path: Some(b"k"),
                    value: &[0, 0, 0, 42],
                }],
                offset: DataOffset(0),
            };
            let mut w = DataWriter::new(layout.clone());
            w.start_partition(b"p", DeletionTime::LIVE).unwrap();
            w.write_row(&row).unwrap();
            w.end_partition().unwrap();
            let bytes = w.finish();
            // ... cell flags (use row timestamp), path `k`, then value length 4 and the int,
            // then the end-of-partition flag.
            assert!(
                bytes.ends_with(&[0x08, 1, b'k', 4, 0, 0, 0, 42, 0x01]),
                "{ty:?}: {bytes:02x?}"
            );
            let mut reader = DataReader::new(
                SliceSource::new(&bytes, DataOffset(0), 4096),
                layout.clone(),
            );
            reader.next_partition().unwrap().unwrap();
            let mut cells = Vec::new();
            while let Some(u) = reader.next_unfiltered().unwrap() {
                if let Unfiltered::Row(r) = u {
                    cells.extend(r.cells.iter().map(|c| c.value.to_vec()));
                }
            }
            assert_eq!(cells, vec![vec![0, 0, 0, 42]], "{ty:?}");
            // The old fixed-width reading of these bytes must not come back: cut the length
            // prefix out and the row no longer decodes.
            let mut cut = bytes.clone();
            let at = cut.len() - 6;
            cut.remove(at);
            let mut reader =
                DataReader::new(SliceSource::new(&cut, DataOffset(0), 4096), layout.clone());
            reader.next_partition().unwrap().unwrap();
            assert!(reader.next_unfiltered().is_err(), "{ty:?}: {cut:02x?}");
        }
    }

    #[test]
    fn round_trip_every_flag_path() {
        // Fewer and more than 64 columns (column subset encodings), legacy and 5.0 deletions.
        for version in [Version::Mc, Version::Nb, Version::Oa] {
            for n_text in [2usize, 70] {
                let (layout, bytes, rows) = write_sample(version, n_text);
                for chunk in [1usize, 7, 4096] {
                    let mut r = DataReader::new(
                        SliceSource::new(&bytes, DataOffset(0), chunk),
                        layout.clone(),
                    );
                    let p = r.next_partition().unwrap().unwrap();
                    assert_eq!(p.key, b"key1");
                    assert_eq!(p.deletion, del(1_500_000, 1_600_000_000));
                    let mut got = Vec::new();
                    while let Some(u) = r.next_unfiltered().unwrap() {
                        got.push(match u {
                            Unfiltered::Row(row) => format!("{:?}", strip(row)),
                            Unfiltered::Marker(mut m) => {
                                m.offset = DataOffset(0);
                                format!("{m:?}")
                            }
                        });
                    }
                    assert_eq!(got.len(), 5, "{version} {n_text} {chunk}");
                    assert_eq!(got[0], format!("{:?}", rows[0]));
                    assert_eq!(got[2], format!("{:?}", rows[1]));
                    assert_eq!(got[3], format!("{:?}", rows[2]));
                    let p = r.next_partition().unwrap().unwrap();
                    assert_eq!(p.key, b"key2");
                    assert!(p.deletion.is_live());
                    // Skipping the rest of a partition works.
                    assert!(r.next_partition().unwrap().is_none());
                }
            }
        }
    }

    #[test]
    fn truncation_anywhere_is_an_error_not_a_panic() {
        let (layout, bytes, _) = write_sample(Version::Me, 3);
        // The one clean cut inside the data: between the two partitions.
        let boundary = {
            let mut r = DataReader::new(SliceSource::new(&bytes, DataOffset(0), 5), layout.clone());
            r.next_partition().unwrap();
            while r.next_unfiltered().unwrap().is_some() {}
            r.position().0 as usize
        };
        for cut in 0..bytes.len() {
            let data = &bytes[..cut];
            let mut r = DataReader::new(SliceSource::new(data, DataOffset(0), 5), layout.clone());
            let mut result = Ok(());
            'outer: loop {
                match r.next_partition() {
                    Ok(Some(_)) => loop {
                        match r.next_unfiltered() {
                            Ok(Some(_)) => {}
                            Ok(None) => break,
                            Err(e) => {
                                result = Err(e);
                                break 'outer;
                            }
                        }
                    },
                    Ok(None) => break,
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                }
            }
            if cut == 0 || cut == boundary {
                assert!(result.is_ok(), "cut {cut}");
            } else {
                let e = result.expect_err(&format!("cut at {cut} must fail"));
                assert!(
                    matches!(
                        e,
                        Error::Truncated {
                            component: Component::Data,
                            ..
                        }
                    ),
                    "cut {cut}: {e}"
                );
            }
        }
    }

    #[test]
    fn memory_is_bounded_by_the_largest_row_not_the_partition() {
        // One partition of 100,000 rows (~5 MB) read in 16 KiB chunks, plus one 1 MB row.
        let layout = Layout::new(
            Version::Nb,
            (0, 0, 0),
            &[CqlType::Int],
            &[],
            &[&CqlType::Blob],
        )
        .unwrap();
        let mut w = DataWriter::new(layout.clone());
        w.start_partition(b"k", DeletionTime::LIVE).unwrap();
        let small = [7u8; 40];
        let big = vec![9u8; 1 << 20];
        let cks: Vec<[u8; 4]> = (0..100_001u32).map(|i| i.to_be_bytes()).collect();
        for (i, ck) in cks.iter().enumerate() {
            let value: &[u8] = if i == 50_000 { &big } else { &small };
            let row = Row {
                is_static: false,
                clustering: vec![Some(&ck[..])],
                liveness: LivenessInfo {
                    timestamp: Some(1),
                    ttl: None,
                },
                deletion: DeletionTime::LIVE,
                deletion_is_shadowable: false,
                scylla_shadowable_deletion: None,
                complex_deletions: vec![],
                cells: vec![Cell {
                    column: 0,
                    timestamp: 1,
                    kind: CellKind::Live,
                    path: None,
                    value,
                }],
                offset: DataOffset(0),
            };
            w.write_row(&row).unwrap();
        }
        w.end_partition().unwrap();
        let bytes = w.finish();
        assert!(bytes.len() > 5 << 20);
        let mut r = DataReader::new(SliceSource::new(&bytes, DataOffset(0), 16 << 10), layout);
        r.next_partition().unwrap().unwrap();
        let (mut rows, mut peak) = (0, 0);
        while let Some(u) = r.next_unfiltered().unwrap() {
            assert!(matches!(u, Unfiltered::Row(_)));
            rows += 1;
            peak = peak.max(r.buffer_capacity());
        }
        assert_eq!(rows, 100_001);
        // Vec doubling: at most twice the largest row (1 MiB) plus a chunk, never the 6 MB
        // partition.
        assert!(
            peak <= 2 * ((1 << 20) + (16 << 10)),
            "peak buffer {peak} bytes"
        );
    }

    #[test]
    fn corrupt_bytes_never_panic() {
        let (layout, bytes, _) = write_sample(Version::Nb, 3);
        for i in 0..bytes.len() {
            for x in [0x00u8, 0xff, 0x80, 0x41] {
                let mut data = bytes.clone();
                data[i] = x;
                let mut r =
                    DataReader::new(SliceSource::new(&data, DataOffset(0), 64), layout.clone());
                let mut steps = 0;
                while let Ok(Some(_)) = r.next_partition() {
                    while let Ok(Some(_)) = r.next_unfiltered() {
                        steps += 1;
                        assert!(steps < 10_000);
                    }
                }
            }
        }
    }
}
