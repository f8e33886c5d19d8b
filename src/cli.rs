//! Command-line parsing into a validated plan before any I/O, then dispatch.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::error::Error;

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

impl StoreArgs {
    fn into_options(self) -> StoreOptions {
        StoreOptions {
            endpoint: self.endpoint,
            region: self.region,
            allow_http: self.allow_http,
            s3_url_style: self.s3_url_style,
            gcs_service_account: self.gcs_service_account,
            upload_part_size: 8 << 20,
        }
    }
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

impl ReadArgs {
    fn into_options(self) -> Result<crate::store::ReadOptions, Error> {
        let block_size = parse_size(&self.read_block_size)
            .filter(|n| (1..=1 << 30).contains(n))
            .ok_or_else(|| {
                Error::Usage(format!(
                    "--read-block-size {:?}: expected a size like 8MiB, at most 1GiB",
                    self.read_block_size
                ))
            })?;
        Ok(crate::store::ReadOptions {
            block_size,
            read_ahead: self.read_ahead,
            retries: self.read_retries,
        })
    }
}

/// The object stores among the input paths.
fn input_stores(paths: &[PathBuf]) -> Vec<RemoteStore> {
    paths
        .iter()
        .filter_map(|p| match crate::store::Location::of(p) {
            crate::store::Location::Object { store, .. } => Some(store),
            crate::store::Location::Local(_) => None,
        })
        .collect()
}

/// Checks that every store flag given applies to one of `stores` (the inputs' and the
/// destination's), and the endpoint's scheme. `what` names the URLs for messages.
fn check_store_flags(
    store: &StoreOptions,
    stores: &[RemoteStore],
    what: &str,
) -> Result<(), Error> {
    let any = !stores.is_empty();
    let s3 = stores.contains(&RemoteStore::S3);
    let gcs = stores.contains(&RemoteStore::Gcs);
    let misplaced = [
        ("--endpoint", store.endpoint.is_some(), any),
        ("--allow-http", store.allow_http, any),
        ("--region", store.region.is_some(), s3),
        ("--s3-url-style", store.s3_url_style.is_some(), s3),
        (
            "--gcs-service-account",
            store.gcs_service_account.is_some(),
            gcs,
        ),
    ];
    if let Some((flag, _, _)) = misplaced.iter().find(|(_, given, fits)| *given && !*fits) {
        return Err(Error::Usage(format!("{flag} does not apply to {what}")));
    }
    if let Some(e) = &store.endpoint {
        if !(e.starts_with("https://") || e.starts_with("http://")) {
            return Err(Error::Usage(format!(
                "--endpoint {e}: expected an http:// or https:// URL"
            )));
        }
        if e.starts_with("http://") && !store.allow_http {
            return Err(Error::Usage(format!(
                "--endpoint {e}: plain HTTP needs --allow-http"
            )));
        }
    }
    Ok(())
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
    /// Number of splits per table.
    #[arg(long, value_name = "N", value_parser = parse_splits)]
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
    /// evens out the shares.
    #[arg(long, value_name = "M", value_parser = parse_splits)]
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
    /// default one per 128MiB of stored SSTable bytes, at most 4 per thread.
    #[arg(long, value_name = "M", value_parser = parse_splits)]
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
    pub read: crate::store::ReadOptions,
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

/// Parses `256MiB`, `1GB`, `64k`, `1000` (bytes).
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let num: f64 = num.parse().ok()?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mib" => 1024.0 * 1024.0,
        "g" | "gb" => 1e9,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let v = num * mult;
    (1.0..1e18).contains(&v).then_some(v as u64)
}

fn parse_destination(s: &str) -> Result<Destination, Error> {
    if let Some((scheme, rest)) = s.split_once("://") {
        let remote = |store: RemoteStore| {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(Error::Usage(format!("--out {s}: no bucket name")));
            }
            let prefix = prefix.trim_matches('/');
            if !prefix.is_empty()
                && prefix
                    .split('/')
                    .any(|p| p.is_empty() || p == "." || p == "..")
            {
                return Err(Error::Usage(format!(
                    "--out {s}: the key prefix has an empty, . or .. segment"
                )));
            }
            Ok(Destination::Remote {
                store,
                bucket: bucket.to_string(),
                prefix: prefix.to_string(),
            })
        };
        return match scheme {
            "file" => Ok(Destination::Local(PathBuf::from(rest))),
            "s3" => remote(RemoteStore::S3),
            "gs" => remote(RemoteStore::Gcs),
            "gcs" | "az" | "abfs" | "abfss" => Err(Error::Usage(format!(
                "--out {s}: {scheme}:// destinations are not supported (local paths, file://, s3:// and gs://)"
            ))),
            _ => Err(Error::Usage(format!("--out {s}: unknown scheme {scheme}://"))),
        };
    }
    if s.is_empty() {
        return Err(Error::Usage("--out: empty destination".into()));
    }
    Ok(Destination::Local(PathBuf::from(s)))
}

