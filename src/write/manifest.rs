//! `_manifest.json`: what a published table holds, written by `export` after its parts and
//! before `_SUCCESS`. Its own types, decoupled from the command line's [`ExportPlan`]:
//! renaming a flag or a plan field does not change the file. Documented in
//! `docs/parquet-mapping.md` ("The manifest").
//!
//! ```json
//! {
//!   "tool": "sstable-lake", "tool_version": "0.1.0", "run_id": "…",
//!   "keyspace": "shop", "table": "orders", "rows": 7, "bytes": 4242,
//!   "files": [{"path": "part-…-0-1.parquet", "rows": 7, "bytes": 4242}],
//!   "schema": [{"name": "customer", "arrow_type": "Utf8"}, …],
//!   "source_sstables": ["/backup/…/nb-1-big-Data.db"],
//!   "options": {"paths": […], "out": {"Local": "/lake"}, "store": {…}, "read": {…}, …},
//!   "partition_by": null
//! }
//! ```

use std::path::PathBuf;

use serde::Serialize;

use crate::config::{
    Compat, Compression, Destination, ExportPlan, PartitionBy, ReadOptions, RemoteStore,
    RowGroupSize, S3UrlStyle, StoreOptions,
};

use super::report::StagedFile;

/// The content of `<keyspace>/<table>/_manifest.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    /// Always `sstable-lake`.
    pub tool: &'static str,
    /// The version of sstable-lake that wrote the table.
    pub tool_version: &'static str,
    /// The run's id, also part of every file name: `<start, hex>-<pid, hex>`.
    pub run_id: String,
    /// Keyspace of the table.
    pub keyspace: String,
    /// Table name.
    pub table: String,
    /// Rows over all files.
    pub rows: u64,
    /// Parquet bytes over all files.
    pub bytes: u64,
    /// Every Parquet file of the table: its path relative to the table's directory (Hive
    /// directories included), rows and bytes; sorted by path when committed from shards.
    pub files: Vec<StagedFile>,
    /// The output columns, in file order.
    pub schema: Vec<ManifestColumn>,
    /// The Data.db files read (path or URL), in the table group's order.
    pub source_sstables: Vec<String>,
    /// The options the table was exported with.
    pub options: ManifestOptions,
    /// The Hive directory key of `--partition-by` (`COL`, or `COL_date` for `date(COL)`).
    pub partition_by: Option<String>,
}

/// One output column of a [`Manifest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManifestColumn {
    /// Column name.
    pub name: String,
    /// Arrow type, as Arrow displays it (`Utf8`, `Int64`, `Timestamp(Millisecond, Some("UTC"))`…).
    pub arrow_type: String,
}

/// The export options recorded in a [`Manifest`] (its `options` object).
#[derive(Debug, Clone, Serialize)]
pub struct ManifestOptions {
    /// Input paths as given.
    pub paths: Vec<PathBuf>,
    /// Destination: `{"Local": DIR}` or `{"Remote": {"store": "s3"|"gcs", "bucket", "prefix"}}`.
    pub out: ManifestDestination,
    /// How object stores were reached (`--endpoint`, `--region`, … `--upload-part-size`).
    pub store: ManifestStore,
    /// How Data.db objects were read (`--read-block-size`, `--read-ahead`, `--read-retries`).
    pub read: ManifestRead,
    /// `--schema` file.
    pub schema: Option<PathBuf>,
    /// `--target-file-size`, bytes.
    pub target_file_size: u64,
    /// `--row-group-size`: `{"Rows": N}` or `{"Bytes": N}`.
    pub row_group_size: ManifestRowGroupSize,
    /// `--compression`: `zstd`, `snappy`, `lz4`, `gzip` or `none`.
    pub compression: &'static str,
    /// `--bloom-filter`.
    pub bloom_filter: bool,
    /// `--partition-by`: `{"Column": COL}` or `{"Date": COL}`.
    pub partition_by: Option<ManifestPartitionBy>,
    /// `--decimal P,S` as `[P, S]`.
    pub decimal: Option<(u8, i8)>,
    /// `--compat`: `spark`.
    pub compat: Option<&'static str>,
    /// `--with-writetime`.
    pub with_writetime: bool,
    /// `--with-ttl`.
    pub with_ttl: bool,
    /// `--with-token`.
    pub with_token: bool,
    /// `--with-source`.
    pub with_source: bool,
    /// `--report` file.
    pub report: Option<PathBuf>,
}

/// Where the table was written.
#[derive(Debug, Clone, Serialize)]
pub enum ManifestDestination {
    /// A local directory.
    Local(PathBuf),
    /// A bucket and key prefix.
    Remote {
        /// `s3` or `gcs`.
        store: &'static str,
        /// Bucket.
        bucket: String,
        /// Key prefix (may be empty).
        prefix: String,
    },
}

/// How object stores were reached.
#[derive(Debug, Clone, Serialize)]
pub struct ManifestStore {
    /// `--endpoint`.
    pub endpoint: Option<String>,
    /// `--region`.
    pub region: Option<String>,
    /// `--allow-http`.
    pub allow_http: bool,
    /// `--s3-url-style`: `path` or `virtual`.
    pub s3_url_style: Option<&'static str>,
    /// `--gcs-service-account`.
    pub gcs_service_account: Option<PathBuf>,
    /// `--upload-part-size`, bytes.
    pub upload_part_size: usize,
}

