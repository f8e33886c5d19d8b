#![allow(
    clippy::expect_used,
    reason = "benchmark setup: a failure is a bug to see at once"
)]
//! Merge stage: three replicas of one table (the same 200 x 300 rows, one replica with later
//! overwrites) merged into the current rows.
//!
//! `cargo bench -p sstable-format --bench merge`. Throughput is in bytes of uncompressed Data.db
//! read over all replicas.

mod common;

use common::{layout, synthetic_at, CHUNK};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sstable_format::data::{DataReader, PartitionReader, Unfiltered};
use sstable_format::merge::{ColumnMap, Merger};
use sstable_format::partitioner::Partitioner;
use sstable_format::{CqlType, DataOffset, SliceSource};

fn merge_all(files: &[Vec<u8>]) -> u64 {
    let lay = layout();
    let n = lay.regulars.len() as u32;
    let sources: Vec<(Box<dyn PartitionReader + '_>, ColumnMap)> = files
        .iter()
        .map(|f| {
            let r: Box<dyn PartitionReader + '_> = Box::new(DataReader::new(
                SliceSource::new(f, DataOffset(0), CHUNK),
                lay.clone(),
            ));
            (
                r,
                ColumnMap {
                    statics: vec![],
                    regulars: (0..n).map(Some).collect(),
                },
            )
        })
        .collect();
    let types = vec![
        CqlType::Text,
        CqlType::Int,
        CqlType::BigInt,
        CqlType::Double,
        CqlType::Text,
        CqlType::Boolean,
        CqlType::Timestamp,
        CqlType::Uuid,
    ];
    // The synthetic keys are 4-byte partition numbers; ByteOrdered keeps them in written order.
    let mut m = Merger::new(sources, Partitioner::ByteOrdered, vec![CqlType::Int], types);
    let mut rows = 0;
    while m.next_partition().expect("partition").is_some() {
        while let Some(u) = m.next_unfiltered().expect("row") {
            if let Unfiltered::Row(_) = u {
                rows += 1;
            }
        }
    }
    rows
}

fn bench(c: &mut Criterion) {
    let files = vec![
        synthetic_at(200, 300, 0),
        synthetic_at(200, 300, 0),
        synthetic_at(200, 300, 5),
    ];
    let bytes: usize = files.iter().map(Vec::len).sum();
    let mut g = c.benchmark_group("merge");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.sample_size(10);
    g.bench_function("three_replicas_200x300", |b| b.iter(|| merge_all(&files)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
