//! The table as the user sees it: column names and CQL types resolved from `schema.cql`,
//! `--schema` or, failing both, the SSTable's own serialization header; and, per SSTable, the
//! mapping from the header's columns (which decode the bytes) to the output columns.
//!
//! Rules (what Cassandra does, see `SerializationHeader.Component.toHeader`):
//! - the header's types decide how bytes are laid out (fixed width, multi-cell); the schema's
//!   types decide how values are shown;
//! - a column in the header but not in the schema was dropped: its cells are ignored;
//! - a column in the schema but not in the header was added later: it is null in that SSTable;
//! - a bare `UserType` in a header whose schema says `frozen<udt>` was written by 3.0.x, which
//!   did not mark frozen UDTs: it is read as frozen (CASSANDRA-15035);
//! - a static-compact table (`COMPACT STORAGE`, no clustering) stores its columns in the static
//!   row, with a hidden clustering column: the static row then is the CQL row.

use sstable_format::data::Layout;
use sstable_format::legacy::LegacyLayout;
use sstable_format::schema::TableSchema;
use sstable_format::statistics::{ColumnSpec, SerializationHeader};
use sstable_format::{CqlType, Version};

use crate::error::Error;

/// One output column.
#[derive(Debug, Clone, PartialEq)]
pub struct OutColumn {
    /// CQL name.
    pub name: String,
    /// CQL type used to show values.
    pub ty: CqlType,
}

/// The output shape of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct TableView {
    /// Keyspace name (`?` when unknown).
    pub keyspace: String,
    /// Table name.
    pub table: String,
    /// Partition key columns.
    pub partition_key: Vec<OutColumn>,
    /// Clustering columns.
    pub clustering: Vec<OutColumn>,
    /// Static and regular columns, in schema order.
    pub columns: Vec<OutColumn>,
    /// Names were generated because no schema was given.
    pub generated_names: bool,
    /// The table is static-compact: the static row is the CQL row.
    pub static_compact: bool,
    /// Columns the schema declares dropped (`ALTER TABLE ... DROP`, `DROPPED COLUMN RECORD`):
    /// their cells in the data are ignored; any other data column missing from the schema is
    /// an error.
    pub dropped: Vec<String>,
}

/// How one SSTable's columns map to the output.
#[derive(Debug, Clone)]
pub struct SetMapping {
    /// Decoder layout of a 3.0+ SSTable (header order: simple columns first); `None` for 2.x.
    pub layout: Option<Layout>,
    /// For each static column in layout order, its output column and value type.
    pub statics: Vec<Option<(usize, CqlType)>>,
    /// For each regular column in layout order, its output column and value type.
    pub regulars: Vec<Option<(usize, CqlType)>>,
    /// Number of clustering values the header declares (a static-compact table has a hidden
    /// one).
    pub header_clustering: usize,
}

fn generated_key_name(i: usize) -> String {
    if i == 0 {
        "key".to_string()
    } else {
        format!("key{}", i + 1)
    }
}

fn key_types(header: &SerializationHeader) -> Vec<CqlType> {
    match &header.partition_key_type {
        CqlType::Composite(parts) => parts.clone(),
        other => vec![other.clone()],
    }
}

impl TableView {
    /// The view from a schema table.
    pub fn from_schema(t: &TableSchema, keyspace_hint: Option<&str>) -> TableView {
        let col = |c: &sstable_format::schema::ColumnDef| OutColumn {
            name: c.name.clone(),
            ty: c.ty.clone(),
        };
        use sstable_format::schema::ColumnKind;
        TableView {
            keyspace: t
                .keyspace
                .clone()
                .or_else(|| keyspace_hint.map(str::to_string))
                .unwrap_or_else(|| "?".to_string()),
            table: t.name.clone(),
            partition_key: t.partition_key.iter().map(col).collect(),
            clustering: t.clustering.iter().map(col).collect(),
            columns: t
                .columns
                .iter()
                .filter(|c| matches!(c.kind, ColumnKind::Static | ColumnKind::Regular))
                .map(col)
                .collect(),
            generated_names: false,
            static_compact: t.compact_storage && t.clustering.is_empty(),
            dropped: t.dropped.iter().map(|d| d.name.clone()).collect(),
        }
    }

