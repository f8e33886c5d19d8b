//! Golden test of `compare`: every 3.0+ set of the corpus with a serialization header is
//! decoded, and its partitions must come in strictly increasing (token, key) order and, within
//! each partition, its rows and range-tombstone markers in strictly increasing clustering order
//! (the static row first). Non-negative sets must pass; negative sets that break the order are
//! reported (e.g. `cf_with_duplicates_3_0` holds duplicate rows on purpose).

use crate::common;

use std::cmp::Ordering;
use std::path::Path;

use sstable_format::compare::{compare_partitions_by_token, ClusteringComparator, Position};
use sstable_format::data::{BoundKind, DataReader, Unfiltered};
use sstable_format::partitioner::{Partitioner, Token};
use sstable_format::statistics::Statistics;
use sstable_format::{
    ChunkIndex, CompressedSource, CompressionInfo, CrcDb, DataOffset, DataSource,
    UncompressedSource, Version,
};

/// An owned copy of a position, to compare with the next one.
#[derive(Debug, Clone)]
enum Owned {
    Static,
    Row(Vec<Option<Vec<u8>>>),
    Bound(BoundKind, Vec<Option<Vec<u8>>>),
}

fn own(values: &[Option<&[u8]>]) -> Vec<Option<Vec<u8>>> {
    values.iter().map(|v| v.map(<[u8]>::to_vec)).collect()
}

fn borrow(values: &[Option<Vec<u8>>]) -> Vec<Option<&[u8]>> {
    values.iter().map(|v| v.as_deref()).collect()
}

fn owned_of(u: &Unfiltered<'_>) -> Owned {
    match Position::of(u) {
        Position::Static => Owned::Static,
        Position::Row(v) => Owned::Row(own(v)),
        Position::Bound(k, v) => Owned::Bound(k, own(v)),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[derive(Debug, Default)]
struct Report {
    clustering: String,
    partitions: u64,
    unfiltereds: u64,
    markers: u64,
    violations: Vec<String>,
}

/// Checks one set; `Err` if it cannot be read at all.
fn check_set(root: &Path, e: &common::CatalogEntry, version: Version) -> Result<Report, String> {
    let read = |suffix: &str| std::fs::read(e.component(root, suffix));
    let stats_bytes = read("Statistics.db").map_err(|x| format!("Statistics.db: {x}"))?;
    let stats = Statistics::parse(&stats_bytes, version).map_err(|x| x.to_string())?;
    let header = stats.header.as_ref().ok_or("no serialization header")?;
    let partitioner = stats
        .validation
        .as_ref()
        .ok_or("no validation metadata")
        .and_then(|v| Partitioner::from_class_name(&v.partitioner).map_err(|_| "partitioner"))?;
    let layout = header.layout(version).map_err(|x| x.to_string())?;
    let cmp = ClusteringComparator::new(header.clustering_types.clone());
    let data = read("Data.db").map_err(|x| format!("Data.db: {x}"))?;
    let info;
    let crc;
    let source: Box<dyn DataSource> = match read("CompressionInfo.db") {
        Ok(ci) => {
            info = CompressionInfo::parse(&ci, version).map_err(|x| x.to_string())?;
            Box::new(
                CompressedSource::new(&data, &info, version, ChunkIndex(0), None)
                    .map_err(|x| x.to_string())?,
            )
        }
        Err(_) => {
            crc = match read("CRC.db") {
                Ok(b) => Some(CrcDb::parse(&b).map_err(|x| x.to_string())?),
                Err(_) => None,
            };
            Box::new(
                UncompressedSource::new(&data, crc.as_ref(), version, DataOffset(0), None)
                    .map_err(|x| x.to_string())?,
            )
        }
    };
    let mut reader = DataReader::new(source, layout);
    let mut report = Report {
        clustering: header
            .clustering_types
            .iter()
            .map(|t| match t {
                sstable_format::CqlType::Reversed(inner) => format!("{inner} DESC"),
                t => t.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", "),
        ..Report::default()
    };
    let mut prev_key: Option<(Token, Vec<u8>)> = None;
    loop {
        let (key, token) = match reader.next_partition() {
            Ok(Some(p)) => (p.key.to_vec(), partitioner.token(p.key)),
            Ok(None) => break,
            Err(x) => return Err(format!("decode: {x}")),
        };
        report.partitions += 1;
        if let Some((pt, pk)) = &prev_key {
            let o = compare_partitions_by_token(partitioner, pt, pk, &token, &key);
            if o != Ordering::Less {
                report.violations.push(format!(
                    "partition {} (token {token}) is not after {} (token {pt}): {o:?}",
                    hex(&key),
                    hex(pk)
                ));
            }
        }
        let mut prev: Option<Owned> = None;
        loop {
            let u = match reader.next_unfiltered() {
                Ok(Some(u)) => u,
                Ok(None) => break,
                Err(x) => return Err(format!("decode: {x}")),
            };
            report.unfiltereds += 1;
            if matches!(u, Unfiltered::Marker(_)) {
                report.markers += 1;
            }
            let cur = Position::of(&u);
            if let Some(p) = &prev {
                let (pv_row, pv_bound);
                let prev_pos = match p {
                    Owned::Static => Position::Static,
                    Owned::Row(v) => {
                        pv_row = borrow(v);
                        Position::Row(&pv_row)
                    }
                    Owned::Bound(k, v) => {
                        pv_bound = borrow(v);
                        Position::Bound(*k, &pv_bound)
                    }
                };
                let o = cmp.compare_positions(&prev_pos, &cur);
                if o != Ordering::Less {
                    report.violations.push(format!(
                        "partition {}: {cur:?} is not after {prev_pos:?}: {o:?}",
                        hex(&key)
                    ));
                }
            }
            prev = Some(owned_of(&u));
        }
        prev_key = Some((token, key));
    }
    Ok(report)
}

#[test]
fn corpus_is_in_cassandra_order() {
    let Some(root) = common::corpus_root() else {
        return;
    };
    let mut checked = 0;
    let mut failures = Vec::new();
    for e in common::catalog(&root) {
        let Ok(version) = e.version.parse::<Version>() else {
            continue;
        };
        if !version.has_serialization_header() || !e.components.iter().any(|c| c == "Data.db") {
            continue;
        }
        match check_set(&root, &e, version) {
            Ok(r) => {
                checked += 1;
                eprintln!(
                    "{}{}: ({}) {} partitions, {} unfiltereds ({} markers), {} violations",
                    e.pattern,
                    if e.negative { " (negative)" } else { "" },
                    r.clustering,
                    r.partitions,
                    r.unfiltereds,
                    r.markers,
                    r.violations.len()
                );
                for v in r.violations.iter().take(5) {
                    eprintln!("    {v}");
                }
                if !e.negative && !r.violations.is_empty() {
                    failures.push(format!("{}: {}", e.pattern, r.violations[0]));
                }
            }
            Err(x) => {
                eprintln!(
                    "{}{}: not checked: {x}",
                    e.pattern,
                    if e.negative { " (negative)" } else { "" }
                );
                if !e.negative {
                    failures.push(format!("{}: {x}", e.pattern));
                }
            }
        }
    }
    eprintln!("{checked} sets checked");
    assert!(checked > 0, "no 3.0+ set with a header in the corpus");
    assert!(
        failures.is_empty(),
        "out of order:\n{}",
        failures.join("\n")
    );
}
