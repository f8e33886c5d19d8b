//! Backup discovery: walks the input files and directories, groups SSTable components into sets
//! (one generation in one directory), works out keyspace, table, node and snapshot from the
//! layout, and reports what it skips and why. An `s3://` or `gs://` input is listed instead
//! of walked (see [`crate::io`]); its objects' URLs go through the same classification as
//! local paths.
//!
//! Mirrors Cassandra's `db/Directories` (data, `snapshots/<tag>/`, `backups/`, `.<index>/`
//! layouts), `db/lifecycle/LogFile`/`LogRecord` (transaction logs), `service/snapshot/
//! SnapshotManifest` (and 3.x/4.0's `manifest.json`) and ScyllaDB's `db/snapshot/manifest.hh`.
//!
//! Rules of the layout, and how each can be mistaken (issue 14: a guess must never split one
//! table in two, nor join two):
//! * Keyspace and table come from a 2.1 file name when it has them (authoritative), else from
//!   the directory `…/<ks>/<table>-<32 hex id>/` (or pre-2.1 `…/<ks>/<table>/`, a guess from any
//!   two levels). The parent of a table directory is not always a keyspace: node copies laid
//!   out as `BACKUP/<node>/<table>-<id>/` put the node there. The same table directory name
//!   (table and id: an id is one table's, the same on every node) under directories differing
//!   only in that place makes them node directories: their sets get the node and no keyspace
//!   (`build::node_folders_without_keyspace`). Without an id the guess stays; `--schema` then
//!   decides by table name (see `read::resolve`). A 2.1 file name's keyspace also holds for
//!   the other sets of its table directory (`build::keyspace_from_named_neighbours`).
//! * Several nodes' copies side by side: where the same table sits under paths that differ in
//!   one directory above the keyspace directory, that directory is the node name, and every set
//!   under it gets it. Sets of one (keyspace, table) are one table, merged whatever the node
//!   directories are called; so are tables that `--schema` resolves to one keyspace and table,
//!   while two different ones (ids) are an error (see `read::resolve`).
//! * Skipped and reported in [`Discovery::skipped`]: temporary sets (`tmp-`, `tmplink-`),
//!   sets a transaction log marks unfinished (ADDed without COMMIT) or obsolete (REMOVEd with
//!   COMMIT), ScyllaDB sets with a `TemporaryTOC.txt`, sets without `Data.db`, secondary-index
//!   sets (unless [`DiscoverOptions::include_secondary_indexes`]) and non-sstable files.
//!   `manifest.json`, `schema.cql` and transaction logs are read, not reported.
//! * Sets whose version is unknown stay in [`Discovery::sets`]: [`SstableSet::is_supported`]
//!   is false and [`SstableSet::unsupported_reason`] says why, so `inspect` can report them.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sstable_format::descriptor::{ComponentName, Descriptor};

use crate::error::Error;
use crate::io::Io;

mod build;
pub mod opened;

use build::{build, file_name_str};

/// Where a set sits in a node's directory tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LocationKind {
    /// A live data directory `…/<ks>/<table>-<id>/` (or a 2.1-style name in its table dir).
    DataDir,
    /// `…/<table dir>/snapshots/<tag>/`.
    Snapshot,
    /// `…/<table dir>/backups/` (incremental backups).
    Backups,
    /// Anything else (a bare directory of files, ScyllaDB's `upload/`, `staging/`...).
    Other,
}

