//! `sstable-lake export`: the live rows of every table under the inputs as Parquet files in
//! `DEST/<keyspace>/<table>/[<hive dirs>/]part-<run>-<split>-<n>.parquet`, written through
//! `object_store`: a local directory, or an S3 / GCS bucket chosen by the URL scheme.
//!
//! A table is cut into splits (token ranges whose partitions merge on their own, see
//! [`crate::plan`]): one when small or with `--threads 1`, else by stored size; `--threads` of
//! them run at once, each writing its own parts.
//!
//! A table's run is atomic and repeatable:
//! 1. `_SUCCESS` of the table is removed, as are staging leftovers of interrupted runs;
//! 2. parts are written under `_staging/<run>/` (each one a multipart upload, so a part is
//!    visible there only once complete);
//! 3. publishing deletes the previous run's files of the table, moves the staged parts to
//!    their final names, then writes `_manifest.json` and, last, `_SUCCESS`. Object stores
//!    have no rename: a move there is a server-side copy, then the delete of the staged part.
//!
//! An interrupted run leaves no `_SUCCESS`; the next run starts the table over, so no row is
//! ever published twice.
//!
//! Sharded (`--shard K/N`): shard K stages the parts of its splits under
//! `_shards/<K>-of-<N>/` (clearing its own earlier attempt) and writes `_DONE.json` there with
//! the plan's id (sets, N, splits, output schema), its files and counts. `--commit --shards N`
//! publishes (step 3) only when all N markers carry the id it computes itself, then removes
//! `_shards/`; otherwise it names the missing shards and changes nothing.

use std::io::IsTerminal;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sstable_format::schema::Schema;

use crate::config::{ExportPlan, NowPlan, OnError, RowGroupSize};
use crate::discover::{discover, SstableSet};
use crate::error::Error;
use crate::io::Io;
use crate::plan::{auto_splits, split_bytes, split_work};
use crate::read::open::{read_schema, resolve_now};
use crate::write::commit::{self, commit_table};
use crate::write::report::{FailedTable, RunReport, TableReport};
use crate::write::sink::{writer_properties, SinkContext};
use crate::write::store::OutputStore;
use crate::write::table_job::{OpenedTable, TableJob};

use super::starts::legacy_starts;

/// Rows per Arrow batch handed to the Parquet writer.
const BATCH_ROWS: usize = 8192;

