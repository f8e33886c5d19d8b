//! The BTI partition index, `Partitions.db` (Cassandra 5.0 `da`, DataStax `aa` … `cb`,
//! ScyllaDB `ms`/`mt`), and the per-partition headers of `Rows.db`.
//!
//! Mirrors Cassandra's `io/sstable/format/bti/PartitionIndex` (footer, payloads),
//! `io/tries/TrieNode` (node types), `io/tries/ValueIterator` (in-order walk),
//! `bti/TrieIndexEntry` (Rows.db header), as specified in `bti/BtiFormat.md`.
//!
//! `Partitions.db` is a trie of the shortest unique prefixes of the partitions' byte-comparable
//! keys. Nodes are written children first, so every pointer is a positive distance *back* from
//! its parent. The file ends with the first and last keys (u16 length each) and three BE longs:
//! the position of those keys, the key count and the root position. A payload is the index
//! position: with payload bits `pb` ≥ 8, a hash byte then a `pb − 7`-byte signed BE value, with
//! 1..=7 a `pb`-byte value. A value ≥ 0 is a `Rows.db` position (a wide partition's row-index
//! header, which holds the Data.db position); a negative value is `!` the Data.db position.
//!
//! [`PartitionIndex::iter`] walks the trie depth-first with ascending transitions, which is key
//! order: token order for Cassandra `da` and ScyllaDB `mt` (Data.db order). ScyllaDB `ms` orders
//! its trie by a typed key encoding which can differ from Data.db order for equal tokens.

use crate::cursor::Cursor;
use crate::data::DeletionTime;
use crate::error::{Component, Error, Result};
use crate::offsets::DataOffset;
use crate::version::{FormatKind, Version};

/// `PartitionIndex.FOOTER_LENGTH`: three longs.
const FOOTER_LENGTH: usize = 24;
/// `PartitionIndex.FLAG_HAS_HASH_BYTE`.
const FLAG_HAS_HASH_BYTE: u8 = 8;

/// Where a `Partitions.db` payload points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IndexTarget {
    /// The partition has a row index: its header is at this position of `Rows.db`.
    Rows(u64),
    /// The partition has no row index and starts at this position of `Data.db`.
    Data(DataOffset),
}

/// One partition found by walking `Partitions.db`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionIndexEntry {
    /// The trie path to the payload: the shortest prefix of the partition's byte-comparable
    /// key that tells it apart from its neighbours.
    pub prefix: Vec<u8>,
    /// The low byte of the key's filter hash, if stored (always, in files Cassandra writes).
    pub hash: Option<u8>,
    /// Where the partition is.
    pub target: IndexTarget,
}

/// `Partitions.db` of one trie-indexed SSTable (Cassandra `PartitionIndex`).
#[derive(Debug, Clone, Copy)]
pub struct PartitionIndex<'a> {
    /// The trie region (everything before the first/last keys).
    trie: &'a [u8],
    first_key: &'a [u8],
    last_key: &'a [u8],
    key_count: u64,
    root: Option<u64>,
}

impl<'a> PartitionIndex<'a> {
    /// Reads the footer of a whole `Partitions.db`. An empty file (ScyllaDB writes no footer
    /// for an SSTable without partitions) is an index with no keys.
    pub fn parse(bytes: &'a [u8], version: Version) -> Result<PartitionIndex<'a>> {
        if version.format_kind() != FormatKind::Bti {
            return Err(Error::UnsupportedVersion {
                version: version.to_string(),
                reason: "BIG-format sets have Index.db, not Partitions.db",
            });
        }
        if bytes.is_empty() {
            return Ok(PartitionIndex {
                trie: &[],
                first_key: &[],
                last_key: &[],
                key_count: 0,
                root: None,
            });
        }
        let footer_at = bytes
            .len()
            .checked_sub(FOOTER_LENGTH)
            .ok_or_else(|| Error::Truncated {
                component: Component::Partitions,
                offset: 0,
                needed: FOOTER_LENGTH.saturating_sub(bytes.len()) as u64,
                what: "Partitions.db footer",
            })?;
        let mut f = Cursor::with_base(
            bytes.get(footer_at..).unwrap_or(&[]),
            Component::Partitions,
            footer_at as u64,
        );
        let first_pos = f.read_i64("first key position")?;
        let key_count = f.read_i64("key count")?;
        let root = f.read_i64("root position")?;
        let first_pos = usize::try_from(first_pos)
            .ok()
            .filter(|&p| p <= footer_at)
            .ok_or_else(|| {
                Error::invalid(
                    Component::Partitions,
                    footer_at as u64,
                    format!("first key position {first_pos} outside the file"),
                )
            })?;
        let key_count = u64::try_from(key_count).map_err(|_| {
            Error::invalid(
                Component::Partitions,
                footer_at as u64 + 8,
                format!("negative key count {key_count}"),
            )
        })?;
        let root = u64::try_from(root)
            .ok()
            .filter(|&r| r < first_pos as u64)
            .ok_or_else(|| {
                Error::invalid(
                    Component::Partitions,
                    footer_at as u64 + 16,
                    format!("root position {root} outside the trie (0..{first_pos})"),
                )
            })?;
        let mut k = Cursor::with_base(
            bytes.get(first_pos..footer_at).unwrap_or(&[]),
            Component::Partitions,
            first_pos as u64,
        );
        let first_key = k.read_short_bytes("first key")?;
        let last_key = k.read_short_bytes("last key")?;
        Ok(PartitionIndex {
            trie: bytes.get(..first_pos).unwrap_or(&[]),
            first_key,
            last_key,
            key_count,
            root: Some(root),
        })
    }

    /// The first partition key of the SSTable.
    pub fn first_key(&self) -> &'a [u8] {
        self.first_key
    }

