//! Quirks of writers in the wild (issue 14), each written by the project's writer with the
//! bytes the writer in the wild produces: read as Cassandra does, reported by verify.

use sstable_format::data::{
    Cell, CellKind, DataReader, DeletionTime, Layout, LivenessInfo, Row, Unfiltered,
};
use sstable_format::sstable_writer::{counter_context, scylla_1_7_4_counter_context};
use sstable_format::value::{decode_value, CounterContext, Value};
use sstable_format::verify::{check_counter_shards, verify_partitions_with};
use sstable_format::writer::DataWriter;
use sstable_format::{CqlType, DataOffset, SliceSource, Version};

/// Three node ids: two with the top bit of the first byte set (negative as a signed `int64_t`,
/// after the third in Cassandra's unsigned byte order, before it in Scylla 1.7.4's order).
const A: [u8; 16] = [0x10; 16];
const B: [u8; 16] = [0x90; 16];
const C: [u8; 16] = [0xf0; 16];

fn layout() -> Layout {
    Layout::new(Version::Me, (0, 0, 0), &[], &[], &[&CqlType::Counter]).unwrap()
}

/// One partition (`pk` = 1) with one counter cell holding `value`.
fn write(value: &[u8]) -> Vec<u8> {
    let mut w = DataWriter::new(layout());
    w.start_partition(&1i32.to_be_bytes(), DeletionTime::LIVE)
        .unwrap();
    w.write_row(&Row {
        is_static: false,
        clustering: vec![],
        liveness: LivenessInfo {
            timestamp: Some(5),
            ttl: None,
        },
        deletion: DeletionTime::LIVE,
        deletion_is_shadowable: false,
        scylla_shadowable_deletion: None,
        complex_deletions: vec![],
        cells: vec![Cell {
            column: 0,
            timestamp: 5,
            kind: CellKind::Live,
            path: None,
            value,
        }],
        offset: DataOffset(0),
    })
    .unwrap();
    w.end_partition().unwrap();
    w.finish()
}

/// Reads the file back: the counter's value, and what verify says.
fn read_and_verify(
    data: &[u8],
) -> (
    i64,
    sstable_format::Result<Vec<sstable_format::verify::Quirk>>,
) {
    let mut r = DataReader::new(SliceSource::new(data, DataOffset(0), 7), layout());
    r.next_partition().unwrap().unwrap();
    let Some(Unfiltered::Row(row)) = r.next_unfiltered().unwrap() else {
        panic!("expected a row")
    };
    let Value::Counter(total) = decode_value(&CqlType::Counter, row.cells[0].value).unwrap() else {
        panic!("expected a counter")
    };
    let mut r = DataReader::new(SliceSource::new(data, DataOffset(0), 7), layout());
    let mut quirks = Vec::new();
    let is_counter = |_: bool, c: u32| c == 0;
    let v = verify_partitions_with(&mut r, None, None, Some(&is_counter), &mut quirks);
    (total, v.map(|_| quirks))
}

#[test]
fn scylla_counter_shards_out_of_cassandra_order_are_read_and_warned() {
    let shards = [(A, 3, 10), (B, 4, 200), (C, 5, 3000)];
    let scylla = scylla_1_7_4_counter_context(&shards);
    // Scylla 1.7.4 order: B (0x90.. < 0), C (0xf0.. < 0), A (0x10.. > 0).
    let ctx = CounterContext::parse(&scylla).unwrap();
    let ids: Vec<_> = ctx.shards.iter().map(|s| s.counter_id).collect();
    assert_eq!(ids, vec![B, C, A]);
    let (total, quirks) = read_and_verify(&write(&scylla));
    assert_eq!(total, 3210, "Cassandra's total: the sum of the shards");
    let quirks = quirks.unwrap();
    assert_eq!(quirks.len(), 1, "{quirks:?}");
    assert_eq!(quirks[0].component, sstable_format::Component::Data);
    assert!(quirks[0].message.contains("1.7.4"), "{}", quirks[0]);

    // Merging with a Cassandra-ordered version of the same counter gives Cassandra's totals.
    let mut cassandra = Vec::new();
    let mut sorted = shards.to_vec();
    sorted.sort_by_key(|s| s.0);
    CounterContext {
        shards: sorted
            .iter()
            .map(|(id, clock, count)| sstable_format::value::CounterShard {
                kind: sstable_format::value::ShardKind::Global,
                counter_id: *id,
                clock: *clock + 1,
                count: *count + 1,
            })
            .collect(),
    }
    .write(&mut cassandra);
    let (t, q) = read_and_verify(&write(&cassandra));
    assert_eq!(t, 3213);
    assert!(q.unwrap().is_empty(), "Cassandra's order is no quirk");
    let merged = ctx.merge(&CounterContext::parse(&cassandra).unwrap());
    assert_eq!(merged.total(), 3213, "the higher clocks win shard by shard");
    let merged_ids: Vec<_> = merged.shards.iter().map(|s| s.counter_id).collect();
    assert_eq!(merged_ids, vec![A, B, C]);

    // One shard, or Cassandra's own single-shard context: no quirk.
    assert!(check_counter_shards(&counter_context(B, 1, 1), 0)
        .unwrap()
        .is_none());
}

#[test]
fn counter_shards_in_no_writer_order_are_damage() {
    // Repeated id: damage.
    let dup = scylla_1_7_4_counter_context(&[(A, 1, 1), (A, 2, 2)]);
    let (total, v) = read_and_verify(&write(&dup));
    assert_eq!(total, 3);
    let e = v.unwrap_err().to_string();
    assert!(e.contains("repeated or out of order"), "{e}");
    // Neither order (A, C, B): damage.
    let mut bad = Vec::new();
    bad.extend_from_slice(&3i16.to_be_bytes());
    for i in 0..3i16 {
        bad.extend_from_slice(&i16::MIN.wrapping_add(i).to_be_bytes());
    }
    for id in [A, C, B] {
        bad.extend_from_slice(&id);
        bad.extend_from_slice(&1i64.to_be_bytes());
        bad.extend_from_slice(&1i64.to_be_bytes());
    }
    assert!(check_counter_shards(&bad, 9).is_err());
    // Scylla's order but with a remote (unlisted) shard: not the shape Scylla writes.
    let mut remote = scylla_1_7_4_counter_context(&[(A, 1, 1), (B, 1, 1)]);
    remote[1] = 1; // header count 1: the second shard becomes remote
    remote.drain(4..6);
    assert!(check_counter_shards(&remote, 0).is_err());
}
