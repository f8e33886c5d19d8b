//! Splitting a table into token ranges that each merge completely on their own.
//!
//! Every SSTable of a table (all generations, all nodes) stores its partitions in token order,
//! so the partitions of a token range are one contiguous byte range of each `Data.db`. The
//! planner ([`plan_splits`]) cuts the token ring into `n` ranges of about the same number of
//! *stored* (compressed) bytes, summed over all the SSTables, and gives for each range and each
//! SSTable the `Data.db` byte range of its partitions, aligned to partition starts, and the
//! chunks that cover it: a worker reads exactly those chunks, skips to the first partition and
//! stops before the next range's first partition ([`crate::data::DataReader::skip_to`] and
//! [`crate::data::DataReader::with_end`]). Because a range holds whole tokens, every version of
//! a partition (every replica, every generation) falls in the same range: ranges merge alone.
//!
//! The input of the planner is one [`SstableSummary`] per SSTable: its partition starts with
//! their tokens, and its [`Storage`] (chunk geometry) to estimate each partition's stored size
//! by mapping uncompressed offsets to compressed ones. A summary comes from the partition index
//! ([`SstableSummary::from_index`]; BTI entries without a key are completed by a caller's hook
//! that reads the key at the partition's `Data.db` offset, e.g. a [`KeyReader`]) or from any
//! other source of `(key, offset)` pairs, such as a sequential scan of `Data.db`
//! ([`SstableSummary::from_keys`]).
//!
//! Ranges follow Cassandra's ring: `(start, end]`, start exclusive and end inclusive. The first
//! non-empty range starts at the ring's minimum (inclusive, so a key whose token is the
//! minimum, like Murmur3's empty key, is not lost) and the last one ends at the ring's maximum.
//! The plan is deterministic: it depends only on the summaries, their order and `n`.

use std::cmp::Ordering;

use crate::chunks::DEFAULT_UNCOMPRESSED_SLICE;
use crate::compare::compare_tokens;
use crate::compression_info::CompressionInfo;
use crate::data::{PartitionHeader, PartitionReader, Unfiltered};
use crate::error::{Component, Error, Result};
use crate::offsets::{ChunkIndex, DataOffset, FileOffset};
use crate::partitioner::{Partitioner, Token};
use crate::partitions::{partition_offsets, IndexFiles};
use crate::source::DataSource;
use crate::version::Version;

/// How a `Data.db` is stored: what maps uncompressed offsets to chunks and to stored bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    /// Compressed: the geometry of `CompressionInfo.db`.
    Compressed {
        /// Uncompressed bytes per chunk.
        chunk_length: u32,
        /// Start of every chunk in the compressed file.
        chunk_offsets: Vec<FileOffset>,
        /// Length of the compressed file.
        compressed_length: u64,
        /// Length of the uncompressed stream.
        data_length: u64,
    },
    /// Uncompressed, read in slices of `slice` bytes (CRC.db's chunk size, which an
    /// [`crate::chunks::UncompressedSource`] must start on).
    Uncompressed {
        /// Length of the file.
        data_length: u64,
        /// Slice size.
        slice: u32,
    },
}

impl Storage {
    /// A compressed `Data.db` of `compressed_length` bytes described by `info`.
    pub fn compressed(info: &CompressionInfo, compressed_length: u64) -> Storage {
        Storage::Compressed {
            chunk_length: info.chunk_length(),
            chunk_offsets: info.chunk_offsets().to_vec(),
            compressed_length,
            data_length: info.data_length(),
        }
    }

    /// An uncompressed `Data.db` of `data_length` bytes, with CRC.db's chunk size if there is
    /// one (else [`DEFAULT_UNCOMPRESSED_SLICE`]).
    pub fn uncompressed(data_length: u64, crc_chunk_size: Option<u32>) -> Storage {
        Storage::Uncompressed {
            data_length,
            slice: crc_chunk_size.unwrap_or(DEFAULT_UNCOMPRESSED_SLICE),
        }
    }

    /// Length of the uncompressed stream.
    pub fn data_length(&self) -> u64 {
        match self {
            Storage::Compressed { data_length, .. } | Storage::Uncompressed { data_length, .. } => {
                *data_length
            }
        }
    }

    /// Length of the file as stored.
    pub fn stored_length(&self) -> u64 {
        match self {
            Storage::Compressed {
                compressed_length, ..
            } => *compressed_length,
            Storage::Uncompressed { data_length, .. } => *data_length,
        }
    }

    /// Uncompressed bytes per chunk (slice), at least 1.
    pub fn chunk_length(&self) -> u64 {
        match self {
            Storage::Compressed { chunk_length, .. } => u64::from(*chunk_length).max(1),
            Storage::Uncompressed { slice, .. } => u64::from(*slice).max(1),
        }
    }

    /// Number of chunks (slices).
    pub fn chunk_count(&self) -> u64 {
        match self {
            Storage::Compressed { chunk_offsets, .. } => chunk_offsets.len() as u64,
            Storage::Uncompressed { data_length, .. } => data_length.div_ceil(self.chunk_length()),
        }
    }

    /// Uncompressed offset of the first byte of `chunk`.
    pub fn chunk_start(&self, chunk: ChunkIndex) -> DataOffset {
        DataOffset(chunk.0.saturating_mul(self.chunk_length()))
    }

    /// The chunks `first..end` that hold the uncompressed bytes `start..end` (both empty when
    /// the byte range is), clamped to the chunks that exist.
    pub fn chunk_range(&self, start: DataOffset, end: DataOffset) -> (ChunkIndex, ChunkIndex) {
        let len = self.chunk_length();
        let count = self.chunk_count();
        let first = (start.0 / len).min(count);
        if end.0 <= start.0 {
            return (ChunkIndex(first), ChunkIndex(first));
        }
        let last = end.0.div_ceil(len).min(count).max(first);
        (ChunkIndex(first), ChunkIndex(last))
    }

