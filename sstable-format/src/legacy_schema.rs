//! The schema of Cassandra 2.1/2.2 tables rebuilt from the node's own `system` keyspace, so
//! that 2.x SSTables (which carry no column names or types) can be read from a backup that
//! also holds `system/schema_columnfamilies`, `system/schema_columns` and
//! `system/schema_usertypes`.
//!
//! Two steps, both pure (no files): [`read_rows`] turns the decoded rows of one of those tables
//! (any [`PartitionReader`] over them, e.g. a [`crate::legacy::LegacyReader`] laid out with
//! [`SystemTable::schema`], or a [`crate::merge::Merger`] of several) into typed records, after
//! deletions; [`rebuild_schema`] turns the records into [`TableSchema`]s and [`UdtDef`]s.
//!
//! Mirrors the fixed definitions of these tables in 2.1's `db/SystemKeyspace` and 2.2's
//! `schema/LegacySchemaTables` (their `CREATE TABLE`s are [`SCHEMA_COLUMNFAMILIES_CQL`] and the
//! like), and the conversion of 3.0's `schema/LegacySchemaMigrator` (`decodeTableMetadata`,
//! `calculateIsDense`, `createColumnFromColumnRow`, `deserializeKind`, `addDroppedColumns`,
//! `readTypeMetadata`), together with the defaults of 2.x's `config/CFMetaData.rebuild`
//! (`addDefaultKeyAliases`, `addDefaultColumnAliases`, `addDefaultValueAlias`: `key`, `key2`..,
//! `column1`.., `value`), which a 2.x node applies to tables created through Thrift:
//! * a table is *compound* when its comparator is a `CompositeType`, *dense* as `is_dense` says
//!   (or, when absent, as `calculateIsDense` infers from the column rows); a CQL table is
//!   compound and not dense, a dense table is COMPACT STORAGE with clustering columns, and a
//!   non-dense non-compound one is a static-compact ("thrift static") table;
//! * clustering columns are as many as the comparator has clustering components (all of them
//!   for a dense table, all but the column name, and the trailing `ColumnToCollectionType`, for
//!   a CQL table); a `ReversedType` validator (or comparator component) is a DESC column;
//! * the `compact_value` column of a dense table is its value column; one with an empty name
//!   means the table has none (CASSANDRA-9874); none at all gets `value` of the default
//!   validator;
//! * `dropped_columns` become [`DroppedColumn`]s (microseconds), typed when the comparator's
//!   `ColumnToCollectionType` still lists the dropped collection.
//!
//! Differences from 3.0 follow this crate's table model ([`crate::legacy::TableKind`]): a
//! static-compact table keeps its declared columns as regular columns (3.0 makes them static
//! and adds `column1`/`value` for the undeclared cells, which the legacy reader skips), and
//! super column families are refused. The column names of non-CQL tables are stored as the
//! comparator's string form; they are used as written, which is the cell name only for text
//! comparators (`UTF8Type`, `AsciiType`).

use std::collections::BTreeMap;

use crate::data::{CellKind, DeletionTime, PartitionReader, Unfiltered};
use crate::error::{Component, Error, Result};
use crate::reconcile::{effective_deletion, live_row, Now};
use crate::schema::{ClusteringOrder, ColumnDef, ColumnKind, DroppedColumn, Schema, TableSchema};
use crate::types::{CqlType, UdtDef};
use crate::value::{assemble_multi_cell, decode_value, Value};

/// `system.schema_columnfamilies` of Cassandra 2.1 (`SystemKeyspace.SchemaColumnFamiliesTable`)
/// and 2.2 (`LegacySchemaTables.Columnfamilies`), which define it identically.
pub const SCHEMA_COLUMNFAMILIES_CQL: &str = "CREATE TABLE system.schema_columnfamilies (\
    keyspace_name text, columnfamily_name text, bloom_filter_fp_chance double, caching text, \
    cf_id uuid, comment text, compaction_strategy_class text, compaction_strategy_options text, \
    comparator text, compression_parameters text, default_time_to_live int, \
    default_validator text, dropped_columns map<text, bigint>, gc_grace_seconds int, \
    is_dense boolean, key_validator text, local_read_repair_chance double, \
    max_compaction_threshold int, max_index_interval int, memtable_flush_period_in_ms int, \
    min_compaction_threshold int, min_index_interval int, read_repair_chance double, \
    speculative_retry text, subcomparator text, type text, \
    PRIMARY KEY ((keyspace_name), columnfamily_name))";

/// `system.schema_columns` of Cassandra 2.1/2.2.
pub const SCHEMA_COLUMNS_CQL: &str = "CREATE TABLE system.schema_columns (\
    keyspace_name text, columnfamily_name text, column_name text, component_index int, \
    index_name text, index_options text, index_type text, type text, validator text, \
    PRIMARY KEY ((keyspace_name), columnfamily_name, column_name))";

/// `system.schema_usertypes` of Cassandra 2.1/2.2.
pub const SCHEMA_USERTYPES_CQL: &str = "CREATE TABLE system.schema_usertypes (\
    keyspace_name text, type_name text, field_names list<text>, field_types list<text>, \
    PRIMARY KEY ((keyspace_name), type_name))";

/// One of the 2.x schema tables this module reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SystemTable {
    /// `system.schema_columnfamilies`: one row per table.
    ColumnFamilies,
    /// `system.schema_columns`: one row per column.
    Columns,
    /// `system.schema_usertypes`: one row per user-defined type.
    UserTypes,
}

impl SystemTable {
    /// The three tables.
    pub const ALL: [SystemTable; 3] = [
        SystemTable::ColumnFamilies,
        SystemTable::Columns,
        SystemTable::UserTypes,
    ];

