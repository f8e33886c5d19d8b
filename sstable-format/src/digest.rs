//! `Digest.*`: the whole-file checksum of `Data.db` as stored on disk (for a compressed
//! sstable, over the compressed file as written).
//!
//! Mirrors Cassandra's `io/util/ChecksumWriter.writeFullChecksum` (2.x
//! `DataIntegrityMetadata.ChecksumWriter`): ASCII decimal of an Adler-32 (ka `Digest.sha1`,
//! la/lb `Digest.adler32`) or CRC-32 (ma+ `Digest.crc32`). 2.0 (`jb`) and older files hold a hex
//! SHA-1 of the whole Data.db followed by two spaces and the Data.db file name (2.0
//! `io/util/DataIntegrityMetadata.ChecksumWriter` with a `MessageDigest("SHA-1")`, written by
//! `writeFullChecksum` as `hex + "  " + fileName`).

use crate::error::{Component, Error, Result};
use crate::offsets::FileOffset;
use crate::version::DigestKind;

/// Which bytes of a compressed Data.db a digest turned out to cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestCoverage {
    /// The whole file as stored (chunk checksums included): Cassandra 3.0+ and most 2.x files.
    WholeFile,
    /// Only the compressed chunk bodies, without each chunk's 4-byte checksum: written by some
    /// 2.x writers (seen in Cassandra 2.1 `ka` and ScyllaDB `la` files of the corpus).
    ChunkBodies,
}

/// The value stored in a Digest file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestValue {
    /// A decimal checksum (Adler-32 or CRC-32).
    Checksum(u64),
    /// A SHA-1 (2.0 and older).
    Sha1([u8; 20]),
}

/// A parsed Digest file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    /// The stored value.
    pub value: DigestValue,
    /// The file name after the value, when present (SHA-1 digests).
    pub file_name: Option<String>,
}

impl Digest {
    /// Parses a Digest file: the value, optionally followed by whitespace and a file name.
    pub fn parse(bytes: &[u8]) -> Result<Digest> {
        let text = std::str::from_utf8(bytes).map_err(|e| {
            Error::invalid(
                Component::Digest,
                e.valid_up_to() as u64,
                "digest is not UTF-8",
            )
        })?;
        let start = text.len() - text.trim_start().len();
        let trimmed = text.trim();
        let (token, rest) = match trimmed.find(char::is_whitespace) {
            Some(i) => (
                trimmed.get(..i).unwrap_or(""),
                trimmed.get(i..).unwrap_or(""),
            ),
            None => (trimmed, ""),
        };
        let bad = |msg: &str| Error::invalid(Component::Digest, start as u64, msg.to_string());
        if token.is_empty() {
            return Err(bad("empty digest"));
        }
        let value = if token.bytes().all(|b| b.is_ascii_digit()) {
            DigestValue::Checksum(
                token
                    .parse::<u64>()
                    .map_err(|_| bad("digest out of range"))?,
            )
        } else if token.len() == 40 {
            let bytes = crate::types::decode_hex(token).ok_or_else(|| bad("bad hex digest"))?;
            let mut out = [0u8; 20];
            if bytes.len() != out.len() {
                return Err(bad("bad hex digest"));
            }
            out.copy_from_slice(&bytes);
            DigestValue::Sha1(out)
        } else {
            return Err(bad(&format!("not a digest: {token:?}")));
        };
        let rest = rest.trim();
        Ok(Digest {
            value,
            file_name: (!rest.is_empty()).then(|| rest.to_string()),
        })
    }

    /// Checks `data` (the whole Data.db as stored) against the digest.
    pub fn verify(&self, kind: DigestKind, data: &[u8]) -> Result<()> {
        let mut h = DigestHasher::new(kind)?;
        h.update(data);
        self.verify_hasher(&h)
    }

