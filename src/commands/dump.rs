//! `sstable-lake dump`: the rows of the tables under the given paths as JSON Lines, in the
//! encoding of Cassandra's `SELECT JSON`, with `keyspace`, `table` and `token` beside the
//! columns; or, with `--raw`, what is on disk (cells with timestamps, TTLs, tombstones).

use std::io::{BufWriter, Write};

use sstable_format::data::{Cell, CellKind, DeletionTime, PartitionReader, Unfiltered};
use sstable_format::key::split_partition_key;
use sstable_format::partitioner::{Partitioner, Token};
use sstable_format::reconcile::Now;
use sstable_format::schema::Schema;
use sstable_format::split::ByteRange;
use sstable_format::value::{assemble_multi_cell, decode_value};
use sstable_format::CqlType;

use crate::config::{DumpPlan, NowPlan};
use crate::convert::json::{write_json_string, write_value};
use crate::discover::opened::OpenedSet;
use crate::discover::{discover, SstableSet};
use crate::error::Error;
use crate::io::Io;
use crate::read::live_rows::{LiveCqlRow, LiveRows, PartitionInfo, RowSink};
use crate::read::open::{open_table, read_schema, resolve_now};
use crate::read::table_view::{SetMapping, TableView};

/// Runs `dump`.
pub fn run(io: &Io, plan: &DumpPlan) -> Result<(), Error> {
    let discovery = discover(io, &plan.paths)?;
    for s in &discovery.skipped {
        eprintln!("skipped {}: {}", s.path.display(), s.reason);
    }
    if discovery.sets.is_empty() {
        return Err(Error::NothingFound(plan.paths.clone()));
    }
    let user_schema = match &plan.schema {
        Some(p) => Some(read_schema(io, p)?),
        None => None,
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut stats = DumpStats::default();
    for resolved in crate::read::resolve::resolve_tables(&discovery, user_schema.as_ref())? {
        let (group, user_schema) = (resolved.group, resolved.schema);
        let now = resolve_now(io, plan.now, &group.sets, &discovery);
        let plan = &DumpPlan {
            now: NowPlan::At(now),
            ..plan.clone()
        };
        // With a shard, only its splits of the table, each read alone (see `crate::plan`).
        let splits = match &plan.shard {
            Some(shard) => {
                let opened = group
                    .sets
                    .iter()
                    .map(|s| OpenedSet::open(io, s))
                    .collect::<Result<Vec<_>, _>>()?;
                let scan =
                    |i| super::starts::legacy_starts(&opened, &group.sets, user_schema.as_ref(), i);
                Some(crate::plan::plan_group(&opened, shard.splits, Some(&scan))?)
            }
            None => None,
        };
        let shares: Vec<Option<&[ByteRange]>> = match (&plan.shard, &splits) {
            (Some(shard), Some(splits)) => crate::plan::shard_share(shard, splits)
                .into_iter()
                .filter_map(|i| splits.get(i))
                .map(|sp| Some(sp.per_sstable.as_slice()))
                .collect(),
            _ => vec![None],
        };
        for ranges in shares {
            if plan.raw || group.sets.len() == 1 {
                for (j, set) in group.sets.iter().enumerate() {
                    let range = ranges.and_then(|r| r.get(j));
                    if range.is_some_and(ByteRange::is_empty) {
                        continue;
                    }
                    dump_set(
                        io,
                        set,
                        range,
                        user_schema.as_ref(),
                        plan,
                        &mut out,
                        &mut stats,
                    )?;
                }
            } else if !ranges.is_some_and(|r| r.iter().all(ByteRange::is_empty)) {
                dump_merged(
                    io,
                    &group.sets,
                    ranges,
                    user_schema.as_ref(),
                    plan,
                    &mut out,
                    &mut stats,
                )?;
            }
        }
    }
    out.flush().map_err(Error::Stdout)?;
    eprintln!("dump: {}", stats.summary());
    Ok(())
}

/// Dumps the merge of several sets of one table (several generations, or several nodes).
fn dump_merged(
    io: &Io,
    sets: &[&SstableSet],
    ranges: Option<&[ByteRange]>,
    user_schema: Option<&Schema>,
    plan: &DumpPlan,
    out: &mut impl Write,
    stats: &mut DumpStats,
) -> Result<(), Error> {
    let opened = sets
        .iter()
        .map(|s| OpenedSet::open(io, s))
        .collect::<Result<Vec<_>, _>>()?;
    let mut input = open_table(&opened, sets, ranges, user_schema)?;
    stats.sstables += opened.len() as u64;
    let mut w = RowWriter::new(
        &input.view,
        &input.mapping,
        input.partitioner,
        Now(plan.at()),
    );
    let result = w.run_reader(input.reader.reader(), false, out, stats);
    if let Some(m) = input.reader.merge_stats() {
        eprintln!(
            "merge {}.{}: {} sstable(s), {} partition(s) read, {} out, {} row(s) read, {} row version(s) merged, {} cell version(s) superseded, {} tombstone(s) seen",
            input.view.keyspace,
            input.view.table,
            sets.len(),
            m.partitions_read,
            m.partitions_out,
            m.rows_read,
            m.rows_superseded,
            m.cells_superseded,
            m.tombstones
        );
    }
    result.map_err(|e| match e {
        WriteError::Format(source) => input.format_error(source),
        WriteError::Io(e) => Error::Stdout(e),
    })
}

impl DumpStats {
    /// One line for the end of the run.
    pub fn summary(&self) -> String {
        format!(
            "{} sstable(s), {} partition(s), {} row(s) out, {} cell(s) deleted, {} cell(s) expired",
            self.sstables, self.partitions, self.rows, self.cells_deleted, self.cells_expired
        )
    }
}

/// Counters of one run.
#[derive(Debug, Default, Clone, Copy)]
pub struct DumpStats {
    /// Cells hidden by a deletion (partition, range, row, collection or cell tombstone).
    pub cells_deleted: u64,
    /// Cells hidden because their TTL expired.
    pub cells_expired: u64,
    /// SSTables read.
    pub sstables: u64,
    /// Partitions read.
    pub partitions: u64,
    /// Rows written.
    pub rows: u64,
}

fn dump_set(
    io: &Io,
    set: &SstableSet,
    range: Option<&ByteRange>,
    user_schema: Option<&Schema>,
    plan: &DumpPlan,
    out: &mut impl Write,
    stats: &mut DumpStats,
) -> Result<(), Error> {
    let opened = [OpenedSet::open(io, set)?];
    let mut input = open_table(
        &opened,
        &[set],
        range.map(std::slice::from_ref),
        user_schema,
    )?;
    stats.sstables += 1;
    let mut w = RowWriter::new(
        &input.view,
        &input.mapping,
        input.partitioner,
        Now(plan.at()),
    );
    w.run_reader(input.reader.reader(), plan.raw, out, stats)
        .map_err(|e| match e {
            WriteError::Format(source) => input.format_error(source),
            WriteError::Io(e) => Error::Stdout(e),
        })
}

enum WriteError {
    Format(sstable_format::Error),
    Io(std::io::Error),
}

impl From<sstable_format::Error> for WriteError {
    fn from(e: sstable_format::Error) -> Self {
        WriteError::Format(e)
    }
}

impl From<std::io::Error> for WriteError {
    fn from(e: std::io::Error) -> Self {
        WriteError::Io(e)
    }
}

/// Turns decoded partitions into JSON lines, reusing its buffers.
struct RowWriter<'v> {
    view: &'v TableView,
    mapping: &'v SetMapping,
    partitioner: Partitioner,
    now: Now,
    /// `{"keyspace":..,"table":..,"token":..,<partition key columns>` of the current partition.
    prefix: String,
    line: String,
}