/// All the components of one generation in one directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SstableSet {
    /// The directory holding the components.
    pub dir: PathBuf,
    /// What the file names say.
    pub descriptor: Descriptor,
    /// The components found, by kind.
    pub components: BTreeMap<ComponentName, PathBuf>,
    /// Keyspace (file name, else directory).
    pub keyspace: Option<String>,
    /// Table (file name, else directory, without the `-<id>`).
    pub table: Option<String>,
    /// The 32-hex table id of the table directory.
    pub table_id: Option<String>,
    /// Secondary index name for sets in `.<index>/` (only with
    /// [`DiscoverOptions::include_secondary_indexes`]).
    pub index: Option<String>,
    /// Node name, when several nodes' copies were found side by side.
    pub node: Option<String>,
    /// Snapshot tag.
    pub snapshot: Option<String>,
    /// Where the set sits.
    pub location: LocationKind,
    /// `schema.cql` beside the set (snapshots from 3.0.9/3.10, and ScyllaDB).
    pub schema_cql: Option<PathBuf>,
    /// Whether the snapshot's `manifest.json` lists the set (`None` without a manifest).
    pub in_manifest: Option<bool>,
    /// For a 2.x set: the sets of the same node's 2.x schema tables (`system.schema_columnfamilies`,
    /// `schema_columns`, `schema_usertypes`) found among the inputs, from which its schema can
    /// be rebuilt. Empty otherwise.
    pub system_schema_sets: Arc<[SstableSet]>,
}

/// Whether `set` is one of the 2.x schema tables that [`SstableSet::system_schema_sets`] lists.
pub fn is_legacy_schema_table(set: &SstableSet) -> bool {
    set.keyspace.as_deref() == Some("system")
        && set.index.is_none()
        && matches!(
            set.table.as_deref(),
            Some("schema_columnfamilies" | "schema_columns" | "schema_usertypes")
        )
        && set.descriptor.version.is_some_and(|v| v.is_legacy_layout())
}

impl SstableSet {
    /// The `Data.db` path (present in every discovered set).
    pub fn data_path(&self) -> Option<&Path> {
        self.components
            .get(&ComponentName::Data)
            .map(PathBuf::as_path)
    }

    /// Whether this crate reads the set's version.
    pub fn is_supported(&self) -> bool {
        self.descriptor.version.is_some()
    }

    /// Why the set cannot be read (unknown version), as a format error.
    pub fn unsupported_reason(&self) -> Option<sstable_format::Error> {
        self.descriptor.require_version().err()
    }
}

/// A file or set that discovery left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Skipped {
    /// The file (for a set, its `Data.db`, or its first component when Data.db is missing).
    pub path: PathBuf,
    /// Why it was skipped.
    pub reason: String,
}

/// Something worth telling the user that does not stop discovery.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Warning {
    /// The file concerned.
    pub path: PathBuf,
    /// What is odd.
    pub message: String,
}

/// The layout of a snapshot's `manifest.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestFormat {
    /// Cassandra's `{"files": [...]}` (with `created_at`, `expires_at`, `ephemeral` from 4.1).
    Files,
    /// ScyllaDB's structured manifest (`manifest`, `node`, `snapshot`, `table`, `sstables`).
    Scylla,
}

/// What a snapshot's `manifest.json` says, checked against the files found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotManifest {
    /// The manifest file.
    pub path: PathBuf,
    /// Its layout.
    pub format: ManifestFormat,
    /// Creation time as written (4.1+ ISO text; ScyllaDB seconds since the epoch).
    pub created_at: Option<String>,
    /// Expiry time as written, if any.
    pub expires_at: Option<String>,
    /// 4.1+'s `ephemeral` flag.
    pub ephemeral: Option<bool>,
    /// The file names listed (for ScyllaDB, the TOC names).
    pub listed: Vec<String>,
    /// `Data.db` files of listed sets that are not there.
    pub missing: Vec<PathBuf>,
    /// `Data.db` files present in the snapshot but not listed.
    pub unlisted: Vec<PathBuf>,
}

/// A set of tables found, grouped (see [`Discovery::tables`]).
#[derive(Debug, Clone)]
pub struct TableGroup<'a> {
    /// Keyspace.
    pub keyspace: Option<&'a str>,
    /// Table.
    pub table: Option<&'a str>,
    /// Its sets, in discovery order.
    pub sets: Vec<&'a SstableSet>,
}

/// The result of [`discover`].
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    /// The sets to read, sorted by keyspace, table, node, directory and generation. Sets of
    /// unknown versions are included (see [`SstableSet::is_supported`]).
    pub sets: Vec<SstableSet>,
    /// What was left out, sorted by path.
    pub skipped: Vec<Skipped>,
    /// Snapshot manifests read.
    pub manifests: Vec<SnapshotManifest>,
    /// Oddities (unreadable manifests, unparsable transaction-log lines...).
    pub warnings: Vec<Warning>,
}

