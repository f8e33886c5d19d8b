//! The shared input of the lake benchmarks: a small `bench.events` backup written once per
//! bench process into a temporary directory with the project's own SSTable writer
//! ([`sstable_format::sstable_writer`]). The generator is the minimum of `examples/bench_gen.rs`
//! (its `events-plain` and `events-replicas` variants, scaled down and uncompressed): the same
//! table, the same deterministic values, the same `schema.cql`.
#![allow(
    dead_code,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "benchmark setup: each bench uses a subset, and a failure is a bug to see at once"
)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use sstable_format::data::{BoundKind, DeletionTime, Layout};
use sstable_format::sstable_writer::{
    partition_order, write_sstable_streaming, CellData, ColumnDef, Compression, MarkerData,
    PartitionData, RowData, TableDef, UnfilteredData, WriterOptions,
};
use sstable_format::statistics::{EncodingStats, Statistics, DELETION_TIME_EPOCH};
use sstable_format::{CqlType, Version};

/// Partitions of the generated table.
pub const PARTITIONS: u64 = 2_000;
/// Rows per partition.
pub const ROWS: u64 = 20;
/// Bytes handed out per `fill` of a `SliceSource` (the uncompressed chunk size of a read).
pub const CHUNK: usize = 64 * 1024;

/// Write timestamp base (µs): 2023-11-14T22:13:20Z.
const T0: i64 = 1_700_000_000_000_000;
/// `event_time` base (ms).
const EVENT_T0: i64 = 1_700_000_000_000;
const EVENTS_ID: &str = "0b5e7c10a1b211eeb9620242ac120002";

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
fn order(n: u64) -> Vec<u64> {
    let mut keyed: Vec<(Vec<u8>, u64)> = (0..n).map(|p| (user_key(p), p)).collect();
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
/// variant, `Some(n)` for replica `n` (0..3) of the replicas variant: a third of the cells
/// overwritten later on one node, 1% of the rows deleted on one node, every 50th partition with
/// a range tombstone over 4 rows on one node (as `events_partition` of `examples/bench_gen.rs`).
fn events_partition(p: u64, node: Option<u64>) -> PartitionData {
    let mut part = PartitionData::new(user_key(p));
    let range_node = (p.is_multiple_of(50)).then_some((p / 50) % 3);
    let range_on_this = node.is_some() && node == range_node;
    for i in 0..ROWS {
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

/// Writes one uncompressed `nb` set of the events table into `dir`; returns its Data.db path.
fn write_set(
    dir: &Path,
    partitions: impl Iterator<Item = PartitionData>,
    expected: u64,
    generation: u64,
) -> PathBuf {
    fs::create_dir_all(dir).expect("create the table directory");
    let options = WriterOptions {
        compression: Compression::None,
        encoding_stats: Some(EncodingStats {
            min_timestamp: T0,
            min_local_deletion_time: i64::from(DELETION_TIME_EPOCH),
            min_ttl: 0,
        }),
        ..WriterOptions::nb(generation)
    };
    // The set is small: collect each component in memory, then write it.
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    write_sstable_streaming(
        &events_table(),
        partitions,
        expected,
        &options,
        |name, bytes| -> Result<(), Box<dyn std::error::Error>> {
            files
                .entry(name.to_string())
                .or_default()
                .extend_from_slice(bytes);
            Ok(())
        },
    )
    .expect("write the set");
    let mut data = None;
    for (name, bytes) in files {
        if name.ends_with("-Data.db") {
            data = Some(dir.join(&name));
        }
        fs::write(dir.join(name), bytes).expect("write a component");
    }
    fs::write(dir.join("schema.cql"), EVENTS_CQL).expect("schema.cql");
    data.expect("a Data.db")
}

fn table_dir(root: &Path) -> PathBuf {
    root.join("data")
        .join("bench")
        .join(format!("events-{EVENTS_ID}"))
}

/// One generated SSTable set, read back into memory.
#[derive(Debug)]
pub struct Set {
    /// Its Data.db path.
    pub path: PathBuf,
    /// Its Data.db bytes (uncompressed).
    pub data: Vec<u8>,
    /// The row layout of its serialization header.
    pub layout: Layout,
    /// Clustering types of its header.
    pub clustering: Vec<CqlType>,
    /// Regular columns of its header, in layout order: (name, type).
    pub regulars: Vec<(String, CqlType)>,
}

impl Set {
    fn read(path: PathBuf) -> Set {
        let data = fs::read(&path).expect("Data.db");
        let stats_path = path
            .to_str()
            .expect("a UTF-8 path")
            .replace("-Data.db", "-Statistics.db");
        let stats = Statistics::parse(&fs::read(stats_path).expect("Statistics.db"), Version::Nb)
            .expect("statistics");
        let header = stats.header.expect("a serialization header");
        let layout = header.layout(Version::Nb).expect("layout");
        let regulars = header
            .ordered_columns(false)
            .iter()
            .map(|c| (c.name_str().into_owned(), c.ty.clone()))
            .collect();
        Set {
            path,
            data,
            layout,
            clustering: header.clustering_types.clone(),
            regulars,
        }
    }
}

/// The generated backup of one bench process (deleted when dropped).
#[derive(Debug)]
pub struct Input {
    /// Holds the files.
    pub dir: tempfile::TempDir,
    /// `events-plain`-like: the root of three disjoint sets of one table directory.
    pub plain_root: PathBuf,
    /// The three disjoint sets.
    pub plain: Vec<Set>,
    /// `events-replicas`-like: one set per node, every partition on each.
    pub replicas: Vec<Set>,
}

impl Input {
    /// Bytes of Data.db of the disjoint sets.
    pub fn plain_bytes(&self) -> u64 {
        self.plain.iter().map(|s| s.data.len() as u64).sum()
    }

    /// Bytes of Data.db of the replicas.
    pub fn replica_bytes(&self) -> u64 {
        self.replicas.iter().map(|s| s.data.len() as u64).sum()
    }
}

/// Generates the input ([`PARTITIONS`] x [`ROWS`] rows, deterministic).
pub fn generate() -> Input {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let order = order(PARTITIONS);
    let plain_root = dir.path().join("events-plain");
    let table = table_dir(&plain_root);
    let plain = (0..3u64)
        .map(|g| {
            let parts = order
                .iter()
                .filter(move |p| *p % 3 == g)
                .map(|&p| events_partition(p, None));
            Set::read(write_set(&table, parts, PARTITIONS / 3 + 1, g + 1))
        })
        .collect();
    let replicas = (0..3u64)
        .map(|node| {
            let root = dir
                .path()
                .join("events-replicas")
                .join(format!("node{}", node + 1));
            let parts = order.iter().map(|&p| events_partition(p, Some(node)));
            Set::read(write_set(&table_dir(&root), parts, PARTITIONS, 1))
        })
        .collect();
    Input {
        dir,
        plain_root,
        plain,
        replicas,
    }
}

/// The serialized values of the generated rows, column by column, as the export's column path
/// takes them (the key, the clustering, then the regular cells).
#[derive(Debug)]
pub struct Values {
    /// Output column names.
    pub names: Vec<String>,
    /// CQL type of each column.
    pub types: Vec<CqlType>,
    /// Per column, per row: the serialized value (`None`: no cell).
    pub columns: Vec<Vec<Option<Vec<u8>>>>,
}

impl Values {
    /// Rows held.
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, Vec::len)
    }
}

/// The values of every row of the disjoint sets (decoded once, owned).
pub fn values(input: &Input) -> Values {
    use sstable_format::data::{DataReader, Unfiltered};
    use sstable_format::{DataOffset, SliceSource};
    let first = input.plain.first().expect("a set");
    let mut names = vec!["user_id".to_string(), "event_time".to_string()];
    let mut types = vec![CqlType::Text, CqlType::Timestamp];
    for (n, t) in &first.regulars {
        names.push(n.clone());
        types.push(t.clone());
    }
    let mut columns: Vec<Vec<Option<Vec<u8>>>> = vec![Vec::new(); names.len()];
    for set in &input.plain {
        let mut r = DataReader::new(
            SliceSource::new(&set.data, DataOffset(0), CHUNK),
            set.layout.clone(),
        );
        while let Some(p) = r.next_partition().expect("partition") {
            let key = p.key.to_vec();
            while let Some(u) = r.next_unfiltered().expect("row") {
                let Unfiltered::Row(row) = u else { continue };
                columns[0].push(Some(key.clone()));
                columns[1].push(
                    row.clustering
                        .first()
                        .copied()
                        .flatten()
                        .map(<[u8]>::to_vec),
                );
                let mut cells: Vec<Option<Vec<u8>>> = vec![None; first.regulars.len()];
                for c in &row.cells {
                    cells[c.column as usize] = Some(c.value.to_vec());
                }
                for (k, v) in cells.into_iter().enumerate() {
                    columns[2 + k].push(v);
                }
            }
        }
    }
    Values {
        names,
        types,
        columns,
    }
}

/// Rows per RecordBatch: `BATCH_ROWS` of `src/commands/export.rs`.
pub const BATCH_ROWS: usize = 8192;

/// The Arrow schema of `values` (`sstable_lake::convert::arrow::field` of each column).
pub fn schema(values: &Values) -> arrow_schema::SchemaRef {
    use sstable_lake::convert::arrow::{field, MapOptions};
    let fields: Vec<arrow_schema::Field> = values
        .names
        .iter()
        .zip(&values.types)
        .map(|(n, t)| field(n, t, MapOptions::default()))
        .collect();
    std::sync::Arc::new(arrow_schema::Schema::new(fields))
}

/// `values` into RecordBatches of [`BATCH_ROWS`] rows with the export's column builders
/// (`ColumnBuilder::append_bytes` of `src/convert/direct.rs`, one reused `Scratch`).
pub fn convert(values: &Values, schema: &arrow_schema::SchemaRef) -> Vec<arrow_array::RecordBatch> {
    use sstable_lake::convert::arrow::{ColumnBuilder, MapOptions};
    use sstable_lake::convert::direct::Scratch;
    let mut scratch = Scratch::default();
    let mut batches = Vec::new();
    let mut start = 0;
    while start < values.rows() {
        let end = (start + BATCH_ROWS).min(values.rows());
        let arrays = values
            .types
            .iter()
            .zip(&values.columns)
            .map(|(ty, col)| {
                let mut b = ColumnBuilder::new(ty, MapOptions::default());
                for v in &col[start..end] {
                    match v {
                        Some(bytes) => b.append_bytes(ty, bytes, &mut scratch).expect("a value"),
                        None => b.append_null(),
                    }
                }
                b.finish().expect("an array")
            })
            .collect();
        batches.push(arrow_array::RecordBatch::try_new(schema.clone(), arrays).expect("a batch"));
        start = end;
    }
    batches
}

/// The export plan of `sstable-lake export INPUT --threads 1 --out OUT`, parsed and validated
/// as `src/main.rs` does.
pub fn export_plan(input: &Path, out: &Path) -> sstable_lake::config::ExportPlan {
    use clap::Parser;
    use sstable_lake::cli::Cli;
    use sstable_lake::config::Plan;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let cli = Cli::try_parse_from([
        "sstable-lake".as_ref(),
        "export".as_ref(),
        input.as_os_str(),
        "--threads".as_ref(),
        "1".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
    ])
    .expect("the export command line");
    match cli.into_plan(now).expect("a valid plan") {
        Plan::Export(p) => *p,
        _ => unreachable!("an export command gives an export plan"),
    }
}