    /// Where chunks `first..end` are in the stored file (for ranged reads from object storage).
    pub fn file_range(&self, first: ChunkIndex, end: ChunkIndex) -> (FileOffset, FileOffset) {
        match self {
            Storage::Compressed {
                chunk_offsets,
                compressed_length,
                ..
            } => {
                let at = |c: ChunkIndex| {
                    usize::try_from(c.0)
                        .ok()
                        .and_then(|i| chunk_offsets.get(i))
                        .map_or(*compressed_length, |o| o.0.min(*compressed_length))
                };
                let s = at(first);
                (FileOffset(s), FileOffset(at(end).max(s)))
            }
            Storage::Uncompressed { data_length, .. } => {
                let s = self.chunk_start(first).0.min(*data_length);
                let e = self.chunk_start(end).0.min(*data_length).max(s);
                (FileOffset(s), FileOffset(e))
            }
        }
    }

    /// Estimated position in the stored file of uncompressed offset `pos`: exact at chunk
    /// starts, interpolated linearly inside a chunk.
    pub fn stored_position(&self, pos: DataOffset) -> u64 {
        match self {
            Storage::Uncompressed { data_length, .. } => pos.0.min(*data_length),
            Storage::Compressed {
                chunk_offsets,
                compressed_length,
                data_length,
                ..
            } => {
                let len = self.chunk_length();
                let pos = pos.0.min(*data_length);
                let c = pos / len;
                let Some(start) = usize::try_from(c).ok().and_then(|i| chunk_offsets.get(i)) else {
                    return *compressed_length;
                };
                let next = usize::try_from(c)
                    .ok()
                    .and_then(|i| chunk_offsets.get(i.checked_add(1)?))
                    .map_or(*compressed_length, |o| o.0);
                let start = start.0.min(*compressed_length);
                let stored = next.min(*compressed_length).saturating_sub(start);
                let chunk_start = c.saturating_mul(len);
                let inflated = data_length.saturating_sub(chunk_start).min(len).max(1);
                let within = pos - chunk_start;
                let part = u128::from(stored) * u128::from(within) / u128::from(inflated);
                start.saturating_add(u64::try_from(part).unwrap_or(stored))
            }
        }
    }

    /// Estimated stored bytes of the uncompressed range `start..end`.
    pub fn stored_bytes(&self, start: DataOffset, end: DataOffset) -> u64 {
        self.stored_position(end)
            .saturating_sub(self.stored_position(start))
    }
}

/// Where a partition starts, and its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionStart {
    /// The partition's token.
    pub token: Token,
    /// Its start in the uncompressed `Data.db`.
    pub data_offset: DataOffset,
}

/// One SSTable as the planner sees it: its partitions in `Data.db` order and its storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SstableSummary {
    partitions: Vec<PartitionStart>,
    storage: Storage,
}

fn index_error(message: String) -> Error {
    Error::invalid(Component::Index, 0, message)
}

impl SstableSummary {
    /// A summary from partition starts in any order. They are put in `Data.db` order (by
    /// offset); fails when two start at the same offset, when one starts at or past the end of
    /// the data, or when tokens are not in ring order (`partitioner`) along `Data.db`: then a
    /// token range would not be one byte range.
    pub fn new(
        partitioner: Partitioner,
        storage: Storage,
        starts: impl IntoIterator<Item = Result<PartitionStart>>,
    ) -> Result<SstableSummary> {
        let mut partitions = starts.into_iter().collect::<Result<Vec<_>>>()?;
        partitions.sort_by_key(|p| p.data_offset);
        let data_length = storage.data_length();
        for w in partitions.windows(2) {
            if let [a, b] = w {
                if a.data_offset == b.data_offset {
                    return Err(index_error(format!(
                        "two partitions start at Data.db offset {}",
                        a.data_offset
                    )));
                }
                if compare_tokens(partitioner, &a.token, &b.token) == Ordering::Greater {
                    return Err(index_error(format!(
                        "partition at Data.db offset {} (token {}) follows a greater token {} \
                         at {}: the SSTable is not in token order",
                        b.data_offset, b.token, a.token, a.data_offset
                    )));
                }
            }
        }
        // Data.db has no header: the first partition starts at 0. An index that lists nothing
        // for a non-empty Data.db (a 0-byte or cut Index.db / Partitions.db), or whose first
        // entry starts later, would silently drop those partitions from every split.
        match partitions.first() {
            None if data_length > 0 => {
                return Err(index_error(format!(
                    "the index lists no partition, but Data.db holds {data_length} bytes: \
                     the index is empty or damaged (no usable index)"
                )));
            }
            Some(first) if first.data_offset.0 != 0 => {
                return Err(index_error(format!(
                    "the first partition of the index starts at Data.db offset {}, not 0: \
                     the index is damaged (no usable index)",
                    first.data_offset
                )));
            }
            _ => {}
        }
        if let Some(last) = partitions.last() {
            if last.data_offset.0 >= data_length {
                return Err(index_error(format!(
                    "a partition starts at Data.db offset {}, past the {data_length} bytes of data",
                    last.data_offset
                )));
            }
        }
        Ok(SstableSummary {
            partitions,
            storage,
        })
    }

    /// A summary from partition keys and starts from any source (an index, a sequential scan
    /// of `Data.db`...): tokens are computed with `partitioner`.
    pub fn from_keys<K: AsRef<[u8]>>(
        partitioner: Partitioner,
        storage: Storage,
        keys: impl IntoIterator<Item = Result<(K, DataOffset)>>,
    ) -> Result<SstableSummary> {
        SstableSummary::new(
            partitioner,
            storage,
            keys.into_iter().map(|r| {
                r.map(|(key, data_offset)| PartitionStart {
                    token: partitioner.token(key.as_ref()),
                    data_offset,
                })
            }),
        )
    }