    /// The table's name in the `system` keyspace.
    pub fn name(self) -> &'static str {
        match self {
            SystemTable::ColumnFamilies => "schema_columnfamilies",
            SystemTable::Columns => "schema_columns",
            SystemTable::UserTypes => "schema_usertypes",
        }
    }

    /// The table called `name` (in the `system` keyspace), if it is one of these.
    pub fn from_name(name: &str) -> Option<SystemTable> {
        SystemTable::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The table's fixed CQL definition.
    pub fn cql(self) -> &'static str {
        match self {
            SystemTable::ColumnFamilies => SCHEMA_COLUMNFAMILIES_CQL,
            SystemTable::Columns => SCHEMA_COLUMNS_CQL,
            SystemTable::UserTypes => SCHEMA_USERTYPES_CQL,
        }
    }

    /// The table's schema, parsed from [`SystemTable::cql`].
    pub fn schema(self) -> Result<TableSchema> {
        Schema::parse(self.cql())?
            .tables
            .into_iter()
            .next()
            .ok_or_else(|| Error::invalid(Component::Schema, 0, "no table in the definition"))
    }
}

/// A live row of `system.schema_columnfamilies` (the fields the conversion uses).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnFamilyRow {
    /// `keyspace_name` (the partition key).
    pub keyspace_name: String,
    /// `columnfamily_name` (the clustering key).
    pub columnfamily_name: String,
    /// `cf_id`.
    pub cf_id: Option<[u8; 16]>,
    /// `type`: `Standard` or `Super`.
    pub cf_type: Option<String>,
    /// `comparator`: the marshal type of cell names.
    pub comparator: Option<String>,
    /// `subcomparator` (super column families).
    pub subcomparator: Option<String>,
    /// `key_validator`: the marshal type of partition keys.
    pub key_validator: Option<String>,
    /// `default_validator`: the marshal type of values without a column definition.
    pub default_validator: Option<String>,
    /// `is_dense` (absent for tables created through Thrift and not altered since 2.0).
    pub is_dense: Option<bool>,
    /// `gc_grace_seconds`.
    pub gc_grace_seconds: Option<i32>,
    /// `dropped_columns`: name → drop time in microseconds.
    pub dropped_columns: Vec<(String, i64)>,
}

/// A live row of `system.schema_columns`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnRow {
    /// `keyspace_name`.
    pub keyspace_name: String,
    /// `columnfamily_name`.
    pub columnfamily_name: String,
    /// `column_name` (the comparator's string form for non-CQL tables).
    pub column_name: String,
    /// `component_index`: position in the key or comparator.
    pub component_index: Option<i32>,
    /// `type`: `partition_key`, `clustering_key`, `regular`, `static` or `compact_value`.
    pub kind: Option<String>,
    /// `validator`: the column's marshal type.
    pub validator: Option<String>,
}

/// A live row of `system.schema_usertypes`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserTypeRow {
    /// `keyspace_name`.
    pub keyspace_name: String,
    /// `type_name`.
    pub type_name: String,
    /// `field_names`.
    pub field_names: Vec<String>,
    /// `field_types` (marshal types).
    pub field_types: Vec<String>,
}

/// The live rows read from the three schema tables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemRows {
    /// Rows of `schema_columnfamilies`.
    pub columnfamilies: Vec<ColumnFamilyRow>,
    /// Rows of `schema_columns`.
    pub columns: Vec<ColumnRow>,
    /// Rows of `schema_usertypes`.
    pub usertypes: Vec<UserTypeRow>,
}

/// A cell's path (empty for simple cells) and value.
type PathAndValue<'a> = (&'a [u8], &'a [u8]);

fn schema_err(message: impl Into<String>) -> Error {
    Error::invalid(Component::Schema, 0, message)
}

fn text_of(v: &Value<'_>) -> Option<String> {
    match v {
        Value::Text(s) | Value::Ascii(s) => Some((*s).to_string()),
        _ => None,
    }
}

