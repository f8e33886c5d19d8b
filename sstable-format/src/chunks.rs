//! The readers of `Data.db` bytes: they turn a compressed `Data.db` (with its
//! `CompressionInfo.db`) or an uncompressed one (with its `CRC.db`, when there is one) into the
//! uncompressed stream that the row decoder reads, checking every chunk's checksum on the way.
//! Mirrors Cassandra's `io/util/CompressedChunkReader` (and C21's
//! `CompressedRandomAccessReader.decompressChunk`), the `io/compress/*Compressor.uncompress`
//! codecs, and `io/util/DataIntegrityMetadata.ChecksumValidator` for CRC.db.
//!
//! Compressed chunk format (FORMAT-MAP §3.2), checked on the corpus:
//! * the stored bytes of a chunk run from its offset to the next chunk's offset (or the end of
//!   the file) minus 4; the 4 bytes after them are a big-endian checksum **of the stored
//!   (compressed) bytes**: Adler32 in `jb`/`ka`/`la`, CRC32 from `ma` on
//!   ([`Version::chunk_checksum`]);
//! * na and later: a chunk whose stored length is at least `max_compressed_length` is stored
//!   raw; the last one may be zero-padded up to `max_compressed_length`
//!   (C50 `CompressedSequentialWriter.flushData`);
//! * codecs: LZ4 = 4-byte little-endian uncompressed length + raw LZ4 block; Snappy = raw block;
//!   Deflate = a zlib stream (header `78 9c` on the corpus Deflate set); Zstd = one zstd frame.
//!
//! Output goes straight into the caller's buffer: `out` is grown by the chunk's length (which
//! reuses its capacity; the crate forbids `unsafe`, so the new bytes are zeroed first) and the
//! codec writes into that tail. Decoder contexts (zstd, zlib) live in the source and are reused.

use std::fmt;

use crate::compression_info::{Codec, CompressionInfo, CHUNK_CHECKSUM_LEN};
use crate::crc::CrcDb;
use crate::digest::{Digest, DigestHasher};
use crate::error::{Component, Error, Result};
use crate::offsets::{ChunkIndex, DataOffset, FileOffset};
use crate::source::{ByteRanges, DataSource};
use crate::version::{ChecksumKind, DigestKind, Version};

/// Slice size of an uncompressed `Data.db` read without a CRC.db.
pub const DEFAULT_UNCOMPRESSED_SLICE: u32 = 64 * 1024;

/// What [`verify_all`] and [`verify_uncompressed`] checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VerifyReport {
    /// Chunks (or CRC.db slices) whose checksum was verified.
    pub chunks: u64,
    /// Bytes of `Data.db` as stored (compressed file length).
    pub compressed_bytes: u64,
    /// Bytes of the uncompressed `Data.db` stream.
    pub uncompressed_bytes: u64,
    /// Quirks of writers in the wild that were accepted (CRC.db's extra checksum).
    pub quirks: Vec<crate::verify::Quirk>,
}

/// Reusable decoder state: the codec and its (lazily created) contexts.
struct ChunkDecoder {
    codec: Codec,
    zstd: Option<zstd::bulk::Decompressor<'static>>,
    zlib: Option<flate2::Decompress>,
}

impl fmt::Debug for ChunkDecoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkDecoder")
            .field("codec", &self.codec)
            .finish_non_exhaustive()
    }
}

/// Where a chunk is, for error messages.
#[derive(Clone, Copy)]
struct ChunkAt {
    chunk: u64,
    offset: u64,
}

impl ChunkAt {
    fn error(self, codec: &Codec, message: impl Into<String>) -> Error {
        Error::Decompress {
            component: Component::Data,
            chunk: self.chunk,
            offset: self.offset,
            codec: codec.name(),
            message: message.into(),
        }
    }
}

impl ChunkDecoder {
    fn new(codec: Codec) -> Self {
        ChunkDecoder {
            codec,
            zstd: None,
            zlib: None,
        }
    }

    /// Decompresses `stored` into exactly `expected` bytes appended to `out`. On error `out` is
    /// left as it was.
    fn decompress(
        &mut self,
        stored: &[u8],
        expected: usize,
        at: ChunkAt,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        if let Codec::Lz4WithDicts | Codec::ZstdWithDicts | Codec::Unknown(_) = self.codec {
            return Err(Error::Unsupported {
                component: Component::Data,
                offset: at.offset,
                message: match &self.codec {
                    Codec::Unknown(name) => format!("unknown compressor class {name:?}"),
                    other => format!(
                        "ScyllaDB dictionary compression ({}) is not supported yet",
                        other.name()
                    ),
                },
            });
        }
        // Allocate by what the stored bytes can hold, not by what CompressionInfo.db claims: a
        // damaged chunk length (1 GiB) must not make every open SSTable allocate that much.
        let limit = max_inflated_len(&self.codec, stored);
        if expected > limit {
            return Err(at.error(
                &self.codec,
                format!(
                    "CompressionInfo.db says this chunk of {} stored bytes holds {expected} \
                     bytes, more than {} can inflate it to ({limit}): its chunk length or data \
                     length is damaged",
                    stored.len(),
                    self.codec.name()
                ),
            ));
        }
        let old = out.len();
        out.resize(old.saturating_add(expected), 0);
        let result = match out.get_mut(old..) {
            Some(dst) => self.decompress_into(stored, dst, at),
            None => Err(at.error(&self.codec, "output buffer")),
        };
        match result {
            Ok(n) if n == expected => Ok(()),
            Ok(n) => {
                out.truncate(old);
                Err(at.error(
                    &self.codec,
                    format!("inflated to {n} bytes, expected {expected}"),
                ))
            }
            Err(e) => {
                out.truncate(old);
                Err(e)
            }
        }
    }

