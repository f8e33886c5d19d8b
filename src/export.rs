//! `sstable-lake export`: the live rows of every table under the inputs as Parquet files in
//! `DEST/<keyspace>/<table>/[<hive dirs>/]part-<run>-<split>-<n>.parquet`, written through
//! `object_store`: a local directory, or an S3 / GCS bucket chosen by the URL scheme.
//!
//! A table is cut into splits (token ranges whose partitions merge on their own, see
//! `crate::plan`): one when small or with `--threads 1`, else by stored size; `--threads` of
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

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Schema as ArrowSchema, SchemaRef};
use futures::TryStreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{MultipartUpload, ObjectStore, ObjectStoreExt, PutPayload};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression as Codec, GzipLevel, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use serde::{Deserialize, Serialize};
use sstable_format::partitioner::{Partitioner, Token};
use sstable_format::reconcile::Now;
use sstable_format::split::ByteRange;
use sstable_format::value::{assemble_multi_cell, decode_value, Value};
use sstable_format::CqlType;

use crate::arrow_map::{self, ColumnBuilder, MapOptions};
use crate::cli::{
    CommitPlan, Compat, Compression, Destination, ExportPlan, NowPlan, PartitionBy, RowGroupSize,
    StoreOptions,
};
use crate::discover::{discover, SstableSet};
use crate::error::Error;
use crate::input::{open_table, read_schema, resolve_now};
use crate::json::write_value;
use crate::rows::{LiveCqlRow, LiveRows, PartitionInfo, RowSink};
use crate::sstable::OpenedSet;
use crate::table::{OutColumn, TableView};

/// Makes the [`Source`] of the i-th column of a group.
type SourceOf = fn(usize) -> Source;

/// Rows per Arrow batch handed to the Parquet writer.
const BATCH_ROWS: usize = 8192;

/// Runs `export`.
pub fn run(plan: &ExportPlan) -> Result<(), Error> {
    let started = Instant::now();
    let discovery = discover(&plan.paths)?;
    for s in &discovery.skipped {
        eprintln!("skipped {}: {}", s.path.display(), s.reason);
    }
    if discovery.sets.is_empty() {
        return Err(Error::NothingFound(plan.paths.clone()));
    }
    let user_schema = match &plan.schema {
        Some(p) => Some(read_schema(p)?),
        None => None,
    };
    let dest = Dest::open(&plan.out, &plan.store)?;
    let run_id = run_id();
    let progress = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {elapsed} {msg} [{wide_bar}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut report = RunReport {
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        run_id: run_id.clone(),
        destination: dest.display.clone(),
        ..RunReport::default()
    };
    let parts_staged = AtomicU64::new(0);
    let mut missing = Vec::new();
    for group in discovery.tables() {
        let now = resolve_now(plan.now, &group.sets, &discovery);
        let plan = ExportPlan {
            now: NowPlan::At(now),
            ..plan.clone()
        };
        if let Some(commit) = plan.commit {
            match commit_table(
                &group.sets,
                user_schema.as_ref(),
                &plan,
                commit,
                &dest,
                &run_id,
            )? {
                Ok(t) => report.tables.push(t),
                Err(m) => missing.push(m),
            }
            continue;
        }
        let t = export_table(
            &group.sets,
            user_schema.as_ref(),
            &plan,
            &dest,
            &run_id,
            &progress,
            &parts_staged,
        )?;
        report.tables.push(t);
    }
    progress.finish_and_clear();
    report.seconds = started.elapsed().as_secs_f64();
    for t in &report.tables {
        report.sstables += t.sstables;
        report.partitions += t.partitions;
        report.rows += t.rows;
        report.files += t.files.len() as u64;
        report.bytes_read += t.bytes_read;
        report.bytes_written += t.bytes_written;
    }
    eprintln!("export: {}", report.summary());
    if !missing.is_empty() {
        return Err(Error::Export(format!(
            "--commit: {} table(s) not published, their shards have not all finished: {}",
            missing.len(),
            missing.join("; ")
        )));
    }
    if let Some(path) = &plan.report {
        let text = serde_json::to_string_pretty(&report)
            .map_err(|e| Error::Export(format!("report: {e}")))?;
        std::fs::write(path, text + "\n").map_err(|e| Error::io(path, e))?;
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

/// The destination store and the runtime its futures run on.
struct Dest {
    store: Arc<dyn ObjectStore>,
    rt: tokio::runtime::Runtime,
    display: String,
    /// Bytes per multipart upload part.
    part_size: usize,
}

impl std::fmt::Debug for Dest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display)
    }
}

