//! Golden test: every `schema_cql` (and `schema_cql_per_set`) of the canonical expected rows parses.

use crate::common;

use sstable_format::schema::Schema;

#[test]
fn every_canonical_schema_parses() {
    let Some(root) = common::corpus_root() else {
        return;
    };
    let dir = root.join("canon/expected");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("read canon/expected")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no expected files in {}", dir.display());
    let mut checked = 0;
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read expected file");
        let doc: serde_json::Value = serde_json::from_str(&text).expect("expected file is JSON");
        let mut schemas = vec![doc["schema_cql"].clone()];
        if let Some(per_set) = doc.get("schema_cql_per_set").and_then(|v| v.as_object()) {
            schemas.extend(per_set.values().cloned());
        }
        for s in schemas {
            let cql = match &s {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Array(parts) => parts
                    .iter()
                    .map(|p| p.as_str().expect("schema part is a string"))
                    .collect::<Vec<_>>()
                    .join(";\n"),
                other => panic!("{}: unexpected schema_cql {other}", f.display()),
            };
            let schema =
                Schema::parse(&cql).unwrap_or_else(|e| panic!("{}: {e}\n{cql}", f.display()));
            let table = schema
                .only_table()
                .unwrap_or_else(|| panic!("{}: not exactly one table", f.display()));
            assert!(!table.partition_key.is_empty(), "{}", f.display());
            assert!(table.keyspace.is_some(), "{}", f.display());
            // Every CQL column is a column of the table.
            if let Some(row) = doc["rows"].as_array().and_then(|r| r.first()) {
                for name in row.as_object().expect("row is an object").keys() {
                    assert!(
                        table.column(name).is_some(),
                        "{}: row column {name} not in schema",
                        f.display()
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 100, "only {checked} schemas checked");
}
