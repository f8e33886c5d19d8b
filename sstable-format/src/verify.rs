//! Deep verification of `Data.db` contents: the invariants Cassandra's
//! `sstableverify --extended` (`io/sstable/format/SortedTableVerifier`, 4.x `Verifier`) and
//! `Scrubber` check while reading every partition and row, on top of the checksums.
//!
//! [`verify_partitions`] drains a [`PartitionReader`] (3.0+ [`crate::data::DataReader`] or 2.x
//! [`crate::legacy::LegacyReader`]) and reports the **first** violation as an [`Error`] with
//! component `Data.db` and the byte offset (uncompressed) of the offending partition, row or
//! marker:
//!
//! * the stream decodes to its end (decode errors pass through unchanged);
//! * partitions are in strictly increasing (token, key) order (`DecoratedKey` order; not
//!   checked for `LocalPartitioner`, whose order is the key type's);
//! * no negative local deletion time, local expiration time or TTL, in partition deletions,
//!   row deletions, primary-key liveness, complex deletions, cells and range-tombstone markers.
//!   Cassandra 3.0/3.11 wrote such values when `now + ttl` overflowed 2038-01-19
//!   (CASSANDRA-14092, the `negative-local-expiration-test` sets) and 4.x checks
//!   `DeletionTime.validate()` (`localDeletionTime >= 0`) when reading
//!   (CASSANDRA-18676..18680, the `negative-ldts-invalid-deletions-test` sets);
//! * at most one static row, before every clustered row;
//! * clustered rows strictly increasing: with a comparator ([`ClusteringComparator`]), each row
//!   sorts after the previous one; without, no row repeats the previous row's clustering
//!   (the `cf_with_duplicates_3_0` case Cassandra's scrub repairs);
//! * range-tombstone markers pair up: an open bound only when none is open, a close or
//!   boundary only when one is, a close carrying the deletion that was opened, nothing left
//!   open at the end of a partition.

use std::cmp::Ordering;

use crate::data::{DeletionTime, PartitionReader, Unfiltered, EXPIRED_LIVENESS_TTL};
use crate::error::{Component, Error, Result};
use crate::partitioner::{Partitioner, Token};
use crate::statistics::{MetadataType, Statistics};

/// Compares two clusterings of the table (values as stored, `None` for a null/missing
/// component). Must order them as the table's clustering comparator does (reversed columns
/// included).
pub type ClusteringComparator<'a> = dyn Fn(&[Option<&[u8]>], &[Option<&[u8]>]) -> Ordering + 'a;

/// What a successful [`verify_partitions`] saw.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct VerifySummary {
    /// Partitions read.
    pub partitions: u64,
    /// Rows (static included) read.
    pub rows: u64,
    /// Range-tombstone markers read.
    pub markers: u64,
    /// Cells read.
    pub cells: u64,
}

fn fail(offset: u64, message: String) -> Error {
    Error::invalid(Component::Data, offset, message)
}

/// Checks a deletion's local deletion time (`DeletionTime.validate`).
fn check_deletion(d: &DeletionTime, offset: u64, what: &str) -> Result<()> {
    if !d.is_live() && d.local_deletion_time < 0 {
        return Err(fail(
            offset,
            format!(
                "{what} has a negative local deletion time {} (timestamp {}): invalid deletion",
                d.local_deletion_time, d.marked_for_delete_at
            ),
        ));
    }
    Ok(())
}

fn check_expiration(ttl: i32, local_expiration_time: i64, offset: u64, what: &str) -> Result<()> {
    if ttl < 0 {
        return Err(fail(offset, format!("{what} has a negative TTL {ttl}")));
    }
    if local_expiration_time < 0 {
        return Err(fail(
            offset,
            format!(
                "{what} has a negative local expiration time {local_expiration_time} (TTL {ttl}): \
                 the expiration overflowed (CASSANDRA-14092)"
            ),
        ));
    }
    Ok(())
}

