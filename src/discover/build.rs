//! Classifying the files found into sets: where each directory sits in a node's tree (table,
//! snapshot, backups, index), what the transaction logs and snapshot manifests say, and the
//! node names of copies side by side. Called by [`super::discover_with`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component as PathComponent, Path, PathBuf};
use std::sync::Arc;

use sstable_format::descriptor::{ComponentName, Descriptor};

use crate::io::Io;

use super::*;

/// Where a directory sits: the table directory, the snapshot tag, the index name, the kind.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Placement {
    table_dir: PathBuf,
    index: Option<String>,
    snapshot: Option<String>,
    location: LocationKind,
    keyspace: Option<String>,
    table: Option<String>,
    table_id: Option<String>,
}

pub(super) fn file_name_str(p: &Path) -> Option<&str> {
    p.file_name().and_then(|n| n.to_str())
}

/// Splits `<table>-<32 hex>` into the table name and the id.
fn split_table_dir(name: &str) -> Option<(&str, &str)> {
    let (table, id) = name.rsplit_once('-')?;
    (id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) && !table.is_empty())
        .then_some((table, id))
}

fn place(dir: &Path) -> Placement {
    let name = file_name_str(dir).unwrap_or("");
    let parent = dir.parent().unwrap_or(dir);
    // `.<index>/` counts only inside a real table directory (or its snapshot/backups), so
    // that hidden directories such as tempfile's `.tmpXXXX` are not mistaken for indexes.
    if let Some(index) = name.strip_prefix('.').filter(|i| !i.is_empty()) {
        let inner = place_unindexed(parent);
        if inner.table_id.is_some() {
            return Placement {
                index: Some(index.to_string()),
                ..inner
            };
        }
    }
    place_unindexed(dir)
}

fn place_unindexed(dir: &Path) -> Placement {
    let name = file_name_str(dir).unwrap_or("");
    let parent = dir.parent();
    let (table_dir, snapshot, location) = if name == "backups" {
        (
            parent.unwrap_or(dir).to_path_buf(),
            None,
            LocationKind::Backups,
        )
    } else if let Some(tdir) = parent
        .filter(|p| file_name_str(p) == Some("snapshots"))
        .and_then(Path::parent)
    {
        (
            tdir.to_path_buf(),
            Some(name.to_string()),
            LocationKind::Snapshot,
        )
    } else if matches!(name, "upload" | "staging" | "quarantine") {
        (
            parent.unwrap_or(dir).to_path_buf(),
            None,
            LocationKind::Other,
        )
    } else {
        (dir.to_path_buf(), None, LocationKind::DataDir)
    };
    let tname = file_name_str(&table_dir).unwrap_or("");
    let keyspace = table_dir
        .parent()
        .and_then(file_name_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let (table, table_id, location) = match split_table_dir(tname) {
        Some((t, id)) => (Some(t.to_string()), Some(id.to_ascii_lowercase()), location),
        None => (
            (!tname.is_empty()).then(|| tname.to_string()),
            None,
            if location == LocationKind::DataDir {
                LocationKind::Other
            } else {
                location
            },
        ),
    };
    Placement {
        table_dir,
        index: None,
        snapshot,
        location,
        keyspace,
        table,
        table_id,
    }
}

/// Files of one set while grouping.
#[derive(Debug)]
struct Group {
    descriptor: Descriptor,
    components: BTreeMap<ComponentName, PathBuf>,
}

/// A transaction log's verdict on the sets it names.
#[derive(Debug, Default)]
struct TxnVerdicts {
    /// (dir, base name) → reason.
    skip: BTreeMap<(PathBuf, String), String>,
}

fn is_txn_log(name: &str) -> bool {
    name.ends_with(".log") && name.contains("_txn_")
}

/// Reads a transaction log (`LogFile`: lines `type:[path,updateTime,numFiles][checksum]`).
fn read_txn_log(io: &Io, path: &Path, verdicts: &mut TxnVerdicts, warnings: &mut Vec<Warning>) {
    let dir = path.parent().unwrap_or(path).to_path_buf();
    let text = match io.read_whole(path) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) => {
            warnings.push(Warning {
                path: path.to_path_buf(),
                message: format!("cannot read transaction log: {e}"),
            });
            return;
        }
    };
    let mut adds = Vec::new();
    let mut removes = Vec::new();
    let mut commit = false;
    let mut abort = false;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some((kind, rest)) = line.split_once(':') else {
            warnings.push(Warning {
                path: path.to_path_buf(),
                message: format!("unparsable transaction log line {line:?}"),
            });
            continue;
        };
        let record_path = rest
            .strip_prefix('[')
            .and_then(|r| r.split(',').next())
            .map(|p| p.trim_end_matches(']'));
        match kind.to_ascii_lowercase().as_str() {
            "add" | "remove" => {
                let base = record_path
                    .and_then(|p| p.rsplit(['/', '\\']).next())
                    .filter(|b| !b.is_empty());
                match base {
                    Some(b) if kind.eq_ignore_ascii_case("add") => adds.push(b.to_string()),
                    Some(b) => removes.push(b.to_string()),
                    None => warnings.push(Warning {
                        path: path.to_path_buf(),
                        message: format!("transaction log record without a file: {line:?}"),
                    }),
                }
            }
            "commit" => commit = true,
            "abort" => abort = true,
            _ => warnings.push(Warning {
                path: path.to_path_buf(),
                message: format!("unknown transaction log record {line:?}"),
            }),
        }
    }
    let log_name = file_name_str(path).unwrap_or("");
    if commit && !abort {
        for b in removes {
            verdicts.skip.insert(
                (dir.clone(), b),
                format!("obsolete: removed by committed transaction {log_name}"),
            );
        }
    } else {
        let state = if abort { "aborted" } else { "unfinished" };
        for b in adds {
            verdicts.skip.insert(
                (dir.clone(), b),
                format!("written by {state} transaction {log_name}"),
            );
        }
    }
}

