//! `CompressionInfo.db`: how a compressed `Data.db` is cut into chunks, which codec packed them,
//! and where each chunk starts in the compressed file. Mirrors Cassandra's
//! `io/compress/CompressionMetadata` (`open`, `Writer.writeHeader`, `chunkFor`) and ScyllaDB's
//! `sstables/compress.cc`.
//!
//! Layout (FORMAT-MAP §3.1), all integers big-endian:
//! `writeUTF` compressor class name, int option count, that many `writeUTF` key/value pairs,
//! int chunk length, **na and later only:** int max compressed length, long uncompressed data
//! length, int chunk count, chunk count × long chunk start offset in the compressed `Data.db`.
//!
//! Facts checked on the corpus: every offset table starts at 0 and increases; real writers
//! (ScyllaDB `mc`/`md`, Cassandra 3.0 `mb`) sometimes append one extra, empty chunk after the
//! last data chunk, so the chunk count may exceed `ceil(data_length / chunk_length)`: such
//! chunks inflate to zero bytes.

use crate::cursor::Cursor;
use crate::error::{Component, Error, Result};
use crate::offsets::{ChunkIndex, DataOffset, FileOffset};
use crate::version::Version;

/// Size of the checksum stored after every chunk of a compressed `Data.db`.
pub const CHUNK_CHECKSUM_LEN: u64 = 4;

/// The Java package that Cassandra's compressor class names may be qualified with.
const CASSANDRA_COMPRESS_PACKAGE: &str = "org.apache.cassandra.io.compress.";

/// The codec of a compressed `Data.db`, recognised from the compressor class name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Codec {
    /// `LZ4Compressor`: 4-byte little-endian uncompressed length, then a raw LZ4 block.
    Lz4,
    /// `SnappyCompressor`: a raw (unframed) Snappy block.
    Snappy,
    /// `DeflateCompressor`: a zlib stream (with its 2-byte header and Adler-32 trailer).
    Deflate,
    /// `ZstdCompressor`: one zstd frame.
    Zstd,
    /// `NoopCompressor`: the bytes as they are.
    Noop,
    /// ScyllaDB's `LZ4WithDictsCompressor` (dictionaries in the options): not decodable yet.
    Lz4WithDicts,
    /// ScyllaDB's `ZstdWithDictsCompressor` (dictionaries in the options): not decodable yet.
    ZstdWithDicts,
    /// Any other class name: parsing succeeds, decompressing a chunk fails.
    Unknown(String),
}

impl Codec {
    /// The codec named by a compressor class name, simple (`LZ4Compressor`) or qualified
    /// (`org.apache.cassandra.io.compress.LZ4Compressor`).
    pub fn from_class_name(name: &str) -> Codec {
        let simple = name
            .strip_prefix(CASSANDRA_COMPRESS_PACKAGE)
            .unwrap_or(name);
        match simple {
            "LZ4Compressor" => Codec::Lz4,
            "SnappyCompressor" => Codec::Snappy,
            "DeflateCompressor" => Codec::Deflate,
            "ZstdCompressor" => Codec::Zstd,
            "NoopCompressor" => Codec::Noop,
            "LZ4WithDictsCompressor" => Codec::Lz4WithDicts,
            "ZstdWithDictsCompressor" => Codec::ZstdWithDicts,
            _ => Codec::Unknown(name.to_string()),
        }
    }

    /// A short name for messages (`lz4`, `snappy`...; `unknown` for [`Codec::Unknown`]).
    pub fn name(&self) -> &'static str {
        match self {
            Codec::Lz4 => "lz4",
            Codec::Snappy => "snappy",
            Codec::Deflate => "deflate",
            Codec::Zstd => "zstd",
            Codec::Noop => "noop",
            Codec::Lz4WithDicts => "lz4-with-dicts",
            Codec::ZstdWithDicts => "zstd-with-dicts",
            Codec::Unknown(_) => "unknown",
        }
    }
}

/// A parsed `CompressionInfo.db` (mirrors `CompressionMetadata`).
///
/// The fields are validated on parse: the chunk length is a power of two, the offsets increase
/// by at least the 4-byte checksum, and there are enough chunks for `data_length`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompressionInfo {
    class_name: String,
    codec: Codec,
    options: Vec<(String, String)>,
    chunk_length: u32,
    max_compressed_length: Option<u32>,
    data_length: u64,
    chunk_offsets: Vec<FileOffset>,
    /// Byte offset of the chunk offset table in CompressionInfo.db (for error messages).
    offsets_at: u64,
}

