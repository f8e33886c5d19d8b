//! `sstable-lake inspect`: what every SSTable set under the paths is (keyspace/table, version,
//! index kind, partitioner, compression, sizes, estimated partitions and rows, timestamp,
//! deletion-time and TTL ranges, columns as CQL types), and with `--verify` whether every chunk
//! checksum and the whole-file digest hold.

use std::io::Write;

use serde_json::{json, Map, Value as Json};
use sstable_format::chunks::{verify_all_ranges, verify_uncompressed_ranges};
use sstable_format::compare::ClusteringComparator;
use sstable_format::data::{DataReader, PartitionReader};
use sstable_format::descriptor::ComponentName;
use sstable_format::digest::{Digest, DigestCoverage, DigestHasher};
use sstable_format::legacy::{LegacyLayout, LegacyReader};
use sstable_format::partitions::IndexFiles;
use sstable_format::schema::{ClusteringOrder, Schema};
use sstable_format::statistics::{SerializationHeader, Statistics};
use sstable_format::verify::{verify_partition_index, verify_partitions_with, verify_statistics};
use sstable_format::version::FormatKind;
use sstable_format::CqlType;
use sstable_format::{ByteRanges, Component};

use crate::config::InspectPlan;
use crate::discover::opened::{map_file, DataFile, OpenedSet};
use crate::discover::{discover, SstableSet};
use crate::error::Error;
use crate::io::Io;
use crate::read::open::{legacy_schema, read_schema};

/// Runs `inspect`. Every set is reported; the run fails (after reporting all sets) if any set
/// could not be read or verified.
pub fn run(io: &Io, plan: &InspectPlan) -> Result<(), Error> {
    let discovery = discover(io, &plan.paths)?;
    for s in &discovery.skipped {
        eprintln!("skipped {}: {}", s.path.display(), s.reason);
    }
    if discovery.sets.is_empty() {
        return Err(Error::NothingFound(plan.paths.clone()));
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut failures = 0usize;
    let mut first_error = None;
    let user_schema = match &plan.schema {
        Some(p) => Some(read_schema(io, p)?),
        None => None,
    };
    // `--schema` applies to the tables it names only (see `crate::read::resolve`).
    let resolved = match crate::read::resolve::resolve_tables(&discovery, user_schema.as_ref()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("warning: {e}: --schema is not used");
            Vec::new()
        }
    };
    let schema_of = |set: &crate::discover::SstableSet| {
        resolved
            .iter()
            .find(|r| r.group.sets.iter().any(|s| std::ptr::eq(*s, set)))
            .and_then(|r| r.schema.as_ref())
    };
    for set in &discovery.sets {
        match inspect_set(io, set, plan.verify, schema_of(set)) {
            Ok(report) => {
                let text = if plan.json {
                    format!("{report}\n")
                } else {
                    render_text(&report)
                };
                out.write_all(text.as_bytes()).map_err(Error::Stdout)?;
            }
            Err(e) => {
                if failures > 0 || discovery.sets.len() > 1 {
                    eprintln!("error: {}", crate::io::secrets::redact(&e.to_string()));
                }
                failures += 1;
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) if failures == 1 => Err(e),
        Some(e) => Err(Error::Several {
            count: failures,
            first: Box::new(e),
        }),
        None => Ok(()),
    }
}

fn opt_range<T: serde::Serialize>(min: Option<T>, max: Option<T>) -> Json {
    match (min, max) {
        (Some(a), Some(b)) => json!([a, b]),
        _ => Json::Null,
    }
}

fn columns_json(header: &SerializationHeader) -> Json {
    let key = match &header.partition_key_type {
        CqlType::Composite(parts) => parts.iter().map(|t| t.to_string()).collect::<Vec<_>>(),
        t => vec![t.to_string()],
    };
    let clustering: Vec<String> = header
        .clustering_types
        .iter()
        .map(|t| match t {
            CqlType::Reversed(inner) => format!("{inner} DESC"),
            t => t.to_string(),
        })
        .collect();
    let cols = |specs: &[sstable_format::statistics::ColumnSpec]| {
        specs
            .iter()
            .map(|c| json!({"name": c.name_str(), "type": c.ty.to_string()}))
            .collect::<Vec<_>>()
    };
    json!({
        "partition_key": key,
        "clustering": clustering,
        "static": cols(&header.static_columns),
        "regular": cols(&header.regular_columns),
    })
}

fn stats_json(s: &Statistics, report: &mut Map<String, Json>) {
    if let Some(v) = &s.validation {
        report.insert(
            "partitioner".into(),
            json!(v.partitioner.rsplit('.').next().unwrap_or(&v.partitioner)),
        );
    }
    if let Some(st) = &s.stats {
        report.insert(
            "estimated_partitions".into(),
            json!(st.partition_sizes.count()),
        );
        report.insert("rows".into(), json!(st.total_rows));
        report.insert(
            "timestamps".into(),
            json!([st.min_timestamp, st.max_timestamp]),
        );
        report.insert(
            "local_deletion_times".into(),
            opt_range(st.min_local_deletion_time, st.max_local_deletion_time),
        );
        report.insert("ttls".into(), opt_range(st.min_ttl, st.max_ttl));
        report.insert("compression_ratio".into(), json!(st.compression_ratio));
        report.insert("repaired_at".into(), json!(st.repaired_at));
        report.insert("level".into(), json!(st.sstable_level));
    }
    if let Some(h) = &s.header {
        report.insert("columns".into(), columns_json(h));
    }
}

/// The path of another component of the set of `data_path` (`...-Data.db`).
fn component_path(data_path: &std::path::Path, suffix: &str) -> std::path::PathBuf {
    match data_path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix("Data.db"))
    {
        Some(base) => data_path.with_file_name(format!("{base}{suffix}")),
        None => data_path.to_path_buf(),
    }
}

