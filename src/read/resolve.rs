//! Which table of `--schema` describes which table found, and which tables found are one.
//!
//! Rules (issue 11.1 and 14):
//! - A `--schema` table applies only to the tables it names: same table name, and the same
//!   keyspace unless one of the two shows none. Where the keyspace of a table found is only a
//!   guess from the layout (no table id in its folder name, no keyspace in its file names:
//!   pre-2.1 `…/<ks>/<table>/` or a bare folder), the name alone decides.
//! - Exception, as the corpus canon needs (it stages each set alone in a folder named like the
//!   original table folder): when the schema defines one table, one table is found, and no name
//!   matches, the schema's table is taken for it, with a note on stderr.
//! - Tables found that resolve to the same keyspace and table (by the schema) are one table and
//!   are read merged, whatever their folders are called; two whose folders carry different table
//!   ids are different tables, and would publish into one folder: that is an error, raised before
//!   anything is read or written.
//! - A table the schema does not name is read with its own header (3.0+) or fails for want of a
//!   schema (2.x); it is never given another table's columns.

use std::collections::BTreeSet;

use sstable_format::schema::{Schema, TableSchema};

use crate::discover::{Discovery, SstableSet, TableGroup};
use crate::error::Error;

/// One table to read: its sets and the `--schema` scoped to it (only its own table, with the
/// schema's types), or `None` when no `--schema` was given.
#[derive(Debug, Clone)]
pub struct ResolvedTable<'a> {
    /// The sets (several folders' groups merged when they resolve to one table).
    pub group: TableGroup<'a>,
    /// `--schema` with only this table's definition (no table when the schema does not name
    /// it), to pass where a `user_schema` is expected.
    pub schema: Option<Schema>,
}

/// Whether the set's keyspace is only a guess from its folder (no table id, no 2.1 name).
fn weak_keyspace(s: &SstableSet) -> bool {
    s.table_id.is_none() && s.descriptor.keyspace.is_none()
}

/// The schema table that names `group`, if any.
fn named_by<'s>(schema: &'s Schema, group: &TableGroup<'_>) -> Option<&'s TableSchema> {
    let name = group.table?;
    let weak = group.sets.iter().all(|s| weak_keyspace(s));
    let candidates: Vec<&TableSchema> = schema.tables.iter().filter(|t| t.name == name).collect();
    if let Some(t) = candidates
        .iter()
        .find(|t| t.keyspace.is_some() && t.keyspace.as_deref() == group.keyspace)
    {
        return Some(t);
    }
    let loose: Vec<&&TableSchema> = candidates
        .iter()
        .filter(|t| t.keyspace.is_none() || group.keyspace.is_none() || weak)
        .collect();
    match loose.as_slice() {
        [t] => Some(t),
        _ => None,
    }
}

/// The tables of `discovery`, each with its scoped `--schema` (see the module doc).
pub fn resolve_tables<'a>(
    discovery: &'a Discovery,
    user_schema: Option<&Schema>,
) -> Result<Vec<ResolvedTable<'a>>, Error> {
    let groups = discovery.tables();
    let lone = groups.len() == 1;
    let mut out: Vec<((String, String), ResolvedTable<'a>)> = Vec::new();
    for group in groups {
        let mut table = user_schema.and_then(|s| named_by(s, &group));
        if let (Some(schema), None, true) = (user_schema, table, lone) {
            if let Some(t) = schema.only_table() {
                eprintln!(
                    "note: --schema defines only {}{}, applied to the one table found, {}.{}",
                    t.keyspace
                        .as_deref()
                        .map(|k| format!("{k}."))
                        .unwrap_or_default(),
                    t.name,
                    group.keyspace.unwrap_or("?"),
                    group.table.unwrap_or("?")
                );
                table = Some(t);
            }
        }
        let identity = match table {
            Some(t) => (
                t.keyspace
                    .as_deref()
                    .or(group.keyspace)
                    .unwrap_or("?")
                    .to_string(),
                t.name.clone(),
            ),
            None => (
                group.keyspace.unwrap_or("?").to_string(),
                group.table.unwrap_or("?").to_string(),
            ),
        };
        let scoped = user_schema.map(|s| Schema {
            types: s.types.clone(),
            tables: table.into_iter().cloned().collect(),
        });
        if let Some((_, prev)) = out.iter_mut().find(|(id, _)| *id == identity) {
            let ids = |sets: &[&SstableSet]| -> BTreeSet<String> {
                sets.iter().filter_map(|s| s.table_id.clone()).collect()
            };
            let (a, b) = (ids(&prev.group.sets), ids(&group.sets));
            if !a.is_empty() && !b.is_empty() && a.is_disjoint(&b) {
                let dir = |sets: &[&SstableSet]| {
                    sets.first()
                        .map(|s| s.dir.display().to_string())
                        .unwrap_or_default()
                };
                return Err(Error::Schema(format!(
                    "two different tables would both be {}.{}: {} (table id {}) and {} (table id {}); \
                     give a --schema that names each of them, or read them separately",
                    identity.0,
                    identity.1,
                    dir(&prev.group.sets),
                    a.into_iter().collect::<Vec<_>>().join(", "),
                    dir(&group.sets),
                    b.into_iter().collect::<Vec<_>>().join(", "),
                )));
            }
            prev.group.sets.extend(group.sets);
            continue;
        }
        out.push((
            identity,
            ResolvedTable {
                group,
                schema: scoped,
            },
        ));
    }
    Ok(out.into_iter().map(|(_, t)| t).collect())
}