    /// The last partition key of the SSTable.
    pub fn last_key(&self) -> &'a [u8] {
        self.last_key
    }

    /// The number of partitions (exact).
    pub fn key_count(&self) -> u64 {
        self.key_count
    }

    /// The position of the trie's root node (`None` for an empty index).
    pub fn root(&self) -> Option<u64> {
        self.root
    }

    /// Every partition, in trie (key) order. The walk checks that it finds exactly
    /// [`PartitionIndex::key_count`] payloads.
    pub fn iter(&self) -> PartitionIndexIter<'a> {
        PartitionIndexIter {
            trie: self.trie,
            root: self.root,
            stack: Vec::new(),
            path: Vec::new(),
            visited: 0,
            found: 0,
            key_count: self.key_count,
            done: false,
        }
    }

    /// Every partition with its Data.db position, resolving row-index entries through `rows`
    /// (the whole `Rows.db`). The key is known when the entry points into Rows.db; for entries
    /// that point at Data.db directly it is only in Data.db (`None` here).
    pub fn partitions(&self, rows: &'a [u8], version: Version) -> BtiPartitions<'a> {
        BtiPartitions {
            inner: self.iter(),
            rows,
            version,
            failed: false,
        }
    }
}

/// A partition located through `Partitions.db` (and `Rows.db`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BtiPartition<'a> {
    /// The partition key, when the entry points into Rows.db.
    pub key: Option<&'a [u8]>,
    /// Start of the partition in the uncompressed `Data.db`.
    pub data_offset: DataOffset,
    /// The row-index header, for partitions that have one.
    pub row_index: Option<RowIndexHeader<'a>>,
}

/// Iterator of [`PartitionIndex::partitions`]; stops after the first error.
#[derive(Debug, Clone)]
pub struct BtiPartitions<'a> {
    inner: PartitionIndexIter<'a>,
    rows: &'a [u8],
    version: Version,
    failed: bool,
}

impl<'a> Iterator for BtiPartitions<'a> {
    type Item = Result<BtiPartition<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let r = self.inner.next()?.and_then(|e| match e.target {
            IndexTarget::Data(d) => Ok(BtiPartition {
                key: None,
                data_offset: d,
                row_index: None,
            }),
            IndexTarget::Rows(p) => {
                let h = RowIndexHeader::read(self.rows, p, self.version)?;
                Ok(BtiPartition {
                    key: Some(h.key),
                    data_offset: h.data_offset,
                    row_index: Some(h),
                })
            }
        });
        self.failed = r.is_err();
        Some(r)
    }
}

/// The header that follows a partition's row-index trie in `Rows.db`
/// (`TrieIndexEntry.serialize`): the key (u16 length), a uvint Data.db position, an svint
/// distance from just after the key to the row-index root, a uvint block count and the
/// partition deletion in the 5.0 encoding (ScyllaDB extends it with 0xC0 + mfda + ldt for
/// negative timestamps).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowIndexHeader<'a> {
    /// The partition key.
    pub key: &'a [u8],
    /// Start of the partition in the uncompressed `Data.db`.
    pub data_offset: DataOffset,
    /// Position of the row-index trie's root in `Rows.db`.
    pub root: u64,
    /// Number of row-index blocks.
    pub block_count: u64,
    /// Partition-level deletion.
    pub deletion: DeletionTime,
}

