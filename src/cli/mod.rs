//! The command line as typed: clap's structs for every subcommand and flag, and nothing
//! else. [`validate`] turns them into the [`crate::config::Plan`] the commands run.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::{Compat, Compression, OnError, S3UrlStyle};
use crate::error::Error;

pub mod validate;
pub mod values;

/// sstable-lake: read Cassandra and ScyllaDB SSTable backups without a cluster.
#[derive(Debug, Parser)]
#[command(name = "sstable-lake", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Describe every SSTable set found under the paths (version, sizes, timestamps, columns).
    Inspect(InspectArgs),
    /// Print the rows of the tables under the paths as JSON Lines (Cassandra's SELECT JSON).
    Dump(DumpArgs),
    /// Cut every table into token ranges of about equal stored bytes that each merge on their
    /// own, and print the Data.db byte and chunk ranges each one reads.
    Plan(PlanArgs),
    /// Write the live rows of every table under the paths as Parquet files:
    /// DEST/<keyspace>/<table>/part-*.parquet, then _manifest.json and _SUCCESS.
    Export(Box<ExportArgs>),
}

/// How `s3://` and `gs://` inputs are reached (the same flags as `export --out`'s).
#[derive(Debug, Args)]
struct StoreArgs {
    /// Object store endpoint instead of the cloud's own (MinIO, Ceph, an emulator), e.g.
    /// http://127.0.0.1:9000. For gs:// it is the base URL of the storage (XML) API.
    #[arg(long, value_name = "URL")]
    endpoint: Option<String>,
    /// S3 region (default: AWS_REGION / AWS_DEFAULT_REGION, else us-east-1).
    #[arg(long, value_name = "REGION")]
    region: Option<String>,
    /// Allow plain http:// endpoints (local MinIO/Ceph/emulators); https only otherwise.
    #[arg(long)]
    allow_http: bool,
    /// S3 request style: path (https://endpoint/bucket/key, the default) or virtual
    /// (https://bucket.endpoint/key; with --endpoint, give the bucket's own URL).
    #[arg(long, value_enum, value_name = "STYLE")]
    s3_url_style: Option<S3UrlStyle>,
    /// Google service account JSON key file for gs:// (default: GOOGLE_SERVICE_ACCOUNT, then
    /// GOOGLE_APPLICATION_CREDENTIALS / the gcloud application default credentials, then the
    /// instance metadata server).
    #[arg(long, value_name = "FILE")]
    gcs_service_account: Option<PathBuf>,
}

/// How Data.db objects are read (s3:// and gs:// inputs).
#[derive(Debug, Args)]
struct ReadArgs {
    /// Bytes per ranged GET of a Data.db object (memory per open Data.db: this times
    /// 1 + --read-ahead).
    #[arg(long, value_name = "SIZE", default_value = "8MiB")]
    read_block_size: String,
    /// Blocks of a Data.db object fetched ahead while the current one is decoded.
    #[arg(long, value_name = "N", default_value_t = 2)]
    read_ahead: usize,
    /// Retries of a failed object-store request (exponential backoff, 3 minutes at most).
    #[arg(long, value_name = "N", default_value_t = 10)]
    read_retries: usize,
}

