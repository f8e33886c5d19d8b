//! The direct column path of `export` (serialized values decoded straight into the Arrow
//! builders, `src/convert/direct.rs`) gives the same Parquet rows as the former path through
//! `sstable_format::value::Value` (selected with `SSTABLE_LAKE_VALUE_PATH=1`), on every corpus
//! table with expected rows, with the default mapping and with `--compat spark` plus every
//! metadata column; a table that fails fails the same way on both.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use arrow_array::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::common;
use crate::export::corpus;

fn export(args: &[String], value_path: bool) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sstable-lake"));
    cmd.arg("export")
        .args(args)
        .env_remove("SSTABLE_LAKE_VALUE_PATH");
    if value_path {
        cmd.env("SSTABLE_LAKE_VALUE_PATH", "1");
    }
    cmd.output().expect("run sstable-lake")
}

/// Every `*.parquet` under `dir`, keyed by its path without the run id
/// (`<hive dirs>/part-<run>-<split>-<seq>.parquet` → `<hive dirs>/<split>-<seq>`).
fn parquet_files(dir: &Path, out: &mut Vec<(String, PathBuf)>, rel: &str) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        if p.is_dir() {
            if !name.starts_with('_') {
                parquet_files(&p, out, &format!("{rel}{name}/"));
            }
        } else if let Some(stem) = name.strip_suffix(".parquet") {
            let mut it = stem.rsplitn(3, '-');
            let (seq, split) = (it.next().unwrap(), it.next().unwrap());
            out.push((format!("{rel}{split:0>6}-{seq:0>6}"), p));
        }
    }
}

fn batches(out: &Path) -> Vec<(String, Vec<RecordBatch>)> {
    let mut files = Vec::new();
    parquet_files(out, &mut files, "");
    files.sort();
    files
        .into_iter()
        .map(|(key, p)| {
            let f = std::fs::File::open(&p).unwrap();
            let reader = ParquetRecordBatchReaderBuilder::try_new(f)
                .unwrap()
                .build()
                .unwrap();
            (key, reader.map(Result::unwrap).collect())
        })
        .collect()
}

#[test]
fn direct_column_path_equals_the_value_path_on_every_corpus_table() {
    let Some(corpus) = corpus() else { return };
    let checks = common::checks(&corpus);
    assert!(checks.len() >= 180, "{} checks", checks.len());
    let tmp = tempfile::tempdir().unwrap();
    let modes: [&[&str]; 2] = [
        &[],
        &[
            "--compat",
            "spark",
            "--with-writetime",
            "--with-ttl",
            "--with-token",
            "--with-source",
        ],
    ];
    let (mut compared, mut rows, mut failed_alike) = (0, 0, 0);
    for (i, check) in checks.iter().enumerate() {
        let work = tmp.path().join(format!("c{i:03}"));
        let staged = check.stage(&corpus, &work);
        for (m, extra) in modes.iter().enumerate() {
            let outs = [
                work.join(format!("direct{m}")),
                work.join(format!("value{m}")),
            ];
            let results: Vec<Output> = outs
                .iter()
                .zip([false, true])
                .map(|(out, value_path)| {
                    let mut args = staged.clone();
                    args.extend(["--out".into(), out.to_str().unwrap().into()]);
                    args.extend(["--threads".into(), "1".into()]);
                    args.extend(extra.iter().map(|s| (*s).to_string()));
                    export(&args, value_path)
                })
                .collect();
            let (direct, value) = (&results[0], &results[1]);
            let label = format!("{} {extra:?}", check.label);
            assert_eq!(
                direct.status.success(),
                value.status.success(),
                "{label}: direct {}, value {}",
                String::from_utf8_lossy(&direct.stderr),
                String::from_utf8_lossy(&value.stderr)
            );
            if !direct.status.success() {
                let last = |o: &Output| {
                    let e = String::from_utf8_lossy(&o.stderr).to_string();
                    e.lines().last().unwrap_or("").to_string()
                };
                assert_eq!(last(direct), last(value), "{label}: errors differ");
                failed_alike += 1;
                continue;
            }
            let (a, b) = (batches(&outs[0]), batches(&outs[1]));
            assert!(
                !a.is_empty() || check.expected_rows == 0,
                "{label}: no Parquet file"
            );
            assert_eq!(
                a.iter().map(|(k, _)| k).collect::<Vec<_>>(),
                b.iter().map(|(k, _)| k).collect::<Vec<_>>(),
                "{label}: files differ"
            );
            for ((key, x), (_, y)) in a.iter().zip(&b) {
                assert_eq!(x, y, "{label}: {key} differs");
                rows += x.iter().map(RecordBatch::num_rows).sum::<usize>();
            }
            compared += 1;
        }
    }
    eprintln!("column path: {compared} exports equal ({rows} rows), {failed_alike} failed alike");
    assert!(compared >= 2 * 170, "only {compared} exports compared");
    assert!(rows > 1000, "only {rows} rows compared");
}
