//! Issue 14: quirks of writers in the wild, written by the project's writer with the bytes the
//! writer in the wild produces, read by `dump` as Cassandra does and reported by
//! `inspect --verify` as a warning.

use sstable_format::sstable_writer::{
    scylla_1_7_4_counter_context, sort_partitions, write_sstable, CellData, ColumnDef,
    PartitionData, RowData, TableDef, UnfilteredData, WriterOptions,
};
use sstable_format::CqlType;

use crate::faults::run;

/// A `counter` table whose cells have three shards in ScyllaDB 1.7.4's order
/// (`write_counter_value`, `shards_compatible_with_1_7_4`): `dump` gives Cassandra's totals,
/// `inspect --verify` passes with one `warning:` naming Data.db and an offset.
#[test]
fn scylla_counter_shard_order_is_read_and_warned() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp
        .path()
        .join("q")
        .join("hits-0123456789abcdef0123456789abcdef");
    std::fs::create_dir_all(&dir).unwrap();
    let t = TableDef {
        keyspace: "q".into(),
        name: "hits".into(),
        partition_key: vec![ColumnDef::new("pk", CqlType::Int)],
        clustering: vec![],
        statics: Vec::new(),
        regulars: vec![ColumnDef::new("n", CqlType::Counter)],
    };
    let mut parts: Vec<PartitionData> = (0..4i32)
        .map(|k| {
            let shards = [
                ([0x10u8; 16], 3, i64::from(k)),
                ([0x90u8; 16], 4, 200),
                ([0xf0u8; 16], 5, 3000),
            ];
            let mut p = PartitionData::new(k.to_be_bytes().to_vec());
            p.unfiltereds.push(UnfilteredData::Row(RowData::inserted(
                vec![],
                1_700_000_000_000_000,
                None,
                vec![CellData::live(
                    "n",
                    1_700_000_000_000_000,
                    scylla_1_7_4_counter_context(&shards),
                )],
            )));
            p
        })
        .collect();
    sort_partitions(&t, &mut parts);
    for (file, bytes) in write_sstable(&t, &parts, &WriterOptions::nb(1)).unwrap() {
        std::fs::write(dir.join(file), bytes).unwrap();
    }
    let input = tmp.path().to_str().unwrap();
    let o = run(&["dump", input, "--now", "2024-01-01T00:00:00Z"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    for k in 0..4 {
        let total = 3200 + k;
        assert!(
            out.lines()
                .any(|l| l.ends_with(&format!("\"key\":{k},\"n\":{total}}}"))),
            "pk {k} total {total} missing in:\n{out}"
        );
    }
    let o = run(&["inspect", "--verify", input]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning:")).collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(
        warnings[0].contains("nb-1-big-Data.db: Data.db at byte ") && warnings[0].contains("1.7.4"),
        "{err}"
    );
}
