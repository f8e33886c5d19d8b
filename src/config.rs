//! The validated configuration of a run: what each command does, decided before any I/O.
//!
//! These are the "high-level arguments" (ripgrep's hiargs): the command-line module parses
//! the command line and validates it into one [`Plan`]; every other module reads only these
//! types, never the clap structs. A leaf module: it imports nothing of the crate, so that
//! renaming a flag touches only the command-line module.

use std::path::PathBuf;

/// Parquet page compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// zstd (level 3).
    Zstd,
    /// Snappy.
    Snappy,
    /// LZ4 (raw).
    Lz4,
    /// gzip.
    Gzip,
    /// None.
    None,
}

/// Engines with a narrower type set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compat {
    /// Apache Spark 4.
    Spark,
}

/// What `export` does when a table cannot be exported (`--on-error`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// Stop at the first table that fails (exit 1).
    #[default]
    Fail,
    /// Export and publish the other tables, list the failed ones in the run report, exit 1.
    Skip,
}

/// Where `export` writes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum Destination {
    /// A local directory.
    Local(PathBuf),
    /// A bucket of an object store, and the key prefix inside it (no leading/trailing `/`).
    Remote {
        /// Which store.
        store: RemoteStore,
        /// Bucket name.
        bucket: String,
        /// Key prefix (may be empty).
        prefix: String,
    },
}

impl std::fmt::Display for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Destination::Local(dir) => write!(f, "{}", dir.display()),
            Destination::Remote {
                store,
                bucket,
                prefix,
            } => {
                let scheme = match store {
                    RemoteStore::S3 => "s3",
                    RemoteStore::Gcs => "gs",
                };
                if prefix.is_empty() {
                    write!(f, "{scheme}://{bucket}")
                } else {
                    write!(f, "{scheme}://{bucket}/{prefix}")
                }
            }
        }
    }
}

/// Object stores `export` writes to and inputs are read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RemoteStore {
    /// Amazon S3 and S3-compatible stores (`s3://`).
    S3,
    /// Google Cloud Storage (`gs://`).
    Gcs,
}

/// `--s3-url-style`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum S3UrlStyle {
    /// `https://endpoint/bucket/key`.
    Path,
    /// `https://bucket.endpoint/key`.
    Virtual,
}

/// How to reach an object store destination (`--endpoint` and friends).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoreOptions {
    /// `--endpoint`.
    pub endpoint: Option<String>,
    /// `--region`.
    pub region: Option<String>,
    /// `--allow-http`.
    pub allow_http: bool,
    /// `--s3-url-style`.
    pub s3_url_style: Option<S3UrlStyle>,
    /// `--gcs-service-account`.
    pub gcs_service_account: Option<PathBuf>,
    /// `--upload-part-size`, bytes.
    pub upload_part_size: usize,
}

/// How row groups are cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum RowGroupSize {
    /// At most this many rows.
    Rows(usize),
    /// When the buffered encoded size reaches this many bytes.
    Bytes(u64),
}

/// `--partition-by`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum PartitionBy {
    /// By the column's value.
    Column(String),
    /// By the UTC day of a timestamp or date column.
    Date(String),
}

/// A validated `export` run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExportPlan {
    /// Input paths.
    pub paths: Vec<PathBuf>,
    /// Destination.
    pub out: Destination,
    /// How to reach an object store destination (and s3:// / gs:// inputs).
    pub store: StoreOptions,
    /// How Data.db objects are read.
    pub read: ReadOptions,
    /// Schema file.
    pub schema: Option<PathBuf>,
    /// When TTLs are evaluated.
    #[serde(skip)]
    pub now: NowPlan,
    /// Target file size in bytes.
    pub target_file_size: u64,
    /// Row group size.
    pub row_group_size: RowGroupSize,
    /// Codec.
    pub compression: Compression,
    /// Bloom filters on key columns.
    pub bloom_filter: bool,
    /// Hive-style partitioning.
    pub partition_by: Option<PartitionBy>,
    /// `--decimal P,S`.
    pub decimal: Option<(u8, i8)>,
    /// `--compat`.
    pub compat: Option<Compat>,
    /// Metadata columns.
    pub with_writetime: bool,
    /// `ttl(col)` columns.
    pub with_ttl: bool,
    /// `token` column.
    pub with_token: bool,
    /// `source` column.
    pub with_source: bool,
    /// JSON report file.
    pub report: Option<PathBuf>,
    /// Test hook.
    #[serde(skip)]
    pub fail_after_parts: Option<u64>,
    /// `--on-error`.
    #[serde(skip)]
    pub on_error: OnError,
    /// This run's shard (it stages its parts for `--commit`).
    #[serde(skip)]
    pub shard: Option<ShardPlan>,
    /// `--commit`: publish the staged parts of this many shards.
    #[serde(skip)]
    pub commit: Option<CommitPlan>,
    /// Splits per table when not sharded (`None`: from the table's size and the threads).
    #[serde(skip)]
    pub splits: Option<usize>,
    /// Splits exported at the same time (at least 1).
    #[serde(skip)]
    pub threads: usize,
}

