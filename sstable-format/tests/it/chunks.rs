//! Golden test of the Data.db chunk readers over every set of the real-SSTable corpus: each
//! Data.db is read whole through the source its set calls for (compressed, uncompressed with
//! CRC.db, or uncompressed alone), checking every chunk.
// clippy.toml's allow-*-in-tests does not reach helper functions (nor `common`) of a test crate.

use crate::common;

use std::collections::BTreeSet;

use sstable_format::{
    verify_all, verify_uncompressed, ChunkIndex, Component, CompressedSource, CompressionInfo,
    CrcDb, DataOffset, DataSource, Error, UncompressedSource, Version,
};

const INVALID_CHECKSUMS: &str = "scylla/sstables/3.x/lz4/integrity_check/invalid_checksums/";
const PREMATURE_EOF: &str = "scylla/sstables/compression-premature-eof/";

/// Reads the whole source, reusing one buffer the way the row reader does (consumed bytes are
/// dropped once a chunk is read); returns the total length.
fn drain(src: &mut dyn DataSource) -> Result<u64, Error> {
    let mut buf = Vec::new();
    let mut total = 0u64;
    while src.fill(&mut buf)? {
        total += buf.len() as u64;
        buf.clear();
    }
    Ok(total)
}

fn read(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Reads one set's Data.db; returns the uncompressed length and the checked chunk count.
fn read_set(
    root: &std::path::Path,
    e: &common::CatalogEntry,
    version: Version,
) -> Result<(u64, u64, u64), Error> {
    let data = read(&e.component(root, "Data.db"));
    let has = |c: &str| e.components.iter().any(|x| x == c);
    if has("CompressionInfo.db") {
        let info =
            CompressionInfo::parse(&read(&e.component(root, "CompressionInfo.db")), version)?;
        assert_eq!(
            info.class_name(),
            e.compression,
            "{}: CATALOG compression vs CompressionInfo",
            e.pattern
        );
        let mut src = CompressedSource::new(&data, &info, version, ChunkIndex(0), None)?;
        let n = drain(&mut src)?;
        assert_eq!(src.position(), DataOffset(info.data_length()));
        let report = verify_all(&data, &info, version)?;
        assert_eq!(report.uncompressed_bytes, n, "{}", e.pattern);
        assert_eq!(report.compressed_bytes, data.len() as u64);
        Ok((n, report.chunks, info.data_length()))
    } else if has("CRC.db") {
        let crc = CrcDb::parse(&read(&e.component(root, "CRC.db")))?;
        let mut src = UncompressedSource::new(&data, Some(&crc), version, DataOffset(0), None)?;
        let n = drain(&mut src)?;
        let report = verify_uncompressed(&data, &crc, version)?;
        Ok((n, report.chunks, data.len() as u64))
    } else {
        let mut src = UncompressedSource::new(&data, None, version, DataOffset(0), None)?;
        let n = drain(&mut src)?;
        Ok((n, 0, data.len() as u64))
    }
}

#[test]
fn every_corpus_data_db_reads_through_its_chunks() {
    let Some(root) = common::corpus_root() else {
        return;
    };
    let mut codecs_ok = BTreeSet::new();
    let mut versions_ok = BTreeSet::new();
    let (mut sets, mut chunks, mut bytes) = (0, 0u64, 0u64);
    let mut crc_sets = BTreeSet::new();
    let mut seen_invalid_checksums = false;
    let mut seen_premature_eof = false;

    for e in common::catalog(&root) {
        let version: Version = match e.version.parse() {
            Ok(v) => v,
            Err(err) => {
                assert!(e.negative, "{}: {err}", e.pattern);
                eprintln!("skip {} ({err})", e.pattern);
                continue;
            }
        };
        let result = read_set(&root, &e, version);

        if e.pattern.starts_with(INVALID_CHECKSUMS) {
            seen_invalid_checksums = true;
            // Chunk 2 (of 6) at compressed offset 7851 carries a wrong CRC32.
            let err = result.expect_err("invalid_checksums must fail");
            assert!(
                matches!(
                    err,
                    Error::ChecksumMismatch {
                        component: Component::Data,
                        chunk: 2,
                        offset: 7851,
                        ..
                    }
                ),
                "{}: {err}",
                e.pattern
            );
            eprintln!("expected failure {}: {err}", e.pattern);
            continue;
        }
        if e.pattern.starts_with(PREMATURE_EOF) {
            seen_premature_eof = true;
            // Data.db is empty while CompressionInfo.db describes 6 chunks.
            let err = result.expect_err("compression-premature-eof must fail");
            assert!(
                matches!(
                    err,
                    Error::Truncated {
                        component: Component::Data,
                        offset: 0,
                        ..
                    }
                ),
                "{}: {err}",
                e.pattern
            );
            eprintln!("expected failure {}: {err}", e.pattern);
            continue;
        }

        match result {
            Ok((n, c, expected)) => {
                assert_eq!(n, expected, "{}: uncompressed length", e.pattern);
                sets += 1;
                chunks += c;
                bytes += n;
                codecs_ok.insert(e.compression.clone());
                versions_ok.insert(version);
                if e.components.iter().any(|x| x == "CRC.db") {
                    crc_sets.insert(version);
                }
            }
            Err(err) if e.negative => {
                eprintln!("negative set {} fails cleanly: {err}", e.pattern);
            }
            Err(err) => panic!("{}: {err}", e.pattern),
        }
    }
    eprintln!(
        "{sets} sets, {chunks} checksummed chunks, {bytes} uncompressed bytes; codecs {codecs_ok:?}; \
         versions {versions_ok:?}; CRC.db versions {crc_sets:?}"
    );
    assert!(seen_invalid_checksums && seen_premature_eof);
    for codec in [
        "LZ4Compressor",
        "SnappyCompressor",
        "DeflateCompressor",
        "ZstdCompressor",
        "none",
    ] {
        assert!(codecs_ok.contains(codec), "no set read with {codec}");
    }
    // CRC.db in both checksum algorithms: CRC32 (jb, mc) and Adler32 (ka, la).
    for v in [Version::Jb, Version::Ka, Version::La, Version::Mc] {
        assert!(crc_sets.contains(&v), "no CRC.db set of {v}");
    }
}

/// Chunk ranges and positions on a real multi-chunk file (zstd, 6 chunks of 4 KiB).
#[test]
fn partial_chunk_ranges_on_a_real_file() {
    let Some(root) = common::corpus_root() else {
        return;
    };
    let dir = root.join("scylla/sstables/3.x/zstd/multiple_chunks");
    let data = read(&dir.join("mc-1-big-Data.db"));
    let info = CompressionInfo::parse(&read(&dir.join("mc-1-big-CompressionInfo.db")), Version::Mc)
        .expect("parse");
    assert_eq!(info.chunk_count(), 6);
    assert_eq!(info.chunk_length(), 4096);
    assert_eq!(info.option("compression_level"), Some("5"));

    let mut whole = Vec::new();
    let mut src =
        CompressedSource::new(&data, &info, Version::Mc, ChunkIndex(0), None).expect("new");
    while src.fill(&mut whole).expect("fill") {}
    assert_eq!(whole.len() as u64, info.data_length());

    let mid = info.chunk_for(DataOffset(10_000));
    assert_eq!(mid, ChunkIndex(2));
    let mut part = Vec::new();
    let mut src =
        CompressedSource::new(&data, &info, Version::Mc, mid, Some(ChunkIndex(4))).expect("new");
    assert_eq!(src.position(), DataOffset(8192));
    while src.fill(&mut part).expect("fill") {}
    assert_eq!(src.position(), DataOffset(16384));
    assert_eq!(part.as_slice(), whole.get(8192..16384).expect("range"));

    // The last chunk is clamped to the data length.
    let last = ChunkIndex(info.chunk_count() - 1);
    let mut tail = Vec::new();
    let mut src = CompressedSource::new(&data, &info, Version::Mc, last, None).expect("new");
    while src.fill(&mut tail).expect("fill") {}
    assert_eq!(tail.len() as u64, info.data_length() - 5 * 4096);
}

/// jb, ka, la CRC.db files use the algorithms `Version::crc_db_checksum` says, and the wrong one
/// is caught.
#[test]
fn crc_db_algorithm_per_version() {
    let Some(root) = common::corpus_root() else {
        return;
    };
    for (dir, prefix, v, other) in [
        (
            "cassandra/legacy-sstables/jb/Keyspace1",
            "Keyspace1-Standard1-jb-0-",
            Version::Jb,
            Version::Ka,
        ),
        (
            "scylla/sstables/compact_dense",
            "la-1-big-",
            Version::La,
            Version::Mc,
        ),
        (
            "scylla/sstables/empty_index",
            "mc-36-big-",
            Version::Mc,
            Version::La,
        ),
    ] {
        let d = root.join(dir);
        let data = read(&d.join(format!("{prefix}Data.db")));
        let crc = CrcDb::parse(&read(&d.join(format!("{prefix}CRC.db")))).expect("parse");
        verify_uncompressed(&data, &crc, v).unwrap_or_else(|e| panic!("{dir}: {e}"));
        assert!(
            matches!(
                verify_uncompressed(&data, &crc, other),
                Err(Error::ChecksumMismatch { .. })
            ),
            "{dir} read as {other}"
        );
    }
}
