//! What a read returns: deletions (partition, range, row, complex, cell) and TTL expiry applied
//! to decoded rows, giving the live cells that Cassandra would return.
//!
//! Mirrors `db/rows/BTreeRow.filter`/`purge`, `db/rows/AbstractCell.isLive`,
//! `db/LivenessInfo.isLive` and `db/rows/Row.Deletion`. Merging of several versions of a row
//! (several SSTables or replicas) happens before this step; a single SSTable is the case of
//! one version.

use crate::data::{Cell, CellKind, DeletionTime, LivenessInfo, Row, EXPIRED_LIVENESS_TTL};

/// The instant a read happens, in seconds since the epoch (drives TTL expiry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Now(pub i64);

impl Now {
    /// Whether a primary-key liveness is live now (`LivenessInfo.isLive`).
    pub fn liveness_is_live(self, l: &LivenessInfo) -> bool {
        match (l.timestamp, l.ttl) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(_), Some((ttl, expires))) => ttl != EXPIRED_LIVENESS_TTL && self.0 < expires,
        }
    }

    /// Whether a cell is live now (`AbstractCell.isLive`).
    pub fn cell_is_live(self, c: &Cell<'_>) -> bool {
        match c.kind {
            CellKind::Live => true,
            CellKind::Expiring {
                local_expiration_time,
                ..
            } => self.0 < local_expiration_time,
            CellKind::Tombstone { .. } => false,
        }
    }
}

/// The deletion in force over a row: the stronger of the partition deletion, the open range
/// tombstone and the row's own deletion.
pub fn effective_deletion(
    partition: DeletionTime,
    range: Option<DeletionTime>,
    row: &Row<'_>,
) -> DeletionTime {
    let mut d = partition;
    if let Some(r) = range {
        if r.supersedes(&d) {
            d = r;
        }
    }
    if row.deletion.supersedes(&d) && !row_deletion_is_shadowed(row) {
        d = row.deletion;
    }
    d
}

/// A shadowable row deletion is ignored once the row's primary-key liveness is newer
/// (`Row.Deletion.isShadowedBy`).
fn row_deletion_is_shadowed(row: &Row<'_>) -> bool {
    row.deletion_is_shadowable
        && row
            .liveness
            .timestamp
            .is_some_and(|ts| ts > row.deletion.marked_for_delete_at)
}

/// The live part of one row after deletions and expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveRow<'r, 'a> {
    /// Whether the primary-key liveness (row marker) is live.
    pub has_live_marker: bool,
    /// Live cells, in column order.
    pub cells: Vec<&'r Cell<'a>>,
    /// Cells hidden by a deletion (partition, range, row or collection).
    pub deleted_cells: u32,
    /// Expiring cells whose TTL has passed.
    pub expired_cells: u32,
}

impl LiveRow<'_, '_> {
    /// Whether the row exists for a read (`Row.hasLiveData`).
    pub fn is_live(&self) -> bool {
        self.has_live_marker || !self.cells.is_empty()
    }
}

