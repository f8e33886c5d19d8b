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

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sstable_format::chunks::{compress_chunk, CompressedSource};
use sstable_format::compression_info::{write_compression_info, Codec, CompressionInfo};
use sstable_format::data::{
    Cell, CellKind, DataReader, DeletionTime, Layout, LivenessInfo, Row, Unfiltered,
};
use sstable_format::writer::DataWriter;
use sstable_format::{ChunkIndex, CqlType, DataOffset, DataSource, SliceSource, Version};

const CHUNK: usize = 16 * 1024;

fn layout() -> Layout {
    let regs = [
        CqlType::Text,
        CqlType::Int,
        CqlType::BigInt,
        CqlType::Double,
        CqlType::Text,
        CqlType::Boolean,
        CqlType::Timestamp,
        CqlType::Uuid,
    ];
    Layout::new(
        Version::Nb,
        (1_600_000_000_000_000, 1_600_000_000, 0),
        &[CqlType::Int],
        &[],
        &regs.iter().collect::<Vec<_>>(),
    )
    .expect("layout")
}

/// An uncompressed Data.db of `partitions` x `rows` rows with 8 columns each.
fn synthetic(partitions: u32, rows: u32) -> Vec<u8> {
    let mut w = DataWriter::new(layout());
    let text = b"some text value of about forty bytes....";
    let ints: Vec<[u8; 4]> = (0..rows).map(|i| i.to_be_bytes()).collect();
    for p in 0..partitions {
        let key = p.to_be_bytes();
        w.start_partition(&key, DeletionTime::LIVE)
            .expect("partition");
        for (r, ck) in ints.iter().enumerate() {
            let ts = 1_600_000_000_000_000 + i64::from(p) * 1000 + r as i64;
            let big = (ts as u64).to_be_bytes();
            let dbl = (r as f64 * 1.5).to_be_bytes();
            let uuid = [7u8; 16];
            let values: [&[u8]; 8] = [&text[..], ck, &big, &dbl, &text[..20], &[1], &big, &uuid];
            let cells = values
                .iter()
                .enumerate()
                .map(|(i, v)| Cell {
                    column: i as u32,
                    timestamp: ts,
                    kind: CellKind::Live,
                    path: None,
                    value: v,
                })
                .collect();
            let row = Row {
                is_static: false,
                clustering: vec![Some(&ck[..])],
                liveness: LivenessInfo {
                    timestamp: Some(ts),
                    ttl: None,
                },
                deletion: DeletionTime::LIVE,
                deletion_is_shadowable: false,
                scylla_shadowable_deletion: None,
                complex_deletions: vec![],
                cells,
                offset: DataOffset(0),
            };
            w.write_row(&row).expect("row");
        }
        w.end_partition().expect("end");
    }
    w.finish()
}

/// Compresses `data` into LZ4 chunks with CRC32s; returns (Data.db, CompressionInfo).
fn compress(data: &[u8]) -> (Vec<u8>, CompressionInfo) {
    let mut file = Vec::new();
    let mut offsets = Vec::new();
    for chunk in data.chunks(CHUNK) {
        offsets.push(file.len() as u64);
        let start = file.len();
        compress_chunk(&Codec::Lz4, chunk, &mut file).expect("compress");
        let crc = crc32fast::hash(&file[start..]);
        file.extend_from_slice(&crc.to_be_bytes());
    }
    let mut info = Vec::new();
    write_compression_info(
        "LZ4Compressor",
        &[],
        CHUNK as u32,
        Some(i32::MAX as u32),
        data.len() as u64,
        &offsets,
        &mut info,
    );
    (
        file,
        CompressionInfo::parse(&info, Version::Nb).expect("info"),
    )
}

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