impl Dest {
    fn open(out: &Destination, opts: &StoreOptions) -> Result<Dest, Error> {
        // Several export threads block on uploads at once: a multi-threaded runtime.
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| Error::Export(format!("async runtime: {e}")))?;
        match out {
            Destination::Local(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
                let store = LocalFileSystem::new_with_prefix(dir)
                    .map_err(|e| store_err(&dir.display().to_string(), e))?
                    .with_automatic_cleanup(true);
                Ok(Dest {
                    store: Arc::new(store),
                    rt,
                    display: dir.display().to_string(),
                    part_size: opts.upload_part_size,
                })
            }
            Destination::Remote {
                store,
                bucket,
                prefix,
            } => {
                let display = out.to_string();
                let err = |e: object_store::Error| store_err(&display, e);
                let inner = crate::store::build_store(
                    *store,
                    bucket,
                    opts,
                    crate::store::retry_config(crate::store::read_options().retries),
                )
                .map_err(err)?;
                let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
                    inner
                } else {
                    Arc::new(PrefixStore::new(inner, prefix.as_str()))
                };
                Ok(Dest {
                    store,
                    rt,
                    display,
                    part_size: opts.upload_part_size,
                })
            }
        }
    }

    fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    fn list(&self, prefix: &ObjectPath) -> Result<Vec<ObjectPath>, Error> {
        self.block_on(self.store.list(Some(prefix)).try_collect::<Vec<_>>())
            .map(|v| v.into_iter().map(|m| m.location).collect())
            .map_err(|e| store_err(prefix.as_ref(), e))
    }

    fn delete(&self, path: &ObjectPath) -> Result<(), Error> {
        match self.block_on(self.store.delete(path)) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(store_err(path.as_ref(), e)),
        }
    }

    fn put(&self, path: &ObjectPath, bytes: Vec<u8>) -> Result<u64, Error> {
        let n = bytes.len() as u64;
        self.block_on(self.store.put(path, PutPayload::from(bytes)))
            .map_err(|e| store_err(path.as_ref(), e))?;
        Ok(n)
    }
}

fn store_err(path: &str, e: object_store::Error) -> Error {
    Error::Store {
        path: path.to_string(),
        message: e.to_string(),
    }
}

/// A `Write` that streams into a multipart upload (visible only once completed).
struct UploadWriter<'d> {
    dest: &'d Dest,
    path: ObjectPath,
    upload: Box<dyn MultipartUpload>,
    buf: Vec<u8>,
    part_size: usize,
    written: u64,
    completed: bool,
}

impl std::fmt::Debug for UploadWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "UploadWriter({})", self.path)
    }
}

impl<'d> UploadWriter<'d> {
    fn new(dest: &'d Dest, path: ObjectPath) -> Result<Self, Error> {
        let upload = dest
            .block_on(dest.store.put_multipart(&path))
            .map_err(|e| store_err(path.as_ref(), e))?;
        Ok(UploadWriter {
            dest,
            path,
            upload,
            buf: Vec::with_capacity(dest.part_size),
            part_size: dest.part_size,
            written: 0,
            completed: false,
        })
    }

    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(self.part_size));
        let part = self.upload.put_part(PutPayload::from(chunk));
        self.dest.block_on(part).map_err(std::io::Error::other)
    }

    fn complete(mut self) -> Result<u64, Error> {
        self.send().map_err(|e| Error::Store {
            path: self.path.to_string(),
            message: e.to_string(),
        })?;
        self.dest
            .block_on(self.upload.complete())
            .map_err(|e| store_err(self.path.as_ref(), e))?;
        self.completed = true;
        Ok(self.written)
    }
}

impl Drop for UploadWriter<'_> {
    /// An upload abandoned on an error is aborted (best effort), so that S3/GCS do not keep
    /// (and bill) its parts.
    fn drop(&mut self) {
        if !self.completed {
            let _ = self.dest.block_on(self.upload.abort());
        }
    }
}

impl Write for UploadWriter<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        self.written += data.len() as u64;
        if self.buf.len() >= self.part_size {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What one output column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Key(usize),
    Clustering(usize),
    Column(usize),
    WriteTime(usize),
    Ttl(usize),
    Token,
    Sources,
}

/// The output columns of a table: what each holds, and the Arrow schema.
#[derive(Debug)]
struct OutputShape {
    sources: Vec<Source>,
    schema: SchemaRef,
    /// CQL type per output column (for builders).
    types: Vec<CqlType>,
    /// Where `--partition-by` takes its value, its type, whether by date, the directory key.
    partition: Option<(Source, CqlType, bool, String)>,
}

fn token_type(p: Partitioner) -> CqlType {
    match p.token(&[]) {
        Token::Long(_) => CqlType::BigInt,
        Token::Big(_) => CqlType::Varint,
        Token::Bytes(_) => CqlType::Blob,
    }
}

