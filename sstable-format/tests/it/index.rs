//! Golden test of the partition indexes over every non-negative corpus set that has Index.db or
//! Partitions.db: every index position is the start of a partition in the uncompressed Data.db,
//! the keys are Data.db's keys in order and the count is Data.db's partition count; Summary.db
//! samples Index.db entries; the Partitions.db footer agrees with Data.db.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use sstable_format::bti::PartitionIndex;
use sstable_format::data::DataReader;
use sstable_format::index::Index;
use sstable_format::partitions::{partition_offsets, IndexFiles};
use sstable_format::summary::Summary;
use sstable_format::{
    ChunkIndex, Component, CompressedSource, CompressionInfo, CrcDb, DataOffset, DataSource,
    SliceSource, Statistics, UncompressedSource, Version,
};

/// A set that CATALOG.tsv does not mark negative but whose Index.db is deliberately broken.
const EMPTY_INDEX: &str = "scylla/sstables/empty_index/";

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The whole uncompressed Data.db.
fn uncompressed(root: &Path, e: &common::CatalogEntry, version: Version) -> Vec<u8> {
    let data = read(&e.component(root, "Data.db"));
    let has = |c: &str| e.components.iter().any(|x| x == c);
    let mut out = Vec::new();
    if has("CompressionInfo.db") {
        let info = CompressionInfo::parse(&read(&e.component(root, "CompressionInfo.db")), version)
            .expect("CompressionInfo");
        let mut src = CompressedSource::new(&data, &info, version, ChunkIndex(0), None)
            .expect("compressed source");
        while src.fill(&mut out).expect("decompress") {}
    } else {
        let crc = has("CRC.db").then(|| CrcDb::parse(&read(&e.component(root, "CRC.db"))).unwrap());
        let mut src = UncompressedSource::new(&data, crc.as_ref(), version, DataOffset(0), None)
            .expect("uncompressed source");
        while src.fill(&mut out).expect("read") {}
    }
    out
}

/// Partition starts and keys of a 3.0+ Data.db, by the row decoder.
fn partitions_3x(data: &[u8], stats: &[u8], version: Version) -> Vec<(u64, Vec<u8>)> {
    let stats = Statistics::parse(stats, version).expect("Statistics");
    let layout = stats
        .header
        .expect("serialization header")
        .layout(version)
        .expect("layout");
    let mut r = DataReader::new(SliceSource::new(data, DataOffset(0), 4096), layout);
    let mut out = Vec::new();
    // `PartitionHeader::offset` is the start; `position()` before `next_partition` is only the
    // start once the previous partition's rows were read (they are skipped here).
    while let Some(p) = r.next_partition().expect("Data.db partition") {
        out.push((p.offset.0, p.key.to_vec()));
    }
    out
}

/// Partition starts and keys of a 2.x Data.db, walked without a schema: u16 key, 12-byte
/// deletion, atoms (u16 name; mask; body by mask) until the empty name.
fn partitions_2x(data: &[u8]) -> Vec<(u64, Vec<u8>)> {
    fn u16_at(d: &[u8], p: usize) -> usize {
        usize::from(u16::from_be_bytes([d[p], d[p + 1]]))
    }
    fn i32_at(d: &[u8], p: usize) -> usize {
        usize::try_from(i32::from_be_bytes(d[p..p + 4].try_into().unwrap())).expect("length")
    }
    let mut out = Vec::new();
    let mut p = 0usize;
    while p < data.len() {
        let start = p;
        let klen = u16_at(data, p);
        out.push((start as u64, data[p + 2..p + 2 + klen].to_vec()));
        p += 2 + klen + 12;
        loop {
            let nlen = u16_at(data, p);
            p += 2;
            if nlen == 0 {
                break;
            }
            p += nlen;
            let mask = data[p];
            p += 1;
            if mask & 0x10 != 0 {
                // Range tombstone: end bound, DeletionTime.
                let l = u16_at(data, p);
                p += 2 + l + 12;
            } else if mask & 0x04 != 0 {
                // Counter: timestampOfLastDelete, timestamp, value.
                p += 16;
                p += 4 + i32_at(data, p);
            } else if mask & 0x02 != 0 {
                // Expiring: ttl, expiration, timestamp, value.
                p += 16;
                p += 4 + i32_at(data, p);
            } else {
                p += 8;
                p += 4 + i32_at(data, p);
            }
        }
    }
    assert_eq!(p, data.len(), "2.x walk ends at the end of Data.db");
    out
}