/// Decodes every partition and row and checks Cassandra's invariants
/// ([`sstable_format::verify`]). 2.x sets need a schema to be decoded; without one the rows are
/// not checked (said in the report).
fn verify_rows(
    set: &SstableSet,
    opened: &OpenedSet,
    user_schema: Option<&Schema>,
) -> Result<Json, Error> {
    let wrap = |source| Error::Format {
        path: opened.data_path.clone(),
        source,
    };
    verify_statistics(&opened.statistics).map_err(|source| Error::Format {
        path: component_path(&opened.data_path, "Statistics.db"),
        source,
    })?;
    let partitioner = opened.partitioner().ok();
    let order: Vec<CqlType>;
    // Which (is_static, column) cells are counters: their shard order is checked.
    let counter_columns: (Vec<bool>, Vec<bool>);
    let mut reader: Box<dyn PartitionReader + '_> = if opened.version.is_legacy_layout() {
        let table = match legacy_schema(set, opened, user_schema) {
            Ok(t) => Some(t),
            Err(Error::MissingSchema(_)) => None,
            Err(e) => return Err(e),
        };
        let Some(table) = table else {
            return Ok(json!(
                "not checked: no schema (2.x files store no column types; give --schema FILE)"
            ));
        };
        let layout = LegacyLayout::from_schema(&table, opened.version)
            .map_err(|e| Error::Schema(format!("{}: {e}", opened.data_path.display())))?;
        counter_columns = (
            table.static_columns().map(|c| c.ty.is_counter()).collect(),
            table.regular_columns().map(|c| c.ty.is_counter()).collect(),
        );
        order = table
            .clustering
            .iter()
            .map(|c| match c.clustering_order {
                ClusteringOrder::Desc => CqlType::Reversed(Box::new(c.ty.clone())),
                ClusteringOrder::Asc => c.ty.clone(),
            })
            .collect();
        Box::new(LegacyReader::new(opened.source()?, layout))
    } else {
        let header = opened.statistics.header.as_ref().ok_or_else(|| {
            wrap(sstable_format::Error::invalid(
                sstable_format::Component::Statistics,
                0,
                "no serialization header: rows cannot be decoded",
            ))
        })?;
        let layout = header
            .layout(opened.version)
            .map_err(|source| Error::Format {
                path: component_path(&opened.data_path, "Statistics.db"),
                source,
            })?;
        counter_columns = (
            header
                .ordered_columns(true)
                .iter()
                .map(|c| c.ty.is_counter())
                .collect(),
            header
                .ordered_columns(false)
                .iter()
                .map(|c| c.ty.is_counter())
                .collect(),
        );
        order = header.clustering_types.clone();
        Box::new(DataReader::new(opened.source()?, layout))
    };
    let comparator = ClusteringComparator::new(order);
    let compare = |a: &[Option<&[u8]>], b: &[Option<&[u8]>]| comparator.compare(a, b);
    let is_counter = |is_static: bool, column: u32| {
        let cols = if is_static {
            &counter_columns.0
        } else {
            &counter_columns.1
        };
        cols.get(column as usize).copied().unwrap_or(false)
    };
    let mut quirks = Vec::new();
    let s = verify_partitions_with(
        reader.as_mut(),
        partitioner,
        Some(&compare),
        Some(&is_counter),
        &mut quirks,
    )
    .map_err(wrap)?;
    let mut out =
        json!({"partitions": s.partitions, "rows": s.rows, "markers": s.markers, "cells": s.cells});
    // Quirks of writers in the wild: read as Cassandra does, reported as warnings.
    if !quirks.is_empty() {
        let mut warnings = Vec::new();
        for q in &quirks {
            let path = component_path(&opened.data_path, q.component.file_suffix());
            eprintln!("warning: {}: {q}", path.display());
            warnings.push(json!(format!("{}: {q}", path.display())));
        }
        if let Some(o) = out.as_object_mut() {
            o.insert("warnings".into(), Json::Array(warnings));
        }
    }
    Ok(out)
}

