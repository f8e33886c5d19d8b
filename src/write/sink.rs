//! The Parquet sink of `export`: live rows into Arrow builders, one open part per Hive
//! directory (`--partition-by`), batches into Parquet files streamed to the destination,
//! and a new file when one reaches `--target-file-size`.
//!
//! Rows reach the builders by the direct column path ([`crate::convert::direct`]): each cell's
//! bytes decoded straight into its builder, the text of Utf8 partition-key columns formed once
//! per partition, the token's text once per partition, and no hash lookup per row without
//! `--partition-by` (the last Hive directory is remembered with it). The environment variable
//! `SSTABLE_LAKE_VALUE_PATH=1` selects the former path through [`Value`] instead: the test that
//! compares the two paths on every corpus table uses it.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow_array::RecordBatch;
use arrow_schema::DataType;
use indicatif::ProgressBar;
use object_store::path::Path as ObjectPath;

use crate::write::store::object_path;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression as Codec, GzipLevel, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use sstable_format::partitioner::Token;
use sstable_format::value::{assemble_multi_cell, decode_value, Value};
use sstable_format::CqlType;

use crate::config::{Compression, ExportPlan, RowGroupSize};
use crate::convert::arrow::{ColumnBuilder, MapOptions};
use crate::convert::direct::{text_of, Scratch};
use crate::convert::json::write_value;
use crate::convert::shape::{OutputShape, Source};
use crate::error::Error;
use crate::read::live_rows::{LiveCqlRow, PartitionInfo, RowSink};

use super::report::StagedFile;
use super::store::{OutputStore, UploadWriter};

/// One open part (file) of one Hive directory, and its batch being built.
pub(crate) struct Part<'d> {
    builders: Vec<ColumnBuilder>,
    rows_in_batch: usize,
    /// The writer, its object path, its rows, and its name under the staging directory.
    writer: Option<(ArrowWriter<UploadWriter<'d>>, ObjectPath, u64, String)>,
}

/// What the sinks of every split of a table share.
pub struct SinkContext<'d, 'p> {
    /// The output columns.
    pub shape: &'d OutputShape,
    /// How CQL types map to Arrow.
    pub opts: MapOptions,
    /// The destination.
    pub dest: &'d OutputStore,
    /// The run's options.
    pub plan: &'p ExportPlan,
    /// Parquet writer properties.
    pub props: WriterProperties,
    /// `<keyspace>/<table>`.
    pub table_dir: &'p str,
    /// Where parts are staged (`<table>/_staging/<run>` or a shard's directory).
    pub staging: &'p str,
    /// The run's id (part of every file name).
    pub run_id: &'p str,
    /// The `source` column's text.
    pub source_text: String,
    /// Rows per Arrow batch.
    pub batch_rows: usize,
    /// Parts staged by the whole run (for `--fail-after-parts`).
    pub parts_staged: &'p AtomicU64,
    /// The progress bar.
    pub progress: &'p ProgressBar,
    /// Rows of the table exported so far, over all splits (for the progress bar).
    pub rows_done: &'p AtomicU64,
}

impl std::fmt::Debug for SinkContext<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SinkContext")
            .field("table_dir", &self.table_dir)
            .field("staging", &self.staging)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for ArrowSink<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArrowSink")
            .field("table_dir", &self.table_dir)
            .field("split", &self.split)
            .finish_non_exhaustive()
    }
}

/// `export`'s sink: Arrow builders per Hive directory, Parquet parts through the store.
pub struct ArrowSink<'d, 'p> {
    shape: &'d OutputShape,
    opts: MapOptions,
    dest: &'d OutputStore,
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
    /// Open parts and their Hive directory (`""` without `--partition-by`).
    parts: Vec<(String, Part<'d>)>,
    /// Index into `parts` by directory (used with `--partition-by` only).
    part_index: HashMap<String, usize>,
    /// The part of the previous row (with `--partition-by`).
    current: Option<usize>,
    dir_buf: String,
    /// The `Value` path instead of the direct one (`SSTABLE_LAKE_VALUE_PATH=1`).
    value_path: bool,
    scratch: Scratch,
    /// Per output column: the text of a Utf8 partition-key column in the current partition.
    key_text: Vec<Option<KeyText>>,
    /// `key_text` and `token_text` hold the current partition's values.
    partition_ready: bool,
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
    scratch_digits: String,
}

/// The text of a Utf8 partition-key column in the current partition.
#[derive(Debug, Default)]
struct KeyText {
    text: String,
    state: KeyState,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum KeyState {
    /// `text` holds the value.
    #[default]
    Text,
    /// The key component is null.
    Null,
    /// Decoded per row (not a Utf8 value).
    PerRow,
}

impl<'d, 'p> ArrowSink<'d, 'p> {
    /// The sink of split `split` (part of its file names).
    pub fn new(ctx: &SinkContext<'d, 'p>, split: usize) -> Self {
        ArrowSink {
            shape: ctx.shape,
            opts: ctx.opts,
            dest: ctx.dest,
            plan: ctx.plan,
            props: ctx.props.clone(),
            table_dir: ctx.table_dir.to_string(),
            staging: ctx.staging.to_string(),
            run_id: ctx.run_id,
            split,
            source_text: ctx.source_text.clone(),
            batch_rows: ctx.batch_rows,
            parts: Vec::new(),
            part_index: HashMap::new(),
            current: None,
            dir_buf: String::new(),
            value_path: std::env::var_os("SSTABLE_LAKE_VALUE_PATH").is_some_and(|v| v == "1"),
            scratch: Scratch::default(),
            key_text: ctx
                .shape
                .sources
                .iter()
                .zip(ctx.shape.schema.fields())
                .map(|(src, f)| {
                    (matches!(src, Source::Key(_)) && f.data_type() == &DataType::Utf8)
                        .then(KeyText::default)
                })
                .collect(),
            partition_ready: false,
            seq: 0,
            staged: Vec::new(),
            parts_staged: ctx.parts_staged,
            progress: ctx.progress,
            rows_done: ctx.rows_done,
            progress_at: None,
            progress_reported: 0,
            rows: 0,
            token_text: String::new(),
            scratch_digits: String::new(),
        }
    }

