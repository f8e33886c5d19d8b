//! The fuzz targets: one function per parser, each taking arbitrary bytes and returning
//! nothing. A target must never panic, hang or allocate without bound, whatever the bytes;
//! errors are the expected outcome for most inputs. Shared by the cargo-fuzz targets
//! (`fuzz/fuzz_targets/*.rs`, libFuzzer, nightly) and by the stable mutation driver
//! (`sstable-format/examples/fuzz.rs`, run by `scripts/fuzz.sh`).
//!
//! Input layout: most targets read a version selector from the first byte (an index into
//! [`Version::ALL`], modulo its length) and the component bytes after it. Targets that need
//! two files (Partitions.db + Rows.db, Statistics.db + Data.db, a schema + Data.db) take a
//! 4-byte big-endian length of the first one after the version byte. The seeder
//! ([`seed_inputs`]) builds such inputs from the real corpus.

use sstable_format::bti::PartitionIndex;
use sstable_format::data::{DataReader, PartitionReader};
use sstable_format::digest::Digest;
use sstable_format::index::Index;
use sstable_format::legacy::{LegacyLayout, LegacyReader};
use sstable_format::partitions::{partition_offsets, IndexFiles};
use sstable_format::schema::Schema;
use sstable_format::statistics::Statistics;
use sstable_format::summary::Summary;
use sstable_format::{
    CompressionInfo, CrcDb, DataOffset, ScyllaMetadata, SliceSource, Toc, Version,
};

/// Most items a target walks (partitions, rows, entries) before it stops: bounds the time of
/// one execution whatever the input claims.
pub const MAX_ITEMS: usize = 20_000;