impl<'a> RowIndexHeader<'a> {
    /// Reads the header at `position` of the whole `Rows.db`.
    pub fn read(rows: &'a [u8], position: u64, version: Version) -> Result<RowIndexHeader<'a>> {
        let start = usize::try_from(position)
            .ok()
            .filter(|&p| p < rows.len())
            .ok_or_else(|| {
                Error::invalid(
                    Component::Rows,
                    position,
                    format!(
                        "row index position beyond the end of Rows.db ({} bytes)",
                        rows.len()
                    ),
                )
            })?;
        let mut c = Cursor::with_base(rows.get(start..).unwrap_or(&[]), Component::Rows, position);
        let key = c.read_short_bytes("partition key")?;
        let base = c.offset();
        let data = c.read_uvint("data position")?;
        let at = c.offset();
        let delta = c.read_svint("row index root")?;
        let root = base
            .checked_add_signed(delta)
            .filter(|&r| r < position)
            .ok_or_else(|| {
                c.invalid_at(
                    at,
                    format!("row index root {base}{delta:+} is not before the header"),
                )
            })?;
        let block_count = c.read_uvint("row index block count")?;
        let deletion = read_bti_deletion(&mut c, version)?;
        Ok(RowIndexHeader {
            key,
            data_offset: DataOffset(data),
            root,
            block_count,
            deletion,
        })
    }
}

/// A 5.0-form `DeletionTime` (`DeletionTime.Serializer`): 0x80 alone is LIVE, otherwise a BE
/// long mfda (top bit clear) and a BE uint32 ldt. ScyllaDB ms/mt also write 0xC0 + long + int
/// for a negative mfda (`write_da_partition_tombstone`).
///
/// DataStax's `aa` … `cb` have no `hasUIntDeletionTime`, so `TrieIndexEntry.serialize`'s
/// `DeletionTime.getSerializer(version)` is the pre-5.0 (legacy) serializer: int ldt, then
/// long mfda, `Integer.MAX_VALUE` and `Long.MIN_VALUE` for LIVE (checked on the corpus's `aa`
/// and `cb` Rows.db).
fn read_bti_deletion(c: &mut Cursor<'_>, version: Version) -> Result<DeletionTime> {
    let at = c.offset();
    if version.is_datastax() {
        let ldt = c.read_i32("partition deletion time")?;
        let mfda = c.read_i64("partition deletion timestamp")?;
        return Ok(if mfda == i64::MIN {
            DeletionTime::LIVE
        } else {
            DeletionTime {
                marked_for_delete_at: mfda,
                local_deletion_time: i64::from(ldt),
            }
        });
    }
    let flags = c.peek_u8().ok_or(Error::Truncated {
        component: c.component(),
        offset: at,
        needed: 1,
        what: "partition deletion",
    })?;
    let scylla = matches!(version, Version::Ms | Version::Mt);
    if flags == 0x80 {
        c.skip(1, "partition deletion")?;
        return Ok(DeletionTime::LIVE);
    }
    if flags == 0xC0 && scylla {
        c.skip(1, "partition deletion")?;
    } else if flags & 0x80 != 0 {
        return Err(c.invalid_at(at, format!("invalid partition deletion flags {flags:#04x}")));
    }
    let mfda = c.read_i64("partition deletion timestamp")?;
    let ldt = c.read_u32("partition deletion time")?;
    Ok(DeletionTime {
        marked_for_delete_at: mfda,
        local_deletion_time: i64::from(ldt),
    })
}

/// One decoded trie node (`TrieNode`).
#[derive(Debug, Clone, Copy)]
struct Node {
    pos: u64,
    kind: u8,
    payload_flags: u8,
    /// Absolute position of the payload.
    payload_pos: u64,
    /// Number of child slots (`transitionRange`).
    range: usize,
    /// Absolute position of the transition bytes (sparse) or the first transition (dense:
    /// the start byte value; single: the transition byte).
    first_transition: u8,
}

/// Bytes per pointer of the fixed-width sparse and dense types.
fn pointer_bytes(kind: u8) -> usize {
    match kind {
        5 => 1,
        7 | 11 => 2,
        8 | 12 => 3,
        13 => 4,
        9 | 14 => 5,
        _ => 8,
    }
}

fn node_at(trie: &[u8], pos: u64) -> Result<Node> {
    let start = usize::try_from(pos)
        .ok()
        .filter(|&p| p < trie.len())
        .ok_or_else(|| Error::invalid(Component::Partitions, pos, "trie node outside the trie"))?;
    let mut c = Cursor::with_base(trie.get(start..).unwrap_or(&[]), Component::Partitions, pos);
    let b0 = c.read_u8("trie node")?;
    let kind = b0 >> 4;
    let flags = b0 & 0x0F;
    let (payload_flags, size, range, first_transition) = match kind {
        0 => (flags, 1, 0, 0),
        1 => (0, 2, 1, c.read_u8("trie transition")?),
        2 | 4 => {
            let t = c.read_u8("trie transition")?;
            (flags, 2 + if kind == 2 { 1 } else { 2 }, 1, t)
        }
        3 => {
            c.skip(1, "trie pointer")?;
            (0, 3, 1, c.read_u8("trie transition")?)
        }
        5..=9 => {
            let n = usize::from(c.read_u8("sparse child count")?);
            let t = c.peek_u8().unwrap_or(0);
            let size = if kind == 6 {
                2 + (5 * n).div_ceil(2)
            } else {
                2 + (pointer_bytes(kind) + 1) * n
            };
            (flags, size, n, t)
        }
        _ => {
            let startb = c.read_u8("dense start")?;
            let n = usize::from(c.read_u8("dense length")?) + 1;
            let size = if kind == 10 {
                3 + (3 * n).div_ceil(2)
            } else {
                3 + pointer_bytes(kind) * n
            };
            (flags, size, n, startb)
        }
    };
    if trie.len() - start < size {
        return Err(Error::Truncated {
            component: Component::Partitions,
            offset: pos,
            needed: (size - (trie.len() - start)) as u64,
            what: "trie node",
        });
    }
    Ok(Node {
        pos,
        kind,
        payload_flags,
        payload_pos: pos + size as u64,
        range,
        first_transition,
    })
}

/// Big-endian unsigned of `n` bytes at `at` (node already bounds-checked).
fn read_be(bytes: &[u8], at: usize, n: usize) -> u64 {
    bytes
        .get(at..at + n)
        .unwrap_or(&[])
        .iter()
        .fold(0u64, |v, &b| (v << 8) | u64::from(b))
}

/// `TrieNode.read12Bits`.
fn read_12_bits(bytes: &[u8], base: usize, i: usize) -> u64 {
    let word = read_be(bytes, base + 3 * i / 2, 2);
    if i.is_multiple_of(2) {
        (word >> 4) & 0xFFF
    } else {
        word & 0xFFF
    }
}

/// Child `i` of `node`: its transition byte and position, or `None` for a dense hole.
fn child(trie: &[u8], node: &Node, i: usize) -> Result<Option<(u8, u64)>> {
    let p = node.pos as usize;
    let b = |k: usize| trie.get(p + k).copied().unwrap_or(0);
    let (transition, delta) = match node.kind {
        1 => (node.first_transition, u64::from(b(0) & 0x0F)),
        2 => (node.first_transition, read_be(trie, p + 2, 1)),
        3 => (
            node.first_transition,
            (u64::from(b(0) & 0x0F) << 8) | u64::from(b(1)),
        ),
        4 => (node.first_transition, read_be(trie, p + 2, 2)),
        5..=9 => {
            let n = node.range;
            let t = b(2 + i);
            if i > 0 && b(1 + i) >= t {
                return Err(Error::invalid(
                    Component::Partitions,
                    node.pos,
                    "sparse node transitions are not ascending",
                ));
            }
            let d = if node.kind == 6 {
                read_12_bits(trie, p + 2 + n, i)
            } else {
                let w = pointer_bytes(node.kind);
                read_be(trie, p + 2 + n + w * i, w)
            };
            (t, d)
        }
        _ => {
            let t = u16::from(node.first_transition) + i as u16;
            let t = u8::try_from(t).map_err(|_| {
                Error::invalid(Component::Partitions, node.pos, "dense node past byte 255")
            })?;
            let d = if node.kind == 10 {
                read_12_bits(trie, p + 3, i)
            } else {
                let w = pointer_bytes(node.kind);
                read_be(trie, p + 3 + w * i, w)
            };
            if d == 0 {
                return Ok(None);
            }
            (t, d)
        }
    };
    if delta == 0 || delta > node.pos {
        return Err(Error::invalid(
            Component::Partitions,
            node.pos,
            format!("trie pointer back {delta} from node at {}", node.pos),
        ));
    }
    Ok(Some((transition, node.pos - delta)))
}

/// `PartitionIndex.getIndexPos`: the payload's hash byte and signed index position.
fn payload(trie: &[u8], node: &Node) -> Result<Option<(Option<u8>, i64)>> {
    let pb = node.payload_flags;
    if pb == 0 {
        return Ok(None);
    }
    let mut at = node.payload_pos;
    let (hash, n) = if pb >= FLAG_HAS_HASH_BYTE {
        let h = trie.get(at as usize).copied();
        at += 1;
        (h, usize::from(pb - (FLAG_HAS_HASH_BYTE - 1)))
    } else {
        (None, usize::from(pb))
    };
    let bytes = usize::try_from(at)
        .ok()
        .and_then(|a| trie.get(a..a.checked_add(n)?))
        .ok_or(Error::Truncated {
            component: Component::Partitions,
            offset: node.payload_pos,
            needed: n as u64 + 1,
            what: "trie payload",
        })?;
    if pb >= FLAG_HAS_HASH_BYTE && hash.is_none() {
        return Err(Error::invalid(
            Component::Partitions,
            node.pos,
            "missing hash byte",
        ));
    }
    // Sign-extended big-endian (`SizedInts.read`).
    let mut v: i64 = if bytes.first().is_some_and(|b| b & 0x80 != 0) {
        -1
    } else {
        0
    };
    for &b in bytes {
        v = (v << 8) | i64::from(b);
    }
    Ok(Some((hash, v)))
}

/// Depth-first walk of `Partitions.db` (`ValueIterator`); stops after the first error.
#[derive(Debug, Clone)]
pub struct PartitionIndexIter<'a> {
    trie: &'a [u8],
    root: Option<u64>,
    /// (node position, next child slot).
    stack: Vec<(u64, usize)>,
    path: Vec<u8>,
    visited: u64,
    found: u64,
    key_count: u64,
    done: bool,
}

