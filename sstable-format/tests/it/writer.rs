//! The SSTable set writer: sets written by `sstable_writer` read back with the crate's readers
//! to the same rows, and the Scylla/Cassandra-3.x golden `write_*` sets reproduced in `mc`.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;

use sstable_format::chunks::{CompressedSource, UncompressedSource};
use sstable_format::crc::CrcDb;
use sstable_format::data::{
    BoundKind, CellKind, DataReader, DeletionTime, LivenessInfo, Unfiltered,
};
use sstable_format::offsets::{ChunkIndex, DataOffset};
use sstable_format::sstable_writer::{
    counter_context, sort_partitions, write_filter, write_sstable, write_summary, CellData,
    ColumnDef, Compression, MarkerData, PartitionData, RowData, TableDef, UnfilteredData,
    WriterOptions,
};
use sstable_format::statistics::{SerializationHeader, Statistics};
use sstable_format::types::UdtDef;
use sstable_format::version::DigestKind;
use sstable_format::{verify_all, verify_uncompressed, CompressionInfo, CqlType, Digest, Version};

/// One rendered unfiltered: partition headers, rows and markers as comparable text, cells by
/// column name.
fn render_read(files: &BTreeMap<String, Vec<u8>>, version: Version, gen: u64) -> Vec<String> {
    let name = |c: &str| format!("{}-{gen}-big-{c}", version.as_str());
    let stats = Statistics::parse(&files[&name("Statistics.db")], version).unwrap();
    let header = stats.header.clone().unwrap();
    let layout = header.layout(version).unwrap();
    let data = &files[&name("Data.db")];
    let digest = Digest::parse(&files[&name("Digest.crc32")]).unwrap();
    digest.verify(DigestKind::Crc32, data).unwrap();
    let mut out = Vec::new();
    if let Some(ci) = files.get(&name("CompressionInfo.db")) {
        let info = CompressionInfo::parse(ci, version).unwrap();
        verify_all(data, &info, version).unwrap();
        let src = CompressedSource::new(data, &info, version, ChunkIndex(0), None).unwrap();
        read_all(DataReader::new(src, layout), &header, &mut out);
    } else {
        let crc = CrcDb::parse(&files[&name("CRC.db")]).unwrap();
        verify_uncompressed(data, &crc, version).unwrap();
        let src = UncompressedSource::new(data, Some(&crc), version, DataOffset(0), None).unwrap();
        read_all(DataReader::new(src, layout), &header, &mut out);
    }
    out
}

fn read_all<S: sstable_format::DataSource>(
    mut r: DataReader<S>,
    header: &SerializationHeader,
    out: &mut Vec<String>,
) {
    let statics: Vec<String> = header
        .ordered_columns(true)
        .iter()
        .map(|c| c.name_str().into_owned())
        .collect();
    let regulars: Vec<String> = header
        .ordered_columns(false)
        .iter()
        .map(|c| c.name_str().into_owned())
        .collect();
    while let Some(p) = r.next_partition().unwrap() {
        out.push(format!("P {:?} {:?}", p.key, p.deletion));
        while let Some(u) = r.next_unfiltered().unwrap() {
            match u {
                Unfiltered::Row(row) => {
                    let names = if row.is_static { &statics } else { &regulars };
                    let cells: Vec<String> = row
                        .cells
                        .iter()
                        .map(|c| {
                            cell(
                                &names[c.column as usize],
                                c.timestamp,
                                c.kind,
                                c.path,
                                c.value,
                            )
                        })
                        .collect();
                    let cd: Vec<String> = row
                        .complex_deletions
                        .iter()
                        .filter(|(_, d)| !d.is_live())
                        .map(|(c, d)| format!("{}={d:?}", names[*c as usize]))
                        .collect();
                    if row.is_static && row.cells.is_empty() && cd.is_empty() {
                        continue; // the always-written empty static row
                    }
                    out.push(format!(
                        "R static={} {:?} {:?} {:?} {cd:?} {cells:?}",
                        row.is_static,
                        row.clustering
                            .iter()
                            .map(|v| v.map(<[u8]>::to_vec))
                            .collect::<Vec<_>>(),
                        row.liveness,
                        row.deletion
                    ));
                }
                Unfiltered::Marker(m) => out.push(format!(
                    "M {:?} {:?} {:?} {:?}",
                    m.kind,
                    m.values
                        .iter()
                        .map(|v| v.map(<[u8]>::to_vec))
                        .collect::<Vec<_>>(),
                    m.close,
                    m.open
                )),
            }
        }
    }
}