    /// A summary from the partition index (`Index.db`, or `Partitions.db` and `Rows.db`). BTI
    /// entries without a key get it from `key_at`, which reads the key of the partition that
    /// starts at a `Data.db` offset (see [`KeyReader`]).
    ///
    /// Every error means the index is not usable for planning this SSTable (0-byte, cut,
    /// damaged, out of token order, listing nothing for a non-empty Data.db, not starting at
    /// offset 0): the caller must never drop the SSTable from the plan. It can build the
    /// summary from a sequential read of Data.db instead, with [`SstableSummary::from_keys`]
    /// over the `(key, offset)` of every partition of any reader (`DataReader` for 3.0+,
    /// `LegacyReader` with the table's schema for 2.x), saying so on stderr; or fail.
    pub fn from_index(
        files: IndexFiles<'_>,
        version: Version,
        partitioner: Partitioner,
        storage: Storage,
        mut key_at: impl FnMut(DataOffset) -> Result<Vec<u8>>,
    ) -> Result<SstableSummary> {
        let entries = partition_offsets(files, version)?;
        SstableSummary::new(
            partitioner,
            storage,
            entries.map(|r| {
                let p = r?;
                let token = match p.key {
                    Some(key) => partitioner.token(key),
                    None => partitioner.token(&key_at(p.data_offset)?),
                };
                Ok(PartitionStart {
                    token,
                    data_offset: p.data_offset,
                })
            }),
        )
    }

    /// The partitions, in `Data.db` order.
    pub fn partitions(&self) -> &[PartitionStart] {
        &self.partitions
    }

    /// The storage.
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// Start of partition `i`, or the end of the data for `i` past the last one.
    fn start_of(&self, i: usize) -> DataOffset {
        self.partitions
            .get(i)
            .map_or(DataOffset(self.storage.data_length()), |p| p.data_offset)
    }
}

/// Reads partition keys at `Data.db` offsets (the hook of [`SstableSummary::from_index`] for BTI
/// entries without a key). `open` returns a source positioned at or before an offset (e.g. a
/// [`crate::chunks::CompressedSource`] from the offset's chunk); consecutive offsets that fall
/// in bytes already read reuse them, so a forward walk decompresses each chunk about once.
pub struct KeyReader<S, F> {
    open: F,
    source: Option<S>,
    buf: Vec<u8>,
    base: u64,
}

impl<S, F> std::fmt::Debug for KeyReader<S, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyReader")
            .field("base", &self.base)
            .field("buffered", &self.buf.len())
            .finish_non_exhaustive()
    }
}

impl<S: DataSource, F: FnMut(DataOffset) -> Result<S>> KeyReader<S, F> {
    /// A reader that opens sources with `open`.
    pub fn new(open: F) -> Self {
        KeyReader {
            open,
            source: None,
            buf: Vec::new(),
            base: 0,
        }
    }

    /// The key of the partition that starts at `offset` (its `u16` length and bytes).
    pub fn key_at(&mut self, offset: DataOffset) -> Result<Vec<u8>> {
        let buffered_end = self.base + self.buf.len() as u64;
        if self.source.is_none() || offset.0 < self.base || offset.0 > buffered_end {
            let source = (self.open)(offset)?;
            self.base = source.position().0;
            self.buf.clear();
            self.source = Some(source);
            if self.base > offset.0 {
                return Err(Error::invalid(
                    Component::Data,
                    offset.0,
                    format!(
                        "the source for offset {offset} starts after it, at {}",
                        self.base
                    ),
                ));
            }
        }
        // Keep only the bytes from `offset` on: memory stays about a chunk.
        let skip = usize::try_from(offset.0 - self.base).unwrap_or(usize::MAX);
        let drained = skip.min(self.buf.len());
        self.buf.drain(..drained);
        self.base += drained as u64;
        let rel = skip - drained;
        self.ensure(rel.saturating_add(2), offset)?;
        let len = match self.buf.get(rel..rel.saturating_add(2)) {
            Some([hi, lo]) => usize::from(u16::from_be_bytes([*hi, *lo])),
            _ => 0,
        };
        let from = rel.saturating_add(2);
        let to = from.saturating_add(len);
        self.ensure(to, offset)?;
        Ok(self.buf.get(from..to).unwrap_or_default().to_vec())
    }

    fn ensure(&mut self, n: usize, offset: DataOffset) -> Result<()> {
        while self.buf.len() < n {
            let more = match &mut self.source {
                Some(s) => s.fill(&mut self.buf)?,
                None => false,
            };
            if !more {
                return Err(Error::Truncated {
                    component: Component::Data,
                    offset: offset.0,
                    needed: (n - self.buf.len()) as u64,
                    what: "partition key",
                });
            }
        }
        Ok(())
    }
}

/// A token range of the ring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenRange {
    /// No token: a split with nothing in it (there are fewer distinct tokens than splits).
    Empty,
    /// The tokens `t` with `start < t <= end`. `start: None` is the ring's minimum, included;
    /// `end: None` is the ring's maximum.
    Range {
        /// Exclusive lower bound (`None`: from the minimum, inclusive).
        start: Option<Token>,
        /// Inclusive upper bound (`None`: to the maximum).
        end: Option<Token>,
    },
}