impl PartitionIndexIter<'_> {
    /// Enters the node at `pos`; returns its payload entry if it has one.
    fn enter(&mut self, pos: u64) -> Result<Option<PartitionIndexEntry>> {
        self.visited += 1;
        if self.visited > self.trie.len() as u64 {
            return Err(Error::invalid(
                Component::Partitions,
                pos,
                "the trie visits more nodes than it has bytes (shared or cyclic nodes)",
            ));
        }
        let node = node_at(self.trie, pos)?;
        self.stack.push((pos, 0));
        match payload(self.trie, &node)? {
            None => Ok(None),
            Some((hash, v)) => {
                self.found += 1;
                if self.found > self.key_count {
                    return Err(Error::invalid(
                        Component::Partitions,
                        pos,
                        format!(
                            "more payloads than the {} keys of the footer",
                            self.key_count
                        ),
                    ));
                }
                Ok(Some(PartitionIndexEntry {
                    prefix: self.path.clone(),
                    hash,
                    target: if v >= 0 {
                        IndexTarget::Rows(v as u64)
                    } else {
                        IndexTarget::Data(DataOffset(!v as u64))
                    },
                }))
            }
        }
    }

    fn step(&mut self) -> Result<Option<PartitionIndexEntry>> {
        if let Some(root) = self.root.take() {
            if let Some(e) = self.enter(root)? {
                return Ok(Some(e));
            }
        }
        while let Some(&(pos, next)) = self.stack.last() {
            let node = node_at(self.trie, pos)?;
            let mut i = next;
            let mut found = None;
            while i < node.range {
                if let Some(c) = child(self.trie, &node, i)? {
                    found = Some(c);
                    break;
                }
                i += 1;
            }
            if let Some(top) = self.stack.last_mut() {
                top.1 = i + 1;
            }
            match found {
                Some((transition, child_pos)) => {
                    self.path.push(transition);
                    if let Some(e) = self.enter(child_pos)? {
                        return Ok(Some(e));
                    }
                }
                None => {
                    self.stack.pop();
                    self.path.pop();
                }
            }
        }
        if self.found != self.key_count {
            return Err(Error::invalid(
                Component::Partitions,
                0,
                format!(
                    "the trie holds {} keys, the footer says {}",
                    self.found, self.key_count
                ),
            ));
        }
        Ok(None)
    }
}

