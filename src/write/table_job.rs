//! One table's export job: the table opened with its output shape ([`OpenedTable`]), and
//! its splits run on `--threads` threads, each reading its byte ranges into its own
//! [`ArrowSink`] ([`TableJob`], `run_splits`).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use sstable_format::reconcile::Now;
use sstable_format::schema::Schema;
use sstable_format::split::ByteRange;

use crate::config::{Compat, ExportPlan};
use crate::convert::arrow::MapOptions;
use crate::convert::shape::{output_shape, OutputShape};
use crate::discover::opened::OpenedSet;
use crate::discover::SstableSet;
use crate::error::Error;
use crate::io::Io;
use crate::plan::{split_bytes, storage_of, SplitWork};
use crate::read::live_rows::{LiveRows, RowStats};
use crate::read::open::open_table;
use crate::read::table_view::TableView;

use super::report::{MergeReport, StagedFile, TableReport};
use super::sink::{ArrowSink, SinkContext};

/// The opened sets of a table group and what every step needs of them.
#[derive(Debug)]
pub struct OpenedTable<'s> {
    /// The sets as discovered.
    pub sets: &'s [&'s SstableSet],
    /// The sets opened (`opened[i]` of `sets[i]`).
    pub opened: Vec<OpenedSet>,
    /// The table's columns.
    pub view: TableView,
    /// The output columns.
    pub shape: OutputShape,
    /// How CQL types map to Arrow.
    pub opts: MapOptions,
    /// `<keyspace>/<table>` under the destination.
    pub table_dir: String,
    /// The Data.db paths, in group order.
    pub data_paths: Vec<String>,
}

impl<'s> OpenedTable<'s> {
    /// Opens the sets of a table and works out its output shape under `plan`.
    pub fn open(
        io: &Io,
        sets: &'s [&'s SstableSet],
        user_schema: Option<&Schema>,
        plan: &ExportPlan,
    ) -> Result<Self, Error> {
        let opened = sets
            .iter()
            .map(|s| OpenedSet::open(io, s))
            .collect::<Result<Vec<_>, _>>()?;
        let (view, partitioner) = {
            let input = open_table(&opened, sets, None, user_schema)?;
            (input.view, input.partitioner)
        };
        let opts = MapOptions {
            decimal: plan.decimal,
            spark: plan.compat == Some(Compat::Spark),
        };
        let shape = output_shape(&view, partitioner, plan, opts)?;
        let table_dir = format!("{}/{}", segment(&view.keyspace), segment(&view.table));
        let data_paths = opened
            .iter()
            .map(|o| o.data_path.display().to_string())
            .collect();
        Ok(OpenedTable {
            sets,
            opened,
            view,
            shape,
            opts,
            table_dir,
            data_paths,
        })
    }

    /// Stored bytes of the table's Data.db files.
    pub fn stored_bytes(&self) -> u64 {
        self.opened
            .iter()
            .map(|o| storage_of(o).stored_length())
            .sum()
    }

    /// Whether every set has a partition index (planning splits reads it; without one it
    /// scans Data.db).
    pub fn indexed(&self) -> bool {
        use sstable_format::descriptor::ComponentName;
        self.opened.iter().all(|o| {
            o.set.components.contains_key(&ComponentName::Index)
                || o.set.components.contains_key(&ComponentName::Partitions)
        })
    }

    /// The `source` column's text: the Data.db file names.
    pub fn source_text(&self) -> String {
        self.data_paths
            .iter()
            .map(|p| {
                std::path::Path::new(p)
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    /// A report of the table with no rows yet.
    pub fn empty_report(&self) -> TableReport {
        TableReport {
            keyspace: self.view.keyspace.clone(),
            table: self.view.table.clone(),
            sstables: self.opened.len() as u64,
            partitions: 0,
            rows: 0,
            cells_deleted: 0,
            cells_expired: 0,
            merge: None,
            bytes_read: 0,
            bytes_written: 0,
            seconds: 0.0,
            files: Vec::new(),
        }
    }
}

/// Escapes a keyspace or table name for a path segment (they are `[A-Za-z0-9_]` in practice).
fn segment(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// What one split (or the whole table) gave.
#[derive(Debug)]
pub struct SplitOutcome {
    files: Vec<StagedFile>,
    stats: RowStats,
    merge: Option<sstable_format::merge::MergeStats>,
}

/// What every split of a table shares.
pub struct TableJob<'a> {
    /// The table.
    pub table: &'a OpenedTable<'a>,
    /// `--schema`.
    pub user_schema: Option<&'a Schema>,
    /// The instant TTLs are evaluated at.
    pub now: i64,
    /// What every split's sink shares.
    pub sink: SinkContext<'a, 'a>,
}

impl std::fmt::Debug for TableJob<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableJob")
            .field("table", &self.table.table_dir)
            .finish_non_exhaustive()
    }
}

