//! Planning: the splits `plan`, `dump --shard`/`--split` and `export` read: each table cut into token
//! ranges of about equal stored bytes over all its SSTables (all nodes, all generations), each
//! of which merges on its own (see [`sstable_format::split`]).
//!
//! Partition starts come from each set's index (`Index.db`, or `Partitions.db` + `Rows.db`, BTI
//! keys missing from the trie being read from `Data.db`). The index is only a shortcut: a set
//! whose index is missing, unreadable, empty while `Data.db` is not, or whose first entry is
//! not at `Data.db` byte 0 (a 0-byte, cut or damaged `Index.db` / `Partitions.db`) is never
//! left out of the plan (issue 11 item 2): its `Data.db` is scanned sequentially for partition
//! starts instead, with a note on stderr naming the index and why. A 3.0+ set is scanned here
//! (its header gives the layout); a 2.x set needs its table's schema to be read, which the
//! caller knows ([`ScanStarts`]): without one, planning fails rather than drop the set.
//!
//! Shards: with `N` shards and `M` splits per table (`M` defaults to `N`), shard `K` runs the
//! splits `i` with `i mod N == K` of every table, each split merged alone, in ring order.

use std::path::PathBuf;

use sstable_format::chunks::{CompressedSource, UncompressedSource};
use sstable_format::data::DataReader;
use sstable_format::descriptor::ComponentName;
use sstable_format::partitioner::Partitioner;
use sstable_format::partitions::IndexFiles;
use sstable_format::split::{
    plan_splits, ByteRange, CheckedRange, KeyReader, PartitionStart, Split, SstableSummary, Storage,
};
use sstable_format::{ChunkIndex, DataOffset};

use crate::config::ShardPlan;
use crate::discover::opened::{map_file, AnySource, OpenedSet};
use crate::error::Error;

/// Where a set's partition starts came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartsFrom {
    /// `Index.db`.
    Index,
    /// `Partitions.db` (and `Rows.db`).
    Partitions,
    /// A sequential scan of `Data.db`.
    DataScan,
}

impl StartsFrom {
    /// How `plan` names the source.
    pub fn name(self) -> &'static str {
        match self {
            StartsFrom::Index => "Index.db",
            StartsFrom::Partitions => "Partitions.db",
            StartsFrom::DataScan => "Data.db scan",
        }
    }
}

/// The splits of one table.
#[derive(Debug)]
pub struct TableSplits {
    /// Keyspace (`?` when unknown).
    pub keyspace: String,
    /// Table (`?` when unknown).
    pub table: String,
    /// The table's partitioner.
    pub partitioner: Partitioner,
    /// The sets, in the table group's order (`ByteRange::sstable` indexes this).
    pub sets: Vec<PlannedSet>,
    /// The splits, in ring order.
    pub splits: Vec<Split>,
}

/// One set of a planned table.
#[derive(Debug)]
pub struct PlannedSet {
    /// Data.db.
    pub data_path: PathBuf,
    /// Its partitions.
    pub partitions: u64,
    /// Uncompressed length.
    pub data_length: u64,
    /// Stored length.
    pub stored_length: u64,
    /// Where the partition starts came from.
    pub starts_from: StartsFrom,
}

/// The storage geometry of an opened set.
pub fn storage_of(o: &OpenedSet) -> Storage {
    match &o.compression {
        Some(info) => Storage::compressed(info, o.data.len()),
        None => Storage::uncompressed(o.data.len(), o.crc.as_ref().map(|c| c.chunk_size())),
    }
}

/// How a source reads: a run of chunks in order (read-ahead), or scattered probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Sequential,
    Probe,
}

/// A source over chunks `first..end` of a set's Data.db (`end: None`: to the end; for an
/// uncompressed file the source stops at `data_end` when given). For an object, only the
/// stored bytes of those chunks are requested.
fn chunk_source<'a>(
    o: &'a OpenedSet,
    storage: &Storage,
    first: ChunkIndex,
    end: Option<ChunkIndex>,
    data_end: Option<DataOffset>,
    access: Access,
) -> Result<AnySource<'a>, Error> {
    let len = o.data.len();
    let wrap = |source| Error::Format {
        path: o.data_path.clone(),
        source,
    };
    let bytes = |window: std::ops::Range<u64>| match access {
        Access::Sequential => o.data.ranges(window),
        Access::Probe => o.data.probe(storage.chunk_length()),
    };
    Ok(match &o.compression {
        Some(info) => {
            let offs = info.chunk_offsets();
            let at = |c: ChunkIndex| {
                usize::try_from(c.0)
                    .ok()
                    .and_then(|i| offs.get(i))
                    .map_or(len, |f| f.0.min(len))
            };
            let window = at(first)..end.map_or(len, at);
            AnySource::Compressed(
                CompressedSource::with_ranges(bytes(window)?, info, o.version, first, end)
                    .map_err(wrap)?,
            )
        }
        None => {
            let start = storage.chunk_start(first);
            // With CRC.db the slice holding `data_end` is read whole.
            let slice = o
                .crc
                .as_ref()
                .map_or(1, |c| u64::from(c.chunk_size()).max(1));
            let window_end =
                data_end.map_or(len, |e| e.0.div_ceil(slice).saturating_mul(slice).min(len));
            AnySource::Uncompressed(
                UncompressedSource::with_ranges(
                    bytes(start.0..window_end)?,
                    o.crc.as_ref(),
                    o.version,
                    start,
                    data_end,
                )
                .map_err(wrap)?,
            )
        }
    })
}

