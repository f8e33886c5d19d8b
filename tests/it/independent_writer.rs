//! Tables written by an independent writer, cqlite-py (PyPI `cqlite-py`, a Rust writer of `nb`
//! files unrelated to this project), read back by `dump`: every CQL type it can write inside
//! non-frozen lists, sets and maps, merged over two SSTables. A writer and a reader from the
//! same hands can share a misunderstanding (they did: fixed-width values in multi-cell
//! columns); this one cannot. `tests/cqlite/write_collections.py` writes the SSTables and the
//! expected rows; the corpus canon's `check_rows.py` compares them type-aware.

use std::path::PathBuf;
use std::process::Command;

use crate::common::{ci, MANIFEST_DIR};

/// The test venv's python with cqlite-py, or `None` (skip) outside CI.
fn python_with_cqlite() -> Option<PathBuf> {
    let py = PathBuf::from(format!("{MANIFEST_DIR}/target/test-venv/bin/python"));
    let ok = py.is_file()
        && Command::new(&py)
            .args(["-c", "import cqlite"])
            .status()
            .is_ok_and(|s| s.success());
    if ok {
        return Some(py);
    }
    assert!(
        !ci(),
        "cqlite-py missing in {}: run scripts/install-test-deps.sh",
        py.display()
    );
    eprintln!("cqlite-py missing: skipping (run scripts/install-test-deps.sh)");
    None
}

#[test]
fn non_frozen_collections_of_every_type_written_by_cqlite_dump_to_the_inserted_values() {
    let (Some(py), Some(corpus)) = (python_with_cqlite(), crate::export::corpus()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(&py)
        .arg(format!("{MANIFEST_DIR}/tests/cqlite/write_collections.py"))
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cqlite-py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for table in ["colls", "statics"] {
        let t = dir.path().join(table);
        let dump = Command::new(env!("CARGO_BIN_EXE_sstable-lake"))
            .arg("dump")
            .arg("--schema")
            .arg(t.join("schema.cql"))
            .arg(t.join("w/data"))
            .output()
            .unwrap();
        assert!(
            dump.status.success(),
            "dump of {table} failed: {}",
            String::from_utf8_lossy(&dump.stderr)
        );
        let rows = t.join("dump.jsonl");
        std::fs::write(&rows, &dump.stdout).unwrap();
        let check = Command::new(&py)
            .arg(corpus.join("canon/check_rows.py"))
            .arg(t.join("expected.json"))
            .arg(&rows)
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "{table}: {}{}",
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr)
        );
    }
}
