//! The publish/commit protocol that makes a table's export atomic and repeatable:
//!
//! 1. [`begin`]: `_SUCCESS` of the table is removed, as are staging leftovers of interrupted
//!    runs (of this shard only, when sharded);
//! 2. the parts are written under [`staging_dir`] (`_staging/<run>/`, or the shard's
//!    `_shards/<K>-of-<N>/`) by the sink, each one a multipart upload;
//! 3. [`publish`]: the previous run's files of the table are deleted, the staged parts moved to
//!    their final names, then `_manifest.json` and, last, `_SUCCESS` are written. Object
//!    stores have no rename: a move there is a server-side copy, then a delete.
//!
//! A shard ends step 2 with [`leave_marker`] (`_DONE.json`, carrying the [`plan_id`]); a
//! `--commit` run ([`commit_table`]) publishes only when all N markers carry the id it
//! computes itself, then removes `_shards/`.

use std::collections::HashSet;
use std::time::Instant;

use crate::write::store::object_path;
use serde::{Deserialize, Serialize};
use sstable_format::schema::Schema;

use crate::config::{CommitPlan, ExportPlan, ShardPlan};
use crate::convert::shape::OutputShape;
use crate::discover::opened::OpenedSet;
use crate::discover::SstableSet;
use crate::error::Error;
use crate::io::Io;
use crate::plan::{storage_of, SplitWork};

use super::manifest::{Manifest, ManifestColumn, ManifestOptions};
use super::report::{MergeReport, StagedFile, TableReport};
use super::store::OutputStore;
use super::table_job::OpenedTable;

/// Where a run stages the parts of a table: `<table>/_staging/<run>`, or the shard's
/// directory.
pub fn staging_dir(table_dir: &str, run_id: &str, shard: Option<&ShardPlan>) -> String {
    match shard {
        Some(sh) => shard_dir(table_dir, sh.index, sh.count),
        None => format!("{table_dir}/_staging/{run_id}"),
    }
}

/// Step 1: the table is being rewritten: no `_SUCCESS`, no leftovers of this shard's (or of
/// unsharded) earlier runs.
pub fn begin(
    dest: &OutputStore,
    table_dir: &str,
    staging: &str,
    sharded: bool,
) -> Result<(), Error> {
    dest.delete(&object_path(format!("{table_dir}/_SUCCESS")))?;
    // Unsharded runs of a table stage under its `_staging/` only: all of it is leftovers
    // (killed runs' parts, finished or not). A shard clears its own directory only: the
    // others may be running.
    if sharded {
        dest.clear(staging)
    } else {
        dest.clear(&format!("{table_dir}/_staging"))
    }
}

/// The end of an unsharded run: [`publish`], then the emptied staging directories of a local
/// destination are removed (directories are not objects).
pub fn publish_run(
    dest: &OutputStore,
    plan: &ExportPlan,
    t: &OpenedTable<'_>,
    run_id: &str,
    report: &TableReport,
) -> Result<(), Error> {
    publish(dest, plan, t, run_id, report)?;
    // This run's parts are moved; what is left (emptied directories) goes.
    dest.clear(&format!("{}/_staging", t.table_dir))
}

