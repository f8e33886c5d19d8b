//! Golden tests of the metadata components (Statistics.db, TOC.txt, Digest.*, Scylla.db) over
//! every CATALOG.tsv set of the real-SSTable corpus.
// clippy.toml's allow-*-in-tests does not reach helper functions (nor `common`) of a test crate.

use crate::common;

use std::path::Path;

use sstable_format::digest::{DigestCoverage, DigestValue};
use sstable_format::scylla::ColumnKind;
use sstable_format::statistics::Statistics;
use sstable_format::{CompressionInfo, CqlType, Digest, ScyllaMetadata, Toc, Version};

fn read(path: &Path) -> Option<Vec<u8>> {
    std::fs::read(path).ok()
}

/// Parses all metadata components of one set; returns a description of what failed.
fn check_set(root: &Path, e: &common::CatalogEntry) -> Vec<String> {
    let mut problems = Vec::new();
    let version: Option<Version> = e.version.parse().ok();
    if let Some(bytes) = read(&e.component(root, "TOC.txt")) {
        match Toc::parse(&bytes) {
            Ok(t) => {
                for c in &e.components {
                    if c != "TOC.txt" && !t.contains(c) && !e.negative {
                        // The catalog lists the files present; the TOC may legitimately omit some.
                        eprintln!("note: {} lists no {c} in TOC.txt", e.pattern);
                    }
                }
            }
            Err(err) => problems.push(format!("TOC: {err}")),
        }
    }
    for c in e.components.iter().filter(|c| c.starts_with("Digest.")) {
        let Some(bytes) = read(&e.component(root, c)) else {
            continue;
        };
        match Digest::parse(&bytes) {
            Ok(d) => {
                if let (Some(v), DigestValue::Checksum(_), Some(data)) =
                    (version, d.value, read(&e.component(root, "Data.db")))
                {
                    let ci = read(&e.component(root, "CompressionInfo.db"))
                        .and_then(|b| CompressionInfo::parse(&b, v).ok());
                    let res = match &ci {
                        Some(ci) => d
                            .verify_compressed(v.digest_checksum(), &data, ci.chunk_offsets())
                            .map(|cov| {
                                // Only 2.x writers ever digested the chunk bodies alone.
                                if cov == DigestCoverage::ChunkBodies && !v.is_legacy_layout() {
                                    problems.push(format!("{v} digest over chunk bodies"));
                                }
                            }),
                        None => d.verify(v.digest_checksum(), &data),
                    };
                    if let Err(err) = res {
                        problems.push(format!("Digest verify: {err}"));
                    }
                }
            }
            Err(err) => problems.push(format!("Digest: {err}")),
        }
    }
    if let Some(bytes) = read(&e.component(root, "Scylla.db")) {
        if let Err(err) = ScyllaMetadata::parse(&bytes) {
            problems.push(format!("Scylla.db: {err}"));
        }
    }
    if let Some(bytes) = read(&e.component(root, "Statistics.db")) {
        match version {
            None => problems.push(format!("version {} not supported", e.version)),
            Some(v) => match Statistics::parse(&bytes, v) {
                Ok(s) => {
                    let part = s
                        .validation
                        .as_ref()
                        .map(|v| v.partitioner_name().to_string());
                    if part.as_deref() != Some(e.partitioner.as_str()) {
                        problems.push(format!("partitioner {part:?} != catalog {}", e.partitioner));
                    }
                    if s.header.is_some() != v.has_serialization_header() {
                        problems.push(format!("header presence wrong for {v}"));
                    }
                    if s.stats.is_none() {
                        problems.push("no stats".into());
                    }
                }
                Err(err) => problems.push(format!("Statistics: {err}")),
            },
        }
    }
    problems
}