    /// Decompresses into `dst` (sized to the expected length); returns the bytes written.
    fn decompress_into(&mut self, stored: &[u8], dst: &mut [u8], at: ChunkAt) -> Result<usize> {
        let expected = dst.len();
        match &self.codec {
            Codec::Lz4 => {
                let (header, block) = stored
                    .split_first_chunk::<4>()
                    .ok_or_else(|| at.error(&self.codec, "chunk shorter than the LZ4 length"))?;
                let len = u32::from_le_bytes(*header) as usize;
                if len != expected {
                    return Err(at.error(
                        &self.codec,
                        format!("LZ4 length header says {len} bytes, expected {expected}"),
                    ));
                }
                lz4_flex::block::decompress_into(block, dst)
                    .map_err(|e| at.error(&self.codec, e.to_string()))
            }
            Codec::Snappy => {
                let len = snap::raw::decompress_len(stored)
                    .map_err(|e| at.error(&self.codec, e.to_string()))?;
                if len != expected {
                    return Err(at.error(
                        &self.codec,
                        format!("snappy length header says {len} bytes, expected {expected}"),
                    ));
                }
                snap::raw::Decoder::new()
                    .decompress(stored, dst)
                    .map_err(|e| at.error(&self.codec, e.to_string()))
            }
            Codec::Deflate => {
                let z = self
                    .zlib
                    .get_or_insert_with(|| flate2::Decompress::new(true));
                z.reset(true);
                let status = z
                    .decompress(stored, dst, flate2::FlushDecompress::Finish)
                    .map_err(|e| at.error(&self.codec, e.to_string()))?;
                let n = usize::try_from(z.total_out()).unwrap_or(usize::MAX);
                if status != flate2::Status::StreamEnd {
                    return Err(at.error(
                        &self.codec,
                        format!(
                            "zlib stream did not end within {expected} output bytes \
                             ({} of {} input bytes read)",
                            z.total_in(),
                            stored.len()
                        ),
                    ));
                }
                Ok(n)
            }
            Codec::Zstd => {
                if self.zstd.is_none() {
                    self.zstd = Some(
                        zstd::bulk::Decompressor::new()
                            .map_err(|e| at.error(&self.codec, e.to_string()))?,
                    );
                }
                match self.zstd.as_mut() {
                    Some(z) => z
                        .decompress_to_buffer(stored, dst)
                        .map_err(|e| at.error(&Codec::Zstd, e.to_string())),
                    None => Err(at.error(&self.codec, "no zstd context")),
                }
            }
            Codec::Noop => {
                if stored.len() != expected {
                    return Err(at.error(
                        &self.codec,
                        format!("{} stored bytes, expected {expected}", stored.len()),
                    ));
                }
                dst.copy_from_slice(stored);
                Ok(expected)
            }
            Codec::Lz4WithDicts | Codec::ZstdWithDicts | Codec::Unknown(_) => {
                Err(at.error(&self.codec, "unsupported codec"))
            }
        }
    }
}

/// The most bytes `stored` can inflate to with `codec`, from the formats' worst cases: an LZ4
/// block at most 255 output bytes per input byte (a match-length byte of 255), a Snappy copy
/// of 64 bytes from 2 input bytes (32 per byte), deflate 1032:1 (RFC 1951: a 258-byte match
/// in about 2 bits). Zstandard (RLE blocks of 128 KiB from 4 bytes) is bounded by the frame's
/// declared content size when it has one (Cassandra's and ScyllaDB's writers always store it),
/// else by 32768:1. Plus a small constant for headers. Used to refuse a chunk before
/// allocating its output when CompressionInfo.db claims more than the stored bytes can hold.
fn max_inflated_len(codec: &Codec, stored: &[u8]) -> usize {
    let n = stored.len();
    let ratio = |r: usize| n.saturating_mul(r).saturating_add(1024);
    match codec {
        Codec::Lz4 => ratio(255),
        Codec::Snappy => ratio(32),
        Codec::Deflate => ratio(1032),
        Codec::Zstd => match zstd::zstd_safe::get_frame_content_size(stored) {
            Ok(Some(size)) => usize::try_from(size)
                .unwrap_or(usize::MAX)
                .min(ratio(32768)),
            _ => ratio(32768),
        },
        Codec::Noop => n,
        Codec::Lz4WithDicts | Codec::ZstdWithDicts | Codec::Unknown(_) => ratio(32768),
    }
}

/// Compresses one chunk with `codec`, appending the stored bytes (without the checksum) to
/// `out`: the inverse of the decoding in [`CompressedSource`]. For tests and the future writer.
pub fn compress_chunk(codec: &Codec, input: &[u8], out: &mut Vec<u8>) -> Result<()> {
    let unsupported = |what: &str| Error::Unsupported {
        component: Component::Data,
        offset: 0,
        message: format!("compressing with {what} is not supported"),
    };
    match codec {
        Codec::Lz4 => {
            let len = u32::try_from(input.len()).map_err(|_| unsupported("LZ4 over 4 GiB"))?;
            out.extend_from_slice(&len.to_le_bytes());
            let old = out.len();
            out.resize(
                old + lz4_flex::block::get_maximum_output_size(input.len()),
                0,
            );
            let n = match out.get_mut(old..) {
                Some(dst) => lz4_flex::block::compress_into(input, dst)
                    .map_err(|e| unsupported(&format!("lz4 ({e})")))?,
                None => 0,
            };
            out.truncate(old + n);
        }
        Codec::Snappy => {
            let old = out.len();
            out.resize(old + snap::raw::max_compress_len(input.len()), 0);
            let n = match out.get_mut(old..) {
                Some(dst) => snap::raw::Encoder::new()
                    .compress(input, dst)
                    .map_err(|e| unsupported(&format!("snappy ({e})")))?,
                None => 0,
            };
            out.truncate(old + n);
        }
        Codec::Deflate => {
            use std::io::Write;
            let mut enc = flate2::write::ZlibEncoder::new(out, flate2::Compression::default());
            enc.write_all(input)
                .and_then(|()| enc.finish().map(|_| ()))
                .map_err(|e| unsupported(&format!("deflate ({e})")))?;
        }
        Codec::Zstd => {
            let z =
                zstd::bulk::compress(input, 3).map_err(|e| unsupported(&format!("zstd ({e})")))?;
            out.extend_from_slice(&z);
        }
        Codec::Noop => out.extend_from_slice(input),
        other => return Err(unsupported(other.name())),
    }
    Ok(())
}

/// Checks `sum`, the stored checksum that follows the `stored` bytes of chunk `chunk`.
fn check_chunk_checksum(
    stored: &[u8],
    sum: [u8; 4],
    start: FileOffset,
    chunk: ChunkIndex,
    kind: ChecksumKind,
) -> Result<()> {
    let stored_sum = u32::from_be_bytes(sum);
    let computed = kind.compute(stored);
    if stored_sum == computed {
        Ok(())
    } else {
        Err(Error::ChecksumMismatch {
            component: Component::Data,
            chunk: chunk.0,
            offset: start.0,
            stored: stored_sum,
            computed,
        })
    }
}

/// Reads a compressed `Data.db` chunk by chunk (mirrors `CompressedChunkReader`). The stored
/// bytes come from `R`: the whole file in memory (`&[u8]`, the default) or any
/// [`ByteRanges`] that fetches them piecewise.
pub struct CompressedSource<'a, R = &'a [u8]> {
    file: R,
    info: &'a CompressionInfo,
    kind: ChecksumKind,
    /// Whether the checksum covers the stored (compressed) bytes, else the uncompressed ones
    /// (`ic`: [`Version::has_post_compression_checksums`]).
    post_compression: bool,
    next: u64,
    end: u64,
    decoder: ChunkDecoder,
}

impl<R: ByteRanges> fmt::Debug for CompressedSource<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the file's bytes: they may be a whole memory-mapped Data.db.
        f.debug_struct("CompressedSource")
            .field("file_len", &self.file.len())
            .field("codec", &self.decoder.codec)
            .field("kind", &self.kind)
            .field("next", &self.next)
            .field("end", &self.end)
            .finish_non_exhaustive()
    }
}