impl<'v> RowWriter<'v> {
    fn new(
        view: &'v TableView,
        mapping: &'v SetMapping,
        partitioner: Partitioner,
        now: Now,
    ) -> Self {
        RowWriter {
            view,
            mapping,
            partitioner,
            now,
            prefix: String::new(),
            line: String::new(),
        }
    }

    fn run_reader(
        &mut self,
        reader: &mut dyn PartitionReader,
        raw: bool,
        out: &mut impl Write,
        stats: &mut DumpStats,
    ) -> Result<(), WriteError> {
        if !raw {
            let mut rows = LiveRows::new(self.view, self.mapping, self.partitioner, self.now);
            let result = rows.run(reader, &mut JsonSink { w: self, out });
            stats.partitions += rows.stats.partitions;
            stats.rows += rows.stats.rows;
            if result.is_ok() {
                stats.cells_deleted += rows.stats.cells_deleted;
                stats.cells_expired += rows.stats.cells_expired;
            }
            return result;
        }
        while let Some(p) = reader.next_partition()? {
            let (key, deletion) = (p.key.to_vec(), p.deletion);
            stats.partitions += 1;
            let token = self.partitioner.token(&key);
            let key_parts = split_partition_key(&key, self.view.partition_key.len())?;
            self.start_partition(&PartitionInfo {
                key: &key,
                key_parts: &key_parts,
                token: &token,
                progress: 0,
            })?;
            self.raw_partition(&key, deletion, reader, out)?;
        }
        Ok(())
    }