fn output_shape(
    view: &TableView,
    partitioner: Partitioner,
    plan: &ExportPlan,
    opts: MapOptions,
) -> Result<OutputShape, Error> {
    let mut sources = Vec::new();
    let mut fields: Vec<Field> = Vec::new();
    let mut types = Vec::new();
    let find = |name: &str| -> Option<(Source, &CqlType)> {
        let groups: [(&[OutColumn], SourceOf); 3] = [
            (&view.partition_key, Source::Key),
            (&view.clustering, Source::Clustering),
            (&view.columns, Source::Column),
        ];
        groups.into_iter().find_map(|(cols, make)| {
            cols.iter()
                .enumerate()
                .find(|(_, c)| c.name == name)
                .map(|(i, c)| (make(i), &c.ty))
        })
    };
    let partition = match &plan.partition_by {
        None => None,
        Some(PartitionBy::Column(c)) | Some(PartitionBy::Date(c)) => {
            let by_date = matches!(plan.partition_by, Some(PartitionBy::Date(_)));
            let (src, ty) = find(c).ok_or_else(|| {
                Error::Usage(format!(
                    "--partition-by: {}.{} has no column {c}",
                    view.keyspace, view.table
                ))
            })?;
            let ok = if by_date {
                matches!(ty.unreversed(), CqlType::Timestamp | CqlType::Date)
            } else {
                !matches!(
                    ty.unreversed(),
                    CqlType::List { .. }
                        | CqlType::Set { .. }
                        | CqlType::Map { .. }
                        | CqlType::Udt(_)
                        | CqlType::Tuple(_)
                        | CqlType::Vector { .. }
                        | CqlType::Duration
                )
            };
            if !ok {
                return Err(Error::Usage(format!(
                    "--partition-by {}: column {c} is of type {ty:?}, {}",
                    if by_date { "date(..)" } else { "" },
                    if by_date {
                        "not timestamp or date"
                    } else {
                        "not a scalar"
                    }
                )));
            }
            let dir = if by_date {
                format!("{c}_date")
            } else {
                c.clone()
            };
            Some((src, ty.clone(), by_date, dir))
        }
    };
    let dropped = match &partition {
        Some((src, _, false, _)) => Some(*src),
        _ => None,
    };
    let mut push = |src: Source, name: String, ty: &CqlType, sources: &mut Vec<Source>| {
        if Some(src) == dropped {
            return;
        }
        fields.push(arrow_map::field(&name, ty, opts));
        types.push(ty.clone());
        sources.push(src);
    };
    for (i, c) in view.partition_key.iter().enumerate() {
        push(Source::Key(i), c.name.clone(), &c.ty, &mut sources);
    }
    for (i, c) in view.clustering.iter().enumerate() {
        push(Source::Clustering(i), c.name.clone(), &c.ty, &mut sources);
    }
    for (i, c) in view.columns.iter().enumerate() {
        push(Source::Column(i), c.name.clone(), &c.ty, &mut sources);
    }
    if plan.with_writetime {
        for (i, c) in view.columns.iter().enumerate() {
            push(
                Source::WriteTime(i),
                format!("writetime({})", c.name),
                &CqlType::BigInt,
                &mut sources,
            );
        }
    }
    if plan.with_ttl {
        for (i, c) in view.columns.iter().enumerate() {
            push(
                Source::Ttl(i),
                format!("ttl({})", c.name),
                &CqlType::Int,
                &mut sources,
            );
        }
    }
    if plan.with_token {
        push(
            Source::Token,
            "token".into(),
            &token_type(partitioner),
            &mut sources,
        );
    }
    if plan.with_source {
        push(
            Source::Sources,
            "source".into(),
            &CqlType::Text,
            &mut sources,
        );
    }
    let mut seen = std::collections::HashSet::new();
    for f in &fields {
        if !seen.insert(f.name().as_str()) {
            return Err(Error::Export(format!(
                "{}.{}: two output columns are named {:?} (a column clashes with --with-token/--with-source)",
                view.keyspace,
                view.table,
                f.name()
            )));
        }
    }
    Ok(OutputShape {
        sources,
        schema: Arc::new(ArrowSchema::new(fields)),
        types,
        partition,
    })
}

/// One open part (file) of one Hive directory, and its batch being built.
struct Part<'d> {
    builders: Vec<ColumnBuilder>,
    rows_in_batch: usize,
    writer: Option<(ArrowWriter<UploadWriter<'d>>, ObjectPath, u64)>,
}

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
    staged: String,
}

/// `export`'s sink: Arrow builders per Hive directory, Parquet parts through the store.
struct ArrowSink<'d, 'p> {
    shape: &'d OutputShape,
    opts: MapOptions,
    dest: &'d Dest,
    plan: &'p ExportPlan,
    props: WriterProperties,
    table_dir: String,
    /// Where parts are staged (`<table>/_staging/<run>` or a shard's directory).
    staging: String,
    run_id: &'p str,
    /// The split being exported (part of every file name).
    split: usize,
    source_text: String,
    batch_rows: usize,
    parts: HashMap<String, Part<'d>>,
    dir_buf: String,
    seq: u64,
    staged: Vec<StagedFile>,
    parts_staged: &'p AtomicU64,
    progress: &'p ProgressBar,
    /// Rows of the table exported so far, over all splits (for the progress bar).
    rows_done: &'p AtomicU64,
    /// The reader's progress at the last report to the progress bar (`None`: not yet read).
    progress_at: Option<u64>,
    /// Bytes added to the progress bar so far.
    progress_reported: u64,
    rows: u64,
    token_text: String,
}

