//! Writes the sample backup `testdata/sample/`: keyspace `shop` on three nodes, as 4.0
//! snapshots (`node{1,2,3}/data/shop/<table>-<id>/snapshots/sample/`), with overlapping
//! replicas, overwrites, deletions of every kind and TTLs. Deterministic: fixed timestamps, no
//! randomness. See `testdata/README.md`.
//!
//! Run: `cargo run --example make_testdata` (from the workspace root).
#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a generator run by hand"
)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use sstable_format::data::{BoundKind, DeletionTime};
use sstable_format::sstable_writer::{
    sort_partitions, write_sstable, CellData, ColumnDef, Compression, MarkerData, PartitionData,
    RowData, TableDef, UnfilteredData, WriterOptions,
};
use sstable_format::types::UdtDef;
use sstable_format::CqlType;

/// 2023-11-14T22:13:20Z, the base write time (µs).
const T0: i64 = 1_700_000_000_000_000;
/// The same instant in seconds.
const S0: i64 = 1_700_000_000;
/// A TTL far in the future: 10 years.
const LONG_TTL: i32 = 315_360_000;

fn ts(offset_s: i64) -> i64 {
    T0 + offset_s * 1_000_000
}

fn del(offset_s: i64) -> DeletionTime {
    DeletionTime {
        marked_for_delete_at: ts(offset_s),
        local_deletion_time: S0 + offset_s,
    }
}

fn int(v: i32) -> Vec<u8> {
    v.to_be_bytes().to_vec()
}

