//! The schema of 2.x tables taken from the backup's own `system` keyspace: the corpus's
//! `legacy_tables` (ka) are staged beside `system/schema_columnfamilies`, `schema_columns` and
//! `schema_usertypes` SSTables encoded here the way Cassandra 2.1 writes a table's definition
//! (`LegacySchemaTables.addTableToSchemaMutation` / `CFMetaData.toSchema`), and `dump` without
//! `--schema` must give the same rows as `dump --schema` with the canonical CREATE TABLE.
//!
//! No Cassandra-written system tables are in the corpus: the encoding below follows the 2.x
//! layout rules, it was not compared with real files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use sstable_format::schema::{ClusteringOrder, ColumnKind, Schema, TableSchema};
use sstable_format::CqlType;

fn corpus() -> Option<PathBuf> {
    let root = std::env::var_os("SSTABLE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus")));
    if root.join("CATALOG.tsv").is_file() {
        return Some(root);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "corpus not found at {}",
        root.display()
    );
    eprintln!("corpus not found at {}: skipping", root.display());
    None
}

/// Cells of one 2.x sparse table, by partition key, each cell name's components in order.
#[derive(Default)]
struct Enc {
    cells: BTreeMap<String, BTreeMap<Vec<Vec<u8>>, Vec<u8>>>,
}

impl Enc {
    fn cell(&mut self, key: &str, name: &[&[u8]], value: &[u8]) {
        self.cells
            .entry(key.to_string())
            .or_default()
            .insert(name.iter().map(|p| p.to_vec()).collect(), value.to_vec());
    }

    /// A row: its marker, then `(column, value)` cells (`None` values are left out).
    fn row(&mut self, key: &str, ck: &[&str], cells: &[(&str, Option<Vec<u8>>)]) {
        let mut name: Vec<&[u8]> = ck.iter().map(|s| s.as_bytes()).collect();
        name.push(b"");
        self.cell(key, &name, b"");
        for (c, v) in cells {
            if let Some(v) = v {
                name.pop();
                name.push(c.as_bytes());
                self.cell(key, &name, v);
            }
        }
    }

    fn data(&self) -> Vec<u8> {
        let short = |out: &mut Vec<u8>, b: &[u8]| {
            out.extend_from_slice(&(b.len() as u16).to_be_bytes());
            out.extend_from_slice(b);
        };
        let mut out = Vec::new();
        for (key, cells) in &self.cells {
            short(&mut out, key.as_bytes());
            out.extend_from_slice(&i32::MAX.to_be_bytes());
            out.extend_from_slice(&i64::MIN.to_be_bytes());
            for (name, value) in cells {
                let mut composite = Vec::new();
                for p in name {
                    short(&mut composite, p);
                    composite.push(0);
                }
                short(&mut out, &composite);
                out.push(0);
                out.extend_from_slice(&1_000_000i64.to_be_bytes());
                out.extend_from_slice(&(value.len() as i32).to_be_bytes());
                out.extend_from_slice(value);
            }
            out.extend_from_slice(&[0, 0]);
        }
        out
    }
}

fn text(s: &str) -> Option<Vec<u8>> {
    Some(s.as_bytes().to_vec())
}

fn marshal(ty: &CqlType, order: ClusteringOrder) -> String {
    match order {
        ClusteringOrder::Desc => CqlType::Reversed(Box::new(ty.clone())).to_type_string(),
        ClusteringOrder::Asc => ty.to_type_string(),
    }
}

/// The `schema_columnfamilies` and `schema_columns` rows 2.1 writes for `t` (CQL-created).
fn encode_table(cf: &mut Enc, cols: &mut Enc, ks: &str, name: &str, t: &TableSchema) {
    let dense = t.compact_storage && !t.clustering.is_empty();
    let regulars: Vec<_> = t
        .columns
        .iter()
        .filter(|c| c.kind == ColumnKind::Regular)
        .collect();
    let ck: Vec<String> = t
        .clustering
        .iter()
        .map(|c| marshal(&c.ty, c.clustering_order))
        .collect();
    let composite = |parts: Vec<String>| {
        format!(
            "org.apache.cassandra.db.marshal.CompositeType({})",
            parts.join(",")
        )
    };
    let comparator = if !t.compact_storage {
        let mut parts = ck.clone();
        parts.push("org.apache.cassandra.db.marshal.UTF8Type".into());
        composite(parts)
    } else if dense && ck.len() == 1 {
        ck[0].clone()
    } else if dense {
        composite(ck.clone())
    } else {
        "org.apache.cassandra.db.marshal.UTF8Type".into()
    };
    let key_validator = match t.partition_key.as_slice() {
        [one] => one.ty.to_type_string(),
        many => composite(many.iter().map(|c| c.ty.to_type_string()).collect()),
    };
    let counter = regulars.iter().any(|c| c.ty == CqlType::Counter);
    let default_validator = match (dense, regulars.first()) {
        (true, Some(v)) => v.ty.to_type_string(),
        _ if counter => "org.apache.cassandra.db.marshal.CounterColumnType".into(),
        _ => "org.apache.cassandra.db.marshal.BytesType".into(),
    };
    cf.row(
        ks,
        &[name],
        &[
            ("comparator", text(&comparator)),
            ("default_validator", text(&default_validator)),
            ("gc_grace_seconds", Some(864000i32.to_be_bytes().to_vec())),
            ("is_dense", Some(vec![u8::from(dense)])),
            ("key_validator", text(&key_validator)),
            ("type", text("Standard")),
        ],
    );
    let index = |i: usize, several: bool| several.then(|| (i as i32).to_be_bytes().to_vec());
    let mut column = |cname: &str, idx: Option<Vec<u8>>, kind: &str, validator: String| {
        cols.row(
            ks,
            &[name, cname],
            &[
                ("component_index", idx),
                ("type", text(kind)),
                ("validator", text(&validator)),
            ],
        );
    };
    let pk_several = t.partition_key.len() > 1;
    for (i, c) in t.partition_key.iter().enumerate() {
        column(
            &c.name,
            index(i, pk_several),
            "partition_key",
            c.ty.to_type_string(),
        );
    }
    let ck_composite = comparator.contains("CompositeType");
    for (i, c) in t.clustering.iter().enumerate() {
        let v = marshal(&c.ty, c.clustering_order);
        column(&c.name, index(i, ck_composite), "clustering_key", v);
    }
    for c in &regulars {
        let (idx, kind) = if dense {
            (None, "compact_value")
        } else if t.compact_storage {
            (None, "regular")
        } else {
            (index(t.clustering.len(), true), "regular")
        };
        column(&c.name, idx, kind, c.ty.to_type_string());
    }
}