/// The source a split reads from one set: the range's chunks only. The reader built on it must
/// then `skip_to(range.data_start)` and stop at `with_end(range.data_end)` (see
/// [`restrict_data`]).
pub fn range_source<'a>(o: &'a OpenedSet, range: &ByteRange) -> Result<AnySource<'a>, Error> {
    let storage = storage_of(o);
    chunk_source(
        o,
        &storage,
        range.first_chunk,
        Some(range.end_chunk),
        Some(range.data_end),
        Access::Sequential,
    )
}

/// A `DataReader` limited to `range` (none: unchanged), which checks that the partitions it
/// reads are the ones the index gave the range (see [`CheckedRange`]).
pub fn restrict_data<S: sstable_format::DataSource>(
    mut reader: DataReader<S>,
    range: Option<&ByteRange>,
) -> sstable_format::Result<CheckedRange<DataReader<S>>> {
    if let Some(r) = range {
        reader.skip_to(r.data_start)?;
        reader = reader.with_end(r.data_end);
    }
    Ok(CheckedRange::new(reader, range))
}

/// A `LegacyReader` limited to `range` (none: unchanged).
pub fn restrict_legacy<S: sstable_format::DataSource>(
    mut reader: sstable_format::legacy::LegacyReader<S>,
    range: Option<&ByteRange>,
) -> sstable_format::Result<CheckedRange<sstable_format::legacy::LegacyReader<S>>> {
    if let Some(r) = range {
        reader.skip_to(r.data_start)?;
        reader = reader.with_end(r.data_end);
    }
    Ok(CheckedRange::new(reader, range))
}

/// Reads the partition starts (key, `Data.db` offset) of set `i` of the table sequentially from
/// its `Data.db`: the fallback for a 2.x set whose index is unusable, given by a caller that
/// knows the schema a 2.x `Data.db` needs to be read (see `commands::starts`).
pub type ScanStarts<'a> = &'a dyn Fn(usize) -> Result<Vec<(Vec<u8>, DataOffset)>, Error>;

/// Why an index that parsed cannot stand for its set's partitions, if it cannot: it lists no
/// partition while `Data.db` has bytes (a 0-byte or emptied file), or its first partition is
/// not at `Data.db` byte 0 (every `Data.db` starts with a partition). Either would leave
/// partitions out of every split.
fn unusable_index(s: &SstableSummary) -> Option<String> {
    let data_length = s.storage().data_length();
    match s.partitions().first() {
        None if data_length > 0 => Some(format!(
            "it lists no partition while Data.db holds {data_length} byte(s)"
        )),
        Some(p) if p.data_offset.0 != 0 => Some(format!(
            "its first partition starts at Data.db byte {}, not 0",
            p.data_offset
        )),
        _ => None,
    }
}

