//! What the export tests share: the corpus' checks (every non-negative set with expected rows,
//! staged as `canon/run_all.sh` stages them) and the batch checks that read many exported
//! tables back in one Python process (`tests/duckdb/check_export.py --batch`,
//! `tests/spark/check_spark.py`).
#![allow(
    dead_code,
    clippy::panic,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests; each test crate uses part of this module"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

pub fn ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// One check of the corpus canon: one set alone (`mode: each`) or all sets of a file read
/// together (`mode: merged`), with the rows that a full read gives.
#[derive(Debug, Clone)]
pub struct Check {
    /// `name` or `name[set]` (as run_all.sh labels it).
    pub label: String,
    /// The canon file's name (without `.json`).
    pub name: String,
    pub canon_path: PathBuf,
    /// Data.db paths relative to the corpus root.
    pub sets: Vec<String>,
    /// CREATE TYPE / CREATE TABLE statements, if the canon has them.
    pub schema: Option<String>,
    /// `--now` (epoch seconds) of the `*_asof` files.
    pub now: Option<i64>,
    pub expected_rows: usize,
}

impl Check {
    /// Links the sets into `dir/in/<n>/<original directory name>/` (one directory per
    /// original directory) and writes the schema; returns the export arguments: the input
    /// directory, `--schema FILE` and `--now T` where they apply.
    pub fn stage(&self, corpus: &Path, dir: &Path) -> Vec<String> {
        let input = dir.join("in");
        let mut parents: Vec<PathBuf> = Vec::new();
        for set in &self.sets {
            let data = corpus.join(set);
            let parent = data.parent().unwrap().to_path_buf();
            let i = parents
                .iter()
                .position(|p| *p == parent)
                .unwrap_or_else(|| {
                    parents.push(parent.clone());
                    parents.len() - 1
                });
            let table_dir = input.join(i.to_string()).join(parent.file_name().unwrap());
            std::fs::create_dir_all(&table_dir).unwrap();
            let name = data.file_name().unwrap().to_str().unwrap();
            let prefix = name.strip_suffix("Data.db").unwrap();
            for e in std::fs::read_dir(&parent).unwrap() {
                let e = e.unwrap();
                let n = e.file_name().into_string().unwrap();
                if n.starts_with(prefix) && e.path().is_file() {
                    std::os::unix::fs::symlink(e.path(), table_dir.join(&n)).unwrap();
                }
            }
        }
        let mut args = vec![input.to_str().unwrap().to_string()];
        if let Some(schema) = &self.schema {
            let file = dir.join("schema.cql");
            std::fs::write(&file, format!("{schema};\n")).unwrap();
            args.extend(["--schema".into(), file.to_str().unwrap().into()]);
        }
        if let Some(now) = self.now {
            args.extend(["--now".into(), now.to_string()]);
        }
        args
    }

    /// A job of the batch checkers for the exported table at `table` (a directory or URL).
    pub fn job(&self, table: &str) -> serde_json::Value {
        serde_json::json!({
            "label": self.label,
            "table": table,
            "canon": self.canon_path,
            "set": self.sets[0],
        })
    }
}

fn schema_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Array(a) => Some(
            a.iter()
                .map(|s| s.as_str().unwrap())
                .collect::<Vec<_>>()
                .join(";\n"),
        ),
        _ => None,
    }
}

/// Every check of the corpus canon whose sets are not negative (no `accept_error` or
/// `expect_error`), the `*_asof` ones included (with their `--now`). The corpus' 7 other
/// non-negative sets have no expected rows, and 6 of them no known schema either (2.x sets that
/// cannot be read without one), so they are not here.
pub fn checks(corpus: &Path) -> Vec<Check> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus.join("canon/expected"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let c: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        if c["accept_error"].as_bool() == Some(true) || c["expect_error"].as_bool() == Some(true) {
            continue;
        }
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let sets: Vec<String> = c["applies_to"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect();
        let groups: Vec<Vec<String>> = if c["mode"] == "merged" {
            vec![sets.clone()]
        } else {
            sets.iter().map(|s| vec![s.clone()]).collect()
        };
        for g in groups {
            let label = if c["mode"] == "merged" || sets.len() == 1 {
                name.clone()
            } else {
                format!("{name}[{}]", g[0])
            };
            let schema = c["schema_cql_per_set"]
                .get(&g[0])
                .and_then(schema_text)
                .or_else(|| schema_text(&c["schema_cql"]));
            let rows = c["rows_per_set"]
                .get(&g[0])
                .unwrap_or(&c["rows"])
                .as_array()
                .map_or(0, Vec::len);
            out.push(Check {
                label,
                name: name.clone(),
                canon_path: path.clone(),
                sets: g,
                schema,
                now: c["now_epoch_seconds"].as_i64(),
                expected_rows: rows,
            });
        }
    }
    out
}

/// The one table directory (`DEST/ks/table`) under `out`, relative to it (`ks/table`).
pub fn table_of(out: &Path) -> String {
    let ks = std::fs::read_dir(out)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let table = std::fs::read_dir(&ks).unwrap().next().unwrap().unwrap();
    format!(
        "{}/{}",
        ks.file_name().unwrap().to_str().unwrap(),
        table.file_name().to_str().unwrap()
    )
}

/// Runs a batch checker (`script JOBS.json CHECK_ROWS.py`, with `pre` arguments before
/// JOBS.json) on `jobs`, and fails with its output unless every job passes.
pub fn batch_check(
    py: &Path,
    script: &str,
    pre: &[&str],
    corpus: &Path,
    jobs: &[serde_json::Value],
    env: &[(&str, &str)],
) -> String {
    let dir = tempfile::tempdir().unwrap();
    let jobs_file = dir.path().join("jobs.json");
    std::fs::write(&jobs_file, serde_json::to_string(jobs).unwrap()).unwrap();
    let o = Command::new(py)
        .arg(format!("{MANIFEST_DIR}/{script}"))
        .args(pre)
        .arg(&jobs_file)
        .arg(corpus.join("canon/check_rows.py"))
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{script} failed:\n{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let passed = out.lines().filter(|l| l.starts_with("PASS ")).count();
    assert_eq!(passed, jobs.len(), "{out}");
    out
}