/// Reads the live rows of `table` from `reader` (whose cells index the regular columns of
/// [`SystemTable::schema`]) into `out`, applying partition, range, row and cell deletions and
/// TTLs at `now`, as a `SELECT *` on the node would.
pub fn read_rows(
    table: SystemTable,
    reader: &mut dyn PartitionReader,
    now: Now,
    out: &mut SystemRows,
) -> Result<()> {
    let schema = table.schema()?;
    let columns: Vec<ColumnDef> = schema.regular_columns().cloned().collect();
    while let Some(p) = reader.next_partition()? {
        let offset = p.offset.0;
        let keyspace = String::from_utf8(p.key.to_vec()).map_err(|_| {
            Error::invalid(
                Component::Data,
                offset,
                format!("system.{}: partition key is not UTF-8", table.name()),
            )
        })?;
        let partition_deletion = p.deletion;
        let mut open_range: Option<DeletionTime> = None;
        while let Some(u) = reader.next_unfiltered()? {
            let row = match u {
                Unfiltered::Marker(m) => {
                    if m.kind.is_close() {
                        open_range = None;
                    }
                    if let Some(o) = m.open {
                        open_range = Some(o);
                    }
                    continue;
                }
                Unfiltered::Row(row) => row,
            };
            if row.is_static {
                continue;
            }
            let d = effective_deletion(partition_deletion, open_range, &row);
            let live = live_row(&row, d, now);
            if !live.is_live() {
                continue;
            }
            let offset = row.offset.0;
            let mut clustering = Vec::with_capacity(row.clustering.len());
            for c in &row.clustering {
                let s = c
                    .map(|b| String::from_utf8(b.to_vec()))
                    .transpose()
                    .map_err(|_| {
                        Error::invalid(
                            Component::Data,
                            offset,
                            format!("system.{}: clustering value is not UTF-8", table.name()),
                        )
                    })?
                    .unwrap_or_default();
                clustering.push(s);
            }
            // The live cells of each column, in storage order.
            let mut by_column: BTreeMap<u32, Vec<PathAndValue<'_>>> = BTreeMap::new();
            for c in &live.cells {
                if matches!(c.kind, CellKind::Tombstone { .. }) {
                    continue;
                }
                by_column
                    .entry(c.column)
                    .or_default()
                    .push((c.path.unwrap_or(&[]), c.value));
            }
            let mut values: BTreeMap<&str, Value<'_>> = BTreeMap::new();
            for (col, cells) in &by_column {
                let Some(def) = columns.get(*col as usize) else {
                    continue;
                };
                let value = match &def.ty {
                    CqlType::List { frozen: false, .. } | CqlType::Map { frozen: false, .. } => {
                        assemble_multi_cell(&def.ty, cells.iter().copied())
                    }
                    ty => match cells.last() {
                        Some((_, v)) => decode_value(ty, v),
                        None => Ok(Value::Null),
                    },
                }
                .map_err(|e| {
                    Error::invalid(
                        Component::Data,
                        offset,
                        format!("system.{} column {}: {e}", table.name(), def.name),
                    )
                })?;
                values.insert(def.name.as_str(), value);
            }
            let text = |name: &str| values.get(name).and_then(text_of);
            let int = |name: &str| match values.get(name) {
                Some(Value::Int(i)) => Some(*i),
                _ => None,
            };
            let texts = |name: &str| match values.get(name) {
                Some(Value::List(l)) => l.iter().filter_map(text_of).collect(),
                _ => Vec::new(),
            };
            let ck = |i: usize| clustering.get(i).cloned().unwrap_or_default();
            match table {
                SystemTable::ColumnFamilies => out.columnfamilies.push(ColumnFamilyRow {
                    keyspace_name: keyspace.clone(),
                    columnfamily_name: ck(0),
                    cf_id: match values.get("cf_id") {
                        Some(Value::Uuid(u)) => Some(*u),
                        _ => None,
                    },
                    cf_type: text("type"),
                    comparator: text("comparator"),
                    subcomparator: text("subcomparator"),
                    key_validator: text("key_validator"),
                    default_validator: text("default_validator"),
                    is_dense: match values.get("is_dense") {
                        Some(Value::Boolean(b)) => Some(*b),
                        _ => None,
                    },
                    gc_grace_seconds: int("gc_grace_seconds"),
                    dropped_columns: match values.get("dropped_columns") {
                        Some(Value::Map(m)) => m
                            .iter()
                            .filter_map(|(k, v)| match (text_of(k), v) {
                                (Some(k), Value::BigInt(t)) => Some((k, *t)),
                                _ => None,
                            })
                            .collect(),
                        _ => Vec::new(),
                    },
                }),
                SystemTable::Columns => out.columns.push(ColumnRow {
                    keyspace_name: keyspace.clone(),
                    columnfamily_name: ck(0),
                    column_name: ck(1),
                    component_index: int("component_index"),
                    kind: text("type"),
                    validator: text("validator"),
                }),
                SystemTable::UserTypes => out.usertypes.push(UserTypeRow {
                    keyspace_name: keyspace.clone(),
                    type_name: ck(0),
                    field_names: texts("field_names"),
                    field_types: texts("field_types"),
                }),
            }
        }
    }
    Ok(())
}

/// The schema rebuilt from the rows, and the tables that could not be converted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RebuiltSchema {
    /// User types and tables (every keyspace, `system` included), ordered by keyspace and name.
    pub schema: Schema,
    /// `(keyspace.table, why)` for each table left out.
    pub skipped: Vec<(String, String)>,
}

/// Rebuilds the tables and user types described by `rows` (see the module documentation).
pub fn rebuild_schema(rows: &SystemRows) -> RebuiltSchema {
    let mut out = RebuiltSchema::default();
    let mut types: Vec<&UserTypeRow> = rows.usertypes.iter().collect();
    types.sort_by(|a, b| (&a.keyspace_name, &a.type_name).cmp(&(&b.keyspace_name, &b.type_name)));
    for t in types {
        match rebuild_type(t) {
            Ok(u) => out.schema.types.push(u),
            Err(e) => out.skipped.push((
                format!("{}.{}", t.keyspace_name, t.type_name),
                e.to_string(),
            )),
        }
    }
    let mut columns: BTreeMap<(&str, &str), Vec<&ColumnRow>> = BTreeMap::new();
    for c in &rows.columns {
        columns
            .entry((c.keyspace_name.as_str(), c.columnfamily_name.as_str()))
            .or_default()
            .push(c);
    }
    let mut tables: Vec<&ColumnFamilyRow> = rows.columnfamilies.iter().collect();
    tables.sort_by(|a, b| {
        (&a.keyspace_name, &a.columnfamily_name).cmp(&(&b.keyspace_name, &b.columnfamily_name))
    });
    for t in tables {
        let cols = columns
            .get(&(t.keyspace_name.as_str(), t.columnfamily_name.as_str()))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        match rebuild_table(t, cols) {
            Ok(table) => out.schema.tables.push(table),
            Err(e) => out.skipped.push((
                format!("{}.{}", t.keyspace_name, t.columnfamily_name),
                e.to_string(),
            )),
        }
    }
    out
}

fn parse_type(what: &str, s: &str) -> Result<CqlType> {
    CqlType::parse_type_string(s).map_err(|e| schema_err(format!("{what} {s:?}: {e}")))
}

/// A 2.x column type: UDTs are always frozen there (non-frozen UDTs came with 3.6).
fn column_type(t: CqlType) -> CqlType {
    match t {
        CqlType::Udt(_) => t.frozen(),
        t => t,
    }
}

fn rebuild_type(row: &UserTypeRow) -> Result<UdtDef> {
    if row.field_names.len() != row.field_types.len() {
        return Err(schema_err(format!(
            "{} field names but {} field types",
            row.field_names.len(),
            row.field_types.len()
        )));
    }
    let fields = row
        .field_names
        .iter()
        .zip(&row.field_types)
        .map(|(n, t)| Ok((n.clone(), parse_type("field type", t)?.frozen())))
        .collect::<Result<Vec<_>>>()?;
    Ok(UdtDef {
        keyspace: row.keyspace_name.clone(),
        name: row.type_name.clone(),
        fields,
        frozen: true,
    })
}

