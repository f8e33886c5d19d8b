//! The whole lake path: `sstable_lake::commands::export::run` over the generated
//! `bench.events` backup (three uncompressed `nb` sets, 2,000 partitions x 20 rows), with the
//! plan and `Io` made as `src/main.rs` makes them from `export INPUT --threads 1 --out OUT`.
//! Every iteration exports into a fresh directory.
//!
//! `cargo bench --bench end_to_end`. Throughput: bytes of Data.db.
#![allow(
    clippy::expect_used,
    reason = "benchmark setup: a failure is a bug to see at once"
)]

mod common;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use sstable_lake::commands::export;
use sstable_lake::config::ExportPlan;
use sstable_lake::io::Io;

fn setup(input: &common::Input, run: &mut u64) -> (Io, ExportPlan) {
    *run += 1;
    let out = input.dir.path().join(format!("out-{run}"));
    let plan = common::export_plan(&input.plain_root, &out);
    let io = Io::new(plan.store.clone(), plan.read);
    (io, plan)
}

fn bench(c: &mut Criterion) {
    let input = common::generate();
    let mut run = 0;
    let (io, plan) = setup(&input, &mut run);
    export::run(&io, &plan).expect("export");
    eprintln!(
        "end_to_end input: {} bytes of Data.db in 3 sets",
        input.plain_bytes()
    );
    let mut g = c.benchmark_group("lake_end_to_end");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(input.plain_bytes()));
    g.bench_function("export_events_2000x20", |b| {
        b.iter_batched(
            || setup(&input, &mut run),
            |(io, plan)| export::run(&io, &plan).expect("export"),
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