fn inspect_set(
    io: &Io,
    set: &SstableSet,
    verify: bool,
    user_schema: Option<&Schema>,
) -> Result<Json, Error> {
    let opened = OpenedSet::open(io, set)?;
    let mut r = Map::new();
    r.insert("keyspace".into(), json!(set.keyspace));
    r.insert("table".into(), json!(set.table));
    r.insert("path".into(), json!(opened.data_path.display().to_string()));
    r.insert("version".into(), json!(opened.version.as_str()));
    r.insert(
        "index".into(),
        json!(opened.version.format_kind().to_string()),
    );
    if let Some(node) = &set.node {
        r.insert("node".into(), json!(node));
    }
    if let Some(tag) = &set.snapshot {
        r.insert("snapshot".into(), json!(tag));
    }
    let data_len = opened.data.len();
    let mut sizes = Map::new();
    for (c, p) in &set.components {
        if let Some((len, _)) = io.metadata(p) {
            sizes.insert(format!("{c}"), json!(len));
        }
    }
    r.insert("sizes".into(), Json::Object(sizes));
    match &opened.compression {
        Some(ci) => {
            r.insert(
                "compression".into(),
                json!({
                    "compressor": ci.class_name(),
                    "chunk_length": ci.chunk_length(),
                    "chunks": ci.chunk_count(),
                    "uncompressed_length": ci.data_length(),
                }),
            );
        }
        None => {
            r.insert("compression".into(), Json::Null);
        }
    }
    stats_json(&opened.statistics, &mut r);
    if verify {
        let wrap = |source| Error::Format {
            path: opened.data_path.clone(),
            source,
        };
        let report = match &opened.compression {
            Some(ci) => verify_all_ranges(opened.data.ranges(0..data_len)?, ci, opened.version)
                .map_err(wrap)?,
            None => match &opened.crc {
                Some(crc) => verify_uncompressed_ranges(
                    opened.data.ranges(0..data_len)?,
                    crc,
                    opened.version,
                )
                .map_err(wrap)?,
                None => Default::default(),
            },
        };
        let chunks = report.chunks;
        // Quirks of writers in the wild: read as Cassandra does, reported as warnings.
        let mut warnings = Vec::new();
        for q in &report.quirks {
            let path = component_path(&opened.data_path, q.component.file_suffix());
            eprintln!("warning: {}: {q}", path.display());
            warnings.push(json!(format!("{}: {q}", path.display())));
        }
        if !warnings.is_empty() {
            r.insert("warnings".into(), Json::Array(warnings));
        }
        let digest = verify_digest(set, &opened)?;
        let rows = verify_rows(set, &opened, user_schema)?;
        let index = verify_index(set, &opened)?;
        r.insert(
            "verify".into(),
            json!({"chunks_checked": chunks, "digest": digest, "data_bytes": data_len, "rows": rows, "index": index}),
        );
    }
    Ok(Json::Object(r))
}