fn parse_now(now: Option<String>, start: i64) -> Result<NowPlan, Error> {
    Ok(match now {
        Some(t) if t == "snapshot" => NowPlan::Snapshot,
        Some(t) => NowPlan::At(parse_instant(&t).ok_or_else(|| {
            Error::Usage(format!(
                "--now {t:?}: expected RFC 3339 like 2018-09-08T04:31:40Z or seconds since the epoch"
            ))
        })?),
        None => NowPlan::At(start),
    })
}

impl ExportArgs {
    fn into_plan(
        self,
        start: i64,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ExportPlan, Error> {
        let target_file_size = parse_size(&self.target_file_size).ok_or_else(|| {
            Error::Usage(format!(
                "--target-file-size {:?}: expected a size like 256MiB",
                self.target_file_size
            ))
        })?;
        let upload_part_size = parse_size(&self.upload_part_size)
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| *n <= 5 << 30)
            .ok_or_else(|| {
                Error::Usage(format!(
                    "--upload-part-size {:?}: expected a size like 8MiB, at most 5GiB",
                    self.upload_part_size
                ))
            })?;
        let rg = self.row_group_size.trim();
        let row_group_size = if !rg.is_empty() && rg.bytes().all(|b| b.is_ascii_digit()) {
            match rg.parse::<usize>() {
                Ok(n) if n > 0 => RowGroupSize::Rows(n),
                _ => {
                    return Err(Error::Usage(format!(
                        "--row-group-size {rg:?}: expected rows > 0"
                    )))
                }
            }
        } else {
            RowGroupSize::Bytes(parse_size(rg).ok_or_else(|| {
                Error::Usage(format!(
                    "--row-group-size {rg:?}: expected a row count (100000) or a size (128MiB)"
                ))
            })?)
        };
        let partition_by = match self.partition_by.as_deref().map(str::trim) {
            None => None,
            Some(p) => {
                let inner = p
                    .strip_prefix("date(")
                    .and_then(|r| r.strip_suffix(')'))
                    .map(str::trim);
                match inner {
                    Some(c) if !c.is_empty() => Some(PartitionBy::Date(c.to_string())),
                    Some(_) => {
                        return Err(Error::Usage(format!("--partition-by {p:?}: no column")))
                    }
                    None if p.is_empty() || p.contains(['(', ')', '/', '=']) => {
                        return Err(Error::Usage(format!(
                            "--partition-by {p:?}: expected COL or date(COL)"
                        )))
                    }
                    None => Some(PartitionBy::Column(p.to_string())),
                }
            }
        };
        let decimal = match self.decimal.as_deref() {
            None => None,
            Some(d) => {
                let bad = || {
                    Error::Usage(format!(
                        "--decimal {d:?}: expected P,S with 1 <= P <= 38, 0 <= S <= P"
                    ))
                };
                let (p, s) = d.split_once(',').ok_or_else(bad)?;
                let p: u8 = p.trim().parse().map_err(|_| bad())?;
                let s: i8 = s.trim().parse().map_err(|_| bad())?;
                if !(1..=38).contains(&p) || s < 0 || s as u8 > p {
                    return Err(bad());
                }
                Some((p, s))
            }
        };
        let out = parse_destination(&self.out)?;
        let store = StoreOptions {
            upload_part_size,
            ..self.store.into_options()
        };
        let mut stores = input_stores(&self.paths);
        if let Destination::Remote { store, .. } = &out {
            stores.push(*store);
        }
        check_store_flags(
            &store,
            &stores,
            &format!("--out {} or the inputs", self.out),
        )?;
        let read = self.read.into_options()?;
        let threads = match self.threads {
            Some(0) => return Err(Error::Usage("--threads must be at least 1".into())),
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        let (shard, commit, splits) = if self.commit {
            let count = match self.shards {
                Some(n) => n,
                None => match env("SSTABLE_LAKE_SHARDS").filter(|v| !v.trim().is_empty()) {
                    Some(v) => v.trim().parse::<usize>().map_err(|_| {
                        Error::Usage(format!("SSTABLE_LAKE_SHARDS={v:?}: expected a number"))
                    })?,
                    None => {
                        return Err(Error::Usage(
                            "--commit needs the number of shards: --shards N".into(),
                        ))
                    }
                },
            };
            let splits = self.splits.unwrap_or(count);
            if count == 0 || splits == 0 {
                return Err(Error::Usage(
                    "--shards and --splits must be at least 1".into(),
                ));
            }
            (None, Some(CommitPlan { count, splits }), None)
        } else {
            let shard = shard_plan(None, self.shard, self.shards, None, env)?;
            let shard = shard.map(|s| ShardPlan {
                splits: self.splits.unwrap_or(s.count),
                ..s
            });
            if self.splits == Some(0) {
                return Err(Error::Usage("--splits must be at least 1".into()));
            }
            let splits = if shard.is_some() { None } else { self.splits };
            (shard, None, splits)
        };
        Ok(ExportPlan {
            paths: self.paths,
            out,
            store,
            read,
            schema: self.schema,
            now: parse_now(self.now, start)?,
            target_file_size,
            row_group_size,
            compression: self.compression,
            bloom_filter: self.bloom_filter,
            partition_by,
            decimal,
            compat: self.compat,
            with_writetime: self.with_writetime,
            with_ttl: self.with_ttl,
            with_token: self.with_token,
            with_source: self.with_source,
            report: self.report,
            fail_after_parts: self.fail_after_parts,
            shard,
            commit,
            splits,
            threads,
        })
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
    pub read: crate::store::ReadOptions,
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
    pub read: crate::store::ReadOptions,
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
    pub read: crate::store::ReadOptions,
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

impl Cli {
    /// Validates the arguments into a plan. `start` is the run's start time (seconds).
    pub fn into_plan(self, start: i64) -> Result<Plan, Error> {
        self.into_plan_with_env(start, &|name| std::env::var(name).ok())
    }

    /// [`Cli::into_plan`] with the environment given (`env` returns a variable's value).
    pub fn into_plan_with_env(
        self,
        start: i64,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Plan, Error> {
        Ok(match self.command {
            Command::Plan(a) => {
                if a.splits == 0 {
                    return Err(Error::Usage("--splits must be at least 1".into()));
                }
                let (store, read) = input_options(&a.paths, a.store, a.read)?;
                Plan::Splits(SplitsPlan {
                    paths: a.paths,
                    store,
                    read,
                    splits: a.splits,
                    json: a.json,
                    out: a.out,
                })
            }
            Command::Inspect(a) => {
                let (store, read) = input_options(&a.paths, a.store, a.read)?;
                Plan::Inspect(InspectPlan {
                    paths: a.paths,
                    store,
                    read,
                    json: a.json,
                    verify: a.verify,
                    schema: a.schema,
                })
            }
            Command::Dump(a) => {
                let (store, read) = input_options(&a.paths, a.store, a.read)?;
                Plan::Dump(DumpPlan {
                    paths: a.paths,
                    store,
                    read,
                    schema: a.schema,
                    raw: a.raw,
                    now: parse_now(a.now, start)?,
                    shard: shard_plan(a.split, a.shard, a.shards, a.splits, env)?,
                })
            }
            Command::Export(a) => Plan::Export(Box::new(a.into_plan(start, env)?)),
        })
    }
}

/// The validated store and read options of a command's inputs.
fn input_options(
    paths: &[PathBuf],
    store: StoreArgs,
    read: ReadArgs,
) -> Result<(StoreOptions, crate::store::ReadOptions), Error> {
    let store = store.into_options();
    check_store_flags(&store, &input_stores(paths), "local inputs")?;
    Ok((store, read.into_options()?))
}

/// Most splits per table (and shards): a plan holds one byte range per split and SSTable, so
/// its memory and the planner's time grow with splits x SSTables, and every split costs at
/// least a seek per SSTable and a Parquet part. 65,536 splits cut an 8 TiB table into 128 MiB
/// pieces, beyond any useful parallelism; 10^8 aborted on allocation and 10^9 hung (issue 11).
pub const MAX_SPLITS: usize = 65_536;

/// Parses a split count, `1..=MAX_SPLITS`.
fn parse_splits(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if n <= MAX_SPLITS => Ok(n),
        Ok(_) => Err(format!("at most {MAX_SPLITS} splits per table")),
        Err(e) => Err(e.to_string()),
    }
}

/// Parses `K/N` (`0 <= K < N <= MAX_SPLITS`).
fn parse_k_of_n(flag: &str, s: &str) -> Result<(usize, usize), Error> {
    let bad = || {
        Error::Usage(format!(
            "{flag} {s:?}: expected K/N with 0 <= K < N, like 0/4"
        ))
    };
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let k: usize = k.trim().parse().map_err(|_| bad())?;
    let n: usize = n.trim().parse().map_err(|_| bad())?;
    if n == 0 || k >= n {
        return Err(bad());
    }
    if n > MAX_SPLITS {
        return Err(Error::Usage(format!(
            "{flag} {s:?}: N is at most {MAX_SPLITS}"
        )));
    }
    Ok((k, n))
}

/// The shard of a `dump`: `--split K/N`, `--shard K/N`, or `--shards N` / SSTABLE_LAKE_SHARDS
/// with K from JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX.
fn shard_plan(
    split: Option<String>,
    shard: Option<String>,
    shards: Option<usize>,
    splits: Option<usize>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<ShardPlan>, Error> {
    if let Some(s) = split {
        if splits.is_some() {
            return Err(Error::Usage(
                "--splits goes with --shard, not --split".into(),
            ));
        }
        let (index, count) = parse_k_of_n("--split", &s)?;
        return Ok(Some(ShardPlan {
            index,
            count,
            splits: count,
        }));
    }
    let (index, count) = if let Some(s) = shard {
        parse_k_of_n("--shard", &s)?
    } else {
        let count = match shards {
            Some(n) => Some(n),
            None => match env("SSTABLE_LAKE_SHARDS").filter(|v| !v.trim().is_empty()) {
                Some(v) => Some(v.trim().parse::<usize>().map_err(|_| {
                    Error::Usage(format!("SSTABLE_LAKE_SHARDS={v:?}: expected a number"))
                })?),
                None => None,
            },
        };
        let Some(count) = count else {
            if splits.is_some() {
                return Err(Error::Usage("--splits needs --shard or --shards".into()));
            }
            return Ok(None);
        };
        if count == 0 {
            return Err(Error::Usage(
                "the number of shards must be at least 1".into(),
            ));
        }
        let (var, value) = ["JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"]
            .into_iter()
            .find_map(|v| env(v).filter(|x| !x.trim().is_empty()).map(|x| (v, x)))
            .ok_or_else(|| {
                Error::Usage(format!(
                    "{count} shards but no shard index: give --shard K/{count}, or set \
                     JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX"
                ))
            })?;
        let index: usize = value
            .trim()
            .parse()
            .map_err(|_| Error::Usage(format!("{var}={value:?}: expected a shard index")))?;
        if index >= count {
            return Err(Error::Usage(format!(
                "{var}={index} is not a shard of {count} (0..{count})"
            )));
        }
        (index, count)
    };
    let splits = splits.unwrap_or(count);
    if splits == 0 {
        return Err(Error::Usage("--splits must be at least 1".into()));
    }
    Ok(Some(ShardPlan {
        index,
        count,
        splits,
    }))
}

/// Parses `2018-09-08T04:31:40Z` (optionally with fractional seconds, a space instead of `T`,
/// or a `+HH:MM` offset) or plain epoch seconds.
pub fn parse_instant(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<i64>() {
        return Some(secs);
    }
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = s.get(from..from + len)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    if b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || !matches!(b.get(10), Some(b'T' | b't' | b' '))
    {
        return None;
    }
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
        return None;
    }
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = s.get(19..)?;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        rest = frac.get(digits..)?;
    }
    let offset = match rest {
        "Z" | "z" | "" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let hh: i64 = rest.get(1..3)?.parse().ok()?;
            let mm: i64 = rest.get(4..6)?.parse().ok()?;
            sign * (hh * 3600 + mm * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Runs the command line.
pub fn run() -> Result<(), Error> {
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let plan = Cli::parse().into_plan(start)?;
    let (store, read) = match &plan {
        Plan::Inspect(p) => (&p.store, p.read),
        Plan::Dump(p) => (&p.store, p.read),
        Plan::Splits(p) => (&p.store, p.read),
        Plan::Export(p) => (&p.store, p.read),
    };
    crate::store::configure(store, read);
    match plan {
        Plan::Inspect(p) => crate::inspect::run(&p)?,
        Plan::Dump(p) => crate::dump::run(&p)?,
        Plan::Splits(p) => crate::plan::run(&p)?,
        Plan::Export(p) => crate::export::run(&p)?,
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn instants() {
        assert_eq!(parse_instant("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_instant("2018-09-08T04:31:40Z"), Some(1_536_381_100));
        assert_eq!(
            parse_instant("2018-09-08 04:31:40.123+01:00"),
            Some(1_536_381_100 - 3600)
        );
        assert_eq!(parse_instant("1536381100"), Some(1_536_381_100));
        assert_eq!(parse_instant("2018-13-08T04:31:40Z"), None);
        assert_eq!(parse_instant("yesterday"), None);
    }

    /// Issue 11 item 8: `--splits 100000000` aborted on allocation and 10^9 hung; every split
    /// count (and `--split`/`--shard K/N`) is bounded by MAX_SPLITS, a usage error beyond.
    #[test]
    fn huge_split_counts_are_usage_errors_not_aborts() {
        for args in [
            &["sstable-lake", "plan", "x", "--splits", "100000000"][..],
            &["sstable-lake", "plan", "x", "--splits", "1000000000"],
            &[
                "sstable-lake",
                "export",
                "x",
                "--out",
                "o",
                "--splits",
                "65537",
            ],
            &[
                "sstable-lake",
                "dump",
                "x",
                "--shards",
                "2",
                "--splits",
                "1000000000",
            ],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?}");
        }
        assert!(Cli::try_parse_from(["sstable-lake", "plan", "x", "--splits", "65536"]).is_ok());
        let cli =
            Cli::try_parse_from(["sstable-lake", "dump", "x", "--split", "0/1000000000"]).unwrap();
        assert!(cli.into_plan(0).is_err());
    }

    #[test]
    fn plan_validation() {
        let cli = Cli::try_parse_from(["sstable-lake", "dump", "x", "--now", "bad"]).unwrap();
        assert!(cli.into_plan(0).is_err());
        let cli = Cli::try_parse_from(["sstable-lake", "dump", "x"]).unwrap();
        match cli.into_plan(42).unwrap() {
            Plan::Dump(p) => assert_eq!(p.now, NowPlan::At(42)),
            other => panic!("{other:?}"),
        }
        assert!(Cli::try_parse_from(["sstable-lake", "inspect"]).is_err());
        let cli = Cli::try_parse_from(["sstable-lake", "dump", "x", "--now", "snapshot"]).unwrap();
        match cli.into_plan(0).unwrap() {
            Plan::Dump(p) => assert_eq!(p.now, NowPlan::Snapshot),
            other => panic!("{other:?}"),
        }
        let cli = Cli::try_parse_from([
            "sstable-lake",
            "inspect",
            "--verify",
            "--schema",
            "s.cql",
            "x",
        ])
        .unwrap();
        match cli.into_plan(0).unwrap() {
            Plan::Inspect(p) => {
                assert!(p.verify);
                assert_eq!(p.schema, Some(PathBuf::from("s.cql")));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn shards() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let shard = |args: &[&str], vars: &'static [(&'static str, &'static str)]| {
            let mut all = vec!["sstable-lake", "dump", "x"];
            all.extend_from_slice(args);
            let cli = Cli::try_parse_from(all).unwrap();
            cli.into_plan_with_env(0, &env(vars)).map(|p| match p {
                Plan::Dump(d) => d.shard,
                other => panic!("{other:?}"),
            })
        };
        let sp = |index, count, splits| {
            Some(ShardPlan {
                index,
                count,
                splits,
            })
        };
        assert_eq!(shard(&[], &[]).unwrap(), None);
        assert_eq!(shard(&[], &[("JOB_COMPLETION_INDEX", "1")]).unwrap(), None);
        assert_eq!(shard(&["--shard", "1/4"], &[]).unwrap(), sp(1, 4, 4));
        assert_eq!(shard(&["--split", "2/3"], &[]).unwrap(), sp(2, 3, 3));
        assert_eq!(
            shard(&["--shard", "1/4", "--splits", "16"], &[]).unwrap(),
            sp(1, 4, 16)
        );
        assert_eq!(
            shard(&["--shards", "4"], &[("JOB_COMPLETION_INDEX", "3")]).unwrap(),
            sp(3, 4, 4)
        );
        assert_eq!(
            shard(
                &[],
                &[
                    ("SSTABLE_LAKE_SHARDS", "8"),
                    ("AWS_BATCH_JOB_ARRAY_INDEX", "5")
                ]
            )
            .unwrap(),
            sp(5, 8, 8)
        );
        // The flag wins over the environment.
        assert_eq!(
            shard(&["--shard", "0/2"], &[("SSTABLE_LAKE_SHARDS", "8")]).unwrap(),
            sp(0, 2, 2)
        );
        for (args, vars) in [
            (&["--shard", "4/4"][..], &[][..]),
            (&["--shard", "1"], &[]),
            (&["--shard", "0/0"], &[]),
            (&["--shards", "4"], &[]),
            (&["--shards", "4"], &[("JOB_COMPLETION_INDEX", "4")]),
            (&["--shards", "0"], &[("JOB_COMPLETION_INDEX", "0")]),
            (
                &[],
                &[("SSTABLE_LAKE_SHARDS", "x"), ("JOB_COMPLETION_INDEX", "0")],
            ),
            (&["--splits", "3"], &[]),
            (&["--split", "0/2", "--splits", "3"], &[]),
            (&["--shard", "0/2", "--splits", "0"], &[]),
        ] as [(&[&str], &'static [(&'static str, &'static str)]); 10]
        {
            assert!(shard(args, vars).is_err(), "{args:?} {vars:?}");
        }
        assert!(Cli::try_parse_from([
            "sstable-lake",
            "dump",
            "x",
            "--split",
            "0/2",
            "--shard",
            "0/2"
        ])
        .is_err());
        let cli = Cli::try_parse_from(["sstable-lake", "plan", "x", "--splits", "0"]).unwrap();
        assert!(cli.into_plan(0).is_err());
        let cli =
            Cli::try_parse_from(["sstable-lake", "plan", "x", "--splits", "3", "--json"]).unwrap();
        assert!(matches!(
            cli.into_plan(0).unwrap(),
            Plan::Splits(SplitsPlan {
                splits: 3,
                json: true,
                ..
            })
        ));
    }

    #[test]
    fn input_store_flags() {
        let plan = |args: &[&str]| {
            let mut all = vec!["sstable-lake"];
            all.extend_from_slice(args);
            Cli::try_parse_from(all).unwrap().into_plan(0)
        };
        let Plan::Dump(d) = plan(&[
            "dump",
            "s3://b/backups",
            "--region",
            "eu-west-1",
            "--read-block-size",
            "4KiB",
            "--read-ahead",
            "0",
        ])
        .unwrap() else {
            panic!("not a dump")
        };
        assert_eq!(d.store.region.as_deref(), Some("eu-west-1"));
        assert_eq!(d.read.block_size, 4096);
        assert_eq!(d.read.read_ahead, 0);
        assert!(plan(&["dump", "/local", "--region", "x"]).is_err());
        assert!(plan(&["inspect", "s3://b/x", "--gcs-service-account", "k.json"]).is_err());
        assert!(plan(&[
            "plan",
            "gs://b/x",
            "--splits",
            "2",
            "--endpoint",
            "http://h"
        ])
        .is_err());
        assert!(plan(&["dump", "gs://b", "--read-block-size", "0"]).is_err());
        // export: a flag fits the destination or an input.
        assert!(plan(&["export", "s3://b/in", "--out", "/tmp/o", "--region", "r"]).is_ok());
        assert!(plan(&["export", "/in", "--out", "/tmp/o", "--region", "r"]).is_err());
    }

    fn export(args: &[&str]) -> Result<ExportPlan, Error> {
        let mut all = vec!["sstable-lake", "export", "x"];
        all.extend_from_slice(args);
        match Cli::try_parse_from(all).unwrap().into_plan(0)? {
            Plan::Export(p) => Ok(*p),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn export_plans() {
        let p = export(&["--out", "/tmp/d"]).unwrap();
        assert_eq!(p.out, Destination::Local("/tmp/d".into()));
        assert_eq!(p.target_file_size, 256 << 20);
        assert_eq!(p.row_group_size, RowGroupSize::Bytes(128 << 20));
        assert_eq!(p.compression, Compression::Zstd);
        let p = export(&[
            "--out",
            "file:///d",
            "--row-group-size",
            "5000",
            "--target-file-size",
            "1GB",
        ])
        .unwrap();
        assert_eq!(p.out, Destination::Local("/d".into()));
        assert_eq!(p.row_group_size, RowGroupSize::Rows(5000));
        assert_eq!(p.target_file_size, 1_000_000_000);
        let p = export(&[
            "--out",
            "d",
            "--partition-by",
            "date(ts)",
            "--decimal",
            "20,4",
        ])
        .unwrap();
        assert_eq!(p.partition_by, Some(PartitionBy::Date("ts".into())));
        assert_eq!(p.decimal, Some((20, 4)));
        assert_eq!(
            export(&["--out", "d", "--partition-by", "pk"])
                .unwrap()
                .partition_by,
            Some(PartitionBy::Column("pk".into()))
        );
        let p = export(&["--out", "s3://bucket/x/y/", "--region", "eu-west-1"]).unwrap();
        assert_eq!(
            p.out,
            Destination::Remote {
                store: RemoteStore::S3,
                bucket: "bucket".into(),
                prefix: "x/y".into()
            }
        );
        assert_eq!(p.out.to_string(), "s3://bucket/x/y");
        assert_eq!(p.store.region.as_deref(), Some("eu-west-1"));
        let p = export(&["--out", "gs://b", "--gcs-service-account", "k.json"]).unwrap();
        assert_eq!(p.out.to_string(), "gs://b");
        assert!(export(&["--out", "s3://"]).is_err());
        assert!(export(&["--out", "s3://b/x//y"]).is_err());
        assert!(export(&["--out", "az://b/x"]).is_err());
        assert!(export(&["--out", "d", "--endpoint", "http://h"]).is_err());
        assert!(export(&["--out", "s3://b", "--endpoint", "http://h"]).is_err());
        assert!(export(&["--out", "s3://b", "--endpoint", "http://h", "--allow-http"]).is_ok());
        assert!(export(&["--out", "s3://b", "--gcs-service-account", "k"]).is_err());
        assert!(export(&["--out", "gs://b", "--region", "r"]).is_err());
        assert!(export(&["--out", "d", "--decimal", "39,2"]).is_err());
        assert!(export(&["--out", "d", "--decimal", "10,11"]).is_err());
        assert!(export(&["--out", "d", "--target-file-size", "big"]).is_err());
        assert!(export(&["--out", "d", "--row-group-size", "0"]).is_err());
        assert!(export(&["--out", "d", "--partition-by", "a/b"]).is_err());
        assert_eq!(parse_size("64KiB"), Some(65536));
    }

    #[test]
    fn export_shards_commit_threads() {
        let p = export(&[
            "--out",
            "d",
            "--shard",
            "2/8",
            "--splits",
            "32",
            "--threads",
            "3",
        ])
        .unwrap();
        assert_eq!(
            p.shard,
            Some(ShardPlan {
                index: 2,
                count: 8,
                splits: 32
            })
        );
        assert_eq!((p.commit, p.splits, p.threads), (None, None, 3));
        let p = export(&["--out", "d", "--commit", "--shards", "8"]).unwrap();
        assert_eq!(
            p.commit,
            Some(CommitPlan {
                count: 8,
                splits: 8
            })
        );
        assert_eq!(p.shard, None);
        let p = export(&["--out", "d", "--splits", "5"]).unwrap();
        assert_eq!((p.shard, p.splits), (None, Some(5)));
        assert!(p.threads >= 1);
        assert!(export(&["--out", "d", "--commit"]).is_err());
        assert!(export(&["--out", "d", "--threads", "0"]).is_err());
        assert!(export(&["--out", "d", "--shard", "8/8"]).is_err());
        assert!(export(&["--out", "d", "--shards", "4"]).is_err());
        let plan = |vars: &'static [(&'static str, &'static str)]| {
            let cli = Cli::try_parse_from(["sstable-lake", "export", "x", "--out", "d"]).unwrap();
            match cli.into_plan_with_env(0, &|n| {
                vars.iter()
                    .find(|(k, _)| *k == n)
                    .map(|(_, v)| v.to_string())
            }) {
                Ok(Plan::Export(p)) => Ok(p.shard),
                Ok(other) => panic!("{other:?}"),
                Err(e) => Err(e),
            }
        };
        assert_eq!(
            plan(&[
                ("SSTABLE_LAKE_SHARDS", "4"),
                ("AWS_BATCH_JOB_ARRAY_INDEX", "3")
            ])
            .unwrap(),
            Some(ShardPlan {
                index: 3,
                count: 4,
                splits: 4
            })
        );
        assert_eq!(plan(&[("JOB_COMPLETION_INDEX", "3")]).unwrap(), None);
    }
}
