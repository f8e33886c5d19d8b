//! Writes the inputs of `scripts/bench-lake.sh` (issue 13) with the project's own SSTable
//! writer ([`sstable_format::sstable_writer`]), streaming each set so that memory stays bounded
//! by one partition. Deterministic: the same arguments give the same bytes.
//!
//! Run: `cargo run --release --example bench_gen -- OUT VARIANT`, VARIANT one of
//!
//! - `events-plain`: `bench.events (user_id text, event_time timestamp, event_type text, page
//!   text, amount double, session_id bigint, PRIMARY KEY (user_id, event_time))`, 50,000
//!   partitions of 20 rows (1,000,000 rows) in three uncompressed `nb` SSTables with disjoint
//!   partitions (partition `p` in SSTable `p % 3`);
//! - `events-lz4`: the same rows, LZ4 with 64 KiB chunks;
//! - `events-replicas`: the same rows on three nodes (`node1..3`, one LZ4 64 KiB SSTable each),
//!   every partition on every node; a third of the cells has a newer version on one node (the
//!   other two versions are superseded), 1% of the rows are deleted on one node (row
//!   tombstone) and every 50th partition has a range tombstone over 4 rows on one node;
//! - `events-plain-x4`: like `events-plain` with 4 times the partitions (peak memory must not
//!   grow with the input);
//! - `wide`: `bench.wide`, every CQL type of a regular column (collections, a frozen and a
//!   non-frozen UDT, a tuple) plus a static column, 10,000 partitions of 20 rows (200,000 rows),
//!   one LZ4 16 KiB SSTable (Cassandra's default compression).
//!
//! Each table directory gets a `schema.cql`, so the export names columns as the table does.
#![allow(
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a generator run by the benchmark script"
)]

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use sstable_format::data::{BoundKind, DeletionTime};
use sstable_format::sstable_writer::{
    partition_order, write_sstable_streaming, CellData, ColumnDef, Compression, MarkerData,
    PartitionData, RowData, TableDef, UnfilteredData, WriterOptions,
};
use sstable_format::statistics::{EncodingStats, DELETION_TIME_EPOCH};
use sstable_format::types::UdtDef;
use sstable_format::CqlType;

/// Write timestamp base (µs): 2023-11-14T22:13:20Z.
const T0: i64 = 1_700_000_000_000_000;
/// `event_time` base (ms).
const EVENT_T0: i64 = 1_700_000_000_000;
const EVENTS_ID: &str = "0b5e7c10a1b211eeb9620242ac120002";
const WIDE_ID: &str = "1c6f8d20a1b211eeb9620242ac120002";

/// SplitMix64's finalizer.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A deterministic hash of a few numbers.
fn h(parts: &[u64]) -> u64 {
    parts.iter().fold(0x1234_5678, |acc, p| mix(acc ^ p))
}

const EVENT_TYPES: [&str; 8] = [
    "page_view",
    "click",
    "add_to_cart",
    "purchase",
    "login",
    "logout",
    "search",
    "scroll",
];

const PAGES: [&str; 12] = [
    "/",
    "/home",
    "/search",
    "/cart",
    "/checkout",
    "/account",
    "/product/",
    "/category/shoes",
    "/category/books",
    "/category/garden",
    "/help/shipping",
    "/blog/",
];

fn col(name: &str, ty: CqlType) -> ColumnDef {
    ColumnDef::new(name, ty)
}

fn events_table() -> TableDef {
    TableDef {
        keyspace: "bench".into(),
        name: "events".into(),
        partition_key: vec![col("user_id", CqlType::Text)],
        clustering: vec![col("event_time", CqlType::Timestamp)],
        statics: vec![],
        regulars: vec![
            col("event_type", CqlType::Text),
            col("page", CqlType::Text),
            col("amount", CqlType::Double),
            col("session_id", CqlType::BigInt),
        ],
    }
}

const EVENTS_CQL: &str = "CREATE TABLE IF NOT EXISTS bench.events (
    user_id text,
    event_time timestamp,
    event_type text,
    page text,
    amount double,
    session_id bigint,
    PRIMARY KEY (user_id, event_time)
) WITH ID = 0b5e7c10-a1b2-11ee-b962-0242ac120002
    AND CLUSTERING ORDER BY (event_time ASC);
";

fn user_key(p: u64) -> Vec<u8> {
    format!("user-{p:07}").into_bytes()
}