/// Step 3: publishes a table: drops the files of earlier runs, moves the staged parts to
/// their final names, then writes `_manifest.json` and, last, `_SUCCESS`. Safe to repeat
/// after an interruption: a part already moved is found at its final name.
pub fn publish(
    dest: &OutputStore,
    plan: &ExportPlan,
    t: &OpenedTable<'_>,
    run_id: &str,
    report: &TableReport,
) -> Result<(), Error> {
    let table_dir = t.table_dir.as_str();
    // Listed paths are encoded (`ObjectPath`): compare them with encoded paths (issue 11.9).
    let encoded = |s: String| object_path(s).as_ref().to_string();
    let finals: HashSet<String> = report
        .files
        .iter()
        .map(|f| encoded(format!("{table_dir}/{}", f.path)))
        .collect();
    let staging = encoded(format!("{table_dir}/_staging")) + "/";
    let shards = encoded(format!("{table_dir}/_shards")) + "/";
    for old in dest.list(&object_path(table_dir))? {
        let p = old.as_ref();
        if !p.starts_with(&staging) && !p.starts_with(&shards) && !finals.contains(p) {
            dest.delete(&old)?;
        }
    }
    for f in &report.files {
        let from = object_path(f.staged.as_str());
        let to = object_path(format!("{table_dir}/{}", f.path));
        dest.rename(&from, &to)?;
    }
    let manifest = Manifest {
        tool: "sstable-lake",
        tool_version: env!("CARGO_PKG_VERSION"),
        run_id: run_id.to_string(),
        keyspace: t.view.keyspace.clone(),
        table: t.view.table.clone(),
        rows: report.rows,
        bytes: report.bytes_written,
        files: report.files.clone(),
        schema: t
            .shape
            .schema
            .fields()
            .iter()
            .map(|f| ManifestColumn {
                name: f.name().clone(),
                arrow_type: f.data_type().to_string(),
            })
            .collect(),
        source_sstables: t.data_paths.clone(),
        options: ManifestOptions::from(plan),
        partition_by: t.shape.partition.as_ref().map(|(_, _, _, d)| d.clone()),
    };
    let text = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| Error::Export(format!("manifest: {e}")))?;
    dest.put(&object_path(format!("{table_dir}/_manifest.json")), text)?;
    dest.put(&object_path(format!("{table_dir}/_SUCCESS")), Vec::new())?;
    Ok(())
}