impl<'a> CompressedSource<'a> {
    /// A source over the whole compressed `file`, described by `info`, that yields chunks
    /// `start..end` (`end` exclusive; `None` for all the rest).
    pub fn new(
        file: &'a [u8],
        info: &'a CompressionInfo,
        version: Version,
        start: ChunkIndex,
        end: Option<ChunkIndex>,
    ) -> Result<Self> {
        CompressedSource::with_ranges(file, info, version, start, end)
    }
}

impl<'a, R: ByteRanges> CompressedSource<'a, R> {
    /// [`CompressedSource::new`] over stored bytes fetched through `file`. Only the stored
    /// bytes of chunks `start..end` (each with its 4-byte checksum) are requested, in order.
    pub fn with_ranges(
        file: R,
        info: &'a CompressionInfo,
        version: Version,
        start: ChunkIndex,
        end: Option<ChunkIndex>,
    ) -> Result<Self> {
        let count = info.chunk_count();
        let end = end.map_or(count, |e| e.0);
        if end > count || start.0 > end {
            return Err(Error::invalid(
                Component::CompressionInfo,
                0,
                format!("chunk range {start}..{end} is outside the {count} chunks"),
            ));
        }
        Ok(CompressedSource {
            file,
            info,
            kind: version.chunk_checksum(),
            post_compression: version.has_post_compression_checksums(),
            next: start.0,
            end,
            decoder: ChunkDecoder::new(info.codec().clone()),
        })
    }

    /// The next chunk `fill` would read.
    pub fn next_chunk(&self) -> ChunkIndex {
        ChunkIndex(self.next)
    }

    /// Reads chunk `chunk`: checks the checksum, then appends its uncompressed bytes to `out`.
    /// Returns the stored length of the chunk (excluding the checksum).
    fn read_chunk(&mut self, chunk: ChunkIndex, out: &mut Vec<u8>) -> Result<u64> {
        let file_len = self.file.len();
        let (start, stored_len) = self.info.chunk_span(chunk, file_len)?;
        let sum_at = start.0.checked_add(stored_len).filter(|e| *e <= file_len);
        let Some(sum_at) = sum_at else {
            return Err(Error::Truncated {
                component: Component::Data,
                offset: start.0,
                needed: stored_len,
                what: "compressed chunk",
            });
        };
        if sum_at.saturating_add(CHUNK_CHECKSUM_LEN) > file_len {
            return Err(Error::Truncated {
                component: Component::Data,
                offset: sum_at,
                needed: CHUNK_CHECKSUM_LEN,
                what: "chunk checksum",
            });
        }
        let whole = self.file.get(start, stored_len + CHUNK_CHECKSUM_LEN)?;
        let (stored, sum) = usize::try_from(stored_len)
            .ok()
            .and_then(|n| whole.split_at_checked(n))
            .and_then(|(stored, sum)| Some((stored, <[u8; 4]>::try_from(sum).ok()?)))
            .ok_or(Error::Truncated {
                component: Component::Data,
                offset: start.0,
                needed: stored_len + CHUNK_CHECKSUM_LEN,
                what: "compressed chunk and its checksum",
            })?;
        if self.post_compression {
            check_chunk_checksum(stored, sum, start, chunk, self.kind)?;
        }
        let before = out.len();

        let expected = self.info.chunk_uncompressed_len(chunk);
        let at = ChunkAt {
            chunk: chunk.0,
            offset: start.0,
        };
        let expected_usize = usize::try_from(expected)
            .map_err(|_| at.error(&self.decoder.codec, "chunk too large"))?;

        let raw = self
            .info
            .max_compressed_length()
            .is_some_and(|m| stored_len >= u64::from(m));
        if raw {
            // Stored uncompressed: exactly the chunk, or (final chunk shorter than
            // max_compressed_length) the chunk zero-padded to max_compressed_length.
            let mcl = u64::from(self.info.max_compressed_length().unwrap_or(u32::MAX));
            let ok = stored_len == expected || (expected < mcl && stored_len == mcl);
            let bytes = stored.get(..expected_usize).filter(|_| ok).ok_or_else(|| {
                Error::invalid(
                    Component::Data,
                    start.0,
                    format!(
                        "raw chunk {chunk} has {stored_len} stored bytes for {expected} \
                         uncompressed (max compressed length {mcl})"
                    ),
                )
            })?;
            out.extend_from_slice(bytes);
        } else {
            self.decoder.decompress(stored, expected_usize, at, out)?;
        }
        if !self.post_compression {
            // C12/C20 `CompressedRandomAccessReader.decompressChunk` before `jb`: a CRC32 of
            // the decompressed bytes.
            check_chunk_checksum(
                out.get(before..).unwrap_or(&[]),
                sum,
                start,
                chunk,
                self.kind,
            )?;
        }
        Ok(stored_len)
    }
}

impl<R: ByteRanges> DataSource for CompressedSource<'_, R> {
    fn fill(&mut self, out: &mut Vec<u8>) -> Result<bool> {
        // Trailing empty chunks (see `compression_info`) are verified but never reported as a
        // fill that appended nothing.
        let before = out.len();
        while self.next < self.end {
            let chunk = ChunkIndex(self.next);
            self.read_chunk(chunk, out)?;
            self.next += 1;
            if out.len() > before {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn position(&self) -> DataOffset {
        DataOffset(
            self.info
                .chunk_start(ChunkIndex(self.next))
                .0
                .min(self.info.data_length()),
        )
    }
}

/// Verifies every chunk of a compressed `Data.db` (checksum, decompression, lengths) and that
/// the chunks add up to `data_length` (for `inspect --verify`). Decompresses each chunk once,
/// into one reused buffer.
pub fn verify_all(file: &[u8], info: &CompressionInfo, version: Version) -> Result<VerifyReport> {
    verify_all_ranges(file, info, version)
}

/// [`verify_all`] over stored bytes fetched through `file` (read once, in order).
pub fn verify_all_ranges<R: ByteRanges>(
    file: R,
    info: &CompressionInfo,
    version: Version,
) -> Result<VerifyReport> {
    let compressed_bytes = file.len();
    let mut src = CompressedSource::with_ranges(file, info, version, ChunkIndex(0), None)?;
    // The claimed chunk length only as far as the data reaches (it may be damaged).
    let first = usize::try_from(info.chunk_uncompressed_len(ChunkIndex(0))).unwrap_or(0);
    let mut buf = Vec::with_capacity(first.min(1 << 20));
    let mut report = VerifyReport {
        compressed_bytes,
        ..VerifyReport::default()
    };
    while src.next < src.end {
        buf.clear();
        src.read_chunk(ChunkIndex(src.next), &mut buf)?;
        src.next += 1;
        report.chunks += 1;
        report.uncompressed_bytes += buf.len() as u64;
    }
    if report.uncompressed_bytes != info.data_length() {
        return Err(Error::invalid(
            Component::CompressionInfo,
            0,
            format!(
                "chunks inflate to {} bytes, data length says {}",
                report.uncompressed_bytes,
                info.data_length()
            ),
        ));
    }
    Ok(report)
}

/// Reads an uncompressed `Data.db` in slices of the CRC.db chunk size (64 KiB without CRC.db),
/// verifying each slice against CRC.db when it is given (mirrors `ChecksumValidator`). The
/// bytes come from `R` as for [`CompressedSource`].
#[derive(Clone)]
pub struct UncompressedSource<'a, R = &'a [u8]> {
    file: R,
    crc: Option<&'a CrcDb>,
    kind: ChecksumKind,
    slice: u64,
    pos: u64,
    end: u64,
    /// The whole-file digest to check when the whole file has been handed out.
    digest: Option<(Digest, DigestHasher)>,
}

impl<R: ByteRanges> fmt::Debug for UncompressedSource<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UncompressedSource")
            .field("file_len", &self.file.len())
            .field("has_crc", &self.crc.is_some())
            .field("kind", &self.kind)
            .field("slice", &self.slice)
            .field("pos", &self.pos)
            .field("end", &self.end)
            .field("digest", &self.digest.as_ref().map(|(d, _)| d.value))
            .finish()
    }
}

