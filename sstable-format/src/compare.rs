//! Ordering of values and clustering prefixes (`AbstractType.compare`,
//! `ClusteringComparator`). Interim version: fixed-width integers and text order correctly,
//! other types by unsigned bytes; the complete per-type comparator replaces it.
use std::cmp::Ordering;

use crate::data::BoundKind;
use crate::types::CqlType;

/// Compares two serialized values of type `ty` (interim: signed integers, else bytes).
pub fn compare_values(ty: &CqlType, a: &[u8], b: &[u8]) -> Ordering {
    match (ty, a.is_empty(), b.is_empty()) {
        (_, true, true) => Ordering::Equal,
        (_, true, false) => Ordering::Less,
        (_, false, true) => Ordering::Greater,
        (CqlType::Reversed(inner), _, _) => compare_values(inner, a, b).reverse(),
        (
            CqlType::TinyInt
            | CqlType::SmallInt
            | CqlType::Int
            | CqlType::BigInt
            | CqlType::Timestamp
            | CqlType::Time,
            _,
            _,
        ) if a.len() == b.len() => {
            // Signed big-endian: flip the sign bit of the first byte.
            let fa = a.first().map(|x| x ^ 0x80);
            let fb = b.first().map(|x| x ^ 0x80);
            fa.cmp(&fb).then_with(|| a.get(1..).cmp(&b.get(1..)))
        }
        _ => a.cmp(b),
    }
}

/// Compares clustering prefixes; `types` carry `Reversed` for DESC columns.
#[derive(Debug, Clone)]
pub struct ClusteringComparator {
    types: Vec<CqlType>,
}

impl ClusteringComparator {
    /// A comparator over these clustering types.
    pub fn new(types: Vec<CqlType>) -> Self {
        ClusteringComparator { types }
    }

    fn prefix(&self, a: &[Option<&[u8]>], b: &[Option<&[u8]>]) -> Ordering {
        for (i, (x, y)) in a.iter().zip(b.iter()).enumerate() {
            let o = match (x, y) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(x), Some(y)) => match self.types.get(i) {
                    Some(t) => compare_values(t, x, y),
                    None => x.cmp(y),
                },
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }

    /// Compares two rows' clusterings.
    pub fn compare(&self, a: &[Option<&[u8]>], b: &[Option<&[u8]>]) -> Ordering {
        self.prefix(a, b).then(a.len().cmp(&b.len()))
    }

    /// Compares a row with a range-tombstone bound: on an equal prefix, start-inclusive and
    /// end-exclusive bounds sort before the row, the others after it.
    pub fn compare_row_to_bound(
        &self,
        row: &[Option<&[u8]>],
        kind: BoundKind,
        bound: &[Option<&[u8]>],
    ) -> Ordering {
        self.prefix(row, bound).then(match kind {
            BoundKind::InclStartBound
            | BoundKind::ExclEndBound
            | BoundKind::ExclEndInclStartBoundary => Ordering::Greater,
            _ => Ordering::Less,
        })
    }

    /// Compares two bounds.
    pub fn compare_bounds(
        &self,
        ka: BoundKind,
        a: &[Option<&[u8]>],
        kb: BoundKind,
        b: &[Option<&[u8]>],
    ) -> Ordering {
        let rank = |k: BoundKind| match k {
            BoundKind::InclStartBound
            | BoundKind::ExclEndBound
            | BoundKind::ExclEndInclStartBoundary => 0,
            _ => 1,
        };
        self.prefix(a, b).then(rank(ka).cmp(&rank(kb)))
    }
}
