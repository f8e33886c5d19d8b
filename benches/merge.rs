//! Merge stage of the lake path: three overlapping replicas of the generated `bench.events`
//! table (every partition on each node; a third of the cells newer on one node, 1% of the
//! rows deleted on one node, range tombstones) merged two ways:
//!
//! - `merger`: [`sstable_format::merge::Merger`] alone, built as `open_table` of
//!   `src/read/open.rs` builds it (Murmur3, the header's clustering types, one [`ColumnMap`]
//!   per set), every merged row counted;
//! - `live_rows`: the lake's own read path: `open_table` over the discovered and opened sets,
//!   then `LiveRows::run` (the reconciliation rules: tombstones hide rows and cells) into a
//!   sink that counts the live rows (what `export` and `dump` do before converting).
//!
//! `cargo bench --bench merge`. Throughput: bytes of Data.db read over the three replicas.
#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "benchmark setup: a failure is a bug to see at once"
)]

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sstable_format::data::{DataReader, PartitionReader, Unfiltered};
use sstable_format::merge::{ColumnMap, Merger};
use sstable_format::partitioner::Partitioner;
use sstable_format::reconcile::Now;
use sstable_format::{DataOffset, SliceSource};
use sstable_lake::discover::opened::OpenedSet;
use sstable_lake::discover::{discover, SstableSet};
use sstable_lake::io::Io;
use sstable_lake::read::live_rows::{LiveCqlRow, LiveRows, PartitionInfo, RowSink};
use sstable_lake::read::open::open_table;

/// Counts the live rows.
struct Count(u64);

impl RowSink for Count {
    type Error = sstable_lake::error::Error;

    fn partition(&mut self, _: &PartitionInfo<'_>) -> Result<(), Self::Error> {
        Ok(())
    }

    fn row(&mut self, _: &PartitionInfo<'_>, _: &LiveCqlRow<'_>) -> Result<(), Self::Error> {
        self.0 += 1;
        Ok(())
    }
}

/// The live rows of the merge of `opened` (the sets of one table).
fn live_rows(opened: &[OpenedSet], sets: &[&SstableSet]) -> u64 {
    let mut input = open_table(opened, sets, None, None).expect("open the table");
    let mut rows = LiveRows::new(
        &input.view,
        &input.mapping,
        input.partitioner,
        Now(1_800_000_000),
    );
    let mut count = Count(0);
    rows.run(input.reader.reader(), &mut count)
        .expect("read the rows");
    count.0
}

/// Merged rows, and those of them with a cell (the rows deleted on one replica have none).
fn merge(sets: &[common::Set]) -> (u64, u64) {
    let first = sets.first().expect("a replica");
    let sources: Vec<(Box<dyn PartitionReader + '_>, ColumnMap)> = sets
        .iter()
        .map(|s| {
            let r: Box<dyn PartitionReader + '_> = Box::new(DataReader::new(
                SliceSource::new(&s.data, DataOffset(0), common::CHUNK),
                s.layout.clone(),
            ));
            let map = ColumnMap {
                statics: vec![],
                regulars: (0..s.regulars.len() as u32).map(Some).collect(),
            };
            (r, map)
        })
        .collect();
    let types = first.regulars.iter().map(|(_, t)| t.clone()).collect();
    let mut m = Merger::new(
        sources,
        Partitioner::Murmur3,
        first.clustering.clone(),
        types,
    );
    let (mut rows, mut with_cells) = (0u64, 0u64);
    while m.next_partition().expect("partition").is_some() {
        while let Some(u) = m.next_unfiltered().expect("row") {
            if let Unfiltered::Row(row) = u {
                rows += 1;
                with_cells += u64::from(!row.cells.is_empty());
            }
        }
    }
    (rows, with_cells)
}

fn bench(c: &mut Criterion) {
    let input = common::generate();
    let (rows, with_cells) = merge(&input.replicas);
    eprintln!(
        "merge input: {} bytes of Data.db in 3 replicas; {rows} merged rows, {with_cells} with cells",
        input.replica_bytes()
    );
    let io = Io::default();
    let discovery =
        discover(&io, &[input.dir.path().join("events-replicas")]).expect("discover the replicas");
    let tables = discovery.tables();
    let [table] = tables.as_slice() else {
        panic!("one table expected, found {}", tables.len());
    };
    let opened: Vec<OpenedSet> = table
        .sets
        .iter()
        .map(|s| OpenedSet::open(&io, s))
        .collect::<Result<_, _>>()
        .expect("open the sets");
    let live = live_rows(&opened, &table.sets);
    eprintln!("merge: {live} live rows of {} sets", opened.len());
    let mut g = c.benchmark_group("lake_merge");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(input.replica_bytes()));
    g.bench_function("merger/three_replicas_2000x20", |b| {
        b.iter(|| merge(&input.replicas))
    });
    g.bench_function("live_rows/three_replicas_2000x20", |b| {
        b.iter(|| live_rows(&opened, &table.sets))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
