//! Golden test of the split planner over every non-negative multi-partition corpus set with a
//! partition index: for N = 1..4 splits, reading each split's chunks, skipping to its first
//! partition and stopping at its end, then concatenating the splits, gives exactly the
//! partitions of the whole file (same keys, same order, no duplicate, no loss). 3.0+ sets are
//! decoded with `DataReader` (`skip_to` + `with_end`); 2.x sets are walked over the decompressed
//! chunk range. BTI entries without a key get it through `KeyReader` on the real source.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;

use sstable_format::data::DataReader;
use sstable_format::partitioner::Partitioner;
use sstable_format::partitions::IndexFiles;
use sstable_format::split::{plan_splits, ByteRange, KeyReader, SstableSummary, Storage};
use sstable_format::{
    ChunkIndex, CompressedSource, CompressionInfo, CrcDb, DataOffset, DataSource, SliceSource,
    Statistics, UncompressedSource, Version,
};

/// A set that CATALOG.tsv does not mark negative but whose Index.db is deliberately broken.
const EMPTY_INDEX: &str = "scylla/sstables/empty_index/";

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

enum Source<'a> {
    C(CompressedSource<'a>),
    U(UncompressedSource<'a>),
}

impl DataSource for Source<'_> {
    fn fill(&mut self, out: &mut Vec<u8>) -> sstable_format::Result<bool> {
        match self {
            Source::C(s) => s.fill(out),
            Source::U(s) => s.fill(out),
        }
    }
    fn position(&self) -> DataOffset {
        match self {
            Source::C(s) => s.position(),
            Source::U(s) => s.position(),
        }
    }
}

struct Set {
    data: Vec<u8>,
    info: Option<CompressionInfo>,
    crc: Option<CrcDb>,
    version: Version,
}

impl Set {
    /// The source of chunks `first..end` (`end` None: to the end of the file).
    fn source(&self, first: ChunkIndex, end: Option<ChunkIndex>, storage: &Storage) -> Source<'_> {
        match &self.info {
            Some(info) => Source::C(
                CompressedSource::new(&self.data, info, self.version, first, end).unwrap(),
            ),
            None => Source::U(
                UncompressedSource::new(
                    &self.data,
                    self.crc.as_ref(),
                    self.version,
                    storage.chunk_start(first),
                    end.map(|e| DataOffset(storage.chunk_start(e).0.min(self.data.len() as u64))),
                )
                .unwrap(),
            ),
        }
    }

    fn bytes(&self, first: ChunkIndex, end: Option<ChunkIndex>, storage: &Storage) -> Vec<u8> {
        let mut src = self.source(first, end, storage);
        let mut out = Vec::new();
        while src.fill(&mut out).unwrap() {}
        out
    }
}

/// Partition keys of a 2.x Data.db slice, walked without a schema: u16 key, 12-byte deletion,
/// atoms (u16 name; mask; body by mask) until the empty name.
fn keys_2x(data: &[u8]) -> Vec<Vec<u8>> {
    fn u16_at(d: &[u8], p: usize) -> usize {
        usize::from(u16::from_be_bytes([d[p], d[p + 1]]))
    }
    fn i32_at(d: &[u8], p: usize) -> usize {
        usize::try_from(i32::from_be_bytes(d[p..p + 4].try_into().unwrap())).expect("length")
    }
    let mut out = Vec::new();
    let mut p = 0usize;
    while p < data.len() {
        let klen = u16_at(data, p);
        out.push(data[p + 2..p + 2 + klen].to_vec());
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
                let l = u16_at(data, p);
                p += 2 + l + 12;
            } else if mask & 0x06 != 0 {
                p += 16;
                p += 4 + i32_at(data, p);
            } else {
                p += 8;
                p += 4 + i32_at(data, p);
            }
        }
    }
    assert_eq!(p, data.len(), "2.x walk ends at the end of the range");
    out
}