impl TableJob<'_> {
    /// Exports split `index` (`ranges`: its byte range per set; `None`: the whole table).
    fn run_split(&self, index: usize, ranges: Option<&[ByteRange]>) -> Result<SplitOutcome, Error> {
        let t = self.table;
        let mut input = open_table(&t.opened, t.sets, ranges, self.user_schema)?;
        let mut sink = ArrowSink::new(&self.sink, index);
        let mut rows = LiveRows::new(
            &input.view,
            &input.mapping,
            input.partitioner,
            Now(self.now),
        );
        let result = rows.run(input.reader.reader(), &mut sink);
        input.name_failed_set(result)?;
        sink.finish()?;
        // The bar counts each split's uncompressed bytes once it is done, whatever was
        // reported on the way.
        self.sink
            .progress
            .inc(split_bytes(&t.opened, ranges).saturating_sub(sink.progress_reported()));
        Ok(SplitOutcome {
            files: sink.take_staged(),
            stats: rows.stats,
            merge: input.reader.merge_stats(),
        })
    }

    /// Runs `work` on up to `threads` threads; the table's report, or the error of the
    /// first split (in split order) that failed. After a failure no new split starts.
    pub fn run(
        &self,
        work: &[SplitWork],
        threads: usize,
        bytes_read: u64,
    ) -> Result<TableReport, Error> {
        let outcomes = run_splits(self, work, threads)?;
        let mut stats = RowStats::default();
        let mut merge: Option<MergeReport> = None;
        let mut files = Vec::new();
        for o in outcomes {
            stats.partitions += o.stats.partitions;
            stats.rows += o.stats.rows;
            stats.cells_deleted += o.stats.cells_deleted;
            stats.cells_expired += o.stats.cells_expired;
            if let Some(m) = o.merge {
                merge
                    .get_or_insert_with(MergeReport::default)
                    .add(&MergeReport::from(m));
            }
            files.extend(o.files);
        }
        Ok(TableReport {
            partitions: stats.partitions,
            rows: stats.rows,
            cells_deleted: stats.cells_deleted,
            cells_expired: stats.cells_expired,
            merge,
            bytes_read,
            bytes_written: files.iter().map(|f| f.bytes).sum(),
            files,
            ..self.table.empty_report()
        })
    }
}

/// Runs `work` (split index, ranges) on up to `threads` threads; the outcomes in split order,
/// or the error of the first split (in split order) that failed. After a failure no new split
/// starts.
fn run_splits(
    job: &TableJob<'_>,
    work: &[SplitWork],
    threads: usize,
) -> Result<Vec<SplitOutcome>, Error> {
    let workers = threads.min(work.len()).max(1);
    let mut results: Vec<(usize, Result<SplitOutcome, Error>)> = Vec::with_capacity(work.len());
    if workers == 1 {
        for (i, ranges) in work {
            let r = job.run_split(*i, ranges.as_deref());
            let failed = r.is_err();
            results.push((*i, r));
            if failed {
                break;
            }
        }
    } else {
        let next = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        let shared = Mutex::new(&mut results);
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| loop {
                    if failed.load(Ordering::Relaxed) {
                        break;
                    }
                    let Some((i, ranges)) = work.get(next.fetch_add(1, Ordering::Relaxed)) else {
                        break;
                    };
                    let r = job.run_split(*i, ranges.as_deref());
                    if r.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    if let Ok(mut v) = shared.lock() {
                        v.push((*i, r));
                    }
                });
            }
        });
    }
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}