/// A target: a name and the function that runs one input.
pub type Target = (&'static str, fn(&[u8]));

/// Every target, by name.
pub const TARGETS: [Target; 12] = [
    ("statistics", statistics),
    ("compression_info", compression_info),
    ("summary", summary),
    ("index", index),
    ("bti_partitions", bti_partitions),
    ("crc_digest", crc_digest),
    ("toc", toc),
    ("scylla", scylla),
    ("cql_schema", cql_schema),
    ("data_legacy", data_legacy),
    ("data_rows", data_rows),
    ("data_bti", data_bti),
];

/// The version the first byte selects, and the rest.
pub fn split_version(data: &[u8]) -> (Version, &[u8]) {
    match data.split_first() {
        Some((b, rest)) => {
            let all = Version::ALL;
            let v = all
                .get(usize::from(*b) % all.len())
                .copied()
                .unwrap_or(Version::Nb);
            (v, rest)
        }
        None => (Version::Nb, data),
    }
}

/// The version byte of `v` (inverse of [`split_version`]).
pub fn version_byte(v: Version) -> u8 {
    Version::ALL
        .iter()
        .position(|x| *x == v)
        .and_then(|i| u8::try_from(i).ok())
        .unwrap_or(0)
}

/// Two inputs packed as `u32 BE length of the first`, first, second (the second gets what is
/// left when the length is too long).
pub fn split_two(data: &[u8]) -> (&[u8], &[u8]) {
    let Some((len, rest)) = data.split_first_chunk::<4>() else {
        return (data, &[]);
    };
    let n = usize::try_from(u32::from_be_bytes(*len))
        .unwrap_or(usize::MAX)
        .min(rest.len());
    rest.split_at_checked(n).unwrap_or((rest, &[]))
}

/// Packs two inputs for [`split_two`].
pub fn pack_two(first: &[u8], second: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(first.len() + second.len() + 4);
    out.extend_from_slice(&u32::try_from(first.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(first);
    out.extend_from_slice(second);
    out
}

/// `Statistics.db`, and the 3.0+ row layout of its serialization header.
pub fn statistics(data: &[u8]) {
    let (v, bytes) = split_version(data);
    if let Ok(s) = Statistics::parse(bytes, v) {
        if let Some(h) = &s.header {
            let _ = h.layout(v);
        }
    }
}

/// `CompressionInfo.db`, and the chunk arithmetic over a file of the input's length.
pub fn compression_info(data: &[u8]) {
    let (v, bytes) = split_version(data);
    if let Ok(ci) = CompressionInfo::parse(bytes, v) {
        let len = bytes.len() as u64;
        for c in 0..ci.chunk_count().min(MAX_ITEMS as u64) {
            let chunk = sstable_format::ChunkIndex(c);
            let _ = ci.chunk_span(chunk, len);
            let _ = ci.chunk_uncompressed_len(chunk);
        }
        // Decode the input itself as the compressed Data.db it describes.
        if let Ok(mut src) = sstable_format::CompressedSource::new(
            bytes,
            &ci,
            v,
            sstable_format::ChunkIndex(0),
            None,
        ) {
            drain(&mut src);
        }
        let _ = sstable_format::verify_all(bytes, &ci, v);
    }
}

fn drain(src: &mut dyn sstable_format::DataSource) {
    let mut out = Vec::new();
    for _ in 0..MAX_ITEMS {
        out.clear();
        match src.fill(&mut out) {
            Ok(true) => {}
            _ => break,
        }
    }
}

/// `Summary.db`.
pub fn summary(data: &[u8]) {
    let (v, bytes) = split_version(data);
    if let Ok(s) = Summary::parse(bytes, v) {
        let _ = (s.entries().len(), s.first_key(), s.last_key());
        let _ = sstable_format::verify::verify_summary(bytes, v, None);
    }
}

/// `Index.db` (every entry, with its promoted index).
pub fn index(data: &[u8]) {
    let (v, bytes) = split_version(data);
    if let Ok(entries) = Index::parse_entries(bytes, v) {
        for e in entries.take(MAX_ITEMS) {
            match e {
                Ok(e) => {
                    let _ = e.promoted_index_blocks();
                }
                Err(_) => break,
            }
        }
    }
}

/// `Partitions.db` and `Rows.db` (BTI): the trie walk and the row-index headers.
pub fn bti_partitions(data: &[u8]) {
    let (v, rest) = split_version(data);
    let v = if v.format_kind() == sstable_format::version::FormatKind::Bti {
        v
    } else {
        Version::Da
    };
    let (partitions, rows) = split_two(rest);
    if let Ok(pi) = PartitionIndex::parse(partitions, v) {
        let _ = (pi.first_key(), pi.last_key(), pi.key_count());
        for p in pi.partitions(rows, v).take(MAX_ITEMS) {
            if p.is_err() {
                break;
            }
        }
    }
    if let Ok(it) = partition_offsets(IndexFiles::Bti { partitions, rows }, v) {
        for p in it.take(MAX_ITEMS) {
            if p.is_err() {
                break;
            }
        }
    }
}

/// `CRC.db` and `Digest.*`, and CRC.db checked against the rest of the input as Data.db.
pub fn crc_digest(data: &[u8]) {
    let (v, rest) = split_version(data);
    let _ = Digest::parse(rest);
    let (crc, file) = split_two(rest);
    if let Ok(c) = CrcDb::parse(crc) {
        let _ = c.check_count(file.len() as u64);
        if let Ok(mut src) =
            sstable_format::UncompressedSource::new(file, Some(&c), v, DataOffset(0), None)
        {
            drain(&mut src);
        }
    }
}

/// `TOC.txt`.
pub fn toc(data: &[u8]) {
    if let Ok(t) = Toc::parse(data) {
        let _ = t.unknown().count();
        let _ = t.digest_name();
    }
}

/// `Scylla.db`.
pub fn scylla(data: &[u8]) {
    let _ = ScyllaMetadata::parse(data);
}

/// The CQL schema parser (`CREATE TYPE` / `CREATE TABLE`).
pub fn cql_schema(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(s) = Schema::parse(text) {
            if let Some(t) = s.only_table() {
                for v in [Version::Ka, Version::Jb] {
                    let _ = LegacyLayout::from_schema(t, v);
                }
            }
        }
    }
}

/// Walks every partition and row of a reader, bounded.
fn walk(r: &mut dyn PartitionReader) {
    let mut items = 0usize;
    loop {
        match r.next_partition() {
            Ok(Some(_)) => {}
            _ => return,
        }
        loop {
            items += 1;
            if items > MAX_ITEMS {
                return;
            }
            match r.next_unfiltered() {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
}

/// 2.x `Data.db` cells (`LegacyReader`), with the layout of a CQL schema: input is version
/// byte, then [`split_two`] of the schema text and the uncompressed Data.db.
pub fn data_legacy(data: &[u8]) {
    let (v, rest) = split_version(data);
    let v = if v.is_legacy_layout() { v } else { Version::Ka };
    let (schema, file) = split_two(rest);
    let Ok(text) = std::str::from_utf8(schema) else {
        return;
    };
    let Ok(s) = Schema::parse(text) else {
        return;
    };
    let Some(t) = s.only_table() else {
        return;
    };
    let Ok(layout) = LegacyLayout::from_schema(t, v) else {
        return;
    };
    // Small source chunks exercise items cut across chunks.
    let mut r = LegacyReader::new(SliceSource::new(file, DataOffset(0), 61), layout);
    walk(&mut r);
}

fn rows(v: Version, rest: &[u8]) {
    let (stats, file) = split_two(rest);
    let Ok(s) = Statistics::parse(stats, v) else {
        return;
    };
    let Some(h) = &s.header else {
        return;
    };
    let Ok(layout) = h.layout(v) else {
        return;
    };
    let mut r = DataReader::new(SliceSource::new(file, DataOffset(0), 61), layout);
    walk(&mut r);
}

/// 3.0+ `Data.db` rows (BIG formats): version byte, then [`split_two`] of Statistics.db (its
/// serialization header gives the layout) and the uncompressed Data.db.
pub fn data_rows(data: &[u8]) {
    let (v, rest) = split_version(data);
    let v = if v.is_legacy_layout() || v == Version::Da {
        Version::Nb
    } else {
        v
    };
    rows(v, rest);
}

/// Cassandra 5.0 BTI (`da`) `Data.db` rows, as [`data_rows`].
pub fn data_bti(data: &[u8]) {
    let (_, rest) = split_version(data);
    rows(Version::Da, rest);
}
