//! Shared helpers of the golden tests: where the real-SSTable corpus is, and its catalog.
#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::path::PathBuf;

/// The corpus root: `SSTABLE_CORPUS`, else `../shared/corpus` beside the workspace.
/// Returns `None` (the caller skips) when it is missing, except under `CI=true`, where a missing
/// corpus fails the test.
pub fn corpus_root() -> Option<PathBuf> {
    let root = std::env::var_os("SSTABLE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus"))
        });
    if root.join("CATALOG.tsv").is_file() {
        return Some(root);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "corpus not found at {} (set SSTABLE_CORPUS); under CI=true this is a failure",
            root.display()
        );
    }
    eprintln!("corpus not found at {}: skipping", root.display());
    None
}

/// One row of `CATALOG.tsv`.
#[derive(Debug, Clone)]
pub struct CatalogEntry {
    /// Path pattern relative to the corpus root, ending in `-*` (e.g. `.../mc-1-big-*`).
    pub pattern: String,
    /// Format version letters.
    pub version: String,
    /// `big` or `bti`.
    pub index: String,
    /// Compressor class name or `none`.
    pub compression: String,
    /// Partitioner class simple name.
    pub partitioner: String,
    /// Component suffixes present.
    pub components: Vec<String>,
    /// Whether the set is deliberately broken.
    pub negative: bool,
}

impl CatalogEntry {
    /// Path of one component of the set (`Data.db`, `Statistics.db`...).
    pub fn component(&self, root: &std::path::Path, suffix: &str) -> PathBuf {
        let prefix = self.pattern.trim_end_matches('*');
        root.join(format!("{prefix}{suffix}"))
    }
}

/// All rows of `CATALOG.tsv`.
pub fn catalog(root: &std::path::Path) -> Vec<CatalogEntry> {
    let text = std::fs::read_to_string(root.join("CATALOG.tsv")).expect("read CATALOG.tsv");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let get = |i: usize| f.get(i).copied().unwrap_or("").to_string();
            CatalogEntry {
                pattern: get(0),
                version: get(4),
                index: get(5),
                compression: get(6),
                partitioner: get(8),
                components: get(9).split_whitespace().map(str::to_string).collect(),
                negative: get(13) == "True",
            }
        })
        .collect()
}
