//! `sstable-lake dump`: the rows of the tables under the given paths as JSON Lines, in the
//! encoding of Cassandra's `SELECT JSON`, with `keyspace`, `table` and `token` beside the
//! columns; or, with `--raw`, what is on disk (cells with timestamps, TTLs, tombstones).

use std::io::{BufWriter, Write};
use std::path::Path;

use sstable_format::data::{Cell, CellKind, DataReader, DeletionTime, PartitionReader, Unfiltered};
use sstable_format::key::split_partition_key;
use sstable_format::legacy::{LegacyLayout, LegacyReader};
use sstable_format::merge::{ColumnMap, Merger};
use sstable_format::partitioner::{Partitioner, Token};
use sstable_format::reconcile::Now;
use sstable_format::schema::Schema;
use sstable_format::split::ByteRange;
use sstable_format::value::{assemble_multi_cell, decode_value};
use sstable_format::CqlType;

use crate::cli::{parse_instant, DumpPlan, NowPlan};
use crate::discover::{discover, SstableSet};
use crate::error::Error;
use crate::json::{write_json_string, write_value};
use crate::rows::{LiveCqlRow, LiveRows, PartitionInfo, RowSink};
use crate::sstable::OpenedSet;
use crate::table::{SetMapping, TableView};

/// Runs `dump`.
pub fn run(plan: &DumpPlan) -> Result<(), Error> {
    let discovery = discover(&plan.paths)?;
    for s in &discovery.skipped {
        eprintln!("skipped {}: {}", s.path.display(), s.reason);
    }
    if discovery.sets.is_empty() {
        return Err(Error::NothingFound(plan.paths.clone()));
    }
    let user_schema = match &plan.schema {
        Some(p) => Some(read_schema(p)?),
        None => None,
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut stats = DumpStats::default();
    for group in discovery.tables() {
        let now = resolve_now(plan.now, &group.sets, &discovery);
        let plan = &DumpPlan {
            now: NowPlan::At(now),
            ..plan.clone()
        };
        // With a shard, only its splits of the table, each read alone (see `crate::plan`).
        let splits = match &plan.shard {
            Some(shard) => Some(crate::plan::plan_group(&group.sets, shard.splits)?),
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
                    dump_set(set, range, user_schema.as_ref(), plan, &mut out, &mut stats)?;
                }
            } else if !ranges.is_some_and(|r| r.iter().all(ByteRange::is_empty)) {
                dump_merged(
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

/// The instant of `--now` for one table: as given, or its snapshot time (the manifest's
/// `created_at`, else the newest modification time of its SSTables' files, which a snapshot's
/// hard links keep from the flush: a lower bound of the snapshot time).
pub(crate) fn resolve_now(
    now: NowPlan,
    sets: &[&SstableSet],
    discovery: &crate::discover::Discovery,
) -> i64 {
    match now {
        NowPlan::At(t) => t,
        NowPlan::Snapshot => {
            let created = discovery
                .manifests
                .iter()
                .filter(|m| {
                    sets.iter()
                        .any(|s| m.path.parent() == Some(s.dir.as_path()))
                })
                .filter_map(|m| m.created_at.as_deref().and_then(parse_instant))
                .max();
            created.unwrap_or_else(|| {
                sets.iter()
                    .flat_map(|s| s.components.values())
                    .filter_map(|p| std::fs::metadata(p).ok()?.modified().ok())
                    .filter_map(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map(|d| d.as_secs() as i64)
                    .max()
                    .unwrap_or(0)
            })
        }
    }
}

/// The table's view for a group of sets: the schema when there is one, else the union of the
/// sets' headers (first set's key and clustering, then every column seen).
fn group_view(
    opened: &[OpenedSet],
    sets: &[&SstableSet],
    user_schema: Option<&Schema>,
) -> Result<TableView, Error> {
    let mut view: Option<TableView> = None;
    for (o, set) in opened.iter().zip(sets) {
        let v = if o.version.is_legacy_layout() {
            TableView::from_schema(
                &legacy_schema(set, o, user_schema)?,
                set.keyspace.as_deref(),
            )
        } else {
            resolve_view(set, o, user_schema)?
        };
        match &mut view {
            None => view = Some(v),
            Some(acc) if acc.generated_names => {
                for c in v.columns {
                    if !acc.columns.iter().any(|a| a.name == c.name) {
                        acc.columns.push(c);
                    }
                }
            }
            Some(_) => {}
        }
    }
    view.ok_or_else(|| Error::Schema("no SSTables in the group".into()))
}

/// Dumps the merge of several sets of one table (several generations, or several nodes).
fn dump_merged(
    sets: &[&SstableSet],
    ranges: Option<&[ByteRange]>,
    user_schema: Option<&Schema>,
    plan: &DumpPlan,
    out: &mut impl Write,
    stats: &mut DumpStats,
) -> Result<(), Error> {
    let opened = sets
        .iter()
        .map(|s| OpenedSet::open(s))
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
        WriteError::Format(source) => Error::Format {
            path: opened
                .first()
                .map(|o| o.data_path.clone())
                .unwrap_or_default(),
            source,
        },
        WriteError::Io(e) => Error::Stdout(e),
    })
}

/// The live-row input of one table: its view, the mapping its cells decode with, and a reader
/// over its sets (one set read directly, several merged).
pub(crate) struct TableInput<'a> {
    /// Output columns.
    pub view: TableView,
    /// How the reader's columns map to the view's.
    pub mapping: SetMapping,
    /// The sets' partitioner.
    pub partitioner: Partitioner,
    /// The partitions.
    pub reader: TableReader<'a>,
}

/// A single set's reader, or the merge of several.
pub(crate) enum TableReader<'a> {
    /// One set.
    Single(Box<dyn PartitionReader + 'a>),
    /// Several sets merged.
    Merged(Box<Merger<'a>>),
}

impl TableReader<'_> {
    /// The reader.
    pub fn reader(&mut self) -> &mut dyn PartitionReader {
        match self {
            TableReader::Single(r) => r.as_mut(),
            TableReader::Merged(m) => m.as_mut(),
        }
    }

    /// What the merge did, if this is a merge.
    pub fn merge_stats(&self) -> Option<sstable_format::merge::MergeStats> {
        match self {
            TableReader::Single(_) => None,
            TableReader::Merged(m) => Some(m.stats()),
        }
    }
}

/// Opens the live-row input of a table from its opened sets (`opened[i]` of `sets[i]`).
pub(crate) fn open_table<'a>(
    opened: &'a [OpenedSet],
    sets: &[&SstableSet],
    ranges: Option<&[ByteRange]>,
    user_schema: Option<&Schema>,
) -> Result<TableInput<'a>, Error> {
    if let ([o], [set]) = (opened, sets) {
        let partitioner = o.partitioner()?;
        let range = ranges.and_then(|r| r.first());
        let wrap = |source| Error::Format {
            path: o.data_path.clone(),
            source,
        };
        let (view, mapping, reader): (TableView, SetMapping, Box<dyn PartitionReader + 'a>) =
            if o.version.is_legacy_layout() {
                let table = legacy_schema(set, o, user_schema)?;
                let view = TableView::from_schema(&table, set.keyspace.as_deref());
                let layout = LegacyLayout::from_schema(&table, o.version)
                    .map_err(|e| Error::Schema(format!("{}: {e}", o.data_path.display())))?;
                let mapping = view.map_legacy(&layout);
                let reader = LegacyReader::new(set_source(o, range)?, layout);
                let reader = crate::plan::restrict_legacy(reader, range).map_err(wrap)?;
                (view, mapping, Box::new(reader))
            } else {
                let view = resolve_view(set, o, user_schema)?;
                let header = o.statistics.header.as_ref().ok_or_else(|| {
                    Error::Schema(format!(
                        "{}: no serialization header",
                        o.data_path.display()
                    ))
                })?;
                let mapping = view.map_header(o.version, header)?;
                let layout = mapping
                    .layout
                    .clone()
                    .ok_or_else(|| Error::Schema("no layout".into()))?;
                let reader = DataReader::new(set_source(o, range)?, layout);
                let reader = crate::plan::restrict_data(reader, range).map_err(wrap)?;
                (view, mapping, Box::new(reader))
            };
        return Ok(TableInput {
            view,
            mapping,
            partitioner,
            reader: TableReader::Single(reader),
        });
    }
    let view = group_view(opened, sets, user_schema)?;
    let mut partitioner = None;
    let mut sources: Vec<(Box<dyn PartitionReader + 'a>, ColumnMap)> = Vec::new();
    let mut order_types: Option<Vec<CqlType>> = None;
    for (j, (o, set)) in opened.iter().zip(sets).enumerate() {
        let p = o.partitioner()?;
        match partitioner {
            None => partitioner = Some(p),
            Some(q) if q != p => {
                return Err(Error::Schema(format!(
                    "{}: partitioner {} differs from {} of the other SSTables of {}.{}",
                    o.data_path.display(),
                    p.class_name(),
                    q.class_name(),
                    view.keyspace,
                    view.table
                )))
            }
            Some(_) => {}
        }
        let range = ranges.and_then(|r| r.get(j));
        if range.is_some_and(ByteRange::is_empty) {
            continue;
        }
        let wrap = |source| Error::Format {
            path: o.data_path.clone(),
            source,
        };
        let (mapping, reader): (SetMapping, Box<dyn PartitionReader + 'a>) =
            if o.version.is_legacy_layout() {
                let table = legacy_schema(set, o, user_schema)?;
                let layout = LegacyLayout::from_schema(&table, o.version)
                    .map_err(|e| Error::Schema(format!("{}: {e}", o.data_path.display())))?;
                order_types.get_or_insert_with(|| clustering_order_types(&table));
                let mapping = view.map_legacy(&layout);
                let reader = LegacyReader::new(set_source(o, range)?, layout);
                let reader = crate::plan::restrict_legacy(reader, range).map_err(wrap)?;
                (mapping, Box::new(reader))
            } else {
                let header = o.statistics.header.as_ref().ok_or_else(|| {
                    Error::Schema(format!(
                        "{}: no serialization header",
                        o.data_path.display()
                    ))
                })?;
                order_types.get_or_insert_with(|| header.clustering_types.clone());
                let mapping = view.map_header(o.version, header)?;
                let layout = mapping
                    .layout
                    .clone()
                    .ok_or_else(|| Error::Schema("no layout".into()))?;
                let reader = DataReader::new(set_source(o, range)?, layout);
                let reader = crate::plan::restrict_data(reader, range).map_err(wrap)?;
                (mapping, Box::new(reader))
            };
        let to_map = |m: &[Option<(usize, CqlType)>]| {
            m.iter()
                .map(|c| c.as_ref().map(|(i, _)| *i as u32))
                .collect()
        };
        sources.push((
            reader,
            ColumnMap {
                statics: to_map(&mapping.statics),
                regulars: to_map(&mapping.regulars),
            },
        ));
    }
    let partitioner = partitioner.ok_or_else(|| Error::Schema("no SSTables".into()))?;
    let column_types: Vec<CqlType> = view.columns.iter().map(|c| c.ty.clone()).collect();
    let identity: Vec<Option<(usize, CqlType)>> = column_types
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, t)| Some((i, t)))
        .collect();
    let mapping = SetMapping {
        layout: None,
        statics: identity.clone(),
        regulars: identity,
        header_clustering: view.clustering.len(),
    };
    let merger = Merger::new(
        sources,
        partitioner,
        order_types.unwrap_or_default(),
        column_types,
    );
    Ok(TableInput {
        view,
        mapping,
        partitioner,
        reader: TableReader::Merged(Box::new(merger)),
    })
}

/// Clustering types in clustering order (DESC columns as `ReversedType`) from a schema table.
fn clustering_order_types(table: &sstable_format::schema::TableSchema) -> Vec<CqlType> {
    table
        .clustering
        .iter()
        .map(|c| match c.clustering_order {
            sstable_format::schema::ClusteringOrder::Desc => {
                CqlType::Reversed(Box::new(c.ty.clone()))
            }
            sstable_format::schema::ClusteringOrder::Asc => c.ty.clone(),
        })
        .collect()
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

pub(crate) fn read_schema(path: &Path) -> Result<Schema, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Schema::parse(&text).map_err(|source| Error::Format {
        path: path.to_path_buf(),
        source,
    })
}

/// Resolves the table's view: `schema.cql` beside the set, else `--schema`, else the header.
fn resolve_view(
    set: &SstableSet,
    opened: &OpenedSet,
    user_schema: Option<&Schema>,
) -> Result<TableView, Error> {
    let header = opened.statistics.header.as_ref().ok_or_else(|| {
        Error::Schema(format!(
            "{}: no serialization header (format {}): a schema is needed",
            opened.data_path.display(),
            opened.version
        ))
    })?;
    let beside = match &set.schema_cql {
        Some(p) => Some(read_schema(p)?),
        None => None,
    };
    for schema in [beside.as_ref(), user_schema].into_iter().flatten() {
        let table = set
            .table
            .as_deref()
            .and_then(|t| schema.table(set.keyspace.as_deref(), t))
            .or_else(|| schema.only_table());
        if let Some(t) = table {
            return Ok(TableView::from_schema(t, set.keyspace.as_deref()));
        }
    }
    if let Some(schema) = beside.as_ref().or(user_schema) {
        if !schema.tables.is_empty() {
            return Err(Error::Schema(format!(
                "the schema has no table {}.{} (it has: {})",
                set.keyspace.as_deref().unwrap_or("?"),
                set.table.as_deref().unwrap_or("?"),
                schema
                    .tables
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    let view = TableView::from_header(
        header,
        set.keyspace.as_deref().unwrap_or("?"),
        set.table.as_deref().unwrap_or("?"),
    );
    eprintln!(
        "note: no schema for {}.{}: column names come from the SSTable header; key and clustering columns are named key, key2.., column1..",
        view.keyspace, view.table
    );
    Ok(view)
}

/// The source of a set: all of Data.db, or a split's chunks.
fn set_source<'a>(
    o: &'a OpenedSet,
    range: Option<&ByteRange>,
) -> Result<crate::sstable::AnySource<'a>, Error> {
    match range {
        Some(r) => crate::plan::range_source(o, r),
        None => o.source(),
    }
}

fn dump_set(
    set: &SstableSet,
    range: Option<&ByteRange>,
    user_schema: Option<&Schema>,
    plan: &DumpPlan,
    out: &mut impl Write,
    stats: &mut DumpStats,
) -> Result<(), Error> {
    let opened = [OpenedSet::open(set)?];
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
            WriteError::Format(source) => Error::Format {
                path: opened
                    .first()
                    .map(|o| o.data_path.clone())
                    .unwrap_or_default(),
                source,
            },
            WriteError::Io(e) => Error::Stdout(e),
        })
}

/// The schema table of a 2.x set, which carries no column header. In order: the fixed
/// definition of the 2.x schema tables themselves; the table of that name in `schema.cql`
/// beside the set, then in `--schema`; the table as the backup's own 2.x `system` keyspace
/// defines it (`schema_columnfamilies`, `schema_columns`, `schema_usertypes` of the same node,
/// see [`sstable_format::legacy_schema`]); the only table of `schema.cql`, then of `--schema`.
/// A note on stderr says which source was used (once per table and source).
fn legacy_schema(
    set: &SstableSet,
    opened: &OpenedSet,
    user_schema: Option<&Schema>,
) -> Result<sstable_format::schema::TableSchema, Error> {
    use sstable_format::legacy_schema::{self as ls, SystemTable};
    use std::collections::{BTreeSet, HashMap};
    use std::path::PathBuf;
    use std::sync::{Arc, Mutex};

    type Rebuilt = Result<Arc<Schema>, String>;
    static NOTED: Mutex<BTreeSet<(String, String)>> = Mutex::new(BTreeSet::new());
    static REBUILT: Mutex<Option<HashMap<Vec<PathBuf>, Rebuilt>>> = Mutex::new(None);

    let name = format!(
        "{}.{}",
        set.keyspace.as_deref().unwrap_or("?"),
        set.table.as_deref().unwrap_or("?")
    );
    let found = |t: &sstable_format::schema::TableSchema, source: String| {
        let mut noted = NOTED.lock().unwrap_or_else(|e| e.into_inner());
        if noted.insert((name.clone(), source.clone())) {
            eprintln!(
                "note: schema of {name} (format {}) from {source}",
                opened.version
            );
        }
        Ok(t.clone())
    };

    // The 2.x schema tables: their definition is fixed.
    if set.keyspace.as_deref() == Some("system") {
        if let Some(t) = set.table.as_deref().and_then(SystemTable::from_name) {
            let schema = t.schema().map_err(|source| Error::Format {
                path: opened.data_path.clone(),
                source,
            })?;
            return found(
                &schema,
                "the built-in definition of the 2.x schema tables".into(),
            );
        }
    }
    let beside = match &set.schema_cql {
        Some(p) => Some(read_schema(p)?),
        None => None,
    };
    let exact = |schema: &Schema| {
        set.table
            .as_deref()
            .and_then(|t| schema.table(set.keyspace.as_deref(), t))
            .cloned()
    };
    if let (Some(t), Some(p)) = (beside.as_ref().and_then(exact), &set.schema_cql) {
        return found(&t, p.display().to_string());
    }
    if let Some(t) = user_schema.and_then(exact) {
        return found(&t, "--schema".into());
    }

    /// Reads and converts the schema tables of `sets`.
    fn rebuild(sets: &[SstableSet]) -> Result<Schema, Error> {
        let now = sstable_format::reconcile::Now(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0),
        );
        let mut rows = ls::SystemRows::default();
        for table in SystemTable::ALL {
            let mine: Vec<&SstableSet> = sets
                .iter()
                .filter(|s| s.table.as_deref() == Some(table.name()))
                .collect();
            let opened = mine
                .iter()
                .map(|s| OpenedSet::open(s))
                .collect::<Result<Vec<_>, _>>()?;
            let Some(first) = opened.first() else {
                continue;
            };
            let path = first.data_path.clone();
            let wrap = |source| Error::Format {
                path: path.clone(),
                source,
            };
            let schema = table.schema().map_err(wrap)?;
            let regulars: Vec<CqlType> = schema.regular_columns().map(|c| c.ty.clone()).collect();
            let mut sources: Vec<(Box<dyn PartitionReader + '_>, ColumnMap)> = Vec::new();
            for o in &opened {
                let layout = LegacyLayout::from_schema(&schema, o.version).map_err(wrap)?;
                sources.push((
                    Box::new(LegacyReader::new(o.source()?, layout)),
                    ColumnMap {
                        statics: Vec::new(),
                        regulars: (0..regulars.len() as u32).map(Some).collect(),
                    },
                ));
            }
            let mut merger = Merger::new(
                sources,
                first.partitioner()?,
                clustering_order_types(&schema),
                regulars,
            );
            ls::read_rows(table, &mut merger, now, &mut rows).map_err(wrap)?;
        }
        let rebuilt = ls::rebuild_schema(&rows);
        for (table, why) in &rebuilt.skipped {
            eprintln!("warning: the 2.x system tables define {table}, which cannot be used: {why}");
        }
        Ok(rebuilt.schema)
    }

    let sets = &set.system_schema_sets;
    let mut system_error = None;
    if !sets.is_empty() {
        let key: Vec<PathBuf> = sets
            .iter()
            .filter_map(|s| s.data_path().map(PathBuf::from))
            .collect();
        let rebuilt = {
            let mut cache = REBUILT.lock().unwrap_or_else(|e| e.into_inner());
            cache
                .get_or_insert_with(HashMap::new)
                .entry(key)
                .or_insert_with(|| rebuild(sets).map(Arc::new).map_err(|e| e.to_string()))
                .clone()
        };
        let dirs: BTreeSet<String> = sets
            .iter()
            .filter_map(|s| s.dir.parent().map(|p| p.display().to_string()))
            .collect();
        let source = format!(
            "the backup's 2.x system tables ({})",
            dirs.into_iter().collect::<Vec<_>>().join(", ")
        );
        match rebuilt {
            Ok(schema) => {
                if let Some(t) = exact(&schema) {
                    return found(&t, source);
                }
                system_error = Some(format!("{source} do not define {name}"));
            }
            Err(e) => system_error = Some(format!("{source} could not be read: {e}")),
        }
    }
    for (schema, source) in [
        (
            beside.as_ref(),
            set.schema_cql
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        ),
        (user_schema, "--schema".to_string()),
    ] {
        if let Some(t) = schema.and_then(Schema::only_table) {
            return found(t, source);
        }
    }
    Err(Error::Schema(format!(
        "{}: format {} (Cassandra 2.x) stores no column names or types; give the table's CREATE TABLE \
         (and CREATE TYPE) statements with --schema FILE, put the snapshot's schema.cql beside it, \
         or include the node's system keyspace (system/schema_columnfamilies-*, schema_columns-*, \
         schema_usertypes-*){}",
        opened.data_path.display(),
        opened.version,
        system_error.map(|e| format!(" ({e})")).unwrap_or_default()
    )))
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