impl<'d> ArrowSink<'d, '_> {
    fn new_part(&self) -> Part<'d> {
        Part {
            builders: self
                .shape
                .types
                .iter()
                .map(|t| ColumnBuilder::new(t, self.opts))
                .collect(),
            rows_in_batch: 0,
            writer: None,
        }
    }

    /// The Hive directory (`col=value/`) of a row, into `dir_buf`.
    fn hive_dir(&mut self, p: &PartitionInfo<'_>, row: &LiveCqlRow<'_>) -> Result<(), Error> {
        self.dir_buf.clear();
        let Some((src, view_ty, by_date, name)) = &self.shape.partition else {
            return Ok(());
        };
        let (ty, bytes) = match *src {
            Source::Key(i) => (Some(view_ty), p.key_parts.get(i).copied()),
            Source::Clustering(i) => (Some(view_ty), row.clustering.get(i).copied().flatten()),
            Source::Column(i) => match row.column(i) {
                Some(c) => (Some(c.ty), c.first().map(|c| c.value)),
                None => (None, None),
            },
            _ => (None, None),
        };
        let value = match (ty, bytes) {
            (Some(ty), Some(b)) => decode_value(ty, b).map_err(|e| Error::Export(e.to_string()))?,
            _ => Value::Null,
        };
        let mut text = String::new();
        match (&value, by_date) {
            (Value::Null, _) => text.push_str("__HIVE_DEFAULT_PARTITION__"),
            (Value::Timestamp(ms), true) => {
                let days = ms.div_euclid(86_400_000);
                let d = (days + (1_i64 << 31)) as u32;
                write_value(&mut text, &Value::Date(d));
            }
            (v, _) => write_value(&mut text, v),
        }
        let text = text
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or(&text);
        self.dir_buf.push_str(name);
        self.dir_buf.push('=');
        for c in text.chars() {
            if c.is_control() || "/\\=%\"'#?:*[]^{}".contains(c) {
                let mut b = [0; 4];
                for byte in c.encode_utf8(&mut b).bytes() {
                    self.dir_buf.push_str(&format!("%{byte:02X}"));
                }
            } else {
                self.dir_buf.push(c);
            }
        }
        self.dir_buf.push('/');
        Ok(())
    }

    fn append(&mut self, p: &PartitionInfo<'_>, row: &LiveCqlRow<'_>) -> Result<(), Error> {
        self.hive_dir(p, row)?;
        if !self.parts.contains_key(self.dir_buf.as_str()) {
            let part = self.new_part();
            self.parts.insert(self.dir_buf.clone(), part);
        }
        let Some(part) = self.parts.get_mut(self.dir_buf.as_str()) else {
            return Err(Error::Export("lost a part".into()));
        };
        let now = self.plan.at();
        for ((b, src), ty) in part
            .builders
            .iter_mut()
            .zip(&self.shape.sources)
            .zip(&self.shape.types)
        {
            match *src {
                Source::Key(i) => match p.key_parts.get(i) {
                    Some(bytes) => b.append(&decode(ty, bytes)?)?,
                    None => b.append_null(),
                },
                Source::Clustering(i) => match row.clustering.get(i).copied().flatten() {
                    Some(bytes) => b.append(&decode(ty, bytes)?)?,
                    None => b.append_null(),
                },
                Source::Column(i) => match row.column(i) {
                    None => b.append_null(),
                    Some(cells) if cells.multi_cell => {
                        let v = assemble_multi_cell(
                            cells.ty,
                            cells.iter().map(|c| (c.path.unwrap_or(&[]), c.value)),
                        )
                        .map_err(|e| Error::Export(e.to_string()))?;
                        b.append(&v)?;
                    }
                    Some(cells) => match cells.first() {
                        Some(c) => b.append(&decode(cells.ty, c.value)?)?,
                        None => b.append_null(),
                    },
                },
                Source::WriteTime(i) => match row.column(i).and_then(|c| c.max_timestamp()) {
                    Some(ts) => b.append(&Value::BigInt(ts))?,
                    None => b.append_null(),
                },
                Source::Ttl(i) => match row.column(i).and_then(|c| c.min_expiration()) {
                    Some(exp) => {
                        let left = (exp - now).clamp(0, i64::from(i32::MAX)) as i32;
                        b.append(&Value::Int(left))?
                    }
                    None => b.append_null(),
                },
                Source::Token => match p.token {
                    Token::Long(t) => b.append(&Value::BigInt(*t))?,
                    Token::Big(t) => {
                        self.token_text.clear();
                        self.token_text.push_str(&t.to_string());
                        b.append(&Value::Text(&self.token_text))?
                    }
                    Token::Bytes(k) => b.append(&Value::Blob(k))?,
                },
                Source::Sources => b.append(&Value::Text(&self.source_text))?,
            }
        }
        part.rows_in_batch += 1;
        self.rows += 1;
        if self.rows.is_multiple_of(16_384) {
            let done = self.rows_done.fetch_add(16_384, Ordering::Relaxed) + 16_384;
            self.progress
                .set_message(format!("{}: {done} rows", self.table_dir));
        }
        if part.rows_in_batch >= self.batch_rows {
            let dir = self.dir_buf.clone();
            self.flush_part(&dir, false)?;
        }
        Ok(())
    }

    /// Writes the batch of `dir` and closes its file when it is big enough (or `last`).
    fn flush_part(&mut self, dir: &str, last: bool) -> Result<(), Error> {
        let Some(part) = self.parts.get_mut(dir) else {
            return Ok(());
        };
        if part.rows_in_batch > 0 {
            let arrays = part
                .builders
                .iter_mut()
                .map(|b| b.finish())
                .collect::<Result<Vec<_>, _>>()?;
            let batch = RecordBatch::try_new(self.shape.schema.clone(), arrays)
                .map_err(|e| Error::Export(format!("{}: {e}", self.table_dir)))?;
            let rows = part.rows_in_batch as u64;
            part.rows_in_batch = 0;
            if part.writer.is_none() {
                self.seq += 1;
                let name = format!(
                    "{dir}part-{}-{}-{}.parquet",
                    self.run_id, self.split, self.seq
                );
                let staged = ObjectPath::from(format!("{}/{name}", self.staging));
                let upload = UploadWriter::new(self.dest, staged.clone())?;
                let w = ArrowWriter::try_new(
                    upload,
                    self.shape.schema.clone(),
                    Some(self.props.clone()),
                )
                .map_err(|e| Error::Export(format!("{staged}: {e}")))?;
                part.writer = Some((w, staged, 0));
            }
            if let Some((w, path, n)) = part.writer.as_mut() {
                w.write(&batch)
                    .map_err(|e| Error::Export(format!("{path}: {e}")))?;
                *n += rows;
            }
        }
        let full = part.writer.as_ref().is_some_and(|(w, _, _)| {
            (w.bytes_written() + w.in_progress_size()) as u64 >= self.plan.target_file_size
        });
        if full || last {
            if let Some((w, staged, rows)) = part.writer.take() {
                let upload = w
                    .into_inner()
                    .map_err(|e| Error::Export(format!("{staged}: {e}")))?;
                let bytes = upload.complete()?;
                let prefix = format!("{}/", self.staging);
                let rel = staged
                    .as_ref()
                    .strip_prefix(&prefix)
                    .unwrap_or(staged.as_ref())
                    .to_string();
                self.staged.push(StagedFile {
                    path: rel,
                    rows,
                    bytes,
                    staged: staged.to_string(),
                });
                let staged_now = self.parts_staged.fetch_add(1, Ordering::SeqCst) + 1;
                if self.plan.fail_after_parts.is_some_and(|n| staged_now >= n) {
                    eprintln!("export: --fail-after-parts {staged_now}: stopping abruptly");
                    std::process::exit(3);
                }
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), Error> {
        let mut dirs: Vec<String> = self.parts.keys().cloned().collect();
        dirs.sort();
        for d in dirs {
            self.flush_part(&d, true)?;
        }
        Ok(())
    }
}

fn decode<'a>(ty: &CqlType, bytes: &'a [u8]) -> Result<Value<'a>, Error> {
    decode_value(ty, bytes).map_err(|e| Error::Export(e.to_string()))
}