/// The kinds of `schema_columns.type` (`LegacySchemaMigrator.deserializeKind`, with
/// `compact_value` kept apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LegacyKind {
    PartitionKey,
    Clustering,
    Regular,
    Static,
    CompactValue,
}

fn legacy_kind(s: Option<&str>) -> Result<LegacyKind> {
    // A row without `type` is a regular column (2.0 `ColumnDefinition.fromSchema`).
    let s = s.unwrap_or("regular").to_ascii_lowercase();
    Ok(match s.as_str() {
        "partition_key" => LegacyKind::PartitionKey,
        "clustering_key" => LegacyKind::Clustering,
        "regular" => LegacyKind::Regular,
        "static" => LegacyKind::Static,
        "compact_value" => LegacyKind::CompactValue,
        other => return Err(schema_err(format!("unknown column type {other:?}"))),
    })
}

/// The `(hex name → type)` pairs of a `ColumnToCollectionType(...)` comparator component.
fn collection_types(t: &CqlType) -> Option<Vec<(String, CqlType)>> {
    let CqlType::Custom(s) = t else {
        return None;
    };
    let s = s
        .strip_prefix("org.apache.cassandra.db.marshal.")
        .unwrap_or(s);
    let inner = s
        .strip_prefix("ColumnToCollectionType(")?
        .strip_suffix(')')?;
    let mut out = Vec::new();
    for part in split_top_level(inner) {
        let (hex, ty) = part.split_once(':')?;
        let name = decode_hex(hex.trim())?;
        out.push((name, CqlType::parse_type_string(ty.trim()).ok()?));
    }
    Some(out)
}

fn split_top_level(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(s.get(start..i).unwrap_or(""));
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(s.get(start..).unwrap_or(""));
    out.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

fn decode_hex(hex: &str) -> Option<String> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}

fn format_uuid(u: &[u8; 16]) -> String {
    let hex: String = u.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        hex.get(0..8).unwrap_or(""),
        hex.get(8..12).unwrap_or(""),
        hex.get(12..16).unwrap_or(""),
        hex.get(16..20).unwrap_or(""),
        hex.get(20..32).unwrap_or("")
    )
}

/// A column definition with its order: `ReversedType` becomes [`ClusteringOrder::Desc`].
fn def(name: &str, ty: CqlType, kind: ColumnKind) -> ColumnDef {
    let (ty, order) = match ty {
        CqlType::Reversed(inner) if kind == ColumnKind::Clustering => {
            (*inner, ClusteringOrder::Desc)
        }
        CqlType::Reversed(inner) => (*inner, ClusteringOrder::Asc),
        t => (t, ClusteringOrder::Asc),
    };
    ColumnDef {
        name: name.to_string(),
        ty: column_type(ty),
        kind,
        clustering_order: order,
    }
}