impl Iterator for PartitionIndexIter<'_> {
    type Item = Result<PartitionIndexEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let r = self.step();
        match r {
            Ok(Some(e)) => Some(Ok(e)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
    use super::*;

    /// Minimal signed big-endian bytes of `v` (`SizedInts.nonZeroSize`).
    fn sized(v: i64) -> Vec<u8> {
        (1..=8usize)
            .find(|&n| {
                let s = 64 - 8 * n as u32;
                s == 0 || (v << s) >> s == v
            })
            .map(|n| v.to_be_bytes()[8 - n..].to_vec())
            .unwrap()
    }

    /// Payload bits and bytes of a partition-index payload with a hash byte.
    fn payload_bytes(hash: u8, v: i64) -> (u8, Vec<u8>) {
        let b = sized(v);
        let mut out = vec![hash];
        out.extend_from_slice(&b);
        (8 + b.len() as u8 - 1, out)
    }

    fn leaf(t: &mut Vec<u8>, hash: u8, v: i64) -> u64 {
        let pos = t.len() as u64;
        let (pb, p) = payload_bytes(hash, v);
        t.push(pb);
        t.extend_from_slice(&p);
        pos
    }

    /// 12-bit packing of `TrieNode.write12Bits`.
    fn pack12(values: &[u64]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut carry = 0u8;
        for (i, &v) in values.iter().enumerate() {
            if i % 2 == 0 {
                out.push((v >> 4) as u8);
                carry = (v << 4) as u8;
            } else {
                out.push(carry | (v >> 8) as u8);
                out.push(v as u8);
            }
        }
        if values.len() % 2 == 1 {
            out.push(carry);
        }
        out
    }

    fn footer(t: &mut Vec<u8>, first: &[u8], last: &[u8], count: i64, root: u64) {
        let keys = t.len() as i64;
        for k in [first, last] {
            t.extend_from_slice(&(k.len() as u16).to_be_bytes());
            t.extend_from_slice(k);
        }
        t.extend_from_slice(&keys.to_be_bytes());
        t.extend_from_slice(&count.to_be_bytes());
        t.extend_from_slice(&(root as i64).to_be_bytes());
    }

    /// A trie using most node types; returns the file and the expected entries in order.
    fn sample() -> (Vec<u8>, Vec<(Vec<u8>, IndexTarget)>) {
        let mut t = Vec::new();
        let a = leaf(&mut t, 1, !0);
        let s4 = t.len() as u64;
        t.extend_from_slice(&[0x10 | (s4 - a) as u8, 0x10]);
        let b = leaf(&mut t, 2, 5);
        let c = leaf(&mut t, 3, !100);
        let d = leaf(&mut t, 4, !2000);
        let e = leaf(&mut t, 5, 70_000);
        let sp12 = t.len() as u64;
        t.extend_from_slice(&[0x60, 3, 1, 2, 3]);
        t.extend_from_slice(&pack12(&[sp12 - c, sp12 - d, sp12 - e]));
        let sp8 = t.len() as u64;
        t.extend_from_slice(&[0x50, 2, 0x01, 0x05, (sp8 - b) as u8, (sp8 - sp12) as u8]);
        let f = leaf(&mut t, 6, !(1 << 40));
        let ld = t.len() as u64;
        t.extend_from_slice(&[0xF0, 0x00, 0x00]);
        t.extend_from_slice(&(ld - f).to_be_bytes());
        let s16 = t.len() as u64;
        let (pb, p) = payload_bytes(7, !3000);
        t.extend_from_slice(&[0x40 | pb, 0x30]);
        t.extend_from_slice(&((s16 - ld) as u16).to_be_bytes());
        t.extend_from_slice(&p);
        // Pad so that the 12-bit single needs its high nibble.
        t.extend_from_slice(&[0u8; 300]);
        let s12 = t.len() as u64;
        let dd = s12 - s16;
        t.extend_from_slice(&[0x30 | (dd >> 8) as u8, dd as u8, 0x20]);
        let root = t.len() as u64;
        t.extend_from_slice(&[0xA0, 0x40, 3]);
        t.extend_from_slice(&pack12(&[root - s4, root - sp8, 0, root - s12]));
        footer(&mut t, b"first", b"last", 7, root);
        let expected = vec![
            (vec![0x40, 0x10], IndexTarget::Data(DataOffset(0))),
            (vec![0x41, 0x01], IndexTarget::Rows(5)),
            (vec![0x41, 0x05, 1], IndexTarget::Data(DataOffset(100))),
            (vec![0x41, 0x05, 2], IndexTarget::Data(DataOffset(2000))),
            (vec![0x41, 0x05, 3], IndexTarget::Rows(70_000)),
            (vec![0x43, 0x20], IndexTarget::Data(DataOffset(3000))),
            (
                vec![0x43, 0x20, 0x30, 0x00],
                IndexTarget::Data(DataOffset(1 << 40)),
            ),
        ];
        (t, expected)
    }

    #[test]
    fn walks_every_node_type_in_order() {
        let (t, expected) = sample();
        let pi = PartitionIndex::parse(&t, Version::Da).unwrap();
        assert_eq!(pi.first_key(), b"first");
        assert_eq!(pi.last_key(), b"last");
        assert_eq!(pi.key_count(), 7);
        let got: Vec<_> = pi.iter().collect::<Result<_>>().unwrap();
        let got: Vec<_> = got.into_iter().map(|e| (e.prefix, e.target)).collect();
        assert_eq!(got, expected);
        assert!(pi.iter().all(|e| e.unwrap().hash.is_some()));
    }

    #[test]
    fn key_count_mismatch_and_wrong_versions() {
        let (mut t, _) = sample();
        let n = t.len();
        t[n - 16..n - 8].copy_from_slice(&6i64.to_be_bytes());
        let r: Vec<_> = PartitionIndex::parse(&t, Version::Mt)
            .unwrap()
            .iter()
            .collect();
        assert!(r.last().unwrap().is_err());
        t[n - 16..n - 8].copy_from_slice(&8i64.to_be_bytes());
        let r: Vec<_> = PartitionIndex::parse(&t, Version::Mt)
            .unwrap()
            .iter()
            .collect();
        assert_eq!(r.len(), 8);
        assert!(r.last().unwrap().is_err());
        assert!(PartitionIndex::parse(&t, Version::Me).is_err());
        let empty = PartitionIndex::parse(&[], Version::Ms).unwrap();
        assert_eq!(empty.iter().count(), 0);
        assert_eq!(empty.root(), None);
    }

    #[test]
    fn corrupt_and_truncated_tries_never_panic() {
        let (t, _) = sample();
        for cut in 0..t.len() {
            if let Ok(pi) = PartitionIndex::parse(&t[..cut], Version::Da) {
                let _ = pi.iter().count();
            }
        }
        for i in 0..t.len() {
            for v in [0x00, 0x01, 0x0F, 0x10, 0x7F, 0x80, 0xAF, 0xF8, 0xFF] {
                let mut b = t.clone();
                b[i] = v;
                if let Ok(pi) = PartitionIndex::parse(&b, Version::Da) {
                    let items: Vec<_> = pi.iter().take(100).collect();
                    let first_err = items.iter().position(Result::is_err);
                    if let Some(p) = first_err {
                        assert_eq!(p + 1, items.len(), "stops after the first error");
                    }
                }
            }
        }
    }

    #[test]
    fn self_pointer_and_bad_footer() {
        // A single node pointing at itself (delta 0) under the root.
        let mut t = vec![0x10, 0x41];
        footer(&mut t, b"", b"", 1, 0);
        let r: Vec<_> = PartitionIndex::parse(&t, Version::Da)
            .unwrap()
            .iter()
            .collect();
        assert!(r[0].is_err());
        // Root outside the trie, negative count, keys position past the footer.
        for (at, v) in [(16usize, 50i64), (8, -1), (0, 1000)] {
            let mut b = t.clone();
            let n = b.len();
            b[n - 24 + at..n - 16 + at].copy_from_slice(&v.to_be_bytes());
            assert!(PartitionIndex::parse(&b, Version::Da).is_err(), "{at}");
        }
        assert!(PartitionIndex::parse(&[0; 10], Version::Da).is_err());
    }

    fn header(key: &[u8], data: u64, root_delta: i64, blocks: u64, del: &[u8]) -> Vec<u8> {
        let mut h = Vec::new();
        h.extend_from_slice(&(key.len() as u16).to_be_bytes());
        h.extend_from_slice(key);
        crate::cursor::encode_uvint(data, &mut h);
        crate::cursor::encode_svint(root_delta, &mut h);
        crate::cursor::encode_uvint(blocks, &mut h);
        h.extend_from_slice(del);
        h
    }

    #[test]
    fn rows_headers() {
        let mut rows = vec![0u8; 40];
        rows.extend(header(b"pk", 123_456, -10, 3, &[0x80]));
        let h = RowIndexHeader::read(&rows, 40, Version::Da).unwrap();
        assert_eq!(h.key, b"pk");
        assert_eq!(h.data_offset, DataOffset(123_456));
        assert_eq!(h.root, 34);
        assert_eq!(h.block_count, 3);
        assert!(h.deletion.is_live());

        let mut del = 77i64.to_be_bytes().to_vec();
        del.extend_from_slice(&9u32.to_be_bytes());
        let mut rows = vec![0u8; 8];
        rows.extend(header(b"k", 0, -5, 2, &del));
        let h = RowIndexHeader::read(&rows, 8, Version::Mt).unwrap();
        assert_eq!(h.deletion.marked_for_delete_at, 77);
        assert_eq!(h.deletion.local_deletion_time, 9);

        // ScyllaDB's negative-timestamp extension, refused for Cassandra da.
        let mut del = vec![0xC0];
        del.extend_from_slice(&(-7i64).to_be_bytes());
        del.extend_from_slice(&1u32.to_be_bytes());
        let mut rows = vec![0u8; 8];
        rows.extend(header(b"k", 0, -5, 2, &del));
        assert_eq!(
            RowIndexHeader::read(&rows, 8, Version::Ms)
                .unwrap()
                .deletion
                .marked_for_delete_at,
            -7
        );
        assert!(RowIndexHeader::read(&rows, 8, Version::Da).is_err());

        // Root at or after the header, position outside, truncation.
        let mut rows = vec![0u8; 8];
        rows.extend(header(b"k", 0, 0, 2, &[0x80]));
        assert!(RowIndexHeader::read(&rows, 8, Version::Da).is_err());
        assert!(RowIndexHeader::read(&rows, 100, Version::Da).is_err());
        let mut rows = vec![0u8; 8];
        rows.extend(header(b"k", 1 << 30, -8, 2, &[0x80]));
        for cut in 9..rows.len() {
            assert!(RowIndexHeader::read(&rows[..cut], 8, Version::Da).is_err());
        }
    }

    #[test]
    fn datastax_rows_headers_use_the_legacy_deletion_time() {
        // LIVE as DataStax aa…cb write it: int Integer.MAX_VALUE, long Long.MIN_VALUE (the
        // bytes ending every header of the corpus's aa and cb Rows.db).
        let mut live = i32::MAX.to_be_bytes().to_vec();
        live.extend_from_slice(&i64::MIN.to_be_bytes());
        let mut deleted = 1_600_000_000i32.to_be_bytes().to_vec();
        deleted.extend_from_slice(&1_234_567i64.to_be_bytes());
        for v in Version::DATASTAX {
            let mut rows = vec![0u8; 8];
            rows.extend(header(b"k", 300, -6, 2, &live));
            let h = RowIndexHeader::read(&rows, 8, v).unwrap();
            assert!(h.deletion.is_live(), "{v}");
            assert_eq!(
                (h.data_offset, h.root, h.block_count),
                (DataOffset(300), 5, 2)
            );
            // The 5.0 one-byte LIVE is not a DataStax encoding: the header is cut short.
            let mut rows = vec![0u8; 8];
            rows.extend(header(b"k", 300, -6, 2, &[0x80]));
            assert!(RowIndexHeader::read(&rows, 8, v).is_err(), "{v}");

            let mut rows = vec![0u8; 8];
            rows.extend(header(b"k", 300, -6, 2, &deleted));
            let h = RowIndexHeader::read(&rows, 8, v).unwrap();
            assert_eq!(h.deletion.marked_for_delete_at, 1_234_567);
            assert_eq!(h.deletion.local_deletion_time, 1_600_000_000);
            for cut in 9..rows.len() {
                let e = RowIndexHeader::read(&rows[..cut], 8, v).unwrap_err();
                assert_eq!(e.component(), Some(Component::Rows), "{v} cut {cut}");
            }
        }
    }

    #[test]
    fn partitions_resolve_rows_entries() {
        let mut rows = vec![0u8; 5];
        rows.extend(header(b"wide", 2000, -8, 4, &[0x80]));
        let mut t = Vec::new();
        let a = leaf(&mut t, 1, !0);
        let b = leaf(&mut t, 2, 5);
        let root = t.len() as u64;
        t.extend_from_slice(&[0x50, 2, 0x10, 0x20, (root - a) as u8, (root - b) as u8]);
        footer(&mut t, b"a", b"wide", 2, root);
        let pi = PartitionIndex::parse(&t, Version::Da).unwrap();
        let all: Vec<_> = pi
            .partitions(&rows, Version::Da)
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].key, None);
        assert_eq!(all[0].data_offset, DataOffset(0));
        assert_eq!(all[1].key, Some(&b"wide"[..]));
        assert_eq!(all[1].data_offset, DataOffset(2000));
        assert_eq!(all[1].row_index.unwrap().block_count, 4);
        // Without Rows.db the second entry is an error, and the iteration stops.
        let r: Vec<_> = pi.partitions(&[], Version::Da).collect();
        assert_eq!(r.len(), 2);
        assert!(r[1].is_err());
    }
}
