//! Property test of the merge: random mutation histories (writes, overwrites, TTLs, cell, row,
//! range and partition deletions, collection element writes and deletions, counter increments),
//! spread at random over SSTables (as replicas or generations would hold them), merge to the same
//! live rows as a small reference model of Cassandra's semantics, whatever the spread.
//!
//! Each SSTable is written with the project's writer from the reconciled state of the mutations
//! it received (as a flush or compaction would), then all are read back and merged.

use std::collections::BTreeMap;

use sstable_format::data::{
    BoundKind, Cell, CellKind, DataReader, DeletionTime, Layout, LivenessInfo, PartitionReader,
    RangeTombstoneMarker, Row, Unfiltered,
};
use sstable_format::merge::{ColumnMap, Merger};
use sstable_format::partitioner::Partitioner;
use sstable_format::reconcile::{effective_deletion, live_row, Now};
use sstable_format::value::{CounterContext, CounterShard, ShardKind};
use sstable_format::writer::DataWriter;
use sstable_format::{CqlType, DataOffset, SliceSource, Version};

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const NOW: i64 = 1_700_000_000;
const PKS: u64 = 3;
const CKS: u64 = 6;
/// Range deletions cover fixed buckets of clustering values so that one SSTable's ranges never
/// overlap (the writer takes non-overlapping markers, as Cassandra writes them).
const BUCKET: u64 = 3;

#[derive(Debug, Clone, Copy)]
enum Op {
    /// Regular column `v` = value, optionally with a TTL that is expired or not at NOW.
    Write {
        pk: u64,
        ck: u64,
        value: u32,
        ttl: Option<bool>,
    },
    /// A tombstone for `v`.
    DeleteCell {
        pk: u64,
        ck: u64,
    },
    /// INSERT: the row marker (with or without TTL).
    Insert {
        pk: u64,
        ck: u64,
        ttl: Option<bool>,
    },
    DeleteRow {
        pk: u64,
        ck: u64,
    },
    DeleteRange {
        pk: u64,
        bucket: u64,
    },
    DeletePartition {
        pk: u64,
    },
    /// Set column `s`: add an element / remove an element.
    AddElement {
        pk: u64,
        ck: u64,
        elem: u32,
    },
    RemoveElement {
        pk: u64,
        ck: u64,
        elem: u32,
    },
    /// Counter column `c` (counter table variant): an increment applied by node `node`, which
    /// then holds the cumulative `count` of its shard at logical clock `clock`.
    Increment {
        pk: u64,
        ck: u64,
        node: u8,
        clock: i64,
        count: i64,
    },
}

#[derive(Debug, Clone, Copy)]
struct Mutation {
    op: Op,
    ts: i64,
}

fn gen_history(rng: &mut Rng, counters: bool) -> Vec<Mutation> {
    let n = 1 + rng.below(25);
    let mut shards: BTreeMap<(u64, u64, u8), (i64, i64)> = BTreeMap::new();
    (0..n)
        .map(|_| {
            let pk = rng.below(PKS);
            let ck = rng.below(CKS);
            // Few distinct timestamps: ties are frequent, which is where the rules matter.
            let ts = 1000 + rng.below(8) as i64;
            let ttl = match rng.below(3) {
                0 => None,
                1 => Some(true),
                _ => Some(false),
            };
            let op = if counters {
                match rng.below(10) {
                    0 => Op::DeleteRow { pk, ck },
                    1 => Op::DeletePartition { pk },
                    _ => {
                        let node = rng.below(3) as u8;
                        let delta = rng.below(11) as i64 - 5;
                        let shard = shards.entry((pk, ck, node)).or_insert((0, 0));
                        shard.0 += 1;
                        shard.1 += delta;
                        Op::Increment {
                            pk,
                            ck,
                            node,
                            clock: shard.0,
                            count: shard.1,
                        }
                    }
                }
            } else {
                match rng.below(12) {
                    0..=2 => Op::Write {
                        pk,
                        ck,
                        value: rng.below(4) as u32,
                        ttl,
                    },
                    3 => Op::DeleteCell { pk, ck },
                    4 | 5 => Op::Insert { pk, ck, ttl },
                    6 => Op::DeleteRow { pk, ck },
                    7 => Op::DeleteRange {
                        pk,
                        bucket: rng.below(CKS / BUCKET),
                    },
                    8 => Op::DeletePartition { pk },
                    9 | 10 => Op::AddElement {
                        pk,
                        ck,
                        elem: rng.below(3) as u32,
                    },
                    _ => Op::RemoveElement {
                        pk,
                        ck,
                        elem: rng.below(3) as u32,
                    },
                }
            };
            Mutation { op, ts }
        })
        .collect()
}

