//! `Summary.db` of the BIG format: every N-th `Index.db` entry (key and Index.db position),
//! plus the SSTable's first and last keys, so a planner can pick split points without reading
//! the whole `Index.db`.
//!
//! Mirrors Cassandra's `IndexSummary.IndexSummarySerializer` (C21 `io/sstable/IndexSummary`;
//! C50 `io/sstable/indexsummary/IndexSummary`) and `IndexSummaryComponent.save`:
//! BE int minIndexInterval, int count, long size of the offsets+entries region, (ka+) int
//! samplingLevel and int sizeAtFullSampling; then `count` **little-endian** int offsets measured
//! from the start of the offsets region; then the entries, each the key bytes followed by an
//! **LE** long Index.db position (an entry ends where the next offset starts); then the first
//! and last keys, each a BE int length + bytes.

use crate::cursor::Cursor;
use crate::error::{Component, Error, Result};
use crate::offsets::IndexOffset;
use crate::version::{FormatKind, Version};

/// One sampled `Index.db` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SummaryEntry<'a> {
    /// Serialized partition key.
    pub key: &'a [u8],
    /// Position of the key's entry in `Index.db`.
    pub index_offset: IndexOffset,
}

/// A parsed `Summary.db` (Cassandra `IndexSummary`). Small by design (Cassandra keeps it in
/// memory), so every entry is decoded and checked up front.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary<'a> {
    min_index_interval: u32,
    sampling_level: Option<u32>,
    size_at_full_sampling: Option<u32>,
    entries: Vec<SummaryEntry<'a>>,
    first_key: &'a [u8],
    last_key: &'a [u8],
}

/// `Downsampling.BASE_SAMPLING_LEVEL`: the sampling level of an unsampled summary.
pub const BASE_SAMPLING_LEVEL: u32 = 128;

impl<'a> Summary<'a> {
    /// Parses a whole `Summary.db`.
    pub fn parse(bytes: &'a [u8], version: Version) -> Result<Summary<'a>> {
        if version.format_kind() != FormatKind::Big {
            return Err(Error::UnsupportedVersion {
                version: version.to_string(),
                reason: "trie-indexed sets have no Summary.db",
            });
        }
        if !version.has_off_heap_summary() {
            return parse_on_heap(bytes);
        }
        let mut c = Cursor::new(bytes, Component::Summary);
        let at = c.offset();
        let min_index_interval = c.read_i32("min index interval")?;
        let min_index_interval = u32::try_from(min_index_interval)
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| {
                c.invalid_at(
                    at,
                    format!("invalid min index interval {min_index_interval}"),
                )
            })?;
        let count = c.read_len_i32("summary entry count")?;
        let at = c.offset();
        let region = c.read_i64("summary size")?;
        let (sampling_level, size_at_full_sampling) = if version.has_summary_sampling_level() {
            let l = c.read_i32("sampling level")?;
            let f = c.read_i32("size at full sampling")?;
            if !(1..=BASE_SAMPLING_LEVEL as i32).contains(&l) || f < 0 {
                return Err(c.invalid(format!(
                    "invalid sampling level {l} / size at full sampling {f}"
                )));
            }
            (Some(l as u32), Some(f as u32))
        } else {
            (None, None)
        };
        let region = usize::try_from(region)
            .ok()
            .filter(|&r| r <= c.remaining())
            .ok_or_else(|| Error::Truncated {
                component: Component::Summary,
                offset: at,
                needed: (region as u64).saturating_sub(c.remaining() as u64),
                what: "summary offsets and entries",
            })?;
        let offsets_len = count
            .checked_mul(4)
            .filter(|&n| n <= region)
            .ok_or_else(|| {
                c.invalid_at(
                    at,
                    format!("{count} offsets do not fit a {region}-byte summary"),
                )
            })?;
        let region_base = c.offset();
        let mut whole = c.split(region, "summary offsets and entries")?;
        let mut offs = whole.split(offsets_len, "summary offsets")?;
        let mut starts = Vec::with_capacity(count);
        for _ in 0..count {
            let at = offs.offset();
            let o = offs.read_i32_le("summary offset")?;
            let o = usize::try_from(o)
                .ok()
                .filter(|&o| o >= offsets_len && o <= region)
                .ok_or_else(|| offs.invalid_at(at, format!("summary offset {o} out of range")))?;
            starts.push(o);
        }
        let region_bytes = bytes
            .get(usize::try_from(region_base).unwrap_or(usize::MAX)..)
            .and_then(|b| b.get(..region))
            .unwrap_or(&[]);
        let mut entries = Vec::with_capacity(count);
        for (i, &start) in starts.iter().enumerate() {
            let end = starts.get(i + 1).copied().unwrap_or(region);
            let at = region_base + start as u64;
            let entry = region_bytes
                .get(start..end)
                .filter(|e| e.len() >= 8)
                .ok_or_else(|| {
                    Error::invalid(
                        Component::Summary,
                        at,
                        format!("summary entry {i} spans {start}..{end}, too short or reversed"),
                    )
                })?;
            let mut e = Cursor::with_base(entry, Component::Summary, at);
            let key = e.read_bytes(entry.len() - 8, "summary key")?;
            let pos_at = e.offset();
            let pos = e.read_i64_le("summary index position")?;
            let pos = u64::try_from(pos)
                .map_err(|_| e.invalid_at(pos_at, format!("negative Index.db position {pos}")))?;
            if entries
                .last()
                .is_some_and(|p: &SummaryEntry<'_>| p.index_offset.0 >= pos)
            {
                return Err(e.invalid_at(pos_at, "Index.db positions are not increasing"));
            }
            entries.push(SummaryEntry {
                key,
                index_offset: IndexOffset(pos),
            });
        }
        let first_key = read_int_bytes(&mut c, "first key")?;
        let last_key = read_int_bytes(&mut c, "last key")?;
        Ok(Summary {
            min_index_interval,
            sampling_level,
            size_at_full_sampling,
            entries,
            first_key,
            last_key,
        })
    }

    /// `minIndexInterval`: at full sampling, one Index.db entry in this many is sampled.
    pub fn min_index_interval(&self) -> u32 {
        self.min_index_interval
    }

    /// The sampling level out of [`BASE_SAMPLING_LEVEL`] (ka+; `None` for jb).
    pub fn sampling_level(&self) -> Option<u32> {
        self.sampling_level
    }

    /// The number of entries the summary would have at full sampling (ka+).
    pub fn size_at_full_sampling(&self) -> Option<u32> {
        self.size_at_full_sampling
    }

    /// The sampled entries, in Index.db order.
    pub fn entries(&self) -> &[SummaryEntry<'a>] {
        &self.entries
    }

    /// The first partition key of the SSTable.
    pub fn first_key(&self) -> &'a [u8] {
        self.first_key
    }

