//! Opening one SSTable set from disk: memory-maps its files, parses the metadata components,
//! and hands out `Data.db` sources. Every format error is wrapped with the file's path.

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use sstable_format::chunks::{CompressedSource, UncompressedSource};
use sstable_format::compression_info::CompressionInfo;
use sstable_format::crc::CrcDb;
use sstable_format::descriptor::ComponentName;
use sstable_format::partitioner::Partitioner;
use sstable_format::statistics::Statistics;
use sstable_format::{ChunkIndex, DataOffset, DataSource, Version};

use crate::discover::SstableSet;
use crate::error::Error;

/// A file's bytes: memory-mapped, or empty (a zero-length file cannot be mapped).
#[derive(Debug)]
pub enum FileBytes {
    /// A mapped file.
    Mapped(Mmap),
    /// A zero-length file.
    Empty,
}

impl FileBytes {
    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        match self {
            FileBytes::Mapped(m) => m,
            FileBytes::Empty => &[],
        }
    }
}

/// Maps a file read-only.
pub fn map_file(path: &Path) -> Result<FileBytes, Error> {
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

/// The Data.db reader of a set: compressed or not.
#[derive(Debug)]
pub enum AnySource<'a> {
    /// Compressed Data.db.
    Compressed(CompressedSource<'a>),
    /// Uncompressed Data.db (checked by CRC.db when present).
    Uncompressed(UncompressedSource<'a>),
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
    pub data: FileBytes,
    /// Path of Data.db.
    pub data_path: PathBuf,
}

impl OpenedSet {
    /// Opens a set: maps Data.db and parses Statistics.db and CompressionInfo.db / CRC.db.
    pub fn open(set: &SstableSet) -> Result<OpenedSet, Error> {
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
        let stats_bytes = map_file(&stats_path)?;
        let statistics =
            Statistics::parse(stats_bytes.bytes(), version).map_err(|source| Error::Format {
                path: stats_path.clone(),
                source,
            })?;
        let compression = match path_of(&ComponentName::CompressionInfo) {
            Some(p) => {
                let b = map_file(&p)?;
                Some(
                    CompressionInfo::parse(b.bytes(), version)
                        .map_err(|source| Error::Format { path: p, source })?,
                )
            }
            None => None,
        };
        let crc = match (&compression, path_of(&ComponentName::Crc)) {
            (None, Some(p)) => {
                let b = map_file(&p)?;
                Some(CrcDb::parse(b.bytes()).map_err(|source| Error::Format { path: p, source })?)
            }
            _ => None,
        };
        let data = map_file(&data_path)?;
        Ok(OpenedSet {
            set: set.clone(),
            version,
            statistics,
            compression,
            crc,
            data,
            data_path,
        })
    }

    /// A source over the whole Data.db.
    pub fn source(&self) -> Result<AnySource<'_>, Error> {
        let wrap = |source| Error::Format {
            path: self.data_path.clone(),
            source,
        };
        Ok(match &self.compression {
            Some(info) => AnySource::Compressed(
                CompressedSource::new(self.data.bytes(), info, self.version, ChunkIndex(0), None)
                    .map_err(wrap)?,
            ),
            None => AnySource::Uncompressed(
                UncompressedSource::new(
                    self.data.bytes(),
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
