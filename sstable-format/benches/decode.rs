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
use sstable_format::compression_info::CompressionInfo;
use sstable_format::data::{DataReader, Unfiltered};
use sstable_format::statistics::Statistics;
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
    corpus(c);
}

/// The largest 3.0+ sets of the real corpus (when `SSTABLE_CORPUS` or `../shared/corpus` is there).
fn corpus(c: &mut Criterion) {
    let root = std::env::var_os("SSTABLE_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus").into());
    let sets = [
        (
            "many_live_partitions_mc_none",
            "scylla/sstables/3.x/uncompressed/write_many_live_partitions/mc-1-big-",
        ),
        (
            "large_partition_mc_lz4",
            "scylla/sstables/large_partition/try1/data-1c6ace40fad111e7b9cf000000000002/mc-3-big-",
        ),
    ];
    let mut g = c.benchmark_group("decode_corpus");
    g.sample_size(20);
    for (name, prefix) in sets {
        let path = |s: &str| root.join(format!("{prefix}{s}"));
        let (Ok(data), Ok(stats)) = (
            std::fs::read(path("Data.db")),
            std::fs::read(path("Statistics.db")),
        ) else {
            eprintln!("corpus set {prefix} not found: skipped");
            continue;
        };
        let stats = Statistics::parse(&stats, Version::Mc).expect("statistics");
        let layout = stats
            .header
            .expect("header")
            .layout(Version::Mc)
            .expect("layout");
        let info = std::fs::read(path("CompressionInfo.db"))
            .ok()
            .map(|b| CompressionInfo::parse(&b, Version::Mc).expect("compression info"));
        let uncompressed = info
            .as_ref()
            .map_or(data.len() as u64, CompressionInfo::data_length);
        let run = || match &info {
            Some(info) => count_cells(DataReader::new(
                CompressedSource::new(&data, info, Version::Mc, ChunkIndex(0), None)
                    .expect("source"),
                layout.clone(),
            )),
            None => count_cells(DataReader::new(
                SliceSource::new(&data, DataOffset(0), CHUNK),
                layout.clone(),
            )),
        };
        let (rows, cells) = run();
        eprintln!("{name}: {uncompressed} bytes uncompressed, {rows} rows, {cells} cells");
        g.throughput(Throughput::Bytes(uncompressed));
        g.bench_function(BenchmarkId::new("rows", name), |b| b.iter(run));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
