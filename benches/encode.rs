//! Parquet encode stage of the lake path: the RecordBatches of the generated `bench.events`
//! rows (built once before measuring, as `benches/convert.rs` builds them) written by one
//! `ArrowWriter` with the export's writer settings: `sstable_lake::write::sink::writer_properties`
//! of the plan of `export INPUT --threads 1 --out OUT` (default flags: zstd, page statistics,
//! 128 MiB row groups, no dictionary on the timestamp column).
//!
//! `cargo bench --bench encode`. Throughput: rows.
#![allow(
    clippy::expect_used,
    reason = "benchmark setup: a failure is a bug to see at once"
)]

mod common;

use arrow_array::RecordBatch;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use sstable_lake::convert::shape::{OutputShape, Source};
use sstable_lake::write::sink::writer_properties;

/// The batches encoded into one Parquet file in memory; returns its size.
fn encode(batches: &[RecordBatch], props: &WriterProperties) -> usize {
    let schema = batches.first().expect("a batch").schema();
    let mut w = ArrowWriter::try_new(Vec::new(), schema, Some(props.clone())).expect("writer");
    for b in batches {
        w.write(b).expect("encode");
    }
    w.into_inner().expect("close").len()
}

fn bench(c: &mut Criterion) {
    let input = common::generate();
    let values = common::values(&input);
    let schema = common::schema(&values);
    let batches = common::convert(&values, &schema);
    let plan = common::export_plan(&input.plain_root, &input.dir.path().join("out"));
    // The shape the export gives this table: key, clustering, then the regular columns.
    let shape = OutputShape {
        sources: [Source::Key(0), Source::Clustering(0)]
            .into_iter()
            .chain((0..values.names.len() - 2).map(Source::Column))
            .collect(),
        schema: schema.clone(),
        types: values.types.clone(),
        partition: None,
    };
    let props = writer_properties(&plan, &shape);
    let rows = values.rows() as u64;
    eprintln!(
        "encode input: {rows} rows in {} batches; {} bytes of Parquet",
        batches.len(),
        encode(&batches, &props)
    );
    let mut g = c.benchmark_group("lake_encode");
    g.sample_size(10);
    g.throughput(Throughput::Elements(rows));
    g.bench_function("events_2000x20", |b| b.iter(|| encode(&batches, &props)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