fn cell(name: &str, ts: i64, kind: CellKind, path: Option<&[u8]>, value: &[u8]) -> String {
    format!("{name}@{ts} {kind:?} {path:?} {value:?}")
}

/// The same rendering from the written model.
fn render_model(table: &TableDef, partitions: &[PartitionData]) -> Vec<String> {
    let order = |statics: bool| -> Vec<String> {
        table
            .row_order(statics)
            .iter()
            .map(|c| c.name.clone())
            .collect()
    };
    let (statics, regulars) = (order(true), order(false));
    let row = |r: &RowData, is_static: bool| -> String {
        let names = if is_static { &statics } else { &regulars };
        let mut cells: Vec<&CellData> = r.cells.iter().collect();
        cells.sort_by_key(|c| names.iter().position(|n| *n == c.column));
        let cells: Vec<String> = cells
            .iter()
            .map(|c| cell(&c.column, c.timestamp, c.kind, c.path.as_deref(), &c.value))
            .collect();
        let mut cd: Vec<&(String, DeletionTime)> = r
            .complex_deletions
            .iter()
            .filter(|(_, d)| !d.is_live())
            .collect();
        cd.sort_by_key(|(c, _)| names.iter().position(|n| n == c));
        let cd: Vec<String> = cd.iter().map(|(c, d)| format!("{c}={d:?}")).collect();
        format!(
            "R static={is_static} {:?} {:?} {:?} {cd:?} {cells:?}",
            r.clustering, r.liveness, r.deletion
        )
    };
    let mut out = Vec::new();
    for p in partitions {
        out.push(format!("P {:?} {:?}", p.key, p.deletion));
        if let Some(s) = &p.static_row {
            out.push(row(s, true));
        }
        for u in &p.unfiltereds {
            match u {
                UnfilteredData::Row(r) => out.push(row(r, false)),
                UnfilteredData::Marker(m) => out.push(format!(
                    "M {:?} {:?} {:?} {:?}",
                    m.kind, m.values, m.close, m.open
                )),
            }
        }
    }
    out
}

fn del(ts: i64, ldt: i64) -> DeletionTime {
    DeletionTime {
        marked_for_delete_at: ts,
        local_deletion_time: ldt,
    }
}

fn int(v: i32) -> Vec<u8> {
    v.to_be_bytes().to_vec()
}