/// A cell version as Cassandra stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct V {
    ts: i64,
    kind: CellKind,
    value: Vec<u8>,
}

fn expiry(ttl: Option<bool>) -> CellKind {
    match ttl {
        None => CellKind::Live,
        Some(true) => CellKind::Expiring {
            ttl: 60,
            local_expiration_time: NOW - 10,
        },
        Some(false) => CellKind::Expiring {
            ttl: 60,
            local_expiration_time: NOW + 1000,
        },
    }
}

/// The 4.0 reconciliation of two versions (`Cells.reconcile`), independent of the code under
/// test.
fn wins(a: &V, b: &V) -> bool {
    if a.ts != b.ts {
        return a.ts > b.ts;
    }
    let ldt = |v: &V| match v.kind {
        CellKind::Live => None,
        CellKind::Expiring {
            local_expiration_time,
            ..
        } => Some(local_expiration_time),
        CellKind::Tombstone {
            local_deletion_time,
        } => Some(local_deletion_time),
    };
    match (ldt(a), ldt(b)) {
        (None, None) => a.value >= b.value,
        (Some(_), None) => true,
        (None, Some(_)) => false,
        (Some(x), Some(y)) => {
            let ta = matches!(a.kind, CellKind::Tombstone { .. });
            let tb = matches!(b.kind, CellKind::Tombstone { .. });
            if ta != tb {
                ta
            } else if x != y {
                x > y
            } else {
                a.value >= b.value
            }
        }
    }
}

fn keep(slot: &mut Option<V>, v: V) {
    match slot {
        Some(old) if wins(old, &v) => {}
        _ => *slot = Some(v),
    }
}

fn del(ts: i64) -> DeletionTime {
    DeletionTime {
        marked_for_delete_at: ts,
        local_deletion_time: NOW - 100,
    }
}

fn max_del(a: Option<DeletionTime>, ts: i64) -> Option<DeletionTime> {
    let d = del(ts);
    match a {
        Some(x) if !d.supersedes(&x) => Some(x),
        _ => Some(d),
    }
}

/// The reconciled state of a set of mutations: what one SSTable holds, or the whole truth.
#[derive(Debug, Default, Clone)]
struct State {
    partition_del: BTreeMap<u64, DeletionTime>,
    range_del: BTreeMap<(u64, u64), DeletionTime>,
    rows: BTreeMap<(u64, u64), RowState>,
}

#[derive(Debug, Default, Clone)]
struct RowState {
    marker: Option<V>,
    deletion: Option<DeletionTime>,
    v: Option<V>,
    elems: BTreeMap<u32, V>,
    counter: Option<(i64, CounterContext)>,
}

fn counter_id(node: u8) -> [u8; 16] {
    let mut id = [0u8; 16];
    id[15] = node;
    id
}