#[test]
fn every_catalog_set() {
    let Some(root) = common::corpus_root() else {
        return;
    };
    let mut failures = Vec::new();
    let mut checked = 0;
    for e in common::catalog(&root) {
        if !e.components.iter().any(|c| c == "Statistics.db") {
            continue;
        }
        checked += 1;
        let problems = check_set(&root, &e);
        if e.negative {
            for p in &problems {
                eprintln!("negative set {} failed as allowed: {p}", e.pattern);
            }
        } else if !problems.is_empty() {
            failures.push(format!(
                "{} ({}): {}",
                e.pattern,
                e.version,
                problems.join("; ")
            ));
        }
    }
    assert!(checked > 150, "only {checked} sets checked");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn stats_of(root: &Path, prefix: &str, version: Version) -> Statistics {
    let bytes = std::fs::read(root.join(format!("{prefix}Statistics.db"))).unwrap();
    Statistics::parse(&bytes, version).unwrap()
}

#[test]
fn header_of_write_different_types() {
    let Some(root) = common::corpus_root() else {
        return;
    };
    let s = stats_of(
        &root,
        "scylla/sstables/3.x/uncompressed/write_different_types/mc-1-big-",
        Version::Mc,
    );
    let h = s.header.unwrap();
    assert_eq!(h.partition_key_type, CqlType::Text);
    assert!(h.clustering_types.is_empty());
    assert!(h.static_columns.is_empty());
    let cols: Vec<(String, String)> = h
        .regular_columns
        .iter()
        .map(|c| (c.name_str().into_owned(), c.ty.to_string()))
        .collect();
    let expected = [
        ("asciival", "ascii"),
        ("bigintval", "bigint"),
        ("blobval", "blob"),
        ("boolval", "boolean"),
        ("dateval", "date"),
        ("decimalval", "decimal"),
        ("doubleval", "double"),
        ("durationval", "duration"),
        ("floatval", "float"),
        ("inetval", "inet"),
        ("intval", "int"),
        ("smallintval", "smallint"),
        ("timeuuidval", "timeuuid"),
        ("timeval", "time"),
        ("tinyintval", "tinyint"),
        ("tsval", "timestamp"),
        ("uuidval", "uuid"),
        ("varcharval", "text"),
        ("varintval", "varint"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(cols, expected);
    assert_eq!(h.encoding_stats.min_timestamp, 1_525_385_507_816_568);
    assert_eq!(h.encoding_stats.min_local_deletion_time, 1_442_880_000);
    assert_eq!(h.encoding_stats.min_ttl, 0);
    let st = s.stats.unwrap();
    assert_eq!(st.min_timestamp, 1_525_385_507_816_568);
    assert_eq!(st.total_rows, Some(1));
    assert_eq!(st.total_columns_set, Some(19));
    assert_eq!(st.partition_sizes.count(), 1);
    assert_eq!(st.partition_sizes.max(), Some(179));
    h.layout(Version::Mc).unwrap();
}

#[test]
fn ka_partitioners() {
    let Some(root) = common::corpus_root() else {
        return;
    };
    let s = stats_of(
        &root,
        "cassandra/bloom-filter/ka/foo/foo-atable-ka-1-",
        Version::Ka,
    );
    let v = s.validation.unwrap();
    assert_eq!(v.partitioner, "org.apache.cassandra.dht.Murmur3Partitioner");
    assert_eq!(v.bloom_filter_fp_chance, 0.01);
    let st = s.stats.unwrap();
    assert_eq!(
        (st.min_timestamp, st.max_timestamp),
        (1_428_529_563_371_015, 1_428_529_588_242_944)
    );
    assert_eq!(st.min_local_deletion_time, None);
    assert_eq!(st.min_ttl, None);
    assert_eq!(st.total_rows, None);
    assert!(s.header.is_none());
    let s = stats_of(
        &root,
        "cassandra/legacy-sstables/ka/legacy_tables/legacy_ka_clust/legacy_tables-legacy_ka_clust-ka-1-",
        Version::Ka,
    );
    assert_eq!(
        s.validation.unwrap().partitioner_name(),
        "ByteOrderedPartitioner"
    );
}

#[test]
fn oa_da_nc_stats() {
    let Some(root) = common::corpus_root() else {
        return;
    };
    for (prefix, version, min_ts, max_ts) in [
        (
            "cassandra/legacy-sstables/oa/legacy_tables/legacy_oa_clust/oa-1-big-",
            Version::Oa,
            1_689_932_014_404_000,
            1_689_932_014_582_000,
        ),
        (
            "cassandra/legacy-sstables/da/legacy_tables/legacy_da_clust/da-1-bti-",
            Version::Da,
            1_689_932_032_220_000,
            1_689_932_032_404_001,
        ),
        (
            "cassandra/legacy-sstables/nc/legacy_tables/legacy_nc_clust/nc-1-big-",
            Version::Nc,
            1_676_569_752_957_000,
            1_676_569_753_167_000,
        ),
    ] {
        let s = stats_of(&root, prefix, version);
        let st = s.stats.unwrap();
        assert_eq!(
            (st.min_timestamp, st.max_timestamp),
            (min_ts, max_ts),
            "{prefix}"
        );
        // No deletions: "none" (0xFFFFFFFF unsigned in oa/da, Integer.MAX_VALUE in nc).
        assert_eq!(st.min_local_deletion_time, None);
        assert_eq!(st.max_local_deletion_time, None);
        assert_eq!(st.total_rows, Some(250));
        assert_eq!(st.has_partition_level_deletions, Some(false));
        assert_eq!(st.first_key.as_deref(), Some(&b"0"[..]));
        assert_eq!(st.last_key.as_deref(), Some(&b"4"[..]));
        assert_eq!(st.legacy_min_clustering.is_some(), version == Version::Nc);
        let cov = st.covered_clustering.unwrap();
        assert_eq!(cov.types, vec![CqlType::Text]);
        assert_eq!(cov.start.kind_ordinal, 1, "inclusive start");
        assert_eq!(cov.end.kind_ordinal, 6, "inclusive end");
        assert!(cov.start.values[0]
            .as_ref()
            .unwrap()
            .starts_with(b"0012345678"));
        if version == Version::Nc {
            assert!(st.token_space_coverage.is_none());
        } else {
            // As stored: NaN in the oa set, 1.0 in the da set (ByteOrderedPartitioner).
            let t = st.token_space_coverage.unwrap();
            if version == Version::Oa {
                assert!(t.is_nan());
            } else {
                assert_eq!(t, 1.0);
            }
        }
        let h = s.header.unwrap();
        assert_eq!(h.partition_key_type, CqlType::Text);
        assert_eq!(h.regular_columns.len(), 1);
        assert_eq!(h.regular_columns[0].name, b"val");
    }
}

#[test]
fn scylla_schema_record() {
    let Some(root) = common::corpus_root() else {
        return;
    };
    let dir = "scylla/sstables/counter_test/ks/counter_test-1c6ace40fad111e7b9cf000000000002/";
    let bytes = std::fs::read(root.join(format!("{dir}mt-5-big-Scylla.db"))).unwrap();
    let m = ScyllaMetadata::parse(&bytes).unwrap();
    assert_eq!(m.features, Some(0x7f));
    assert_eq!(m.origin.as_deref(), Some("scylla-sstable"));
    assert_eq!(
        m.scylla_version.as_deref(),
        Some("2026.3.0~dev-0.20260528.065a447a9d54")
    );
    let s = m.schema.unwrap();
    assert_eq!(
        (s.keyspace.as_str(), s.table.as_str()),
        ("ks", "counter_test")
    );
    assert_eq!(
        s.table_id.to_string(),
        "e00bdca2-5a85-11f1-b97d-4a3647962250"
    );
    let cols: Vec<_> = s
        .columns
        .iter()
        .map(|c| (c.kind, c.name.as_str(), c.ty.clone()))
        .collect();
    assert_eq!(
        cols,
        vec![
            (ColumnKind::PartitionKey, "$pk", CqlType::Int),
            (ColumnKind::Clustering, "$ck0", CqlType::Int),
            (ColumnKind::Regular, "c1", CqlType::Counter),
            (ColumnKind::Regular, "c2", CqlType::Counter),
        ]
    );
    // The ms sibling has no schema record and no trailing CRC.
    let bytes = std::fs::read(root.join(format!("{dir}ms-5-big-Scylla.db"))).unwrap();
    let m = ScyllaMetadata::parse(&bytes).unwrap();
    assert!(m.schema.is_none() && m.components_digests.is_none());
}

#[test]
fn header_columns_partition_simple_first() {
    let Some(root) = common::corpus_root() else {
        return;
    };
    let mut reordered = 0;
    for e in common::catalog(&root) {
        let Ok(v) = e.version.parse::<Version>() else {
            continue;
        };
        let Ok(bytes) = std::fs::read(e.component(&root, "Statistics.db")) else {
            continue;
        };
        let Ok(Statistics {
            header: Some(h), ..
        }) = Statistics::parse(&bytes, v)
        else {
            continue;
        };
        let all = std::iter::once(&h.partition_key_type)
            .chain(&h.clustering_types)
            .chain(h.static_columns.iter().map(|c| &c.ty))
            .chain(h.regular_columns.iter().map(|c| &c.ty));
        for t in all {
            if t.to_string().contains('\'') {
                eprintln!("{}: custom type {t}", e.pattern);
            }
        }
        for statics in [false, true] {
            let file = if statics {
                &h.static_columns
            } else {
                &h.regular_columns
            };
            let ordered = h.ordered_columns(statics);
            assert_eq!(ordered.len(), file.len());
            let first_complex = ordered.iter().position(|c| c.ty.is_multi_cell());
            if let Some(i) = first_complex {
                assert!(
                    ordered[i..].iter().all(|c| c.ty.is_multi_cell()),
                    "{}",
                    e.pattern
                );
            }
            if ordered.iter().zip(file.iter()).any(|(a, b)| *a != b) {
                reordered += 1;
            }
        }
    }
    eprintln!("{reordered} header column lists stored complex before simple columns");
}