impl<'a> UncompressedSource<'a> {
    /// A source over the uncompressed `file` from `start` up to `end` (exclusive; `None` for the
    /// end of the file). With a CRC.db, `start` must be at a slice boundary and CRC.db must hold
    /// one checksum per slice of the file; a slice cut by `end` is still verified whole.
    pub fn new(
        file: &'a [u8],
        crc: Option<&'a CrcDb>,
        version: Version,
        start: DataOffset,
        end: Option<DataOffset>,
    ) -> Result<Self> {
        UncompressedSource::with_ranges(file, crc, version, start, end)
    }
}

impl<'a, R: ByteRanges> UncompressedSource<'a, R> {
    /// [`UncompressedSource::new`] over bytes fetched through `file`: requests run from `start`
    /// to `end` (with a CRC.db, to the end of the slice `end` falls in), in order.
    pub fn with_ranges(
        file: R,
        crc: Option<&'a CrcDb>,
        version: Version,
        start: DataOffset,
        end: Option<DataOffset>,
    ) -> Result<Self> {
        let len = file.len();
        let end = end.map_or(len, |e| e.0);
        if end > len || start.0 > end {
            return Err(Error::Truncated {
                component: Component::Data,
                offset: len,
                needed: end.max(start.0).saturating_sub(len),
                what: "requested range",
            });
        }
        let slice = match crc {
            Some(crc) => {
                // The one tolerated quirk (an extra checksum of zero bytes) is reported by
                // `verify_uncompressed_ranges`.
                crc.check_count_with(len, version.crc_db_checksum())?;
                if !start.0.is_multiple_of(u64::from(crc.chunk_size())) {
                    return Err(Error::invalid(
                        Component::Data,
                        start.0,
                        format!(
                            "start {start} is not at a CRC.db slice boundary ({} bytes)",
                            crc.chunk_size()
                        ),
                    ));
                }
                u64::from(crc.chunk_size())
            }
            None => u64::from(DEFAULT_UNCOMPRESSED_SLICE),
        };
        Ok(UncompressedSource {
            file,
            crc,
            kind: version.crc_db_checksum(),
            slice,
            pos: start.0,
            end,
            digest: None,
        })
    }

    /// Checks the whole file against `digest` (`Digest.crc32`, `.adler32`, `.sha1`; hashed with
    /// `kind`, [`Version::digest_checksum`]) as it is handed out: when the source reaches the
    /// end of the file, a mismatch is an error instead of the end of the data. This is what
    /// catches an uncompressed `Data.db` without `CRC.db` cut at a partition boundary (or
    /// damaged), which would otherwise decode cleanly and lose the rest, at no extra I/O.
    /// Only for a source over the whole file (start 0, no end): else an error.
    pub fn with_digest(mut self, digest: Digest, kind: DigestKind) -> Result<Self> {
        if self.pos != 0 || self.end != self.file.len() {
            return Err(Error::invalid(
                Component::Digest,
                0,
                format!(
                    "a whole-file digest can only check a source over the whole Data.db, not \
                     {}..{}",
                    self.pos, self.end
                ),
            ));
        }
        self.digest = Some((digest, DigestHasher::from_kind(kind)));
        Ok(self)
    }

    /// The next slice: its bytes as handed out (cut at `end`), after verifying the whole slice.
    fn next_slice(&mut self) -> Result<Option<&[u8]>> {
        if self.pos >= self.end {
            if let Some((digest, hasher)) = self.digest.take() {
                digest.verify_hasher(&hasher).map_err(|e| match e {
                    Error::DigestMismatch {
                        stored, computed, ..
                    } => Error::invalid(
                        Component::Data,
                        self.pos,
                        format!(
                            "Data.db ends at byte {} but its whole-file digest does not \
                             match (stored {stored}, computed {computed}): the file is \
                             truncated or damaged",
                            self.pos
                        ),
                    ),
                    other => other,
                })?;
            }
            return Ok(None);
        }
        let pos = self.pos;
        let crc = self.crc;
        let whole_end = pos.saturating_add(self.slice).min(self.file.len());
        let to = whole_end.min(self.end);
        // With a CRC.db the whole slice is read (and checked), else only what is handed out.
        let read_end = if crc.is_some() { whole_end } else { to };
        let bytes = self.file.get(FileOffset(pos), read_end - pos)?;
        if let Some(crc) = crc {
            crc.verify(
                ChunkIndex(pos / self.slice),
                DataOffset(pos),
                bytes,
                self.kind,
            )?;
        }
        let bytes = usize::try_from(to - pos)
            .ok()
            .and_then(|n| bytes.get(..n))
            .ok_or(Error::Truncated {
                component: Component::Data,
                offset: pos,
                needed: to - pos,
                what: "data slice",
            })?;
        self.pos = to;
        if let Some((_, hasher)) = &mut self.digest {
            hasher.update(bytes);
        }
        Ok(Some(bytes))
    }
}