impl Discovery {
    /// The sets grouped by (keyspace, table), in order.
    pub fn tables(&self) -> Vec<TableGroup<'_>> {
        let mut groups: BTreeMap<(Option<&str>, Option<&str>), Vec<&SstableSet>> = BTreeMap::new();
        for s in &self.sets {
            groups
                .entry((s.keyspace.as_deref(), s.table.as_deref()))
                .or_default()
                .push(s);
        }
        groups
            .into_iter()
            .map(|((keyspace, table), sets)| TableGroup {
                keyspace,
                table,
                sets,
            })
            .collect()
    }

    /// The sets whose version this crate does not read.
    pub fn unsupported(&self) -> impl Iterator<Item = &SstableSet> {
        self.sets.iter().filter(|s| !s.is_supported())
    }
}

/// Choices of [`discover_with`].
#[derive(Debug, Clone, Copy, Default)]
pub struct DiscoverOptions {
    /// Keep secondary-index sets (`.<index>/` directories, 2.1 `table.index` names) instead
    /// of skipping them.
    pub include_secondary_indexes: bool,
}

/// Discovers the sstable sets under `inputs` (files or directories) with default options.
pub fn discover(io: &Io, inputs: &[PathBuf]) -> Result<Discovery, Error> {
    discover_with(io, inputs, DiscoverOptions::default())
}

/// Discovers the sstable sets under `inputs` (files or directories).
///
/// Directories are walked recursively; symbolic links are followed (to files and to
/// directories, each real directory being walked once). A missing or unreadable input is an
/// error; everything else odd is reported in the result.
pub fn discover_with(
    io: &Io,
    inputs: &[PathBuf],
    options: DiscoverOptions,
) -> Result<Discovery, Error> {
    if inputs.is_empty() {
        return Err(Error::Discovery {
            path: PathBuf::new(),
            message: "no input files or directories given".to_string(),
        });
    }
    let mut files = BTreeSet::new();
    let mut visited = HashSet::new();
    let mut broken = Vec::new();
    for input in inputs {
        if crate::io::is_remote(input) {
            add_objects(io, input, &mut files)?;
            continue;
        }
        let abs = std::path::absolute(input).map_err(|e| Error::io(input, e))?;
        let meta = fs::metadata(&abs).map_err(|e| Error::io(&abs, e))?;
        if meta.is_dir() {
            walk(&abs, &mut files, &mut visited, &mut broken)?;
        } else if meta.is_file() {
            add_set_of_file(&abs, &mut files)?;
        } else {
            return Err(Error::Discovery {
                path: abs,
                message: "neither a file nor a directory".to_string(),
            });
        }
    }
    let mut out = build(io, files, options);
    out.skipped.extend(broken);
    out.skipped.sort();
    Ok(out)
}

/// A file given by name stands for its whole set: the sibling files with the same set prefix
/// (`nb-1-big-Data.db` brings `nb-1-big-Statistics.db`...). Other files are taken alone.
fn add_set_of_file(file: &Path, files: &mut BTreeSet<PathBuf>) -> Result<(), Error> {
    let Some(dir) = file.parent() else {
        files.insert(file.to_path_buf());
        return Ok(());
    };
    let mut siblings = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if fs::metadata(&path).is_ok_and(|m| m.is_file()) {
            siblings.push(path);
        }
    }
    add_set_of(file, siblings, files);
    Ok(())
}

/// Adds `file` and, when it is an SSTable component, those of `siblings` (files of its
/// directory) that belong to the same set.
fn add_set_of(file: &Path, siblings: Vec<PathBuf>, files: &mut BTreeSet<PathBuf>) {
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if let Some((descriptor, _)) = Descriptor::parse_file_name(name).ok().flatten() {
        let prefix = format!("{}-", descriptor.base_name());
        files.extend(siblings.into_iter().filter(|p| {
            p.parent() == file.parent() && file_name_str(p).is_some_and(|s| s.starts_with(&prefix))
        }));
    }
    files.insert(file.to_path_buf());
}