impl RowSink for ArrowSink<'_, '_> {
    type Error = Error;

    fn partition(&mut self, p: &PartitionInfo<'_>) -> Result<(), Error> {
        match self.progress_at {
            None => self.progress_at = Some(p.progress),
            Some(at) if p.progress >= at + (1 << 20) => {
                self.progress.inc(p.progress - at);
                self.progress_reported += p.progress - at;
                self.progress_at = Some(p.progress);
            }
            Some(_) => {}
        }
        Ok(())
    }

    fn row(&mut self, p: &PartitionInfo<'_>, row: &LiveCqlRow<'_>) -> Result<(), Error> {
        self.append(p, row)
    }
}

fn writer_properties(plan: &ExportPlan, shape: &OutputShape) -> WriterProperties {
    let codec = match plan.compression {
        Compression::Zstd => Codec::ZSTD(ZstdLevel::default()),
        Compression::Snappy => Codec::SNAPPY,
        Compression::Lz4 => Codec::LZ4_RAW,
        Compression::Gzip => Codec::GZIP(GzipLevel::default()),
        Compression::None => Codec::UNCOMPRESSED,
    };
    let mut b = WriterProperties::builder()
        .set_compression(codec)
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_created_by(format!("sstable-lake {}", env!("CARGO_PKG_VERSION")));
    b = match plan.row_group_size {
        RowGroupSize::Rows(n) => b
            .set_max_row_group_row_count(Some(n))
            .set_max_row_group_bytes(None),
        RowGroupSize::Bytes(n) => b
            .set_max_row_group_row_count(None)
            .set_max_row_group_bytes(Some(usize::try_from(n).unwrap_or(usize::MAX))),
    };
    if plan.bloom_filter {
        for (src, f) in shape.sources.iter().zip(shape.schema.fields()) {
            let key = matches!(src, Source::Key(_) | Source::Clustering(_));
            let primitive = !matches!(
                f.data_type(),
                DataType::Struct(_)
                    | DataType::List(_)
                    | DataType::Map(..)
                    | DataType::FixedSizeList(..)
            );
            if key && primitive {
                b = b.set_column_bloom_filter_enabled(ColumnPath::from(f.name().as_str()), true);
            }
        }
    }
    b.build()
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

/// Stored bytes per split that `--threads` aims for when `--splits` is not given.
const AUTO_SPLIT_BYTES: u64 = 128 << 20;

/// Below this many stored bytes per split, a table is not split to use more threads.
const MIN_SPLIT_BYTES: u64 = 4 << 20;

/// What one split (or the whole table) gave.
#[derive(Debug)]
struct SplitOutcome {
    files: Vec<StagedFile>,
    stats: crate::rows::RowStats,
    merge: Option<sstable_format::merge::MergeStats>,
}

/// What every split of a table shares.
struct TableJob<'a> {
    opened: &'a [OpenedSet],
    sets: &'a [&'a SstableSet],
    user_schema: Option<&'a sstable_format::schema::Schema>,
    plan: &'a ExportPlan,
    dest: &'a Dest,
    run_id: &'a str,
    shape: &'a OutputShape,
    opts: MapOptions,
    props: WriterProperties,
    batch_rows: usize,
    table_dir: &'a str,
    staging: &'a str,
    source_text: String,
    progress: &'a ProgressBar,
    parts_staged: &'a AtomicU64,
    rows_done: &'a AtomicU64,
}