fn text(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

/// Cassandra's unsigned vint.
fn uvint(mut v: u64, out: &mut Vec<u8>) {
    let mut bytes = vec![];
    let size = (1..=9)
        .find(|n| *n == 9 || v < 1u64 << (7 * n))
        .unwrap_or(9);
    if size == 9 {
        out.push(0xff);
        out.extend_from_slice(&v.to_be_bytes());
        return;
    }
    for _ in 0..size {
        bytes.push((v & 0xff) as u8);
        v >>= 8;
    }
    bytes.reverse();
    if let Some(first) = bytes.first_mut() {
        *first |= !(0xffu8 >> (size - 1));
    }
    out.extend_from_slice(&bytes);
}

fn duration(months: i32, days: i32, nanos: i64) -> Vec<u8> {
    let mut out = Vec::new();
    for v in [i64::from(months), i64::from(days), nanos] {
        uvint(((v << 1) ^ (v >> 63)) as u64, &mut out);
    }
    out
}

/// A frozen collection/UDT/tuple body: int32 count (collections only) and int32-length items.
fn frozen(count: bool, items: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    if count {
        out.extend_from_slice(&(items.len() as i32).to_be_bytes());
    }
    for i in items {
        out.extend_from_slice(&(i.len() as i32).to_be_bytes());
        out.extend_from_slice(i);
    }
    out
}

/// A version-1 timeuuid at `t` (µs) with a fixed node, for list cell paths and timeuuid values.
fn timeuuid(t_us: i64, seq: u16) -> Vec<u8> {
    let t = (t_us as u64) * 10 + 0x01b2_1dd2_1381_4000;
    let mut out = Vec::with_capacity(16);
    out.extend_from_slice(&((t & 0xffff_ffff) as u32).to_be_bytes());
    out.extend_from_slice(&(((t >> 32) & 0xffff) as u16).to_be_bytes());
    out.extend_from_slice(&((((t >> 48) & 0x0fff) as u16) | 0x1000).to_be_bytes());
    out.extend_from_slice(&(0x8000 | (seq & 0x3fff)).to_be_bytes());
    out.extend_from_slice(&[0x02, 0x42, 0xac, 0x11, 0x00, 0x02]);
    out
}

fn col(name: &str, ty: CqlType) -> ColumnDef {
    ColumnDef::new(name, ty)
}

// ---------------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------------

fn products() -> TableDef {
    TableDef {
        keyspace: "shop".into(),
        name: "products".into(),
        partition_key: vec![col("id", CqlType::Int)],
        clustering: vec![col("variant", CqlType::Text)],
        statics: vec![],
        regulars: vec![
            col("ascii_v", CqlType::Ascii),
            col("bigint_v", CqlType::BigInt),
            col("blob_v", CqlType::Blob),
            col("bool_v", CqlType::Boolean),
            col("date_v", CqlType::Date),
            col("decimal_v", CqlType::Decimal),
            col("double_v", CqlType::Double),
            col("duration_v", CqlType::Duration),
            col("float_v", CqlType::Float),
            col("inet_v", CqlType::Inet),
            col("int_v", CqlType::Int),
            col("smallint_v", CqlType::SmallInt),
            col("text_v", CqlType::Text),
            col("time_v", CqlType::Time),
            col("timestamp_v", CqlType::Timestamp),
            col("timeuuid_v", CqlType::TimeUuid),
            col("tinyint_v", CqlType::TinyInt),
            col("uuid_v", CqlType::Uuid),
            col("varint_v", CqlType::Varint),
        ],
    }
}

const PRODUCTS_CQL: &str = "    id int,
    variant text,
    ascii_v ascii,
    bigint_v bigint,
    blob_v blob,
    bool_v boolean,
    date_v date,
    decimal_v decimal,
    double_v double,
    duration_v duration,
    float_v float,
    inet_v inet,
    int_v int,
    smallint_v smallint,
    text_v text,
    time_v time,
    timestamp_v timestamp,
    timeuuid_v timeuuid,
    tinyint_v tinyint,
    uuid_v uuid,
    varint_v varint,
    PRIMARY KEY (id, variant)";

/// One product row with every column set, written at `at` seconds after T0.
fn product_row(id: i32, variant: &str, at: i64, ttl: Option<i32>) -> RowData {
    let t = ts(at);
    let values: Vec<(&str, Vec<u8>)> = vec![
        ("ascii_v", text(&format!("sku-{id}-{variant}"))),
        (
            "bigint_v",
            (i64::from(id) * 1_000_000_007).to_be_bytes().to_vec(),
        ),
        ("blob_v", vec![0xca, 0xfe, id as u8]),
        ("bool_v", vec![u8::from(id % 2 == 0)]),
        // 2023-11-14 = day 19675 since the epoch, stored + 2^31.
        (
            "date_v",
            (19_675u32 + (1 << 31) + id as u32).to_be_bytes().to_vec(),
        ),
        // 12.50 * id: scale 2, unscaled 1250 * id.
        (
            "decimal_v",
            [int(2), (1250 * id).to_be_bytes().to_vec()].concat(),
        ),
        ("double_v", (f64::from(id) * 1.5).to_be_bytes().to_vec()),
        ("duration_v", duration(1, id, 3_600_000_000_000)),
        ("float_v", (id as f32 + 0.25).to_be_bytes().to_vec()),
        ("inet_v", vec![10, 0, 0, id as u8]),
        ("int_v", int(id * 10)),
        ("smallint_v", (id as i16 * -3).to_be_bytes().to_vec()),
        (
            "text_v",
            text(&format!("Product {id} ({variant}) – ünïcödé")),
        ),
        // 12:34:56.789 in nanoseconds.
        ("time_v", 45_296_789_000_000i64.to_be_bytes().to_vec()),
        (
            "timestamp_v",
            (S0 * 1000 + i64::from(id)).to_be_bytes().to_vec(),
        ),
        ("timeuuid_v", timeuuid(T0, id as u16)),
        ("tinyint_v", vec![(id as i8).wrapping_neg() as u8]),
        (
            "uuid_v",
            [
                &[0x55, 0x0e, 0x84, 0x00, 0xe2, 0x9b, 0x41, 0xd4, 0xa7, 0x16][..],
                &[0, 0, 0, 0, 0, id as u8],
            ]
            .concat(),
        ),
        ("varint_v", vec![0x01, 0x00, id as u8]),
    ];
    let ttl = ttl.map(|t| (t, S0 + at + i64::from(t)));
    let cells = values
        .into_iter()
        .map(|(c, v)| match ttl {
            Some((ttl, exp)) => CellData::expiring(c, t, ttl, exp, v),
            None => CellData::live(c, t, v),
        })
        .collect();
    RowData::inserted(vec![text(variant)], t, ttl, cells)
}

fn address(frozen: bool) -> CqlType {
    CqlType::Udt(Box::new(UdtDef {
        keyspace: "shop".into(),
        name: "address".into(),
        fields: vec![
            ("street".into(), CqlType::Text),
            ("city".into(), CqlType::Text),
            ("zip".into(), CqlType::Int),
        ],
        frozen,
    }))
}

fn orders() -> TableDef {
    TableDef {
        keyspace: "shop".into(),
        name: "orders".into(),
        partition_key: vec![col("customer", CqlType::Text)],
        clustering: vec![col("order_id", CqlType::Reversed(Box::new(CqlType::Int)))],
        statics: vec![col("customer_name", CqlType::Text)],
        regulars: vec![
            col("status", CqlType::Text),
            col(
                "tags",
                CqlType::Set {
                    element: Box::new(CqlType::Text),
                    frozen: false,
                },
            ),
            col(
                "items",
                CqlType::Map {
                    key: Box::new(CqlType::Text),
                    value: Box::new(CqlType::Int),
                    frozen: false,
                },
            ),
            col(
                "notes",
                CqlType::List {
                    element: Box::new(CqlType::Text),
                    frozen: false,
                },
            ),
            col("ship_to", address(false)),
            col("bill_to", address(true)),
            col("dims", CqlType::Tuple(vec![CqlType::Int, CqlType::Int])),
            col(
                "labels",
                CqlType::Set {
                    element: Box::new(CqlType::Text),
                    frozen: true,
                },
            ),
        ],
    }
}

const ORDERS_CQL: &str = "    customer text,
    order_id int,
    bill_to frozen<address>,
    customer_name text static,
    dims frozen<tuple<int, int>>,
    items map<text, int>,
    labels frozen<set<text>>,
    notes list<text>,
    ship_to address,
    status text,
    tags set<text>,
    PRIMARY KEY (customer, order_id)";

/// An order row as an INSERT writes it (collections replaced: a complex deletion at t-1).
fn order_row(order_id: i32, at: i64, status: &str) -> RowData {
    let t = ts(at);
    let replaced = DeletionTime {
        marked_for_delete_at: t - 1,
        local_deletion_time: S0 + at,
    };
    let mut r = RowData::inserted(
        vec![int(order_id)],
        t,
        None,
        vec![
            CellData::live("status", t, text(status)),
            CellData::live("tags", t, vec![]).with_path(text("gift")),
            CellData::live("tags", t, vec![]).with_path(text("priority")),
            CellData::live("items", t, int(2)).with_path(text("apple")),
            CellData::live("items", t, int(order_id)).with_path(text("pear")),
            CellData::live("notes", t, text("leave at door")).with_path(timeuuid(t, 1)),
            CellData::live("notes", t, text("ring twice")).with_path(timeuuid(t, 2)),
            CellData::live("ship_to", t, text("1 Main St")).with_path(vec![0, 0]),
            CellData::live("ship_to", t, text("Springfield")).with_path(vec![0, 1]),
            CellData::live("ship_to", t, int(12345)).with_path(vec![0, 2]),
            CellData::live(
                "bill_to",
                t,
                frozen(false, &[text("9 Elm Rd"), text("Shelbyville"), int(54321)]),
            ),
            CellData::live("dims", t, frozen(false, &[int(order_id), int(7)])),
            CellData::live("labels", t, frozen(true, &[text("a"), text("b")])),
        ],
    );
    for c in ["tags", "items", "notes", "ship_to"] {
        r.complex_deletions.push((c.into(), replaced));
    }
    r
}

fn page_views() -> TableDef {
    TableDef {
        keyspace: "shop".into(),
        name: "page_views".into(),
        partition_key: vec![col("page", CqlType::Text)],
        clustering: vec![],
        statics: vec![],
        regulars: vec![col("views", CqlType::Counter)],
    }
}

/// A counter context with one global shard per node (counter id = node number).
fn counter(shards: &[(u8, i64, i64)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(shards.len() as i16).to_be_bytes());
    for i in 0..shards.len() {
        out.extend_from_slice(&(i16::MIN + i as i16).to_be_bytes());
    }
    for (node, clock, count) in shards {
        let mut id = [0u8; 16];
        id[15] = *node;
        out.extend_from_slice(&id);
        out.extend_from_slice(&clock.to_be_bytes());
        out.extend_from_slice(&count.to_be_bytes());
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The backup
// ---------------------------------------------------------------------------------------------

struct Table {
    def: TableDef,
    id: &'static str,
    cql: String,
}

fn schema_cql(t: &TableDef, id: &str, columns: &str, clustering: &str, with_type: bool) -> String {
    let mut s = String::new();
    if with_type {
        s.push_str(
            "CREATE TYPE IF NOT EXISTS shop.address (\n    street text,\n    city text,\n    zip int\n);\n",
        );
    }
    let uuid = format!(
        "{}-{}-{}-{}-{}",
        &id[..8],
        &id[8..12],
        &id[12..16],
        &id[16..20],
        &id[20..]
    );
    s.push_str(&format!(
        "CREATE TABLE IF NOT EXISTS shop.{} (\n{columns}\n) WITH ID = {uuid}\n",
        t.name
    ));
    if !clustering.is_empty() {
        s.push_str(&format!("    AND CLUSTERING ORDER BY ({clustering})\n"));
    }
    s.push_str(
        "    AND additional_write_policy = '99p'
    AND bloom_filter_fp_chance = 0.01
    AND caching = {'keys': 'ALL', 'rows_per_partition': 'NONE'}
    AND cdc = false
    AND comment = ''
    AND compaction = {'class': 'org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy', 'max_threshold': '32', 'min_threshold': '4'}
    AND compression = {'chunk_length_in_kb': '16', 'class': 'org.apache.cassandra.io.compress.LZ4Compressor'}
    AND crc_check_chance = 1.0
    AND default_time_to_live = 0
    AND extensions = {}
    AND gc_grace_seconds = 864000
    AND max_index_interval = 2048
    AND memtable_flush_period_in_ms = 0
    AND min_index_interval = 128
    AND read_repair = 'BLOCKING'
    AND speculative_retry = '99p';\n",
    );
    s
}

/// (node, table, generation, compression, partitions).
type Flush = (u8, &'static str, u64, Compression, Vec<PartitionData>);

fn flushes() -> Vec<Flush> {
    let lz4 = Compression::Lz4 {
        chunk_length: 16 * 1024,
    };
    let mut out: Vec<Flush> = Vec::new();
    let key = |i: i32| int(i);

    // products: ids 1..4 on every node (generation 1).
    for node in 1..=3u8 {
        let mut parts = Vec::new();
        for id in 1..=4 {
            let mut p = PartitionData::new(key(id));
            for v in ["blue", "red"] {
                p.unfiltereds
                    .push(UnfilteredData::Row(product_row(id, v, 0, None)));
            }
            parts.push(p);
        }
        let compression = if node == 2 { Compression::None } else { lz4 };
        out.push((node, "products", 1, compression, parts));
    }
    // node1 gen 2: cell deletion (DELETE int_v FROM products WHERE id=4 AND variant='red'),
    // an expired TTL row (id 5) and a live TTL row (id 6).
    let mut p4 = PartitionData::new(key(4));
    let mut r = RowData::new(vec![text("red")]);
    r.cells
        .push(CellData::tombstone("int_v", ts(300), S0 + 300));
    p4.unfiltereds.push(UnfilteredData::Row(r));
    let mut p5 = PartitionData::new(key(5));
    p5.unfiltereds.push(UnfilteredData::Row(product_row(
        5,
        "green",
        100,
        Some(3600),
    )));
    let mut p6 = PartitionData::new(key(6));
    p6.unfiltereds.push(UnfilteredData::Row(product_row(
        6,
        "green",
        100,
        Some(LONG_TTL),
    )));
    out.push((1, "products", 2, lz4, vec![p4, p5, p6]));
    // node2 gen 2: overwrite (UPDATE products SET text_v = 'Renamed', int_v = 999 WHERE id=2
    // AND variant='blue') with a newer timestamp.
    let mut p2 = PartitionData::new(key(2));
    let mut r = RowData::new(vec![text("blue")]);
    r.cells
        .push(CellData::live("text_v", ts(200), text("Renamed")));
    r.cells.push(CellData::live("int_v", ts(200), int(999)));
    p2.unfiltereds.push(UnfilteredData::Row(r));
    out.push((2, "products", 2, Compression::None, vec![p2]));
    // node3 gen 2: row deletion (DELETE FROM products WHERE id=3 AND variant='blue').
    let mut p3 = PartitionData::new(key(3));
    let mut r = RowData::new(vec![text("blue")]);
    r.deletion = del(250);
    p3.unfiltereds.push(UnfilteredData::Row(r));
    out.push((3, "products", 2, lz4, vec![p3]));

    // orders: alice (orders 1..4) on nodes 1 and 2, bob (orders 1..2) on nodes 2 and 3.
    let customer = |name: &str, full: &str, ids: &[i32], at: i64| {
        let mut p = PartitionData::new(text(name));
        let mut s = RowData::new(vec![]);
        s.cells
            .push(CellData::live("customer_name", ts(at), text(full)));
        p.static_row = Some(s);
        for id in ids {
            p.unfiltereds
                .push(UnfilteredData::Row(order_row(*id, at, "shipped")));
        }
        p
    };
    out.push((
        1,
        "orders",
        1,
        lz4,
        vec![customer("alice", "Alice A.", &[1, 2, 3, 4], 10)],
    ));
    out.push((
        2,
        "orders",
        1,
        lz4,
        vec![
            customer("alice", "Alice A.", &[1, 2, 3, 4], 10),
            customer("bob", "Bob B.", &[1, 2], 20),
        ],
    ));
    out.push((
        3,
        "orders",
        1,
        lz4,
        vec![customer("bob", "Bob B.", &[1, 2], 20)],
    ));
    // node1 gen 2: range deletion (DELETE FROM orders WHERE customer='alice' AND order_id >= 2
    // AND order_id <= 3), an element removal from alice's order 4 tags and a status update.
    let mut pa = PartitionData::new(text("alice"));
    let mut r = RowData::new(vec![int(4)]);
    r.cells
        .push(CellData::tombstone("tags", ts(400), S0 + 400).with_path(text("gift")));
    r.cells
        .push(CellData::live("status", ts(400), text("delivered")));
    pa.unfiltereds.push(UnfilteredData::Row(r));
    // order_id is DESC: the range [2, 3] starts at 3.
    pa.unfiltereds.push(UnfilteredData::Marker(MarkerData {
        kind: BoundKind::InclStartBound,
        values: vec![Some(int(3))],
        close: None,
        open: Some(del(500)),
    }));
    pa.unfiltereds.push(UnfilteredData::Marker(MarkerData {
        kind: BoundKind::InclEndBound,
        values: vec![Some(int(2))],
        close: Some(del(500)),
        open: None,
    }));
    out.push((1, "orders", 2, lz4, vec![pa]));
    // node3 gen 2: partition deletion (DELETE FROM orders WHERE customer='bob'), then carol.
    let mut pb = PartitionData::new(text("bob"));
    pb.deletion = del(600);
    let carol = customer("carol", "Carol C.", &[7], 700);
    out.push((3, "orders", 2, lz4, vec![pb, carol]));

    // page_views: counters; every replica has the same shards (after repair) except node3,
    // which missed node2's last increment (smaller clock for that shard).
    let views = |shards: &[(u8, i64, i64)], page: &str, at: i64| {
        let mut p = PartitionData::new(text(page));
        let mut r = RowData::new(vec![]);
        r.cells
            .push(CellData::live("views", ts(at), counter(shards)));
        p.unfiltereds.push(UnfilteredData::Row(r));
        p
    };
    for node in 1..=3u8 {
        let home: &[(u8, i64, i64)] = if node == 3 {
            &[(1, 3, 10), (2, 1, 4)]
        } else {
            &[(1, 3, 10), (2, 2, 5)]
        };
        out.push((
            node,
            "page_views",
            1,
            lz4,
            vec![views(home, "/home", 50), views(&[(3, 1, 7)], "/cart", 60)],
        ));
    }
    out
}

fn main() {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/sample"));
    // Keep expected.jsonl (written by hand); replace the node directories.
    for node in 1..=3 {
        let dir = root.join(format!("node{node}"));
        if dir.exists() {
            fs::remove_dir_all(&dir).expect("remove old node directory");
        }
    }
    let tables: BTreeMap<&str, Table> = [
        (
            "products",
            Table {
                def: products(),
                id: "5a1c0f00a1b211eeb9620242ac120002",
                cql: schema_cql(
                    &products(),
                    "5a1c0f00a1b211eeb9620242ac120002",
                    PRODUCTS_CQL,
                    "variant ASC",
                    false,
                ),
            },
        ),
        (
            "orders",
            Table {
                def: orders(),
                id: "6b2d1f10a1b211eeb9620242ac120002",
                cql: schema_cql(
                    &orders(),
                    "6b2d1f10a1b211eeb9620242ac120002",
                    ORDERS_CQL,
                    "order_id DESC",
                    true,
                ),
            },
        ),
        (
            "page_views",
            Table {
                def: page_views(),
                id: "7c3e2f20a1b211eeb9620242ac120002",
                cql: schema_cql(
                    &page_views(),
                    "7c3e2f20a1b211eeb9620242ac120002",
                    "    page text PRIMARY KEY,\n    views counter",
                    "",
                    false,
                ),
            },
        ),
    ]
    .into_iter()
    .collect();
    let mut manifests: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    for (node, table, generation, compression, mut parts) in flushes() {
        let t = &tables[table];
        sort_partitions(&t.def, &mut parts);
        let mut host = [0u8; 16];
        host[15] = node;
        let options = WriterOptions {
            compression,
            originating_host_id: Some(host),
            only_used_columns: true,
            ..WriterOptions::nb(generation)
        };
        let files = write_sstable(&t.def, &parts, &options).expect("write sstable");
        let dir = snapshot_dir(&root, node, table, t.id);
        fs::create_dir_all(&dir).expect("create snapshot dir");
        for (name, bytes) in &files {
            fs::write(dir.join(name), bytes).expect("write component");
        }
        manifests
            .entry(dir)
            .or_default()
            .push(format!("nb-{generation}-big-Data.db"));
    }
    for (dir, files) in &manifests {
        let manifest = serde_json::json!({ "files": files });
        fs::write(dir.join("manifest.json"), format!("{manifest}\n")).expect("manifest");
        let table = dir
            .parent()
            .and_then(Path::parent)
            .and_then(Path::file_name)
            .and_then(|n| n.to_str())
            .and_then(|n| n.split('-').next())
            .expect("table dir");
        fs::write(dir.join("schema.cql"), &tables[table].cql).expect("schema.cql");
    }
    eprintln!("wrote {}", root.display());
}

fn snapshot_dir(root: &Path, node: u8, table: &str, id: &str) -> PathBuf {
    root.join(format!(
        "node{node}/data/shop/{table}-{id}/snapshots/sample"
    ))
}