impl TokenRange {
    /// Whether the range holds `token`, in `partitioner`'s order.
    pub fn contains(&self, partitioner: Partitioner, token: &Token) -> bool {
        match self {
            TokenRange::Empty => false,
            TokenRange::Range { start, end } => {
                start
                    .as_ref()
                    .is_none_or(|s| compare_tokens(partitioner, token, s) == Ordering::Greater)
                    && end
                        .as_ref()
                        .is_none_or(|e| compare_tokens(partitioner, token, e) != Ordering::Greater)
            }
        }
    }
}

/// The part of one SSTable that a split reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByteRange {
    /// Index of the SSTable in the planner's input.
    pub sstable: usize,
    /// Start of the first partition of the range in the uncompressed `Data.db`.
    pub data_start: DataOffset,
    /// Start of the first partition after the range (or the end of the data). Equal to
    /// `data_start` when the SSTable has no partition in the range.
    pub data_end: DataOffset,
    /// First chunk (CRC.db slice for uncompressed files) to read.
    pub first_chunk: ChunkIndex,
    /// Chunk after the last one to read.
    pub end_chunk: ChunkIndex,
    /// Where those chunks are in the stored file.
    pub file_start: FileOffset,
    /// End of those chunks in the stored file.
    pub file_end: FileOffset,
    /// Partitions in the range.
    pub partitions: u64,
    /// Estimated stored (compressed) bytes of the range's partitions.
    pub estimated_bytes: u64,
    /// Token of the partition at `data_start` as the index gives it (`None` when empty): the
    /// reader checks that the partition it finds there has it ([`CheckedRange`]).
    pub first_token: Option<Token>,
    /// Token of the last partition of the range as the index gives it (`None` when empty).
    pub last_token: Option<Token>,
    /// The partitioner the tokens are of.
    pub partitioner: Partitioner,
}

impl ByteRange {
    /// Whether the SSTable has no partition in the range (nothing to read).
    pub fn is_empty(&self) -> bool {
        self.data_start >= self.data_end
    }
}

/// A partition reader limited to one SSTable's [`ByteRange`] of a split, which checks that the
/// bytes it reads are the partitions the index promised: the first partition starts exactly at
/// `data_start` and has the index's token (so a damaged index offset that lands inside a
/// partition, whose bytes would decode as garbage rows with bogus keys, is an error, not rows
/// with NULL keys); every partition's token is in `first_token..=last_token`, in ring order;
/// and the range holds exactly `partitions` partitions (an index that lost entries, or a
/// Data.db cut at a partition boundary, is an error at the end of the range).
///
/// Tokens, not keys, are compared: the summary keeps one token per partition rather than its
/// key; a garbage key that still hashes to the expected 64-bit (Murmur3) or 127-bit (Random)
/// token is not a practical concern. For byte-ordered partitioners the token is the key.
/// A BTI partition whose key was read from Data.db at the index's offset (no key in the trie)
/// passes the first-token check by construction; the count and ring-order checks still apply.
///
/// Without a range (a full read) the reader is passed through unchanged.
#[derive(Debug)]
pub struct CheckedRange<R> {
    inner: R,
    expect: Option<ByteRange>,
    seen: u64,
    last: Option<Token>,
}

impl<R: PartitionReader> CheckedRange<R> {
    /// Checks `inner`, which must already be positioned at `range.data_start` and stop at
    /// `range.data_end` (`skip_to` and `with_end`). `None`: no checks.
    pub fn new(inner: R, range: Option<&ByteRange>) -> Self {
        CheckedRange {
            inner,
            expect: range.cloned(),
            seen: 0,
            last: None,
        }
    }

    /// The wrapped reader.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

fn split_error(offset: u64, message: String) -> Error {
    Error::invalid(Component::Data, offset, message)
}

impl<R: PartitionReader> PartitionReader for CheckedRange<R> {
    fn next_partition(&mut self) -> Result<Option<PartitionHeader<'_>>> {
        let Some(e) = &self.expect else {
            return self.inner.next_partition();
        };
        let seen = &mut self.seen;
        let last = &mut self.last;
        match self.inner.next_partition()? {
            Some(h) => {
                *seen += 1;
                let token = e.partitioner.token(h.key);
                if *seen == 1 {
                    if h.offset != e.data_start || e.first_token.as_ref() != Some(&token) {
                        return Err(split_error(
                            h.offset.0,
                            format!(
                                "the split should start with the partition of token {} at \
                                 Data.db offset {}, but the partition read at {} has token {} \
                                 (key of {} bytes): the index does not match Data.db",
                                e.first_token
                                    .as_ref()
                                    .map_or_else(|| "(none)".to_string(), Token::to_string),
                                e.data_start,
                                h.offset,
                                token,
                                h.key.len()
                            ),
                        ));
                    }
                } else {
                    let in_order = last.as_ref().is_none_or(|l| {
                        compare_tokens(e.partitioner, l, &token) != Ordering::Greater
                    });
                    let below_end = e.last_token.as_ref().is_some_and(|l| {
                        compare_tokens(e.partitioner, &token, l) != Ordering::Greater
                    });
                    if !in_order || !below_end || *seen > e.partitions {
                        return Err(split_error(
                            h.offset.0,
                            format!(
                                "partition {} of the split's range {}..{} (token {token}) is \
                                 not one the index lists ({} partitions, tokens up to {}): \
                                 the index does not match Data.db",
                                *seen,
                                e.data_start,
                                e.data_end,
                                e.partitions,
                                e.last_token
                                    .as_ref()
                                    .map_or_else(|| "(none)".to_string(), Token::to_string),
                            ),
                        ));
                    }
                }
                *last = Some(token);
                Ok(Some(h))
            }
            None => {
                if *seen != e.partitions {
                    return Err(split_error(
                        e.data_end.0,
                        format!(
                            "the split's range {}..{} of Data.db holds {} partition(s), the \
                             index lists {}: Data.db is truncated or the index is damaged",
                            e.data_start, e.data_end, *seen, e.partitions
                        ),
                    ));
                }
                Ok(None)
            }
        }
    }