/// Reads every partition and row of `reader` and checks the invariants listed in the module
/// documentation; returns what was read, or the first violation (see the module docs).
///
/// `partitioner` (from Statistics.db) enables the partition-order check; `compare` enables the
/// full clustering-order check (otherwise only exact repeats are caught).
pub fn verify_partitions(
    reader: &mut dyn PartitionReader,
    partitioner: Option<Partitioner>,
    compare: Option<&ClusteringComparator<'_>>,
) -> Result<VerifySummary> {
    let mut summary = VerifySummary::default();
    let partitioner = partitioner.filter(|p| *p != Partitioner::Local);
    let mut previous_key: Option<(Token, Vec<u8>)> = None;
    loop {
        let (key, offset) = {
            let Some(header) = reader.next_partition()? else {
                break;
            };
            let offset = header.offset.0;
            check_deletion(&header.deletion, offset, "partition deletion")?;
            (header.key.to_vec(), offset)
        };
        summary.partitions += 1;
        if let Some(p) = partitioner {
            let token = p.token(&key);
            if let Some((pt, pk)) = &previous_key {
                let order = pt.cmp(&token).then_with(|| pk.as_slice().cmp(&key));
                if order != Ordering::Less {
                    return Err(fail(
                        offset,
                        format!(
                            "partition key 0x{} (token {token}) {} the previous one 0x{} (token {pt}): \
                             partitions out of order",
                            hex(&key),
                            if order == Ordering::Equal { "repeats" } else { "sorts before" },
                            hex(pk)
                        ),
                    ));
                }
            }
            previous_key = Some((token, key));
        }
        verify_partition_body(reader, compare, &mut summary)?;
    }
    Ok(summary)
}