impl<R: ByteRanges> DataSource for UncompressedSource<'_, R> {
    fn fill(&mut self, out: &mut Vec<u8>) -> Result<bool> {
        match self.next_slice()? {
            Some(bytes) => {
                out.extend_from_slice(bytes);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn position(&self) -> DataOffset {
        DataOffset(self.pos)
    }
}

/// Verifies an uncompressed `Data.db` against its CRC.db (for `inspect --verify`); nothing is
/// copied.
pub fn verify_uncompressed(file: &[u8], crc: &CrcDb, version: Version) -> Result<VerifyReport> {
    verify_uncompressed_ranges(file, crc, version)
}

/// [`verify_uncompressed`] over bytes fetched through `file` (read once, in order).
pub fn verify_uncompressed_ranges<R: ByteRanges>(
    file: R,
    crc: &CrcDb,
    version: Version,
) -> Result<VerifyReport> {
    let len = file.len();
    let quirks: Vec<_> = crc
        .check_count_with(len, version.crc_db_checksum())?
        .into_iter()
        .collect();
    let mut src = UncompressedSource::with_ranges(file, Some(crc), version, DataOffset(0), None)?;
    let mut report = VerifyReport {
        compressed_bytes: len,
        uncompressed_bytes: len,
        chunks: 0,
        quirks,
    };
    while src.next_slice()?.is_some() {
        report.chunks += 1;
    }
    Ok(report)
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]
mod tests {
    use super::*;
    use crate::compression_info::write_compression_info;

    /// Some compressible bytes.
    fn data(len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| ((i / 7) % 13) as u8 ^ (i % 3) as u8)
            .collect()
    }

    /// Incompressible bytes (xorshift).
    fn noise(len: usize) -> Vec<u8> {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    /// Writes a compressed Data.db and CompressionInfo.db like `CompressedSequentialWriter`.
    fn write(
        class: &str,
        version: Version,
        chunk_length: u32,
        max_compressed: Option<u32>,
        input: &[u8],
    ) -> (Vec<u8>, CompressionInfo) {
        let codec = Codec::from_class_name(class);
        let kind = version.chunk_checksum();
        let mut file = Vec::new();
        let mut offsets = Vec::new();
        for chunk in input.chunks(chunk_length as usize) {
            offsets.push(file.len() as u64);
            let start = file.len();
            compress_chunk(&codec, chunk, &mut file).unwrap();
            if let Some(m) = max_compressed {
                let m = m as usize;
                if file.len() - start >= m {
                    file.truncate(start);
                    file.extend_from_slice(chunk);
                    if chunk.len() < m {
                        file.resize(start + m, 0);
                    }
                }
            }
            let sum = if version.has_post_compression_checksums() {
                kind.compute(&file[start..])
            } else {
                kind.compute(chunk)
            };
            file.extend_from_slice(&sum.to_be_bytes());
        }
        let mut ci = Vec::new();
        write_compression_info(
            class,
            &[],
            chunk_length,
            max_compressed,
            input.len() as u64,
            &offsets,
            &mut ci,
        );
        (file, CompressionInfo::parse(&ci, version).unwrap())
    }

    fn read_all(src: &mut dyn DataSource) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        while src.fill(&mut out)? {}
        Ok(out)
    }

    /// 1.2 (`ic`) chunks end with a CRC32 of their *uncompressed* bytes (C20
    /// `CompressedRandomAccessReader.decompressChunk` without `hasPostCompressionAdlerChecksums`):
    /// they read back, and a flipped byte of the stored chunk is still caught (by the checksum or
    /// by decompression), naming Data.db.
    #[test]
    fn ic_checksums_cover_the_uncompressed_chunk() {
        let input = data(10_000);
        let (mut file, info) = write("LZ4Compressor", Version::Ic, 4096, None, &input);
        let mut src =
            CompressedSource::new(&file, &info, Version::Ic, ChunkIndex(0), None).unwrap();
        assert_eq!(read_all(&mut src).unwrap(), input);
        assert_eq!(verify_all(&file, &info, Version::Ic).unwrap().chunks, 3);
        // Read as `jb` (checksum of the stored bytes) the same file fails: the layouts differ.
        assert!(verify_all(&file, &info, Version::Jb).is_err());
        file[5] ^= 0x40;
        let e = verify_all(&file, &info, Version::Ic).unwrap_err();
        assert_eq!(e.component(), Some(Component::Data), "{e}");
    }

    #[test]
    fn round_trip_every_codec() {
        let input = data(10_000);
        for class in [
            "LZ4Compressor",
            "SnappyCompressor",
            "DeflateCompressor",
            "ZstdCompressor",
            "NoopCompressor",
        ] {
            for version in [Version::Ka, Version::Mc, Version::Nb] {
                let mcl = version
                    .has_max_compressed_length()
                    .then_some(i32::MAX as u32);
                let (file, info) = write(class, version, 4096, mcl, &input);
                let mut src =
                    CompressedSource::new(&file, &info, version, ChunkIndex(0), None).unwrap();
                assert_eq!(src.position(), DataOffset(0));
                assert_eq!(read_all(&mut src).unwrap(), input, "{class} {version}");
                assert_eq!(src.position(), DataOffset(10_000));
                let report = verify_all(&file, &info, version).unwrap();
                assert_eq!(
                    report,
                    VerifyReport {
                        chunks: 3,
                        compressed_bytes: file.len() as u64,
                        uncompressed_bytes: 10_000,
                        quirks: Vec::new(),
                    }
                );
                // A sub-range of chunks.
                let mut src = CompressedSource::new(
                    &file,
                    &info,
                    version,
                    ChunkIndex(1),
                    Some(ChunkIndex(2)),
                )
                .unwrap();
                assert_eq!(src.position(), DataOffset(4096));
                assert_eq!(read_all(&mut src).unwrap(), &input[4096..8192]);
            }
        }
    }

    #[test]
    fn appends_to_existing_buffer() {
        let input = data(5000);
        let (file, info) = write("LZ4Compressor", Version::Me, 4096, None, &input);
        let mut src =
            CompressedSource::new(&file, &info, Version::Me, ChunkIndex(0), None).unwrap();
        let mut out = b"prefix".to_vec();
        assert!(src.fill(&mut out).unwrap());
        assert!(src.fill(&mut out).unwrap());
        assert!(!src.fill(&mut out).unwrap());
        assert_eq!(&out[..6], b"prefix");
        assert_eq!(&out[6..], &input[..]);
    }

    #[test]
    fn bad_checksum_names_chunk_and_offset() {
        let input = data(10_000);
        for version in [Version::La, Version::Mc] {
            let (mut file, info) = write("LZ4Compressor", version, 4096, None, &input);
            let second = info.chunk_offsets()[1].0 as usize;
            file[second + 5] ^= 0x40;
            let mut src =
                CompressedSource::new(&file, &info, version, ChunkIndex(0), None).unwrap();
            let mut out = Vec::new();
            assert!(src.fill(&mut out).unwrap());
            let e = src.fill(&mut out).unwrap_err();
            assert!(
                matches!(
                    e,
                    Error::ChecksumMismatch { component: Component::Data, chunk: 1, offset, .. }
                        if offset == second as u64
                ),
                "{e}"
            );
            assert_eq!(out.len(), 4096, "nothing appended for the bad chunk");
            assert!(matches!(
                verify_all(&file, &info, version),
                Err(Error::ChecksumMismatch { chunk: 1, .. })
            ));
        }
        // The wrong algorithm for the version is caught too.
        let (file, info) = write("LZ4Compressor", Version::La, 4096, None, &input);
        assert!(verify_all(&file, &info, Version::Mc).is_err());
    }

    #[test]
    fn corrupt_chunk_with_valid_checksum_fails_to_decompress() {
        let input = data(3000);
        for class in [
            "LZ4Compressor",
            "SnappyCompressor",
            "DeflateCompressor",
            "ZstdCompressor",
        ] {
            let (mut file, info) = write(class, Version::Mc, 4096, None, &input);
            // Garble the first half of the chunk (headers included: a zstd frame without a
            // content checksum can absorb changes in its literals) and fix up its checksum.
            let n = file.len() - 4;
            for b in &mut file[..n / 2] {
                *b = 0xff;
            }
            let sum = crc32fast::hash(&file[..n]);
            file[n..].copy_from_slice(&sum.to_be_bytes());
            let e = verify_all(&file, &info, Version::Mc).expect_err(class);
            assert!(
                matches!(
                    e,
                    Error::Decompress {
                        chunk: 0,
                        offset: 0,
                        ..
                    }
                ),
                "{class}: {e}"
            );
        }
    }

    #[test]
    fn wrong_length_is_detected() {
        // The chunk inflates fine but to fewer bytes than CompressionInfo says.
        let input = data(3000);
        for class in [
            "LZ4Compressor",
            "SnappyCompressor",
            "DeflateCompressor",
            "ZstdCompressor",
            "NoopCompressor",
        ] {
            let (file, _) = write(class, Version::Mc, 4096, None, &input);
            let mut ci = Vec::new();
            write_compression_info(class, &[], 4096, None, 3001, &[0], &mut ci);
            let info = CompressionInfo::parse(&ci, Version::Mc).unwrap();
            let e = verify_all(&file, &info, Version::Mc).unwrap_err();
            assert!(matches!(e, Error::Decompress { .. }), "{class}: {e}");
        }
    }

    #[test]
    fn truncated_file() {
        let input = data(10_000);
        let (file, info) = write("ZstdCompressor", Version::Mc, 4096, None, &input);
        for n in [0, 3, info.chunk_offsets()[1].0 as usize - 1, file.len() - 1] {
            let e = verify_all(&file[..n], &info, Version::Mc).unwrap_err();
            assert!(
                matches!(
                    e,
                    Error::Truncated {
                        component: Component::Data,
                        ..
                    } | Error::ChecksumMismatch { .. }
                        | Error::Decompress { .. }
                ),
                "cut at {n}: {e}"
            );
        }
        // Cut inside the first chunk: the second chunk's offset is past the end.
        let e = verify_all(&file[..10], &info, Version::Mc).unwrap_err();
        assert!(matches!(e, Error::Truncated { offset: 0, .. }), "{e}");
    }

    #[test]
    fn offsets_out_of_range() {
        let input = data(5000);
        let (file, _) = write("LZ4Compressor", Version::Mc, 4096, None, &input);
        let mut ci = Vec::new();
        write_compression_info(
            "LZ4Compressor",
            &[],
            4096,
            None,
            5000,
            &[0, 1_000_000],
            &mut ci,
        );
        let info = CompressionInfo::parse(&ci, Version::Mc).unwrap();
        let e = verify_all(&file, &info, Version::Mc).unwrap_err();
        assert!(
            matches!(
                e,
                Error::Truncated {
                    component: Component::Data,
                    offset: 0,
                    ..
                }
            ),
            "{e}"
        );
        assert!(CompressedSource::new(&file, &info, Version::Mc, ChunkIndex(3), None).is_err());
        assert!(CompressedSource::new(
            &file,
            &info,
            Version::Mc,
            ChunkIndex(0),
            Some(ChunkIndex(3))
        )
        .is_err());
    }

    #[test]
    fn raw_chunks_na_and_later() {
        // Noise does not compress: with max_compressed_length = chunk length every full chunk is
        // stored raw, and the short last one is padded to max_compressed_length.
        let mut input = noise(4096 * 2);
        input.extend_from_slice(&noise(100));
        let (file, info) = write("LZ4Compressor", Version::Nb, 4096, Some(4096), &input);
        assert_eq!(info.chunk_offsets()[1].0, 4096 + 4);
        assert_eq!(info.chunk_offsets()[2].0, 2 * (4096 + 4));
        assert_eq!(
            read_all(
                &mut CompressedSource::new(&file, &info, Version::Nb, ChunkIndex(0), None).unwrap()
            )
            .unwrap(),
            input
        );
        assert_eq!(
            verify_all(&file, &info, Version::Nb)
                .unwrap()
                .uncompressed_bytes,
            8292
        );

        // Mixed: a compressible chunk between raw ones, smaller max compressed length.
        let mut input = noise(4096);
        input.extend_from_slice(&data(4096));
        input.extend_from_slice(&noise(3000));
        let (file, info) = write("ZstdCompressor", Version::Oa, 4096, Some(2048), &input);
        assert_eq!(
            verify_all(&file, &info, Version::Oa)
                .unwrap()
                .uncompressed_bytes,
            input.len() as u64
        );
        assert_eq!(
            read_all(
                &mut CompressedSource::new(&file, &info, Version::Oa, ChunkIndex(0), None).unwrap()
            )
            .unwrap(),
            input
        );

        // Short final chunk padded to max_compressed_length.
        let input = noise(100);
        // (LZ4 turns 100 random bytes into 105, more than max_compressed_length 104.)
        let (file, info) = write("LZ4Compressor", Version::Oa, 4096, Some(104), &input);
        assert_eq!(file.len(), 104 + 4);
        assert_eq!(
            read_all(
                &mut CompressedSource::new(&file, &info, Version::Oa, ChunkIndex(0), None).unwrap()
            )
            .unwrap(),
            input
        );

        // A raw chunk whose length fits neither rule.
        let mut ci = Vec::new();
        write_compression_info("LZ4Compressor", &[], 4096, Some(1024), 100, &[0], &mut ci);
        let info = CompressionInfo::parse(&ci, Version::Oa).unwrap();
        let mut bad = noise(1500);
        let sum = crc32fast::hash(&bad);
        bad.extend_from_slice(&sum.to_be_bytes());
        assert!(matches!(
            verify_all(&bad, &info, Version::Oa),
            Err(Error::Invalid { .. })
        ));
    }

    #[test]
    fn trailing_empty_chunk() {
        // ScyllaDB and Cassandra 3.0 sometimes write one more, empty, chunk.
        let input = data(77);
        let mut file = Vec::new();
        let mut offsets = Vec::new();
        for chunk in [&input[..], &[][..]] {
            offsets.push(file.len() as u64);
            let start = file.len();
            compress_chunk(&Codec::Lz4, chunk, &mut file).unwrap();
            let sum = crc32fast::hash(&file[start..]);
            file.extend_from_slice(&sum.to_be_bytes());
        }
        let mut ci = Vec::new();
        write_compression_info("LZ4Compressor", &[], 65536, None, 77, &offsets, &mut ci);
        let info = CompressionInfo::parse(&ci, Version::Md).unwrap();
        let report = verify_all(&file, &info, Version::Md).unwrap();
        assert_eq!(report.chunks, 2);
        assert_eq!(report.uncompressed_bytes, 77);
        let mut src =
            CompressedSource::new(&file, &info, Version::Md, ChunkIndex(0), None).unwrap();
        let mut out = Vec::new();
        assert!(src.fill(&mut out).unwrap());
        assert!(!src.fill(&mut out).unwrap());
        assert_eq!(out, input);
        // The empty chunk is still checked.
        let mut bad = file.clone();
        let n = bad.len();
        bad[n - 1] ^= 1;
        let mut src = CompressedSource::new(&bad, &info, Version::Md, ChunkIndex(0), None).unwrap();
        assert!(src.fill(&mut out).unwrap());
        assert!(matches!(
            src.fill(&mut out),
            Err(Error::ChecksumMismatch { chunk: 1, .. })
        ));
    }

    #[test]
    fn unsupported_codecs_fail_only_when_decompressing() {
        for class in [
            "LZ4WithDictsCompressor",
            "ZstdWithDictsCompressor",
            "com.example.Fancy",
        ] {
            let mut ci = Vec::new();
            write_compression_info(class, &[], 4096, None, 10, &[0], &mut ci);
            let info = CompressionInfo::parse(&ci, Version::Me).unwrap();
            let mut file = vec![1u8; 10];
            let sum = crc32fast::hash(&file);
            file.extend_from_slice(&sum.to_be_bytes());
            let e = verify_all(&file, &info, Version::Me).unwrap_err();
            assert!(
                matches!(
                    e,
                    Error::Unsupported {
                        component: Component::Data,
                        ..
                    }
                ),
                "{e}"
            );
            assert!(compress_chunk(info.codec(), b"x", &mut Vec::new()).is_err());
        }
    }

    #[test]
    fn uncompressed_with_and_without_crc() {
        let input = data(10_000);
        for version in [Version::Jb, Version::La, Version::Mc] {
            let crc = CrcDb::build(&input, 4096, version);
            let mut src =
                UncompressedSource::new(&input, Some(&crc), version, DataOffset(0), None).unwrap();
            let mut out = Vec::new();
            assert!(src.fill(&mut out).unwrap());
            assert_eq!(out.len(), 4096);
            while src.fill(&mut out).unwrap() {}
            assert_eq!(out, input);
            assert_eq!(src.position(), DataOffset(10_000));
            assert_eq!(
                verify_uncompressed(&input, &crc, version).unwrap(),
                VerifyReport {
                    chunks: 3,
                    compressed_bytes: 10_000,
                    uncompressed_bytes: 10_000,
                    quirks: Vec::new(),
                }
            );
            // Aligned start, end in the middle of a slice: the slice is still checked whole.
            let mut src = UncompressedSource::new(
                &input,
                Some(&crc),
                version,
                DataOffset(4096),
                Some(DataOffset(5000)),
            )
            .unwrap();
            assert_eq!(read_all(&mut src).unwrap(), &input[4096..5000]);
            // Unaligned start.
            assert!(
                UncompressedSource::new(&input, Some(&crc), version, DataOffset(1), None).is_err()
            );
        }
        // Without CRC.db: 64 KiB slices, any start.
        let big = data(70_000);
        let mut src =
            UncompressedSource::new(&big, None, Version::Mc, DataOffset(3), None).unwrap();
        let mut out = Vec::new();
        assert!(src.fill(&mut out).unwrap());
        assert_eq!(out.len(), 65536);
        assert_eq!(read_all(&mut src).unwrap(), &big[3 + 65536..]);
        assert!(UncompressedSource::new(
            &big,
            None,
            Version::Mc,
            DataOffset(0),
            Some(DataOffset(70_001))
        )
        .is_err());
        assert!(UncompressedSource::new(
            &big,
            None,
            Version::Mc,
            DataOffset(10),
            Some(DataOffset(5))
        )
        .is_err());
    }

    #[test]
    fn uncompressed_bad_crc() {
        let mut input = data(10_000);
        let crc = CrcDb::build(&input, 4096, Version::Mc);
        input[9000] ^= 1;
        let e = verify_uncompressed(&input, &crc, Version::Mc).unwrap_err();
        assert!(
            matches!(
                e,
                Error::ChecksumMismatch {
                    component: Component::Data,
                    chunk: 2,
                    offset: 8192,
                    ..
                }
            ),
            "{e}"
        );
        // Truncated Data.db: CRC.db has a checksum too many.
        assert!(verify_uncompressed(&input[..8000], &crc, Version::Mc).is_err());
        // Too few checksums.
        let short = CrcDb::build(&input[..8000], 4096, Version::Mc);
        assert!(matches!(
            verify_uncompressed(&input, &short, Version::Mc),
            Err(Error::Truncated {
                component: Component::Crc,
                ..
            })
        ));
        // Adler32 file checked as CRC32.
        let input = data(100);
        let crc = CrcDb::build(&input, 4096, Version::La);
        assert!(verify_uncompressed(&input, &crc, Version::Mc).is_err());
        assert!(verify_uncompressed(&input, &crc, Version::La).is_ok());
    }

    /// Hands out copies of the requested ranges (as a remote reader does), records them, and
    /// fails at `fail_at`.
    struct Piecewise<'d> {
        data: &'d [u8],
        buf: Vec<u8>,
        asked: Vec<(u64, u64)>,
        fail_at: Option<u64>,
    }

    impl ByteRanges for Piecewise<'_> {
        fn len(&self) -> u64 {
            self.data.len() as u64
        }

        fn get(&mut self, at: FileOffset, len: u64) -> Result<&[u8]> {
            self.asked.push((at.0, len));
            if self
                .fail_at
                .is_some_and(|f| (at.0..at.0 + len).contains(&f))
            {
                return Err(Error::Source {
                    component: Component::Data,
                    name: "s3://b/nb-1-big-Data.db".into(),
                    offset: at.0,
                    len,
                    message: "connection reset".into(),
                });
            }
            self.buf.clear();
            self.buf
                .extend_from_slice(&self.data[at.0 as usize..(at.0 + len) as usize]);
            Ok(&self.buf)
        }
    }

    fn piecewise(data: &[u8], fail_at: Option<u64>) -> Piecewise<'_> {
        Piecewise {
            data,
            buf: Vec::new(),
            asked: Vec::new(),
            fail_at,
        }
    }

    #[test]
    fn piecewise_ranges_read_only_the_chunks_asked_for() {
        let input = data(20_000);
        let (file, info) = write("LZ4Compressor", Version::Mc, 4096, None, &input);
        let mut src = CompressedSource::with_ranges(
            piecewise(&file, None),
            &info,
            Version::Mc,
            ChunkIndex(1),
            Some(ChunkIndex(3)),
        )
        .unwrap();
        assert_eq!(read_all(&mut src).unwrap(), &input[4096..3 * 4096]);
        let offs = info.chunk_offsets();
        // One request per chunk: its stored bytes and checksum, nothing else.
        assert_eq!(
            src.file.asked,
            vec![
                (offs[1].0, offs[2].0 - offs[1].0),
                (offs[2].0, offs[3].0 - offs[2].0)
            ]
        );
        assert_eq!(
            verify_all_ranges(piecewise(&file, None), &info, Version::Mc).unwrap(),
            verify_all(&file, &info, Version::Mc).unwrap()
        );
        // A failed fetch is reported as it is, naming the object and the offset.
        let e = verify_all_ranges(piecewise(&file, Some(offs[2].0 + 3)), &info, Version::Mc)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "Data.db: reading {} byte(s) at byte {} of s3://b/nb-1-big-Data.db: connection reset",
                offs[3].0 - offs[2].0,
                offs[2].0
            )
        );

        // Uncompressed, with and without CRC.db.
        let crc = CrcDb::build(&input, 4096, Version::Mc);
        assert_eq!(
            verify_uncompressed_ranges(piecewise(&input, None), &crc, Version::Mc).unwrap(),
            verify_uncompressed(&input, &crc, Version::Mc).unwrap()
        );
        let mut src = UncompressedSource::with_ranges(
            piecewise(&input, None),
            Some(&crc),
            Version::Mc,
            DataOffset(4096),
            Some(DataOffset(9000)),
        )
        .unwrap();
        assert_eq!(read_all(&mut src).unwrap(), &input[4096..9000]);
        assert_eq!(src.file.asked, vec![(4096, 4096), (8192, 4096)]);
        let mut src = UncompressedSource::with_ranges(
            piecewise(&input, Some(70)),
            None,
            Version::Mc,
            DataOffset(0),
            None,
        )
        .unwrap();
        assert!(matches!(
            read_all(&mut src),
            Err(Error::Source { offset: 0, .. })
        ));
    }

    #[test]
    fn debug_does_not_dump_the_file() {
        let input = data(5000);
        let src = UncompressedSource::new(&input, None, Version::Mc, DataOffset(0), None).unwrap();
        assert!(format!("{src:?}").len() < 200);
        let (file, info) = write("LZ4Compressor", Version::Mc, 4096, None, &input);
        let src = CompressedSource::new(&file, &info, Version::Mc, ChunkIndex(0), None).unwrap();
        assert!(format!("{src:?}").len() < 200);
    }

    #[test]
    fn empty_files() {
        let crc = CrcDb::build(&[], 4096, Version::Mc);
        assert_eq!(
            verify_uncompressed(&[], &crc, Version::Mc).unwrap().chunks,
            0
        );
        let mut ci = Vec::new();
        write_compression_info("LZ4Compressor", &[], 4096, None, 0, &[], &mut ci);
        let info = CompressionInfo::parse(&ci, Version::Mc).unwrap();
        assert_eq!(verify_all(&[], &info, Version::Mc).unwrap().chunks, 0);
    }

    /// Issue 11 item 6: an uncompressed Data.db without CRC.db cut exactly at a partition
    /// boundary decodes cleanly and loses the rest; the whole-file digest, checked when the
    /// source reaches the end, makes it an error (and an intact file still reads).
    #[test]
    fn uncompressed_data_cut_at_a_partition_boundary_fails_its_digest() {
        let file = data(200_000);
        let kind = Version::Nb.digest_checksum();
        let digest = Digest {
            value: crate::digest::compute_digest_value(kind, &file),
            file_name: None,
        };
        let drain = |src: &mut UncompressedSource<'_>| -> Result<usize> {
            let mut out = Vec::new();
            while src.fill(&mut out)? {}
            Ok(out.len())
        };
        let mut whole = UncompressedSource::new(&file, None, Version::Nb, DataOffset(0), None)
            .unwrap()
            .with_digest(digest.clone(), kind)
            .unwrap();
        assert_eq!(drain(&mut whole).unwrap(), file.len());
        let cut = &file[..70_000];
        // Without the digest the cut file reads to its end without a word.
        let mut plain =
            UncompressedSource::new(cut, None, Version::Nb, DataOffset(0), None).unwrap();
        assert_eq!(drain(&mut plain).unwrap(), cut.len());
        let mut checked = UncompressedSource::new(cut, None, Version::Nb, DataOffset(0), None)
            .unwrap()
            .with_digest(digest.clone(), kind)
            .unwrap();
        let e = drain(&mut checked).unwrap_err().to_string();
        assert!(e.contains("truncated or damaged"), "{e}");
        // Only a whole-file source can carry a digest.
        assert!(
            UncompressedSource::new(&file, None, Version::Nb, DataOffset(65536), None)
                .unwrap()
                .with_digest(digest, kind)
                .is_err()
        );
    }

    /// Issue 11 item 7: a CompressionInfo.db claiming a 1 GiB chunk (and data) length over a
    /// few KB of stored chunks is refused before the 1 GiB output buffer is allocated, for
    /// every codec, with an error that names the damaged claim.
    #[test]
    fn huge_claimed_chunk_length_is_refused_before_allocating_it() {
        let input = noise(9_000);
        for class in [
            "LZ4Compressor",
            "SnappyCompressor",
            "DeflateCompressor",
            "ZstdCompressor",
        ] {
            let (file, info) = write(class, Version::Mc, 4096, None, &input);
            let offsets: Vec<u64> = info.chunk_offsets().iter().map(|o| o.0).collect();
            let mut ci = Vec::new();
            write_compression_info(class, &[], 1 << 30, None, 1 << 30, &offsets, &mut ci);
            let huge = CompressionInfo::parse(&ci, Version::Mc).unwrap();
            let mut src =
                CompressedSource::new(&file, &huge, Version::Mc, ChunkIndex(0), None).unwrap();
            let e = read_all(&mut src).unwrap_err().to_string();
            assert!(
                e.contains("its chunk length or data length is damaged"),
                "{class}: {e}"
            );
            let e = verify_all(&file, &huge, Version::Mc)
                .unwrap_err()
                .to_string();
            assert!(e.contains("damaged"), "{class}: {e}");
        }
        // The honest geometry still reads.
        let (file, info) = write("ZstdCompressor", Version::Mc, 4096, None, &data(9_000));
        let mut src =
            CompressedSource::new(&file, &info, Version::Mc, ChunkIndex(0), None).unwrap();
        assert_eq!(read_all(&mut src).unwrap(), data(9_000));
    }
}