impl CompressionInfo {
    /// Parses a whole `CompressionInfo.db` written in `version`.
    pub fn parse(bytes: &[u8], version: Version) -> Result<CompressionInfo> {
        let mut c = Cursor::new(bytes, Component::CompressionInfo);
        let class_name = c.read_utf("compressor class name")?;
        let codec = Codec::from_class_name(&class_name);

        let option_count = c.read_len_i32("compression option count")?;
        // Each option takes at least four bytes (two empty UTF strings).
        if option_count > c.remaining() / 4 {
            return Err(c.invalid(format!(
                "{option_count} compression options cannot fit in {} bytes",
                c.remaining()
            )));
        }
        let mut options = Vec::with_capacity(option_count);
        for _ in 0..option_count {
            let key = c.read_utf("compression option key")?;
            let value = c.read_utf("compression option value")?;
            options.push((key, value));
        }

        let at = c.offset();
        let chunk_length = c.read_i32("chunk length")?;
        let chunk_length = match u32::try_from(chunk_length) {
            Ok(n) if n.is_power_of_two() => n,
            _ => {
                return Err(c.invalid_at(
                    at,
                    format!("chunk length {chunk_length} is not a positive power of two"),
                ))
            }
        };

        let max_compressed_length = if version.has_max_compressed_length() {
            let at = c.offset();
            let v = c.read_i32("max compressed length")?;
            match u32::try_from(v) {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    return Err(
                        c.invalid_at(at, format!("max compressed length {v} is not positive"))
                    )
                }
            }
        } else {
            None
        };

        let at = c.offset();
        let data_length = c.read_i64("uncompressed data length")?;
        let data_length = u64::try_from(data_length)
            .map_err(|_| c.invalid_at(at, format!("negative data length {data_length}")))?;

        let at = c.offset();
        let chunk_count = c.read_len_i32("chunk count")?;
        if chunk_count > c.remaining() / 8 {
            return Err(Error::Truncated {
                component: Component::CompressionInfo,
                offset: at,
                needed: (chunk_count as u64 * 8).saturating_sub(c.remaining() as u64),
                what: "chunk offsets",
            });
        }
        let needed_chunks = data_length.div_ceil(u64::from(chunk_length));
        if (chunk_count as u64) < needed_chunks {
            return Err(c.invalid_at(
                at,
                format!(
                    "{chunk_count} chunk(s) of {chunk_length} bytes cannot hold {data_length} bytes \
                     (need {needed_chunks})"
                ),
            ));
        }

        let offsets_at = c.offset();
        let mut chunk_offsets = Vec::with_capacity(chunk_count);
        let mut min_next = 0u64;
        for i in 0..chunk_count {
            let at = c.offset();
            let v = c.read_i64("chunk offset")?;
            let off = u64::try_from(v)
                .ok()
                .filter(|&o| o >= min_next)
                .ok_or_else(|| {
                    c.invalid_at(
                        at,
                        format!(
                            "chunk {i} offset {v} is before the end of the previous chunk \
                             and its checksum ({min_next})"
                        ),
                    )
                })?;
            min_next = off.saturating_add(CHUNK_CHECKSUM_LEN);
            chunk_offsets.push(FileOffset(off));
        }
        c.expect_end("the chunk offsets")?;