    fn next_unfiltered(&mut self) -> Result<Option<Unfiltered<'_>>> {
        self.inner.next_unfiltered()
    }

    fn position(&self) -> DataOffset {
        self.inner.position()
    }

    fn progress(&self) -> u64 {
        self.inner.progress()
    }
}

/// One split: a token range and, for every SSTable, the bytes that hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// Position of the split in the plan (ring order).
    pub index: usize,
    /// The tokens of the split.
    pub range: TokenRange,
    /// One entry per SSTable, in the planner's input order.
    pub per_sstable: Vec<ByteRange>,
    /// Estimated stored bytes, summed over the SSTables.
    pub estimated_bytes: u64,
    /// Partitions, summed over the SSTables (replicas and generations count each).
    pub partitions: u64,
}

/// Cuts the token ring into `n` splits (`0` counts as `1`) balanced by estimated stored bytes
/// over all `sstables`, which must all use `partitioner`. Always returns `n` splits in ring
/// order; their ranges tile the ring, and each holds whole tokens, so a partition (with all its
/// versions across SSTables) is in exactly one split. Cuts go where the cumulative bytes, in
/// token order, come closest to `k/n` of the total; ties and equal inputs give equal plans.
pub fn plan_splits(sstables: &[SstableSummary], partitioner: Partitioner, n: usize) -> Vec<Split> {
    let n = n.max(1);
    // Every partition of every SSTable with its estimated stored size, in token order (stable:
    // equal tokens keep input order, which does not matter since they are grouped).
    let mut all: Vec<(&Token, u64)> = Vec::new();
    for s in sstables {
        for (i, p) in s.partitions.iter().enumerate() {
            let bytes = s
                .storage
                .stored_bytes(p.data_offset, s.start_of(i.saturating_add(1)));
            all.push((&p.token, bytes));
        }
    }
    all.sort_by(|a, b| compare_tokens(partitioner, a.0, b.0));
    let mut groups: Vec<(&Token, u64)> = Vec::new();
    for (t, b) in all {
        match groups.last_mut() {
            Some((last, sum)) if compare_tokens(partitioner, last, t) == Ordering::Equal => {
                *sum = sum.saturating_add(b);
            }
            _ => groups.push((t, b)),
        }
    }
    let g = groups.len();
    let mut total: u128 = groups.iter().map(|(_, b)| u128::from(*b)).sum();
    let by_count = total == 0;
    // cum[i]: weight of groups 0..i.
    let mut cum: Vec<u128> = Vec::with_capacity(g + 1);
    cum.push(0);
    let mut acc = 0u128;
    for (_, b) in &groups {
        acc += if by_count { 1 } else { u128::from(*b) };
        cum.push(acc);
    }
    if by_count {
        total = g as u128;
    }
    let nn = n as u128;
    let mut cuts: Vec<usize> = Vec::with_capacity(n + 1);
    cuts.push(0);
    for k in 1..n {
        let target = total * k as u128; // compared with cum * n
        let first_at_or_over = cum.partition_point(|c| c * nn < target).min(g);
        let mut cut = first_at_or_over;
        if let (Some(below), Some(over)) = (
            first_at_or_over.checked_sub(1).and_then(|i| cum.get(i)),
            cum.get(first_at_or_over),
        ) {
            if target - below * nn < over * nn - target {
                cut = first_at_or_over - 1;
            }
        }
        let prev = cuts.last().copied().unwrap_or(0);
        cuts.push(cut.max(prev));
    }
    cuts.push(g);

    // Per SSTable, how many of its partitions lie before each cut.
    let mut before: Vec<Vec<usize>> = Vec::with_capacity(sstables.len());
    for s in sstables {
        let mut counts = Vec::with_capacity(n + 1);
        let mut p = 0usize;
        for &cut in &cuts {
            if cut >= g {
                p = s.partitions.len();
            } else if let Some((last, _)) = cut.checked_sub(1).and_then(|i| groups.get(i)) {
                while s.partitions.get(p).is_some_and(|x| {
                    compare_tokens(partitioner, &x.token, last) != Ordering::Greater
                }) {
                    p += 1;
                }
            }
            counts.push(p);
        }
        before.push(counts);
    }

    let token_at = |i: usize| groups.get(i).map(|(t, _)| (*t).clone());
    let mut splits = Vec::with_capacity(n);
    for k in 0..n {
        let (from, to) = (
            cuts.get(k).copied().unwrap_or(g),
            cuts.get(k + 1).copied().unwrap_or(g),
        );
        let range = if g == 0 {
            if k == 0 {
                TokenRange::Range {
                    start: None,
                    end: None,
                }
            } else {
                TokenRange::Empty
            }
        } else if from == to {
            TokenRange::Empty
        } else {
            TokenRange::Range {
                start: from.checked_sub(1).and_then(token_at),
                end: if to >= g {
                    None
                } else {
                    to.checked_sub(1).and_then(token_at)
                },
            }
        };
        let mut per_sstable = Vec::with_capacity(sstables.len());
        let (mut bytes, mut parts) = (0u64, 0u64);
        for (j, s) in sstables.iter().enumerate() {
            let counts = before.get(j);
            let a = counts.and_then(|c| c.get(k)).copied().unwrap_or(0);
            let b = counts
                .and_then(|c| c.get(k + 1))
                .copied()
                .unwrap_or(a)
                .max(a);
            let (data_start, data_end) = (s.start_of(a), s.start_of(b));
            let (first_chunk, end_chunk) = s.storage.chunk_range(data_start, data_end);
            let (file_start, file_end) = s.storage.file_range(first_chunk, end_chunk);
            let estimated_bytes = s.storage.stored_bytes(data_start, data_end);
            let partitions = (b - a) as u64;
            let token_of = |i: usize| s.partitions.get(i).map(|p| p.token.clone());
            let (first_token, last_token) = if b > a {
                (token_of(a), b.checked_sub(1).and_then(token_of))
            } else {
                (None, None)
            };
            bytes = bytes.saturating_add(estimated_bytes);
            parts = parts.saturating_add(partitions);
            per_sstable.push(ByteRange {
                sstable: j,
                data_start,
                data_end,
                first_chunk,
                end_chunk,
                file_start,
                file_end,
                partitions,
                estimated_bytes,
                first_token,
                last_token,
                partitioner,
            });
        }
        splits.push(Split {
            index: k,
            range,
            per_sstable,
            estimated_bytes: bytes,
            partitions: parts,
        });
    }
    splits
}