    /// The view from a serialization header alone: key and clustering columns get generated
    /// names (`key`, `key2`.., `column1`..).
    pub fn from_header(header: &SerializationHeader, keyspace: &str, table: &str) -> TableView {
        let partition_key = key_types(header)
            .into_iter()
            .enumerate()
            .map(|(i, ty)| OutColumn {
                name: generated_key_name(i),
                ty: ty.unreversed().clone(),
            })
            .collect();
        let clustering = header
            .clustering_types
            .iter()
            .enumerate()
            .map(|(i, ty)| OutColumn {
                name: format!("column{}", i + 1),
                ty: ty.unreversed().clone(),
            })
            .collect();
        let columns = header
            .static_columns
            .iter()
            .chain(header.regular_columns.iter())
            .map(|c| OutColumn {
                name: c.name_str().into_owned(),
                ty: c.ty.clone(),
            })
            .collect();
        TableView {
            keyspace: keyspace.to_string(),
            table: table.to_string(),
            partition_key,
            clustering,
            columns,
            generated_names: true,
            static_compact: false,
            dropped: Vec::new(),
        }
    }

    fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// Maps one SSTable's header (of the Data.db at `path`) onto this view and builds its
    /// decoder layout. With a schema, the header's static and regular columns and the schema's
    /// are reconciled (issue 11.5): a data column the schema neither has nor declares dropped
    /// is an error naming the file and the column (a renamed or damaged column name would
    /// otherwise lose its values silently); a schema column absent from the data is null in
    /// this SSTable's rows, with a note on stderr (once per table and column).
    pub fn map_header(
        &self,
        version: Version,
        header: &SerializationHeader,
        path: &std::path::Path,
    ) -> Result<SetMapping, Error> {
        let header_keys = key_types(header).len();
        if header_keys != self.partition_key.len() {
            return Err(Error::Schema(format!(
                "the schema of {}.{} has {} partition key column(s) but the SSTable's header has {}",
                self.keyspace,
                self.table,
                self.partition_key.len(),
                header_keys
            )));
        }
        let header_clustering = header.clustering_types.len();
        let hidden_ok = self.static_compact && header_clustering == 1 && self.clustering.is_empty();
        if header_clustering != self.clustering.len() && !hidden_ok {
            return Err(Error::Schema(format!(
                "the schema of {}.{} has {} clustering column(s) but the SSTable's header has {}",
                self.keyspace,
                self.table,
                self.clustering.len(),
                header_clustering
            )));
        }
        if !self.generated_names {
            let keys = key_types(header);
            let named = self
                .partition_key
                .iter()
                .zip(keys.iter())
                .chain(self.clustering.iter().zip(header.clustering_types.iter()));
            for (col, disk) in named {
                check_compatible(&self.table, &col.name, disk, &col.ty)?;
            }
            for spec in header.static_columns.iter().chain(&header.regular_columns) {
                let name = spec.name_str();
                // The hidden value column of a compact-storage table, not a CQL column: a
                // static-compact table keeps its CQL columns in the static row and a regular
                // column (`value` by default; Cassandra 3.0 `CompactTables`) beside them, and a
                // dense table without a value column has an EmptyType one.
                // Only the one compact value column: any other unknown regular column stays
                // an error (a flipped name must not be skipped as "hidden").
                let hidden = (self.static_compact
                    && header.regular_columns.len() == 1
                    && header.regular_columns.iter().any(|r| r.name_str() == name))
                    || spec.ty == CqlType::Empty;
                if hidden && !self.columns.iter().any(|c| c.name == name) {
                    continue;
                }
                if let Some(col) = self.columns.iter().find(|c| c.name == name) {
                    check_compatible(&self.table, &col.name, &spec.ty, &col.ty)?;
                } else if !self.dropped.iter().any(|d| *d == name) {
                    return Err(Error::Schema(format!(
                        "{}: column {name} of the SSTable's serialization header is not in the schema of {}.{} \
                         (its columns: {}); if it was dropped, declare it in the schema with \
                         `ALTER TABLE {}.{} DROP {name} USING TIMESTAMP <microseconds>;`",
                        path.display(),
                        self.keyspace,
                        self.table,
                        self.columns
                            .iter()
                            .map(|c| c.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                        self.keyspace,
                        self.table,
                    )));
                }
            }
            for col in &self.columns {
                let in_data = header
                    .static_columns
                    .iter()
                    .chain(&header.regular_columns)
                    .any(|spec| spec.name_str() == col.name);
                if !in_data {
                    note_absent(&self.keyspace, &self.table, &col.name, path);
                }
            }
        }
        let layout_types =
            |specs: Vec<&ColumnSpec>| -> (Vec<CqlType>, Vec<Option<(usize, CqlType)>>) {
                let mut types = Vec::with_capacity(specs.len());
                let mut map = Vec::with_capacity(specs.len());
                for spec in specs {
                    let name = spec.name_str();
                    let out = self
                        .column_index(&name)
                        .and_then(|i| self.columns.get(i).map(|c| (i, c.ty.clone())));
                    let mut disk = spec.ty.clone();
                    if let Some((_, shown)) = &out {
                        // 3.0.x wrote frozen UDTs without FrozenType.
                        if matches!(disk.unreversed(), CqlType::Udt(_))
                            && disk.is_multi_cell()
                            && !shown.is_multi_cell()
                        {
                            disk = disk.frozen();
                        }
                    }
                    map.push(out);
                    types.push(disk);
                }
                (types, map)
            };
        let (static_types, statics) = layout_types(header.ordered_columns(true));
        let (regular_types, regulars) = layout_types(header.ordered_columns(false));
        let enc = &header.encoding_stats;
        let layout = Layout::new(
            version,
            (enc.min_timestamp, enc.min_local_deletion_time, enc.min_ttl),
            &header.clustering_types,
            &static_types.iter().collect::<Vec<_>>(),
            &regular_types.iter().collect::<Vec<_>>(),
        )
        .map_err(|e| Error::Schema(e.to_string()))?;
        Ok(SetMapping {
            layout: Some(layout),
            statics,
            regulars,
            header_clustering,
        })
    }
}

impl TableView {
    /// Maps a 2.x SSTable, whose cells are indexed by the schema's own static and regular
    /// columns ([`LegacyLayout::statics`], [`LegacyLayout::regulars`]).
    pub fn map_legacy(&self, layout: &LegacyLayout) -> SetMapping {
        let map = |cols: &[sstable_format::schema::ColumnDef]| {
            cols.iter()
                .map(|c| {
                    self.column_index(&c.name)
                        .and_then(|i| self.columns.get(i).map(|o| (i, o.ty.clone())))
                })
                .collect()
        };
        SetMapping {
            layout: None,
            statics: map(layout.statics()),
            regulars: map(layout.regulars()),
            header_clustering: layout.clustering_len(),
        }
    }
}

/// Notes once per table and column that a schema column is not in an SSTable's data.
fn note_absent(keyspace: &str, table: &str, column: &str, path: &std::path::Path) {
    use std::collections::BTreeSet;
    use std::sync::Mutex;
    static NOTED: Mutex<BTreeSet<(String, String, String)>> = Mutex::new(BTreeSet::new());
    let mut noted = NOTED.lock().unwrap_or_else(|e| e.into_inner());
    if noted.insert((keyspace.into(), table.into(), column.into())) {
        eprintln!(
            "note: column {column} of {keyspace}.{table} is not in {} (added later, or never set there): null in its rows",
            path.display()
        );
    }
}

/// The shape of a type for compatibility checks: frozen-ness, `ReversedType` and UDT field
/// additions are not conflicts (Cassandra allows them); a different kind of value is.
fn shape(t: &CqlType) -> String {
    match t.unreversed() {
        CqlType::List { element, .. } => format!("list<{}>", shape(element)),
        CqlType::Set { element, .. } => format!("set<{}>", shape(element)),
        CqlType::Map { key, value, .. } => format!("map<{},{}>", shape(key), shape(value)),
        CqlType::Udt(u) => format!("udt {}", u.name),
        CqlType::Tuple(items) => format!(
            "tuple<{}>",
            items.iter().map(shape).collect::<Vec<_>>().join(",")
        ),
        // text and varchar are one type; ascii values are valid text.
        CqlType::Ascii => "text".to_string(),
        other => other.to_string(),
    }
}

/// Fails when the SSTable's header and the schema give a column different kinds of values
/// (not a dropped-and-re-added column of another type, which Cassandra refuses anyway).
fn check_compatible(
    table: &str,
    column: &str,
    disk: &CqlType,
    schema: &CqlType,
) -> Result<(), Error> {
    let opaque = |t: &CqlType| {
        matches!(
            t.unreversed(),
            CqlType::Custom(_) | CqlType::Blob | CqlType::Empty
        )
    };
    if opaque(disk) || opaque(schema) || shape(disk) == shape(schema) {
        return Ok(());
    }
    Err(Error::Schema(format!(
        "column {column} of table {table} is {} in the SSTable's header but {} in the schema",
        disk.unreversed(),
        schema
    )))
}