/// Runs `export`.
pub fn run(io: &Io, plan: &ExportPlan) -> Result<(), Error> {
    let started = Instant::now();
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
    let dest = OutputStore::open(io, &plan.out, &plan.store)?;
    let run_id = run_id();
    let progress = progress_bar();
    let mut report = RunReport {
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        run_id: run_id.clone(),
        destination: dest.display.clone(),
        ..RunReport::default()
    };
    let parts_staged = AtomicU64::new(0);
    let mut missing = Vec::new();
    for resolved in crate::read::resolve::resolve_tables(&discovery, user_schema.as_ref())? {
        let (group, user_schema) = (resolved.group, resolved.schema);
        let now = resolve_now(io, plan.now, &group.sets, &discovery);
        let plan = ExportPlan {
            now: NowPlan::At(now),
            ..plan.clone()
        };
        let user_schema = user_schema.as_ref();
        if let Some(commit) = plan.commit {
            match commit_table(io, &group.sets, user_schema, &plan, commit, &dest, &run_id)? {
                Ok(t) => report.tables.push(t),
                Err(m) => missing.push(m),
            }
            continue;
        }
        let run = TableRun {
            io,
            plan: &plan,
            dest: &dest,
            run_id: &run_id,
            progress: &progress,
            parts_staged: &parts_staged,
        };
        match run.export_table(&group.sets, user_schema) {
            Ok(t) => report.tables.push(t),
            // --on-error skip: the table is left unpublished (its `_SUCCESS` is gone, its
            // staged parts are cleared by the next run) and listed; the others go on.
            Err(e) if plan.on_error == OnError::Skip => {
                let failed = FailedTable::new(
                    group.keyspace.unwrap_or("?"),
                    group.table.unwrap_or("?"),
                    &e,
                );
                progress.suspend(|| {
                    eprintln!(
                        "export {}.{}: FAILED, skipped (--on-error skip): {}",
                        failed.keyspace, failed.table, failed.error
                    );
                });
                report.failed.push(failed);
            }
            Err(e) => return Err(e),
        }
    }
    progress.finish_and_clear();
    report.seconds = started.elapsed().as_secs_f64();
    report.total();
    eprintln!("export: {}", report.summary());
    if let Some(path) = &plan.report {
        let text = serde_json::to_string_pretty(&report)
            .map_err(|e| Error::Export(format!("report: {e}")))?;
        std::fs::write(path, text + "\n").map_err(|e| Error::io(path, e))?;
    }
    if !missing.is_empty() {
        return Err(Error::Export(format!(
            "--commit: {} table(s) not published, their shards have not all finished: {}",
            missing.len(),
            missing.join("; ")
        )));
    }
    if !report.failed.is_empty() {
        return Err(Error::Export(format!(
            "{} table(s) failed and were skipped (--on-error skip), the other {} published: {}",
            report.failed.len(),
            report.tables.len(),
            report
                .failed
                .iter()
                .map(|f| format!("{}.{}", f.keyspace, f.table))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(())
}

/// `<seconds since the epoch, hex>-<pid, hex>`: sorts by start time, unique per host.
fn run_id() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!(
        "{:x}{:05x}-{:x}",
        now.as_secs(),
        now.subsec_micros(),
        std::process::id()
    )
}

/// A progress bar of the bytes read, on a terminal only.
fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {elapsed} {msg} [{wide_bar}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar
}

/// What the export of every table of the run shares.
struct TableRun<'r> {
    io: &'r Io,
    plan: &'r ExportPlan,
    dest: &'r OutputStore,
    run_id: &'r str,
    progress: &'r ProgressBar,
    parts_staged: &'r AtomicU64,
}

impl TableRun<'_> {
    /// Exports one table: plans the splits this run reads, stages their parts, then publishes
    /// the table (or, for a shard, leaves its marker for `--commit`).
    fn export_table(
        &self,
        sets: &[&SstableSet],
        user_schema: Option<&Schema>,
    ) -> Result<TableReport, Error> {
        let (plan, dest, run_id, progress) = (self.plan, self.dest, self.run_id, self.progress);
        let started = Instant::now();
        let t = OpenedTable::open(self.io, sets, user_schema, plan)?;
        let table_dir = t.table_dir.as_str();
        progress.set_message(table_dir.to_string());

        // The splits this run exports: this shard's share, or all of them. Without a partition
        // index, planning would scan Data.db once more: not worth it unless asked for.
        let stored = t.stored_bytes();
        let n_splits = match plan.shard {
            Some(sh) => sh.splits,
            None if !t.indexed() && plan.splits.is_none() => 1,
            None => auto_splits(plan.splits, plan.threads, stored),
        };
        let scan = |i| legacy_starts(&t.opened, sets, user_schema, i);
        let (work, estimated) = split_work(&t.opened, n_splits, plan.shard.as_ref(), Some(&scan))?;
        let bytes_read = estimated.unwrap_or(stored);
        progress.set_length(
            work.iter()
                .map(|(_, r)| split_bytes(&t.opened, r.as_deref()))
                .sum(),
        );
        progress.set_position(0);
        progress.reset_eta();

        // 1. No _SUCCESS while the table is rewritten, no leftovers of earlier runs.
        let staging = commit::staging_dir(table_dir, run_id, plan.shard.as_ref());
        commit::begin(dest, table_dir, &staging, plan.shard.is_some())?;

        // 2. Stage the parts, splits in parallel.
        let rows_done = AtomicU64::new(0);
        let job = TableJob {
            table: &t,
            user_schema,
            now: plan.at(),
            sink: SinkContext {
                shape: &t.shape,
                opts: t.opts,
                dest,
                plan,
                props: writer_properties(plan, &t.shape),
                table_dir,
                staging: &staging,
                run_id,
                source_text: t.source_text(),
                batch_rows: match plan.row_group_size {
                    RowGroupSize::Rows(n) => n.min(BATCH_ROWS),
                    RowGroupSize::Bytes(_) => BATCH_ROWS,
                },
                parts_staged: self.parts_staged,
                progress,
                rows_done: &rows_done,
            },
        };
        let mut report = job.run(&work, plan.threads, bytes_read)?;

        // 3. A shard leaves its marker for --commit; an unsharded run publishes.
        match &plan.shard {
            Some(sh) => commit::leave_marker(dest, &t, sh, run_id, &work, &report)?,
            None => commit::publish_run(dest, plan, &t, run_id, &report)?,
        }
        report.seconds = started.elapsed().as_secs_f64();
        progress.suspend(|| eprintln!("export {}", report.summary(plan.shard.as_ref())));
        Ok(report)
    }
}