/// Partition numbers `0..n` in SSTable order (token, then key bytes).
fn order(n: u64, key: fn(u64) -> Vec<u8>) -> Vec<u64> {
    let mut keyed: Vec<(Vec<u8>, u64)> = (0..n).map(|p| (key(p), p)).collect();
    keyed.sort_by(|a, b| partition_order(&a.0, &b.0));
    keyed.into_iter().map(|(_, p)| p).collect()
}

fn event_time(p: u64, i: u64) -> i64 {
    EVENT_T0 + (p as i64) * 1_000 + (i as i64) * 60_000
}

/// The four regular cells of row `i` of partition `p` as version `v` (0 = the first write,
/// 1 = the later overwrite of the replicas variant) writes them.
fn event_values(p: u64, i: u64, v: u64) -> [Vec<u8>; 4] {
    let r = h(&[p, i, v]);
    let kind = EVENT_TYPES[(r % 8) as usize];
    let page = PAGES[((r >> 8) % 12) as usize];
    let page = if page.ends_with('/') && page.len() > 1 {
        format!("{page}{}", (r >> 16) % 5000)
    } else {
        page.to_string()
    };
    let amount = ((r >> 32) % 100_000) as f64 / 100.0;
    let session = h(&[p, i / 5]) as i64;
    [
        kind.as_bytes().to_vec(),
        page.into_bytes(),
        amount.to_be_bytes().to_vec(),
        session.to_be_bytes().to_vec(),
    ]
}

const EVENT_COLUMNS: [&str; 4] = ["event_type", "page", "amount", "session_id"];

fn write_ts(p: u64, i: u64) -> i64 {
    T0 + (p as i64) * 100 + i as i64
}

fn del(ts: i64) -> DeletionTime {
    DeletionTime {
        marked_for_delete_at: ts,
        local_deletion_time: ts / 1_000_000,
    }
}

/// Partition `p` of the events table. `node`: `None` for the single copy of the disjoint
/// variants, `Some(n)` for replica `n` (0..3) of the replicas variant.
fn events_partition(p: u64, node: Option<u64>) -> PartitionData {
    let mut part = PartitionData::new(user_key(p));
    // The replicas variant: every 50th partition has a range tombstone over rows 5..=8 on one
    // node, newer than every write of those rows.
    let range_node = (p.is_multiple_of(50)).then_some((p / 50) % 3);
    let range_on_this = node.is_some() && node == range_node;
    for i in 0..20u64 {
        let ts = write_ts(p, i);
        let clustering = vec![event_time(p, i).to_be_bytes().to_vec()];
        if range_on_this && i == 5 {
            part.unfiltereds.push(UnfilteredData::Marker(MarkerData {
                kind: BoundKind::InclStartBound,
                values: vec![Some(clustering[0].clone())],
                close: None,
                open: Some(del(T0 + 1_000_000_000)),
            }));
        }
        let Some(n) = node else {
            let cells = EVENT_COLUMNS
                .iter()
                .zip(event_values(p, i, 0))
                .map(|(c, v)| CellData::live(c, ts, v))
                .collect();
            part.unfiltereds.push(UnfilteredData::Row(RowData::inserted(
                clustering, ts, None, cells,
            )));
            continue;
        };
        let row_hash = h(&[p, i, 77]);
        if row_hash.is_multiple_of(100) && (row_hash / 100) % 3 == n {
            // This node saw a later DELETE of the row.
            let mut r = RowData::new(clustering.clone());
            r.deletion = del(ts + 2_000);
            part.unfiltereds.push(UnfilteredData::Row(r));
        } else {
            let old = event_values(p, i, 0);
            let new = event_values(p, i, 1);
            let cells = EVENT_COLUMNS
                .iter()
                .enumerate()
                .zip(old.into_iter().zip(new))
                .map(|((c, name), (old, new))| {
                    let ch = h(&[p, i, c as u64, 99]);
                    // A third of the cells were overwritten later, on one node only.
                    if ch.is_multiple_of(3) && (ch / 3) % 3 == n {
                        CellData::live(name, ts + 1_000, new)
                    } else {
                        CellData::live(name, ts, old)
                    }
                })
                .collect();
            part.unfiltereds.push(UnfilteredData::Row(RowData::inserted(
                clustering.clone(),
                ts,
                None,
                cells,
            )));
        }
        if range_on_this && i == 8 {
            part.unfiltereds.push(UnfilteredData::Marker(MarkerData {
                kind: BoundKind::InclEndBound,
                values: vec![Some(clustering[0].clone())],
                close: Some(del(T0 + 1_000_000_000)),
                open: None,
            }));
        }
    }
    part
}

