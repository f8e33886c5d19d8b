//! Object store faults and secrets (issue 11): the S3 server (s3s-fs on 127.0.0.1) stopped in
//! the middle of an upload and in the middle of a ranged read, then restarted: the run retries
//! or fails cleanly (non-zero, no `_SUCCESS`), and a re-run publishes every row exactly once;
//! and credentials (endpoint user info, the AWS credential variables) appear in no output,
//! error, `_manifest.json` or run report.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::export_remote::{tool, Server, ACCESS_KEY, BUCKET, SECRET_KEY};
use super::faults::{bin, write_set, write_set_with};

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");
const NOW: &str = "2024-01-01T00:00:00Z";

fn s3s() -> Option<PathBuf> {
    tool(
        PathBuf::from(format!("{MANIFEST_DIR}/target/test-tools/bin/s3s-fs")),
        "the S3 server",
    )
}

/// s3s-fs serving `root` on `port`.
fn start(s3s: &Path, root: &Path, port: u16) -> Server {
    std::fs::create_dir_all(root.join(BUCKET)).unwrap();
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
    server
}

fn env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
        ("AWS_REGION", "us-east-1"),
    ]
}

fn lake(args: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.env_clear().envs(env()).args(args);
    c
}

/// Runs `c`, stopping the server when `fault` says so (polled every 10 ms) and restarting it
/// on the same port 1.5 s later; the output (bounded: 120 s).
fn run_with_fault(
    mut c: Command,
    server: &mut Option<Server>,
    restart: &dyn Fn() -> Server,
    fault: &dyn Fn(Duration) -> bool,
) -> Output {
    let started = Instant::now();
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stopped_at: Option<Instant> = None;
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the run hangs"
        );
        match stopped_at {
            None if fault(started.elapsed()) => {
                drop(server.take());
                stopped_at = Some(Instant::now());
            }
            Some(t) if server.is_none() && t.elapsed() > Duration::from_millis(1500) => {
                *server = Some(restart());
            }
            _ => {}
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    if server.is_none() {
        *server = Some(restart());
    }
    assert!(stopped_at.is_some(), "the run ended before the fault");
    child.wait_with_output().unwrap()
}

fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
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

/// The published table under `table` (a directory of s3s-fs or a local one): its manifest's
/// rows, and that its files are exactly the Parquet files there (none twice, none extra).
fn published_rows(table: &Path) -> u64 {
    assert!(table.join("_SUCCESS").exists(), "{:?}", files(table));
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(table.join("_manifest.json")).unwrap())
            .unwrap();
    let mut listed: Vec<String> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    listed.sort();
    let on_disk: Vec<String> = files(table)
        .into_iter()
        .filter(|f| f.ends_with(".parquet") && !f.starts_with('_'))
        .collect();
    assert_eq!(listed, on_disk);
    let rows: u64 = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rows"].as_u64().unwrap())
        .sum();
    assert_eq!(rows, m["rows"].as_u64().unwrap());
    rows
}