        Ok(CompressionInfo {
            class_name,
            codec,
            options,
            chunk_length,
            max_compressed_length,
            data_length,
            chunk_offsets,
            offsets_at,
        })
    }

    /// The compressor class name as stored (`LZ4Compressor`...).
    pub fn class_name(&self) -> &str {
        &self.class_name
    }

    /// The codec recognised from the class name.
    pub fn codec(&self) -> &Codec {
        &self.codec
    }

    /// The compression options in file order (`crc_check_chance`, `compression_level`, ScyllaDB's
    /// `.dictionary.NNNNNNNN`...).
    pub fn options(&self) -> &[(String, String)] {
        &self.options
    }

    /// The value of option `key`, if present.
    pub fn option(&self, key: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Uncompressed bytes per chunk (a power of two).
    pub fn chunk_length(&self) -> u32 {
        self.chunk_length
    }

    /// Stored chunks at least this long are raw, not compressed (na and later; `None` before).
    pub fn max_compressed_length(&self) -> Option<u32> {
        self.max_compressed_length
    }

    /// Length of the uncompressed `Data.db` stream.
    pub fn data_length(&self) -> u64 {
        self.data_length
    }

    /// Start of every chunk in the compressed file.
    pub fn chunk_offsets(&self) -> &[FileOffset] {
        &self.chunk_offsets
    }

    /// Number of chunks.
    pub fn chunk_count(&self) -> u64 {
        self.chunk_offsets.len() as u64
    }

    /// The chunk holding uncompressed position `pos` (`CompressionMetadata.chunkFor`). The result
    /// may be past the last chunk when `pos >= data_length`.
    pub fn chunk_for(&self, pos: DataOffset) -> ChunkIndex {
        ChunkIndex(pos.0 / u64::from(self.chunk_length))
    }

    /// Uncompressed position of the first byte of `chunk`.
    pub fn chunk_start(&self, chunk: ChunkIndex) -> DataOffset {
        DataOffset(chunk.0.saturating_mul(u64::from(self.chunk_length)))
    }

    /// How many uncompressed bytes `chunk` holds: the chunk length, less for the last data chunk,
    /// zero for trailing empty chunks and chunks past the end.
    pub fn chunk_uncompressed_len(&self, chunk: ChunkIndex) -> u64 {
        let start = self.chunk_start(chunk).0;
        self.data_length
            .saturating_sub(start)
            .min(u64::from(self.chunk_length))
    }

    /// Where `chunk` is stored in a compressed file of `compressed_file_len` bytes: its offset and
    /// its stored length, excluding the 4-byte checksum that follows it.
    pub fn chunk_span(
        &self,
        chunk: ChunkIndex,
        compressed_file_len: u64,
    ) -> Result<(FileOffset, u64)> {
        let i = usize::try_from(chunk.0).unwrap_or(usize::MAX);
        let start = self.chunk_offsets.get(i).copied().ok_or_else(|| {
            Error::invalid(
                Component::CompressionInfo,
                self.offsets_at,
                format!(
                    "chunk {chunk} out of range: there are {} chunks",
                    self.chunk_count()
                ),
            )
        })?;
        let end = match self.chunk_offsets.get(i.saturating_add(1)) {
            Some(next) => {
                if next.0 > compressed_file_len {
                    return Err(Error::Truncated {
                        component: Component::Data,
                        offset: start.0,
                        needed: next.0 - compressed_file_len,
                        what: "compressed chunk",
                    });
                }
                next.0
            }
            None => compressed_file_len,
        };
        let stored = end
            .checked_sub(start.0)
            .and_then(|n| n.checked_sub(CHUNK_CHECKSUM_LEN))
            .ok_or(Error::Truncated {
                component: Component::Data,
                offset: start.0,
                needed: start
                    .0
                    .saturating_add(CHUNK_CHECKSUM_LEN)
                    .saturating_sub(end),
                what: "compressed chunk and its checksum",
            })?;
        Ok((start, stored))
    }
}

