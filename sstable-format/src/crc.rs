//! `CRC.db`: the per-slice checksums of an *uncompressed* `Data.db`, so that it can be verified
//! without the whole-file digest. Mirrors Cassandra's `io/util/ChecksumWriter` (3.0+) and
//! `io/util/DataIntegrityMetadata.ChecksumValidator` (2.x).
//!
//! Layout (FORMAT-MAP §3.2): a big-endian int chunk size, then one big-endian 4-byte checksum
//! for each `chunk size` slice of `Data.db` (the last slice may be shorter). The algorithm
//! depends on the version ([`Version::crc_db_checksum`]): CRC32 for `jb` and 3.0+, Adler32
//! for `ka`/`la`/`lb` — verified on every CRC.db of the corpus.

use crate::cursor::Cursor;
use crate::error::{Component, Error, Result};
use crate::offsets::{ChunkIndex, DataOffset};
use crate::version::{ChecksumKind, Version};

/// A parsed `CRC.db`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrcDb {
    chunk_size: u32,
    checksums: Vec<u32>,
}

/// Byte offset of the first checksum in CRC.db.
const CHECKSUMS_AT: u64 = 4;

impl CrcDb {
    /// Parses a whole `CRC.db`. The layout is the same in every version; the checksum algorithm
    /// is chosen when checking ([`Version::crc_db_checksum`]).
    pub fn parse(bytes: &[u8]) -> Result<CrcDb> {
        let mut c = Cursor::new(bytes, Component::Crc);
        let at = c.offset();
        let size = c.read_i32("chunk size")?;
        let chunk_size = u32::try_from(size)
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| c.invalid_at(at, format!("chunk size {size} is not positive")))?;
        if !c.remaining().is_multiple_of(4) {
            return Err(Error::Truncated {
                component: Component::Crc,
                offset: c.offset() + (c.remaining() / 4 * 4) as u64,
                needed: (4 - c.remaining() % 4) as u64,
                what: "chunk checksum",
            });
        }
        let mut checksums = Vec::with_capacity(c.remaining() / 4);
        while !c.is_empty() {
            checksums.push(c.read_u32("chunk checksum")?);
        }
        Ok(CrcDb {
            chunk_size,
            checksums,
        })
    }

    /// Bytes of `Data.db` covered by each checksum.
    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    /// The stored checksums, one per slice.
    pub fn checksums(&self) -> &[u32] {
        &self.checksums
    }

    /// Number of checksums.
    pub fn chunk_count(&self) -> u64 {
        self.checksums.len() as u64
    }

    /// The slice holding `Data.db` position `pos`.
    pub fn chunk_for(&self, pos: DataOffset) -> ChunkIndex {
        ChunkIndex(pos.0 / u64::from(self.chunk_size))
    }

    /// The position of the first byte of slice `chunk`.
    pub fn chunk_start(&self, chunk: ChunkIndex) -> DataOffset {
        DataOffset(chunk.0.saturating_mul(u64::from(self.chunk_size)))
    }

    /// [`CrcDb::check_count`], tolerating the one quirk of writers in the wild: one extra
    /// checksum, of zero bytes in the algorithm `kind` (Cassandra's
    /// `ChecksummedSequentialWriter.flushData` on the final flush of an empty buffer; see
    /// [`crate::verify::Quirk`]), returned as a quirk to report. Anything else that does not
    /// match the slices of Data.db is an error, as in [`CrcDb::check_count`].
    pub fn check_count_with(
        &self,
        data_len: u64,
        kind: ChecksumKind,
    ) -> Result<Option<crate::verify::Quirk>> {
        let needed = data_len.div_ceil(u64::from(self.chunk_size));
        let empty = kind.compute(&[]);
        let extra = usize::try_from(needed)
            .ok()
            .and_then(|n| self.checksums.get(n..))
            .unwrap_or(&[]);
        if extra == [empty] {
            return Ok(Some(crate::verify::Quirk {
                component: Component::Crc,
                offset: CHECKSUMS_AT + 4 * needed,
                message: format!(
                    "one checksum more than the {needed} slice(s) of the {data_len}-byte Data.db \
                     need, the checksum of zero bytes (0x{empty:08x}): the final flush of an \
                     empty buffer by Cassandra's ChecksummedSequentialWriter.flushData; ignored"
                ),
            }));
        }
        self.check_count(data_len).map(|()| None)
    }

    /// Fails unless there is exactly one checksum per slice of a `data_len`-byte `Data.db`.
    pub fn check_count(&self, data_len: u64) -> Result<()> {
        let needed = data_len.div_ceil(u64::from(self.chunk_size));
        let have = self.chunk_count();
        if have < needed {
            Err(Error::Truncated {
                component: Component::Crc,
                offset: CHECKSUMS_AT + 4 * have,
                needed: 4 * (needed - have),
                what: "chunk checksums for the whole Data.db",
            })
        } else if have > needed {
            Err(Error::invalid(
                Component::Crc,
                CHECKSUMS_AT + 4 * needed,
                format!(
                    "{have} checksums for a {data_len}-byte Data.db in {}-byte slices (expected {needed})",
                    self.chunk_size
                ),
            ))
        } else {
            Ok(())
        }
    }

    /// Checks slice `chunk` of `Data.db` (`bytes`, starting at `Data.db` offset `offset`) against
    /// its stored checksum, computed with `kind`.
    pub fn verify(
        &self,
        chunk: ChunkIndex,
        offset: DataOffset,
        bytes: &[u8],
        kind: ChecksumKind,
    ) -> Result<()> {
        let stored = usize::try_from(chunk.0)
            .ok()
            .and_then(|i| self.checksums.get(i))
            .copied()
            .ok_or_else(|| Error::Truncated {
                component: Component::Crc,
                offset: CHECKSUMS_AT.saturating_add(chunk.0.saturating_mul(4)),
                needed: 4,
                what: "chunk checksum",
            })?;
        let computed = kind.compute(bytes);
        if stored == computed {
            Ok(())
        } else {
            Err(Error::ChecksumMismatch {
                component: Component::Data,
                chunk: chunk.0,
                offset: offset.0,
                stored,
                computed,
            })
        }
    }

    /// Builds the CRC.db of `data` (for tests and the future writer).
    pub fn build(data: &[u8], chunk_size: u32, version: Version) -> CrcDb {
        let kind = version.crc_db_checksum();
        CrcDb {
            chunk_size: chunk_size.max(1),
            checksums: data
                .chunks(chunk_size.max(1) as usize)
                .map(|c| kind.compute(c))
                .collect(),
        }
    }

    /// Serialises the CRC.db.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.chunk_size.to_be_bytes());
        for c in &self.checksums {
            out.extend_from_slice(&c.to_be_bytes());
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_verify() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7) as u8).collect();
        for v in [
            Version::Jb,
            Version::Ka,
            Version::La,
            Version::Mc,
            Version::Oa,
        ] {
            let crc = CrcDb::build(&data, 4096, v);
            let mut bytes = Vec::new();
            crc.write(&mut bytes);
            assert_eq!(bytes.len(), 4 + 3 * 4);
            let parsed = CrcDb::parse(&bytes).unwrap();
            assert_eq!(parsed, crc);
            parsed.check_count(data.len() as u64).unwrap();
            assert_eq!(parsed.chunk_for(DataOffset(8192)), ChunkIndex(2));
            assert_eq!(parsed.chunk_start(ChunkIndex(2)), DataOffset(8192));
            let kind = v.crc_db_checksum();
            parsed
                .verify(ChunkIndex(2), DataOffset(8192), &data[8192..], kind)
                .unwrap();
            let e = parsed
                .verify(ChunkIndex(1), DataOffset(4096), &data[4097..8193], kind)
                .unwrap_err();
            assert!(matches!(
                e,
                Error::ChecksumMismatch {
                    component: Component::Data,
                    chunk: 1,
                    offset: 4096,
                    ..
                }
            ));
            assert!(parsed
                .verify(ChunkIndex(3), DataOffset(12288), &[], kind)
                .is_err());
        }
    }

    #[test]
    fn adler_and_crc_differ() {
        let data = b"some data.db bytes";
        let a = CrcDb::build(data, 65536, Version::La);
        let c = CrcDb::build(data, 65536, Version::Mc);
        assert_ne!(a.checksums(), c.checksums());
        assert_eq!(c.checksums()[0], crc32fast::hash(data));
    }

    #[test]
    fn malformed() {
        assert!(matches!(CrcDb::parse(&[]), Err(Error::Truncated { .. })));
        assert!(matches!(
            CrcDb::parse(&[0, 0, 0]),
            Err(Error::Truncated { .. })
        ));
        assert!(matches!(
            CrcDb::parse(&[0, 0, 0, 0]),
            Err(Error::Invalid { .. })
        ));
        assert!(matches!(
            CrcDb::parse(&[0xff, 0, 0, 0]),
            Err(Error::Invalid { .. })
        ));
        let e = CrcDb::parse(&[0, 1, 0, 0, 1, 2, 3, 4, 5, 6]).unwrap_err();
        assert!(matches!(
            e,
            Error::Truncated {
                component: Component::Crc,
                offset: 8,
                needed: 2,
                ..
            }
        ));
        let crc = CrcDb::parse(&[0, 0, 0, 16, 1, 2, 3, 4]).unwrap();
        assert_eq!(crc.chunk_count(), 1);
        assert!(crc.check_count(16).is_ok());
        assert!(crc.check_count(0).is_err());
        assert!(matches!(
            crc.check_count(17),
            Err(Error::Truncated {
                component: Component::Crc,
                offset: 8,
                needed: 4,
                ..
            })
        ));
    }

    /// The extra checksum of an empty final flush is a quirk (reported at its offset); any
    /// other extra checksum, or two, stay errors.
    #[test]
    fn one_extra_checksum_of_zero_bytes_is_a_quirk_not_an_error() {
        let crc = CrcDb::parse(&[0, 0, 0, 16, 1, 2, 3, 4, 0, 0, 0, 0]).unwrap();
        let q = crc
            .check_count_with(16, ChecksumKind::Crc32)
            .unwrap()
            .unwrap();
        assert_eq!((q.component, q.offset), (Component::Crc, 8));
        // In Adler32 the checksum of zero bytes is 1, so 0 is damage there.
        assert!(crc.check_count_with(16, ChecksumKind::Adler32).is_err());
        let crc = CrcDb::parse(&[0, 0, 0, 16, 1, 2, 3, 4, 0, 0, 0, 1]).unwrap();
        assert!(crc
            .check_count_with(16, ChecksumKind::Adler32)
            .unwrap()
            .is_some());
        assert!(crc.check_count_with(16, ChecksumKind::Crc32).is_err());
        let crc = CrcDb::parse(&[0, 0, 0, 16, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap();
        assert!(crc.check_count_with(16, ChecksumKind::Crc32).is_err());
        // The exact count: no quirk.
        let crc = CrcDb::parse(&[0, 0, 0, 16, 1, 2, 3, 4]).unwrap();
        assert_eq!(crc.check_count_with(16, ChecksumKind::Crc32).unwrap(), None);
    }
}