/// A table with every kind of column (simple, frozen and non-frozen collections, UDT,
/// tuple, static, DESC clustering) and partitions exercising every Data.db feature.
fn sample() -> (TableDef, Vec<PartitionData>) {
    let udt = |frozen| {
        CqlType::Udt(Box::new(UdtDef {
            keyspace: "ks".into(),
            name: "address".into(),
            fields: vec![
                ("street".into(), CqlType::Text),
                ("zip".into(), CqlType::Int),
            ],
            frozen,
        }))
    };
    let table = TableDef {
        keyspace: "ks".into(),
        name: "t".into(),
        partition_key: vec![
            ColumnDef::new("id", CqlType::Int),
            ColumnDef::new("region", CqlType::Text),
        ],
        clustering: vec![
            ColumnDef::new("day", CqlType::Reversed(Box::new(CqlType::Int))),
            ColumnDef::new("name", CqlType::Text),
        ],
        statics: vec![ColumnDef::new("owner", CqlType::Text)],
        regulars: vec![
            ColumnDef::new("v", CqlType::BigInt),
            ColumnDef::new(
                "tags",
                CqlType::Set {
                    element: Box::new(CqlType::Text),
                    frozen: false,
                },
            ),
            ColumnDef::new("home", udt(false)),
            ColumnDef::new("work", udt(true)),
            ColumnDef::new("pair", CqlType::Tuple(vec![CqlType::Int, CqlType::Text])),
            ColumnDef::new("note", CqlType::Text),
        ],
    };
    let ts = 1_700_000_000_000_000i64;
    let now = 1_700_000_000i64;
    let mut parts = Vec::new();
    for i in 0..40 {
        let key = table.partition_key(&[&int(i), format!("r{}", i % 3).as_bytes()]);
        let mut p = PartitionData::new(key);
        if i % 2 == 0 {
            let mut s = RowData::new(vec![]);
            s.cells.push(CellData::live(
                "owner",
                ts + 5,
                format!("o{i}").into_bytes(),
            ));
            p.static_row = Some(s);
        }
        for day in [3, 1, 2] {
            let mut r = RowData::inserted(
                vec![int(day), format!("n{day}").into_bytes()],
                ts + i64::from(day),
                None,
                vec![
                    CellData::live("note", ts + i64::from(day), b"hello".to_vec()),
                    CellData::live("v", ts + 7, (i64::from(i) * 1000).to_be_bytes().to_vec()),
                    CellData::live("tags", ts + 1, Vec::new()).with_path(b"a".to_vec()),
                    CellData::live("tags", ts + 1, Vec::new()).with_path(b"b".to_vec()),
                    CellData::live("home", ts + 2, b"Main St".to_vec()).with_path(vec![0, 0]),
                    CellData::live("home", ts + 2, int(12345)).with_path(vec![0, 1]),
                ],
            );
            r.complex_deletions.push(("tags".into(), del(ts, now)));
            r.complex_deletions.push(("home".into(), del(ts + 1, now)));
            p.unfiltereds.push(UnfilteredData::Row(r));
        }
        match i % 5 {
            0 => p.deletion = del(ts - 10, now - 10),
            1 => {
                // An expiring row and an expiring cell, a cell tombstone.
                let mut r = RowData::inserted(
                    vec![int(10), b"ttl".to_vec()],
                    ts + 20,
                    Some((3600, now + 3600)),
                    vec![
                        CellData::expiring("note", ts + 20, 3600, now + 3600, b"x".to_vec()),
                        CellData::expiring("v", ts + 21, 60, now + 60, int(1).repeat(2)),
                        CellData::tombstone("pair", ts + 22, now),
                    ],
                );
                r.cells.push(CellData::live(
                    "work",
                    ts + 23,
                    [&[0, 0, 0, 2][..], b"xy", &[0, 0, 0, 4], &int(7)].concat(),
                ));
                p.unfiltereds.push(UnfilteredData::Row(r));
            }
            2 => {
                let mut r = RowData::new(vec![int(20), b"gone".to_vec()]);
                r.deletion = del(ts + 30, now + 1);
                p.unfiltereds.push(UnfilteredData::Row(r));
            }
            3 => {
                // A range tombstone over day 0 (DESC: after the rows of days 3, 2, 1).
                p.unfiltereds.push(UnfilteredData::Marker(MarkerData {
                    kind: BoundKind::InclStartBound,
                    values: vec![Some(int(0))],
                    close: None,
                    open: Some(del(ts + 40, now + 2)),
                }));
                p.unfiltereds.push(UnfilteredData::Marker(MarkerData {
                    kind: BoundKind::InclEndBound,
                    values: vec![Some(int(0))],
                    close: Some(del(ts + 40, now + 2)),
                    open: None,
                }));
            }
            _ => {}
        }
        parts.push(p);
    }
    sort_partitions(&table, &mut parts);
    (table, parts)
}