fn address(frozen: bool) -> CqlType {
    CqlType::Udt(Box::new(UdtDef {
        keyspace: "bench".into(),
        name: "address".into(),
        fields: vec![
            ("street".into(), CqlType::Text),
            ("city".into(), CqlType::Text),
            ("zip".into(), CqlType::Int),
        ],
        frozen,
    }))
}

fn wide_table() -> TableDef {
    let simple = [
        ("ascii_v", CqlType::Ascii),
        ("bigint_v", CqlType::BigInt),
        ("blob_v", CqlType::Blob),
        ("bool_v", CqlType::Boolean),
        ("date_v", CqlType::Date),
        ("decimal_v", CqlType::Decimal),
        ("double_v", CqlType::Double),
        ("duration_v", CqlType::Duration),
        ("float_v", CqlType::Float),
        ("inet_v", CqlType::Inet),
        ("int_v", CqlType::Int),
        ("smallint_v", CqlType::SmallInt),
        ("text_v", CqlType::Text),
        ("time_v", CqlType::Time),
        ("timestamp_v", CqlType::Timestamp),
        ("timeuuid_v", CqlType::TimeUuid),
        ("tinyint_v", CqlType::TinyInt),
        ("uuid_v", CqlType::Uuid),
        ("varint_v", CqlType::Varint),
    ];
    let mut regulars: Vec<ColumnDef> = simple.into_iter().map(|(n, t)| col(n, t)).collect();
    regulars.extend([
        col(
            "list_v",
            CqlType::List {
                element: Box::new(CqlType::Int),
                frozen: false,
            },
        ),
        col(
            "set_v",
            CqlType::Set {
                element: Box::new(CqlType::Text),
                frozen: false,
            },
        ),
        col(
            "map_v",
            CqlType::Map {
                key: Box::new(CqlType::Text),
                value: Box::new(CqlType::BigInt),
                frozen: false,
            },
        ),
        col("addr_v", address(false)),
        col("faddr_v", address(true)),
        col("tuple_v", CqlType::Tuple(vec![CqlType::Int, CqlType::Text])),
        col(
            "flist_v",
            CqlType::List {
                element: Box::new(CqlType::Text),
                frozen: true,
            },
        ),
    ]);
    TableDef {
        keyspace: "bench".into(),
        name: "wide".into(),
        partition_key: vec![col("id", CqlType::Int)],
        clustering: vec![col("seq", CqlType::Int)],
        statics: vec![col("owner", CqlType::Text)],
        regulars,
    }
}

const WIDE_CQL: &str = "CREATE TYPE IF NOT EXISTS bench.address (
    street text,
    city text,
    zip int
);
CREATE TABLE IF NOT EXISTS bench.wide (
    id int,
    seq int,
    owner text static,
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
    list_v list<int>,
    set_v set<text>,
    map_v map<text, bigint>,
    addr_v address,
    faddr_v frozen<address>,
    tuple_v frozen<tuple<int, text>>,
    flist_v frozen<list<text>>,
    PRIMARY KEY (id, seq)
) WITH ID = 1c6f8d20-a1b2-11ee-b962-0242ac120002
    AND CLUSTERING ORDER BY (seq ASC);
";

fn wide_key(p: u64) -> Vec<u8> {
    (p as i32).to_be_bytes().to_vec()
}

/// Cassandra's unsigned vint.
fn uvint(v: u64, out: &mut Vec<u8>) {
    let size = (1..=9)
        .find(|n| *n == 9 || v < 1u64 << (7 * n))
        .unwrap_or(9);
    if size == 9 {
        out.push(0xff);
        out.extend_from_slice(&v.to_be_bytes());
        return;
    }
    let mut bytes: Vec<u8> = (0..size).map(|k| (v >> (8 * k)) as u8).collect();
    bytes.reverse();
    bytes[0] |= !(0xffu8 >> (size - 1));
    out.extend_from_slice(&bytes);
}

/// Items with int32 lengths, preceded by an int32 count for collections.
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

/// A version-1 timeuuid at `t_us` with a fixed node.
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

const CITIES: [&str; 6] = ["Lyon", "Porto", "Oslo", "Quito", "Hanoi", "Perth"];