/// Serialises a `CompressionInfo.db` (the inverse of [`CompressionInfo::parse`]; for tests and
/// the future writer).
#[allow(
    clippy::too_many_arguments,
    reason = "mirrors the on-disk fields one to one"
)]
pub fn write_compression_info(
    class_name: &str,
    options: &[(&str, &str)],
    chunk_length: u32,
    max_compressed_length: Option<u32>,
    data_length: u64,
    chunk_offsets: &[u64],
    out: &mut Vec<u8>,
) {
    fn utf(s: &str, out: &mut Vec<u8>) {
        let b = s.as_bytes();
        out.extend_from_slice(&(b.len() as u16).to_be_bytes());
        out.extend_from_slice(b);
    }
    utf(class_name, out);
    out.extend_from_slice(&(options.len() as i32).to_be_bytes());
    for (k, v) in options {
        utf(k, out);
        utf(v, out);
    }
    out.extend_from_slice(&chunk_length.to_be_bytes());
    if let Some(m) = max_compressed_length {
        out.extend_from_slice(&m.to_be_bytes());
    }
    out.extend_from_slice(&data_length.to_be_bytes());
    out.extend_from_slice(&(chunk_offsets.len() as i32).to_be_bytes());
    for o in chunk_offsets {
        out.extend_from_slice(&o.to_be_bytes());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
    use super::*;

    fn sample(version: Version) -> Vec<u8> {
        let mut out = Vec::new();
        write_compression_info(
            "LZ4Compressor",
            &[("crc_check_chance", "1.0")],
            4096,
            version
                .has_max_compressed_length()
                .then_some(i32::MAX as u32),
            10_000,
            &[0, 100, 250],
            &mut out,
        );
        out
    }

    #[test]
    fn parses_pre_and_post_na() {
        for v in [Version::Ka, Version::Mc, Version::Na, Version::Oa] {
            let info = CompressionInfo::parse(&sample(v), v).unwrap();
            assert_eq!(info.class_name(), "LZ4Compressor");
            assert_eq!(info.codec(), &Codec::Lz4);
            assert_eq!(info.option("crc_check_chance"), Some("1.0"));
            assert_eq!(info.chunk_length(), 4096);
            assert_eq!(
                info.max_compressed_length(),
                v.has_max_compressed_length().then_some(i32::MAX as u32)
            );
            assert_eq!(info.data_length(), 10_000);
            assert_eq!(info.chunk_count(), 3);
            assert_eq!(info.chunk_for(DataOffset(4095)), ChunkIndex(0));
            assert_eq!(info.chunk_for(DataOffset(4096)), ChunkIndex(1));
            assert_eq!(info.chunk_start(ChunkIndex(2)), DataOffset(8192));
            assert_eq!(info.chunk_uncompressed_len(ChunkIndex(2)), 10_000 - 8192);
            assert_eq!(info.chunk_uncompressed_len(ChunkIndex(3)), 0);
            assert_eq!(
                info.chunk_span(ChunkIndex(0), 400).unwrap(),
                (FileOffset(0), 96)
            );
            assert_eq!(
                info.chunk_span(ChunkIndex(2), 400).unwrap(),
                (FileOffset(250), 146)
            );
        }
        // The na layout read as mc has 4 bytes too many.
        assert!(CompressionInfo::parse(&sample(Version::Na), Version::Mc).is_err());
    }

    #[test]
    fn codec_names() {
        assert_eq!(Codec::from_class_name("SnappyCompressor"), Codec::Snappy);
        assert_eq!(
            Codec::from_class_name("org.apache.cassandra.io.compress.DeflateCompressor"),
            Codec::Deflate
        );
        assert_eq!(Codec::from_class_name("ZstdCompressor"), Codec::Zstd);
        assert_eq!(Codec::from_class_name("NoopCompressor"), Codec::Noop);
        assert_eq!(
            Codec::from_class_name("LZ4WithDictsCompressor"),
            Codec::Lz4WithDicts
        );
        assert_eq!(
            Codec::from_class_name("ZstdWithDictsCompressor"),
            Codec::ZstdWithDicts
        );
        assert_eq!(
            Codec::from_class_name("com.example.Fancy"),
            Codec::Unknown("com.example.Fancy".into())
        );
    }

    #[test]
    fn truncated_everywhere_is_an_error() {
        let full = sample(Version::Na);
        for n in 0..full.len() {
            let e = CompressionInfo::parse(&full[..n], Version::Na).unwrap_err();
            assert_eq!(
                e.component(),
                Some(Component::CompressionInfo),
                "at {n}: {e}"
            );
        }
    }

    #[test]
    fn rejects_bad_values() {
        let build = |cl: u32, dl: u64, offs: &[u64]| {
            let mut out = Vec::new();
            write_compression_info("LZ4Compressor", &[], cl, None, dl, offs, &mut out);
            CompressionInfo::parse(&out, Version::Mc)
        };
        assert!(build(0, 0, &[]).is_err());
        assert!(build(3000, 10, &[0]).is_err());
        assert!(build(1 << 31, 10, &[0]).is_err());
        // decreasing offsets, or closer than a checksum apart
        assert!(build(4096, 5000, &[100, 50]).is_err());
        assert!(build(4096, 5000, &[0, 3]).is_err());
        assert!(build(4096, 5000, &[0, 4]).is_ok());
        // negative offset
        assert!(build(4096, 10, &[u64::MAX]).is_err());
        // too few chunks for the data
        assert!(build(4096, 5000, &[0]).is_err());
        // one extra empty chunk is what real writers produce
        assert!(build(4096, 5000, &[0, 10, 20]).is_ok());
        // negative data length
        assert!(build(4096, u64::MAX, &[]).is_err());

        // a huge chunk count does not allocate
        let mut out = Vec::new();
        write_compression_info("LZ4Compressor", &[], 4096, None, 0, &[], &mut out);
        let n = out.len();
        out[n - 4..].copy_from_slice(&i32::MAX.to_be_bytes());
        assert!(matches!(
            CompressionInfo::parse(&out, Version::Mc),
            Err(Error::Truncated { .. })
        ));

        // trailing garbage
        let mut out = sample(Version::Mc);
        out.push(0);
        assert!(CompressionInfo::parse(&out, Version::Mc).is_err());

        // max compressed length must be positive
        let mut out = Vec::new();
        write_compression_info("LZ4Compressor", &[], 4096, Some(0), 0, &[], &mut out);
        assert!(CompressionInfo::parse(&out, Version::Nb).is_err());
    }

    #[test]
    fn chunk_span_checks_the_file() {
        let info = CompressionInfo::parse(&sample(Version::Mc), Version::Mc).unwrap();
        // The next chunk starts past the end of the file.
        assert!(matches!(
            info.chunk_span(ChunkIndex(1), 200),
            Err(Error::Truncated {
                component: Component::Data,
                offset: 100,
                needed: 50,
                ..
            })
        ));
        // The last chunk has no room for its checksum.
        assert!(matches!(
            info.chunk_span(ChunkIndex(2), 252),
            Err(Error::Truncated {
                component: Component::Data,
                offset: 250,
                needed: 2,
                ..
            })
        ));
        assert!(matches!(
            info.chunk_span(ChunkIndex(3), 400),
            Err(Error::Invalid {
                component: Component::CompressionInfo,
                ..
            })
        ));
        assert!(info.chunk_span(ChunkIndex(u64::MAX), 400).is_err());
    }
}