#[test]
fn written_sets_read_back_to_the_same_rows() {
    let (table, parts) = sample();
    let expected = render_model(&table, &parts);
    assert!(expected.len() > 150);
    for version in [Version::Nb, Version::Na, Version::Me, Version::Mc] {
        for compression in [
            Compression::None,
            Compression::Lz4 {
                chunk_length: 16 * 1024,
            },
            Compression::Lz4 { chunk_length: 512 },
        ] {
            let opts = WriterOptions {
                version,
                compression,
                originating_host_id: Some([7; 16]),
                ..WriterOptions::nb(3)
            };
            let files = write_sstable(&table, &parts, &opts).unwrap();
            let got = render_read(&files, version, 3);
            assert_eq!(got, expected, "{version} {compression:?}");

            // Statistics: what the collector saw.
            let name = |c: &str| format!("{version}-3-big-{c}");
            let stats = Statistics::parse(&files[&name("Statistics.db")], version).unwrap();
            let v = stats.validation.unwrap();
            assert_eq!(v.partitioner, "org.apache.cassandra.dht.Murmur3Partitioner");
            let s = stats.stats.unwrap();
            assert_eq!(s.min_timestamp, 1_700_000_000_000_000 - 10);
            assert_eq!(s.max_timestamp, 1_700_000_000_000_000 + 40);
            assert_eq!(s.min_local_deletion_time, Some(1_700_000_000 - 10));
            // Live cells count as "no deletion time" (Integer.MAX_VALUE), as in Cassandra.
            assert_eq!(s.max_local_deletion_time, None);
            assert_eq!((s.min_ttl, s.max_ttl), (Some(0), Some(3600)));
            assert_eq!(s.partition_sizes.count(), 40);
            assert_eq!(s.cells_per_partition.count(), 40);
            // 20 static rows + 120 rows + 8 expiring rows + 8 deleted rows.
            assert_eq!(s.total_rows, Some(20 + 120 + 8 + 8));
            assert!(!s.tombstone_histogram.bins.is_empty());
            let min = s.legacy_min_clustering.unwrap();
            // day is DESC: its "min" is the largest day by the reversed comparator.
            assert_eq!(min[0], int(20));
            assert_eq!(
                s.originating_host_id.map(|u| u.0),
                version.has_originating_host_id().then_some([7; 16])
            );
            let h = stats.header.unwrap();
            assert_eq!(h.encoding_stats.min_ttl, 60);
            assert_eq!(h.encoding_stats.min_timestamp, 1_700_000_000_000_000 - 10);
            assert_eq!(
                h.partition_key_type,
                CqlType::Composite(vec![CqlType::Int, CqlType::Text])
            );
            let names: Vec<String> = h
                .regular_columns
                .iter()
                .map(|c| c.name_str().into_owned())
                .collect();
            assert_eq!(names, ["note", "pair", "v", "work", "home", "tags"]);

            // Index.db: one entry per partition, positions of the partitions.
            let index = &files[&name("Index.db")];
            let mut pos = 0usize;
            let mut n = 0;
            while pos < index.len() {
                let len = u16::from_be_bytes([index[pos], index[pos + 1]]) as usize;
                assert_eq!(&index[pos + 2..pos + 2 + len], &parts[n].key[..]);
                pos += 2 + len;
                // uvint position (< 2^14 here: 1 or 2 bytes), then 0.
                pos += if index[pos] & 0x80 == 0 { 1 } else { 2 };
                assert_eq!(index[pos], 0);
                pos += 1;
                n += 1;
            }
            assert_eq!(n, 40);
            let toc = String::from_utf8(files[&name("TOC.txt")].clone()).unwrap();
            for f in files.keys() {
                let component = f.splitn(4, '-').nth(3).unwrap();
                assert!(toc.lines().any(|l| l == component), "{component} in TOC");
            }
        }
    }
}

#[test]
fn unsorted_partitions_are_refused() {
    let (table, mut parts) = sample();
    parts.swap(0, 1);
    assert!(write_sstable(&table, &parts, &WriterOptions::nb(1)).is_err());
}

#[test]
fn counters_round_trip() {
    let table = TableDef {
        keyspace: "ks".into(),
        name: "c".into(),
        partition_key: vec![ColumnDef::new("k", CqlType::Text)],
        clustering: vec![],
        statics: vec![],
        regulars: vec![ColumnDef::new("hits", CqlType::Counter)],
    };
    let mut p = PartitionData::new(b"page".to_vec());
    let mut r = RowData::new(vec![]);
    r.cells.push(CellData::live(
        "hits",
        1_000,
        counter_context([1; 16], 3, 42),
    ));
    p.unfiltereds.push(UnfilteredData::Row(r));
    let parts = vec![p];
    let files = write_sstable(&table, &parts, &WriterOptions::nb(1)).unwrap();
    assert_eq!(
        render_read(&files, Version::Nb, 1),
        render_model(&table, &parts)
    );
    let v = sstable_format::value::CounterContext::parse(&counter_context([1; 16], 3, 42))
        .unwrap()
        .total();
    assert_eq!(v, 42);
}