/// Sanity checks of Statistics.db's STATS metadata, as Cassandra and ScyllaDB apply on load:
/// the tombstone drop-time histogram must hold at most `max_bin_size` bins, with finite,
/// strictly increasing points and positive counts (Cassandra keeps bins in a sorted map;
/// ScyllaDB's `sstable_bad_tombstone_histogram_test` has a file whose bins are unsorted and
/// discards it); estimated histograms must not hold negative counts. The error names
/// `Statistics.db` and the offset of the STATS component (0 for `jb`, which has no table).
pub fn verify_statistics(statistics: &Statistics) -> Result<()> {
    let Some(stats) = &statistics.stats else {
        return Ok(());
    };
    let at = statistics
        .entries
        .iter()
        .find(|e| e.kind == MetadataType::Stats)
        .map_or(0, |e| e.offset);
    let bad = |m: String| Err(Error::invalid(Component::Statistics, at, m));
    let h = &stats.tombstone_histogram;
    if let Some(max) = h.max_bin_size {
        if max >= 0 && h.bins.len() > max as usize {
            return bad(format!(
                "tombstone histogram has {} bins, more than its maximum {max}",
                h.bins.len()
            ));
        }
    }
    let mut previous: Option<f64> = None;
    for (i, (point, count)) in h.bins.iter().enumerate() {
        if !point.is_finite() || *count <= 0 {
            return bad(format!(
                "tombstone histogram bin {i} is invalid (point {point}, count {count})"
            ));
        }
        if let Some(p) = previous {
            if *point <= p {
                return bad(format!(
                    "tombstone histogram bins are not in increasing order: bin {i} ({point}) after {p}"
                ));
            }
        }
        previous = Some(*point);
    }
    for (name, e) in [
        ("partition size", &stats.partition_sizes),
        ("cells per partition", &stats.cells_per_partition),
    ] {
        if e.buckets.iter().any(|b| *b < 0) {
            return bad(format!("{name} histogram has a negative count"));
        }
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

type Clustering = Vec<Option<Vec<u8>>>;

fn borrowed(c: &Clustering) -> Vec<Option<&[u8]>> {
    c.iter().map(|v| v.as_deref()).collect()
}

fn show(c: &[Option<&[u8]>]) -> String {
    let parts: Vec<String> = c
        .iter()
        .map(|v| v.map_or_else(|| "null".to_string(), |b| format!("0x{}", hex(b))))
        .collect();
    format!("({})", parts.join(", "))
}

fn verify_partition_body(
    reader: &mut dyn PartitionReader,
    compare: Option<&ClusteringComparator<'_>>,
    summary: &mut VerifySummary,
) -> Result<()> {
    let mut seen_clustered = false;
    let mut seen_static = false;
    let mut previous_row: Option<Clustering> = None;
    let mut open: Option<DeletionTime> = None;
    let mut last_offset = reader.position().0;
    while let Some(item) = reader.next_unfiltered()? {
        match item {
            Unfiltered::Row(row) => {
                let at = row.offset.0;
                last_offset = at;
                summary.rows += 1;
                summary.cells += row.cells.len() as u64;
                if row.is_static {
                    if seen_static || seen_clustered {
                        return Err(fail(
                            at,
                            "static row after another static or clustered row".to_string(),
                        ));
                    }
                    seen_static = true;
                } else {
                    seen_clustered = true;
                    if let Some(prev) = &previous_row {
                        let prev = borrowed(prev);
                        let order = match compare {
                            Some(cmp) => cmp(&prev, &row.clustering),
                            None if prev == row.clustering => Ordering::Equal,
                            None => Ordering::Less,
                        };
                        if order != Ordering::Less {
                            return Err(fail(
                                at,
                                format!(
                                    "row {} {} the previous row {}: rows out of order",
                                    show(&row.clustering),
                                    if order == Ordering::Equal {
                                        "duplicates"
                                    } else {
                                        "sorts before"
                                    },
                                    show(&prev)
                                ),
                            ));
                        }
                    }
                    previous_row = Some(
                        row.clustering
                            .iter()
                            .map(|v| v.map(<[u8]>::to_vec))
                            .collect(),
                    );
                }
                check_deletion(&row.deletion, at, "row deletion")?;
                if let Some(d) = &row.scylla_shadowable_deletion {
                    check_deletion(d, at, "row shadowable deletion")?;
                }
                if let Some((ttl, let_)) = row.liveness.ttl {
                    if ttl != EXPIRED_LIVENESS_TTL {
                        check_expiration(ttl, let_, at, "row liveness")?;
                    } else if let_ < 0 {
                        return Err(fail(
                            at,
                            format!(
                                "expired row liveness has a negative local deletion time {let_}"
                            ),
                        ));
                    }
                }
                for (column, d) in &row.complex_deletions {
                    check_deletion(d, at, &format!("complex deletion of column {column}"))?;
                }
                for cell in &row.cells {
                    match cell.kind {
                        crate::data::CellKind::Live => {}
                        crate::data::CellKind::Expiring {
                            ttl,
                            local_expiration_time,
                        } => check_expiration(
                            ttl,
                            local_expiration_time,
                            at,
                            &format!("cell of column {}", cell.column),
                        )?,
                        crate::data::CellKind::Tombstone {
                            local_deletion_time,
                        } => {
                            if local_deletion_time < 0 {
                                return Err(fail(
                                    at,
                                    format!(
                                        "tombstone of column {} has a negative local deletion time {local_deletion_time}: invalid deletion",
                                        cell.column
                                    ),
                                ));
                            }
                        }
                    }
                }
            }
            Unfiltered::Marker(m) => {
                let at = m.offset.0;
                last_offset = at;
                summary.markers += 1;
                seen_clustered = true;
                let clustering = show(&m.values);
                if let Some(d) = &m.close {
                    check_deletion(d, at, "range tombstone")?;
                    match open.take() {
                        None => {
                            return Err(fail(
                                at,
                                format!("range tombstone closed at {clustering} was never opened"),
                            ))
                        }
                        Some(o) if o != *d => {
                            return Err(fail(
                                at,
                                format!(
                                    "range tombstone closed at {clustering} with deletion ({}, {}) but opened with ({}, {})",
                                    d.marked_for_delete_at,
                                    d.local_deletion_time,
                                    o.marked_for_delete_at,
                                    o.local_deletion_time
                                ),
                            ))
                        }
                        Some(_) => {}
                    }
                }
                if let Some(d) = &m.open {
                    check_deletion(d, at, "range tombstone")?;
                    if open.is_some() {
                        return Err(fail(
                            at,
                            format!(
                                "range tombstone opened at {clustering} while another is open: range tombstones must be disjoint"
                            ),
                        ));
                    }
                    open = Some(*d);
                }
            }
        }
    }
    if open.is_some() {
        return Err(fail(
            last_offset,
            "partition ends with a range tombstone still open".to_string(),
        ));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
    use super::*;
    use crate::data::{
        BoundKind, Cell, CellKind, LivenessInfo, PartitionHeader, RangeTombstoneMarker, Row,
    };
    use crate::offsets::DataOffset;

    /// An in-memory partition stream.
    #[derive(Debug, Clone)]
    enum Item {
        Row(bool, Vec<u8>, CellKind, DeletionTime, LivenessInfo),
        Marker(
            BoundKind,
            Vec<u8>,
            Option<DeletionTime>,
            Option<DeletionTime>,
        ),
    }

    struct Mock {
        partitions: Vec<(Vec<u8>, DeletionTime, Vec<Item>)>,
        p: usize,
        i: usize,
        error_at: Option<usize>,
    }

    impl Mock {
        fn new(partitions: Vec<(Vec<u8>, DeletionTime, Vec<Item>)>) -> Mock {
            Mock {
                partitions,
                p: 0,
                i: 0,
                error_at: None,
            }
        }
    }

    impl PartitionReader for Mock {
        fn next_partition(&mut self) -> Result<Option<PartitionHeader<'_>>> {
            if self.error_at == Some(self.p) {
                return Err(Error::Truncated {
                    component: Component::Data,
                    offset: 1000 * self.p as u64,
                    needed: 1,
                    what: "partition key",
                });
            }
            let Some((key, deletion, _)) = self.partitions.get(self.p) else {
                return Ok(None);
            };
            self.p += 1;
            self.i = 0;
            Ok(Some(PartitionHeader {
                key,
                deletion: *deletion,
                offset: DataOffset(1000 * (self.p as u64 - 1)),
            }))
        }

        fn next_unfiltered(&mut self) -> Result<Option<Unfiltered<'_>>> {
            let (_, _, items) = &self.partitions[self.p - 1];
            let Some(item) = items.get(self.i) else {
                return Ok(None);
            };
            let offset = DataOffset(1000 * (self.p as u64 - 1) + 10 * (self.i as u64 + 1));
            self.i += 1;
            Ok(Some(match item {
                Item::Row(is_static, ck, kind, deletion, liveness) => Unfiltered::Row(Row {
                    is_static: *is_static,
                    clustering: if *is_static { vec![] } else { vec![Some(ck)] },
                    liveness: *liveness,
                    deletion: *deletion,
                    deletion_is_shadowable: false,
                    scylla_shadowable_deletion: None,
                    complex_deletions: vec![],
                    cells: vec![Cell {
                        column: 0,
                        timestamp: 1,
                        kind: *kind,
                        path: None,
                        value: b"v",
                    }],
                    offset,
                }),
                Item::Marker(kind, ck, close, open) => Unfiltered::Marker(RangeTombstoneMarker {
                    kind: *kind,
                    values: vec![Some(ck)],
                    close: *close,
                    open: *open,
                    offset,
                }),
            }))
        }

        fn position(&self) -> DataOffset {
            DataOffset(0)
        }
    }

    const LIVE: DeletionTime = DeletionTime::LIVE;
    const DEL: DeletionTime = DeletionTime {
        marked_for_delete_at: 5,
        local_deletion_time: 100,
    };

    fn row(ck: u8) -> Item {
        Item::Row(false, vec![ck], CellKind::Live, LIVE, LivenessInfo::EMPTY)
    }

    fn good() -> Vec<(Vec<u8>, DeletionTime, Vec<Item>)> {
        vec![
            (
                b"a".to_vec(),
                LIVE,
                vec![
                    Item::Row(true, vec![], CellKind::Live, LIVE, LivenessInfo::EMPTY),
                    row(1),
                    Item::Marker(BoundKind::InclStartBound, vec![2], None, Some(DEL)),
                    Item::Marker(BoundKind::InclEndBound, vec![3], Some(DEL), None),
                    row(4),
                ],
            ),
            (b"b".to_vec(), DEL, vec![row(1)]),
        ]
    }

    fn run(
        parts: Vec<(Vec<u8>, DeletionTime, Vec<Item>)>,
        cmp: Option<&ClusteringComparator<'_>>,
    ) -> Result<VerifySummary> {
        verify_partitions(&mut Mock::new(parts), Some(Partitioner::ByteOrdered), cmp)
    }

    fn offset_of(r: Result<VerifySummary>) -> (u64, String) {
        match r.unwrap_err() {
            Error::Invalid {
                component: Component::Data,
                offset,
                message,
            } => (offset, message),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn good_stream_passes() {
        let s = run(good(), None).unwrap();
        assert_eq!(
            s,
            VerifySummary {
                partitions: 2,
                rows: 4,
                markers: 2,
                cells: 4
            }
        );
        let cmp = |a: &[Option<&[u8]>], b: &[Option<&[u8]>]| a.cmp(b);
        run(good(), Some(&cmp)).unwrap();
        // Without a partitioner nothing is said about the key order.
        let mut p = good();
        p.swap(0, 1);
        verify_partitions(&mut Mock::new(p.clone()), None, None).unwrap();
        verify_partitions(&mut Mock::new(p), Some(Partitioner::Local), None).unwrap();
    }

    #[test]
    fn partition_order() {
        let mut p = good();
        p.swap(0, 1);
        let (at, msg) = offset_of(run(p, None));
        assert_eq!(at, 1000);
        assert!(msg.contains("out of order"), "{msg}");
        let mut p = good();
        p[1].0 = b"a".to_vec();
        let (_, msg) = offset_of(run(p, None));
        assert!(msg.contains("repeats"), "{msg}");
    }

    #[test]
    fn negative_deletion_times_and_ttls() {
        let neg = DeletionTime {
            marked_for_delete_at: 5,
            local_deletion_time: -1,
        };
        let mut p = good();
        p[1].1 = neg;
        let (at, msg) = offset_of(run(p, None));
        assert_eq!(at, 1000);
        assert!(msg.contains("partition deletion"), "{msg}");
        let cases = [
            Item::Row(false, vec![9], CellKind::Live, neg, LivenessInfo::EMPTY),
            Item::Row(
                false,
                vec![9],
                CellKind::Expiring {
                    ttl: 10,
                    local_expiration_time: -2_147_483_000,
                },
                LIVE,
                LivenessInfo::EMPTY,
            ),
            Item::Row(
                false,
                vec![9],
                CellKind::Expiring {
                    ttl: -1,
                    local_expiration_time: 5,
                },
                LIVE,
                LivenessInfo::EMPTY,
            ),
            Item::Row(
                false,
                vec![9],
                CellKind::Tombstone {
                    local_deletion_time: -7,
                },
                LIVE,
                LivenessInfo::EMPTY,
            ),
            Item::Row(
                false,
                vec![9],
                CellKind::Live,
                LIVE,
                LivenessInfo {
                    timestamp: Some(1),
                    ttl: Some((10, -5)),
                },
            ),
        ];
        for item in cases {
            let mut p = good();
            p[0].2.push(item.clone());
            let (at, msg) = offset_of(run(p, None));
            assert_eq!(at, 60, "{item:?}: {msg}");
            assert!(msg.contains("negative"), "{msg}");
        }
        let mut p = good();
        p[0].2[2] = Item::Marker(BoundKind::InclStartBound, vec![2], None, Some(neg));
        let (at, _) = offset_of(run(p, None));
        assert_eq!(at, 30);
    }

    #[test]
    fn row_order_and_duplicates() {
        let mut p = good();
        p[0].2.push(row(4));
        let (at, msg) = offset_of(run(p, None));
        assert_eq!(at, 60);
        assert!(msg.contains("duplicates"), "{msg}");
        // Out of order is only seen with a comparator.
        let mut p = good();
        p[0].2.push(row(3));
        run(p.clone(), None).unwrap();
        let cmp = |a: &[Option<&[u8]>], b: &[Option<&[u8]>]| a.cmp(b);
        let (_, msg) = offset_of(run(p, Some(&cmp)));
        assert!(msg.contains("sorts before"), "{msg}");
        // A second static row, or one after clustered rows.
        let mut p = good();
        p[0].2.push(Item::Row(
            true,
            vec![],
            CellKind::Live,
            LIVE,
            LivenessInfo::EMPTY,
        ));
        let (_, msg) = offset_of(run(p, None));
        assert!(msg.contains("static"), "{msg}");
    }

    #[test]
    fn range_tombstone_pairing() {
        let other = DeletionTime {
            marked_for_delete_at: 6,
            local_deletion_time: 100,
        };
        let open = |d| Item::Marker(BoundKind::InclStartBound, vec![7], None, Some(d));
        let close = |d| Item::Marker(BoundKind::InclEndBound, vec![8], Some(d), None);
        for (items, want) in [
            (vec![close(DEL)], "never opened"),
            (vec![open(DEL), open(DEL)], "disjoint"),
            (vec![open(DEL), close(other)], "opened with"),
            (vec![open(DEL)], "still open"),
        ] {
            let mut p = good();
            p[1].2 = items;
            let (_, msg) = offset_of(run(p, None));
            assert!(msg.contains(want), "{msg}");
        }
        // A boundary closes one and opens the next.
        let mut p = good();
        p[1].2 = vec![
            open(DEL),
            Item::Marker(
                BoundKind::ExclEndInclStartBoundary,
                vec![8],
                Some(DEL),
                Some(other),
            ),
            close(other),
        ];
        run(p, None).unwrap();
    }

    #[test]
    fn statistics_sanity() {
        use crate::statistics::{EstimatedHistogram, Stats, TombstoneHistogram};
        let mut st = crate::statistics::Statistics {
            version: crate::version::Version::La,
            entries: vec![],
            validation: None,
            compaction: None,
            stats: None,
            header: None,
        };
        verify_statistics(&st).unwrap();
        let stats = |bins: Vec<(f64, i64)>, max| Stats {
            partition_sizes: EstimatedHistogram::default(),
            cells_per_partition: EstimatedHistogram::default(),
            commit_log_upper_bound: crate::statistics::CommitLogPosition {
                segment_id: 0,
                position: 0,
            },
            min_timestamp: 0,
            max_timestamp: 0,
            min_local_deletion_time: None,
            max_local_deletion_time: None,
            min_ttl: None,
            max_ttl: None,
            compression_ratio: 0.0,
            tombstone_histogram: TombstoneHistogram {
                max_bin_size: Some(max),
                bins,
            },
            sstable_level: 0,
            repaired_at: 0,
            legacy_min_clustering: None,
            legacy_max_clustering: None,
            covered_clustering: None,
            has_legacy_counter_shards: false,
            total_columns_set: None,
            total_rows: None,
            commit_log_lower_bound: None,
            commit_log_intervals: None,
            pending_repair: None,
            is_transient: None,
            originating_host_id: None,
            has_partition_level_deletions: None,
            first_key: None,
            last_key: None,
            token_space_coverage: None,
        };
        st.stats = Some(stats(vec![(1.0, 1), (2.5, 3)], 100));
        verify_statistics(&st).unwrap();
        for (bins, max, want) in [
            (vec![(2.0, 1), (1.0, 1)], 100, "increasing"),
            (vec![(1.0, 1), (1.0, 1)], 100, "increasing"),
            (vec![(f64::NAN, 1)], 100, "invalid"),
            (vec![(1.0, 0)], 100, "invalid"),
            (vec![(1.0, 1), (2.0, 1)], 1, "maximum"),
        ] {
            st.stats = Some(stats(bins, max));
            let e = verify_statistics(&st).unwrap_err();
            assert_eq!(e.component(), Some(Component::Statistics));
            assert!(e.to_string().contains(want), "{e}");
        }
        let mut s = stats(vec![], 100);
        s.partition_sizes.buckets = vec![1, -1];
        st.stats = Some(s);
        assert!(verify_statistics(&st).is_err());
    }

    #[test]
    fn decode_errors_pass_through() {
        let mut m = Mock::new(good());
        m.error_at = Some(1);
        let e = verify_partitions(&mut m, None, None).unwrap_err();
        assert!(matches!(e, Error::Truncated { offset: 1000, .. }), "{e:?}");
    }
}
