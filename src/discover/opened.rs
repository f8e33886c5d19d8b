//! Opening one SSTable set: memory-maps its local files (or, for `s3://` / `gs://` objects,
//! fetches the small components whole and reads `Data.db` in place with ranged requests, see
//! [`crate::io`]), parses the metadata components, and hands out `Data.db` sources. Every
//! format error is wrapped with the file's path.

use std::fs::File;
use std::ops::Range;
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use sstable_format::chunks::{CompressedSource, UncompressedSource};
use sstable_format::compression_info::CompressionInfo;
use sstable_format::crc::CrcDb;
use sstable_format::descriptor::ComponentName;
use sstable_format::partitioner::Partitioner;
use sstable_format::statistics::Statistics;
use sstable_format::{ByteRanges, ChunkIndex, DataOffset, DataSource, FileOffset, Version};

use super::SstableSet;
use crate::error::Error;
use crate::io::remote::{BlockReader, RemoteFile};
use crate::io::Io;

/// A file's bytes: memory-mapped, fetched (a small object), or empty (a zero-length file
/// cannot be mapped).
#[derive(Debug)]
pub enum FileBytes {
    /// A mapped file.
    Mapped(Mmap),
    /// An object's content, fetched whole.
    Fetched(Vec<u8>),
    /// A zero-length file.
    Empty,
}

impl FileBytes {
    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        match self {
            FileBytes::Mapped(m) => m,
            FileBytes::Fetched(b) => b,
            FileBytes::Empty => &[],
        }
    }
}

/// Maps a file read-only; an object (`s3://`, `gs://`) is fetched whole, so this is for the
/// small components only (Data.db goes through [`DataFile`]).
pub fn map_file(io: &Io, path: &Path) -> Result<FileBytes, Error> {
    if crate::io::is_remote(path) {
        return io.read_whole(path).map(FileBytes::Fetched);
    }
    let file = File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let len = file
        .metadata()
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    if len == 0 {
        return Ok(FileBytes::Empty);
    }
    // SAFETY: the map is read-only and private to this process. Backups are not modified while
    // being read; if one were truncated underneath us the process could fault, the accepted
    // trade-off of every mmap-based reader (ripgrep makes the same one).
    #[allow(unsafe_code, reason = "memory-mapping input files, see SAFETY above")]
    let map = unsafe { Mmap::map(&file) }.map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(FileBytes::Mapped(map))
}

/// A set's Data.db: memory-mapped, or an object read in place.
#[derive(Debug)]
pub enum DataFile {
    /// A local file.
    Local(FileBytes),
    /// An object.
    Remote(RemoteFile),
}

impl DataFile {
    /// Opens Data.db at `path`.
    pub fn open(io: &Io, path: &Path) -> Result<DataFile, Error> {
        if crate::io::is_remote(path) {
            io.remote_file(path).map(DataFile::Remote)
        } else {
            map_file(io, path).map(DataFile::Local)
        }
    }

    /// The stored length.
    pub fn len(&self) -> u64 {
        match self {
            DataFile::Local(b) => b.bytes().len() as u64,
            DataFile::Remote(r) => r.len(),
        }
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes of `window` (read in order; an object is fetched from the window's start
    /// with read-ahead up to its end, never past it).
    pub fn ranges(&self, window: Range<u64>) -> Result<DataBytes<'_>, Error> {
        Ok(match self {
            DataFile::Local(b) => DataBytes::Local(b.bytes()),
            DataFile::Remote(r) => DataBytes::Remote(Box::new(r.reader(window)?)),
        })
    }

    /// The bytes for scattered small reads around chunks of `chunk` bytes (no read-ahead).
    pub fn probe(&self, chunk: u64) -> Result<DataBytes<'_>, Error> {
        Ok(match self {
            DataFile::Local(b) => DataBytes::Local(b.bytes()),
            DataFile::Remote(r) => {
                DataBytes::Remote(Box::new(r.probe_reader(chunk.max(64 << 10))?))
            }
        })
    }
}

/// The stored bytes of a Data.db as the chunk readers take them.
#[derive(Debug)]
pub enum DataBytes<'a> {
    /// A mapped file (zero-copy).
    Local(&'a [u8]),
    /// Ranged reads of an object.
    Remote(Box<BlockReader>),
}

impl ByteRanges for DataBytes<'_> {
    fn len(&self) -> u64 {
        match self {
            DataBytes::Local(b) => ByteRanges::len(b),
            DataBytes::Remote(r) => r.len(),
        }
    }

    fn get(&mut self, at: FileOffset, len: u64) -> sstable_format::Result<&[u8]> {
        match self {
            DataBytes::Local(b) => b.get(at, len),
            DataBytes::Remote(r) => r.get(at, len),
        }
    }
}