#[derive(Debug, Args)]
struct PlanArgs {
    /// Files or directories (searched recursively) holding SSTables; also s3://BUCKET/PREFIX
    /// and gs://BUCKET/PREFIX (every object under the prefix, read in place).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    read: ReadArgs,
    /// Number of splits per table (at most 65536: a split smaller than a compression chunk
    /// or a partition is useless).
    #[arg(long, value_name = "N")]
    splits: usize,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Write the plan to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct InspectArgs {
    /// Files or directories (searched recursively) holding SSTables; also s3://BUCKET/PREFIX
    /// and gs://BUCKET/PREFIX (every object under the prefix, read in place).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    read: ReadArgs,
    /// Print one JSON object per set instead of text.
    #[arg(long)]
    json: bool,
    /// Check every chunk's checksum and the whole-file digest of Data.db, then decode every
    /// partition and row and check Cassandra's invariants (order, deletion times, TTLs, range
    /// tombstones).
    #[arg(long)]
    verify: bool,
    /// CQL file with CREATE TYPE / CREATE TABLE statements, needed by `--verify` to decode the
    /// rows of 2.x (ka/la/lb) sets that have no schema.cql beside them.
    #[arg(long, value_name = "FILE")]
    schema: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct DumpArgs {
    /// Files or directories (searched recursively) holding SSTables; also s3://BUCKET/PREFIX
    /// and gs://BUCKET/PREFIX (every object under the prefix, read in place).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    read: ReadArgs,
    /// CQL file with CREATE TYPE / CREATE TABLE statements (used when no schema.cql is beside
    /// the SSTables).
    #[arg(long, value_name = "FILE")]
    schema: Option<PathBuf>,
    /// Show what is on disk: every cell with its timestamp, TTL and deletion time, and every
    /// tombstone, instead of the live rows.
    #[arg(long)]
    raw: bool,
    /// The instant TTLs are evaluated at: RFC 3339 (`2018-09-08T04:31:40Z`), seconds since the
    /// epoch, or `snapshot` (each table's snapshot time: the manifest's `created_at`, else the
    /// newest SSTable file's modification time). Default: the time the run starts.
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
    /// Read only split K (0-based) of every table cut into N token ranges (see `plan`).
    #[arg(long, value_name = "K/N", conflicts_with_all = ["shard", "shards"])]
    split: Option<String>,
    /// Run shard K (0-based) of N: the splits i of every table with i mod N = K. Without it,
    /// `--shards N` or SSTABLE_LAKE_SHARDS=N take K from JOB_COMPLETION_INDEX (Kubernetes
    /// indexed Jobs) or AWS_BATCH_JOB_ARRAY_INDEX (AWS Batch array jobs).
    #[arg(long, value_name = "K/N", conflicts_with = "shards")]
    shard: Option<String>,
    /// Number of shards, the shard index coming from the environment (see `--shard`).
    #[arg(long, value_name = "N")]
    shards: Option<usize>,
    /// Splits per table when sharding (default: one per shard); more splits than shards
    /// evens out the shares. At most 65536.
    #[arg(long, value_name = "M")]
    splits: Option<usize>,
}

#[derive(Debug, Args)]
struct ExportArgs {
    /// Files or directories (searched recursively) holding SSTables; also s3://BUCKET/PREFIX
    /// and gs://BUCKET/PREFIX (every object under the prefix, read in place).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Destination: a directory path, a file:// URL, s3://BUCKET[/PREFIX] or gs://BUCKET[/PREFIX].
    /// Credentials come from each cloud's standard chain (AWS_* / GOOGLE_* variables, profile
    /// files, instance metadata).
    #[arg(long, value_name = "DEST")]
    out: String,
    /// How s3:// and gs:// inputs and destinations are reached.
    #[command(flatten)]
    store: StoreArgs,
    /// Size of each part of the multipart upload of a file. S3 and GCS refuse parts under
    /// 5MiB (but the last), and allow at most 10000 parts per file.
    #[arg(long, value_name = "SIZE", default_value = "8MiB")]
    upload_part_size: String,
    /// CQL file with CREATE TYPE / CREATE TABLE statements (used when no schema.cql is beside
    /// the SSTables).
    #[arg(long, value_name = "FILE")]
    schema: Option<PathBuf>,
    /// The instant TTLs are evaluated at (as for `dump`). Default: the time the run starts.
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
    /// Start a new file when the current one reaches about this size (e.g. 256MiB, 1GB).
    #[arg(long, value_name = "SIZE", default_value = "256MiB")]
    target_file_size: String,
    /// Row group size: a number of rows (100000) or a size (128MiB: the encoded size buffered).
    #[arg(long, value_name = "ROWS|SIZE", default_value = "128MiB")]
    row_group_size: String,
    /// Compression codec of the Parquet pages.
    #[arg(long, value_enum, default_value_t = Compression::Zstd)]
    compression: Compression,
    /// Write Parquet bloom filters on the partition key and clustering columns.
    #[arg(long)]
    bloom_filter: bool,
    /// Hive-style directories by a column's value (`COL`: the column then lives in the path
    /// only) or by the day of a timestamp/date column (`date(COL)`: directory COL_date=YYYY-MM-DD).
    #[arg(long, value_name = "COL|date(COL)")]
    partition_by: Option<String>,
    /// decimal columns as Decimal128(P,S) instead of exact strings; a value that does not fit
    /// exactly is an error.
    #[arg(long, value_name = "P,S")]
    decimal: Option<String>,
    /// Write only types this engine reads (spark: uuid as string, time as int64 nanoseconds).
    #[arg(long, value_enum)]
    compat: Option<Compat>,
    /// Add writetime(COL) (microseconds) for every non-key column.
    #[arg(long)]
    with_writetime: bool,
    /// Add ttl(COL) (seconds left at --now, null without TTL) for every non-key column.
    #[arg(long)]
    with_ttl: bool,
    /// Add the partition's token.
    #[arg(long)]
    with_token: bool,
    /// Add `source`: the SSTable(s) the table was read from.
    #[arg(long)]
    with_source: bool,
    /// Write a JSON report of the run to FILE.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    #[command(flatten)]
    read: ReadArgs,
    /// When a table cannot be read or written: fail (stop at once) or skip (export and
    /// publish the other tables, list the failed ones with file, component and byte offset in
    /// the run report and on stderr). Either way a run with a failed table exits with status 1
    /// (2: a usage error).
    #[arg(long, value_enum, value_name = "fail|skip", default_value_t = OnError::Fail)]
    on_error: OnError,
    /// Test hook: exit abruptly after staging N parts (an interrupted run).
    #[arg(long, hide = true, value_name = "N")]
    fail_after_parts: Option<u64>,
    /// Run shard K (0-based) of N: the splits i of every table with i mod N = K, staged under
    /// the table's `_shards/` until `--commit` publishes them. Without it, `--shards N` or
    /// SSTABLE_LAKE_SHARDS=N take K from JOB_COMPLETION_INDEX (Kubernetes indexed Jobs) or
    /// AWS_BATCH_JOB_ARRAY_INDEX (AWS Batch array jobs).
    #[arg(long, value_name = "K/N", conflicts_with_all = ["shards", "commit"])]
    shard: Option<String>,
    /// Number of shards (the shard index from the environment, see `--shard`; with `--commit`,
    /// the shards to publish).
    #[arg(long, value_name = "N")]
    shards: Option<usize>,
    /// Splits per table: with shards, default one per shard (more evens out the shares); without,
    /// default one per 128MiB of stored SSTable bytes, at most 4 per thread. At most 65536.
    #[arg(long, value_name = "M")]
    splits: Option<usize>,
    /// Publish the parts that the N shards of `--shards N` (same inputs, same `--splits`) staged:
    /// `_manifest.json` and `_SUCCESS` of every table whose shards all finished; fails naming
    /// the shards that did not.
    #[arg(long)]
    commit: bool,
    /// Splits exported at the same time (default: the number of cores).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
}

impl Cli {
    /// Parses the process arguments (exiting with clap's usage message when they do not
    /// parse) and validates them into a plan; `start` is the run's start time (seconds).
    pub fn parse_plan(start: i64) -> Result<crate::config::Plan, Error> {
        Cli::parse().into_plan(start)
    }
}