fn wide_partition(p: u64) -> PartitionData {
    let mut part = PartitionData::new(wide_key(p));
    let ts0 = T0 + (p as i64) * 100;
    let mut st = RowData::new(vec![]);
    st.cells.push(CellData::live(
        "owner",
        ts0,
        format!("owner {p}").into_bytes(),
    ));
    part.static_row = Some(st);
    for i in 0..20u64 {
        let r = h(&[p, i]);
        let ts = ts0 + i as i64;
        let text = |s: &str| s.as_bytes().to_vec();
        let word = CITIES[(r % 6) as usize];
        let mut dur = Vec::new();
        for v in [
            (r % 12) as i64,
            (r % 28) as i64,
            ((r % 86_400) * 1_000_000_000) as i64,
        ] {
            uvint(((v << 1) ^ (v >> 63)) as u64, &mut dur);
        }
        let mut cells = vec![
            CellData::live("ascii_v", ts, text(&format!("code-{}", r % 1000))),
            CellData::live("bigint_v", ts, (r as i64).to_be_bytes()),
            CellData::live(
                "blob_v",
                ts,
                r.to_be_bytes()[..(r % 8 + 1) as usize].to_vec(),
            ),
            CellData::live("bool_v", ts, [u8::from(r.is_multiple_of(2))]),
            CellData::live(
                "date_v",
                ts,
                (19_000u32 + (1 << 31) + (r % 1000) as u32).to_be_bytes(),
            ),
            CellData::live(
                "decimal_v",
                ts,
                [
                    2i32.to_be_bytes().to_vec(),
                    ((r % 1_000_000) as i32).to_be_bytes().to_vec(),
                ]
                .concat(),
            ),
            CellData::live("double_v", ts, ((r % 100_000) as f64 / 7.0).to_be_bytes()),
            CellData::live("duration_v", ts, dur),
            CellData::live("float_v", ts, ((r % 1000) as f32 / 3.0).to_be_bytes()),
            CellData::live("inet_v", ts, [10, (r >> 8) as u8, (r >> 16) as u8, r as u8]),
            CellData::live("int_v", ts, (r as i32).to_be_bytes()),
            CellData::live("smallint_v", ts, (r as i16).to_be_bytes()),
            CellData::live(
                "text_v",
                ts,
                text(&format!("{word} row {i} of partition {p}")),
            ),
            CellData::live(
                "time_v",
                ts,
                (((r % 86_400) * 1_000_000_000) as i64).to_be_bytes(),
            ),
            CellData::live(
                "timestamp_v",
                ts,
                (EVENT_T0 + (r % 1_000_000_000) as i64).to_be_bytes(),
            ),
            CellData::live("timeuuid_v", ts, timeuuid(ts, i as u16)),
            CellData::live("tinyint_v", ts, [r as u8]),
            CellData::live(
                "uuid_v",
                ts,
                h(&[p, i, 1])
                    .to_be_bytes()
                    .iter()
                    .chain(&r.to_be_bytes())
                    .copied()
                    .collect::<Vec<u8>>(),
            ),
            CellData::live("varint_v", ts, {
                let v = (r % 100_000_000) as i64 - 50_000_000;
                let b = v.to_be_bytes();
                // The minimal two's-complement bytes.
                let skip = (0..7)
                    .take_while(|&k| {
                        (b[k] == 0 && b[k + 1] & 0x80 == 0)
                            || (b[k] == 0xff && b[k + 1] & 0x80 != 0)
                    })
                    .count();
                b[skip..].to_vec()
            }),
        ];
        for k in 0..(r % 4) {
            cells.push(
                CellData::live("list_v", ts, ((r + k) as i32).to_be_bytes())
                    .with_path(timeuuid(ts, k as u16)),
            );
        }
        let mut tags: Vec<&str> = CITIES
            .iter()
            .enumerate()
            .filter(|(k, _)| h(&[r, *k as u64]).is_multiple_of(3))
            .map(|(_, c)| *c)
            .collect();
        tags.sort_unstable();
        for t in tags {
            cells.push(CellData::live("set_v", ts, vec![]).with_path(text(t)));
        }
        let mut keys: Vec<String> = (0..(r % 3)).map(|k| format!("k{k}")).collect();
        keys.sort();
        for (k, key) in keys.iter().enumerate() {
            cells.push(
                CellData::live("map_v", ts, (r as i64 + k as i64).to_be_bytes())
                    .with_path(text(key)),
            );
        }
        cells.extend([
            CellData::live("addr_v", ts, text(&format!("{} Main St", r % 200)))
                .with_path(vec![0, 0]),
            CellData::live("addr_v", ts, text(word)).with_path(vec![0, 1]),
            CellData::live("addr_v", ts, ((r % 99_999) as i32).to_be_bytes()).with_path(vec![0, 2]),
            CellData::live(
                "faddr_v",
                ts,
                frozen(
                    false,
                    &[
                        text("9 Elm Rd"),
                        text(word),
                        ((r % 1000) as i32).to_be_bytes().to_vec(),
                    ],
                ),
            ),
            CellData::live(
                "tuple_v",
                ts,
                frozen(false, &[(i as i32).to_be_bytes().to_vec(), text(word)]),
            ),
            CellData::live("flist_v", ts, frozen(true, &[text("a"), text(word)])),
        ]);
        part.unfiltereds.push(UnfilteredData::Row(RowData::inserted(
            vec![(i as i32).to_be_bytes().to_vec()],
            ts,
            None,
            cells,
        )));
    }
    part
}