    /// Bytes this sink added to the progress bar.
    pub fn progress_reported(&self) -> u64 {
        self.progress_reported
    }

    /// The parts staged so far (taken).
    pub fn take_staged(&mut self) -> Vec<StagedFile> {
        std::mem::take(&mut self.staged)
    }

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
            (Some(ty), Some(b)) => decode_value(ty, b).map_err(Error::Decode)?,
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

    /// The index in `parts` of the part a row goes to, made if new.
    fn part_of(&mut self, p: &PartitionInfo<'_>, row: &LiveCqlRow<'_>) -> Result<usize, Error> {
        if self.shape.partition.is_none() {
            if self.parts.is_empty() {
                let part = self.new_part();
                self.parts.push((String::new(), part));
            }
            return Ok(0);
        }
        self.hive_dir(p, row)?;
        if let Some(i) = self.current {
            if self.parts.get(i).is_some_and(|(d, _)| *d == self.dir_buf) {
                return Ok(i);
            }
        }
        let i = match self.part_index.get(self.dir_buf.as_str()) {
            Some(&i) => i,
            None => {
                let part = self.new_part();
                self.parts.push((self.dir_buf.clone(), part));
                self.part_index
                    .insert(self.dir_buf.clone(), self.parts.len() - 1);
                self.parts.len() - 1
            }
        };
        self.current = Some(i);
        Ok(i)
    }

    /// The per-partition values (Utf8 key text, token text), once per partition that has a
    /// row: a key that does not decode fails on its partition's first row, as it did per row.
    fn prepare_partition(&mut self, p: &PartitionInfo<'_>) -> Result<(), Error> {
        for (cache, (src, ty)) in self
            .key_text
            .iter_mut()
            .zip(self.shape.sources.iter().zip(&self.shape.types))
        {
            let (Some(cache), Source::Key(i)) = (cache, src) else {
                continue;
            };
            cache.state = match p.key_parts.get(*i) {
                None => KeyState::Null,
                Some(bytes) => {
                    match text_of(ty, bytes, &mut cache.text, &mut self.scratch_digits) {
                        Ok(Some(true)) => KeyState::Text,
                        Ok(Some(false)) => KeyState::Null,
                        Ok(None) => KeyState::PerRow,
                        Err(e) => return Err(decode(ty, bytes).err().unwrap_or(e)),
                    }
                }
            };
        }
        if let Token::Big(t) = p.token {
            self.token_text.clear();
            let _ = write!(self.token_text, "{t}");
        }
        self.partition_ready = true;
        Ok(())
    }

    fn append(&mut self, p: &PartitionInfo<'_>, row: &LiveCqlRow<'_>) -> Result<(), Error> {
        let idx = self.part_of(p, row)?;
        if self.value_path {
            self.append_values(idx, p, row)?;
        } else {
            if !self.partition_ready {
                self.prepare_partition(p)?;
            }
            self.append_direct(idx, p, row)?;
        }
        let Some((_, part)) = self.parts.get_mut(idx) else {
            return Err(Error::Export("lost a part".into()));
        };
        part.rows_in_batch += 1;
        let full = part.rows_in_batch >= self.batch_rows;
        self.rows += 1;
        if self.rows.is_multiple_of(16_384) {
            let done = self.rows_done.fetch_add(16_384, Ordering::Relaxed) + 16_384;
            self.progress
                .set_message(format!("{}: {done} rows", self.table_dir));
        }
        if full {
            self.flush_part(idx, false)?;
        }
        Ok(())
    }