    fn start_partition(&mut self, p: &PartitionInfo<'_>) -> Result<(), WriteError> {
        self.prefix.clear();
        self.prefix.push_str("{\"keyspace\":");
        write_json_string(&mut self.prefix, &self.view.keyspace);
        self.prefix.push_str(",\"table\":");
        write_json_string(&mut self.prefix, &self.view.table);
        self.prefix.push_str(",\"token\":");
        match p.token {
            Token::Long(t) => self.prefix.push_str(&t.to_string()),
            Token::Big(t) => self.prefix.push_str(&t.to_string()),
            Token::Bytes(b) => {
                self.prefix.push_str("\"0x");
                push_hex(&mut self.prefix, b);
                self.prefix.push('"');
            }
        }
        for (col, bytes) in self.view.partition_key.iter().zip(p.key_parts) {
            self.prefix.push(',');
            write_json_string(&mut self.prefix, &col.name);
            self.prefix.push(':');
            let v = decode_value(&col.ty, bytes)?;
            write_value(&mut self.prefix, &v);
        }
        Ok(())
    }

    fn emit(&mut self, row: &LiveCqlRow<'_>, out: &mut impl Write) -> Result<(), WriteError> {
        self.line.clear();
        self.line.push_str(&self.prefix);
        for (i, col) in self.view.clustering.iter().enumerate() {
            self.line.push(',');
            write_json_string(&mut self.line, &col.name);
            self.line.push(':');
            match row.clustering.get(i).copied().flatten() {
                Some(bytes) => write_value(&mut self.line, &decode_value(&col.ty, bytes)?),
                None => self.line.push_str("null"),
            }
        }
        for (i, col) in self.view.columns.iter().enumerate() {
            self.line.push(',');
            write_json_string(&mut self.line, &col.name);
            self.line.push(':');
            match row.column(i) {
                None => self.line.push_str("null"),
                Some(cells) if cells.multi_cell => {
                    let v = assemble_multi_cell(
                        cells.ty,
                        cells.iter().map(|c| (c.path.unwrap_or(&[]), c.value)),
                    )?;
                    write_value(&mut self.line, &v);
                }
                Some(cells) => {
                    let value = cells.first().map(|c| c.value).unwrap_or(&[]);
                    write_value(&mut self.line, &decode_value(cells.ty, value)?);
                }
            }
        }
        self.line.push_str("}\n");
        out.write_all(self.line.as_bytes())?;
        Ok(())
    }