#[test]
fn every_index_points_at_partition_starts() {
    let Some(root) = common::corpus_root() else {
        return;
    };
    let mut by_version: BTreeMap<Version, usize> = BTreeMap::new();
    let mut summaries = BTreeSet::new();
    let mut rows_entries = 0usize;
    let mut seen_empty_index = false;
    for e in common::catalog(&root) {
        if e.negative {
            continue;
        }
        let has = |c: &str| e.components.iter().any(|x| x == c);
        if !has("Index.db") && !has("Partitions.db") {
            continue;
        }
        if !e.component(&root, "Data.db").is_file() {
            eprintln!("skip {}: no Data.db", e.pattern);
            continue;
        }
        let version: Version = e.version.parse().expect("version");
        let data = uncompressed(&root, &e, version);
        let expected = if version.is_legacy_layout() {
            partitions_2x(&data)
        } else {
            partitions_3x(&data, &read(&e.component(&root, "Statistics.db")), version)
        };
        let label = &e.pattern;

        let index_bytes;
        let partitions_bytes;
        let rows_bytes;
        let files = if has("Index.db") {
            index_bytes = read(&e.component(&root, "Index.db"));
            IndexFiles::Big {
                index: &index_bytes,
            }
        } else {
            partitions_bytes = read(&e.component(&root, "Partitions.db"));
            rows_bytes = if has("Rows.db") {
                read(&e.component(&root, "Rows.db"))
            } else {
                Vec::new()
            };
            IndexFiles::Bti {
                partitions: &partitions_bytes,
                rows: &rows_bytes,
            }
        };
        let got: Result<Vec<_>, _> = partition_offsets(files, version).and_then(Iterator::collect);
        if label.starts_with(EMPTY_INDEX) {
            // Scylla's broken_sstable_test: Index.db is the single byte 0x0a.
            let err = got.expect_err("empty_index must fail");
            assert_eq!(err.component(), Some(Component::Index), "{err}");
            eprintln!("expected failure {label}: {err}");
            seen_empty_index = true;
            continue;
        }
        let got = got.unwrap_or_else(|err| panic!("{label}: {err}"));
        assert_eq!(got.len(), expected.len(), "{label}: partition count");
        for (i, (g, (off, key))) in got.iter().zip(&expected).enumerate() {
            assert_eq!(g.data_offset.0, *off, "{label}: partition {i} offset");
            if let Some(k) = g.key {
                assert_eq!(k, key.as_slice(), "{label}: partition {i} key");
            }
            // The bytes at the position are the u16 key length and the key.
            let at = g.data_offset.0 as usize;
            assert_eq!(
                &data[at..at + 2],
                &(key.len() as u16).to_be_bytes(),
                "{label}: {i}"
            );
            assert_eq!(&data[at + 2..at + 2 + key.len()], key.as_slice(), "{label}");
        }

        match files {
            IndexFiles::Big { index } => {
                let idx = Index::new(index, version).unwrap();
                let entries: Vec<_> = idx.entries().map(Result::unwrap).collect();
                for en in &entries {
                    en.promoted_index_blocks()
                        .unwrap_or_else(|err| panic!("{label}: promoted index: {err}"));
                }
                if has("Summary.db") {
                    let bytes = read(&e.component(&root, "Summary.db"));
                    let s = Summary::parse(&bytes, version)
                        .unwrap_or_else(|err| panic!("{label}: Summary.db: {err}"));
                    let offsets: BTreeSet<_> = entries.iter().map(|x| x.index_offset).collect();
                    for se in s.entries() {
                        assert!(
                            offsets.contains(&se.index_offset),
                            "{label}: summary offset"
                        );
                        assert_eq!(
                            idx.entry_at(se.index_offset).unwrap().key,
                            se.key,
                            "{label}"
                        );
                    }
                    if let (Some(f), Some(l)) = (entries.first(), entries.last()) {
                        assert_eq!(s.first_key(), f.key, "{label}: summary first key");
                        assert_eq!(s.last_key(), l.key, "{label}: summary last key");
                        assert_eq!(s.entries().first().map(|x| x.key), Some(f.key), "{label}");
                    }
                    summaries.insert(version);
                }
            }
            IndexFiles::Bti { partitions, rows } => {
                let pi = PartitionIndex::parse(partitions, version).unwrap();
                assert_eq!(pi.key_count(), expected.len() as u64, "{label}");
                assert_eq!(pi.first_key(), expected[0].1.as_slice(), "{label}");
                assert_eq!(
                    pi.last_key(),
                    expected[expected.len() - 1].1.as_slice(),
                    "{label}"
                );
                for p in pi.partitions(rows, version) {
                    if let Some(h) = p.unwrap().row_index {
                        assert!(h.block_count > 1, "{label}: a row index has > 1 blocks");
                        rows_entries += 1;
                    }
                }
            }
        }
        eprintln!("ok {label}: {} partitions", got.len());
        *by_version.entry(version).or_default() += 1;
    }
    eprintln!("sets per version {by_version:?}; Summary.db versions {summaries:?}; {rows_entries} Rows.db entries");
    for v in [
        Version::Jb,
        Version::Ka,
        Version::La,
        Version::Ma,
        Version::Mb,
        Version::Mc,
        Version::Md,
        Version::Me,
        Version::Na,
        Version::Nb,
        Version::Nc,
        Version::Oa,
        Version::Da,
        Version::Ms,
        Version::Mt,
        Version::Aa,
        Version::Cb,
    ] {
        assert!(by_version.contains_key(&v), "no set of {v} checked");
    }
    assert!(rows_entries > 0, "no Rows.db entry checked");
    assert!(seen_empty_index);
}