fn stats() -> EncodingStats {
    EncodingStats {
        min_timestamp: T0,
        min_local_deletion_time: i64::from(DELETION_TIME_EPOCH),
        min_ttl: 0,
    }
}

/// Writes one set of `table` into `dir` from `partitions`.
fn write_set(
    dir: &Path,
    table: &TableDef,
    partitions: impl Iterator<Item = PartitionData>,
    expected: u64,
    generation: u64,
    compression: Compression,
) -> u64 {
    fs::create_dir_all(dir).expect("create the table directory");
    let options = WriterOptions {
        compression,
        encoding_stats: Some(stats()),
        ..WriterOptions::nb(generation)
    };
    let mut files: BTreeMap<String, BufWriter<File>> = BTreeMap::new();
    let set = write_sstable_streaming(
        table,
        partitions,
        expected,
        &options,
        |name, bytes| -> Result<(), Box<dyn std::error::Error>> {
            let file = match files.entry(name.to_string()) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(e) => e.insert(
                    BufWriter::with_capacity(1 << 20, File::create(dir.join(name))?),
                ),
            };
            Ok(file.write_all(bytes)?)
        },
    )
    .expect("write the set");
    for (_, mut f) in files {
        f.flush().expect("flush");
    }
    set.stored_length
}

fn table_dir(root: &Path, table: &str, id: &str) -> PathBuf {
    root.join("data")
        .join("bench")
        .join(format!("{table}-{id}"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(out), Some(variant)) = (args.first(), args.get(1)) else {
        eprintln!(
            "usage: bench_gen OUT events-plain|events-lz4|events-replicas|events-plain-x4|wide"
        );
        return ExitCode::from(2);
    };
    let root = PathBuf::from(out).join(variant);
    if root.exists() {
        fs::remove_dir_all(&root).expect("remove the old variant");
    }
    let lz4_64k = Compression::Lz4 {
        chunk_length: 64 * 1024,
    };
    let mut stored = 0;
    match variant.as_str() {
        "events-plain" | "events-lz4" | "events-plain-x4" => {
            let n = if variant == "events-plain-x4" {
                200_000
            } else {
                50_000
            };
            let compression = if variant == "events-lz4" {
                lz4_64k
            } else {
                Compression::None
            };
            let order = order(n, user_key);
            let dir = table_dir(&root, "events", EVENTS_ID);
            for g in 0..3u64 {
                let parts = order
                    .iter()
                    .filter(move |p| *p % 3 == g)
                    .map(|&p| events_partition(p, None));
                stored += write_set(&dir, &events_table(), parts, n / 3 + 1, g + 1, compression);
            }
            fs::write(dir.join("schema.cql"), EVENTS_CQL).expect("schema.cql");
        }
        "events-replicas" => {
            let order = order(50_000, user_key);
            for node in 0..3u64 {
                let dir = table_dir(&root.join(format!("node{}", node + 1)), "events", EVENTS_ID);
                let parts = order.iter().map(|&p| events_partition(p, Some(node)));
                stored += write_set(&dir, &events_table(), parts, 50_000, 1, lz4_64k);
                fs::write(dir.join("schema.cql"), EVENTS_CQL).expect("schema.cql");
            }
        }
        "wide" => {
            let order = order(10_000, wide_key);
            let dir = table_dir(&root, "wide", WIDE_ID);
            let parts = order.iter().map(|&p| wide_partition(p));
            let lz4_16k = Compression::Lz4 {
                chunk_length: 16 * 1024,
            };
            stored += write_set(&dir, &wide_table(), parts, 10_000, 1, lz4_16k);
            fs::write(dir.join("schema.cql"), WIDE_CQL).expect("schema.cql");
        }
        other => {
            eprintln!("unknown variant {other}");
            return ExitCode::from(2);
        }
    }
    println!("wrote {}: {stored} bytes of Data.db", root.display());
    ExitCode::SUCCESS
}