// ---------------------------------------------------------------------------------------------
// Corpus: Filter.db and Summary.db of a Cassandra 4.0 set, Scylla 3.x golden sets
// ---------------------------------------------------------------------------------------------

/// Index.db entries (key, Index.db position) of a ma+ BIG index.
fn index_entries(index: &[u8]) -> Vec<(Vec<u8>, u64)> {
    let uvint = |b: &[u8], pos: &mut usize| -> u64 {
        let first = b[*pos];
        let extra = first.leading_ones() as usize;
        let mut v = u64::from(first) & (0xffu64 >> extra);
        for i in 0..extra {
            v = (v << 8) | u64::from(b[*pos + 1 + i]);
        }
        *pos += 1 + extra;
        v
    };
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < index.len() {
        let start = pos as u64;
        let len = u16::from_be_bytes([index[pos], index[pos + 1]]) as usize;
        let key = index[pos + 2..pos + 2 + len].to_vec();
        pos += 2 + len;
        let _position = uvint(index, &mut pos);
        let size = uvint(index, &mut pos) as usize;
        pos += size;
        out.push((key, start));
    }
    out
}

#[test]
fn filter_and_summary_match_cassandra_4_0() {
    let Some(root) = common::corpus_root() else {
        return;
    };
    let mut checked = 0;
    for table in [
        "legacy_nb_simple",
        "legacy_nb_clust",
        "legacy_nb_simple_counter",
    ] {
        let dir = root.join(format!(
            "cassandra/legacy-sstables/nb/legacy_tables/{table}"
        ));
        let read = |c: &str| std::fs::read(dir.join(format!("nb-1-big-{c}"))).unwrap();
        let stats = Statistics::parse(&read("Statistics.db"), Version::Nb).unwrap();
        let fp = stats.validation.unwrap().bloom_filter_fp_chance;
        let entries = index_entries(&read("Index.db"));
        let keys: Vec<&[u8]> = entries.iter().map(|(k, _)| k.as_slice()).collect();
        assert_eq!(
            write_filter(&keys, fp, Version::Nb).unwrap(),
            read("Filter.db"),
            "{table} Filter.db"
        );
        let e: Vec<(&[u8], u64)> = entries.iter().map(|(k, p)| (k.as_slice(), *p)).collect();
        assert_eq!(
            write_summary(&e, 128),
            read("Summary.db"),
            "{table} Summary.db"
        );
        checked += 1;
    }
    assert_eq!(checked, 3);
}

const TS: i64 = 1_525_385_507_816_568;

fn sst3(
    name: &str,
    pk: ColumnDef,
    ck: Vec<ColumnDef>,
    st: Vec<ColumnDef>,
    rc: Vec<ColumnDef>,
) -> TableDef {
    TableDef {
        keyspace: "sst3".into(),
        name: name.into(),
        partition_key: vec![pk],
        clustering: ck,
        statics: st,
        regulars: rc,
    }
}