impl State {
    fn apply(&mut self, m: &Mutation) {
        let ts = m.ts;
        match m.op {
            Op::Write { pk, ck, value, ttl } => {
                let r = self.rows.entry((pk, ck)).or_default();
                keep(
                    &mut r.v,
                    V {
                        ts,
                        kind: expiry(ttl),
                        value: value.to_be_bytes().to_vec(),
                    },
                );
            }
            Op::DeleteCell { pk, ck } => {
                let r = self.rows.entry((pk, ck)).or_default();
                keep(
                    &mut r.v,
                    V {
                        ts,
                        kind: CellKind::Tombstone {
                            local_deletion_time: NOW - 100,
                        },
                        value: vec![],
                    },
                );
            }
            Op::Insert { pk, ck, ttl } => {
                let r = self.rows.entry((pk, ck)).or_default();
                let kind = expiry(ttl);
                let new = V {
                    ts,
                    kind,
                    value: vec![],
                };
                // LivenessInfo.supersedes (4.0): higher timestamp; on a tie an expiring
                // liveness beats a non-expiring one, and between two expiring ones the later
                // expiry wins.
                let replace = match &r.marker {
                    None => true,
                    Some(old) if old.ts != ts => ts > old.ts,
                    Some(old) => match (new.kind, old.kind) {
                        (
                            CellKind::Expiring {
                                local_expiration_time: a,
                                ..
                            },
                            CellKind::Expiring {
                                local_expiration_time: b,
                                ..
                            },
                        ) => a > b,
                        (CellKind::Expiring { .. }, _) => true,
                        _ => false,
                    },
                };
                if replace {
                    r.marker = Some(new);
                }
            }
            Op::DeleteRow { pk, ck } => {
                let r = self.rows.entry((pk, ck)).or_default();
                r.deletion = max_del(r.deletion, ts);
            }
            Op::DeleteRange { pk, bucket } => {
                let d = self.range_del.get(&(pk, bucket)).copied();
                self.range_del.insert((pk, bucket), max_del(d, ts).unwrap());
            }
            Op::DeletePartition { pk } => {
                let d = self.partition_del.get(&pk).copied();
                self.partition_del.insert(pk, max_del(d, ts).unwrap());
            }
            Op::AddElement { pk, ck, elem } => {
                let r = self.rows.entry((pk, ck)).or_default();
                let mut slot = r.elems.remove(&elem);
                keep(
                    &mut slot,
                    V {
                        ts,
                        kind: CellKind::Live,
                        value: vec![],
                    },
                );
                r.elems.insert(elem, slot.unwrap());
            }
            Op::RemoveElement { pk, ck, elem } => {
                let r = self.rows.entry((pk, ck)).or_default();
                let mut slot = r.elems.remove(&elem);
                keep(
                    &mut slot,
                    V {
                        ts,
                        kind: CellKind::Tombstone {
                            local_deletion_time: NOW - 100,
                        },
                        value: vec![],
                    },
                );
                r.elems.insert(elem, slot.unwrap());
            }
            Op::Increment {
                pk,
                ck,
                node,
                clock,
                count,
            } => {
                let r = self.rows.entry((pk, ck)).or_default();
                let add = CounterContext {
                    shards: vec![CounterShard {
                        kind: ShardKind::Global,
                        counter_id: counter_id(node),
                        clock,
                        count,
                    }],
                };
                r.counter = Some(match r.counter.take() {
                    None => (ts, add),
                    Some((t, c)) => (t.max(ts), c.merge(&add)),
                });
            }
        }
    }

    /// The live rows a read returns at NOW: (pk, ck) -> (v, set elements, counter).
    fn live(&self) -> Live {
        let mut out = BTreeMap::new();
        for (&(pk, ck), r) in &self.rows {
            let mut d = DeletionTime::LIVE;
            for x in [
                self.partition_del.get(&pk),
                self.range_del.get(&(pk, ck / BUCKET)),
                r.deletion.as_ref(),
            ]
            .into_iter()
            .flatten()
            {
                if x.supersedes(&d) {
                    d = *x;
                }
            }
            let live = |v: &V| {
                !d.deletes(v.ts)
                    && match v.kind {
                        CellKind::Live => true,
                        CellKind::Expiring {
                            local_expiration_time,
                            ..
                        } => NOW < local_expiration_time,
                        CellKind::Tombstone { .. } => false,
                    }
            };
            let marker = r.marker.as_ref().is_some_and(live);
            let v = r.v.as_ref().filter(|v| live(v)).map(|v| v.value.clone());
            let elems: Vec<u32> = r
                .elems
                .iter()
                .filter(|(_, v)| live(v))
                .map(|(e, _)| *e)
                .collect();
            let counter = r
                .counter
                .as_ref()
                .filter(|(ts, _)| !d.deletes(*ts))
                .map(|(_, c)| c.total());
            if marker || v.is_some() || !elems.is_empty() || counter.is_some() {
                out.insert((pk, ck), (v, elems, counter));
            }
        }
        out
    }
}

