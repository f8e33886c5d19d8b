//! The damage sweep of issue 11: every corpus set that has expected rows is staged, then each of
//! its components in turn is truncated at several points and has seeded bits flipped, and
//! `dump` runs on the damaged copy. Whatever the damage:
//! - no panic (exit 101) and no death by a signal;
//! - no hang (each run is killed after [`TIMEOUT`]);
//! - a failure is one `error:` line on stderr with exit status 1;
//! - where the damaged bytes are covered by a checksum, an exit status 0 comes with exactly the
//!   rows of the undamaged set (no silent difference).
//!
//! "Covered by a checksum": Data.db of a compressed set (chunk checksums), of a set with CRC.db,
//! or with a whole-file digest (checked at the end of a full read); Statistics.db from `na` on
//! (its CRC32s); and the components that `dump` does not read for rows at all (Index.db,
//! Summary.db, Filter.db, TOC.txt, the digest itself), whose damage must never change a row.
//! Not covered, and only held to the first three rules: Statistics.db before `na` (its
//! serialization header and encoding minima are unchecked bytes) and CompressionInfo.db (no
//! checksum of its own; damage to its offsets is caught by the chunk checksums, but not all of
//! it). Their silent differences are counted and printed, not failed.
//!
//! Cost: about 12 runs per component of every distinct set, on two threads.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{checks, Check};

/// A run that takes longer is a hang.
const TIMEOUT: Duration = Duration::from_secs(20);

/// A small deterministic generator (xorshift64*), so that every run damages the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[derive(Debug)]
struct Outcome {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
    hung: bool,
}

fn dump(args: &[String]) -> Outcome {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sstable-lake"))
        .arg("dump")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read the pipes on threads so that a large output cannot block the child.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut v).ok();
        v
    });
    let err_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut err, &mut v).ok();
        v
    });
    let started = Instant::now();
    let (status, hung) = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break (s, false);
        }
        if started.elapsed() > TIMEOUT {
            child.kill().ok();
            break (child.wait().unwrap(), true);
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    Outcome {
        code: status.code(),
        stdout: out_t.join().unwrap(),
        stderr: String::from_utf8_lossy(&err_t.join().unwrap()).into_owned(),
        hung,
    }
}

/// The rows of a dump, order kept (a damaged set that still reads must give them in order).
fn rows(stdout: &[u8]) -> Vec<&[u8]> {
    stdout
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect()
}

/// The component name of a staged file (`na-1-big-Data.db` -> `Data.db`).
fn component(file: &str) -> &str {
    file.rsplit('-').next().unwrap_or(file)
}

struct SetFiles {
    dir: PathBuf,
    files: Vec<String>,
    version: String,
}

impl SetFiles {
    fn has(&self, c: &str) -> bool {
        self.files.iter().any(|f| component(f) == c)
    }

    fn covered(&self, comp: &str) -> bool {
        match comp {
            "Data.db" => {
                self.has("CompressionInfo.db")
                    || self.has("CRC.db")
                    || self
                        .files
                        .iter()
                        .any(|f| component(f).starts_with("Digest."))
            }
            // `na` and later checksum their metadata (`Version::has_metadata_checksum`).
            "Statistics.db" => self
                .version
                .parse::<sstable_format::Version>()
                .is_ok_and(|v| v.has_metadata_checksum()),
            "CompressionInfo.db" => false,
            _ => true,
        }
    }
}

/// The staged sets of a check: the directories `Check::stage` linked, with their files.
fn staged_sets(input: &Path) -> Vec<SetFiles> {
    let mut out = Vec::new();
    let mut stack = vec![input.to_path_buf()];
    while let Some(d) = stack.pop() {
        let mut files = Vec::new();
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let ft = e.file_type().unwrap();
            if ft.is_dir() {
                stack.push(e.path());
            } else {
                files.push(e.file_name().into_string().unwrap());
            }
        }
        if let Some(data) = files.iter().find(|f| f.ends_with("-Data.db")) {
            let version = data.split('-').next().unwrap_or("").to_string();
            files.sort();
            out.push(SetFiles {
                dir: d,
                files,
                version,
            });
        }
    }
    out
}

/// The damaged versions of `bytes`: truncations and seeded bit flips.
fn damage(bytes: &[u8], rng: &mut Rng, data: bool) -> Vec<(String, Vec<u8>)> {
    let n = bytes.len();
    let mut out = Vec::new();
    let mut cuts: BTreeSet<usize> = [0, n / 2, n.saturating_sub(1)].into_iter().collect();
    for _ in 0..if data { 4 } else { 2 } {
        cuts.insert(rng.below(n));
    }
    for cut in cuts.into_iter().filter(|&c| c < n) {
        out.push((format!("cut at {cut}"), bytes[..cut].to_vec()));
    }
    if n > 0 {
        for _ in 0..if data { 8 } else { 5 } {
            let at = rng.below(n);
            let bit = rng.below(8);
            let mut v = bytes.to_vec();
            v[at] ^= 1 << bit;
            out.push((format!("bit {bit} of byte {at} flipped"), v));
        }
    }
    out
}