impl TableJob<'_> {
    /// Exports split `index` (`ranges`: its byte range per set; `None`: the whole table).
    fn run_split(&self, index: usize, ranges: Option<&[ByteRange]>) -> Result<SplitOutcome, Error> {
        let mut input = open_table(self.opened, self.sets, ranges, self.user_schema)?;
        let mut sink = ArrowSink {
            shape: self.shape,
            opts: self.opts,
            dest: self.dest,
            plan: self.plan,
            props: self.props.clone(),
            table_dir: self.table_dir.to_string(),
            staging: self.staging.to_string(),
            run_id: self.run_id,
            split: index,
            source_text: self.source_text.clone(),
            batch_rows: self.batch_rows,
            parts: HashMap::new(),
            dir_buf: String::new(),
            seq: 0,
            staged: Vec::new(),
            parts_staged: self.parts_staged,
            progress: self.progress,
            rows_done: self.rows_done,
            progress_at: None,
            progress_reported: 0,
            rows: 0,
            token_text: String::new(),
        };
        let mut rows = LiveRows::new(
            &input.view,
            &input.mapping,
            input.partitioner,
            Now(self.plan.at()),
        );
        let result = rows.run(input.reader.reader(), &mut sink);
        let first_path = self
            .opened
            .first()
            .map(|o| o.data_path.display().to_string())
            .unwrap_or_default();
        result.map_err(|e| match e {
            Error::Export(m) => Error::Export(format!("{first_path}: {m}")),
            other => other,
        })?;
        sink.finish()?;
        // The bar counts each split's uncompressed bytes once it is done, whatever was
        // reported on the way.
        self.progress
            .inc(split_bytes(self.opened, ranges).saturating_sub(sink.progress_reported));
        Ok(SplitOutcome {
            files: std::mem::take(&mut sink.staged),
            stats: rows.stats,
            merge: input.reader.merge_stats(),
        })
    }
}

/// Uncompressed bytes of a split (`None`: of the whole table).
fn split_bytes(opened: &[OpenedSet], ranges: Option<&[ByteRange]>) -> u64 {
    match ranges {
        Some(r) => r
            .iter()
            .map(|b| b.data_end.0.saturating_sub(b.data_start.0))
            .sum(),
        None => opened
            .iter()
            .map(|o| crate::plan::storage_of(o).data_length())
            .sum(),
    }
}

