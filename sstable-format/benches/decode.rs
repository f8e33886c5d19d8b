#![allow(
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    reason = "benchmark setup: a failure is a bug to see at once"
)]
//! Decode stage: Data.db bytes (LZ4-compressed, checksummed) to rows and cells.
//!
//! `cargo bench -p sstable-format --bench decode`. Reports MB/s of uncompressed Data.db; the
//! cells/s figure is printed once per input before measuring.

mod common;

use common::{compress, layout, synthetic, CHUNK};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sstable_format::chunks::CompressedSource;
use sstable_format::data::{DataReader, Unfiltered};
use sstable_format::{ChunkIndex, DataOffset, DataSource, SliceSource, Version};

fn count_cells<S: DataSource>(mut r: DataReader<S>) -> (u64, u64) {
    let (mut rows, mut cells) = (0u64, 0u64);
    while let Some(_p) = r.next_partition().expect("partition") {
        while let Some(u) = r.next_unfiltered().expect("row") {
            if let Unfiltered::Row(row) = u {
                rows += 1;
                cells += row.cells.len() as u64;
            }
        }
    }
    (rows, cells)
}

fn bench(c: &mut Criterion) {
    let data = synthetic(200, 1000);
    let (file, info) = compress(&data);
    let layout = layout();
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.sample_size(10);
    let start = std::time::Instant::now();
    let (rows, cells) = count_cells(DataReader::new(
        SliceSource::new(&data, DataOffset(0), CHUNK),
        layout.clone(),
    ));
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "synthetic: {} MB uncompressed, {} MB LZ4, {rows} rows, {cells} cells; one pass decode-only: {:.1} Mcells/s",
        data.len() / 1_000_000,
        file.len() / 1_000_000,
        cells as f64 / secs / 1e6
    );
    g.bench_function(BenchmarkId::new("rows_only", "synthetic_200x1000"), |b| {
        b.iter(|| {
            count_cells(DataReader::new(
                SliceSource::new(&data, DataOffset(0), CHUNK),
                layout.clone(),
            ))
        })
    });
    g.bench_function(
        BenchmarkId::new("lz4_crc_rows", "synthetic_200x1000"),
        |b| {
            b.iter(|| {
                let src = CompressedSource::new(&file, &info, Version::Nb, ChunkIndex(0), None)
                    .expect("source");
                count_cells(DataReader::new(src, layout.clone()))
            })
        },
    );
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