fn rebuild_table(t: &ColumnFamilyRow, rows: &[&ColumnRow]) -> Result<TableSchema> {
    let field = |name: &str, v: &Option<String>| {
        v.clone()
            .ok_or_else(|| schema_err(format!("no {name} in schema_columnfamilies")))
    };
    if t.cf_type
        .as_deref()
        .is_some_and(|s| s.eq_ignore_ascii_case("super"))
    {
        return Err(schema_err("super column families are not supported"));
    }
    let comparator = parse_type("comparator", &field("comparator", &t.comparator)?)?;
    let key_validator = parse_type("key_validator", &field("key_validator", &t.key_validator)?)?;
    let default_validator = match &t.default_validator {
        Some(s) => parse_type("default_validator", s)?,
        None => CqlType::Blob,
    };
    let mut cols = Vec::with_capacity(rows.len());
    for r in rows {
        let kind = legacy_kind(r.kind.as_deref())
            .map_err(|e| schema_err(format!("column {}: {e}", r.column_name)))?;
        let validator = match &r.validator {
            Some(v) => parse_type(&format!("column {} validator", r.column_name), v)?,
            None => CqlType::Blob,
        };
        cols.push((*r, kind, validator));
    }
    let components: Vec<CqlType> = match &comparator {
        CqlType::Composite(c) => c.clone(),
        other => vec![other.clone()],
    };
    let compound = matches!(comparator, CqlType::Composite(_));
    // `LegacySchemaMigrator.calculateIsDense`.
    let is_dense = t.is_dense.unwrap_or_else(|| {
        let max_clustering = cols
            .iter()
            .filter(|(_, k, _)| *k == LegacyKind::Clustering)
            .map(|(r, _, _)| r.component_index.unwrap_or(0))
            .max();
        match max_clustering {
            Some(m) => m as usize + 1 == components.len(),
            None => {
                let has_regular = cols.iter().any(|(_, k, _)| *k == LegacyKind::Regular);
                let cql3_only_pk = matches!(components.as_slice(), [CqlType::Text]) && compound;
                !has_regular && !cql3_only_pk
            }
        }
    });
    let cql_table = compound && !is_dense;
    let collections = components.last().and_then(collection_types);
    // `CompoundSparseCellNameType.clusteringPrefixSize` and friends.
    let clustering_len = if is_dense {
        components.len()
    } else if compound {
        components
            .len()
            .saturating_sub(1 + usize::from(collections.is_some()))
    } else {
        0
    };
    let key_components: Vec<CqlType> = match &key_validator {
        CqlType::Composite(c) => c.clone(),
        other => vec![other.clone()],
    };

    let mut partition_key: Vec<Option<ColumnDef>> = vec![None; key_components.len()];
    let mut clustering: Vec<Option<ColumnDef>> = vec![None; clustering_len];
    let mut statics = Vec::new();
    let mut regulars = Vec::new();
    let mut value: Option<Option<ColumnDef>> = None;
    for (r, kind, validator) in cols {
        let index = r.component_index.unwrap_or(0);
        let slot = |len: usize, what: &str| {
            usize::try_from(index)
                .ok()
                .filter(|i| *i < len)
                .ok_or_else(|| {
                    schema_err(format!(
                        "{what} column {} has component_index {index}, but there are {len}",
                        r.column_name
                    ))
                })
        };
        match kind {
            LegacyKind::PartitionKey => {
                let i = slot(partition_key.len(), "partition key")?;
                if let Some(s) = partition_key.get_mut(i) {
                    *s = Some(def(&r.column_name, validator, ColumnKind::PartitionKey));
                }
            }
            LegacyKind::Clustering => {
                let i = slot(clustering.len(), "clustering")?;
                // The comparator says DESC even where the validator does not.
                let reversed = matches!(components.get(i), Some(CqlType::Reversed(_)));
                let ty = match validator {
                    CqlType::Reversed(_) => validator,
                    v if reversed => CqlType::Reversed(Box::new(v)),
                    v => v,
                };
                if let Some(s) = clustering.get_mut(i) {
                    *s = Some(def(&r.column_name, ty, ColumnKind::Clustering));
                }
            }
            LegacyKind::Static if cql_table => {
                statics.push(def(&r.column_name, validator, ColumnKind::Static))
            }
            // A static-compact table upgraded by 3.0 had its columns made static.
            LegacyKind::Regular | LegacyKind::Static if !is_dense => {
                regulars.push(def(&r.column_name, validator, ColumnKind::Regular))
            }
            LegacyKind::CompactValue | LegacyKind::Regular if is_dense => {
                if value.is_some() {
                    return Err(schema_err(format!(
                        "dense table with more than one value column ({})",
                        r.column_name
                    )));
                }
                value = Some(
                    (!r.column_name.is_empty())
                        .then(|| def(&r.column_name, validator, ColumnKind::Regular)),
                );
            }
            _ => {
                return Err(schema_err(format!(
                    "column {} of kind {:?} in a {} table",
                    r.column_name,
                    kind,
                    if is_dense { "dense" } else { "non-dense" }
                )))
            }
        }
    }
    // `CFMetaData.rebuild`: default names for what the rows do not define.
    let partition_key: Vec<ColumnDef> = partition_key
        .into_iter()
        .zip(&key_components)
        .enumerate()
        .map(|(i, (c, ty))| {
            c.unwrap_or_else(|| {
                let name = if i == 0 {
                    "key".to_string()
                } else {
                    format!("key{}", i + 1)
                };
                def(&name, ty.clone(), ColumnKind::PartitionKey)
            })
        })
        .collect();
    let clustering: Vec<ColumnDef> = clustering
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            c.unwrap_or_else(|| {
                let ty = if compound {
                    components.get(i).cloned().unwrap_or(CqlType::Blob)
                } else {
                    comparator.clone()
                };
                def(&format!("column{}", i + 1), ty, ColumnKind::Clustering)
            })
        })
        .collect();
    if is_dense {
        match value {
            Some(Some(v)) => regulars.push(v),
            Some(None) => {}
            None => regulars.push(def("value", default_validator, ColumnKind::Regular)),
        }
    }
    // 2.x orders regular and static columns by name (`CFMetaData.regularColumnComparator`).
    statics.sort_by(|a, b| a.name.cmp(&b.name));
    regulars.sort_by(|a, b| a.name.cmp(&b.name));
    let mut columns = partition_key.clone();
    columns.extend(clustering.iter().cloned());
    columns.extend(statics);
    columns.extend(regulars);
    let mut dropped: Vec<DroppedColumn> = t
        .dropped_columns
        .iter()
        .map(|(name, micros)| DroppedColumn {
            name: name.clone(),
            ty: collections
                .as_ref()
                .and_then(|c| c.iter().find(|(n, _)| n == name))
                .map(|(_, ty)| ty.clone()),
            dropped_at_micros: *micros,
        })
        .collect();
    dropped.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(TableSchema {
        keyspace: Some(t.keyspace_name.clone()),
        name: t.columnfamily_name.clone(),
        columns,
        partition_key,
        clustering,
        compact_storage: !cql_table,
        gc_grace_seconds: t.gc_grace_seconds.map(i64::from),
        dropped,
        id: t.cf_id.as_ref().map(format_uuid),
    })
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
    use crate::legacy::{LegacyLayout, LegacyReader};
    use crate::offsets::DataOffset;
    use crate::source::SliceSource;
    use crate::version::Version;

    /// The cells of one 2.x schema table, by partition key then cell-name components.
    #[derive(Default)]
    struct Enc {
        parts: BTreeMap<String, Vec<Vec<u8>>>,
    }

    fn composite(parts: &[&[u8]], last_eoc: u8) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, p) in parts.iter().enumerate() {
            out.extend_from_slice(&(p.len() as u16).to_be_bytes());
            out.extend_from_slice(p);
            out.push(if i + 1 == parts.len() { last_eoc } else { 0 });
        }
        out
    }

    fn short(out: &mut Vec<u8>, b: &[u8]) {
        out.extend_from_slice(&(b.len() as u16).to_be_bytes());
        out.extend_from_slice(b);
    }

    impl Enc {
        /// A live cell `clustering.., column[, path]` = `value` (a row marker for column "").
        fn cell(&mut self, ks: &str, ck: &[&str], column: &str, path: Option<&[u8]>, v: &[u8]) {
            let mut parts: Vec<&[u8]> = ck.iter().map(|s| s.as_bytes()).collect();
            parts.push(column.as_bytes());
            parts.extend(path);
            let mut out = Vec::new();
            short(&mut out, &composite(&parts, 0));
            out.push(0);
            out.extend_from_slice(&1000i64.to_be_bytes());
            out.extend_from_slice(&(v.len() as i32).to_be_bytes());
            out.extend_from_slice(v);
            self.parts.entry(ks.to_string()).or_default().push(out);
        }

        fn row(&mut self, ks: &str, ck: &[&str], cells: &[(&str, Option<&str>)]) {
            self.cell(ks, ck, "", None, &[]);
            for (c, v) in cells {
                if let Some(v) = v {
                    self.cell(ks, ck, c, None, v.as_bytes());
                }
            }
        }

        /// A range tombstone over the row `ck` at timestamp 2000.
        fn delete_row(&mut self, ks: &str, ck: &[&str]) {
            let parts: Vec<&[u8]> = ck.iter().map(|s| s.as_bytes()).collect();
            let mut out = Vec::new();
            short(&mut out, &composite(&parts, 0xff));
            out.push(0x10);
            short(&mut out, &composite(&parts, 0x01));
            out.extend_from_slice(&100i32.to_be_bytes());
            out.extend_from_slice(&2000i64.to_be_bytes());
            self.parts.entry(ks.to_string()).or_default().push(out);
        }

        fn data(&self) -> Vec<u8> {
            let mut out = Vec::new();
            for (k, atoms) in &self.parts {
                short(&mut out, k.as_bytes());
                out.extend_from_slice(&i32::MAX.to_be_bytes());
                out.extend_from_slice(&i64::MIN.to_be_bytes());
                for a in atoms {
                    out.extend_from_slice(a);
                }
                out.extend_from_slice(&[0, 0]);
            }
            out
        }
    }

    #[derive(Default)]
    struct System {
        cf: Enc,
        cols: Enc,
        types: Enc,
    }

    impl System {
        #[allow(
            clippy::too_many_arguments,
            reason = "a test helper mirroring the columns of schema_columnfamilies"
        )]
        fn table(
            &mut self,
            ks: &str,
            cf: &str,
            comparator: &str,
            key_validator: &str,
            default_validator: &str,
            is_dense: Option<bool>,
            dropped: &[(&str, i64)],
        ) {
            let dense = is_dense.map(|d| if d { "\u{1}" } else { "\u{0}" });
            self.cf.row(
                ks,
                &[cf],
                &[
                    ("cf_id", None),
                    ("comparator", Some(comparator)),
                    ("default_validator", Some(default_validator)),
                    ("key_validator", Some(key_validator)),
                    ("type", Some("Standard")),
                ],
            );
            for (name, t) in dropped {
                self.cf.cell(
                    ks,
                    &[cf],
                    "dropped_columns",
                    Some(name.as_bytes()),
                    &t.to_be_bytes(),
                );
            }
            if let Some(d) = dense {
                self.cf.cell(ks, &[cf], "is_dense", None, d.as_bytes());
            }
            self.cf.cell(
                ks,
                &[cf],
                "gc_grace_seconds",
                None,
                &864000i32.to_be_bytes(),
            );
        }

        fn column(
            &mut self,
            ks: &str,
            cf: &str,
            name: &str,
            idx: Option<i32>,
            kind: &str,
            v: &str,
        ) {
            self.cols.cell(ks, &[cf, name], "", None, &[]);
            if let Some(i) = idx {
                self.cols
                    .cell(ks, &[cf, name], "component_index", None, &i.to_be_bytes());
            }
            self.cols.row(
                ks,
                &[cf, name],
                &[("type", Some(kind)), ("validator", Some(v))],
            );
        }

        fn udt(&mut self, ks: &str, name: &str, fields: &[(&str, &str)]) {
            self.types.cell(ks, &[name], "", None, &[]);
            for (i, (f, t)) in fields.iter().enumerate() {
                let mut path = [0u8; 16];
                path[3] = i as u8;
                path[6] = 0x10;
                self.types
                    .cell(ks, &[name], "field_names", Some(&path), f.as_bytes());
                self.types
                    .cell(ks, &[name], "field_types", Some(&path), t.as_bytes());
            }
        }

        fn rebuild(&self) -> RebuiltSchema {
            let mut rows = SystemRows::default();
            for (t, enc) in [
                (SystemTable::ColumnFamilies, &self.cf),
                (SystemTable::Columns, &self.cols),
                (SystemTable::UserTypes, &self.types),
            ] {
                let data = enc.data();
                let layout = LegacyLayout::from_schema(&t.schema().unwrap(), Version::Ka).unwrap();
                let mut r = LegacyReader::new(SliceSource::new(&data, DataOffset(0), 7), layout);
                read_rows(t, &mut r, Now(0), &mut rows).unwrap();
            }
            rebuild_schema(&rows)
        }
    }

    /// `table` with its columns in a canonical order, for comparisons with parsed CQL.
    fn canonical(mut t: TableSchema) -> TableSchema {
        let key = |c: &ColumnDef| match c.kind {
            ColumnKind::PartitionKey => 0,
            ColumnKind::Clustering => 1,
            ColumnKind::Static => 2,
            ColumnKind::Regular => 3,
        };
        // Stable: key columns keep their key order.
        t.columns.sort_by(|a, b| {
            key(a).cmp(&key(b)).then_with(|| {
                if key(a) >= 2 {
                    a.name.cmp(&b.name)
                } else {
                    std::cmp::Ordering::Equal
                }
            })
        });
        t.dropped.sort_by(|a, b| a.name.cmp(&b.name));
        t
    }

    fn expect(rebuilt: &RebuiltSchema, cql: &str) {
        let parsed = Schema::parse(cql).unwrap();
        for want in parsed.tables {
            let got = rebuilt
                .schema
                .table(want.keyspace.as_deref(), &want.name)
                .unwrap_or_else(|| panic!("no table {}: {:?}", want.name, rebuilt.skipped));
            let mut got = got.clone();
            got.id = None;
            got.gc_grace_seconds = None;
            // `ALTER TABLE .. DROP` does not say the type; checked separately.
            for d in &mut got.dropped {
                d.ty = None;
            }
            assert_eq!(canonical(got), canonical(want));
        }
    }

    const ADDR: &str = "org.apache.cassandra.db.marshal.UserType(ks,61646472,\
        737472656574:org.apache.cassandra.db.marshal.UTF8Type,7a6970:org.apache.cassandra.db.marshal.Int32Type)";

    #[test]
    fn sparse_cql_table_with_collections_static_udt_and_dropped_columns() {
        let mut s = System::default();
        s.table(
            "ks",
            "t",
            "org.apache.cassandra.db.marshal.CompositeType(org.apache.cassandra.db.marshal.Int32Type,\
             org.apache.cassandra.db.marshal.UTF8Type,org.apache.cassandra.db.marshal.ColumnToCollectionType(\
             6c:org.apache.cassandra.db.marshal.ListType(org.apache.cassandra.db.marshal.Int32Type),\
             6d:org.apache.cassandra.db.marshal.MapType(org.apache.cassandra.db.marshal.UTF8Type,org.apache.cassandra.db.marshal.Int32Type),\
             6f6c64:org.apache.cassandra.db.marshal.SetType(org.apache.cassandra.db.marshal.UTF8Type)))",
            "org.apache.cassandra.db.marshal.Int32Type",
            "org.apache.cassandra.db.marshal.BytesType",
            Some(false),
            &[("old", 1_500_000_000_000_000), ("x", 1_400_000_000_000_000)],
        );
        let m = "org.apache.cassandra.db.marshal.";
        s.column("ks", "t", "a", Some(1), "regular", ADDR);
        s.column(
            "ks",
            "t",
            "ck",
            Some(0),
            "clustering_key",
            &format!("{m}Int32Type"),
        );
        s.column(
            "ks",
            "t",
            "l",
            Some(1),
            "regular",
            &format!("{m}ListType({m}Int32Type)"),
        );
        s.column(
            "ks",
            "t",
            "m",
            Some(1),
            "regular",
            &format!("{m}MapType({m}UTF8Type,{m}Int32Type)"),
        );
        s.column(
            "ks",
            "t",
            "pk",
            None,
            "partition_key",
            &format!("{m}Int32Type"),
        );
        s.column("ks", "t", "s", Some(1), "static", &format!("{m}Int32Type"));
        s.column("ks", "t", "v", Some(1), "regular", &format!("{m}UTF8Type"));
        s.udt(
            "ks",
            "addr",
            &[
                ("street", "org.apache.cassandra.db.marshal.UTF8Type"),
                ("zip", "org.apache.cassandra.db.marshal.Int32Type"),
            ],
        );
        let r = s.rebuild();
        assert!(r.skipped.is_empty(), "{:?}", r.skipped);
        expect(
            &r,
            "CREATE TYPE ks.addr (street text, zip int);
             CREATE TABLE ks.t (pk int, ck int, s int static, v text, l list<int>, \
             m map<text, int>, a frozen<addr>, PRIMARY KEY (pk, ck));
             ALTER TABLE ks.t DROP old USING TIMESTAMP 1500000000000000;
             ALTER TABLE ks.t DROP x USING TIMESTAMP 1400000000000000;",
        );
        let t = r.schema.table(Some("ks"), "t").unwrap();
        // The dropped collection keeps its type from ColumnToCollectionType.
        assert_eq!(
            t.dropped_column("old").unwrap().ty,
            Some(CqlType::Set {
                element: Box::new(CqlType::Text),
                frozen: false
            })
        );
        assert_eq!(t.dropped_column("x").unwrap().ty, None);
        assert_eq!(t.gc_grace_seconds, Some(864000));
        assert_eq!(r.schema.types.len(), 1);
        assert_eq!(r.schema.types[0].name, "addr");
        assert_eq!(r.schema.types[0].fields.len(), 2);
        let layout = LegacyLayout::from_schema(t, Version::Ka).unwrap();
        assert_eq!(layout.kind(), crate::legacy::TableKind::Sparse);
    }

    #[test]
    fn dense_compact_storage_tables() {
        let m = "org.apache.cassandra.db.marshal.";
        let mut s = System::default();
        // CQL-created: every column has a row.
        s.table(
            "ks",
            "d",
            &format!("{m}CompositeType({m}Int32Type,{m}TimestampType)"),
            &format!("{m}UTF8Type"),
            &format!("{m}BytesType"),
            Some(true),
            &[],
        );
        s.column(
            "ks",
            "d",
            "c1",
            Some(0),
            "clustering_key",
            &format!("{m}Int32Type"),
        );
        s.column(
            "ks",
            "d",
            "c2",
            Some(1),
            "clustering_key",
            &format!("{m}TimestampType"),
        );
        s.column(
            "ks",
            "d",
            "k",
            None,
            "partition_key",
            &format!("{m}UTF8Type"),
        );
        s.column(
            "ks",
            "d",
            "v",
            None,
            "compact_value",
            &format!("{m}BytesType"),
        );
        // Primary key only: the empty compact value (CASSANDRA-9874).
        s.table(
            "ks",
            "pk_only",
            &format!("{m}Int32Type"),
            &format!("{m}Int32Type"),
            &format!("{m}BytesType"),
            Some(true),
            &[],
        );
        s.column(
            "ks",
            "pk_only",
            "",
            None,
            "compact_value",
            &format!("{m}BytesType"),
        );
        s.column(
            "ks",
            "pk_only",
            "c",
            None,
            "clustering_key",
            &format!("{m}Int32Type"),
        );
        s.column(
            "ks",
            "pk_only",
            "k",
            None,
            "partition_key",
            &format!("{m}Int32Type"),
        );
        // Thrift-created, never altered: no is_dense, no column rows.
        s.table(
            "ks",
            "thrift",
            &format!("{m}UTF8Type"),
            &format!("{m}BytesType"),
            &format!("{m}LongType"),
            None,
            &[],
        );
        let r = s.rebuild();
        assert!(r.skipped.is_empty(), "{:?}", r.skipped);
        expect(
            &r,
            "CREATE TABLE ks.d (k text, c1 int, c2 timestamp, v blob, PRIMARY KEY (k, c1, c2)) WITH COMPACT STORAGE;
             CREATE TABLE ks.pk_only (k int, c int, PRIMARY KEY (k, c)) WITH COMPACT STORAGE;
             CREATE TABLE ks.thrift (key blob, column1 text, value bigint, PRIMARY KEY (key, column1)) WITH COMPACT STORAGE;",
        );
        for name in ["d", "pk_only", "thrift"] {
            let t = r.schema.table(Some("ks"), name).unwrap();
            let layout = LegacyLayout::from_schema(t, Version::Ka).unwrap();
            assert_eq!(layout.kind(), crate::legacy::TableKind::Dense);
        }
    }

    #[test]
    fn static_compact_thrift_table() {
        let m = "org.apache.cassandra.db.marshal.";
        let mut s = System::default();
        // is_dense absent: a REGULAR definition makes it not dense (calculateIsDense).
        s.table(
            "ks",
            "users",
            &format!("{m}UTF8Type"),
            &format!("{m}BytesType"),
            &format!("{m}BytesType"),
            None,
            &[],
        );
        s.column(
            "ks",
            "users",
            "age",
            None,
            "regular",
            &format!("{m}Int32Type"),
        );
        s.column(
            "ks",
            "users",
            "name",
            None,
            "regular",
            &format!("{m}UTF8Type"),
        );
        let r = s.rebuild();
        assert!(r.skipped.is_empty(), "{:?}", r.skipped);
        expect(
            &r,
            "CREATE TABLE ks.users (key blob PRIMARY KEY, age int, name text) WITH COMPACT STORAGE",
        );
        let t = r.schema.table(Some("ks"), "users").unwrap();
        let layout = LegacyLayout::from_schema(t, Version::Ka).unwrap();
        assert_eq!(layout.kind(), crate::legacy::TableKind::StaticCompact);
    }

    #[test]
    fn desc_clustering_and_deleted_rows() {
        let m = "org.apache.cassandra.db.marshal.";
        let mut s = System::default();
        s.table(
            "ks",
            "r",
            &format!("{m}CompositeType({m}ReversedType({m}Int32Type),{m}UTF8Type,{m}UTF8Type)"),
            &format!("{m}CompositeType({m}Int32Type,{m}UUIDType)"),
            &format!("{m}BytesType"),
            Some(false),
            &[],
        );
        s.column(
            "ks",
            "r",
            "a",
            Some(0),
            "clustering_key",
            &format!("{m}ReversedType({m}Int32Type)"),
        );
        s.column(
            "ks",
            "r",
            "b",
            Some(1),
            "clustering_key",
            &format!("{m}UTF8Type"),
        );
        s.column(
            "ks",
            "r",
            "k1",
            Some(0),
            "partition_key",
            &format!("{m}Int32Type"),
        );
        s.column(
            "ks",
            "r",
            "k2",
            Some(1),
            "partition_key",
            &format!("{m}UUIDType"),
        );
        s.column("ks", "r", "v", Some(2), "regular", &format!("{m}Int32Type"));
        // A dropped table: its rows are shadowed by range tombstones (makeDropTableMutation).
        s.table(
            "ks",
            "s_gone",
            &format!("{m}UTF8Type"),
            &format!("{m}BytesType"),
            &format!("{m}BytesType"),
            Some(true),
            &[],
        );
        s.cf.delete_row("ks", &["s_gone"]);
        s.column(
            "ks",
            "s_gone",
            "key",
            None,
            "partition_key",
            &format!("{m}BytesType"),
        );
        s.cols.delete_row("ks", &["s_gone", "key"]);
        let r = s.rebuild();
        assert!(r.skipped.is_empty(), "{:?}", r.skipped);
        expect(
            &r,
            "CREATE TABLE ks.r (k1 int, k2 uuid, a int, b text, v int, PRIMARY KEY ((k1, k2), a, b)) \
             WITH CLUSTERING ORDER BY (a DESC, b ASC)",
        );
        assert!(r.schema.table(Some("ks"), "s_gone").is_none());
        assert_eq!(r.schema.tables.len(), 1);
    }

    #[test]
    fn bad_rows_are_reported_not_panicked() {
        let m = "org.apache.cassandra.db.marshal.";
        let mut s = System::default();
        s.table(
            "ks",
            "bad",
            &format!("{m}UTF8Type"),
            "Nope(",
            &format!("{m}BytesType"),
            Some(false),
            &[],
        );
        s.table(
            "ks",
            "sup",
            &format!("{m}UTF8Type"),
            &format!("{m}BytesType"),
            &format!("{m}BytesType"),
            Some(false),
            &[],
        );
        s.cf.cell("ks", &["sup"], "type", None, b"Super");
        s.table(
            "ks",
            "idx",
            &format!("{m}CompositeType({m}UTF8Type,{m}UTF8Type)"),
            &format!("{m}BytesType"),
            &format!("{m}BytesType"),
            Some(false),
            &[],
        );
        s.column(
            "ks",
            "idx",
            "c",
            Some(7),
            "clustering_key",
            &format!("{m}UTF8Type"),
        );
        let r = s.rebuild();
        assert!(r.schema.tables.is_empty());
        let names: Vec<&str> = r.skipped.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["ks.bad", "ks.idx", "ks.sup"]);
    }

    #[test]
    fn system_table_definitions_parse() {
        for t in SystemTable::ALL {
            let s = t.schema().unwrap();
            assert_eq!(s.name, t.name());
            assert_eq!(SystemTable::from_name(t.name()), Some(t));
            LegacyLayout::from_schema(&s, Version::Ka).unwrap();
        }
    }
}