    fn raw_partition(
        &mut self,
        key: &[u8],
        deletion: DeletionTime,
        reader: &mut dyn PartitionReader,
        out: &mut impl Write,
    ) -> Result<(), WriteError> {
        self.line.clear();
        self.line.push_str(&self.prefix);
        self.line.push_str(",\"type\":\"partition\",\"key_hex\":\"");
        push_hex(&mut self.line, key);
        self.line.push('"');
        push_deletion(&mut self.line, "deletion", deletion);
        self.line.push_str("}\n");
        out.write_all(self.line.as_bytes())?;
        while let Some(u) = reader.next_unfiltered()? {
            self.line.clear();
            match u {
                Unfiltered::Marker(m) => {
                    self.line
                        .push_str("{\"type\":\"range_tombstone_bound\",\"kind\":\"");
                    self.line.push_str(&format!("{:?}", m.kind));
                    self.line.push_str("\",\"clustering\":[");
                    for (i, v) in m.values.iter().enumerate() {
                        if i > 0 {
                            self.line.push(',');
                        }
                        self.push_clustering_value(i, *v)?;
                    }
                    self.line.push(']');
                    if let Some(d) = m.close {
                        push_deletion(&mut self.line, "close", d);
                    }
                    if let Some(d) = m.open {
                        push_deletion(&mut self.line, "open", d);
                    }
                    self.line
                        .push_str(&format!(",\"position\":{}}}\n", m.offset));
                }
                Unfiltered::Row(r) => {
                    self.line.push_str(if r.is_static {
                        "{\"type\":\"static_row\""
                    } else {
                        "{\"type\":\"row\""
                    });
                    self.line.push_str(",\"clustering\":[");
                    for (i, v) in r.clustering.iter().enumerate() {
                        if i > 0 {
                            self.line.push(',');
                        }
                        self.push_clustering_value(i, *v)?;
                    }
                    self.line.push(']');
                    if let Some(ts) = r.liveness.timestamp {
                        self.line
                            .push_str(&format!(",\"liveness\":{{\"timestamp\":{ts}"));
                        if let Some((ttl, exp)) = r.liveness.ttl {
                            self.line
                                .push_str(&format!(",\"ttl\":{ttl},\"expires_at\":{exp}"));
                        }
                        self.line.push('}');
                    }
                    if !r.deletion.is_live() {
                        push_deletion(&mut self.line, "deletion", r.deletion);
                        if r.deletion_is_shadowable {
                            self.line.push_str(",\"deletion_is_shadowable\":true");
                        }
                    }
                    if let Some(d) = r.scylla_shadowable_deletion {
                        push_deletion(&mut self.line, "shadowable_deletion", d);
                    }
                    let columns = if r.is_static {
                        &self.mapping.statics
                    } else {
                        &self.mapping.regulars
                    };
                    if !r.complex_deletions.is_empty() {
                        self.line.push_str(",\"collection_deletions\":[");
                        for (i, (col, d)) in r.complex_deletions.iter().enumerate() {
                            if i > 0 {
                                self.line.push(',');
                            }
                            self.line.push_str("{\"column\":");
                            self.push_column_name(columns, *col);
                            push_deletion(&mut self.line, "deletion", *d);
                            self.line.push('}');
                        }
                        self.line.push(']');
                    }
                    self.line.push_str(",\"cells\":[");
                    for (i, c) in r.cells.iter().enumerate() {
                        if i > 0 {
                            self.line.push(',');
                        }
                        self.push_raw_cell(columns, c)?;
                    }
                    self.line
                        .push_str(&format!("],\"position\":{}}}\n", r.offset));
                }
            }
            out.write_all(self.line.as_bytes())?;
        }
        Ok(())
    }

    fn push_clustering_value(&mut self, i: usize, v: Option<&[u8]>) -> Result<(), WriteError> {
        match (v, self.view.clustering.get(i)) {
            (None, _) => self.line.push_str("null"),
            (Some(b), Some(col)) => write_value(&mut self.line, &decode_value(&col.ty, b)?),
            (Some(b), None) => {
                self.line.push_str("\"0x");
                push_hex(&mut self.line, b);
                self.line.push('"');
            }
        }
        Ok(())
    }

    fn push_column_name(&mut self, columns: &[Option<(usize, CqlType)>], col: u32) {
        match columns
            .get(col as usize)
            .and_then(|c| c.as_ref())
            .and_then(|(i, _)| self.view.columns.get(*i))
        {
            Some(c) => write_json_string(&mut self.line, &c.name),
            None => self.line.push_str(&format!("\"#dropped{col}\"")),
        }
    }

