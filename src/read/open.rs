//! Opening a table for reading: which schema describes each SSTable set (`schema.cql` beside it,
//! `--schema`, the backup's 2.x `system` tables, or the 3.0+ serialization header), which
//! output columns the table has, and one `PartitionReader` over its sets — a set read directly,
//! or several (generations, replicas) merged — optionally restricted to a split's byte ranges.
//! Shared by `dump`, `export` and `inspect`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use sstable_format::data::{DataReader, PartitionReader};
use sstable_format::legacy::{LegacyLayout, LegacyReader};
use sstable_format::merge::{ColumnMap, Merger};
use sstable_format::partitioner::Partitioner;
use sstable_format::schema::Schema;
use sstable_format::split::ByteRange;
use sstable_format::CqlType;

use crate::config::NowPlan;
use crate::discover::opened::OpenedSet;
use crate::discover::SstableSet;
use crate::error::Error;
use crate::io::Io;
use crate::read::table_view::{SetMapping, TableView};
use crate::time::parse_instant;

/// The instant of `--now` for one table: as given, or its snapshot time (the manifest's
/// `created_at`, else the newest modification time of its SSTables' files, which a snapshot's
/// hard links keep from the flush: a lower bound of the snapshot time).
pub fn resolve_now(
    io: &Io,
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
                    .filter_map(|p| io.metadata(p)?.1)
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
pub fn group_view(
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

/// The live-row input of one table: its view, the mapping its cells decode with, and a reader
/// over its sets (one set read directly, several merged).
pub struct TableInput<'a> {
    /// Output columns.
    pub view: TableView,
    /// How the reader's columns map to the view's.
    pub mapping: SetMapping,
    /// The sets' partitioner.
    pub partitioner: Partitioner,
    /// The partitions.
    pub reader: TableReader<'a>,
    /// The Data.db path of every set (`opened` order).
    paths: Vec<PathBuf>,
    /// The index in `paths` of the set whose reader failed in a merge ([`NO_FAILURE`]: none).
    failed: Arc<AtomicUsize>,
}

impl std::fmt::Debug for TableInput<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableInput")
            .field("view", &self.view)
            .field("paths", &self.paths)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for TableReader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TableReader::Single(_) => "TableReader::Single",
            TableReader::Merged(_) => "TableReader::Merged",
        })
    }
}

/// No reader of the merge has failed.
const NO_FAILURE: usize = usize::MAX;

impl TableInput<'_> {
    /// The Data.db of the set a decoding error is about: in a merge, the set whose reader
    /// failed, else the first (for a single set, the only) one.
    pub fn failed_path(&self) -> PathBuf {
        let i = match self.failed.load(Ordering::Relaxed) {
            NO_FAILURE => 0,
            i => i,
        };
        self.paths.get(i).cloned().unwrap_or_default()
    }

    /// `source` (met while reading the table's rows) with the path of the set it is about.
    pub fn format_error(&self, source: sstable_format::Error) -> Error {
        Error::Format {
            path: self.failed_path(),
            source,
        }
    }

    /// The error of a run over the rows with the failing set's path added to decoding
    /// errors ([`Error::Decode`]).
    pub fn name_failed_set<T>(&self, result: Result<T, Error>) -> Result<T, Error> {
        result.map_err(|e| match e {
            Error::Decode(source) => self.format_error(source),
            other => other,
        })
    }
}

/// A reader of one set of a merge that records its index when it fails, so that the error
/// can name the set (the merge's error does not say which of its sources it came from).
struct Tagged<'a> {
    inner: Box<dyn PartitionReader + 'a>,
    index: usize,
    failed: Arc<AtomicUsize>,
}