/// The golden sets rebuilt from their CQL (canon JSON) and timestamps (`dump --raw`).
fn golden_models() -> Vec<(&'static str, TableDef, Vec<PartitionData>)> {
    let c = ColumnDef::new;
    let mut out = Vec::new();

    // write_static_row: INSERT INTO static_row (pk, st1, st2) VALUES ('key1', 1135, 'hello').
    let t = sst3(
        "static_row",
        c("pk", CqlType::Text),
        vec![c("ck", CqlType::Int)],
        vec![c("st1", CqlType::Int), c("st2", CqlType::Text)],
        vec![],
    );
    let mut p = PartitionData::new(b"key1".to_vec());
    let mut s = RowData::new(vec![]);
    s.cells = vec![
        CellData::live("st1", TS, int(1135)),
        CellData::live("st2", TS, b"hello".to_vec()),
    ];
    p.static_row = Some(s);
    out.push(("write_static_row", t, vec![p]));

    // write_multiple_rows: three INSERTs, 10 µs apart.
    let t = sst3(
        "multiple_rows",
        c("pk", CqlType::Int),
        vec![c("ck", CqlType::Int)],
        vec![],
        vec![
            c("rc1", CqlType::Int),
            c("rc2", CqlType::Int),
            c("rc3", CqlType::Int),
        ],
    );
    let mut p = PartitionData::new(int(0));
    for i in 1..=3 {
        let ts = TS + 10 * i64::from(i - 1);
        p.unfiltereds.push(UnfilteredData::Row(RowData::inserted(
            vec![int(i)],
            ts,
            None,
            vec![CellData::live(&format!("rc{i}"), ts, int(10 * i))],
        )));
    }
    out.push(("write_multiple_rows", t, vec![p]));

    // write_simple_range_tombstone: DELETE ... WHERE pk = 0 AND ck1 = 'aaa'.
    let t = sst3(
        "simple_range_tombstone",
        c("pk", CqlType::Int),
        vec![c("ck1", CqlType::Text), c("ck2", CqlType::Text)],
        vec![],
        vec![c("rc", CqlType::Text)],
    );
    let d = del(TS, 1_544_042_952);
    let mut p = PartitionData::new(int(0));
    p.unfiltereds.push(UnfilteredData::Marker(MarkerData {
        kind: BoundKind::InclStartBound,
        values: vec![Some(b"aaa".to_vec())],
        close: None,
        open: Some(d),
    }));
    p.unfiltereds.push(UnfilteredData::Marker(MarkerData {
        kind: BoundKind::InclEndBound,
        values: vec![Some(b"aaa".to_vec())],
        close: Some(d),
        open: None,
    }));
    out.push(("write_simple_range_tombstone", t, vec![p]));

    // write_ttled_row: INSERT ... USING TTL 1135.
    let t = sst3(
        "ttled_row",
        c("pk", CqlType::Int),
        vec![c("ck", CqlType::Int)],
        vec![],
        vec![c("rc", CqlType::Int)],
    );
    let exp = 1_543_905_466;
    let mut p = PartitionData::new(int(1));
    p.unfiltereds.push(UnfilteredData::Row(RowData::inserted(
        vec![int(2)],
        TS,
        Some((1135, exp)),
        vec![CellData::expiring("rc", TS, 1135, exp, int(3))],
    )));
    out.push(("write_ttled_row", t, vec![p]));

    // write_deleted_row: DELETE FROM deleted_row WHERE pk = 1 AND ck = 2.
    let t = sst3(
        "deleted_row",
        c("pk", CqlType::Int),
        vec![c("ck", CqlType::Int)],
        vec![],
        vec![],
    );
    let mut p = PartitionData::new(int(1));
    let mut r = RowData::new(vec![int(2)]);
    r.deletion = del(TS, 1_543_907_978);
    p.unfiltereds.push(UnfilteredData::Row(r));
    out.push(("write_deleted_row", t, vec![p]));
    out
}

/// `write_different_types`: the values are taken from the golden Data.db (every scalar type's
/// encoding is the reader's business); the writer must lay them out identically.
fn different_types(dir: &Path) -> (TableDef, Vec<PartitionData>) {
    let stats = Statistics::parse(
        &std::fs::read(dir.join("mc-1-big-Statistics.db")).unwrap(),
        Version::Mc,
    )
    .unwrap();
    let header = stats.header.unwrap();
    let table = sst3(
        "different_types",
        ColumnDef::new("pk", CqlType::Text),
        vec![],
        vec![],
        header
            .regular_columns
            .iter()
            .map(|c| ColumnDef::new(&c.name_str(), c.ty.clone()))
            .collect(),
    );
    let names: Vec<String> = header
        .ordered_columns(false)
        .iter()
        .map(|c| c.name_str().into_owned())
        .collect();
    let data = std::fs::read(dir.join("mc-1-big-Data.db")).unwrap();
    let mut r = DataReader::new(
        UncompressedSource::new(&data, None, Version::Mc, DataOffset(0), None).unwrap(),
        header.layout(Version::Mc).unwrap(),
    );
    let mut parts = Vec::new();
    while let Some(p) = r.next_partition().unwrap() {
        let mut part = PartitionData::new(p.key.to_vec());
        while let Some(Unfiltered::Row(row)) = r.next_unfiltered().unwrap() {
            let mut owned = RowData::new(vec![]);
            owned.liveness = row.liveness;
            for c in &row.cells {
                owned.cells.push(CellData::live(
                    &names[c.column as usize],
                    c.timestamp,
                    c.value.to_vec(),
                ));
            }
            part.unfiltereds.push(UnfilteredData::Row(owned));
        }
        parts.push(part);
    }
    (table, parts)
}

