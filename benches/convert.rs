//! Convert stage of the lake path: the serialized cell values of the generated `bench.events`
//! rows (key, clustering and the four regular cells, decoded once before measuring) into Arrow
//! RecordBatches of 8,192 rows with the export's builders
//! (`sstable_lake::convert::arrow::ColumnBuilder`, filled by `append_bytes` of
//! `src/convert/direct.rs`).
//!
//! `cargo bench --bench convert`. Throughput: rows.
#![allow(
    clippy::expect_used,
    reason = "benchmark setup: a failure is a bug to see at once"
)]

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn bench(c: &mut Criterion) {
    let input = common::generate();
    let values = common::values(&input);
    let schema = common::schema(&values);
    let batches = common::convert(&values, &schema);
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, values.rows(), "every row converted");
    let bytes: usize = values
        .columns
        .iter()
        .flatten()
        .flatten()
        .map(Vec::len)
        .sum();
    eprintln!(
        "convert input: {rows} rows, {} columns, {bytes} bytes of serialized values, {} batches",
        values.names.len(),
        batches.len()
    );
    let mut g = c.benchmark_group("lake_convert");
    g.sample_size(10);
    g.throughput(Throughput::Elements(rows as u64));
    g.bench_function("events_2000x20", |b| {
        b.iter(|| common::convert(&values, &schema))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