fn stage(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        std::os::unix::fs::symlink(&p, to.join(p.file_name().unwrap())).unwrap();
    }
}

/// The row objects of a dump, without `keyspace`, `table` and `token`, sorted.
fn rows(out: &[u8], table: Option<&str>) -> Vec<String> {
    let mut rows: Vec<String> = String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(l).unwrap())
        .filter(|m| table.is_none_or(|t| m.get("table").and_then(|v| v.as_str()) == Some(t)))
        .map(|mut m| {
            m.remove("keyspace");
            m.remove("table");
            m.remove("token");
            serde_json::Value::Object(m).to_string()
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn ka_legacy_tables_decode_with_the_schema_from_encoded_system_tables() {
    let Some(root) = corpus() else { return };
    let canon = root.join("canon/expected");
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (mut cf, mut cols) = (Enc::default(), Enc::default());
    let mut checks = Vec::new();
    let mut names: Vec<PathBuf> = std::fs::read_dir(&canon)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("cassandra_legacy_"))
        })
        .collect();
    names.sort();
    for path in names {
        let check: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let Some(set) = check["applies_to"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str())
            .find(|s| s.contains("/ka/legacy_tables/"))
        else {
            continue;
        };
        let data_file = root.join(set);
        let file_name = data_file.file_name().unwrap().to_str().unwrap().to_string();
        let table_dir = data_file.parent().unwrap();
        let table = table_dir.file_name().unwrap().to_str().unwrap().to_string();
        let ks = file_name.split('-').next().unwrap().to_string();
        let cql = check["schema_cql"].as_str().unwrap().to_string();
        let parsed = Schema::parse(&cql).unwrap();
        encode_table(&mut cf, &mut cols, &ks, &table, &parsed.tables[0]);
        stage(
            table_dir,
            &data
                .join(&ks)
                .join(format!("{table}-0123456789abcdef0123456789abcdef")),
        );
        let cql_file = tmp.path().join(format!("{table}.cql"));
        std::fs::write(&cql_file, &cql).unwrap();
        checks.push((
            table,
            table_dir.to_path_buf(),
            cql_file,
            check["rows"].as_array().unwrap().len(),
        ));
    }
    assert!(checks.len() >= 10, "only {} ka checks found", checks.len());
    // The schema tables, with a Statistics.db borrowed from a ka set of the corpus.
    let stats = root.join(
        "cassandra/legacy-sstables/ka/legacy_tables/legacy_ka_simple/legacy_tables-legacy_ka_simple-ka-1-Statistics.db",
    );
    for (table, enc) in [
        ("schema_columnfamilies", &cf),
        ("schema_columns", &cols),
        ("schema_usertypes", &Enc::default()),
    ] {
        let dir = data
            .join("system")
            .join(format!("{table}-fedcba9876543210fedcba9876543210"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("system-{table}-ka-1-Data.db")), enc.data()).unwrap();
        std::fs::copy(
            &stats,
            dir.join(format!("system-{table}-ka-1-Statistics.db")),
        )
        .unwrap();
    }

    eprintln!("{} ka tables staged", checks.len());
    let bin = env!("CARGO_BIN_EXE_sstable-lake");
    let all = Command::new(bin)
        .args(["dump", "--now", "2020-01-01T00:00:00Z"])
        .arg(&data)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&all.stderr);
    assert!(all.status.success(), "{err}");
    eprintln!("{err}");
    assert!(err.contains("from the backup's 2.x system tables"), "{err}");
    for (table, dir, cql_file, expected) in &checks {
        let with_schema = Command::new(bin)
            .args(["dump", "--now", "2020-01-01T00:00:00Z", "--schema"])
            .arg(cql_file)
            .arg(dir)
            .output()
            .unwrap();
        assert!(
            with_schema.status.success(),
            "{table}: {}",
            String::from_utf8_lossy(&with_schema.stderr)
        );
        let want = rows(&with_schema.stdout, None);
        let got = rows(&all.stdout, Some(table));
        assert_eq!(
            want.len(),
            *expected,
            "{table}: --schema gives {} rows",
            want.len()
        );
        assert!(
            got == want,
            "{table}: {} rows from the system tables, {} with --schema",
            got.len(),
            want.len()
        );
    }
    // The schema tables themselves are dumped with their built-in definition.
    let sys = rows(&all.stdout, Some("schema_columns"));
    assert!(
        sys.iter().any(|r| r.contains("\"compact_value\"")),
        "{sys:?}"
    );
}