/// Applies `deletion` (from [`effective_deletion`]), the row's complex deletions, the ScyllaDB
/// shadowable tombstone and TTL expiry at `now`.
pub fn live_row<'r, 'a>(row: &'r Row<'a>, deletion: DeletionTime, now: Now) -> LiveRow<'r, 'a> {
    let mut deletion = deletion;
    if let Some(s) = row.scylla_shadowable_deletion {
        // ScyllaDB's shadowable tombstone applies unless the row marker is newer.
        let shadowed = row
            .liveness
            .timestamp
            .is_some_and(|ts| ts > s.marked_for_delete_at);
        if !shadowed && s.supersedes(&deletion) {
            deletion = s;
        }
    }
    let has_live_marker = now.liveness_is_live(&row.liveness)
        && row
            .liveness
            .timestamp
            .is_some_and(|ts| !deletion.deletes(ts));
    let mut deleted_cells = 0;
    let mut expired_cells = 0;
    let cells = row
        .cells
        .iter()
        .filter(|c| {
            let shadowed = deletion.deletes(c.timestamp)
                || row
                    .complex_deletions
                    .iter()
                    .any(|(col, d)| *col == c.column && d.deletes(c.timestamp));
            if shadowed {
                deleted_cells += 1;
                return false;
            }
            if !now.cell_is_live(c) {
                if matches!(c.kind, CellKind::Expiring { .. }) {
                    expired_cells += 1;
                }
                return false;
            }
            true
        })
        .collect();
    LiveRow {
        has_live_marker,
        cells,
        deleted_cells,
        expired_cells,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
    use super::*;
    use crate::offsets::DataOffset;

    fn cell(column: u32, timestamp: i64, kind: CellKind) -> Cell<'static> {
        Cell {
            column,
            timestamp,
            kind,
            path: None,
            value: b"v",
        }
    }

    fn row(
        liveness: LivenessInfo,
        deletion: DeletionTime,
        cells: Vec<Cell<'static>>,
    ) -> Row<'static> {
        Row {
            is_static: false,
            clustering: vec![],
            liveness,
            deletion,
            deletion_is_shadowable: false,
            scylla_shadowable_deletion: None,
            complex_deletions: vec![],
            cells,
            offset: DataOffset(0),
        }
    }

    fn del(ts: i64) -> DeletionTime {
        DeletionTime {
            marked_for_delete_at: ts,
            local_deletion_time: 100,
        }
    }

    #[test]
    fn deletions_shadow_older_data() {
        let r = row(
            LivenessInfo {
                timestamp: Some(10),
                ttl: None,
            },
            del(15),
            vec![cell(0, 12, CellKind::Live), cell(1, 20, CellKind::Live)],
        );
        let d = effective_deletion(DeletionTime::LIVE, None, &r);
        let live = live_row(&r, d, Now(0));
        assert!(!live.has_live_marker);
        assert_eq!(live.cells.len(), 1);
        assert_eq!(live.cells[0].column, 1);
        // A stronger partition deletion removes everything.
        let d = effective_deletion(del(30), None, &r);
        assert!(!live_row(&r, d, Now(0)).is_live());
    }

    #[test]
    fn ttl_expiry_and_tombstones() {
        let r = row(
            LivenessInfo {
                timestamp: Some(1),
                ttl: Some((10, 1000)),
            },
            DeletionTime::LIVE,
            vec![
                cell(
                    0,
                    1,
                    CellKind::Expiring {
                        ttl: 10,
                        local_expiration_time: 1000,
                    },
                ),
                cell(
                    1,
                    1,
                    CellKind::Tombstone {
                        local_deletion_time: 5,
                    },
                ),
            ],
        );
        let before = live_row(&r, DeletionTime::LIVE, Now(999));
        assert!(before.has_live_marker);
        assert_eq!(before.cells.len(), 1);
        let after = live_row(&r, DeletionTime::LIVE, Now(1000));
        assert!(!after.is_live());
        let dead_marker = LivenessInfo {
            timestamp: Some(1),
            ttl: Some((EXPIRED_LIVENESS_TTL, 5)),
        };
        assert!(!Now(0).liveness_is_live(&dead_marker));
    }

    #[test]
    fn shadowable_deletion_yields_to_newer_marker() {
        let mut r = row(
            LivenessInfo {
                timestamp: Some(20),
                ttl: None,
            },
            del(15),
            vec![],
        );
        r.deletion_is_shadowable = true;
        let d = effective_deletion(DeletionTime::LIVE, None, &r);
        assert!(d.is_live());
        assert!(live_row(&r, d, Now(0)).has_live_marker);
    }

    #[test]
    fn complex_deletion_applies_per_column() {
        let mut r = row(
            LivenessInfo::EMPTY,
            DeletionTime::LIVE,
            vec![cell(2, 5, CellKind::Live), cell(3, 5, CellKind::Live)],
        );
        r.complex_deletions.push((2, del(6)));
        let live = live_row(&r, DeletionTime::LIVE, Now(0));
        assert_eq!(live.cells.len(), 1);
        assert_eq!(live.cells[0].column, 3);
    }
}
