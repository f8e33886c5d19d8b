//! Golden tests of DataStax's trie-indexed versions over the corpus's real `aa` (DSE 6.0) and
//! `cb` (DataStax Cassandra on 5.0) sets, `datastax-cc/legacy-sstables/{aa,cb}/legacy_tables/`:
//! the version from the file name, Statistics.db field by field as the bytes hold it (legacy
//! min/max in `aa`; improved min/max, isTransient, the misplaced partition-deletion marker,
//! the host id and the token-space coverage in `cb`), the Rows.db headers' legacy
//! DeletionTime, the digest and chunk checksums, and every partition and row of Data.db
//! verified against Partitions.db and Rows.db. The rows' values are checked by the canon
//! (`cassandra_legacy_*` checks of these sets).

use crate::common;

use std::path::{Path, PathBuf};

use sstable_format::bti::PartitionIndex;
use sstable_format::data::DataReader;
use sstable_format::descriptor::{ComponentName, Descriptor, Generation};
use sstable_format::partitioner::Partitioner;
use sstable_format::partitions::IndexFiles;
use sstable_format::verify::{verify_partition_index, verify_partitions, verify_statistics};
use sstable_format::{
    compute_digest, ChunkIndex, CompressedSource, CompressionInfo, CqlType, DataOffset, DataSource,
    Digest, SliceSource, Statistics, Version,
};

/// One set: its directory and the prefix of its file names (`aa-1-bti-`).
struct Set {
    dir: PathBuf,
    prefix: String,
    descriptor: Descriptor,
}

