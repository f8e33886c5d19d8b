//! Decode stage of the lake path: the Data.db bytes of the generated `bench.events` backup
//! (three uncompressed `nb` sets, 2,000 partitions x 20 rows) to rows and cells with
//! [`sstable_format::data::DataReader`], as `src/read/open.rs` reads one set.
//!
//! `cargo bench --bench decode`. Throughput: bytes of Data.db.
#![allow(
    clippy::expect_used,
    reason = "benchmark setup: a failure is a bug to see at once"
)]

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sstable_format::data::{DataReader, Unfiltered};
use sstable_format::{DataOffset, SliceSource};

/// Rows and cells of every set.
fn decode(sets: &[common::Set]) -> (u64, u64) {
    let (mut rows, mut cells) = (0u64, 0u64);
    for set in sets {
        let mut r = DataReader::new(
            SliceSource::new(&set.data, DataOffset(0), common::CHUNK),
            set.layout.clone(),
        );
        while r.next_partition().expect("partition").is_some() {
            while let Some(u) = r.next_unfiltered().expect("row") {
                if let Unfiltered::Row(row) = u {
                    rows += 1;
                    cells += row.cells.len() as u64;
                }
            }
        }
    }
    (rows, cells)
}

fn bench(c: &mut Criterion) {
    let input = common::generate();
    let (rows, cells) = decode(&input.plain);
    assert_eq!(rows, common::PARTITIONS * common::ROWS, "every row decoded");
    eprintln!(
        "decode input: {} bytes of Data.db in 3 sets, {rows} rows, {cells} cells",
        input.plain_bytes()
    );
    let mut g = c.benchmark_group("lake_decode");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(input.plain_bytes()));
    g.bench_function("events_2000x20", |b| b.iter(|| decode(&input.plain)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
