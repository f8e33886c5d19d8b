//! `Index.db` of the BIG format: one entry per partition, in Data.db order, giving the key and
//! the partition's position in the uncompressed `Data.db`.
//!
//! Mirrors Cassandra's `RowIndexEntry.Serializer` (C21 `db/RowIndexEntry`; C30/C311
//! `db/RowIndexEntry`; C50 `io/sstable/format/big/RowIndexEntry`). Each entry is a u16-length
//! key followed by:
//! * jb/ka/la/lb: a BE long position and a BE int promoted-index size;
//! * ma..nc, oa (and ScyllaDB mc..me): a uvint position and a uvint promoted-index size.
//!
//! The promoted index (the clustering-block index of a wide partition) follows as `size` bytes
//! and is skipped, not decoded; [`IndexEntry::promoted_index_blocks`] reads just its block count.

use crate::cursor::Cursor;
use crate::error::{Component, Error, Result};
use crate::offsets::{DataOffset, IndexOffset};
use crate::version::{FormatKind, Version};

/// One partition of `Index.db`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexEntry<'a> {
    /// Serialized partition key (as in Data.db).
    pub key: &'a [u8],
    /// Start of the partition in the uncompressed `Data.db`.
    pub data_offset: DataOffset,
    /// Where this entry starts in `Index.db`.
    pub index_offset: IndexOffset,
    /// The raw promoted index (empty when the partition has none).
    pub promoted_index: &'a [u8],
    version: Version,
}

impl IndexEntry<'_> {
    /// The number of clustering blocks in the promoted index (0 when there is none). Reads the
    /// promoted-index header only (ka/la: DeletionTime then int count; ma+: uvint header length,
    /// DeletionTime, uvint count; oa: the 5.0 DeletionTime encoding).
    pub fn promoted_index_blocks(&self) -> Result<u64> {
        if self.promoted_index.is_empty() {
            return Ok(0);
        }
        // The promoted index starts after the key (2 + len) and the position/size fields; its
        // absolute offset is only needed for error messages, so `index_offset` is close enough.
        let mut c = Cursor::with_base(self.promoted_index, Component::Index, self.index_offset.0);
        if self.version.has_fixed_width_index_entries() {
            c.skip(12, "promoted index deletion time")?;
            let n = c.read_i32("promoted index block count")?;
            u64::try_from(n).map_err(|_| c.invalid(format!("negative block count {n}")))
        } else {
            c.read_uvint("promoted index header length")?;
            skip_deletion_time(&mut c, self.version)?;
            c.read_uvint("promoted index block count")
        }
    }
}

/// Skips a serialized `DeletionTime` (12 bytes; 5.0 encoding in oa/da: 0x80 alone for LIVE).
pub(crate) fn skip_deletion_time(c: &mut Cursor<'_>, version: Version) -> Result<()> {
    if version.has_uint_deletion_time() {
        let at = c.offset();
        let flags = c.read_u8("deletion time")?;
        if flags & 0x80 != 0 {
            return if flags == 0x80 {
                Ok(())
            } else {
                Err(c.invalid_at(at, format!("invalid deletion time flags {flags:#04x}")))
            };
        }
        c.skip(11, "deletion time")
    } else {
        c.skip(12, "deletion time")
    }
}

/// `Index.db` of one BIG-format SSTable (Cassandra `RowIndexEntry` / `IndexSummaryBuilder`'s
/// input). Holds the bytes; [`Index::entries`] walks them.
#[derive(Debug, Clone, Copy)]
pub struct Index<'a> {
    bytes: &'a [u8],
    version: Version,
}

impl<'a> Index<'a> {
    /// An index over the whole `Index.db`. Fails for trie-indexed versions (da, ms, mt), which
    /// have no Index.db.
    pub fn new(bytes: &'a [u8], version: Version) -> Result<Index<'a>> {
        if version.format_kind() != FormatKind::Big {
            return Err(Error::UnsupportedVersion {
                version: version.to_string(),
                reason: "trie-indexed sets have Partitions.db, not Index.db",
            });
        }
        Ok(Index { bytes, version })
    }

    /// The entries of a whole `Index.db`, in order.
    pub fn parse_entries(bytes: &'a [u8], version: Version) -> Result<IndexEntries<'a>> {
        Ok(Index::new(bytes, version)?.entries())
    }

    /// The format version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// All entries, in order.
    pub fn entries(&self) -> IndexEntries<'a> {
        IndexEntries {
            cursor: Cursor::new(self.bytes, Component::Index),
            version: self.version,
            failed: false,
        }
    }

    /// The entries from `offset` (an entry boundary, e.g. from Summary.db) on.
    pub fn entries_from(&self, offset: IndexOffset) -> Result<IndexEntries<'a>> {
        let start = usize::try_from(offset.0)
            .ok()
            .filter(|&s| s <= self.bytes.len())
            .ok_or_else(|| {
                Error::invalid(
                    Component::Index,
                    offset.0,
                    format!(
                        "position beyond the end of Index.db ({} bytes)",
                        self.bytes.len()
                    ),
                )
            })?;
        let rest = self.bytes.get(start..).unwrap_or(&[]);
        Ok(IndexEntries {
            cursor: Cursor::with_base(rest, Component::Index, offset.0),
            version: self.version,
            failed: false,
        })
    }