#[test]
fn splits_concatenate_to_the_whole_file() {
    let Some(root) = common::corpus_root() else {
        return;
    };
    let mut checked: BTreeMap<Version, usize> = BTreeMap::new();
    let mut keyless = 0usize;
    for e in common::catalog(&root) {
        let has = |c: &str| e.components.iter().any(|x| x == c);
        if e.negative
            || e.pattern.starts_with(EMPTY_INDEX)
            || (!has("Index.db") && !has("Partitions.db"))
            || !e.component(&root, "Data.db").is_file()
        {
            continue;
        }
        let label = &e.pattern;
        let version: Version = e.version.parse().expect("version");
        let stats_bytes = read(&e.component(&root, "Statistics.db"));
        let stats = Statistics::parse(&stats_bytes, version).expect("Statistics");
        let Some(partitioner) = stats
            .validation
            .as_ref()
            .and_then(|v| Partitioner::from_class_name(&v.partitioner).ok())
        else {
            eprintln!("skip {label}: no partitioner");
            continue;
        };
        let set = Set {
            data: read(&e.component(&root, "Data.db")),
            info: has("CompressionInfo.db").then(|| {
                CompressionInfo::parse(&read(&e.component(&root, "CompressionInfo.db")), version)
                    .expect("CompressionInfo")
            }),
            crc: (!has("CompressionInfo.db") && has("CRC.db"))
                .then(|| CrcDb::parse(&read(&e.component(&root, "CRC.db"))).unwrap()),
            version,
        };
        let storage = match &set.info {
            Some(info) => Storage::compressed(info, set.data.len() as u64),
            None => Storage::uncompressed(
                set.data.len() as u64,
                set.crc.as_ref().map(CrcDb::chunk_size),
            ),
        };
        let whole = set.bytes(ChunkIndex(0), None, &storage);
        let layout = (!version.is_legacy_layout()).then(|| {
            stats
                .header
                .as_ref()
                .expect("header")
                .layout(version)
                .expect("layout")
        });
        let keys_of = |bytes: &[u8], base: u64, r: Option<&ByteRange>| -> Vec<Vec<u8>> {
            match &layout {
                Some(layout) => {
                    let mut reader = DataReader::new(
                        SliceSource::new(bytes, DataOffset(base), 4096),
                        layout.clone(),
                    );
                    if let Some(r) = r {
                        reader.skip_to(r.data_start).unwrap();
                        reader = reader.with_end(r.data_end);
                    }
                    let mut keys = Vec::new();
                    while let Some(p) = reader
                        .next_partition()
                        .unwrap_or_else(|err| panic!("{label}: {err}"))
                    {
                        keys.push(p.key.to_vec());
                    }
                    keys
                }
                None => {
                    let (s, t) = match r {
                        Some(r) => (
                            (r.data_start.0 - base) as usize,
                            (r.data_end.0 - base) as usize,
                        ),
                        None => (0, bytes.len()),
                    };
                    keys_2x(&bytes[s..t])
                }
            }
        };
        let expected = keys_of(&whole, 0, None);
        if expected.len() < 2 {
            continue;
        }

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
        let mut hook_calls = 0usize;
        let mut keys = KeyReader::new(|o: DataOffset| {
            hook_calls += 1;
            let first = ChunkIndex(o.0 / storage.chunk_length());
            Ok(set.source(first, None, &storage))
        });
        let summary =
            SstableSummary::from_index(files, version, partitioner, storage.clone(), |o| {
                keys.key_at(o)
            })
            .unwrap_or_else(|err| panic!("{label}: summary: {err}"));
        drop(keys);
        keyless += hook_calls;
        assert_eq!(summary.partitions().len(), expected.len(), "{label}");
        let sstables = [summary];

        for n in 1..=4 {
            let splits = plan_splits(&sstables, partitioner, n);
            assert_eq!(
                splits,
                plan_splits(&sstables, partitioner, n),
                "{label}: deterministic"
            );
            assert_eq!(splits.len(), n);
            let mut got = Vec::new();
            for sp in &splits {
                let r = &sp.per_sstable[0];
                if r.is_empty() {
                    continue;
                }
                // Exactly the chunks of the range, not one more.
                let bytes = set.bytes(r.first_chunk, Some(r.end_chunk), &storage);
                let base = storage.chunk_start(r.first_chunk).0;
                let part = keys_of(&bytes, base, Some(r));
                assert_eq!(
                    part.len() as u64,
                    r.partitions,
                    "{label} n={n}: split {}",
                    sp.index
                );
                for k in &part {
                    assert!(
                        sp.range.contains(partitioner, &partitioner.token(k)),
                        "{label} n={n}: key outside its split's token range"
                    );
                }
                got.extend(part);
            }
            assert_eq!(
                got, expected,
                "{label} n={n}: splits concatenate to the file"
            );
        }
        *checked.entry(version).or_default() += 1;
    }
    eprintln!("checked {checked:?}; {keyless} sources opened by the key hook");
    assert!(checked.len() >= 5, "too few versions checked: {checked:?}");
}