/// The splits that shard `shard` of `shards` runs when a plan has `splits` splits: split `i`
/// goes to shard `i mod shards` (round robin, so that with more splits than shards each shard
/// gets neighbours from all over the ring and the shares stay even). Empty for an out-of-range
/// shard or zero shards.
pub fn shard_splits(shard: usize, shards: usize, splits: usize) -> impl Iterator<Item = usize> {
    let ok = shards > 0 && shard < shards;
    (0..splits).filter(move |i| ok && i % shards == shard)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
    use super::*;
    use crate::source::SliceSource;

    fn uncompressed(keys: &[(i64, u64)], len: u64) -> SstableSummary {
        SstableSummary::new(
            Partitioner::Murmur3,
            Storage::uncompressed(len, Some(16)),
            keys.iter().map(|(t, o)| {
                Ok(PartitionStart {
                    token: Token::Long(*t),
                    data_offset: DataOffset(*o),
                })
            }),
        )
        .unwrap()
    }

    /// Checks the invariants every plan must hold and returns the (token, sstable) pairs per
    /// split.
    fn check(sstables: &[SstableSummary], n: usize) -> Vec<Split> {
        let splits = plan_splits(sstables, Partitioner::Murmur3, n);
        assert_eq!(splits.len(), n.max(1));
        assert_eq!(plan_splits(sstables, Partitioner::Murmur3, n), splits);
        for (j, s) in sstables.iter().enumerate() {
            let mut seen = 0usize;
            let mut prev_end: Option<DataOffset> = None;
            for sp in &splits {
                let r = &sp.per_sstable[j];
                assert_eq!(r.sstable, j);
                if let Some(e) = prev_end {
                    assert_eq!(r.data_start, e, "ranges are contiguous");
                }
                prev_end = Some(r.data_end);
                // Aligned: starts are partition starts (or the end of the data).
                let starts: Vec<_> = s.partitions.iter().map(|p| p.data_offset).collect();
                let at_start =
                    |o: DataOffset| starts.contains(&o) || o.0 == s.storage.data_length();
                assert!(at_start(r.data_start) && at_start(r.data_end));
                for p in &s.partitions {
                    let inside = p.data_offset >= r.data_start && p.data_offset < r.data_end;
                    assert_eq!(
                        inside,
                        sp.range.contains(Partitioner::Murmur3, &p.token),
                        "byte range and token range agree"
                    );
                    seen += usize::from(inside);
                }
                // The chunks cover the bytes.
                if !r.is_empty() {
                    assert!(s.storage.chunk_start(r.first_chunk) <= r.data_start);
                    assert!(
                        s.storage.chunk_start(r.end_chunk).0
                            >= r.data_end
                                .0
                                .min(s.storage.chunk_start(ChunkIndex(s.storage.chunk_count())).0)
                    );
                }
            }
            assert_eq!(
                seen,
                s.partitions.len(),
                "every partition in exactly one split"
            );
        }
        splits
    }

    #[test]
    fn balanced_by_bytes() {
        // 100 partitions of 10 bytes.
        let keys: Vec<_> = (0..100).map(|i| (i * 7 - 300, i as u64 * 10)).collect();
        let s = uncompressed(&keys, 1000);
        for n in 1..=7 {
            let splits = check(std::slice::from_ref(&s), n);
            let total: u64 = splits.iter().map(|s| s.estimated_bytes).sum();
            assert_eq!(total, 1000);
            for sp in &splits {
                let ideal = 1000 / n as u64;
                assert!(sp.estimated_bytes.abs_diff(ideal) <= 10, "{n}: {sp:?}");
            }
        }
        // A big partition gets a split to itself; the others share the rest.
        let s = uncompressed(&[(1, 0), (2, 10), (3, 900), (4, 910)], 920);
        let splits = check(std::slice::from_ref(&s), 3);
        let big: Vec<_> = splits
            .iter()
            .filter(|sp| sp.per_sstable[0].data_start == DataOffset(10))
            .collect();
        assert_eq!(big.len(), 1);
        assert_eq!(big[0].per_sstable[0].data_end, DataOffset(900));
    }

    #[test]
    fn replicas_share_tokens_and_splits() {
        let a = uncompressed(&[(-5, 0), (0, 10), (5, 20), (9, 30)], 40);
        let b = uncompressed(&[(-7, 0), (0, 50), (9, 60)], 70);
        let c = uncompressed(&[], 0);
        for n in 1..=6 {
            let splits = check(&[a.clone(), b.clone(), c.clone()], n);
            for sp in &splits {
                assert!(sp.per_sstable[2].is_empty());
            }
        }
    }

    #[test]
    fn single_partition_and_empty() {
        let s = uncompressed(&[(42, 0)], 100);
        let splits = check(std::slice::from_ref(&s), 4);
        assert_eq!(splits.iter().filter(|s| s.partitions == 1).count(), 1);
        assert_eq!(
            splits
                .iter()
                .filter(|s| s.range == TokenRange::Empty)
                .count(),
            3
        );
        let splits = check(&[], 3);
        assert_eq!(
            splits[0].range,
            TokenRange::Range {
                start: None,
                end: None
            }
        );
        assert_eq!(splits[1].range, TokenRange::Empty);
        let e = uncompressed(&[], 0);
        check(&[e.clone(), e], 2);
    }

    #[test]
    fn ring_bounds() {
        let s = uncompressed(&[(i64::MIN, 0), (1, 10), (2, 20), (3, 30)], 40);
        let splits = check(std::slice::from_ref(&s), 2);
        assert_eq!(
            splits[0].range,
            TokenRange::Range {
                start: None,
                end: Some(Token::Long(1))
            }
        );
        assert_eq!(
            splits[1].range,
            TokenRange::Range {
                start: Some(Token::Long(1)),
                end: None
            }
        );
        assert!(splits[0]
            .range
            .contains(Partitioner::Murmur3, &Token::Long(i64::MIN)));
    }

    #[test]
    fn rejects_bad_summaries() {
        let st = || Storage::uncompressed(100, None);
        let p = |t, o| {
            Ok(PartitionStart {
                token: Token::Long(t),
                data_offset: DataOffset(o),
            })
        };
        assert!(SstableSummary::new(Partitioner::Murmur3, st(), [p(5, 0), p(1, 10)]).is_err());
        assert!(SstableSummary::new(Partitioner::Murmur3, st(), [p(1, 10), p(5, 10)]).is_err());
        assert!(SstableSummary::new(Partitioner::Murmur3, st(), [p(1, 100)]).is_err());
        // Any order in, Data.db order out.
        let s = SstableSummary::new(Partitioner::Murmur3, st(), [p(5, 10), p(1, 0)]).unwrap();
        assert_eq!(s.partitions()[0].data_offset, DataOffset(0));
    }

    #[test]
    fn compressed_estimates() {
        let st = Storage::Compressed {
            chunk_length: 100,
            chunk_offsets: vec![FileOffset(0), FileOffset(20), FileOffset(70)],
            compressed_length: 80,
            data_length: 250,
        };
        assert_eq!(st.stored_position(DataOffset(0)), 0);
        assert_eq!(st.stored_position(DataOffset(50)), 10);
        assert_eq!(st.stored_position(DataOffset(100)), 20);
        assert_eq!(st.stored_position(DataOffset(225)), 75);
        assert_eq!(st.stored_position(DataOffset(250)), 80);
        assert_eq!(
            st.chunk_range(DataOffset(150), DataOffset(201)),
            (ChunkIndex(1), ChunkIndex(3))
        );
        assert_eq!(
            st.chunk_range(DataOffset(250), DataOffset(250)),
            (ChunkIndex(2), ChunkIndex(2))
        );
        assert_eq!(
            st.file_range(ChunkIndex(1), ChunkIndex(3)),
            (FileOffset(20), FileOffset(80))
        );
    }

    #[test]
    fn key_reader() {
        // Three partitions: keys "a", "bc", "" at 0, 10, 20.
        let mut data = [0u8; 30];
        data[0..3].copy_from_slice(&[0, 1, b'a']);
        data[10..14].copy_from_slice(&[0, 2, b'b', b'c']);
        data[20..22].copy_from_slice(&[0, 0]);
        let mut opened = 0;
        let mut r = KeyReader::new(|o: DataOffset| {
            opened += 1;
            let base = o.0 / 4 * 4;
            Ok(SliceSource::new(
                &data[base as usize..],
                DataOffset(base),
                4,
            ))
        });
        assert_eq!(r.key_at(DataOffset(0)).unwrap(), b"a");
        assert_eq!(r.key_at(DataOffset(10)).unwrap(), b"bc");
        assert_eq!(r.key_at(DataOffset(20)).unwrap(), b"");
        assert!(r.key_at(DataOffset(29)).is_err());
        drop(r);
        assert!(opened >= 2);
    }

    /// Partitions `(key, Data.db offset)` as a reader finds them.
    struct Found {
        parts: Vec<(Vec<u8>, u64)>,
        next: usize,
    }

    impl PartitionReader for Found {
        fn next_partition(&mut self) -> Result<Option<PartitionHeader<'_>>> {
            let Some((key, offset)) = self.parts.get(self.next) else {
                return Ok(None);
            };
            self.next += 1;
            Ok(Some(PartitionHeader {
                key,
                deletion: crate::data::DeletionTime::LIVE,
                offset: DataOffset(*offset),
            }))
        }
        fn next_unfiltered(&mut self) -> Result<Option<Unfiltered<'_>>> {
            Ok(None)
        }
        fn position(&self) -> DataOffset {
            DataOffset(0)
        }
    }

    /// Keys `k0..k5` at offsets 0, 10, .. 50 of a 60-byte Data.db, planned into 3 splits.
    fn six_keys() -> (Vec<(Vec<u8>, u64)>, Vec<Split>) {
        let m = Partitioner::Murmur3;
        let mut keys: Vec<Vec<u8>> = (0..6).map(|i| format!("k{i}").into_bytes()).collect();
        keys.sort_by(|a, b| compare_tokens(m, &m.token(a), &m.token(b)));
        let parts: Vec<(Vec<u8>, u64)> = keys.into_iter().zip((0..6).map(|i| i * 10)).collect();
        let s = SstableSummary::from_keys(
            m,
            Storage::uncompressed(60, None),
            parts.iter().map(|(k, o)| Ok((k.clone(), DataOffset(*o)))),
        )
        .unwrap();
        let splits = plan_splits(std::slice::from_ref(&s), m, 3);
        (parts, splits)
    }

    fn read_all<R: PartitionReader>(r: &mut R) -> Result<Vec<Vec<u8>>> {
        let mut keys = Vec::new();
        while let Some(h) = r.next_partition()? {
            keys.push(h.key.to_vec());
        }
        Ok(keys)
    }

    /// Issue 11 item 3: a flipped bit in an index offset makes a split start inside a
    /// partition, whose bytes decode as a partition with a garbage key (and rows of NULL keys
    /// downstream). The unchecked reader yields it; the checked one refuses.
    #[test]
    fn split_starting_inside_a_partition_is_an_error_not_garbage_rows() {
        let (parts, splits) = six_keys();
        let r = splits
            .iter()
            .map(|s| &s.per_sstable[0])
            .find(|r| r.data_start.0 > 0 && !r.is_empty())
            .unwrap()
            .clone();
        let first = usize::try_from(r.data_start.0 / 10).unwrap();
        // What the bytes at data_start decode to when the offset points mid-partition.
        let mut garbage: Vec<(Vec<u8>, u64)> = vec![(b"\x00garbage".to_vec(), r.data_start.0)];
        garbage.extend(parts[first + 1..].iter().cloned());
        let mut unchecked = Found {
            parts: garbage.clone(),
            next: 0,
        };
        assert_eq!(read_all(&mut unchecked).unwrap()[0], b"\x00garbage");
        let mut checked = CheckedRange::new(
            Found {
                parts: garbage,
                next: 0,
            },
            Some(&r),
        );
        let e = read_all(&mut checked).unwrap_err().to_string();
        assert!(e.contains("the index does not match Data.db"), "{e}");
        // The genuine partitions pass.
        let end = usize::try_from(r.data_end.0 / 10).unwrap();
        let mut ok = CheckedRange::new(
            Found {
                parts: parts[first..end].to_vec(),
                next: 0,
            },
            Some(&r),
        );
        assert_eq!(read_all(&mut ok).unwrap().len() as u64, r.partitions);
    }

    /// A range that ends early (Data.db cut at a partition boundary) or holds a partition the
    /// index does not list is an error at the end of the range, not fewer or extra rows.
    #[test]
    fn split_with_missing_or_extra_partitions_is_an_error() {
        let (parts, splits) = six_keys();
        let r = splits
            .iter()
            .map(|s| &s.per_sstable[0])
            .find(|r| r.partitions >= 2)
            .unwrap()
            .clone();
        let first = usize::try_from(r.data_start.0 / 10).unwrap();
        let end = usize::try_from(r.data_end.0 / 10).unwrap();
        let mut short = CheckedRange::new(
            Found {
                parts: parts[first..end - 1].to_vec(),
                next: 0,
            },
            Some(&r),
        );
        let e = read_all(&mut short).unwrap_err().to_string();
        assert!(e.contains("truncated or the index is damaged"), "{e}");
        let mut extra = parts[first..end].to_vec();
        extra.push((b"not in the index".to_vec(), r.data_end.0 - 1));
        let mut long = CheckedRange::new(
            Found {
                parts: extra,
                next: 0,
            },
            Some(&r),
        );
        assert!(read_all(&mut long).is_err());
        // No range: passed through.
        let mut all = CheckedRange::new(
            Found {
                parts: parts.clone(),
                next: 0,
            },
            None,
        );
        assert_eq!(read_all(&mut all).unwrap().len(), 6);
    }

    /// Issue 11 item 2: an empty (0-byte) or damaged index must not plan a non-empty Data.db
    /// as an SSTable without partitions (dropped from every split): the summary is an error,
    /// which the caller answers with a scan or a whole-file read.
    #[test]
    fn empty_or_offset_index_is_not_an_sstable_without_partitions() {
        let st = || Storage::uncompressed(100, None);
        let none: [Result<PartitionStart>; 0] = [];
        let e = SstableSummary::new(Partitioner::Murmur3, st(), none).unwrap_err();
        assert!(e.to_string().contains("no usable index"), "{e}");
        let late = [Ok(PartitionStart {
            token: Token::Long(1),
            data_offset: DataOffset(40),
        })];
        assert!(SstableSummary::new(Partitioner::Murmur3, st(), late).is_err());
        // Through the index parsers: a 0-byte Index.db and Partitions.db.
        for (files, v) in [
            (IndexFiles::Big { index: &[] }, Version::Nb),
            (
                IndexFiles::Bti {
                    partitions: &[],
                    rows: &[],
                },
                Version::Da,
            ),
        ] {
            let r =
                SstableSummary::from_index(
                    files,
                    v,
                    Partitioner::Murmur3,
                    st(),
                    |_| Ok(Vec::new()),
                );
            assert!(r.is_err(), "{v}");
        }
        // An empty Data.db with an empty index is fine.
        let none: [Result<PartitionStart>; 0] = [];
        let e = SstableSummary::new(Partitioner::Murmur3, Storage::uncompressed(0, None), none);
        assert!(e.unwrap().partitions().is_empty());
    }

    #[test]
    fn shards() {
        let s: Vec<_> = shard_splits(1, 3, 8).collect();
        assert_eq!(s, vec![1, 4, 7]);
        assert_eq!(shard_splits(3, 3, 8).count(), 0);
        assert_eq!(shard_splits(0, 0, 8).count(), 0);
        let mut all: Vec<_> = (0..3).flat_map(|k| shard_splits(k, 3, 8)).collect();
        all.sort_unstable();
        assert_eq!(all, (0..8).collect::<Vec<_>>());
    }
}