fn layout(counters: bool) -> Layout {
    let regs: Vec<CqlType> = if counters {
        vec![CqlType::Counter]
    } else {
        vec![
            CqlType::Int,
            CqlType::Set {
                element: Box::new(CqlType::Int),
                frozen: false,
            },
        ]
    };
    Layout::new(
        Version::Nb,
        (0, 0, 0),
        &[CqlType::Int],
        &[],
        &regs.iter().collect::<Vec<_>>(),
    )
    .unwrap()
}

fn key(pk: u64) -> [u8; 4] {
    (pk as u32).to_be_bytes()
}

/// Writes one SSTable holding `state`, partitions in Murmur3 token order.
fn write(state: &State, counters: bool) -> Vec<u8> {
    let mut w = DataWriter::new(layout(counters));
    let mut pks: Vec<u64> = (0..PKS).collect();
    pks.sort_by_key(|pk| (Partitioner::Murmur3.token(&key(*pk)), key(*pk)));
    for pk in pks {
        let rows: Vec<_> = state.rows.range((pk, 0)..(pk, CKS)).collect();
        let ranges: Vec<_> = state.range_del.range((pk, 0)..(pk, CKS)).collect();
        let pdel = state.partition_del.get(&pk).copied();
        if rows.is_empty() && ranges.is_empty() && pdel.is_none() {
            continue;
        }
        w.start_partition(&key(pk), pdel.unwrap_or(DeletionTime::LIVE))
            .unwrap();
        let cks: Vec<[u8; 4]> = (0..CKS).map(|c| (c as u32).to_be_bytes()).collect();
        let elems: Vec<[u8; 4]> = (0..3u32).map(|e| e.to_be_bytes()).collect();
        let counter_bytes: BTreeMap<(u64, u64), Vec<u8>> = rows
            .iter()
            .filter_map(|(k, r)| {
                r.counter.as_ref().map(|(_, c)| {
                    let mut b = Vec::new();
                    c.write(&mut b);
                    (**k, b)
                })
            })
            .collect();
        for ck in 0..CKS {
            let bucket = ck / BUCKET;
            if ck % BUCKET == 0 {
                if let Some(d) = state.range_del.get(&(pk, bucket)) {
                    w.write_marker(&RangeTombstoneMarker {
                        kind: BoundKind::InclStartBound,
                        values: vec![Some(&cks[ck as usize])],
                        close: None,
                        open: Some(*d),
                        offset: DataOffset(0),
                    })
                    .unwrap();
                }
            }
            if let Some(r) = state.rows.get(&(pk, ck)) {
                let mut cells = Vec::new();
                let mut complex = Vec::new();
                if counters {
                    if let (Some((ts, _)), Some(b)) = (&r.counter, counter_bytes.get(&(pk, ck))) {
                        cells.push(Cell {
                            column: 0,
                            timestamp: *ts,
                            kind: CellKind::Live,
                            path: None,
                            value: b,
                        });
                    }
                } else {
                    if let Some(v) = &r.v {
                        cells.push(Cell {
                            column: 0,
                            timestamp: v.ts,
                            kind: v.kind,
                            path: None,
                            value: &v.value,
                        });
                    }
                    for (e, v) in &r.elems {
                        cells.push(Cell {
                            column: 1,
                            timestamp: v.ts,
                            kind: v.kind,
                            path: Some(&elems[*e as usize]),
                            value: &[],
                        });
                    }
                    let _ = &mut complex;
                }
                let liveness = match &r.marker {
                    None => LivenessInfo::EMPTY,
                    Some(m) => LivenessInfo {
                        timestamp: Some(m.ts),
                        ttl: match m.kind {
                            CellKind::Expiring {
                                ttl,
                                local_expiration_time,
                            } => Some((ttl, local_expiration_time)),
                            _ => None,
                        },
                    },
                };
                let row = Row {
                    is_static: false,
                    clustering: vec![Some(&cks[ck as usize])],
                    liveness,
                    deletion: r.deletion.unwrap_or(DeletionTime::LIVE),
                    deletion_is_shadowable: false,
                    scylla_shadowable_deletion: None,
                    complex_deletions: complex,
                    cells,
                    offset: DataOffset(0),
                };
                w.write_row(&row).unwrap();
            }
            if ck % BUCKET == BUCKET - 1 {
                if let Some(d) = state.range_del.get(&(pk, bucket)) {
                    w.write_marker(&RangeTombstoneMarker {
                        kind: BoundKind::InclEndBound,
                        values: vec![Some(&cks[ck as usize])],
                        close: Some(*d),
                        open: None,
                        offset: DataOffset(0),
                    })
                    .unwrap();
                }
            }
        }
        w.end_partition().unwrap();
    }
    w.finish()
}