/// The Data.db reader of a set: compressed or not.
#[derive(Debug)]
pub enum AnySource<'a> {
    /// Compressed Data.db.
    Compressed(CompressedSource<'a, DataBytes<'a>>),
    /// Uncompressed Data.db (checked by CRC.db when present).
    Uncompressed(UncompressedSource<'a, DataBytes<'a>>),
}

impl DataSource for AnySource<'_> {
    fn fill(&mut self, out: &mut Vec<u8>) -> sstable_format::Result<bool> {
        match self {
            AnySource::Compressed(s) => s.fill(out),
            AnySource::Uncompressed(s) => s.fill(out),
        }
    }

    fn position(&self) -> DataOffset {
        match self {
            AnySource::Compressed(s) => s.position(),
            AnySource::Uncompressed(s) => s.position(),
        }
    }
}

/// One SSTable set, opened.
#[derive(Debug)]
pub struct OpenedSet {
    /// The set as discovered.
    pub set: SstableSet,
    /// Its format version.
    pub version: Version,
    /// Statistics.db.
    pub statistics: Statistics,
    /// CompressionInfo.db, when Data.db is compressed.
    pub compression: Option<CompressionInfo>,
    /// CRC.db, when Data.db is uncompressed and the file is present.
    pub crc: Option<CrcDb>,
    /// Data.db.
    pub data: DataFile,
    /// Path of Data.db.
    pub data_path: PathBuf,
    /// The I/O handle the set was opened with (for its other components).
    pub io: Io,
}

impl OpenedSet {
    /// Opens a set: maps Data.db and parses Statistics.db and CompressionInfo.db / CRC.db.
    pub fn open(io: &Io, set: &SstableSet) -> Result<OpenedSet, Error> {
        let version = set
            .descriptor
            .require_version()
            .map_err(|source| Error::Format {
                path: set.dir.clone(),
                source,
            })?;
        let path_of = |c: &ComponentName| set.components.get(c).cloned();
        let data_path = path_of(&ComponentName::Data).ok_or_else(|| Error::MissingComponent {
            set: set
                .dir
                .join(set.descriptor.base_name())
                .display()
                .to_string(),
            component: "Data.db",
        })?;
        let stats_path =
            path_of(&ComponentName::Statistics).ok_or_else(|| Error::MissingComponent {
                set: set
                    .dir
                    .join(set.descriptor.base_name())
                    .display()
                    .to_string(),
                component: "Statistics.db",
            })?;
        let stats_bytes = map_file(io, &stats_path)?;
        let statistics =
            Statistics::parse(stats_bytes.bytes(), version).map_err(|source| Error::Format {
                path: stats_path.clone(),
                source,
            })?;
        let compression = match path_of(&ComponentName::CompressionInfo) {
            Some(p) => {
                let b = map_file(io, &p)?;
                Some(
                    CompressionInfo::parse(b.bytes(), version)
                        .map_err(|source| Error::Format { path: p, source })?,
                )
            }
            None => None,
        };
        let crc = match (&compression, path_of(&ComponentName::Crc)) {
            (None, Some(p)) => {
                let b = map_file(io, &p)?;
                Some(CrcDb::parse(b.bytes()).map_err(|source| Error::Format { path: p, source })?)
            }
            _ => None,
        };
        let data = DataFile::open(io, &data_path)?;
        Ok(OpenedSet {
            set: set.clone(),
            version,
            statistics,
            compression,
            crc,
            data,
            data_path,
            io: io.clone(),
        })
    }

    /// A source over the whole Data.db.
    pub fn source(&self) -> Result<AnySource<'_>, Error> {
        let wrap = |source| Error::Format {
            path: self.data_path.clone(),
            source,
        };
        let bytes = self.data.ranges(0..self.data.len())?;
        Ok(match &self.compression {
            Some(info) => AnySource::Compressed(
                CompressedSource::with_ranges(bytes, info, self.version, ChunkIndex(0), None)
                    .map_err(wrap)?,
            ),
            None => AnySource::Uncompressed(
                UncompressedSource::with_ranges(
                    bytes,
                    self.crc.as_ref(),
                    self.version,
                    DataOffset(0),
                    None,
                )
                .map_err(wrap)?,
            ),
        })
    }

    /// The partitioner named in Statistics.db.
    pub fn partitioner(&self) -> Result<Partitioner, Error> {
        let name = self
            .statistics
            .validation
            .as_ref()
            .map(|v| v.partitioner.as_str())
            .ok_or_else(|| Error::Format {
                path: self.data_path.clone(),
                source: sstable_format::Error::invalid(
                    sstable_format::Component::Statistics,
                    0,
                    "no VALIDATION metadata (partitioner)",
                ),
            })?;
        Partitioner::from_class_name(name).map_err(|source| Error::Format {
            path: self.data_path.clone(),
            source,
        })
    }
}