    /// One row by the direct column path.
    fn append_direct(
        &mut self,
        idx: usize,
        p: &PartitionInfo<'_>,
        row: &LiveCqlRow<'_>,
    ) -> Result<(), Error> {
        let Some((_, part)) = self.parts.get_mut(idx) else {
            return Err(Error::Export("lost a part".into()));
        };
        let s = &mut self.scratch;
        let now = self.plan.at();
        let columns = part
            .builders
            .iter_mut()
            .zip(&self.shape.sources)
            .zip(&self.shape.types)
            .zip(&self.key_text);
        for (((b, src), ty), key_text) in columns {
            match *src {
                Source::Key(i) => match (key_text, p.key_parts.get(i)) {
                    (Some(k), _) if k.state == KeyState::Text => b.append_str(&k.text)?,
                    (Some(k), _) if k.state == KeyState::Null => b.append_null(),
                    (_, Some(bytes)) => b.append_bytes(ty, bytes, s)?,
                    (_, None) => b.append_null(),
                },
                Source::Clustering(i) => match row.clustering.get(i).copied().flatten() {
                    Some(bytes) => b.append_bytes(ty, bytes, s)?,
                    None => b.append_null(),
                },
                Source::Column(i) => match row.column(i) {
                    None => b.append_null(),
                    Some(cells) if cells.multi_cell => b.append_cells(&cells, s)?,
                    Some(cells) => match cells.first() {
                        Some(c) => b.append_bytes(cells.ty, c.value, s)?,
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
                    Token::Big(_) => b.append_str(&self.token_text)?,
                    Token::Bytes(k) => b.append(&Value::Blob(k))?,
                },
                Source::Sources => b.append_str(&self.source_text)?,
            }
        }
        Ok(())
    }

    /// One row by the `Value` path (decode each value, then match it to its builder).
    fn append_values(
        &mut self,
        idx: usize,
        p: &PartitionInfo<'_>,
        row: &LiveCqlRow<'_>,
    ) -> Result<(), Error> {
        let Some((_, part)) = self.parts.get_mut(idx) else {
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
                        .map_err(Error::Decode)?;
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
        Ok(())
    }

    /// Writes the batch of part `idx` and closes its file when it is big enough (or `last`).
    fn flush_part(&mut self, idx: usize, last: bool) -> Result<(), Error> {
        let Some((dir, part)) = self.parts.get_mut(idx) else {
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
                // Object paths are built once from the plain names (`ObjectPath::from` encodes
                // each part); an encoded path is never encoded again (issue 11.9).
                let staged = object_path(format!("{}/{name}", self.staging));
                let upload = UploadWriter::new(self.dest, staged.clone())?;
                let w = ArrowWriter::try_new(
                    upload,
                    self.shape.schema.clone(),
                    Some(self.props.clone()),
                )
                .map_err(|e| Error::Export(format!("{staged}: {e}")))?;
                part.writer = Some((w, staged, 0, name));
            }
            if let Some((w, path, n, _)) = part.writer.as_mut() {
                w.write(&batch)
                    .map_err(|e| Error::Export(format!("{path}: {e}")))?;
                *n += rows;
            }
        }
        let full = part.writer.as_ref().is_some_and(|(w, _, _, _)| {
            (w.bytes_written() + w.in_progress_size()) as u64 >= self.plan.target_file_size
        });
        if full || last {
            if let Some((w, staged, rows, name)) = part.writer.take() {
                let upload = w
                    .into_inner()
                    .map_err(|e| Error::Export(format!("{staged}: {e}")))?;
                let bytes = upload.complete()?;
                self.staged.push(StagedFile {
                    staged: format!("{}/{name}", self.staging),
                    path: name,
                    rows,
                    bytes,
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

    /// Closes every open part.
    pub fn finish(&mut self) -> Result<(), Error> {
        let mut order: Vec<usize> = (0..self.parts.len()).collect();
        order.sort_by(|a, b| {
            let dir = |i: &usize| self.parts.get(*i).map(|(d, _)| d.as_str());
            dir(a).cmp(&dir(b))
        });
        for i in order {
            self.flush_part(i, true)?;
        }
        Ok(())
    }
}

fn decode<'a>(ty: &CqlType, bytes: &'a [u8]) -> Result<Value<'a>, Error> {
    decode_value(ty, bytes).map_err(Error::Decode)
}

impl RowSink for ArrowSink<'_, '_> {
    type Error = Error;

    fn partition(&mut self, p: &PartitionInfo<'_>) -> Result<(), Error> {
        self.partition_ready = false;
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

/// The Parquet writer properties of `plan` (codec, row groups, statistics, bloom filters).
pub fn writer_properties(plan: &ExportPlan, shape: &OutputShape) -> WriterProperties {
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
    // Dictionary encoding per column: off where values are mostly distinct (uuid, timeuuid,
    // timestamp, blob), where a dictionary costs a hash per value and falls back anyway.
    for (ty, f) in shape.types.iter().zip(shape.schema.fields()) {
        let distinct = matches!(
            ty.unreversed(),
            CqlType::Uuid | CqlType::TimeUuid | CqlType::Timestamp | CqlType::Blob
        );
        if distinct {
            b = b.set_column_dictionary_enabled(ColumnPath::from(f.name().as_str()), false);
        }
    }
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
