//! A synthetic, deterministic time-series table of any size, for benchmarks and the split
//! tests: partitions come out in token order one at a time, to feed an
//! [`SstableStreamWriter`](crate::sstable_writer::SstableStreamWriter) with bounded memory.
//!
//! The table is `bench.events (device uuid, ts timestamp, seq int, kind text, value double,
//! payload text, trace blob, PRIMARY KEY (device, ts, seq))`. Partition sizes are skewed like
//! real data: 90% small partitions of 1..20 rows, 9.5% of 100..1,000 rows and 0.5% big ones of
//! 5,000..40,000 rows (several MB; fewer rows on request). Values mix text drawn from a small vocabulary (LZ4 shrinks
//! it about twofold) with random bytes that do not compress, so the stored size is realistic.
//! Everything derives from a seed and the partition number: the same arguments give the same
//! bytes.

use crate::data::LivenessInfo;
use crate::partitioner::murmur3_token;
use crate::sstable_writer::{
    CellData, ColumnDef, PartitionData, RowData, TableDef, UnfilteredData,
};
use crate::statistics::{EncodingStats, DELETION_TIME_EPOCH};
use crate::types::CqlType;

/// Write timestamp of the first row (µs, 2023-11-14), the minimum of the set.
pub const BASE_TIMESTAMP: i64 = 1_700_000_000_000_000;

/// Average stored (LZ4, 16 KiB chunks) bytes per row, measured on this generator: the basis of
/// [`Synthetic::for_stored_bytes`].
pub const STORED_BYTES_PER_ROW: f64 = 92.0;

/// Rows of the big partitions by default: 5,000..40,000 (up to about 4 MB stored).
pub const BIG_ROWS: (u64, u64) = (5_000, 40_000);

const WORDS: [&str; 64] = [
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
    "mike",
    "november",
    "oscar",
    "papa",
    "quebec",
    "romeo",
    "sierra",
    "tango",
    "uniform",
    "victor",
    "whiskey",
    "xray",
    "yankee",
    "zulu",
    "sensor",
    "reading",
    "battery",
    "voltage",
    "current",
    "temperature",
    "humidity",
    "pressure",
    "firmware",
    "update",
    "error",
    "warning",
    "info",
    "debug",
    "north",
    "south",
    "east",
    "west",
    "gateway",
    "relay",
    "offline",
    "online",
    "restart",
    "timeout",
    "retry",
    "queue",
    "flush",
    "compaction",
    "repair",
    "node",
    "rack",
    "zone",
    "eu-west-1",
    "us-east-1",
    "ap-south-1",
    "ok",
    "failed",
    "pending",
];

const KINDS: [&str; 8] = [
    "click",
    "view",
    "purchase",
    "heartbeat",
    "alarm",
    "login",
    "logout",
    "metric",
];

/// SplitMix64's finalizer: a bijection of u64, so distinct inputs give distinct outputs.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A small xorshift generator.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(mix(seed) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    /// Uniform in `lo..hi` (`hi > lo`).
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo).max(1)
    }
}

/// The synthetic table.
pub fn table() -> TableDef {
    TableDef {
        keyspace: "bench".to_string(),
        name: "events".to_string(),
        partition_key: vec![ColumnDef::new("device", CqlType::Uuid)],
        clustering: vec![
            ColumnDef::new("ts", CqlType::Timestamp),
            ColumnDef::new("seq", CqlType::Int),
        ],
        statics: Vec::new(),
        regulars: vec![
            ColumnDef::new("kind", CqlType::Text),
            ColumnDef::new("value", CqlType::Double),
            ColumnDef::new("payload", CqlType::Text),
            ColumnDef::new("trace", CqlType::Blob),
        ],
    }
}

/// The encoding statistics of every synthetic set (no deletion, no TTL, timestamps from
/// [`BASE_TIMESTAMP`]), for [`crate::sstable_writer::WriterOptions::encoding_stats`].
pub fn encoding_stats() -> EncodingStats {
    EncodingStats {
        min_timestamp: BASE_TIMESTAMP,
        min_local_deletion_time: i64::from(DELETION_TIME_EPOCH),
        min_ttl: 0,
    }
}

/// The partitions of a synthetic set, in token order.
#[derive(Debug, Clone)]
pub struct Synthetic {
    seed: u64,
    /// Rows of the big partitions, `lo..hi`.
    big_rows: (u64, u64),
    /// (token, partition number), sorted.
    order: Vec<(i64, u64)>,
    next: usize,
}