/// FNV-1a: a hash that stays the same across builds and machines.
fn fnv1a(h: &mut u64, bytes: &[u8]) {
    for b in bytes {
        *h ^= u64::from(*b);
        *h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // A separator, so that ("ab","c") and ("a","bc") differ.
    *h ^= 0xff;
    *h = h.wrapping_mul(0x0100_0000_01b3);
}

/// Identifies a sharded plan of a table: its sets (Data.db name and stored size, in group
/// order), shards, splits and output schema. Shards and `--commit` of one export agree on it.
pub fn plan_id(
    opened: &[OpenedSet],
    table_dir: &str,
    shards: usize,
    splits: usize,
    shape: &OutputShape,
) -> String {
    let mut h = 0xcbf2_9ce4_8422_2325_u64;
    fnv1a(&mut h, table_dir.as_bytes());
    fnv1a(&mut h, &(shards as u64).to_le_bytes());
    fnv1a(&mut h, &(splits as u64).to_le_bytes());
    for o in opened {
        let name = o
            .data_path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        fnv1a(&mut h, name.as_bytes());
        fnv1a(&mut h, &storage_of(o).stored_length().to_le_bytes());
    }
    for f in shape.schema.fields() {
        fnv1a(&mut h, f.name().as_bytes());
        fnv1a(&mut h, f.data_type().to_string().as_bytes());
    }
    format!("{h:016x}")
}

/// The directory under a table's where shard `index` of `count` stages its parts.
fn shard_dir(table_dir: &str, index: usize, count: usize) -> String {
    format!("{table_dir}/_shards/{index}-of-{count}")
}

/// What a finished shard leaves for `--commit`: `<shard dir>/_DONE.json`.
#[derive(Debug, Serialize, Deserialize)]
struct ShardMarker {
    plan_id: String,
    shard: usize,
    shards: usize,
    splits: usize,
    run_id: String,
    /// The splits this shard exported.
    split_indexes: Vec<usize>,
    files: Vec<StagedFile>,
    sstables: u64,
    partitions: u64,
    rows: u64,
    cells_deleted: u64,
    cells_expired: u64,
    merge: Option<MergeReport>,
    bytes_read: u64,
    source_sstables: Vec<String>,
}

/// The end of a shard's run: its marker `_DONE.json` in its staging directory, for
/// `--commit`.
pub fn leave_marker(
    dest: &OutputStore,
    t: &OpenedTable<'_>,
    sh: &ShardPlan,
    run_id: &str,
    work: &[SplitWork],
    report: &TableReport,
) -> Result<(), Error> {
    let marker = ShardMarker {
        plan_id: plan_id(&t.opened, &t.table_dir, sh.count, sh.splits, &t.shape),
        shard: sh.index,
        shards: sh.count,
        splits: sh.splits,
        run_id: run_id.to_string(),
        split_indexes: work.iter().map(|(i, _)| *i).collect(),
        files: report.files.clone(),
        sstables: report.sstables,
        partitions: report.partitions,
        rows: report.rows,
        cells_deleted: report.cells_deleted,
        cells_expired: report.cells_expired,
        merge: report.merge.clone(),
        bytes_read: report.bytes_read,
        source_sstables: t.data_paths.clone(),
    };
    let text = serde_json::to_vec_pretty(&marker)
        .map_err(|e| Error::Export(format!("shard marker: {e}")))?;
    let staging = shard_dir(&t.table_dir, sh.index, sh.count);
    dest.put(&object_path(format!("{staging}/_DONE.json")), text)?;
    Ok(())
}

/// `--commit`: publishes a table whose shards have all finished. `Ok(Err(missing))` names the
/// shards that have not (nothing of the table is then changed).
pub fn commit_table(
    io: &Io,
    sets: &[&SstableSet],
    user_schema: Option<&Schema>,
    plan: &ExportPlan,
    commit: CommitPlan,
    dest: &OutputStore,
    run_id: &str,
) -> Result<Result<TableReport, String>, Error> {
    let started = Instant::now();
    let t = OpenedTable::open(io, sets, user_schema, plan)?;
    let table_dir = t.table_dir.as_str();
    let id = plan_id(&t.opened, table_dir, commit.count, commit.splits, &t.shape);
    let mut markers = Vec::with_capacity(commit.count);
    let mut missing = Vec::new();
    for k in 0..commit.count {
        let dir = shard_dir(table_dir, k, commit.count);
        let path = object_path(format!("{dir}/_DONE.json"));
        let Some(bytes) = dest.get(&path)? else {
            missing.push(format!("{k} (not finished)"));
            continue;
        };
        let mut marker: ShardMarker = serde_json::from_slice(&bytes).map_err(|e| Error::Store {
            path: path.to_string(),
            message: format!("unreadable shard marker: {e}"),
        })?;
        if marker.plan_id != id {
            missing.push(format!(
                "{k} (run with other inputs, --splits or output options: plan {} instead of {id})",
                marker.plan_id
            ));
            continue;
        }
        for f in &mut marker.files {
            f.staged = format!("{dir}/{}", f.path);
        }
        markers.push(marker);
    }
    if !missing.is_empty() {
        return Ok(Err(format!(
            "{}.{}: shard(s) {} of {}",
            t.view.keyspace,
            t.view.table,
            missing.join(", "),
            commit.count
        )));
    }
    let mut report = t.empty_report();
    for m in markers {
        report.partitions += m.partitions;
        report.rows += m.rows;
        report.cells_deleted += m.cells_deleted;
        report.cells_expired += m.cells_expired;
        report.bytes_read += m.bytes_read;
        if let Some(mr) = &m.merge {
            report
                .merge
                .get_or_insert_with(MergeReport::default)
                .add(mr);
        }
        report.files.extend(m.files);
    }
    report.files.sort_by(|a, b| a.path.cmp(&b.path));
    report.bytes_written = report.files.iter().map(|f| f.bytes).sum();
    publish(dest, plan, &t, run_id, &report)?;
    // The shards' markers (and, on a local disk, their emptied directories) go last, with the
    // leftovers of unsharded runs killed before (all shards have finished).
    dest.clear(&format!("{table_dir}/_shards"))?;
    dest.clear(&format!("{table_dir}/_staging"))?;
    report.seconds = started.elapsed().as_secs_f64();
    eprintln!("commit {}", report.summary(None));
    Ok(Ok(report))
}
