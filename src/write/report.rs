//! What an export did: the files it staged, each table's counts and merge statistics, and
//! the whole run (`--report FILE`, and the summary lines on stderr).

use serde::{Deserialize, Serialize};

use crate::config::ShardPlan;

/// A staged, complete part.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StagedFile {
    /// Final path, relative to the table's directory.
    pub path: String,
    /// Rows.
    pub rows: u64,
    /// Bytes.
    pub bytes: u64,
    /// Where the part is staged (known from its shard directory when read back from a marker).
    #[serde(skip)]
    pub staged: String,
}

/// What the merge of a table's sets did.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MergeReport {
    /// Partitions read over all sets.
    pub partitions_read: u64,
    /// Distinct partitions.
    pub partitions_out: u64,
    /// Rows read over all sets.
    pub rows_read: u64,
    /// Row versions merged away.
    pub rows_superseded: u64,
    /// Cell versions that lost.
    pub cells_superseded: u64,
    /// Tombstones seen.
    pub tombstones: u64,
}

impl From<sstable_format::merge::MergeStats> for MergeReport {
    fn from(m: sstable_format::merge::MergeStats) -> Self {
        MergeReport {
            partitions_read: m.partitions_read,
            partitions_out: m.partitions_out,
            rows_read: m.rows_read,
            rows_superseded: m.rows_superseded,
            cells_superseded: m.cells_superseded,
            tombstones: m.tombstones,
        }
    }
}

impl MergeReport {
    /// Adds another merge's counts.
    pub fn add(&mut self, o: &MergeReport) {
        self.partitions_read += o.partitions_read;
        self.partitions_out += o.partitions_out;
        self.rows_read += o.rows_read;
        self.rows_superseded += o.rows_superseded;
        self.cells_superseded += o.cells_superseded;
        self.tombstones += o.tombstones;
    }
}

/// One table's export.
#[derive(Debug, Clone, Serialize)]
pub struct TableReport {
    /// Keyspace.
    pub keyspace: String,
    /// Table.
    pub table: String,
    /// SSTables read.
    pub sstables: u64,
    /// Partitions out.
    pub partitions: u64,
    /// Rows written.
    pub rows: u64,
    /// Cells hidden by deletions.
    pub cells_deleted: u64,
    /// Cells hidden by TTL expiry.
    pub cells_expired: u64,
    /// Merge statistics (several sets).
    pub merge: Option<MergeReport>,
    /// Bytes of Data.db read.
    pub bytes_read: u64,
    /// Parquet bytes written.
    pub bytes_written: u64,
    /// Seconds.
    pub seconds: f64,
    /// Files published.
    pub files: Vec<StagedFile>,
}

/// A table that `--on-error skip` left out: what failed, where.
#[derive(Debug, Clone, Serialize)]
pub struct FailedTable {
    /// Keyspace (`?` when unknown).
    pub keyspace: String,
    /// Table (`?` when unknown).
    pub table: String,
    /// The file the error is about, when it names one.
    pub file: Option<String>,
    /// The SSTable component (`Data.db`, `Index.db`…), when known.
    pub component: Option<String>,
    /// The byte offset in that component, when known.
    pub offset: Option<u64>,
    /// The error.
    pub error: String,
}

impl FailedTable {
    /// The failure of table `keyspace.table`: the file, component and offset `e` names.
    pub fn new(keyspace: &str, table: &str, e: &crate::error::Error) -> FailedTable {
        use crate::error::Error;
        fn format_location(f: &sstable_format::Error) -> (Option<String>, Option<u64>) {
            use sstable_format::Error as F;
            let offset = match f {
                F::Truncated { offset, .. }
                | F::Invalid { offset, .. }
                | F::ChecksumMismatch { offset, .. }
                | F::Decompress { offset, .. }
                | F::Source { offset, .. }
                | F::Unsupported { offset, .. } => Some(*offset),
                _ => None,
            };
            (f.component().map(|c| c.to_string()), offset)
        }
        fn locate(e: &Error) -> (Option<String>, Option<String>, Option<u64>) {
            match e {
                Error::Format { path, source } => {
                    let (c, o) = format_location(source);
                    (Some(path.display().to_string()), c, o)
                }
                Error::Decode(source) => {
                    let (c, o) = format_location(source);
                    (None, c, o)
                }
                Error::Io { path, .. } | Error::Discovery { path, .. } => {
                    (Some(path.display().to_string()), None, None)
                }
                Error::MissingComponent { set, component } => {
                    (Some(set.clone()), Some((*component).to_string()), None)
                }
                Error::Store { path, .. } => (Some(path.clone()), None, None),
                Error::Several { first, .. } => locate(first),
                _ => (None, None, None),
            }
        }
        let (file, component, offset) = locate(e);
        FailedTable {
            keyspace: keyspace.to_string(),
            table: table.to_string(),
            file: file.map(|f| crate::io::secrets::redact_url(&f)),
            component,
            offset,
            error: crate::io::secrets::redact(&e.to_string()),
        }
    }
}

/// The whole run (`--report FILE`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunReport {
    /// Tool version.
    pub tool_version: String,
    /// Run id (part of every file name).
    pub run_id: String,
    /// Destination.
    pub destination: String,
    /// Tables.
    pub tables: Vec<TableReport>,
    /// Totals.
    pub sstables: u64,
    /// Partitions.
    pub partitions: u64,
    /// Rows.
    pub rows: u64,
    /// Files.
    pub files: u64,
    /// Data.db bytes read.
    pub bytes_read: u64,
    /// Parquet bytes written.
    pub bytes_written: u64,
    /// Wall time.
    pub seconds: f64,
    /// Tables not exported (`--on-error skip`), with what failed.
    pub failed: Vec<FailedTable>,
}

impl TableReport {
    /// One line: the table, what was read and written, and what the merge did.
    pub fn summary(&self, shard: Option<&ShardPlan>) -> String {
        format!(
            "{}.{}{}: {} sstable(s), {} partition(s), {} row(s) in {} file(s), {} byte(s){}",
            self.keyspace,
            self.table,
            shard
                .map(|s| format!(" (shard {} of {}, staged for --commit)", s.index, s.count))
                .unwrap_or_default(),
            self.sstables,
            self.partitions,
            self.rows,
            self.files.len(),
            self.bytes_written,
            self.merge
                .as_ref()
                .map(|m| format!(
                    "; merge: {} partition(s) read, {} row version(s) merged, {} cell version(s) superseded, {} tombstone(s)",
                    m.partitions_read, m.rows_superseded, m.cells_superseded, m.tombstones
                ))
                .unwrap_or_default()
        )
    }
}

impl RunReport {
    /// Adds up the tables' counts into the run's totals.
    pub fn total(&mut self) {
        for t in &self.tables {
            self.sstables += t.sstables;
            self.partitions += t.partitions;
            self.rows += t.rows;
            self.files += t.files.len() as u64;
            self.bytes_read += t.bytes_read;
            self.bytes_written += t.bytes_written;
        }
    }

    /// One line: what the run read and wrote, and how fast.
    pub fn summary(&self) -> String {
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        let secs = self.seconds.max(1e-9);
        format!(
            "{} table(s), {} sstable(s), {} partition(s), {} row(s) in {} file(s); read {:.1} MiB, wrote {:.1} MiB in {:.2} s ({:.1} MiB/s read, {:.0} rows/s)",
            self.tables.len(),
            self.sstables,
            self.partitions,
            self.rows,
            self.files,
            mib(self.bytes_read),
            mib(self.bytes_written),
            self.seconds,
            mib(self.bytes_read) / secs,
            self.rows as f64 / secs
        )
    }
}