    /// The entry that starts at `offset`.
    pub fn entry_at(&self, offset: IndexOffset) -> Result<IndexEntry<'a>> {
        match self.entries_from(offset)?.next() {
            Some(r) => r,
            None => Err(Error::invalid(
                Component::Index,
                offset.0,
                "no entry at the end of Index.db",
            )),
        }
    }
}

/// Fallible iterator over `Index.db` entries; stops after the first error.
#[derive(Debug, Clone)]
pub struct IndexEntries<'a> {
    cursor: Cursor<'a>,
    version: Version,
    failed: bool,
}

impl<'a> IndexEntries<'a> {
    fn read(&mut self) -> Result<IndexEntry<'a>> {
        let c = &mut self.cursor;
        let index_offset = IndexOffset(c.offset());
        let key = c.read_short_bytes("partition key")?;
        let at = c.offset();
        let (position, size) = if self.version.has_fixed_width_index_entries() {
            let p = c.read_i64("data position")?;
            let s = c.read_i32("promoted index size")?;
            let p = u64::try_from(p)
                .map_err(|_| c.invalid_at(at, format!("negative data position {p}")))?;
            let s = usize::try_from(s)
                .map_err(|_| c.invalid_at(at + 8, format!("negative promoted index size {s}")))?;
            (p, s)
        } else {
            let p = c.read_uvint("data position")?;
            let s = c.read_uvint("promoted index size")?;
            let s = usize::try_from(s).unwrap_or(usize::MAX);
            (p, s)
        };
        let promoted_index = c.read_bytes(size, "promoted index")?;
        Ok(IndexEntry {
            key,
            data_offset: DataOffset(position),
            index_offset,
            promoted_index,
            version: self.version,
        })
    }
}

impl<'a> Iterator for IndexEntries<'a> {
    type Item = Result<IndexEntry<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.cursor.is_empty() {
            return None;
        }
        let r = self.read();
        self.failed = r.is_err();
        Some(r)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
    use super::*;
    use crate::cursor::encode_uvint;

    fn legacy_entry(out: &mut Vec<u8>, key: &[u8], pos: i64, promoted: &[u8]) {
        out.extend_from_slice(&(key.len() as u16).to_be_bytes());
        out.extend_from_slice(key);
        out.extend_from_slice(&pos.to_be_bytes());
        out.extend_from_slice(&(promoted.len() as i32).to_be_bytes());
        out.extend_from_slice(promoted);
    }

    fn vint_entry(out: &mut Vec<u8>, key: &[u8], pos: u64, promoted: &[u8]) {
        out.extend_from_slice(&(key.len() as u16).to_be_bytes());
        out.extend_from_slice(key);
        encode_uvint(pos, out);
        encode_uvint(promoted.len() as u64, out);
        out.extend_from_slice(promoted);
    }

    /// A ka promoted index: DeletionTime (LIVE), int count 3, then (fake) IndexInfos.
    fn legacy_promoted() -> Vec<u8> {
        let mut p = Vec::new();
        p.extend_from_slice(&i32::MAX.to_be_bytes());
        p.extend_from_slice(&i64::MIN.to_be_bytes());
        p.extend_from_slice(&3i32.to_be_bytes());
        p.extend_from_slice(&[0xAB; 20]);
        p
    }

    #[test]
    fn legacy_entries() {
        let mut b = Vec::new();
        legacy_entry(&mut b, b"k1", 0, &[]);
        legacy_entry(&mut b, b"k2", 40, &legacy_promoted());
        legacy_entry(&mut b, b"k3", 5000, &[]);
        let all: Vec<_> = Index::parse_entries(&b, Version::Ka)
            .unwrap()
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(all[1].key, b"k2");
        assert_eq!(all[1].data_offset, DataOffset(40));
        assert_eq!(all[1].index_offset, IndexOffset(16));
        assert_eq!(all[1].promoted_index_blocks().unwrap(), 3);
        assert_eq!(all[2].data_offset, DataOffset(5000));
        assert_eq!(all[2].promoted_index_blocks().unwrap(), 0);
        let index = Index::new(&b, Version::La).unwrap();
        let third = index.entry_at(all[2].index_offset).unwrap();
        assert_eq!(third.key, b"k3");
        assert_eq!(index.entries_from(all[1].index_offset).unwrap().count(), 2);
        assert!(index.entries_from(IndexOffset(10_000)).is_err());
        assert!(index.entry_at(IndexOffset(b.len() as u64)).is_err());
    }