    fn push_raw_cell(
        &mut self,
        columns: &[Option<(usize, CqlType)>],
        c: &Cell<'_>,
    ) -> Result<(), WriteError> {
        self.line.push_str("{\"column\":");
        self.push_column_name(columns, c.column);
        let ty = columns
            .get(c.column as usize)
            .and_then(|c| c.as_ref())
            .map(|(_, t)| t);
        if let Some(path) = c.path {
            self.line.push_str(",\"path\":");
            match ty.and_then(path_type) {
                Some(pt) => write_value(&mut self.line, &decode_value(&pt, path)?),
                None => {
                    self.line.push_str("\"0x");
                    push_hex(&mut self.line, path);
                    self.line.push('"');
                }
            }
        }
        self.line
            .push_str(&format!(",\"timestamp\":{}", c.timestamp));
        match c.kind {
            CellKind::Live => {}
            CellKind::Expiring {
                ttl,
                local_expiration_time,
            } => self.line.push_str(&format!(
                ",\"ttl\":{ttl},\"expires_at\":{local_expiration_time}"
            )),
            CellKind::Tombstone {
                local_deletion_time,
            } => self
                .line
                .push_str(&format!(",\"deleted_at\":{local_deletion_time}")),
        }
        if !matches!(c.kind, CellKind::Tombstone { .. }) {
            self.line.push_str(",\"value\":");
            match ty.and_then(|t| cell_value_type(t, c.path)) {
                Some(vt) => write_value(&mut self.line, &decode_value(&vt, c.value)?),
                None => {
                    self.line.push_str("\"0x");
                    push_hex(&mut self.line, c.value);
                    self.line.push('"');
                }
            }
        }
        self.line.push('}');
        Ok(())
    }
}

/// `dump`'s sink of live rows: one JSON line per row.
struct JsonSink<'w, 'v, W: Write> {
    w: &'w mut RowWriter<'v>,
    out: &'w mut W,
}

impl<W: Write> RowSink for JsonSink<'_, '_, W> {
    type Error = WriteError;

    fn partition(&mut self, p: &PartitionInfo<'_>) -> Result<(), WriteError> {
        self.w.start_partition(p)
    }

    fn row(&mut self, _: &PartitionInfo<'_>, row: &LiveCqlRow<'_>) -> Result<(), WriteError> {
        self.w.emit(row, self.out)
    }
}

/// The type of a multi-cell column's cell paths.
fn path_type(ty: &CqlType) -> Option<CqlType> {
    match ty.unreversed() {
        CqlType::List { .. } => Some(CqlType::TimeUuid),
        CqlType::Set { element, .. } => Some((**element).clone()),
        CqlType::Map { key, .. } => Some((**key).clone()),
        CqlType::Udt(_) => Some(CqlType::SmallInt),
        _ => None,
    }
}

/// The type of one cell's value: the column's type, or for multi-cell columns the element's.
fn cell_value_type(ty: &CqlType, path: Option<&[u8]>) -> Option<CqlType> {
    match (ty.unreversed(), path) {
        (t, None) => Some(t.clone()),
        (CqlType::List { element, .. }, Some(_)) => Some((**element).clone()),
        (CqlType::Set { .. }, Some(_)) => Some(CqlType::Empty),
        (CqlType::Map { value, .. }, Some(_)) => Some((**value).clone()),
        (CqlType::Udt(u), Some([hi, lo])) => u
            .fields
            .get(usize::from(u16::from_be_bytes([*hi, *lo])))
            .map(|(_, t)| t.clone()),
        _ => None,
    }
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    for b in bytes {
        out.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        out.push(char::from_digit(u32::from(b & 15), 16).unwrap_or('0'));
    }
}

fn push_deletion(out: &mut String, name: &str, d: DeletionTime) {
    if d.is_live() {
        return;
    }
    out.push_str(&format!(
        ",\"{name}\":{{\"marked_for_delete_at\":{},\"local_deletion_time\":{}}}",
        d.marked_for_delete_at, d.local_deletion_time
    ));
}