    /// The last partition key of the SSTable.
    pub fn last_key(&self) -> &'a [u8] {
        self.last_key
    }
}

/// The 1.2 (`ic`) layout: C12 `IndexSummary.IndexSummarySerializer.serialize` (BE int index
/// interval, int count, then per entry a BE long Index.db position and an int-length key),
/// then C12 `SSTableReader.saveSummary`'s first and last keys (int length + bytes) and the
/// index and data `SegmentedFile.Builder.serializeBounds` (mmap segment boundaries, a cache
/// of the reader, ignored here as C12 `loadSummary` may ignore them).
fn parse_on_heap(bytes: &[u8]) -> Result<Summary<'_>> {
    let mut c = Cursor::new(bytes, Component::Summary);
    let at = c.offset();
    let interval = c.read_i32("index interval")?;
    let min_index_interval = u32::try_from(interval)
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| c.invalid_at(at, format!("invalid index interval {interval}")))?;
    let count = c.read_len_i32("summary entry count")?;
    // Each entry takes at least 12 bytes: bound the allocation by the input.
    if count.saturating_mul(12) > c.remaining() {
        return Err(c.invalid_at(
            4,
            format!("{count} summary entries do not fit the component"),
        ));
    }
    let mut entries: Vec<SummaryEntry<'_>> = Vec::with_capacity(count);
    for _ in 0..count {
        let pos_at = c.offset();
        let pos = c.read_i64("summary index position")?;
        let pos = u64::try_from(pos)
            .map_err(|_| c.invalid_at(pos_at, format!("negative Index.db position {pos}")))?;
        if entries.last().is_some_and(|p| p.index_offset.0 >= pos) {
            return Err(c.invalid_at(pos_at, "Index.db positions are not increasing"));
        }
        let key = read_int_bytes(&mut c, "summary key")?;
        entries.push(SummaryEntry {
            key,
            index_offset: IndexOffset(pos),
        });
    }
    let first_key = read_int_bytes(&mut c, "first key")?;
    let last_key = read_int_bytes(&mut c, "last key")?;
    Ok(Summary {
        min_index_interval,
        sampling_level: None,
        size_at_full_sampling: None,
        entries,
        first_key,
        last_key,
    })
}