#[derive(Default)]
struct Tally {
    runs: usize,
    errors: usize,
    same_rows: usize,
    uncovered_differences: Vec<String>,
    failures: Vec<String>,
}

fn sweep_check(check: &Check, corpus: &Path, seed: u64) -> Tally {
    let mut t = Tally::default();
    let dir = tempfile::tempdir().unwrap();
    let args = check.stage(corpus, dir.path());
    let clean = dump(&args);
    if clean.code != Some(0) {
        // The canon runs judge the clean sets; the sweep needs one that reads.
        return t;
    }
    let want = rows(&clean.stdout);
    let mut rng = Rng(seed | 1);
    for set in staged_sets(&dir.path().join("in")) {
        for file in &set.files {
            let comp = component(file);
            let link = set.dir.join(file);
            let original = std::fs::read_link(&link).unwrap();
            let bytes = std::fs::read(&original).unwrap();
            for (what, damaged) in damage(&bytes, &mut rng, comp == "Data.db") {
                std::fs::remove_file(&link).unwrap();
                std::fs::write(&link, &damaged).unwrap();
                let o = dump(&args);
                std::fs::remove_file(&link).unwrap();
                std::os::unix::fs::symlink(&original, &link).unwrap();
                t.runs += 1;
                let case = format!("{} {file}: {what}", check.label);
                if o.hung {
                    t.failures
                        .push(format!("{case}: hung (killed after {TIMEOUT:?})"));
                    continue;
                }
                match o.code {
                    Some(0) => {
                        if rows(&o.stdout) == want {
                            t.same_rows += 1;
                        } else if set.covered(comp) {
                            t.failures.push(format!(
                                "{case}: exit 0 with different rows ({} instead of {})",
                                rows(&o.stdout).len(),
                                want.len()
                            ));
                        } else {
                            t.uncovered_differences.push(case);
                        }
                    }
                    Some(1) => {
                        t.errors += 1;
                        if !o.stderr.lines().any(|l| l.starts_with("error: ")) {
                            t.failures.push(format!(
                                "{case}: exit 1 without an error line: {}",
                                o.stderr
                            ));
                        }
                    }
                    other => t.failures.push(format!(
                        "{case}: exit {other:?} (a panic or a signal): {}",
                        o.stderr.lines().take(3).collect::<Vec<_>>().join(" | ")
                    )),
                }
            }
        }
    }
    t
}

#[test]
fn damaged_corpus_sets_never_panic_hang_or_change_rows_silently() {
    let Some(corpus) = crate::export::corpus() else {
        return;
    };
    // One check per distinct group of sets (the `*_asof` files repeat sets of others).
    let mut seen = BTreeSet::new();
    let todo: Vec<Check> = checks(&corpus)
        .into_iter()
        .filter(|c| seen.insert(c.sets.clone()))
        .collect();
    let started = Instant::now();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let tallies: Vec<Tally> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let mut all = Tally::default();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(check) = todo.get(i) else { break };
                        let t = sweep_check(check, &corpus, 0x5eed_0000 + i as u64);
                        all.runs += t.runs;
                        all.errors += t.errors;
                        all.same_rows += t.same_rows;
                        all.uncovered_differences.extend(t.uncovered_differences);
                        all.failures.extend(t.failures);
                    }
                    all
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let runs: usize = tallies.iter().map(|t| t.runs).sum();
    let errors: usize = tallies.iter().map(|t| t.errors).sum();
    let same: usize = tallies.iter().map(|t| t.same_rows).sum();
    let uncovered: Vec<&String> = tallies
        .iter()
        .flat_map(|t| &t.uncovered_differences)
        .collect();
    let failures: Vec<&String> = tallies.iter().flat_map(|t| &t.failures).collect();
    eprintln!(
        "sweep: {} sets, {runs} damaged runs in {:.0?}: {errors} clean errors, {same} with the \
         same rows, {} silent differences where no checksum covers the bytes, {} failures",
        todo.len(),
        started.elapsed(),
        uncovered.len(),
        failures.len()
    );
    for u in uncovered.iter().take(10) {
        eprintln!("  uncovered: {u}");
    }
    assert!(runs > 1000, "the sweep ran only {runs} damaged reads");
    assert!(
        failures.is_empty(),
        "{} failures, first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(30)
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}