/// Reads a snapshot's manifest; returns it and the names it lists.
fn read_manifest(io: &Io, path: &Path) -> Result<SnapshotManifest, String> {
    let bytes = io
        .read_whole(path)
        .map_err(|e| format!("cannot read manifest: {e}"))?;
    let v: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("manifest.json is not JSON: {e}"))?;
    let text = |v: Option<&serde_json::Value>| -> Option<String> {
        match v? {
            serde_json::Value::Null => None,
            serde_json::Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    };
    if let Some(files) = v.get("files") {
        let listed = files
            .as_array()
            .ok_or("manifest.json: \"files\" is not a list")?
            .iter()
            .map(|f| f.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or("manifest.json: \"files\" holds a non-string")?;
        return Ok(SnapshotManifest {
            path: path.to_path_buf(),
            format: ManifestFormat::Files,
            created_at: text(v.get("created_at")),
            expires_at: text(v.get("expires_at")),
            ephemeral: v.get("ephemeral").and_then(serde_json::Value::as_bool),
            listed,
            missing: Vec::new(),
            unlisted: Vec::new(),
        });
    }
    if let Some(sstables) = v.get("sstables") {
        let listed = sstables
            .as_array()
            .ok_or("manifest.json: \"sstables\" is not a list")?
            .iter()
            .map(|s| {
                s.get("toc_name")
                    .and_then(|t| t.as_str())
                    .map(str::to_string)
            })
            .collect::<Option<Vec<_>>>()
            .ok_or("manifest.json: an sstable entry has no \"toc_name\"")?;
        let snap = v.get("snapshot");
        return Ok(SnapshotManifest {
            path: path.to_path_buf(),
            format: ManifestFormat::Scylla,
            created_at: text(snap.and_then(|s| s.get("created_at"))),
            expires_at: text(snap.and_then(|s| s.get("expires_at"))),
            ephemeral: None,
            listed,
            missing: Vec::new(),
            unlisted: Vec::new(),
        });
    }
    Err("manifest.json has neither \"files\" nor \"sstables\"".to_string())
}

/// The (dir, base name) a listed manifest entry refers to.
fn manifest_entry_key(snapshot_dir: &Path, entry: &str) -> Option<(PathBuf, String)> {
    let rel = Path::new(entry);
    let name = file_name_str(rel)?;
    Descriptor::parse_file_name(name).ok()??;
    let dir = match rel.parent() {
        Some(p) if !p.as_os_str().is_empty() => snapshot_dir.join(p),
        _ => snapshot_dir.to_path_buf(),
    };
    Some((dir, base_of(name)?))
}

/// The literal file-name prefix of a component file (`nb-1-big` of `nb-1-big-Data.db`).
fn base_of(name: &str) -> Option<String> {
    name.rsplit_once('-').map(|(b, _)| b.to_string())
}

pub(super) fn build(io: &Io, files: BTreeSet<PathBuf>, options: DiscoverOptions) -> Discovery {
    let mut out = Discovery::default();
    let mut groups: BTreeMap<(PathBuf, String), Group> = BTreeMap::new();
    let mut verdicts = TxnVerdicts::default();
    let mut manifests: Vec<PathBuf> = Vec::new();
    let mut schemas: BTreeSet<PathBuf> = BTreeSet::new();

    for path in files {
        let Some(name) = file_name_str(&path).map(str::to_string) else {
            out.skipped.push(Skipped {
                path,
                reason: "file name is not UTF-8".to_string(),
            });
            continue;
        };
        let dir = path.parent().unwrap_or(&path).to_path_buf();
        if name == "manifest.json" {
            manifests.push(path);
            continue;
        }
        if name == "schema.cql" {
            schemas.insert(dir);
            continue;
        }
        if is_txn_log(&name) {
            read_txn_log(io, &path, &mut verdicts, &mut out.warnings);
            continue;
        }
        match Descriptor::parse_file_name(&name) {
            Ok(Some((descriptor, component))) => {
                let Some(base) = base_of(&name) else { continue };
                let g = groups.entry((dir, base)).or_insert_with(|| Group {
                    descriptor,
                    components: BTreeMap::new(),
                });
                g.components.insert(component, path);
            }
            Ok(None) => out.skipped.push(Skipped {
                path,
                reason: "not an sstable component".to_string(),
            }),
            Err(e) => out.skipped.push(Skipped {
                path,
                reason: format!("malformed sstable file name: {e}"),
            }),
        }
    }

    // Snapshot manifests: which sets they list.
    let mut listed_by_dir: BTreeMap<PathBuf, (usize, BTreeSet<(PathBuf, String)>)> =
        BTreeMap::new();
    for mpath in manifests {
        let sdir = mpath.parent().unwrap_or(&mpath).to_path_buf();
        match read_manifest(io, &mpath) {
            Ok(mut m) => {
                let keys: BTreeSet<_> = m
                    .listed
                    .iter()
                    .filter_map(|e| manifest_entry_key(&sdir, e))
                    .collect();
                for key in &keys {
                    let present = groups
                        .get(key)
                        .is_some_and(|g| g.components.contains_key(&ComponentName::Data));
                    if !present {
                        let data = groups
                            .get(key)
                            .map(|g| g.descriptor.file_name(&ComponentName::Data))
                            .unwrap_or_else(|| format!("{}-Data.db", key.1));
                        m.missing.push(key.0.join(data));
                    }
                }
                listed_by_dir.insert(sdir, (out.manifests.len(), keys));
                out.manifests.push(m);
            }
            Err(message) => out.warnings.push(Warning {
                path: mpath,
                message,
            }),
        }
    }

    let mut sets = Vec::new();
    for ((dir, base), g) in groups {
        let placement = place(&dir);
        let report_path = g
            .components
            .get(&ComponentName::Data)
            .or_else(|| g.components.values().next())
            .cloned()
            .unwrap_or_else(|| dir.join(&base));
        let skip = |out: &mut Discovery, reason: String| {
            out.skipped.push(Skipped {
                path: report_path.clone(),
                reason,
            })
        };
        if g.descriptor.temporary {
            skip(&mut out, "temporary sstable (tmp-/tmplink-)".to_string());
            continue;
        }
        if let Some(reason) = verdicts.skip.get(&(dir.clone(), base.clone())) {
            skip(&mut out, reason.clone());
            continue;
        }
        if g.components
            .contains_key(&ComponentName::Other("TemporaryTOC.txt".to_string()))
        {
            skip(
                &mut out,
                "unfinished ScyllaDB write (TemporaryTOC.txt present)".to_string(),
            );
            continue;
        }
        if !g.components.contains_key(&ComponentName::Data) {
            skip(&mut out, "no Data.db in the set".to_string());
            continue;
        }
        let index = placement.index.clone().or_else(|| {
            g.descriptor
                .is_legacy_secondary_index()
                .then(|| g.descriptor.table.clone())
                .flatten()
        });
        if let Some(ix) = &index {
            if !options.include_secondary_indexes {
                skip(&mut out, format!("secondary index sstable ({ix})"));
                continue;
            }
        }
        // The manifest of the snapshot directory (the index sub-directory's parent too).
        let snapshot_dir = if placement.index.is_some() {
            dir.parent().unwrap_or(&dir).to_path_buf()
        } else {
            dir.clone()
        };
        let in_manifest = listed_by_dir.get_mut(&snapshot_dir).map(|(i, keys)| {
            let listed = keys.contains(&(dir.clone(), base.clone()));
            if !listed {
                if let (Some(m), Some(p)) = (
                    out.manifests.get_mut(*i),
                    g.components.get(&ComponentName::Data),
                ) {
                    m.unlisted.push(p.clone());
                }
            }
            listed
        });
        let schema_cql = [&dir, &snapshot_dir]
            .into_iter()
            .find(|d| schemas.contains(*d))
            .map(|d| d.join("schema.cql"));
        let (keyspace, table) = match (&g.descriptor.keyspace, &g.descriptor.table) {
            (Some(k), Some(t)) => (Some(k.clone()), Some(t.clone())),
            (None, Some(t)) => (placement.keyspace.clone(), Some(t.clone())),
            _ => (placement.keyspace.clone(), placement.table.clone()),
        };
        let location = if placement.location == LocationKind::Other
            && placement.snapshot.is_none()
            && g.descriptor.table.is_some()
            && g.descriptor.table == placement.table
        {
            LocationKind::DataDir
        } else {
            placement.location
        };
        sets.push((
            placement.table_dir.clone(),
            SstableSet {
                dir,
                descriptor: g.descriptor,
                components: g.components,
                keyspace,
                table,
                table_id: placement.table_id,
                index: placement.index.or(index),
                node: None,
                snapshot: placement.snapshot,
                location,
                schema_cql,
                in_manifest,
                system_schema_sets: Arc::from(Vec::new()),
            },
        ));
    }

    keyspace_from_named_neighbours(&mut sets);
    node_folders_without_keyspace(&mut sets);
    assign_nodes(&mut sets);
    out.sets = sets.into_iter().map(|(_, s)| s).collect();
    attach_system_schema_sets(&mut out.sets);
    out.sets.sort_by(|a, b| {
        (
            &a.keyspace,
            &a.table,
            &a.node,
            &a.dir,
            &a.descriptor.generation,
        )
            .cmp(&(
                &b.keyspace,
                &b.table,
                &b.node,
                &b.dir,
                &b.descriptor.generation,
            ))
    });
    out.skipped.sort();
    out.warnings.sort();
    for m in &mut out.manifests {
        m.missing.sort();
        m.unlisted.sort();
    }
    out.manifests.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// (keyspace, table).
type TableKey = (Option<String>, Option<String>);

fn components_of(p: &Path) -> Vec<String> {
    p.components()
        .filter_map(|c| match c {
            PathComponent::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect()
}

/// Node detection: when the same (keyspace, table) sits in two table directories whose paths
/// have the same depth and differ in exactly one directory above the keyspace directory
/// (`node1/data/ks/tbl-id` and `node2/data/ks/tbl-id`), that directory names the node. Every set
/// under a node directory found that way gets the node name.
fn assign_nodes(sets: &mut [(PathBuf, SstableSet)]) {
    let mut dirs_by_table: BTreeMap<TableKey, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (table_dir, s) in sets.iter() {
        dirs_by_table
            .entry((s.keyspace.clone(), s.table.clone()))
            .or_default()
            .insert(components_of(table_dir));
    }
    // Node directories, as component lists (prefix + node name).
    let mut node_dirs: BTreeSet<Vec<String>> = BTreeSet::new();
    for dirs in dirs_by_table.values() {
        let dirs: Vec<_> = dirs.iter().collect();
        for (n, a) in dirs.iter().enumerate() {
            for b in dirs.iter().skip(n + 1) {
                if a.len() != b.len() {
                    continue;
                }
                let mut diff = a
                    .iter()
                    .zip(b.iter())
                    .enumerate()
                    .filter(|(_, (x, y))| x != y);
                let (Some((i, _)), None) = (diff.next(), diff.next()) else {
                    continue;
                };
                // Above the keyspace directory.
                if i + 2 < a.len() {
                    node_dirs.insert(a.iter().take(i + 1).cloned().collect());
                    node_dirs.insert(b.iter().take(i + 1).cloned().collect());
                }
            }
        }
    }
    if node_dirs.is_empty() {
        return;
    }
    for (table_dir, s) in sets.iter_mut() {
        let comps = components_of(table_dir);
        let best = node_dirs
            .iter()
            .filter(|n| n.len() + 2 <= comps.len() && comps.starts_with(n))
            .max_by_key(|n| n.len());
        if let Some(n) = best {
            s.node = n.last().cloned();
        }
    }
}

/// Sets of one table directory are one table: where a 2.1 file name in it gives the keyspace
/// (`try1-data-ka-3-Data.db` beside `mc-3-big-Data.db` in `…/<dir>/data-<id>/`), the sets of
/// the same table there whose names carry none take it instead of the parent directory's name
/// (a guess, which the file name overrules).
fn keyspace_from_named_neighbours(sets: &mut [(PathBuf, SstableSet)]) {
    let mut named: BTreeMap<(PathBuf, String), BTreeSet<String>> = BTreeMap::new();
    for (table_dir, s) in sets.iter() {
        if let (Some(k), Some(t)) = (&s.descriptor.keyspace, &s.table) {
            named
                .entry((table_dir.clone(), t.clone()))
                .or_default()
                .insert(k.clone());
        }
    }
    for (table_dir, s) in sets.iter_mut() {
        if s.descriptor.keyspace.is_some() {
            continue;
        }
        let Some(t) = &s.table else { continue };
        if let Some(ks) = named.get(&(table_dir.clone(), t.clone())) {
            if let (Some(k), 1) = (ks.iter().next(), ks.len()) {
                s.keyspace = Some(k.clone());
            }
        }
    }
}

/// Node copies without a keyspace level (`BACKUP/<node>/<table>-<id>/`, as rsync and
/// Aegisthus-style backups are): the same table directory name (table and table id) under
/// directories that differ in exactly one place, the one a keyspace would take. A table id is
/// the table's own (a random UUID, the same on every node), so these are one table on several
/// nodes, not one table per keyspace: the differing directory is the node, and the keyspace is
/// unknown (`--schema` or `schema.cql` gives it). Every table directory in such a node
/// directory gets the node, and no keyspace. Sets whose 2.1 file names carry the keyspace
/// keep it.
fn node_folders_without_keyspace(sets: &mut [(PathBuf, SstableSet)]) {
    let mut dirs_by_id: BTreeMap<(String, String), BTreeSet<Vec<String>>> = BTreeMap::new();
    for (table_dir, s) in sets.iter() {
        if let (Some(t), Some(id), None) = (&s.table, &s.table_id, &s.descriptor.keyspace) {
            dirs_by_id
                .entry((t.clone(), id.clone()))
                .or_default()
                .insert(components_of(table_dir));
        }
    }
    let mut nodes: BTreeMap<Vec<String>, String> = BTreeMap::new();
    for dirs in dirs_by_id.values() {
        let dirs: Vec<_> = dirs.iter().collect();
        for (n, a) in dirs.iter().enumerate() {
            for b in dirs.iter().skip(n + 1) {
                let mut diff = a
                    .iter()
                    .zip(b.iter())
                    .enumerate()
                    .filter(|(_, (x, y))| x != y);
                let (Some((i, (x, y))), None) = (diff.next(), diff.next()) else {
                    continue;
                };
                if a.len() == b.len() && i + 2 == a.len() {
                    nodes.insert(a.iter().take(i + 1).cloned().collect(), x.clone());
                    nodes.insert(b.iter().take(i + 1).cloned().collect(), y.clone());
                }
            }
        }
    }
    if nodes.is_empty() {
        return;
    }
    for (table_dir, s) in sets.iter_mut() {
        if s.descriptor.keyspace.is_some() {
            continue;
        }
        let mut parent = components_of(table_dir);
        parent.pop();
        if let Some(node) = nodes.get(&parent) {
            // The keyspace was the node directory's name (a guess); one from a neighbour's
            // 2.1 file name stays.
            if s.keyspace.as_ref() == Some(node) {
                s.keyspace = None;
            }
            s.node = Some(node.clone());
        }
    }
}

/// Gives every 2.x set the 2.x schema-table sets of its node.
fn attach_system_schema_sets(sets: &mut [SstableSet]) {
    let mut by_node: BTreeMap<Option<String>, Vec<SstableSet>> = BTreeMap::new();
    for s in sets.iter().filter(|s| is_legacy_schema_table(s)) {
        by_node.entry(s.node.clone()).or_default().push(s.clone());
    }
    let by_node: BTreeMap<Option<String>, Arc<[SstableSet]>> = by_node
        .into_iter()
        .map(|(n, v)| (n, Arc::from(v)))
        .collect();
    for s in sets.iter_mut() {
        let legacy = s.descriptor.version.is_some_and(|v| v.is_legacy_layout());
        if legacy && !is_legacy_schema_table(s) {
            if let Some(v) = by_node.get(&s.node) {
                s.system_schema_sets = Arc::clone(v);
            }
        }
    }
}