fn render_text(r: &Json) -> String {
    let mut s = String::new();
    let get = |k: &str| r.get(k).cloned().unwrap_or(Json::Null);
    let plain = |v: Json| match v {
        Json::String(s) => s,
        Json::Null => "-".to_string(),
        other => other.to_string(),
    };
    s.push_str(&format!(
        "{}.{}  {}\n",
        plain(get("keyspace")),
        plain(get("table")),
        plain(get("path"))
    ));
    s.push_str(&format!(
        "  version {}  index {}  partitioner {}\n",
        plain(get("version")),
        plain(get("index")),
        plain(get("partitioner"))
    ));
    s.push_str(&format!("  compression {}\n", plain(get("compression"))));
    s.push_str(&format!("  sizes {}\n", plain(get("sizes"))));
    s.push_str(&format!(
        "  estimated partitions {}  rows {}\n",
        plain(get("estimated_partitions")),
        plain(get("rows"))
    ));
    s.push_str(&format!(
        "  timestamps {}  deletion times {}  ttls {}\n",
        plain(get("timestamps")),
        plain(get("local_deletion_times")),
        plain(get("ttls"))
    ));
    if let Some(c) = r.get("columns") {
        s.push_str(&format!("  columns {c}\n"));
    }
    if let Some(v) = r.get("verify") {
        s.push_str(&format!("  verify {v}\n"));
    }
    s
}

/// Cross-checks the partition index (Index.db, or Partitions.db for trie-indexed sets) with
/// Data.db, promoted indexes included ([`verify_partition_index`]). Needs no schema.
fn verify_index(set: &SstableSet, opened: &OpenedSet) -> Result<Json, Error> {
    let get = |c: &ComponentName| set.components.get(c).cloned();
    let big = opened.version.format_kind() == FormatKind::Big;
    let main = if big {
        ComponentName::Index
    } else {
        ComponentName::Partitions
    };
    let Some(main_path) = get(&main) else {
        return Ok(json!(format!("not checked: no {main}")));
    };
    let main_bytes = map_file(&opened.io, &main_path)?;
    let rows_path = get(&ComponentName::Rows);
    let rows_bytes = match (&rows_path, big) {
        (Some(p), false) => Some(map_file(&opened.io, p)?),
        _ => None,
    };
    let files = if big {
        IndexFiles::Big {
            index: main_bytes.bytes(),
        }
    } else {
        IndexFiles::Bti {
            partitions: main_bytes.bytes(),
            rows: rows_bytes.as_ref().map_or(&[][..], |b| b.bytes()),
        }
    };
    let stats_path = component_path(&opened.data_path, "Statistics.db");
    let layout = match (&opened.statistics.header, opened.version.is_legacy_layout()) {
        (Some(h), false) => Some(h.layout(opened.version).map_err(|source| Error::Format {
            path: stats_path.clone(),
            source,
        })?),
        _ => None,
    };
    let s = verify_partition_index(opened.source()?, files, opened.version, layout).map_err(
        |source| {
            let path = match source.component() {
                Some(Component::Index | Component::Partitions) => main_path.clone(),
                Some(Component::Rows) => rows_path.clone().unwrap_or_else(|| main_path.clone()),
                Some(Component::Statistics) => stats_path.clone(),
                _ => opened.data_path.clone(),
            };
            Error::Format { path, source }
        },
    )?;
    // Summary.db (BIG only) against Index.db: a 0-byte or damaged summary fails (issue 11).
    if let (true, Some(p)) = (big, get(&ComponentName::Summary)) {
        let bytes = map_file(&opened.io, &p)?;
        match sstable_format::verify::verify_summary(
            bytes.bytes(),
            opened.version,
            Some(main_bytes.bytes()),
        ) {
            Ok(_) | Err(sstable_format::Error::UnsupportedVersion { .. }) => {}
            Err(source) => return Err(Error::Format { path: p, source }),
        }
    }
    Ok(json!({"entries": s.entries, "promoted_index_blocks": s.blocks}))
}