/// An `s3://` or `gs://` input: every object under the prefix (the listing is classified
/// exactly as a directory walk), or, when the URL names one object, that object's set.
fn add_objects(io: &Io, input: &Path, files: &mut BTreeSet<PathBuf>) -> Result<(), Error> {
    let listed = io.list(input)?;
    if !listed.is_empty() {
        files.extend(listed.into_iter().map(|(p, _)| p));
        return Ok(());
    }
    let parent = input.parent().filter(|p| crate::io::is_remote(p));
    let siblings: Vec<PathBuf> = match parent {
        Some(dir) => io
            .list(dir)?
            .into_iter()
            .map(|(p, _)| p)
            .filter(|p| p.parent() == Some(dir))
            .collect(),
        None => Vec::new(),
    };
    let trimmed = PathBuf::from(input.to_string_lossy().trim_end_matches('/'));
    if !siblings.contains(&trimmed) {
        return Err(Error::Discovery {
            path: input.to_path_buf(),
            message: "no object or prefix of that name".to_string(),
        });
    }
    add_set_of(&trimmed, siblings, files);
    Ok(())
}

fn walk(
    dir: &Path,
    files: &mut BTreeSet<PathBuf>,
    visited: &mut HashSet<PathBuf>,
    broken: &mut Vec<Skipped>,
) -> Result<(), Error> {
    let real = fs::canonicalize(dir).map_err(|e| Error::io(dir, e))?;
    if !visited.insert(real) {
        return Ok(());
    }
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        entries.push(entry.map_err(|e| Error::io(dir, e))?.path());
    }
    entries.sort();
    for path in entries {
        // `metadata` follows symlinks.
        match fs::metadata(&path) {
            Ok(m) if m.is_dir() => walk(&path, files, visited, broken)?,
            Ok(_) => {
                files.insert(path);
            }
            Err(e) => broken.push(Skipped {
                path,
                reason: format!("unreadable (dangling link?): {e}"),
            }),
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests"
)]
mod tests {
    use super::*;
    use sstable_format::descriptor::Generation;
    use sstable_format::Version;

    const ID: &str = "0123456789abcdef0123456789abcdef";