#[test]
fn scylla_3x_golden_sets_reproduced_in_mc() {
    let Some(root) = common::corpus_root() else {
        return;
    };
    let base = root.join("scylla/sstables/3.x/uncompressed");
    let mut models = golden_models();
    let (t, p) = different_types(&base.join("write_different_types"));
    models.push(("write_different_types", t, p));
    let mut report = Vec::new();
    for (set, table, mut parts) in models {
        let dir = base.join(set);
        let read = |c: &str| std::fs::read(dir.join(format!("mc-1-big-{c}"))).unwrap();
        sort_partitions(&table, &mut parts);
        let opts = WriterOptions {
            version: Version::Mc,
            compression: Compression::None,
            only_used_columns: true,
            ..WriterOptions::nb(1)
        };
        let files = write_sstable(&table, &parts, &opts).unwrap();
        // Same rows as the golden file, read by the same reader.
        let mut golden = BTreeMap::new();
        for c in ["Data.db", "Statistics.db", "Digest.crc32"] {
            golden.insert(format!("mc-1-big-{c}"), read(c));
        }
        let crc = CrcDb::build(&read("Data.db"), 65536, Version::Mc);
        let mut crc_bytes = Vec::new();
        crc.write(&mut crc_bytes);
        golden.insert("mc-1-big-CRC.db".into(), crc_bytes);
        assert_eq!(
            render_read(&files, Version::Mc, 1),
            render_read(&golden, Version::Mc, 1),
            "{set}: rows"
        );
        // Byte for byte.
        for c in ["Data.db", "Index.db", "Filter.db", "Digest.crc32"] {
            assert_eq!(files[&format!("mc-1-big-{c}")], read(c), "{set}: {c}");
        }
        // The serialization header (EncodingStats, types, column order) is identical too.
        let mine = Statistics::parse(&files["mc-1-big-Statistics.db"], Version::Mc).unwrap();
        let theirs = Statistics::parse(&read("Statistics.db"), Version::Mc).unwrap();
        assert_eq!(mine.header, theirs.header, "{set}: header");
        let (m, t) = (mine.stats.unwrap(), theirs.stats.unwrap());
        assert_eq!(
            (
                m.min_timestamp,
                m.max_timestamp,
                m.min_local_deletion_time,
                m.max_local_deletion_time
            ),
            (
                t.min_timestamp,
                t.max_timestamp,
                t.min_local_deletion_time,
                t.max_local_deletion_time
            ),
            "{set}: stats"
        );
        assert_eq!(
            (m.min_ttl, m.max_ttl),
            (t.min_ttl, t.max_ttl),
            "{set}: ttls"
        );
        assert_eq!(
            m.partition_sizes, t.partition_sizes,
            "{set}: partition sizes"
        );
        assert_eq!(
            m.tombstone_histogram, t.tombstone_histogram,
            "{set}: tombstones"
        );
        if m.legacy_min_clustering != t.legacy_min_clustering
            || m.legacy_max_clustering != t.legacy_max_clustering
        {
            report.push(format!("{set}: min/max clustering differ"));
        }
        if (m.total_columns_set, m.total_rows) != (t.total_columns_set, t.total_rows) {
            report.push(format!(
                "{set}: totals {:?} vs {:?}",
                (m.total_columns_set, m.total_rows),
                (t.total_columns_set, t.total_rows)
            ));
        }
        if m.cells_per_partition != t.cells_per_partition {
            report.push(format!("{set}: cells per partition differ"));
        }
        let _ = LivenessInfo::EMPTY;
        // Whole Statistics.db: expected to differ in COMPACTION (the HyperLogLog++ cardinality
        // is written empty) and the commit-log positions (written as NONE); report the rest.
        let (a, b) = (&files["mc-1-big-Statistics.db"], &read("Statistics.db"));
        if a != b {
            let first = a.iter().zip(b.iter()).position(|(x, y)| x != y);
            report.push(format!(
                "{set}: Statistics.db {} vs {} bytes, first difference at {first:?}",
                a.len(),
                b.len()
            ));
        }
    }
    eprintln!("differences outside Data.db: {report:#?}");
}