/// Checks the whole-file digest of Data.db against the Digest component, if present.
fn verify_digest(set: &SstableSet, opened: &OpenedSet) -> Result<&'static str, Error> {
    let Some((_, p)) = set
        .components
        .iter()
        .find(|(c, _)| matches!(c, ComponentName::Digest(_)))
    else {
        return Ok("absent");
    };
    let bytes = map_file(&opened.io, p)?;
    let digest = Digest::parse(bytes.bytes()).map_err(|source| Error::Format {
        path: p.clone(),
        source,
    })?;
    let kind = opened.version.digest_checksum();
    let wrap = |source| Error::Format {
        path: opened.data_path.clone(),
        source,
    };
    if let DataFile::Local(bytes) = &opened.data {
        return match &opened.compression {
            Some(ci) => match digest
                .verify_compressed(kind, bytes.bytes(), ci.chunk_offsets())
                .map_err(wrap)?
            {
                DigestCoverage::WholeFile => Ok("ok"),
                DigestCoverage::ChunkBodies => Ok("ok (over chunk bodies)"),
            },
            None => {
                digest.verify(kind, bytes.bytes()).map_err(wrap)?;
                Ok("ok")
            }
        };
    }
    // An object: streamed in blocks (once over the whole file, and once more over the chunk
    // bodies only if that does not match, as `Digest::verify_compressed` does).
    let whole = streamed_digest(opened, kind, None)?;
    match (digest.verify_hasher(&whole), &opened.compression) {
        (Ok(()), _) => Ok("ok"),
        (Err(e), None) => Err(wrap(e)),
        (Err(e), Some(ci)) => {
            let bodies = streamed_digest(opened, kind, Some(ci.chunk_offsets()))?;
            match digest.verify_hasher(&bodies) {
                Ok(()) => Ok("ok (over chunk bodies)"),
                Err(_) => Err(wrap(e)),
            }
        }
    }
}

/// The digest of a Data.db read in blocks: the whole file, or (given the chunk offsets) the
/// chunk bodies without their 4-byte checksums.
fn streamed_digest(
    opened: &OpenedSet,
    kind: sstable_format::version::DigestKind,
    chunk_offsets: Option<&[sstable_format::FileOffset]>,
) -> Result<DigestHasher, Error> {
    let len = opened.data.len();
    let mut bytes = opened.data.ranges(0..len)?;
    let mut h = DigestHasher::from_kind(kind);
    let wrap = |source| Error::Format {
        path: opened.data_path.clone(),
        source,
    };
    let spans: Vec<(u64, u64)> = match chunk_offsets {
        None => vec![(0, len)],
        Some(offs) => offs
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let end = offs.get(i + 1).map_or(len, |n| n.0);
                (o.0, end.saturating_sub(4).max(o.0))
            })
            .collect(),
    };
    const STEP: u64 = 1 << 20;
    for (from, to) in spans {
        let mut at = from;
        while at < to {
            let n = STEP.min(to - at);
            h.update(bytes.get(sstable_format::FileOffset(at), n).map_err(wrap)?);
            at += n;
        }
    }
    Ok(h)
}