type Live = BTreeMap<(u64, u64), (Option<Vec<u8>>, Vec<u32>, Option<i64>)>;

fn merged_live(files: &[Vec<u8>], counters: bool) -> Live {
    let lay = layout(counters);
    let n_cols = lay.regulars.len();
    let sources: Vec<(Box<dyn PartitionReader + '_>, ColumnMap)> = files
        .iter()
        .map(|f| {
            let r: Box<dyn PartitionReader + '_> = Box::new(DataReader::new(
                SliceSource::new(f, DataOffset(0), 7),
                lay.clone(),
            ));
            (
                r,
                ColumnMap {
                    statics: vec![],
                    regulars: (0..n_cols as u32).map(Some).collect(),
                },
            )
        })
        .collect();
    let types = if counters {
        vec![CqlType::Counter]
    } else {
        vec![
            CqlType::Int,
            CqlType::Set {
                element: Box::new(CqlType::Int),
                frozen: false,
            },
        ]
    };
    let mut m = Merger::new(sources, Partitioner::Murmur3, vec![CqlType::Int], types);
    let mut out = Live::new();
    #[allow(clippy::while_let_loop, reason = "the match reads more clearly")]
    loop {
        let (pk, pdel) = match m.next_partition().unwrap() {
            Some(p) => (
                u32::from_be_bytes(p.key.try_into().unwrap()) as u64,
                p.deletion,
            ),
            None => break,
        };
        // A partition of one source passes through with its markers; a merged one carries
        // none (they are folded into its rows).
        let mut open_range = None;
        while let Some(u) = m.next_unfiltered().unwrap() {
            let row = match u {
                Unfiltered::Row(row) => row,
                Unfiltered::Marker(mk) => {
                    if mk.kind.is_close() {
                        open_range = None;
                    }
                    if let Some(o) = mk.open {
                        open_range = Some(o);
                    }
                    continue;
                }
            };
            let d = effective_deletion(pdel, open_range, &row);
            let live = live_row(&row, d, Now(NOW));
            if !live.is_live() {
                continue;
            }
            let ck = u32::from_be_bytes(row.clustering[0].unwrap().try_into().unwrap()) as u64;
            let mut v = None;
            let mut elems = Vec::new();
            let mut counter = None;
            for c in &live.cells {
                match (counters, c.column) {
                    (true, _) => counter = Some(CounterContext::parse(c.value).unwrap().total()),
                    (false, 0) => v = Some(c.value.to_vec()),
                    (false, _) => {
                        elems.push(u32::from_be_bytes(c.path.unwrap().try_into().unwrap()))
                    }
                }
            }
            out.insert((pk, ck), (v, elems, counter));
        }
    }
    out
}

fn run_cases(seed: u64, cases: usize, counters: bool) {
    let mut rng = Rng(seed);
    for case in 0..cases {
        let history = gen_history(&mut rng, counters);
        let mut truth = State::default();
        for m in &history {
            truth.apply(m);
        }
        let n_tables = 1 + rng.below(4) as usize;
        let mut tables = vec![State::default(); n_tables];
        for m in &history {
            // Each mutation reaches one or more SSTables (replicas), at least one.
            let first = rng.below(n_tables as u64) as usize;
            tables[first].apply(m);
            for (i, t) in tables.iter_mut().enumerate() {
                if i != first && rng.below(3) == 0 {
                    t.apply(m);
                }
            }
        }
        let files: Vec<Vec<u8>> = tables.iter().map(|t| write(t, counters)).collect();
        let got = merged_live(&files, counters);
        let want = truth.live();
        assert_eq!(got, want, "case {case} (seed {seed}): {history:?}");
    }
}

#[test]
fn merge_matches_reference_model() {
    run_cases(0x5eed_1234_5678_9abc, 3000, false);
}

#[test]
fn counters_merge_shard_by_shard() {
    run_cases(0xc0_ffee, 1000, true);
}