/// How Data.db objects were read.
#[derive(Debug, Clone, Serialize)]
pub struct ManifestRead {
    /// Bytes per ranged GET.
    pub block_size: u64,
    /// Blocks read ahead.
    pub read_ahead: usize,
    /// Retries of a failed request.
    pub retries: usize,
}

/// How row groups were cut.
#[derive(Debug, Clone, Serialize)]
pub enum ManifestRowGroupSize {
    /// At most this many rows.
    Rows(usize),
    /// When the buffered encoded size reached this many bytes.
    Bytes(u64),
}

/// `--partition-by`.
#[derive(Debug, Clone, Serialize)]
pub enum ManifestPartitionBy {
    /// By a column's value.
    Column(String),
    /// By the day of a timestamp or date column.
    Date(String),
}

impl From<&ExportPlan> for ManifestOptions {
    fn from(p: &ExportPlan) -> Self {
        ManifestOptions {
            paths: p.paths.clone(),
            out: ManifestDestination::from(&p.out),
            store: ManifestStore::from(&p.store),
            read: ManifestRead::from(p.read),
            schema: p.schema.clone(),
            target_file_size: p.target_file_size,
            row_group_size: match p.row_group_size {
                RowGroupSize::Rows(n) => ManifestRowGroupSize::Rows(n),
                RowGroupSize::Bytes(n) => ManifestRowGroupSize::Bytes(n),
            },
            compression: match p.compression {
                Compression::Zstd => "zstd",
                Compression::Snappy => "snappy",
                Compression::Lz4 => "lz4",
                Compression::Gzip => "gzip",
                Compression::None => "none",
            },
            bloom_filter: p.bloom_filter,
            partition_by: p.partition_by.as_ref().map(|b| match b {
                PartitionBy::Column(c) => ManifestPartitionBy::Column(c.clone()),
                PartitionBy::Date(c) => ManifestPartitionBy::Date(c.clone()),
            }),
            decimal: p.decimal,
            compat: p.compat.map(|c| match c {
                Compat::Spark => "spark",
            }),
            with_writetime: p.with_writetime,
            with_ttl: p.with_ttl,
            with_token: p.with_token,
            with_source: p.with_source,
            report: p.report.clone(),
        }
    }
}

impl From<&Destination> for ManifestDestination {
    fn from(d: &Destination) -> Self {
        match d {
            Destination::Local(dir) => ManifestDestination::Local(dir.clone()),
            Destination::Remote {
                store,
                bucket,
                prefix,
            } => ManifestDestination::Remote {
                store: match store {
                    RemoteStore::S3 => "s3",
                    RemoteStore::Gcs => "gcs",
                },
                bucket: bucket.clone(),
                prefix: prefix.clone(),
            },
        }
    }
}

impl From<&StoreOptions> for ManifestStore {
    fn from(s: &StoreOptions) -> Self {
        ManifestStore {
            // Never the user info of the URL (a password): see `io::secrets`.
            endpoint: s.endpoint.as_deref().map(crate::io::secrets::redact_url),
            region: s.region.clone(),
            allow_http: s.allow_http,
            s3_url_style: s.s3_url_style.map(|u| match u {
                S3UrlStyle::Path => "path",
                S3UrlStyle::Virtual => "virtual",
            }),
            gcs_service_account: s.gcs_service_account.clone(),
            upload_part_size: s.upload_part_size,
        }
    }
}

impl From<ReadOptions> for ManifestRead {
    fn from(r: ReadOptions) -> Self {
        ManifestRead {
            block_size: r.block_size,
            read_ahead: r.read_ahead,
            retries: r.retries,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;
    use crate::config::{NowPlan, ShardPlan};

    /// The `options` object keeps the field names and shapes of the files written before the
    /// manifest had its own type.
    #[test]
    fn options_json_is_stable() {
        let plan = ExportPlan {
            paths: vec!["/in".into()],
            out: Destination::Remote {
                store: RemoteStore::Gcs,
                bucket: "b".into(),
                prefix: "p".into(),
            },
            store: StoreOptions {
                s3_url_style: Some(S3UrlStyle::Virtual),
                ..StoreOptions::default()
            },
            read: ReadOptions::default(),
            schema: None,
            now: NowPlan::At(0),
            target_file_size: 1000,
            row_group_size: RowGroupSize::Rows(10),
            compression: Compression::Lz4,
            bloom_filter: true,
            partition_by: Some(PartitionBy::Date("ts".into())),
            decimal: Some((20, 4)),
            compat: Some(Compat::Spark),
            with_writetime: true,
            with_ttl: false,
            with_token: true,
            with_source: false,
            report: None,
            fail_after_parts: None,
            on_error: crate::config::OnError::Fail,
            shard: Some(ShardPlan {
                index: 0,
                count: 2,
                splits: 2,
            }),
            commit: None,
            splits: None,
            threads: 2,
        };
        let json = serde_json::to_string(&ManifestOptions::from(&plan)).unwrap();
        assert_eq!(
            json,
            r#"{"paths":["/in"],"out":{"Remote":{"store":"gcs","bucket":"b","prefix":"p"}},"store":{"endpoint":null,"region":null,"allow_http":false,"s3_url_style":"virtual","gcs_service_account":null,"upload_part_size":8388608},"read":{"block_size":8388608,"read_ahead":2,"retries":10},"schema":null,"target_file_size":1000,"row_group_size":{"Rows":10},"compression":"lz4","bloom_filter":true,"partition_by":{"Date":"ts"},"decimal":[20,4],"compat":"spark","with_writetime":true,"with_ttl":false,"with_token":true,"with_source":false,"report":null}"#
        );
    }
}