/// The planner's summary of one opened set (set `i` of its table).
fn summarize(
    o: &OpenedSet,
    i: usize,
    partitioner: Partitioner,
    scan: Option<ScanStarts<'_>>,
) -> Result<(SstableSummary, StartsFrom), Error> {
    let storage = storage_of(o);
    let wrap = |path: PathBuf| {
        move |source| Error::Format {
            path: path.clone(),
            source,
        }
    };
    let comp = |c: &ComponentName| o.set.components.get(c).cloned();
    let from_index = if let Some(p) = comp(&ComponentName::Index) {
        let bytes = map_file(&o.io, &p)?;
        Some((
            SstableSummary::from_index(
                IndexFiles::Big {
                    index: bytes.bytes(),
                },
                o.version,
                partitioner,
                storage.clone(),
                |_| {
                    Err(sstable_format::Error::invalid(
                        sstable_format::Component::Index,
                        0,
                        "Index.db entry without a key",
                    ))
                },
            )
            .map_err(wrap(p)),
            StartsFrom::Index,
        ))
    } else if let Some(p) = comp(&ComponentName::Partitions) {
        let parts = map_file(&o.io, &p)?;
        let rows = match comp(&ComponentName::Rows) {
            Some(r) => Some(map_file(&o.io, &r)?),
            None => None,
        };
        let mut keys = KeyReader::new(|at: DataOffset| {
            let first = ChunkIndex(at.0 / storage.chunk_length());
            chunk_source(o, &storage, first, None, None, Access::Probe).map_err(|e| match e {
                Error::Format { source, .. } => source,
                other => sstable_format::Error::Source {
                    component: sstable_format::Component::Data,
                    name: o.data_path.display().to_string(),
                    offset: at.0,
                    len: 0,
                    message: other.to_string(),
                },
            })
        });
        Some((
            SstableSummary::from_index(
                IndexFiles::Bti {
                    partitions: parts.bytes(),
                    rows: rows.as_ref().map_or(&[][..], |r| r.bytes()),
                },
                o.version,
                partitioner,
                storage.clone(),
                |at| keys.key_at(at),
            )
            .map_err(wrap(p)),
            StartsFrom::Partitions,
        ))
    } else {
        None
    };
    let index_path = comp(&ComponentName::Index).or_else(|| comp(&ComponentName::Partitions));
    let why = match from_index {
        Some((Ok(s), from)) => match unusable_index(&s) {
            None => return Ok((s, from)),
            Some(why) => format!(
                "{}: unusable index: {why}",
                index_path
                    .as_ref()
                    .map_or(o.data_path.clone(), |p| p.clone())
                    .display()
            ),
        },
        Some((Err(e), _)) => format!("unusable index: {e}"),
        None => "no partition index".to_string(),
    };
    let note = || {
        eprintln!(
            "note: {}: {why}; the index is only a shortcut: reading Data.db for partition starts",
            o.data_path.display()
        );
    };
    if o.version.is_legacy_layout() {
        let Some(scan) = scan else {
            return Err(Error::Unsupported(format!(
                "{}: cannot plan splits of a 2.x set without a readable index ({why})",
                o.data_path.display()
            )));
        };
        note();
        let keys = scan(i)?;
        let s = SstableSummary::from_keys(partitioner, storage, keys.into_iter().map(Ok))
            .map_err(wrap(o.data_path.clone()))?;
        return Ok((s, StartsFrom::DataScan));
    }
    note();
    let header = o.statistics.header.as_ref().ok_or_else(|| {
        Error::Schema(format!(
            "{}: no serialization header",
            o.data_path.display()
        ))
    })?;
    let data_err = wrap(o.data_path.clone());
    let layout = header.layout(o.version).map_err(&data_err)?;
    let mut reader = DataReader::new(o.source()?, layout);
    let mut starts = Vec::new();
    while let Some(p) = reader.next_partition().map_err(&data_err)? {
        starts.push(Ok(PartitionStart {
            token: partitioner.token(p.key),
            data_offset: p.offset,
        }));
    }
    let s = SstableSummary::new(partitioner, storage, starts).map_err(&data_err)?;
    Ok((s, StartsFrom::DataScan))
}

/// Plans `n` splits of a table whose sets are `opened` (in the table group's order); `scan`
/// reads the partition starts of a 2.x set whose index is unusable.
pub fn plan_opened(
    opened: &[OpenedSet],
    n: usize,
    scan: Option<ScanStarts<'_>>,
) -> Result<(Partitioner, Vec<PlannedSet>, Vec<Split>), Error> {
    let mut partitioner: Option<Partitioner> = None;
    let mut summaries = Vec::with_capacity(opened.len());
    let mut sets = Vec::with_capacity(opened.len());
    for (i, o) in opened.iter().enumerate() {
        let p = o.partitioner()?;
        match partitioner {
            None => partitioner = Some(p),
            Some(q) if q != p => {
                return Err(Error::Schema(format!(
                    "{}: partitioner {} differs from {} of the other SSTables of the table",
                    o.data_path.display(),
                    p.class_name(),
                    q.class_name()
                )))
            }
            Some(_) => {}
        }
        let (summary, starts_from) = summarize(o, i, p, scan)?;
        sets.push(PlannedSet {
            data_path: o.data_path.clone(),
            partitions: summary.partitions().len() as u64,
            data_length: summary.storage().data_length(),
            stored_length: summary.storage().stored_length(),
            starts_from,
        });
        summaries.push(summary);
    }
    let partitioner = partitioner.unwrap_or(Partitioner::Murmur3);
    let splits = plan_splits(&summaries, partitioner, n);
    Ok((partitioner, sets, splits))
}

