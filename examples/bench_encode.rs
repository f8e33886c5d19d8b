//! Parquet-encode-only floor of `scripts/bench-lake.sh` (issue 13): reads the Parquet files of
//! an export back into Arrow record batches (untimed), then encodes them again with the
//! export's writer settings into a byte sink, on one thread, and prints the CPU time of the
//! encoding alone.
//!
//! The settings replicate `writer_properties` in `src/write/sink.rs` with the default flags (it is
//! private to the export): zstd at its default level, page statistics, row groups of 128 MiB
//! buffered bytes, the writer's default dictionary encoding, no bloom filter; batches of 8,192
//! rows (`BATCH_ROWS` there). Keep the two in step.
//!
//! Run: `cargo run --release --example bench_encode -- EXPORT_DIR`. Prints one line:
//! `encode files=N rows=R batches=B parquet_bytes=P cpu_s=S`.
#![allow(clippy::expect_used, reason = "a benchmark tool")]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use arrow_array::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};

/// `BATCH_ROWS` of `src/commands/export.rs`.
const BATCH_ROWS: usize = 8192;

/// CPU time (user + system) of this thread so far, in seconds.
fn thread_cpu() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0.0, |ns| ns as f64 / 1e9)
}

/// `writer_properties` of `src/write/sink.rs` with the default flags, for a file of `schema`:
/// dictionary encoding off for the columns that default flags write from uuid, timeuuid
/// (16-byte fixed), timestamp and blob values.
fn writer_properties(schema: &arrow_schema::Schema) -> WriterProperties {
    let mut b = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_created_by(format!("sstable-lake {}", env!("CARGO_PKG_VERSION")))
        .set_max_row_group_row_count(None)
        .set_max_row_group_bytes(Some(128 << 20));
    for f in schema.fields() {
        use arrow_schema::DataType;
        if matches!(
            f.data_type(),
            DataType::FixedSizeBinary(16) | DataType::Timestamp(..) | DataType::Binary
        ) {
            b = b.set_column_dictionary_enabled(
                parquet::schema::types::ColumnPath::from(f.name().as_str()),
                false,
            );
        }
    }
    b.build()
}

fn parquet_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            parquet_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "parquet") {
            out.push(p);
        }
    }
}

/// Counts the bytes written.
struct Sink(u64);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn main() -> ExitCode {
    let Some(dir) = std::env::args().nth(1).map(PathBuf::from) else {
        eprintln!("usage: bench_encode EXPORT_DIR");
        return ExitCode::from(2);
    };
    let mut files = Vec::new();
    parquet_files(&dir, &mut files);
    // Untimed: the batches of each file, as the export built them.
    let inputs: Vec<Vec<RecordBatch>> = files
        .iter()
        .map(|f| {
            let file = std::fs::File::open(f).expect("open a Parquet file");
            ParquetRecordBatchReaderBuilder::try_new(file)
                .expect("Parquet metadata")
                .with_batch_size(BATCH_ROWS)
                .build()
                .expect("reader")
                .collect::<Result<Vec<_>, _>>()
                .expect("read the batches")
        })
        .collect();
    let start = thread_cpu();
    let (mut rows, mut batches, mut bytes) = (0usize, 0usize, 0u64);
    for file in &inputs {
        let Some(schema) = file.first().map(RecordBatch::schema) else {
            continue;
        };
        let props = writer_properties(&schema);
        let mut w = ArrowWriter::try_new(Sink(0), schema, Some(props)).expect("writer");
        for b in file {
            w.write(b).expect("encode");
            rows += b.num_rows();
            batches += 1;
        }
        bytes += w.into_inner().expect("close").0;
    }
    let cpu = thread_cpu() - start;
    println!(
        "encode files={} rows={rows} batches={batches} parquet_bytes={bytes} cpu_s={cpu:.3}",
        files.len()
    );
    ExitCode::SUCCESS
}