/// The streaming writer, fed a partition at a time with its output taken in pieces, writes the
/// same bytes as the in-memory writer, compressed and not.
#[test]
fn streaming_writer_matches_write_sstable() {
    use sstable_format::sstable_writer::{file_name, write_sstable_streaming};
    use sstable_format::synth::{self, Synthetic};
    let parts: Vec<PartitionData> = Synthetic::for_stored_bytes(7, 2 << 20, (200, 400)).collect();
    assert!(parts.len() > 100);
    for compression in [Compression::None, Compression::Lz4 { chunk_length: 4096 }] {
        let mut opts = WriterOptions::nb(3);
        opts.compression = compression;
        opts.encoding_stats = Some(synth::encoding_stats());
        let whole = write_sstable(&synth::table(), &parts, &opts).unwrap();
        let mut streamed: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        let mut pieces = 0;
        let set = write_sstable_streaming(
            &synth::table(),
            parts.iter().cloned(),
            parts.len() as u64,
            &opts,
            |name, bytes| -> sstable_format::Result<()> {
                pieces += 1;
                streamed
                    .entry(name.to_string())
                    .or_default()
                    .extend_from_slice(bytes);
                Ok(())
            },
        )
        .unwrap();
        assert!(pieces > parts.len(), "{compression:?}");
        assert_eq!(set.partitions, parts.len() as u64);
        let data = &whole[&file_name(opts.version, 3, "Data.db")];
        assert_eq!(set.stored_length, data.len() as u64);
        assert_eq!(
            streamed.keys().collect::<Vec<_>>(),
            whole.keys().collect::<Vec<_>>()
        );
        for (name, bytes) in &whole {
            assert!(streamed[name] == *bytes, "{compression:?} {name}");
        }
    }
}

/// Quirk: a CRC.db with one checksum more than the slices of Data.db need, the extra one the
/// checksum of zero bytes (Cassandra's `ChecksummedSequentialWriter.flushData` appends one on
/// the final flush of an empty buffer). The project's writer makes the set; the extra
/// checksum is appended to its CRC.db as that writer does (a CRC32 `0x00000000` for `nb`).
/// The rows read are those of the clean set, and verification reports the quirk at its
/// offset; an extra checksum of any other value stays an error.
#[test]
fn crc_db_with_an_extra_empty_checksum_reads_the_same_rows_and_is_a_quirk() {
    let (table, parts) = sample();
    let expected = render_model(&table, &parts);
    let version = Version::Nb;
    let opts = WriterOptions {
        version,
        compression: Compression::None,
        ..WriterOptions::nb(3)
    };
    let mut files = write_sstable(&table, &parts, &opts).unwrap();
    let crc_name = format!("{version}-3-big-CRC.db");
    let clean_len = files[&crc_name].len() as u64;
    files
        .get_mut(&crc_name)
        .unwrap()
        .extend_from_slice(&crc32fast::hash(&[]).to_be_bytes());
    assert_eq!(render_read(&files, version, 3), expected);
    let data = &files[&format!("{version}-3-big-Data.db")];
    let crc = CrcDb::parse(&files[&crc_name]).unwrap();
    let report = verify_uncompressed(data, &crc, version).unwrap();
    assert_eq!(report.quirks.len(), 1, "{report:?}");
    assert_eq!(report.quirks[0].component, sstable_format::Component::Crc);
    assert_eq!(report.quirks[0].offset, clean_len);
    // Damage of the same length is not the quirk.
    let mut bad = files[&crc_name].clone();
    let n = bad.len();
    bad[n - 1] = 7;
    let crc = CrcDb::parse(&bad).unwrap();
    assert!(verify_uncompressed(data, &crc, version).is_err());
    assert!(UncompressedSource::new(data, Some(&crc), version, DataOffset(0), None).is_err());
}