impl Set {
    fn read(&self, component: &str) -> Vec<u8> {
        let p = self.dir.join(format!("{}{component}", self.prefix));
        std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    fn table(&self) -> String {
        self.dir.file_name().unwrap().to_string_lossy().into_owned()
    }
}

/// Every set of `datastax-cc/legacy-sstables/<ver>/legacy_tables/`, by table name.
fn sets(root: &Path, ver: &str) -> Vec<Set> {
    let base = root.join(format!("datastax-cc/legacy-sstables/{ver}/legacy_tables"));
    let mut out = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(&base)
        .unwrap_or_else(|e| panic!("{}: {e}", base.display()))
        .map(|d| d.unwrap().path())
        .collect();
    dirs.sort();
    for dir in dirs {
        let data = std::fs::read_dir(&dir)
            .unwrap()
            .map(|f| f.unwrap().file_name().to_string_lossy().into_owned())
            .find(|n| n.ends_with("-Data.db"))
            .unwrap_or_else(|| panic!("{}: no Data.db", dir.display()));
        let (descriptor, component) = Descriptor::parse_file_name(&data).unwrap().unwrap();
        assert_eq!(component, ComponentName::Data);
        let prefix = data.trim_end_matches("Data.db").to_string();
        out.push(Set {
            dir,
            prefix,
            descriptor,
        });
    }
    out
}

/// The uncompressed Data.db, every chunk's CRC32 checked, and the whole-file digest checked.
fn data_of(set: &Set, version: Version) -> Vec<u8> {
    let data = set.read("Data.db");
    let digest = Digest::parse(&set.read("Digest.crc32")).unwrap();
    assert_eq!(
        digest.value,
        sstable_format::DigestValue::Checksum(
            compute_digest(version.digest_checksum(), &data).unwrap()
        ),
        "{}: Digest.crc32",
        set.table()
    );
    let info = CompressionInfo::parse(&set.read("CompressionInfo.db"), version).unwrap();
    assert!(info.max_compressed_length().is_some(), "{}", set.table());
    let mut src = CompressedSource::new(&data, &info, version, ChunkIndex(0), None).unwrap();
    let mut out = Vec::new();
    while src.fill(&mut out).unwrap() {}
    out
}

/// (partitions, rows, range-tombstone markers) of each legacy table, in both sets.
fn expected_counts(table: &str) -> (u64, u64, u64) {
    let t = table
        .trim_start_matches("legacy_aa_")
        .trim_start_matches("legacy_cb_");
    match t {
        "clust" | "clust_compact" | "clust_counter" | "clust_counter_compact" => (5, 250, 0),
        "simple" | "simple_compact" | "simple_counter" | "simple_counter_compact" => (5, 5, 0),
        // INSERT (100,4,4,4,4), then DELETE WHERE k=100 AND c1<3: one row, two RT bounds.
        "inaccurate_min_max" => (1, 1, 2),
        other => panic!("unexpected table {other}"),
    }
}

/// Reads one set whole: Statistics.db, Data.db (rows verified), Partitions.db and Rows.db
/// (every entry at the start of its partition). Returns the Statistics.
fn check_set(set: &Set, version: Version) -> Statistics {
    let label = set.table();
    let stats = Statistics::parse(&set.read("Statistics.db"), version)
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    verify_statistics(&stats).unwrap_or_else(|e| panic!("{label}: {e}"));
    let partitioner =
        Partitioner::from_class_name(&stats.validation.as_ref().unwrap().partitioner).unwrap();
    assert_eq!(partitioner, Partitioner::ByteOrdered, "{label}");
    let layout = stats.header.as_ref().unwrap().layout(version).unwrap();
    let data = data_of(set, version);

    let mut reader = DataReader::new(SliceSource::new(&data, DataOffset(0), 4096), layout.clone());
    let summary = verify_partitions(&mut reader, Some(partitioner), None)
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    let (partitions, rows, markers) = expected_counts(&label);
    assert_eq!(
        (summary.partitions, summary.rows, summary.markers),
        (partitions, rows, markers),
        "{label}"
    );
    let st = stats.stats.as_ref().unwrap();
    assert_eq!(st.total_rows, Some(rows as i64), "{label}");

    let partitions_db = set.read("Partitions.db");
    let rows_db = set.read("Rows.db");
    let files = IndexFiles::Bti {
        partitions: &partitions_db,
        rows: &rows_db,
    };
    let index = verify_partition_index(
        SliceSource::new(&data, DataOffset(0), 4096),
        files,
        version,
        Some(layout),
    )
    .unwrap_or_else(|e| panic!("{label}: {e}"));
    assert_eq!(index.entries, partitions, "{label}");

    let pi = PartitionIndex::parse(&partitions_db, version).unwrap();
    assert_eq!(pi.key_count(), partitions, "{label}");
    if partitions == 5 {
        assert_eq!((pi.first_key(), pi.last_key()), (&b"0"[..], &b"4"[..]));
    }
    let mut with_rows_entry = 0;
    for p in pi.partitions(&rows_db, version) {
        let p = p.unwrap_or_else(|e| panic!("{label}: {e}"));
        if let Some(h) = p.row_index {
            // The 12-byte legacy LIVE (int MAX, long MIN) decoded as live.
            assert!(h.deletion.is_live(), "{label}");
            assert!(h.block_count > 1, "{label}");
            with_rows_entry += 1;
        }
    }
    // The 1200-character clusterings make every clust partition wide enough for a row index.
    let wide = label.contains("clust");
    assert_eq!(with_rows_entry > 0, wide, "{label}: Rows.db entries");
    stats
}

#[test]
fn aa_sets_dse_6_0() {
    let Some(root) = common::corpus_root() else {
        return;
    };
    let sets = sets(&root, "aa");
    assert_eq!(sets.len(), 9);
    for set in &sets {
        let label = set.table();
        let d = &set.descriptor;
        assert_eq!(d.version, Some(Version::Aa), "{label}");
        assert_eq!(d.generation, Generation::Int(1));
        let stats = check_set(set, Version::Aa);
        let st = stats.stats.unwrap();
        // aa: legacy min/max lists, pendingRepair, and nothing after it.
        assert!(st.covered_clustering.is_none(), "{label}");
        assert_eq!(st.pending_repair, None);
        assert_eq!(st.is_transient, None);
        assert_eq!(st.has_partition_level_deletions, None);
        assert_eq!(st.originating_host_id, None);
        assert_eq!((st.first_key.as_ref(), st.last_key.as_ref()), (None, None));
        assert_eq!(st.token_space_coverage, None);
        assert_eq!(st.commit_log_intervals.as_ref().map(Vec::len), Some(1));
        let (min, max) = (
            st.legacy_min_clustering.unwrap(),
            st.legacy_max_clustering.unwrap(),
        );
        if label.contains("inaccurate") {
            // The case CASSANDRA-14861 / DB-3691 is about: aa keeps the bound of the range
            // deletion (c1 < 3) in the minimum, though no row has c1 = 3.
            let ints = |v: &[Vec<u8>]| -> Vec<i32> {
                v.iter()
                    .map(|b| i32::from_be_bytes(b.as_slice().try_into().unwrap()))
                    .collect()
            };
            assert_eq!(ints(&min), [3, 4, 4]);
            assert_eq!(ints(&max), [4, 4, 4]);
            assert!(!Version::Aa.has_accurate_min_max());
            assert_eq!(st.min_local_deletion_time, Some(1_569_517_980));
            assert_eq!(st.tombstone_histogram.bins.len(), 1);
        } else if label.contains("clust") {
            assert!(min[0].starts_with(b"0012345678"), "{label}");
            // ck = i + '0123456789' x 120 for i in 0..50: "9…" sorts last.
            assert!(max[0].starts_with(b"9012345678"), "{label}");
        } else {
            assert!(min.is_empty() && max.is_empty(), "{label}");
        }
    }
}

#[test]
fn cb_sets_datastax_cassandra_5_0() {
    let Some(root) = common::corpus_root() else {
        return;
    };
    let sets = sets(&root, "cb");
    assert_eq!(sets.len(), 4);
    for set in &sets {
        let label = set.table();
        let d = &set.descriptor;
        assert_eq!(d.version, Some(Version::Cb), "{label}");
        assert!(matches!(d.generation, Generation::Uuid(_)), "{label}");
        let stats = check_set(set, Version::Cb);
        let st = stats.stats.unwrap();
        assert!(st.legacy_min_clustering.is_none(), "{label}");
        let cov = st.covered_clustering.unwrap();
        assert_eq!((cov.start.kind_ordinal, cov.end.kind_ordinal), (1, 6));
        if label.contains("clust") {
            assert_eq!(cov.types, vec![CqlType::Text], "{label}");
            assert!(cov.start.values[0]
                .as_ref()
                .unwrap()
                .starts_with(b"0012345678"));
        } else {
            assert!(
                cov.types.is_empty() && cov.start.values.is_empty(),
                "{label}"
            );
        }
        // isTransient, then the marker DataStax writes before the host id, then the host id
        // and the token-space coverage (NaN as stored).
        assert_eq!(st.pending_repair, None);
        assert_eq!(st.is_transient, Some(false));
        assert_eq!(st.has_partition_level_deletions, Some(false));
        assert_eq!(
            st.originating_host_id.map(|u| u.to_string()).as_deref(),
            Some("a50baff2-91a2-4b41-8af9-96948179fb28")
        );
        assert!(st.token_space_coverage.unwrap().is_nan());
        assert_eq!((st.first_key.as_ref(), st.last_key.as_ref()), (None, None));
    }
}

/// The same tables written as `aa` and as `cb` hold the same partition keys in the same
/// order with the same number of rows each.
#[test]
fn aa_and_cb_tables_agree() {
    let Some(root) = common::corpus_root() else {
        return;
    };
    let aa = sets(&root, "aa");
    for cb in sets(&root, "cb") {
        let name = cb.table().replace("legacy_cb_", "legacy_aa_");
        let a = aa.iter().find(|s| s.table() == name).unwrap();
        let keys = |set: &Set, v: Version| -> Vec<(Vec<u8>, u64)> {
            let stats = Statistics::parse(&set.read("Statistics.db"), v).unwrap();
            let layout = stats.header.unwrap().layout(v).unwrap();
            let data = data_of(set, v);
            let mut r = DataReader::new(SliceSource::new(&data, DataOffset(0), 4096), layout);
            let mut out = Vec::new();
            while let Some(p) = r.next_partition().unwrap() {
                let key = p.key.to_vec();
                let mut n = 0;
                while r.next_unfiltered().unwrap().is_some() {
                    n += 1;
                }
                out.push((key, n));
            }
            out
        };
        assert_eq!(keys(a, Version::Aa), keys(&cb, Version::Cb), "{name}");
    }
}