impl PartitionReader for Tagged<'_> {
    fn next_partition(
        &mut self,
    ) -> sstable_format::Result<Option<sstable_format::data::PartitionHeader<'_>>> {
        let r = self.inner.next_partition();
        if r.is_err() {
            self.failed.store(self.index, Ordering::Relaxed);
        }
        r
    }

    fn next_unfiltered(
        &mut self,
    ) -> sstable_format::Result<Option<sstable_format::data::Unfiltered<'_>>> {
        let r = self.inner.next_unfiltered();
        if r.is_err() {
            self.failed.store(self.index, Ordering::Relaxed);
        }
        r
    }

    fn position(&self) -> sstable_format::DataOffset {
        self.inner.position()
    }

    fn progress(&self) -> u64 {
        self.inner.progress()
    }
}

/// A single set's reader, or the merge of several.
pub enum TableReader<'a> {
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
pub fn open_table<'a>(
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
                let mapping = view.map_header(o.version, header, &o.data_path)?;
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
            paths: vec![o.data_path.clone()],
            failed: Arc::new(AtomicUsize::new(NO_FAILURE)),
        });
    }
    let view = group_view(opened, sets, user_schema)?;
    let failed = Arc::new(AtomicUsize::new(NO_FAILURE));
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
                let mapping = view.map_header(o.version, header, &o.data_path)?;
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
        let reader = Box::new(Tagged {
            inner: reader,
            index: j,
            failed: Arc::clone(&failed),
        });
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
        paths: opened.iter().map(|o| o.data_path.clone()).collect(),
        failed,
    })
}

/// Clustering types in clustering order (DESC columns as `ReversedType`) from a schema table.
pub fn clustering_order_types(table: &sstable_format::schema::TableSchema) -> Vec<CqlType> {
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

pub fn read_schema(io: &Io, path: &Path) -> Result<Schema, Error> {
    let bytes = io.read_whole(path)?;
    let text = String::from_utf8(bytes).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
    })?;
    Schema::parse(&text).map_err(|source| Error::Format {
        path: path.to_path_buf(),
        source,
    })
}

/// Resolves the table's view: `schema.cql` beside the set, else `--schema`, else the header.
pub fn resolve_view(
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
        Some(p) => Some(read_schema(&opened.io, p)?),
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
pub fn set_source<'a>(
    o: &'a OpenedSet,
    range: Option<&ByteRange>,
) -> Result<crate::discover::opened::AnySource<'a>, Error> {
    match range {
        Some(r) => crate::plan::range_source(o, r),
        None => o.source(),
    }
}

/// The schema table of a 2.x set, which carries no column header. In order: the fixed
/// definition of the 2.x schema tables themselves; the table of that name in `schema.cql`
/// beside the set, then in `--schema`; the table as the backup's own 2.x `system` keyspace
/// defines it (`schema_columnfamilies`, `schema_columns`, `schema_usertypes` of the same node,
/// see [`sstable_format::legacy_schema`]); the only table of `schema.cql`, then of `--schema`.
/// A note on stderr says which source was used (once per table and source).
pub fn legacy_schema(
    set: &SstableSet,
    opened: &OpenedSet,
    user_schema: Option<&Schema>,
) -> Result<sstable_format::schema::TableSchema, Error> {
    use sstable_format::legacy_schema::{self as ls, SystemTable};
    use std::collections::{BTreeSet, HashMap};
    use std::sync::Mutex;

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
        Some(p) => Some(read_schema(&opened.io, p)?),
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
    fn rebuild(io: &Io, sets: &[SstableSet]) -> Result<Schema, Error> {
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
                .map(|s| OpenedSet::open(io, s))
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
                .or_insert_with(|| {
                    rebuild(&opened.io, sets)
                        .map(Arc::new)
                        .map_err(|e| e.to_string())
                })
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
    Err(Error::MissingSchema(format!(
        "{}: format {} (Cassandra 2.x) stores no column names or types; give the table's CREATE TABLE \
         (and CREATE TYPE) statements with --schema FILE, put the snapshot's schema.cql beside it, \
         or include the node's system keyspace (system/schema_columnfamilies-*, schema_columns-*, \
         schema_usertypes-*){}",
        opened.data_path.display(),
        opened.version,
        system_error.map(|e| format!(" ({e})")).unwrap_or_default()
    )))
}
