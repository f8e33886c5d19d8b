//! Golden test of `inspect --verify` over every set of the shared corpus (CATALOG.tsv):
//! a good set passes (exit 0); a negative set fails with a non-zero exit and exactly one stderr
//! line, starting with `error:`, that names a file of the set — except the sets listed in
//! [`UNDETECTED`], whose brokenness `--verify` cannot see (each with the reason).
#![allow(clippy::panic, clippy::expect_used, reason = "tests")]

use std::path::PathBuf;
use std::process::Command;

/// Negative sets that pass `--verify`, and why. Matched against the CATALOG.tsv `path` column.
const UNDETECTED: &[(&str, &str)] = &[
    (
        "scylla/sstables/broken_non_compound_pi_and_range_tombstone/ks/test-1c6ace40fad111e7b9cf000000000002/ks-test-ka-1-*",
        "the broken part is the promoted index in Index.db, which --verify does not read; Data.db \
         is valid and ScyllaDB itself skips the broken index (sstable_datafile_test.cc :: \
         test_broken_promoted_index_is_skipped, test_old_format_non_compound_range_tombstone_is_read \
         reads the rows); 2.x rows are not decoded without --schema either",
    ),
    (
        "scylla/sstables/broken_non_compound_pi_and_range_tombstone/ks/test-1c6ace40fad111e7b9cf000000000002/la-1-big-*",
        "same as the ka copy: broken promoted index in Index.db (not read); Data.db is valid",
    ),
    (
        "scylla/sstables/broken_non_compound_pi_and_range_tombstone/ks/test-1c6ace40fad111e7b9cf000000000002/me-1-big-*",
        "same set rewritten as me: Data.db decodes to three valid rows (ck 1, 2, 3); whatever is \
         broken is in Index.db, which --verify does not read (the mc and md copies are caught: \
         their Data.db is truncated)",
    ),
    (
        "scylla/sstables/static_column/la-58-big-*",
        "a static cell for a column the schema says is regular (broken_sstable_test.cc :: \
         static_mismatch): only a schema says which columns are static; no schema is known for \
         this la set, and even with ScyllaDB's test schema given via --schema the legacy reader \
         accepts the cell today",
    ),
];

fn corpus() -> Option<PathBuf> {
    let root = std::env::var_os("SSTABLE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus").into());
    if root.join("CATALOG.tsv").is_file() {
        Some(root)
    } else if std::env::var("CI").as_deref() == Ok("true") {
        panic!("corpus not found at {} (CI=true)", root.display());
    } else {
        eprintln!("skipping: corpus not found at {}", root.display());
        None
    }
}

#[test]
fn every_catalog_set() {
    let Some(root) = corpus() else {
        return;
    };
    let catalog = std::fs::read_to_string(root.join("CATALOG.tsv")).expect("CATALOG.tsv");
    let mut lines = catalog.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("no {name} column"))
    };
    let (path_col, neg_col) = (col("path"), col("negative"));
    let mut failures = Vec::new();
    let (mut checked, mut negatives, mut undetected_seen) = (0, 0, 0);
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split('\t').collect();
        let pattern = fields.get(path_col).expect("path field");
        let negative = fields.get(neg_col).is_some_and(|v| *v == "True");
        let data = root.join(format!("{}Data.db", pattern.trim_end_matches('*')));
        if !data.exists() {
            // `write_wide_partitions`: its Data.db was not obtainable (corpus README).
            eprintln!("no Data.db for {pattern}: skipped");
            continue;
        }
        checked += 1;
        let out = Command::new(env!("CARGO_BIN_EXE_sstable-lake"))
            .args(["inspect", "--verify"])
            .arg(&data)
            .output()
            .expect("run sstable-lake");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let undetected = UNDETECTED.iter().find(|(p, _)| p == pattern);
        if !negative {
            if !out.status.success() {
                failures.push(format!("{pattern}: good set failed: {stderr}"));
            }
            continue;
        }
        negatives += 1;
        if let Some((_, why)) = undetected {
            undetected_seen += 1;
            if !out.status.success() {
                failures.push(format!(
                    "{pattern}: listed as undetected ({why}) but now fails: remove it from UNDETECTED ({stderr})"
                ));
            }
            continue;
        }
        let lines: Vec<&str> = stderr.lines().collect();
        let base = pattern
            .rsplit('/')
            .next()
            .unwrap_or(pattern)
            .trim_end_matches('*');
        let dir = data.parent().expect("parent").display().to_string();
        if out.status.success() {
            failures.push(format!("{pattern}: negative set passed --verify"));
        } else if out.status.code().is_none() {
            failures.push(format!("{pattern}: killed by a signal: {stderr}"));
        } else if lines.len() != 1 {
            failures.push(format!(
                "{pattern}: expected one stderr line, got {}: {stderr}",
                lines.len()
            ));
        } else if !lines[0].starts_with("error: ") || lines[0].contains("panicked") {
            failures.push(format!("{pattern}: not an `error:` line: {stderr}"));
        } else if !lines[0].contains(&dir) || !(lines[0].contains(base) || base.is_empty()) {
            // Most errors name the component file; a version refused before any file is read
            // names the set's directory and its files' common prefix is checked loosely.
            if !(lines[0].contains(&dir) && lines[0].contains("unsupported sstable format")) {
                failures.push(format!("{pattern}: error does not name the file: {stderr}"));
            }
        }
    }
    assert!(checked > 200, "only {checked} sets found");
    assert_eq!(
        undetected_seen,
        UNDETECTED.len(),
        "UNDETECTED names sets absent from CATALOG.tsv"
    );
    assert!(negatives > 20, "only {negatives} negative sets");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