    /// Checks a compressed `data` (as stored) whose chunks start at `chunk_offsets`
    /// (CompressionInfo.db): first over the whole file, then over the chunk bodies only.
    /// A mismatch reports the whole-file value.
    pub fn verify_compressed(
        &self,
        kind: DigestKind,
        data: &[u8],
        chunk_offsets: &[FileOffset],
    ) -> Result<DigestCoverage> {
        match self.verify(kind, data) {
            Ok(()) => Ok(DigestCoverage::WholeFile),
            Err(e) if is_mismatch(&e) => {
                let mut h = DigestHasher::new(kind)?;
                feed_chunk_bodies(&mut h, data, chunk_offsets)?;
                match self.verify_hasher(&h) {
                    Ok(()) => Ok(DigestCoverage::ChunkBodies),
                    Err(_) => self.verify(kind, data).map(|()| DigestCoverage::WholeFile),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Checks an incremental hash (fed the whole file) against the digest.
    ///
    /// A checksum digest checked against a SHA-1 hasher (or the reverse) is an error that says
    /// so: the Digest file does not match the format version.
    pub fn verify_hasher(&self, hasher: &DigestHasher) -> Result<()> {
        match (self.value, hasher.finish()) {
            (DigestValue::Checksum(stored), DigestValue::Checksum(computed)) => {
                if stored == computed {
                    Ok(())
                } else {
                    Err(Error::DigestMismatch {
                        component: Component::Data,
                        stored,
                        computed,
                    })
                }
            }
            (DigestValue::Sha1(stored), DigestValue::Sha1(computed)) => {
                if stored == computed {
                    Ok(())
                } else {
                    Err(Error::invalid(
                        Component::Data,
                        0,
                        format!(
                            "whole-file SHA-1 mismatch: stored {}, computed {}",
                            hex(&stored),
                            hex(&computed)
                        ),
                    ))
                }
            }
            (DigestValue::Sha1(_), DigestValue::Checksum(_)) => Err(Error::invalid(
                Component::Digest,
                0,
                "the Digest file holds a SHA-1 but this format version uses a checksum",
            )),
            (DigestValue::Checksum(_), DigestValue::Sha1(_)) => Err(Error::invalid(
                Component::Digest,
                0,
                "the Digest file holds a checksum but this format version uses SHA-1",
            )),
        }
    }
}

/// Whether `e` is a digest mismatch (checksum or SHA-1) rather than a structural problem.
fn is_mismatch(e: &Error) -> bool {
    match e {
        Error::DigestMismatch { .. } => true,
        Error::Invalid {
            component: Component::Data,
            message,
            ..
        } => message.starts_with("whole-file SHA-1 mismatch"),
        _ => false,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The whole-file checksum of `data` (Data.db as stored). For SHA-1 (which does not fit a
/// `u64`) this is an error; use [`compute_digest_value`].
pub fn compute_digest(kind: DigestKind, data: &[u8]) -> Result<u64> {
    match compute_digest_value(kind, data) {
        DigestValue::Checksum(v) => Ok(v),
        DigestValue::Sha1(_) => Err(Error::Unsupported {
            component: Component::Digest,
            offset: 0,
            message: "a SHA-1 digest does not fit a u64: use compute_digest_value".to_string(),
        }),
    }
}

/// The whole-file digest of `data` (Data.db as stored), of any kind.
pub fn compute_digest_value(kind: DigestKind, data: &[u8]) -> DigestValue {
    let mut h = DigestHasher::from_kind(kind);
    h.update(data);
    h.finish()
}

/// The digest of a compressed `data` over its chunk bodies only (each chunk minus its trailing
/// 4-byte checksum), the form some 2.x writers stored (see [`DigestCoverage::ChunkBodies`]).
pub fn compute_chunk_body_digest(
    kind: DigestKind,
    data: &[u8],
    chunk_offsets: &[FileOffset],
) -> Result<u64> {
    let mut h = DigestHasher::new(kind)?;
    feed_chunk_bodies(&mut h, data, chunk_offsets)?;
    Ok(h.value())
}

fn feed_chunk_bodies(h: &mut DigestHasher, data: &[u8], offsets: &[FileOffset]) -> Result<()> {
    let len = data.len() as u64;
    for (i, start) in offsets.iter().enumerate() {
        let end = offsets.get(i + 1).map_or(len, |o| o.0);
        let body_end = end.checked_sub(4).filter(|e| *e >= start.0 && end <= len);
        let body = body_end
            .and_then(|e| data.get(usize::try_from(start.0).ok()?..usize::try_from(e).ok()?))
            .ok_or_else(|| {
                Error::invalid(
                    Component::Data,
                    start.0,
                    format!(
                        "chunk {i} ({}..{end}) does not fit Data.db ({len} bytes)",
                        start.0
                    ),
                )
            })?;
        h.update(body);
    }
    Ok(())
}

/// An incremental whole-file digest, fed chunk by chunk with the on-disk bytes.
#[derive(Clone)]
pub struct DigestHasher {
    state: HasherState,
}

#[derive(Clone)]
enum HasherState {
    Adler32(adler32::RollingAdler32),
    Crc32(crc32fast::Hasher),
    Sha1(sha1::Sha1),
}

impl std::fmt::Debug for DigestHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.state {
            HasherState::Adler32(_) => write!(f, "DigestHasher::Adler32({})", self.value()),
            HasherState::Crc32(_) => write!(f, "DigestHasher::Crc32({})", self.value()),
            HasherState::Sha1(_) => f.write_str("DigestHasher::Sha1"),
        }
    }
}

impl DigestHasher {
    /// A hasher for `kind` (never fails; kept fallible for API stability).
    pub fn new(kind: DigestKind) -> Result<DigestHasher> {
        Ok(DigestHasher::from_kind(kind))
    }

    /// A hasher for `kind`.
    pub fn from_kind(kind: DigestKind) -> DigestHasher {
        let state = match kind {
            DigestKind::Adler32 => HasherState::Adler32(adler32::RollingAdler32::new()),
            DigestKind::Crc32 => HasherState::Crc32(crc32fast::Hasher::new()),
            DigestKind::Sha1 => HasherState::Sha1(sha1::Sha1::default()),
        };
        DigestHasher { state }
    }

    /// Feeds the next bytes of the file.
    pub fn update(&mut self, bytes: &[u8]) {
        match &mut self.state {
            HasherState::Adler32(a) => a.update_buffer(bytes),
            HasherState::Crc32(c) => c.update(bytes),
            HasherState::Sha1(s) => sha1::Digest::update(s, bytes),
        }
    }

    /// The digest of the bytes fed so far, of any kind.
    pub fn finish(&self) -> DigestValue {
        match &self.state {
            HasherState::Sha1(s) => {
                let mut out = [0u8; 20];
                out.copy_from_slice(&sha1::Digest::finalize(s.clone()));
                DigestValue::Sha1(out)
            }
            _ => DigestValue::Checksum(self.value()),
        }
    }

    /// The checksum of the bytes fed so far; for SHA-1, its first 8 bytes (big-endian): use
    /// [`DigestHasher::finish`] for the whole SHA-1.
    pub fn value(&self) -> u64 {
        match &self.state {
            HasherState::Adler32(a) => u64::from(a.hash()),
            HasherState::Crc32(c) => u64::from(c.clone().finalize()),
            HasherState::Sha1(s) => {
                let d = sha1::Digest::finalize(s.clone());
                let mut first = [0u8; 8];
                first.copy_from_slice(d.get(..8).unwrap_or(&[0; 8]));
                u64::from_be_bytes(first)
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn parse_forms() {
        let d = Digest::parse(b"1983729251").unwrap();
        assert_eq!(d.value, DigestValue::Checksum(1983729251));
        assert_eq!(d.file_name, None);
        let d = Digest::parse(b"42\n").unwrap();
        assert_eq!(d.value, DigestValue::Checksum(42));
        let d =
            Digest::parse(b"4a9f1896a599e4b3ff5d19600901de1a0b851bc1  ks-t-jb-0-Data.db").unwrap();
        assert!(matches!(d.value, DigestValue::Sha1(h) if h[0] == 0x4a && h[19] == 0xc1));
        assert_eq!(d.file_name.as_deref(), Some("ks-t-jb-0-Data.db"));
    }

    #[test]
    fn parse_bad() {
        for b in [
            &b""[..],
            b"  \n",
            b"12x",
            b"99999999999999999999999",
            b"\xff",
            b"zz",
        ] {
            assert!(Digest::parse(b).is_err(), "{b:?}");
        }
    }

    #[test]
    fn compute_and_verify() {
        let data = b"hello world, this is Data.db";
        assert_eq!(
            compute_digest(DigestKind::Crc32, data).unwrap(),
            u64::from(crc32fast::hash(data))
        );
        assert_eq!(
            compute_digest(DigestKind::Adler32, b"Wikipedia").unwrap(),
            0x11E6_0398
        );
        let mut h = DigestHasher::new(DigestKind::Crc32).unwrap();
        for chunk in data.chunks(5) {
            h.update(chunk);
        }
        let d = Digest::parse(format!("{}", crc32fast::hash(data)).as_bytes()).unwrap();
        d.verify_hasher(&h).unwrap();
        d.verify(DigestKind::Crc32, data).unwrap();
        assert!(matches!(
            d.verify(DigestKind::Crc32, b"other"),
            Err(Error::DigestMismatch { .. })
        ));
        assert!(compute_digest(DigestKind::Sha1, data).is_err());
        // SHA-1 ("abc" is FIPS 180's test vector), whole and fed in pieces.
        let abc = compute_digest_value(DigestKind::Sha1, b"abc");
        let want = "a9993e364706816aba3e25717850c26c9cd0d89d";
        assert_eq!(
            abc,
            DigestValue::Sha1(
                *<&[u8; 20]>::try_from(crate::types::decode_hex(want).unwrap().as_slice()).unwrap()
            )
        );
        let d = Digest::parse(format!("{want}  ks-t-jb-1-Data.db").as_bytes()).unwrap();
        d.verify(DigestKind::Sha1, b"abc").unwrap();
        let mut h = DigestHasher::new(DigestKind::Sha1).unwrap();
        h.update(b"a");
        h.update(b"bc");
        d.verify_hasher(&h).unwrap();
        assert_eq!(h.value(), 0xa999_3e36_4706_816a);
        let e = d.verify(DigestKind::Sha1, b"abd").unwrap_err();
        assert!(e.to_string().contains("SHA-1 mismatch"), "{e}");
        // Kind confusion is an error, not a panic.
        assert!(d.verify(DigestKind::Crc32, b"abc").is_err());
        let c = Digest::parse(b"42").unwrap();
        assert!(c.verify(DigestKind::Sha1, b"abc").is_err());
        // A compressed jb file: whole-file SHA-1, or the chunk bodies, both checked.
        let file = b"ab1234cd5678";
        let offsets = [FileOffset(0), FileOffset(6)];
        let whole = compute_digest_value(DigestKind::Sha1, file);
        let DigestValue::Sha1(w) = whole else {
            panic!()
        };
        let d = Digest::parse(hex(&w).as_bytes()).unwrap();
        assert_eq!(
            d.verify_compressed(DigestKind::Sha1, file, &offsets)
                .unwrap(),
            DigestCoverage::WholeFile
        );
        assert!(d
            .verify_compressed(DigestKind::Sha1, b"ab1234cd5679", &offsets)
            .is_err());
        // Two chunks of 6 bytes: 2-byte body + 4-byte checksum each.
        let file = b"ab1234cd5678";
        let offsets = [FileOffset(0), FileOffset(6)];
        let bodies = compute_digest(DigestKind::Adler32, b"abcd").unwrap();
        assert_eq!(
            compute_chunk_body_digest(DigestKind::Adler32, file, &offsets).unwrap(),
            bodies
        );
        let d = Digest::parse(bodies.to_string().as_bytes()).unwrap();
        assert_eq!(
            d.verify_compressed(DigestKind::Adler32, file, &offsets)
                .unwrap(),
            DigestCoverage::ChunkBodies
        );
        let whole = compute_digest(DigestKind::Adler32, file).unwrap();
        let d = Digest::parse(whole.to_string().as_bytes()).unwrap();
        assert_eq!(
            d.verify_compressed(DigestKind::Adler32, file, &offsets)
                .unwrap(),
            DigestCoverage::WholeFile
        );
        let d = Digest::parse(b"1").unwrap();
        assert!(matches!(
            d.verify_compressed(DigestKind::Adler32, file, &offsets),
            Err(Error::DigestMismatch { .. })
        ));
        // Offsets past the end or a chunk shorter than its checksum: an error, no panic.
        assert!(compute_chunk_body_digest(DigestKind::Adler32, file, &[FileOffset(10)]).is_err());
        assert!(compute_chunk_body_digest(DigestKind::Adler32, file, &[FileOffset(99)]).is_err());
        let mut a = DigestHasher::new(DigestKind::Adler32).unwrap();
        a.update(b"Wiki");
        a.update(b"pedia");
        assert_eq!(a.value(), 0x11E6_0398);
    }
}