fn read_int_bytes<'a>(c: &mut Cursor<'a>, what: &'static str) -> Result<&'a [u8]> {
    let n = c.read_len_i32(what)?;
    c.read_bytes(n, what)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
    use super::*;

    fn build(keys: &[(&[u8], i64)], sampling: bool) -> Vec<u8> {
        let offsets_len = keys.len() * 4;
        let mut offs = Vec::new();
        let mut ents = Vec::new();
        for (k, p) in keys {
            offs.extend_from_slice(&((offsets_len + ents.len()) as i32).to_le_bytes());
            ents.extend_from_slice(k);
            ents.extend_from_slice(&p.to_le_bytes());
        }
        let mut b = Vec::new();
        b.extend_from_slice(&128i32.to_be_bytes());
        b.extend_from_slice(&(keys.len() as i32).to_be_bytes());
        b.extend_from_slice(&((offs.len() + ents.len()) as i64).to_be_bytes());
        if sampling {
            b.extend_from_slice(&128i32.to_be_bytes());
            b.extend_from_slice(&(keys.len() as i32).to_be_bytes());
        }
        b.extend_from_slice(&offs);
        b.extend_from_slice(&ents);
        for k in [keys.first(), keys.last()] {
            let k = k.map(|k| k.0).unwrap_or(b"");
            b.extend_from_slice(&(k.len() as i32).to_be_bytes());
            b.extend_from_slice(k);
        }
        b
    }

    #[test]
    fn parses_entries_and_keys() {
        let b = build(&[(b"aa", 0), (b"", 300), (b"zzz", 70_000)], true);
        let s = Summary::parse(&b, Version::Ka).unwrap();
        assert_eq!(s.min_index_interval(), 128);
        assert_eq!(s.sampling_level(), Some(128));
        assert_eq!(s.size_at_full_sampling(), Some(3));
        assert_eq!(s.entries().len(), 3);
        assert_eq!(s.entries()[0].key, b"aa");
        assert_eq!(s.entries()[1].key, b"");
        assert_eq!(s.entries()[1].index_offset, IndexOffset(300));
        assert_eq!(s.entries()[2].index_offset, IndexOffset(70_000));
        assert_eq!(s.first_key(), b"aa");
        assert_eq!(s.last_key(), b"zzz");

        let b = build(&[(b"k", 0)], false);
        let s = Summary::parse(&b, Version::Jb).unwrap();
        assert_eq!(s.sampling_level(), None);
        assert_eq!(s.entries().len(), 1);
        assert!(Summary::parse(&b, Version::Da).is_err());

        let b = build(&[], true);
        assert!(Summary::parse(&b, Version::Mc)
            .unwrap()
            .entries()
            .is_empty());
    }

    #[test]
    fn truncation_is_an_error() {
        let b = build(&[(b"aa", 0), (b"bb", 300)], true);
        for cut in 0..b.len() {
            assert!(Summary::parse(&b[..cut], Version::Mc).is_err(), "cut {cut}");
        }
    }

    #[test]
    fn corrupt_values() {
        let good = build(&[(b"aa", 0), (b"bb", 300)], true);
        // Offsets region: header is 24 bytes; first offset at 24.
        let mut b = good.clone();
        b[24..28].copy_from_slice(&1000i32.to_le_bytes());
        assert!(Summary::parse(&b, Version::Mc).is_err());
        // Second entry before the first.
        let mut b = good.clone();
        b[28..32].copy_from_slice(&9i32.to_le_bytes());
        assert!(Summary::parse(&b, Version::Mc).is_err());
        // Decreasing positions: set the second position to 0.
        let mut b = good.clone();
        let p2 = 24 + 8 + 10 + 2;
        b[p2..p2 + 8].copy_from_slice(&0i64.to_le_bytes());
        assert!(Summary::parse(&b, Version::Mc).is_err());
        // Negative count, bad interval, bad sampling level, huge region.
        for (at, v) in [(4usize, -1i32), (0, 0), (16, 0), (16, 129)] {
            let mut b = good.clone();
            b[at..at + 4].copy_from_slice(&v.to_be_bytes());
            assert!(Summary::parse(&b, Version::Mc).is_err(), "{at}");
        }
        let mut b = good.clone();
        b[8..16].copy_from_slice(&i64::MAX.to_be_bytes());
        assert!(Summary::parse(&b, Version::Mc).is_err());
        let mut b = good;
        b[4..8].copy_from_slice(&i32::MAX.to_be_bytes());
        assert!(Summary::parse(&b, Version::Mc).is_err());
    }
}