    #[test]
    fn vint_entries_and_oa_deletion() {
        for (version, live) in [
            (Version::Mc, {
                let mut d = i32::MAX.to_be_bytes().to_vec();
                d.extend_from_slice(&i64::MIN.to_be_bytes());
                d
            }),
            (Version::Oa, vec![0x80]),
            (Version::Oa, {
                let mut d = 5i64.to_be_bytes().to_vec();
                d.extend_from_slice(&7u32.to_be_bytes());
                d
            }),
        ] {
            let mut promoted = Vec::new();
            encode_uvint(9, &mut promoted);
            promoted.extend_from_slice(&live);
            encode_uvint(300, &mut promoted);
            promoted.extend_from_slice(&[1, 2, 3]);
            let mut b = Vec::new();
            vint_entry(&mut b, b"a", 0, &[]);
            vint_entry(&mut b, b"bb", 1_000_000, &promoted);
            let all: Vec<_> = Index::parse_entries(&b, version)
                .unwrap()
                .collect::<Result<_>>()
                .unwrap();
            assert_eq!(all.len(), 2);
            assert_eq!(all[1].data_offset, DataOffset(1_000_000));
            assert_eq!(all[1].promoted_index_blocks().unwrap(), 300, "{version}");
        }
    }

    #[test]
    fn bad_oa_deletion_flags() {
        let mut promoted = Vec::new();
        encode_uvint(9, &mut promoted);
        promoted.push(0x81);
        let mut b = Vec::new();
        vint_entry(&mut b, b"a", 0, &promoted);
        let e = Index::parse_entries(&b, Version::Oa)
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        assert!(e.promoted_index_blocks().is_err());
    }

    #[test]
    fn bti_versions_are_refused() {
        assert!(Index::new(&[], Version::Da).is_err());
        assert!(Index::new(&[], Version::Ms).is_err());
        assert_eq!(Index::new(&[], Version::Me).unwrap().entries().count(), 0);
    }

    #[test]
    fn truncation_everywhere_is_an_error_and_stops() {
        let mut b = Vec::new();
        legacy_entry(&mut b, b"key", 0, &legacy_promoted());
        legacy_entry(&mut b, b"key2", 99, &[]);
        for cut in 1..b.len() {
            let items: Vec<_> = Index::parse_entries(&b[..cut], Version::Ka)
                .unwrap()
                .collect();
            let errors = items.iter().filter(|r| r.is_err()).count();
            // Cutting exactly between the two entries leaves one whole entry.
            if cut == 2 + 3 + 12 + legacy_promoted().len() {
                assert_eq!(errors, 0);
                assert_eq!(items.len(), 1);
            } else {
                assert_eq!(errors, 1, "cut {cut}");
                assert!(items.last().unwrap().is_err(), "the error is last");
            }
        }
        let mut v = Vec::new();
        vint_entry(&mut v, b"key", 1 << 40, &[1, 2, 3]);
        for cut in 1..v.len() {
            let items: Vec<_> = Index::parse_entries(&v[..cut], Version::Nb)
                .unwrap()
                .collect();
            assert!(items.last().unwrap().is_err(), "cut {cut}");
        }
    }

    #[test]
    fn corrupt_sizes() {
        let mut b = Vec::new();
        legacy_entry(&mut b, b"k", -5, &[]);
        assert!(Index::parse_entries(&b, Version::Ka)
            .unwrap()
            .next()
            .unwrap()
            .is_err());
        let mut b = Vec::new();
        b.extend_from_slice(&[0, 1, b'k']);
        b.extend_from_slice(&0i64.to_be_bytes());
        b.extend_from_slice(&(-1i32).to_be_bytes());
        assert!(Index::parse_entries(&b, Version::Ka)
            .unwrap()
            .next()
            .unwrap()
            .is_err());
        // A huge vint size.
        let mut b = vec![0, 1, b'k', 0];
        encode_uvint(u64::MAX, &mut b);
        let r: Vec<_> = Index::parse_entries(&b, Version::Mc).unwrap().collect();
        assert_eq!(r.len(), 1);
        assert!(r[0].is_err());
    }
}