/// Runs `work` (split index, ranges) on up to `threads` threads; the outcomes in split order,
/// or the error of the first split (in split order) that failed. After a failure no new split
/// starts.
fn run_splits(
    job: &TableJob<'_>,
    work: &[(usize, Option<Vec<ByteRange>>)],
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

/// Splits when not sharded: `--splits`, else one per [`AUTO_SPLIT_BYTES`] of stored bytes, at
/// least one per thread as long as each gets [`MIN_SPLIT_BYTES`] (small and medium tables use
/// every core too: a split costs a look-up in the partition index), at most 4 per thread; 1
/// with one thread.
fn auto_splits(plan: &ExportPlan, stored: u64) -> usize {
    if let Some(n) = plan.splits {
        return n;
    }
    if plan.threads <= 1 {
        return 1;
    }
    let by_size = usize::try_from(stored.div_ceil(AUTO_SPLIT_BYTES)).unwrap_or(usize::MAX);
    let per_thread = usize::try_from(stored / MIN_SPLIT_BYTES)
        .unwrap_or(usize::MAX)
        .min(plan.threads);
    by_size
        .max(per_thread)
        .clamp(1, plan.threads.saturating_mul(4))
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
fn plan_id(
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
        fnv1a(
            &mut h,
            &crate::plan::storage_of(o).stored_length().to_le_bytes(),
        );
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

/// The opened sets of a table group and what every step needs of them.
struct OpenedTable<'s> {
    sets: &'s [&'s SstableSet],
    opened: Vec<OpenedSet>,
    view: TableView,
    shape: OutputShape,
    opts: MapOptions,
    table_dir: String,
    data_paths: Vec<String>,
}

impl<'s> OpenedTable<'s> {
    fn open(
        sets: &'s [&'s SstableSet],
        user_schema: Option<&sstable_format::schema::Schema>,
        plan: &ExportPlan,
    ) -> Result<Self, Error> {
        let opened = sets
            .iter()
            .map(|s| OpenedSet::open(s))
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

    fn stored_bytes(&self) -> u64 {
        self.opened
            .iter()
            .map(|o| crate::plan::storage_of(o).stored_length())
            .sum()
    }
}

fn export_table(
    sets: &[&SstableSet],
    user_schema: Option<&sstable_format::schema::Schema>,
    plan: &ExportPlan,
    dest: &Dest,
    run_id: &str,
    progress: &ProgressBar,
    parts_staged: &AtomicU64,
) -> Result<TableReport, Error> {
    let table_started = Instant::now();
    let t = OpenedTable::open(sets, user_schema, plan)?;
    let table_dir = t.table_dir.as_str();
    progress.set_message(table_dir.to_string());

    // The splits this run exports: this shard's share, or all of them.
    let stored = t.stored_bytes();
    // Without a partition index, planning would scan Data.db once more: not worth it unless
    // asked for.
    let indexed = t.opened.iter().all(|o| {
        use sstable_format::descriptor::ComponentName;
        o.set.components.contains_key(&ComponentName::Index)
            || o.set.components.contains_key(&ComponentName::Partitions)
    });
    let n_splits = match plan.shard {
        Some(sh) => sh.splits,
        None if !indexed && plan.splits.is_none() => 1,
        None => auto_splits(plan, stored),
    };
    let mut bytes_read = stored;
    let work: Vec<(usize, Option<Vec<ByteRange>>)> = if n_splits <= 1 && plan.shard.is_none() {
        vec![(0, None)]
    } else {
        let (_, _, splits) = crate::plan::plan_opened(&t.opened, n_splits)?;
        let mine: Vec<usize> = match &plan.shard {
            Some(sh) => crate::plan::shard_share(sh, &splits),
            None => (0..splits.len()).collect(),
        };
        let work: Vec<_> = mine
            .into_iter()
            .filter_map(|i| splits.get(i))
            .filter(|sp| !sp.per_sstable.iter().all(ByteRange::is_empty))
            .map(|sp| (sp.index, Some(sp.per_sstable.clone())))
            .collect();
        if plan.shard.is_some() {
            bytes_read = work
                .iter()
                .filter_map(|(i, _)| splits.get(*i))
                .map(|sp| sp.estimated_bytes)
                .sum();
        }
        work
    };
    let staging = match &plan.shard {
        Some(sh) => shard_dir(table_dir, sh.index, sh.count),
        None => format!("{table_dir}/_staging/{run_id}"),
    };

    progress.set_length(
        work.iter()
            .map(|(_, r)| split_bytes(&t.opened, r.as_deref()))
            .sum(),
    );
    progress.set_position(0);
    progress.reset_eta();

    // 1. The table is being rewritten: no _SUCCESS, no leftovers of this shard's (or of
    //    unsharded) earlier runs.
    dest.delete(&ObjectPath::from(format!("{table_dir}/_SUCCESS")))?;
    let leftovers = match &plan.shard {
        Some(_) => staging.clone(),
        None => format!("{table_dir}/_staging"),
    };
    for old in dest.list(&ObjectPath::from(leftovers.as_str()))? {
        dest.delete(&old)?;
    }

    // 2. Stage the parts, splits in parallel.
    let rows_done = AtomicU64::new(0);
    let job = TableJob {
        opened: &t.opened,
        sets: t.sets,
        user_schema,
        plan,
        dest,
        run_id,
        shape: &t.shape,
        opts: t.opts,
        props: writer_properties(plan, &t.shape),
        batch_rows: match plan.row_group_size {
            RowGroupSize::Rows(n) => n.min(BATCH_ROWS),
            RowGroupSize::Bytes(_) => BATCH_ROWS,
        },
        table_dir,
        staging: &staging,
        source_text: t
            .data_paths
            .iter()
            .map(|p| {
                std::path::Path::new(p)
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(","),
        progress,
        parts_staged,
        rows_done: &rows_done,
    };
    let outcomes = run_splits(&job, &work, plan.threads)?;
    let mut stats = crate::rows::RowStats::default();
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
    let mut report = TableReport {
        keyspace: t.view.keyspace.clone(),
        table: t.view.table.clone(),
        sstables: t.opened.len() as u64,
        partitions: stats.partitions,
        rows: stats.rows,
        cells_deleted: stats.cells_deleted,
        cells_expired: stats.cells_expired,
        merge,
        bytes_read,
        bytes_written: files.iter().map(|f| f.bytes).sum(),
        seconds: 0.0,
        files,
    };

    // 3. A shard leaves its marker for --commit; an unsharded run publishes.
    match &plan.shard {
        Some(sh) => {
            let marker = ShardMarker {
                plan_id: plan_id(&t.opened, table_dir, sh.count, sh.splits, &t.shape),
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
            dest.put(&ObjectPath::from(format!("{staging}/_DONE.json")), text)?;
        }
        None => {
            publish(dest, plan, &t, run_id, &report)?;
            if let Destination::Local(dir) = &plan.out {
                // Directories are not objects: remove the emptied staging directories.
                let staging_dir = dir.join(table_dir).join("_staging");
                let _ = std::fs::remove_dir_all(staging_dir.join(run_id));
                let _ = std::fs::remove_dir(staging_dir);
            }
        }
    }
    report.seconds = table_started.elapsed().as_secs_f64();
    progress.suspend(|| eprintln!("export {}", report.summary(plan.shard.as_ref())));
    Ok(report)
}

/// Publishes a table: drops the files of earlier runs, moves the staged parts to their final
/// names, then writes `_manifest.json` and, last, `_SUCCESS`. Safe to repeat after an
/// interruption: a part already moved is found at its final name.
fn publish(
    dest: &Dest,
    plan: &ExportPlan,
    t: &OpenedTable<'_>,
    run_id: &str,
    report: &TableReport,
) -> Result<(), Error> {
    let table_dir = t.table_dir.as_str();
    let finals: std::collections::HashSet<String> = report
        .files
        .iter()
        .map(|f| format!("{table_dir}/{}", f.path))
        .collect();
    let staging = format!("{table_dir}/_staging/");
    let shards = format!("{table_dir}/_shards/");
    for old in dest.list(&ObjectPath::from(table_dir))? {
        let p = old.as_ref();
        if !p.starts_with(&staging) && !p.starts_with(&shards) && !finals.contains(p) {
            dest.delete(&old)?;
        }
    }
    for f in &report.files {
        let from = ObjectPath::from(f.staged.as_str());
        let to = ObjectPath::from(format!("{table_dir}/{}", f.path));
        match dest.block_on(dest.store.rename(&from, &to)) {
            Ok(()) => {}
            Err(object_store::Error::NotFound { .. })
                if dest.block_on(dest.store.head(&to)).is_ok() => {}
            Err(e) => return Err(store_err(from.as_ref(), e)),
        }
    }
    let manifest = Manifest {
        tool: "sstable-lake",
        tool_version: env!("CARGO_PKG_VERSION"),
        run_id,
        keyspace: &t.view.keyspace,
        table: &t.view.table,
        rows: report.rows,
        bytes: report.bytes_written,
        files: &report.files,
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
        source_sstables: &t.data_paths,
        options: plan,
        partition_by: t.shape.partition.as_ref().map(|(_, _, _, d)| d.clone()),
    };
    let text = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| Error::Export(format!("manifest: {e}")))?;
    dest.put(
        &ObjectPath::from(format!("{table_dir}/_manifest.json")),
        text,
    )?;
    dest.put(
        &ObjectPath::from(format!("{table_dir}/_SUCCESS")),
        Vec::new(),
    )?;
    Ok(())
}

/// `--commit`: publishes a table whose shards have all finished. `Ok(Err(missing))` names the
/// shards that have not (nothing of the table is then changed).
fn commit_table(
    sets: &[&SstableSet],
    user_schema: Option<&sstable_format::schema::Schema>,
    plan: &ExportPlan,
    commit: CommitPlan,
    dest: &Dest,
    run_id: &str,
) -> Result<Result<TableReport, String>, Error> {
    let started = Instant::now();
    let t = OpenedTable::open(sets, user_schema, plan)?;
    let table_dir = t.table_dir.as_str();
    let id = plan_id(&t.opened, table_dir, commit.count, commit.splits, &t.shape);
    let mut markers = Vec::with_capacity(commit.count);
    let mut missing = Vec::new();
    for k in 0..commit.count {
        let path = ObjectPath::from(format!(
            "{}/_DONE.json",
            shard_dir(table_dir, k, commit.count)
        ));
        let bytes = match dest.block_on(async {
            match dest.store.get(&path).await {
                Ok(r) => r.bytes().await,
                Err(e) => Err(e),
            }
        }) {
            Ok(b) => b,
            Err(object_store::Error::NotFound { .. }) => {
                missing.push(format!("{k} (not finished)"));
                continue;
            }
            Err(e) => return Err(store_err(path.as_ref(), e)),
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
        let dir = shard_dir(table_dir, k, commit.count);
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
    let mut report = TableReport {
        keyspace: t.view.keyspace.clone(),
        table: t.view.table.clone(),
        sstables: t.opened.len() as u64,
        partitions: 0,
        rows: 0,
        cells_deleted: 0,
        cells_expired: 0,
        merge: None,
        bytes_read: 0,
        bytes_written: 0,
        seconds: 0.0,
        files: Vec::new(),
    };
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
    // The shards' markers (and, on a local disk, their emptied directories) go last.
    for old in dest.list(&ObjectPath::from(format!("{table_dir}/_shards")))? {
        dest.delete(&old)?;
    }
    if let Destination::Local(dir) = &plan.out {
        let _ = std::fs::remove_dir_all(dir.join(table_dir).join("_shards"));
    }
    report.seconds = started.elapsed().as_secs_f64();
    eprintln!("commit {}", report.summary(None));
    Ok(Ok(report))
}

#[derive(Debug, Serialize)]
struct ManifestColumn {
    name: String,
    arrow_type: String,
}

#[derive(Debug, Serialize)]
struct Manifest<'a> {
    tool: &'static str,
    tool_version: &'static str,
    run_id: &'a str,
    keyspace: &'a str,
    table: &'a str,
    rows: u64,
    bytes: u64,
    files: &'a [StagedFile],
    schema: Vec<ManifestColumn>,
    source_sstables: &'a [String],
    options: &'a ExportPlan,
    partition_by: Option<String>,
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
    fn add(&mut self, o: &MergeReport) {
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
}

impl TableReport {
    /// One line: the table, what was read and written, and what the merge did.
    fn summary(&self, shard: Option<&crate::cli::ShardPlan>) -> String {
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
    fn summary(&self) -> String {
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic, reason = "tests")]
mod tests {
    use super::*;
    use clap::Parser;

    fn plan(args: &[&str]) -> ExportPlan {
        let mut all = vec!["sstable-lake", "export", "x", "--out", "d"];
        all.extend_from_slice(args);
        match crate::cli::Cli::try_parse_from(all)
            .unwrap()
            .into_plan(0)
            .unwrap()
        {
            crate::cli::Plan::Export(p) => *p,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn small_and_medium_tables_split_over_every_thread() {
        let two = plan(&["--threads", "2"]);
        // A tiny table is not worth a split; from 2 x 4 MiB on, each thread gets one.
        assert_eq!(auto_splits(&two, 100 << 10), 1);
        assert_eq!(auto_splits(&two, 6 << 20), 1);
        assert_eq!(auto_splits(&two, 66_000_000), 2);
        // Big tables: one split per 128 MiB, at most 4 per thread.
        assert_eq!(auto_splits(&two, 300 << 20), 3);
        assert_eq!(auto_splits(&two, 10 << 30), 8);
        assert_eq!(auto_splits(&plan(&["--threads", "1"]), 10 << 30), 1);
        assert_eq!(
            auto_splits(&plan(&["--threads", "2", "--splits", "5"]), 1),
            5
        );
    }
}