/// Plans `n` splits of a table group opened as `opened` (see [`plan_opened`]).
pub fn plan_group(
    opened: &[OpenedSet],
    n: usize,
    scan: Option<ScanStarts<'_>>,
) -> Result<Vec<Split>, Error> {
    Ok(plan_opened(opened, n, scan)?.2)
}

/// The splits of a table that `shard` runs, in ring order.
pub fn shard_share(shard: &ShardPlan, splits: &[Split]) -> Vec<usize> {
    sstable_format::split::shard_splits(shard.index, shard.count, splits.len()).collect()
}

/// One split a run reads: its index in the table's plan, and its byte range per set (`None`:
/// the whole table, unsplit).
pub type SplitWork = (usize, Option<Vec<ByteRange>>);

/// Uncompressed bytes of a split (`None`: of the whole table).
pub fn split_bytes(opened: &[OpenedSet], ranges: Option<&[ByteRange]>) -> u64 {
    match ranges {
        Some(r) => r
            .iter()
            .map(|b| b.data_end.0.saturating_sub(b.data_start.0))
            .sum(),
        None => opened.iter().map(|o| storage_of(o).data_length()).sum(),
    }
}

/// Stored bytes per split that `--threads` aims for when `--splits` is not given.
pub const AUTO_SPLIT_BYTES: u64 = 128 << 20;

/// Below this many stored bytes per split, a table is not split to use more threads.
pub const MIN_SPLIT_BYTES: u64 = 4 << 20;

/// Splits when not sharded: `splits` (`--splits`) when given, else one per
/// [`AUTO_SPLIT_BYTES`] of `stored` bytes, and at least one per thread as long as each gets
/// [`MIN_SPLIT_BYTES`] (small and medium tables use every core too: a split costs a look-up in
/// the partition index), at most 4 per thread; 1 with one thread.
pub fn auto_splits(splits: Option<usize>, threads: usize, stored: u64) -> usize {
    if let Some(n) = splits {
        return n;
    }
    if threads <= 1 {
        return 1;
    }
    let by_size = usize::try_from(stored.div_ceil(AUTO_SPLIT_BYTES)).unwrap_or(usize::MAX);
    let per_thread = usize::try_from(stored / MIN_SPLIT_BYTES)
        .unwrap_or(usize::MAX)
        .min(threads);
    by_size.max(per_thread).clamp(1, threads.saturating_mul(4))
}

/// The splits a run of a table reads: of `n_splits` splits, this `shard`'s share (or all),
/// empty ones left out; the whole table unsplit when `n_splits <= 1` and not sharded. With a
/// shard, also the estimated stored bytes of its share.
pub fn split_work(
    opened: &[OpenedSet],
    n_splits: usize,
    shard: Option<&ShardPlan>,
    scan: Option<ScanStarts<'_>>,
) -> Result<(Vec<SplitWork>, Option<u64>), Error> {
    if n_splits <= 1 && shard.is_none() {
        return Ok((vec![(0, None)], None));
    }
    let (_, _, splits) = plan_opened(opened, n_splits, scan)?;
    let mine: Vec<usize> = match shard {
        Some(sh) => shard_share(sh, &splits),
        None => (0..splits.len()).collect(),
    };
    let work: Vec<SplitWork> = mine
        .into_iter()
        .filter_map(|i| splits.get(i))
        .filter(|sp| !sp.per_sstable.iter().all(ByteRange::is_empty))
        .map(|sp| (sp.index, Some(sp.per_sstable.clone())))
        .collect();
    let estimated = shard.map(|_| {
        work.iter()
            .filter_map(|(i, _)| splits.get(*i))
            .map(|sp| sp.estimated_bytes)
            .sum()
    });
    Ok((work, estimated))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_medium_tables_split_over_every_thread() {
        // A tiny table is not worth a split; from 2 x 4 MiB on, each thread gets one.
        assert_eq!(auto_splits(None, 2, 100 << 10), 1);
        assert_eq!(auto_splits(None, 2, 6 << 20), 1);
        assert_eq!(auto_splits(None, 2, 66_000_000), 2);
        // Big tables: one split per 128 MiB, at most 4 per thread.
        assert_eq!(auto_splits(None, 2, 300 << 20), 3);
        assert_eq!(auto_splits(None, 2, 10 << 30), 8);
        assert_eq!(auto_splits(None, 1, 10 << 30), 1);
        assert_eq!(auto_splits(Some(5), 2, 1), 5);
    }
}
