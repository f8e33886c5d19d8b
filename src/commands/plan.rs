//! `sstable-lake plan`: every table under the inputs cut into splits (see [`crate::plan`]),
//! printed as text or JSON.

use std::io::Write;

use serde_json::{json, Value};
use sstable_format::partitioner::Token;
use sstable_format::split::TokenRange;

use crate::config::SplitsPlan;
use crate::discover::discover;
use crate::discover::opened::OpenedSet;
use crate::error::Error;
use crate::io::Io;
use crate::plan::{plan_opened, TableSplits};

use super::starts::legacy_starts;

/// Runs `plan`.
pub fn run(io: &Io, plan: &SplitsPlan) -> Result<(), Error> {
    let discovery = discover(io, &plan.paths)?;
    for s in &discovery.skipped {
        eprintln!("skipped {}: {}", s.path.display(), s.reason);
    }
    if discovery.sets.is_empty() {
        return Err(Error::NothingFound(plan.paths.clone()));
    }
    let mut tables = Vec::new();
    for group in discovery.tables() {
        let opened = group
            .sets
            .iter()
            .map(|s| OpenedSet::open(io, s))
            .collect::<Result<Vec<_>, _>>()?;
        let scan = |i| legacy_starts(&opened, &group.sets, None, i);
        let (partitioner, sets, splits) = plan_opened(&opened, plan.splits, Some(&scan))?;
        tables.push(TableSplits {
            keyspace: group.keyspace.unwrap_or("?").to_string(),
            table: group.table.unwrap_or("?").to_string(),
            partitioner,
            sets,
            splits,
        });
    }
    let text = if plan.json {
        let mut s = serde_json::to_string_pretty(&plan_json(&tables))
            .map_err(|e| Error::Usage(format!("JSON: {e}")))?;
        s.push('\n');
        s
    } else {
        plan_text(&tables)
    };
    match &plan.out {
        Some(path) => std::fs::write(path, text).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        }),
        None => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .map_err(Error::Stdout)
        }
    }
}

fn token_json(t: &Option<Token>) -> Value {
    t.as_ref()
        .map_or(Value::Null, |t| Value::String(t.to_string()))
}

/// The plan as JSON: `{"tables": [{keyspace, table, partitioner, sstables, splits}]}`. Tokens
/// are strings (Murmur3 and Random tokens in decimal, byte-ordered ones in hex); `start` is
/// exclusive and `end` inclusive, `null` being the ring's minimum / maximum; an empty split has
/// `"empty": true`.
pub fn plan_json(tables: &[TableSplits]) -> Value {
    let tables: Vec<Value> = tables
        .iter()
        .map(|t| {
            let sstables: Vec<Value> = t
                .sets
                .iter()
                .map(|s| {
                    json!({
                        "data": s.data_path.display().to_string(),
                        "partitions": s.partitions,
                        "data_length": s.data_length,
                        "stored_length": s.stored_length,
                        "partition_starts_from": s.starts_from.name(),
                    })
                })
                .collect();
            let splits: Vec<Value> = t
                .splits
                .iter()
                .map(|sp| {
                    let (empty, start, end) = match &sp.range {
                        TokenRange::Empty => (true, Value::Null, Value::Null),
                        TokenRange::Range { start, end } => {
                            (false, token_json(start), token_json(end))
                        }
                    };
                    let per: Vec<Value> = sp
                        .per_sstable
                        .iter()
                        .map(|r| {
                            json!({
                                "sstable": r.sstable,
                                "data_start": r.data_start.0,
                                "data_end": r.data_end.0,
                                "first_chunk": r.first_chunk.0,
                                "end_chunk": r.end_chunk.0,
                                "file_start": r.file_start.0,
                                "file_end": r.file_end.0,
                                "partitions": r.partitions,
                                "estimated_bytes": r.estimated_bytes,
                            })
                        })
                        .collect();
                    json!({
                        "index": sp.index,
                        "empty": empty,
                        "start": start,
                        "end": end,
                        "partitions": sp.partitions,
                        "estimated_bytes": sp.estimated_bytes,
                        "sstables": per,
                    })
                })
                .collect();
            json!({
                "keyspace": t.keyspace,
                "table": t.table,
                "partitioner": t.partitioner.class_name(),
                "sstables": sstables,
                "splits": splits,
            })
        })
        .collect();
    json!({ "tables": tables })
}

/// The plan as text.
pub fn plan_text(tables: &[TableSplits]) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    for t in tables {
        let stored: u64 = t.sets.iter().map(|x| x.stored_length).sum();
        let _ = writeln!(
            s,
            "{}.{}: {} sstable(s), {} stored bytes, {}, {} split(s)",
            t.keyspace,
            t.table,
            t.sets.len(),
            stored,
            t.partitioner.class_name(),
            t.splits.len()
        );
        for (i, x) in t.sets.iter().enumerate() {
            let _ = writeln!(
                s,
                "  sstable {i}: {} ({} partition(s), {} bytes, {} stored; starts from {})",
                x.data_path.display(),
                x.partitions,
                x.data_length,
                x.stored_length,
                x.starts_from.name()
            );
        }
        for sp in &t.splits {
            let range = match &sp.range {
                TokenRange::Empty => "empty".to_string(),
                TokenRange::Range { start, end } => format!(
                    "tokens ({}, {}]",
                    start.as_ref().map_or("min".to_string(), Token::to_string),
                    end.as_ref().map_or("max".to_string(), Token::to_string)
                ),
            };
            let _ = writeln!(
                s,
                "  split {}: {range}: {} partition(s), ~{} stored bytes",
                sp.index, sp.partitions, sp.estimated_bytes
            );
            for r in sp.per_sstable.iter().filter(|r| !r.is_empty()) {
                let _ = writeln!(
                    s,
                    "    sstable {}: data {}..{}, chunks {}..{} (file bytes {}..{}), {} partition(s), ~{} bytes",
                    r.sstable,
                    r.data_start,
                    r.data_end,
                    r.first_chunk,
                    r.end_chunk,
                    r.file_start,
                    r.file_end,
                    r.partitions,
                    r.estimated_bytes
                );
            }
        }
    }
    s
}