impl Synthetic {
    /// `partitions` partitions from `seed`.
    pub fn new(seed: u64, partitions: u64) -> Synthetic {
        let mut order: Vec<(i64, u64)> = (0..partitions)
            .map(|id| (murmur3_token(&key(seed, id)), id))
            .collect();
        // Keys are distinct; ties on the token are broken by the key bytes, as Cassandra does.
        order.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| key(seed, a.1).cmp(&key(seed, b.1)))
        });
        Synthetic {
            seed,
            big_rows: BIG_ROWS,
            order,
            next: 0,
        }
    }

    /// About `stored` bytes of LZ4-compressed `Data.db` (see [`STORED_BYTES_PER_ROW`]), the
    /// big partitions having `big_rows` rows (`lo..hi`, [`BIG_ROWS`] by default): a smaller
    /// set keeps the proportion of its splits to its biggest partitions with smaller ones.
    pub fn for_stored_bytes(seed: u64, stored: u64, big_rows: (u64, u64)) -> Synthetic {
        let big_rows = (big_rows.0.max(1), big_rows.1.max(big_rows.0 + 1));
        let rows = 0.005 * (big_rows.0 + big_rows.1) as f64 / 2.0 + 0.095 * 549.5 + 0.9 * 10.0;
        let partitions = (stored as f64 / (rows * STORED_BYTES_PER_ROW)) as u64;
        Synthetic {
            big_rows,
            ..Synthetic::new(seed, partitions.max(1))
        }
    }

    /// Number of partitions.
    pub fn len(&self) -> u64 {
        self.order.len() as u64
    }

    /// Whether there is no partition.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

/// The partition key of partition `id`: a version-4-looking UUID, distinct for each `id`.
fn key(seed: u64, id: u64) -> [u8; 16] {
    let hi = mix(id ^ seed.rotate_left(17));
    let lo = mix(hi ^ seed);
    // Version 4 and the RFC 4122 variant, like `UUID.randomUUID()`.
    let hi = (hi & !0xf000) | 0x4000;
    let lo = (lo & !(0xc0 << 56)) | (0x80 << 56);
    ((u128::from(hi) << 64) | u128::from(lo)).to_be_bytes()
}

fn pick(rng: &mut Rng, words: &[&'static str]) -> &'static str {
    let i = rng.next() % words.len().max(1) as u64;
    words.get(i as usize).copied().unwrap_or_default()
}

/// Partition `id` of the set of `seed`.
fn partition(seed: u64, id: u64, big_rows: (u64, u64)) -> PartitionData {
    let mut rng = Rng::new(seed ^ id.wrapping_mul(0x2545_f491_4f6c_dd1d));
    let rows = match rng.next() % 1000 {
        0..5 => rng.range(big_rows.0, big_rows.1),
        5..100 => rng.range(100, 1_000),
        _ => rng.range(1, 20),
    };
    let mut p = PartitionData::new(key(seed, id).to_vec());
    let mut ts = BASE_TIMESTAMP / 1000 + rng.range(0, 86_400_000) as i64;
    let mut payload = String::new();
    for seq in 0..rows {
        ts += rng.range(1, 60_000) as i64;
        let write_ts = BASE_TIMESTAMP + rng.range(0, 1 << 30) as i64;
        payload.clear();
        for i in 0..rng.range(4, 24) {
            if i > 0 {
                payload.push(' ');
            }
            payload.push_str(pick(&mut rng, &WORDS));
        }
        let trace = ((u128::from(rng.next()) << 64) | u128::from(rng.next())).to_be_bytes();
        let value = (rng.next() % 1_000_000) as f64 / 1000.0;
        let kind = pick(&mut rng, &KINDS);
        let mut row = RowData::inserted(
            vec![
                ts.to_be_bytes().to_vec(),
                (seq as i32).to_be_bytes().to_vec(),
            ],
            write_ts,
            None,
            vec![
                CellData::live("kind", write_ts, kind.as_bytes()),
                CellData::live("value", write_ts, value.to_be_bytes()),
                CellData::live("payload", write_ts, payload.as_bytes()),
                CellData::live("trace", write_ts, trace),
            ],
        );
        // A few rows were updated without an INSERT: no row marker.
        if rng.next().is_multiple_of(16) {
            row.liveness = LivenessInfo::EMPTY;
        }
        p.unfiltereds.push(UnfilteredData::Row(row));
    }
    p
}

impl Iterator for Synthetic {
    type Item = PartitionData;

    fn next(&mut self) -> Option<PartitionData> {
        let (_, id) = *self.order.get(self.next)?;
        self.next += 1;
        Some(partition(self.seed, id, self.big_rows))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.order.len() - self.next;
        (n, Some(n))
    }
}