/// The S3 server stopped in the middle of an export's upload, then in the middle of its ranged
/// reads of an s3:// input, and restarted 1.5 s later: each run retries or fails cleanly (no
/// `_SUCCESS`), and a re-run publishes exactly the rows once.
#[test]
fn s3_stopped_mid_upload_or_mid_read_retries_or_fails_cleanly_and_a_rerun_publishes_once() {
    let Some(s3s) = s3s() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("s3");
    // ~12 MB of incompressible values: 4,000 partitions of 3 rows.
    let input_root = root.join(BUCKET).join("in");
    write_set_with(&input_root, "big", 1, 0..4000, true);
    let rows = 12_000;
    let port = super::export_remote::free_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let restart = || start(&s3s, &root, port);
    let mut server = Some(restart());
    let flags = ["--endpoint", &endpoint, "--allow-http", "--now", NOW];
    let input = input_root.to_str().unwrap();

    // 1. Mid-upload: stop when the first part of the multipart upload reaches the server.
    let out_dir = root.join(BUCKET).join("out");
    let before = files(&root).len();
    let upload = |extra: &[&str]| {
        let mut args = vec!["export", input, "--out", "s3://lake/out"];
        args.extend(flags);
        args.extend([
            "--compression",
            "none",
            "--upload-part-size",
            "5MiB",
            "--threads",
            "1",
            "--read-retries",
            "3",
        ]);
        args.extend(extra);
        lake(&args)
    };
    let root2 = root.clone();
    let o = run_with_fault(upload(&[]), &mut server, &restart, &|_| {
        files(&root2).len() > before
    });
    let table = out_dir.join("faults/big");
    if o.status.success() {
        assert_eq!(published_rows(&table), rows);
    } else {
        assert!(!table.join("_SUCCESS").exists());
    }
    eprintln!(
        "upload fault: {:?}: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    let o = upload(&[]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(published_rows(&table), rows);

    // 2. Mid-read: s3:// input read in 64 KiB ranged GETs, the server stopped 150 ms in.
    let local = tmp.path().join("local");
    let read = |block: &str| {
        let mut args = vec!["export", "s3://lake/in", "--out", local.to_str().unwrap()];
        args.extend(flags);
        args.extend([
            "--read-block-size",
            block,
            "--read-ahead",
            "0",
            "--threads",
            "1",
            "--read-retries",
            "3",
        ]);
        lake(&args)
    };
    let o = run_with_fault(read("64KiB"), &mut server, &restart, &|t| {
        t > Duration::from_millis(150)
    });
    let table = local.join("faults/big");
    if o.status.success() {
        assert_eq!(published_rows(&table), rows);
    } else {
        assert!(!table.join("_SUCCESS").exists());
    }
    eprintln!(
        "read fault: {:?}: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    let o = read("8MiB").output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(published_rows(&table), rows);
}

/// Credentials never appear in stdout, stderr, `_manifest.json` or the run report: not the
/// user info of an `--endpoint` URL (`http://user:secret@127.0.0.1:port`), not the AWS
/// credential variables — on a successful run, and on failed ones (wrong secret, server
/// down) whose errors quote the endpoint.
#[test]
fn credentials_never_appear_in_output_errors_manifest_or_report() {
    let Some(s3s) = s3s() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("s3");
    let input = tmp.path().join("in");
    write_set(&input, "events", 1, 0..20);
    let port = super::export_remote::free_port();
    let mut server = Some(start(&s3s, &root, port));
    let user_info = "alice:userinfo-pass-4711";
    let endpoint = format!("http://{user_info}@127.0.0.1:{port}");
    let report = tmp.path().join("report.json");
    let args = |secret: &str| {
        let mut c = Command::new(bin());
        c.env_clear()
            .envs([
                ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
                ("AWS_SECRET_ACCESS_KEY", secret),
                ("AWS_SESSION_TOKEN", "session-token-0815"),
                ("AWS_REGION", "us-east-1"),
            ])
            .args([
                "export",
                input.to_str().unwrap(),
                "--out",
                "s3://lake/out",
                "--endpoint",
                &endpoint,
                "--allow-http",
                "--now",
                NOW,
                "--read-retries",
                "1",
                "--report",
                report.to_str().unwrap(),
            ]);
        c
    };
    let secrets = [
        "userinfo-pass-4711",
        "alice:",
        SECRET_KEY,
        "session-token-0815",
        "wrong-secret-4242",
    ];
    let check = |what: &str, text: &str| {
        for s in secrets {
            assert!(!text.contains(s), "{what} shows {s:?}:\n{text}");
        }
    };
    let o = args(SECRET_KEY).output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{stderr}");
    check("stderr", &stderr);
    check("stdout", &String::from_utf8_lossy(&o.stdout));
    check("report", &std::fs::read_to_string(&report).unwrap());
    let manifest =
        std::fs::read_to_string(root.join(BUCKET).join("out/faults/events/_manifest.json"))
            .unwrap();
    check("_manifest.json", &manifest);
    assert!(manifest.contains("127.0.0.1"), "{manifest}");
    // Refused (wrong secret), then unreachable (server down): the errors quote neither.
    for round in 0..2 {
        if round == 1 {
            drop(server.take());
        }
        let o = args("wrong-secret-4242").output().unwrap();
        assert!(!o.status.success());
        let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(stderr.contains("error"), "{stderr}");
        check("stderr of a failed run", &stderr);
        check(
            "stdout of a failed run",
            &String::from_utf8_lossy(&o.stdout),
        );
    }
    drop(server);
}
