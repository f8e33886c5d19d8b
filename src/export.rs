//! `sstable-lake export`: the live rows of every table under the inputs as Parquet files in
//! `DEST/<keyspace>/<table>/[<hive dirs>/]part-<run>-<n>.parquet`, written through
//! `object_store`: a local directory, or an S3 / GCS bucket chosen by the URL scheme.
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

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::Arc;
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
use serde::Serialize;
use sstable_format::partitioner::{Partitioner, Token};
use sstable_format::reconcile::Now;
use sstable_format::value::{assemble_multi_cell, decode_value, Value};
use sstable_format::CqlType;

use crate::arrow_map::{self, ColumnBuilder, MapOptions};
use crate::cli::{
    Compat, Compression, Destination, ExportPlan, NowPlan, PartitionBy, RowGroupSize, StoreOptions,
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
            ProgressStyle::with_template("{spinner} {elapsed} {msg}")
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
    let mut parts_staged = 0_u64;
    for group in discovery.tables() {
        let now = resolve_now(plan.now, &group.sets, &discovery);
        let plan = ExportPlan {
            now: NowPlan::At(now),
            ..plan.clone()
        };
        let t = export_table(
            &group.sets,
            user_schema.as_ref(),
            &plan,
            &dest,
            &run_id,
            &progress,
            &mut parts_staged,
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
        let rt = tokio::runtime::Builder::new_current_thread()
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
#[derive(Debug, Clone, Serialize)]
pub struct StagedFile {
    /// Final path, relative to the table's directory.
    pub path: String,
    /// Rows.
    pub rows: u64,
    /// Bytes.
    pub bytes: u64,
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
    run_id: &'p str,
    source_text: String,
    batch_rows: usize,
    parts: HashMap<String, Part<'d>>,
    dir_buf: String,
    seq: u64,
    staged: Vec<StagedFile>,
    parts_staged: &'p mut u64,
    progress: &'p ProgressBar,
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
        if self.rows.is_multiple_of(65_536) {
            self.progress
                .set_message(format!("{}: {} rows", self.table_dir, self.rows));
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
                let name = format!("{dir}part-{}-{:05}.parquet", self.run_id, self.seq);
                let staged = ObjectPath::from(format!(
                    "{}/_staging/{}/{name}",
                    self.table_dir, self.run_id
                ));
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
                let prefix = format!("{}/_staging/{}/", self.table_dir, self.run_id);
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
                *self.parts_staged += 1;
                if self
                    .plan
                    .fail_after_parts
                    .is_some_and(|n| *self.parts_staged >= n)
                {
                    eprintln!(
                        "export: --fail-after-parts {}: stopping abruptly",
                        *self.parts_staged
                    );
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

    fn partition(&mut self, _: &PartitionInfo<'_>) -> Result<(), Error> {
        Ok(())
    }

    fn row(&mut self, p: &PartitionInfo<'_>, row: &LiveCqlRow<'_>) -> Result<(), Error> {
        self.append(p, row)
    }
}

fn writer_properties(plan: &ExportPlan, shape: &OutputShape, view: &TableView) -> WriterProperties {
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
    let _ = view;
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

#[allow(clippy::too_many_arguments)]
fn export_table(
    sets: &[&SstableSet],
    user_schema: Option<&sstable_format::schema::Schema>,
    plan: &ExportPlan,
    dest: &Dest,
    run_id: &str,
    progress: &ProgressBar,
    parts_staged: &mut u64,
) -> Result<TableReport, Error> {
    let table_started = Instant::now();
    let opened = sets
        .iter()
        .map(|s| OpenedSet::open(s))
        .collect::<Result<Vec<_>, _>>()?;
    let mut input = open_table(&opened, sets, None, user_schema)?;
    let view = &input.view;
    let opts = MapOptions {
        decimal: plan.decimal,
        spark: plan.compat == Some(Compat::Spark),
    };
    let shape = output_shape(view, input.partitioner, plan, opts)?;
    let table_dir = format!("{}/{}", segment(&view.keyspace), segment(&view.table));
    progress.set_message(format!("{table_dir}: starting"));
    let data_paths: Vec<String> = opened
        .iter()
        .map(|o| o.data_path.display().to_string())
        .collect();
    let bytes_read: u64 = opened
        .iter()
        .filter_map(|o| crate::store::metadata(&o.data_path))
        .map(|m| m.0)
        .sum();

    // 1. The table is being rewritten: no _SUCCESS, no staging leftovers.
    dest.delete(&ObjectPath::from(format!("{table_dir}/_SUCCESS")))?;
    for old in dest.list(&ObjectPath::from(format!("{table_dir}/_staging")))? {
        dest.delete(&old)?;
    }

    // 2. Stage the parts.
    let props = writer_properties(plan, &shape, view);
    let batch_rows = match plan.row_group_size {
        RowGroupSize::Rows(n) => n.min(BATCH_ROWS),
        RowGroupSize::Bytes(_) => BATCH_ROWS,
    };
    let mut sink = ArrowSink {
        shape: &shape,
        opts,
        dest,
        plan,
        props,
        table_dir: table_dir.clone(),
        run_id,
        source_text: data_paths
            .iter()
            .map(|p| {
                std::path::Path::new(p)
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(","),
        batch_rows,
        parts: HashMap::new(),
        dir_buf: String::new(),
        seq: 0,
        staged: Vec::new(),
        parts_staged,
        progress,
        rows: 0,
        token_text: String::new(),
    };
    let mut rows = LiveRows::new(view, &input.mapping, input.partitioner, Now(plan.at()));
    let result = rows.run(input.reader.reader(), &mut sink);
    let data_err = |e: Error| match e {
        Error::Export(m) => Error::Export(format!(
            "{}: {m}",
            data_paths.first().cloned().unwrap_or_default()
        )),
        other => other,
    };
    result.map_err(data_err)?;
    sink.finish()?;
    let staged = std::mem::take(&mut sink.staged);
    let stats = rows.stats;
    let merge = input.reader.merge_stats();

    // 3. Publish: drop the previous run's files, move the parts, manifest, _SUCCESS.
    let staging = format!("{table_dir}/_staging/");
    for old in dest.list(&ObjectPath::from(table_dir.as_str()))? {
        if !old.as_ref().starts_with(&staging) {
            dest.delete(&old)?;
        }
    }
    for f in &staged {
        let from = ObjectPath::from(f.staged.as_str());
        let to = ObjectPath::from(format!("{table_dir}/{}", f.path));
        dest.block_on(dest.store.rename(&from, &to))
            .map_err(|e| store_err(from.as_ref(), e))?;
    }
    if let Destination::Local(dir) = &plan.out {
        // Directories are not objects: remove the emptied staging directories.
        let staging = dir.join(&table_dir).join("_staging");
        let _ = std::fs::remove_dir(staging.join(run_id));
        let _ = std::fs::remove_dir(staging);
    }
    let bytes_written: u64 = staged.iter().map(|f| f.bytes).sum();
    let manifest = Manifest {
        tool: "sstable-lake",
        tool_version: env!("CARGO_PKG_VERSION"),
        run_id,
        keyspace: &view.keyspace,
        table: &view.table,
        rows: stats.rows,
        bytes: bytes_written,
        files: &staged,
        schema: shape
            .schema
            .fields()
            .iter()
            .map(|f| ManifestColumn {
                name: f.name().clone(),
                arrow_type: f.data_type().to_string(),
            })
            .collect(),
        source_sstables: &data_paths,
        options: plan,
        partition_by: shape.partition.as_ref().map(|(_, _, _, d)| d.clone()),
    };
    let text = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| Error::Export(format!("manifest: {e}")))?;
    let mut bytes_meta = dest.put(
        &ObjectPath::from(format!("{table_dir}/_manifest.json")),
        text,
    )?;
    bytes_meta += dest.put(
        &ObjectPath::from(format!("{table_dir}/_SUCCESS")),
        Vec::new(),
    )?;
    let _ = bytes_meta;
    let report = TableReport {
        keyspace: view.keyspace.clone(),
        table: view.table.clone(),
        sstables: opened.len() as u64,
        partitions: stats.partitions,
        rows: stats.rows,
        cells_deleted: stats.cells_deleted,
        cells_expired: stats.cells_expired,
        merge: merge.map(|m| MergeReport {
            partitions_read: m.partitions_read,
            partitions_out: m.partitions_out,
            rows_read: m.rows_read,
            rows_superseded: m.rows_superseded,
            cells_superseded: m.cells_superseded,
            tombstones: m.tombstones,
        }),
        bytes_read,
        bytes_written,
        seconds: table_started.elapsed().as_secs_f64(),
        files: staged,
    };
    eprintln!(
        "export {}.{}: {} sstable(s), {} partition(s), {} row(s) in {} file(s), {} byte(s){}",
        report.keyspace,
        report.table,
        report.sstables,
        report.partitions,
        report.rows,
        report.files.len(),
        report.bytes_written,
        report
            .merge
            .as_ref()
            .map(|m| format!(
                "; merge: {} partition(s) read, {} row version(s) merged, {} cell version(s) superseded, {} tombstone(s)",
                m.partitions_read, m.rows_superseded, m.cells_superseded, m.tombstones
            ))
            .unwrap_or_default()
    );
    Ok(report)
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
#[derive(Debug, Clone, Serialize)]
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