/// `export --commit --shards N [--splits M]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitPlan {
    /// Number of shards.
    pub count: usize,
    /// Splits per table of the shard runs.
    pub splits: usize,
}

impl ExportPlan {
    /// The evaluation instant (seconds); `Snapshot` must have been resolved per table.
    pub fn at(&self) -> i64 {
        match self.now {
            NowPlan::At(t) => t,
            NowPlan::Snapshot => 0,
        }
    }
}

/// How `Data.db` objects are read (`--read-block-size`, `--read-ahead`, `--read-retries`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ReadOptions {
    /// Bytes per ranged GET.
    pub block_size: u64,
    /// Blocks fetched ahead of the one being decoded.
    pub read_ahead: usize,
    /// Retries of a failed request (with exponential backoff).
    pub retries: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            block_size: 8 << 20,
            read_ahead: 2,
            retries: 10,
        }
    }
}

/// A validated `inspect` run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectPlan {
    /// Input paths.
    pub paths: Vec<PathBuf>,
    /// How s3:// and gs:// inputs are reached.
    pub store: StoreOptions,
    /// How Data.db objects are read.
    pub read: ReadOptions,
    /// JSON output.
    pub json: bool,
    /// Verify checksums, digests and the rows.
    pub verify: bool,
    /// Schema file (for decoding 2.x rows under `--verify`).
    pub schema: Option<PathBuf>,
}

/// A validated `dump` run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpPlan {
    /// Input paths.
    pub paths: Vec<PathBuf>,
    /// How s3:// and gs:// inputs are reached.
    pub store: StoreOptions,
    /// How Data.db objects are read.
    pub read: ReadOptions,
    /// Schema file.
    pub schema: Option<PathBuf>,
    /// On-disk view instead of live rows.
    pub raw: bool,
    /// When TTLs are evaluated.
    pub now: NowPlan,
    /// Read only this shard's splits of every table.
    pub shard: Option<ShardPlan>,
}

/// Which share of every table a `dump` reads: the splits `i` with `i mod count == index` of a
/// plan of `splits` splits per table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardPlan {
    /// This shard, `0..count`.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
    /// Splits per table (at least 1).
    pub splits: usize,
}

/// A validated `plan` run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitsPlan {
    /// Input paths.
    pub paths: Vec<PathBuf>,
    /// How s3:// and gs:// inputs are reached.
    pub store: StoreOptions,
    /// How Data.db objects are read.
    pub read: ReadOptions,
    /// Splits per table (at least 1).
    pub splits: usize,
    /// JSON output.
    pub json: bool,
    /// Output file.
    pub out: Option<PathBuf>,
}

/// The instant TTLs are evaluated at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NowPlan {
    /// Seconds since the epoch.
    At(i64),
    /// Each table's snapshot time.
    Snapshot,
}

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// `inspect`.
    Inspect(InspectPlan),
    /// `dump`.
    Dump(DumpPlan),
    /// `plan`.
    Splits(SplitsPlan),
    /// `export`.
    Export(Box<ExportPlan>),
}

impl DumpPlan {
    /// The evaluation instant (seconds); `Snapshot` must have been resolved per table.
    pub fn at(&self) -> i64 {
        match self.now {
            NowPlan::At(t) => t,
            NowPlan::Snapshot => 0,
        }
    }
}

impl Plan {
    /// How the run reaches object stores and reads `Data.db` objects.
    pub fn io_options(&self) -> (&StoreOptions, ReadOptions) {
        match self {
            Plan::Inspect(p) => (&p.store, p.read),
            Plan::Dump(p) => (&p.store, p.read),
            Plan::Splits(p) => (&p.store, p.read),
            Plan::Export(p) => (&p.store, p.read),
        }
    }
}

impl Default for StoreOptions {
    /// The standard environment of each cloud, 8 MiB upload parts.
    fn default() -> Self {
        StoreOptions {
            endpoint: None,
            region: None,
            allow_http: false,
            s3_url_style: None,
            gcs_service_account: None,
            upload_part_size: 8 << 20,
        }
    }
}