    fn touch(path: &Path) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, b"x").unwrap();
    }

    fn set_files(dir: &Path, base: &str, comps: &[&str]) {
        for c in comps {
            touch(&dir.join(format!("{base}-{c}")));
        }
    }

    const BIG: &[&str] = &["Data.db", "Index.db", "Statistics.db", "TOC.txt"];

    fn data_names(d: &Discovery) -> Vec<String> {
        d.sets
            .iter()
            .map(|s| file_name_str(s.data_path().unwrap()).unwrap().to_string())
            .collect()
    }

    #[test]
    fn data_dir_layout_and_order() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path().join(format!("data/ks/tbl-{ID}"));
        set_files(&t, "nb-10-big", BIG);
        set_files(&t, "nb-2-big", BIG);
        set_files(&t, "nb-3gdq_0bki_2cvk01yl83nj0tp5gh-big", BIG);
        set_files(&t, "tmp-nb-11-big", BIG);
        set_files(&t, "nb-12-big", &["Index.db", "Statistics.db"]);
        touch(&t.join("notes.txt"));
        let d = discover(&Io::default(), &[tmp.path().to_path_buf()]).unwrap();
        assert_eq!(
            data_names(&d),
            [
                "nb-2-big-Data.db",
                "nb-10-big-Data.db",
                "nb-3gdq_0bki_2cvk01yl83nj0tp5gh-big-Data.db"
            ]
        );
        let s = &d.sets[0];
        assert_eq!(s.keyspace.as_deref(), Some("ks"));
        assert_eq!(s.table.as_deref(), Some("tbl"));
        assert_eq!(s.table_id.as_deref(), Some(ID));
        assert_eq!(s.location, LocationKind::DataDir);
        assert_eq!(s.node, None);
        assert_eq!(s.components.len(), 4);
        assert!(s.is_supported());
        let reasons: Vec<_> = d
            .skipped
            .iter()
            .map(|k| {
                (
                    file_name_str(&k.path).unwrap().to_string(),
                    k.reason.clone(),
                )
            })
            .collect();
        assert_eq!(reasons.len(), 3, "{reasons:?}");
        assert!(reasons
            .iter()
            .any(|(p, r)| p == "nb-12-big-Index.db" && r.contains("no Data.db")));
        assert!(reasons
            .iter()
            .any(|(p, r)| p == "notes.txt" && r.contains("not an sstable")));
        assert!(reasons
            .iter()
            .any(|(p, r)| p == "tmp-nb-11-big-Data.db" && r.contains("temporary")));
        let tables = d.tables();
        assert_eq!(tables.len(), 1);
        assert_eq!(tables[0].sets.len(), 3);
    }

    #[test]
    fn txn_logs() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path().join(format!("ks/tbl-{ID}"));
        for g in 1..=6 {
            set_files(&t, &format!("nb-{g}-big"), BIG);
        }
        let abs = "/var/lib/cassandra/data/ks/tbl-0123456789abcdef0123456789abcdef";
        // Unfinished compaction: 1 and 2 → 3; 3 is not to be read.
        fs::write(
            t.join("nb_txn_compaction_0b4a1d30-7e1c-11ee-9a8f-0d3b4d8e2c11.log"),
            format!(
                "ADD:[{abs}/nb-3-big,0,8][2613697295]\nREMOVE:[{abs}/nb-1-big,1700000000000,8][1]\nREMOVE:[{abs}/nb-2-big,1700000000000,8][2]\n"
            ),
        )
        .unwrap();
        // Committed compaction: 4 → 5; 4 is obsolete.
        fs::write(
            t.join("nb_txn_compaction_1b4a1d30-7e1c-11ee-9a8f-0d3b4d8e2c11.log"),
            format!(
                "ADD:[{abs}/nb-5-big,0,8][1]\nREMOVE:[{abs}/nb-4-big,1700000000000,8][2]\nCOMMIT:[,0,0][2613697295]\n"
            ),
        )
        .unwrap();
        // Aborted flush of 6 (5.0's name form).
        fs::write(
            t.join("bti-da_txn_flush_2b4a1d30-7e1c-11ee-9a8f-0d3b4d8e2c11.log"),
            format!("add:[{abs}/nb-6-big,0,8][1]\nabort:[,0,0][2]\n"),
        )
        .unwrap();
        let d = discover(&Io::default(), &[tmp.path().to_path_buf()]).unwrap();
        assert_eq!(
            data_names(&d),
            ["nb-1-big-Data.db", "nb-2-big-Data.db", "nb-5-big-Data.db"]
        );
        let skipped: BTreeMap<_, _> = d
            .skipped
            .iter()
            .map(|k| {
                (
                    file_name_str(&k.path).unwrap().to_string(),
                    k.reason.as_str(),
                )
            })
            .collect();
        assert!(skipped["nb-3-big-Data.db"].contains("unfinished"));
        assert!(skipped["nb-4-big-Data.db"].contains("obsolete"));
        assert!(skipped["nb-6-big-Data.db"].contains("aborted"));
        assert_eq!(skipped.len(), 3);
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    }

    #[test]
    fn snapshots_manifests_and_schema() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path().join(format!("ks/tbl-{ID}"));
        let s1 = t.join("snapshots/before-upgrade");
        set_files(&s1, "mc-1-big", BIG);
        set_files(&s1, "mc-3-big", BIG);
        fs::write(
            s1.join("manifest.json"),
            r#"{"files":["mc-1-big-Data.db","mc-2-big-Data.db"]}"#,
        )
        .unwrap();
        touch(&s1.join("schema.cql"));
        // 4.1+ manifest with times and an index sub-directory.
        let s2 = t.join("snapshots/daily");
        set_files(&s2, "nb-3gdq_0bki_2cvk01yl83nj0tp5gh-big", BIG);
        set_files(
            &s2.join(".tbl_v_idx"),
            "nb-3gdq_0bki_2cvk01yl83nj0tp5gh-big",
            BIG,
        );
        fs::write(
            s2.join("manifest.json"),
            r#"{"files":["nb-3gdq_0bki_2cvk01yl83nj0tp5gh-big-Data.db",".tbl_v_idx/nb-3gdq_0bki_2cvk01yl83nj0tp5gh-big-Data.db"],"created_at":"2024-01-02T03:04:05.678Z","expires_at":null,"ephemeral":false}"#,
        )
        .unwrap();
        // ScyllaDB's structured manifest.
        let s3 = t.join("snapshots/scylla");
        set_files(&s3, "me-3gdq_0bki_2cvk01yl83nj0tp5gh-big", BIG);
        fs::write(
            s3.join("manifest.json"),
            r#"{"manifest":{"version":"1.0","scope":"node"},"node":{"host_id":"h","datacenter":"dc1","rack":"r1"},"snapshot":{"name":"scylla","created_at":1700000000,"expires_at":0},"table":{"keyspace_name":"ks","table_name":"tbl","table_id":"x"},"sstables":[{"id":"a","toc_name":"me-3gdq_0bki_2cvk01yl83nj0tp5gh-big-TOC.txt","data_size":1}]}"#,
        )
        .unwrap();
        // Incremental backups.
        set_files(&t.join("backups"), "nb-7-big", BIG);

        let d = discover(&Io::default(), &[tmp.path().to_path_buf()]).unwrap();
        assert_eq!(d.sets.len(), 5, "{:?}", data_names(&d));
        let by_name = |n: &str, tag: Option<&str>| {
            d.sets
                .iter()
                .find(|s| {
                    file_name_str(s.data_path().unwrap()) == Some(n) && s.snapshot.as_deref() == tag
                })
                .unwrap_or_else(|| panic!("{n}"))
        };
        let a = by_name("mc-1-big-Data.db", Some("before-upgrade"));
        assert_eq!(a.location, LocationKind::Snapshot);
        assert_eq!(a.table.as_deref(), Some("tbl"));
        assert_eq!(a.keyspace.as_deref(), Some("ks"));
        assert_eq!(a.in_manifest, Some(true));
        assert_eq!(a.schema_cql, Some(s1.join("schema.cql")));
        let b = by_name("mc-3-big-Data.db", Some("before-upgrade"));
        assert_eq!(b.in_manifest, Some(false));
        let c = by_name("nb-3gdq_0bki_2cvk01yl83nj0tp5gh-big-Data.db", Some("daily"));
        assert_eq!(c.in_manifest, Some(true));
        assert_eq!(c.schema_cql, None);
        let e = by_name(
            "me-3gdq_0bki_2cvk01yl83nj0tp5gh-big-Data.db",
            Some("scylla"),
        );
        assert_eq!(e.in_manifest, Some(true));
        assert_eq!(e.descriptor.version, Some(Version::Me));
        let f = by_name("nb-7-big-Data.db", None);
        assert_eq!(f.location, LocationKind::Backups);
        assert_eq!(f.table_id.as_deref(), Some(ID));
        assert_eq!(f.in_manifest, None);

        assert_eq!(d.manifests.len(), 3);
        let m1 = d
            .manifests
            .iter()
            .find(|m| m.path.starts_with(&s1))
            .unwrap();
        assert_eq!(m1.format, ManifestFormat::Files);
        assert_eq!(m1.missing, [s1.join("mc-2-big-Data.db")]);
        assert_eq!(m1.unlisted, [s1.join("mc-3-big-Data.db")]);
        let m2 = d
            .manifests
            .iter()
            .find(|m| m.path.starts_with(&s2))
            .unwrap();
        assert_eq!(m2.created_at.as_deref(), Some("2024-01-02T03:04:05.678Z"));
        assert_eq!(m2.expires_at, None);
        assert_eq!(m2.ephemeral, Some(false));
        assert!(m2.missing.is_empty() && m2.unlisted.is_empty());
        let m3 = d
            .manifests
            .iter()
            .find(|m| m.path.starts_with(&s3))
            .unwrap();
        assert_eq!(m3.format, ManifestFormat::Scylla);
        assert_eq!(m3.created_at.as_deref(), Some("1700000000"));
        assert!(m3.missing.is_empty() && m3.unlisted.is_empty());

        // The index set in the snapshot was skipped and reported.
        assert!(d
            .skipped
            .iter()
            .any(|k| k.path.starts_with(s2.join(".tbl_v_idx")) && k.reason.contains("tbl_v_idx")));
        // ... or kept on request.
        let d = discover_with(
            &Io::default(),
            &[tmp.path().to_path_buf()],
            DiscoverOptions {
                include_secondary_indexes: true,
            },
        )
        .unwrap();
        assert_eq!(d.sets.len(), 6);
        let ix = d.sets.iter().find(|s| s.index.is_some()).unwrap();
        assert_eq!(ix.index.as_deref(), Some("tbl_v_idx"));
        assert_eq!(ix.snapshot.as_deref(), Some("daily"));
        assert_eq!(ix.in_manifest, Some(true));
    }

    #[test]
    fn nodes_side_by_side() {
        let tmp = tempfile::tempdir().unwrap();
        for node in ["node1", "node2"] {
            let t = tmp.path().join(format!("{node}/data/ks/tbl-{ID}"));
            set_files(&t, "nb-1-big", BIG);
        }
        // A table only node2 has still gets its node.
        set_files(
            &tmp.path().join(format!("node2/data/ks/other-{ID}")),
            "nb-4-big",
            BIG,
        );
        let d = discover(&Io::default(), &[tmp.path().to_path_buf()]).unwrap();
        let got: Vec<_> = d
            .sets
            .iter()
            .map(|s| (s.table.clone().unwrap(), s.node.clone()))
            .collect();
        assert_eq!(
            got,
            [
                ("other".to_string(), Some("node2".to_string())),
                ("tbl".to_string(), Some("node1".to_string())),
                ("tbl".to_string(), Some("node2".to_string())),
            ]
        );
        let tables = d.tables();
        assert_eq!(tables.len(), 2);
        assert_eq!(tables[1].sets.len(), 2);
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_legacy_names_and_unknown_versions() {
        let real = tempfile::tempdir().unwrap();
        let staged = tempfile::tempdir().unwrap();
        // 2.1 names: keyspace and table from the name; a 2.1 index table is skipped.
        let t = real.path().join("ks/tbl");
        set_files(&t, "ks-tbl-ka-1", BIG);
        set_files(&t, "ks-tbl.tbl_v_idx-ka-1", BIG);
        set_files(&t, "Keyspace1-Standard1-ib-0", BIG);
        for e in fs::read_dir(&t).unwrap() {
            let e = e.unwrap();
            std::os::unix::fs::symlink(e.path(), staged.path().join(e.file_name())).unwrap();
        }
        // A directory link loop must not hang discovery; a dangling link is reported.
        std::os::unix::fs::symlink(staged.path(), staged.path().join("loop")).unwrap();
        std::os::unix::fs::symlink(
            real.path().join("gone"),
            staged.path().join("nb-9-big-Data.db"),
        )
        .unwrap();
        let d = discover(&Io::default(), &[staged.path().to_path_buf()]).unwrap();
        assert_eq!(d.sets.len(), 2, "{:?}", data_names(&d));
        let ka = d
            .sets
            .iter()
            .find(|s| s.descriptor.version == Some(Version::Ka))
            .unwrap();
        assert_eq!(ka.keyspace.as_deref(), Some("ks"));
        assert_eq!(ka.table.as_deref(), Some("tbl"));
        assert_eq!(ka.dir, staged.path());
        assert_eq!(ka.descriptor.generation, Generation::Int(1));
        let ic: Vec<_> = d.unsupported().collect();
        assert_eq!(ic.len(), 1);
        assert_eq!(ic[0].descriptor.version_str, "ib");
        assert!(ic[0].unsupported_reason().is_some());
        assert_eq!(ic[0].keyspace.as_deref(), Some("Keyspace1"));
        assert!(d
            .skipped
            .iter()
            .any(|k| k.reason.contains("secondary index")));
        assert!(d
            .skipped
            .iter()
            .any(|k| k.path.ends_with("nb-9-big-Data.db") && k.reason.contains("dangling")));
        // Inputs may also be files, given twice: a file stands for its whole set.
        let f = staged.path().join("ks-tbl-ka-1-Data.db");
        let d = discover(&Io::default(), &[f.clone(), f]).unwrap();
        assert_eq!(d.sets.len(), 1);
        assert_eq!(d.sets[0].components.len(), BIG.len());
        assert!(d.sets[0]
            .components
            .contains_key(&ComponentName::Statistics));
        // A missing input is an error naming it.
        let e = discover(&Io::default(), &[staged.path().join("nope")]).unwrap_err();
        assert!(e.to_string().contains("nope"), "{e}");
        assert!(discover(&Io::default(), &[]).is_err());
    }

    fn corpus_root() -> Option<PathBuf> {
        let root = std::env::var_os("SSTABLE_CORPUS")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus"))
            });
        if root.join("CATALOG.tsv").is_file() {
            return Some(root);
        }
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "corpus not found at {} (set SSTABLE_CORPUS)",
            root.display()
        );
        eprintln!("corpus not found at {}: skipping", root.display());
        None
    }

    #[test]
    fn whole_corpus_one_set_per_catalog_row() {
        let Some(root) = corpus_root() else { return };
        let catalog = fs::read_to_string(root.join("CATALOG.tsv")).unwrap();
        let d = discover(&Io::default(), std::slice::from_ref(&root)).unwrap();
        let root = std::path::absolute(&root).unwrap();
        let mut rows = 0;
        for line in catalog.lines().skip(1).filter(|l| !l.trim().is_empty()) {
            rows += 1;
            let cols: Vec<&str> = line.split('\t').collect();
            let pattern = cols[0];
            let version = cols[4];
            let data = root.join(pattern.replace('*', "Data.db"));
            let matching: Vec<_> = d
                .sets
                .iter()
                .filter(|s| s.data_path() == Some(data.as_path()))
                .collect();
            assert_eq!(matching.len(), 1, "{pattern}");
            let s = matching[0];
            assert_eq!(s.descriptor.version_str, version, "{pattern}");
            let expected: BTreeSet<String> = cols[9].split_whitespace().map(String::from).collect();
            let found: BTreeSet<String> = s.components.keys().map(|c| c.suffix()).collect();
            assert_eq!(found, expected, "{pattern}");
            if cols[5] == "bti" {
                assert_eq!(
                    s.descriptor.reading_format(),
                    Some(sstable_format::FormatKind::Bti),
                    "{pattern}"
                );
            }
        }
        assert_eq!(d.sets.len(), rows, "one set per catalog row");
        // The corpus holds no node copies side by side.
        let nodes: Vec<_> = d.sets.iter().filter_map(|s| s.node.as_deref()).collect();
        assert!(nodes.is_empty(), "{nodes:?}");
        // Every version in the corpus is read (`ic` and DataStax's `aa`/`cb` included).
        let unsupported: Vec<_> = d
            .unsupported()
            .map(|s| s.descriptor.version_str.clone())
            .collect();
        assert!(unsupported.is_empty(), "{unsupported:?}");
        // The sets without Data.db are reported.
        let no_data: Vec<_> = d
            .skipped
            .iter()
            .filter(|k| k.reason.contains("no Data.db"))
            .map(|k| k.path.strip_prefix(&root).unwrap().to_path_buf())
            .collect();
        // write_wide_partitions (Data.db not obtainable), badcompression and badtoc (TOC or
        // CompressionInfo only).
        let dirs: BTreeSet<_> = no_data.iter().filter_map(|p| p.parent()).collect();
        assert_eq!(
            dirs.into_iter().collect::<Vec<_>>(),
            [
                Path::new("scylla/sstables/3.x/uncompressed/write_wide_partitions"),
                Path::new("scylla/sstables/badcompression"),
                Path::new("scylla/sstables/badtoc"),
            ]
        );
        assert_eq!(no_data.len(), 7, "{no_data:?}");
    }
}
