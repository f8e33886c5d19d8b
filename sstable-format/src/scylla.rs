//! `Scylla.db`: ScyllaDB's extra metadata (sharding ranges, feature bits, origin, version,
//! and from 2026 a schema that makes the sstable self-describing).
//!
//! Mirrors ScyllaDB's `sstables/types.hh` `scylla_metadata` (`scylla_metadata_type`) and
//! `docs/dev/sstable-scylla-format.md`: a be32 record count, then records of be32 tag, be32
//! body size and body, and a trailing CRC32 of everything before it when the
//! components-digests record (tag 12) is present. Records this module does not decode are kept
//! as raw bytes.

use crate::cursor::Cursor;
use crate::error::{Component, Error, Result};
use crate::statistics::Uuid;
use crate::types::CqlType;

const COMPONENT: Component = Component::Scylla;

/// Record tags (`scylla_metadata_type`).
pub mod tag {
    /// Sharding token ranges.
    pub const SHARDING: u32 = 1;
    /// Feature bits.
    pub const FEATURES: u32 = 2;
    /// Extension attributes.
    pub const EXTENSION_ATTRIBUTES: u32 = 3;
    /// Run identifier.
    pub const RUN_IDENTIFIER: u32 = 4;
    /// Large-data statistics.
    pub const LARGE_DATA_STATS: u32 = 5;
    /// SSTable origin.
    pub const SSTABLE_ORIGIN: u32 = 6;
    /// Build id.
    pub const SCYLLA_BUILD_ID: u32 = 7;
    /// Scylla version.
    pub const SCYLLA_VERSION: u32 = 8;
    /// Extended timestamp statistics.
    pub const EXT_TIMESTAMP_STATS: u32 = 9;
    /// SSTable identifier.
    pub const SSTABLE_IDENTIFIER: u32 = 10;
    /// Table schema.
    pub const SCHEMA: u32 = 11;
    /// Component CRC32 digests.
    pub const COMPONENTS_DIGESTS: u32 = 12;
}

/// Feature bits (`sstable_feature`).
pub mod feature {
    /// Scylla #2993 fixed.
    pub const NON_COMPOUND_PI_ENTRIES: u64 = 1 << 0;
    /// Scylla #2986 fixed.
    pub const NON_COMPOUND_RANGE_TOMBSTONES: u64 = 1 << 1;
    /// Scylla #3885 fixed.
    pub const SHADOWABLE_TOMBSTONES: u64 = 1 << 2;
    /// Scylla #4139 fixed (static rows of static-compact tables).
    pub const CORRECT_STATIC_COMPACT: u64 = 1 << 3;
    /// Scylla #4363 fixed.
    pub const CORRECT_EMPTY_COUNTERS: u64 = 1 << 4;
    /// Scylla #6130 fixed (UDTs nested in collections are not frozen by mistake).
    pub const CORRECT_UDTS_IN_COLLECTIONS: u64 = 1 << 5;
    /// The last promoted-index block's width excludes the partition end.
    pub const CORRECT_LAST_PI_BLOCK_WIDTH: u64 = 1 << 6;
}

/// One raw record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScyllaRecord {
    /// Record tag.
    pub tag: u32,
    /// Absolute offset of the body.
    pub offset: u64,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// The kind of a schema column (`column_kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnKind {
    /// Partition key column (1).
    PartitionKey,
    /// Clustering column (2).
    Clustering,
    /// Static column (3).
    Static,
    /// Regular column (4).
    Regular,
}

/// A column of the schema record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScyllaColumn {
    /// Column kind.
    pub kind: ColumnKind,
    /// Column name.
    pub name: String,
    /// Type string as stored.
    pub type_string: String,
    /// The parsed type.
    pub ty: CqlType,
}

/// The schema record (tag 11).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScyllaSchema {
    /// Table id.
    pub table_id: Uuid,
    /// Schema version.
    pub version: Uuid,
    /// Keyspace name.
    pub keyspace: String,
    /// Table name.
    pub table: String,
    /// Columns in stored order.
    pub columns: Vec<ScyllaColumn>,
}

/// A sharding token bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenBound {
    /// Exclusive rather than inclusive.
    pub exclusive: bool,
    /// Token bytes.
    pub token: Vec<u8>,
}

/// A parsed `Scylla.db`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScyllaMetadata {
    /// All records in file order.
    pub records: Vec<ScyllaRecord>,
    /// Feature bits (tag 2).
    pub features: Option<u64>,
    /// Sharding token ranges (tag 1): (left, right) bounds.
    pub sharding: Option<Vec<(TokenBound, TokenBound)>>,
    /// SSTable origin (tag 6), e.g. `memtable`.
    pub origin: Option<String>,
    /// Scylla version (tag 8).
    pub scylla_version: Option<String>,
    /// Scylla build id (tag 7).
    pub build_id: Option<String>,
    /// Run identifier (tag 4).
    pub run_identifier: Option<Uuid>,
    /// SSTable identifier (tag 10).
    pub sstable_identifier: Option<Uuid>,
    /// Schema (tag 11).
    pub schema: Option<ScyllaSchema>,
    /// Component CRC32s (tag 12): (component type number, crc).
    pub components_digests: Option<Vec<(u32, u32)>>,
}

impl ScyllaMetadata {
    /// Parses a whole `Scylla.db`, verifying the trailing CRC32 when tag 12 is present.
    pub fn parse(bytes: &[u8]) -> Result<ScyllaMetadata> {
        let mut c = Cursor::new(bytes, COMPONENT);
        let count = c.read_u32("record count")?;
        if u64::from(count).saturating_mul(8) > c.remaining() as u64 {
            return Err(Error::invalid(
                COMPONENT,
                0,
                format!("{count} records do not fit the file"),
            ));
        }
        let mut out = ScyllaMetadata::default();
        for _ in 0..count {
            let tag = c.read_u32("record tag")?;
            let size = c.read_u32("record size")?;
            let offset = c.offset();
            let body = c.split(size as usize, "record body")?;
            out.decode(tag, body.clone())?;
            out.records.push(ScyllaRecord {
                tag,
                offset,
                body: body.rest().to_vec(),
            });
        }
        if out.components_digests.is_some() {
            let covered_len = c.position();
            let stored = c.read_u32("Scylla.db checksum")?;
            let computed = crc32fast::hash(bytes.get(..covered_len).unwrap_or(&[]));
            if stored != computed {
                return Err(Error::ChecksumMismatch {
                    component: COMPONENT,
                    chunk: 0,
                    offset: 0,
                    stored,
                    computed,
                });
            }
        }
        c.expect_end("Scylla.db records")?;
        Ok(out)
    }

    /// Whether feature `bit` (see [`feature`]) is set; false when there is no features record.
    pub fn has_feature(&self, bit: u64) -> bool {
        self.features.is_some_and(|f| f & bit != 0)
    }

    /// The raw body of the first record with `tag`.
    pub fn record(&self, tag: u32) -> Option<&[u8]> {
        self.records
            .iter()
            .find(|r| r.tag == tag)
            .map(|r| r.body.as_slice())
    }

    fn decode(&mut self, tag: u32, mut c: Cursor<'_>) -> Result<()> {
        let c = &mut c;
        match tag {
            tag::FEATURES => self.features = Some(c.read_u64("features")?),
            tag::SHARDING => {
                let n = c.read_u32("token range count")? as usize;
                if n.saturating_mul(6) > c.remaining() {
                    return Err(c.invalid(format!("{n} token ranges do not fit the record")));
                }
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push((token_bound(c)?, token_bound(c)?));
                }
                self.sharding = Some(v);
            }
            tag::SSTABLE_ORIGIN => self.origin = Some(string32(c, "sstable origin")?),
            tag::SCYLLA_VERSION => self.scylla_version = Some(string32(c, "scylla version")?),
            tag::SCYLLA_BUILD_ID => self.build_id = Some(string32(c, "scylla build id")?),
            tag::RUN_IDENTIFIER => self.run_identifier = Some(Uuid::read(c, "run identifier")?),
            tag::SSTABLE_IDENTIFIER => {
                self.sstable_identifier = Some(Uuid::read(c, "sstable identifier")?)
            }
            tag::SCHEMA => self.schema = Some(schema(c)?),
            tag::COMPONENTS_DIGESTS => {
                let n = c.read_u32("digest count")? as usize;
                if n.saturating_mul(8) > c.remaining() {
                    return Err(c.invalid(format!("{n} digests do not fit the record")));
                }
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push((c.read_u32("component type")?, c.read_u32("component crc")?));
                }
                self.components_digests = Some(v);
            }
            _ => return Ok(()),
        }
        c.expect_end("Scylla.db record")
    }
}

fn string32(c: &mut Cursor<'_>, what: &'static str) -> Result<String> {
    let at = c.offset();
    let n = c.read_u32(what)? as usize;
    let b = c.read_bytes(n, what)?;
    String::from_utf8(b.to_vec()).map_err(|_| c.invalid_at(at, format!("{what} is not UTF-8")))
}

fn token_bound(c: &mut Cursor<'_>) -> Result<TokenBound> {
    let exclusive = c.read_bool("token bound exclusive flag")?;
    let token = c.read_short_bytes("token")?.to_vec();
    Ok(TokenBound { exclusive, token })
}

fn schema(c: &mut Cursor<'_>) -> Result<ScyllaSchema> {
    let table_id = Uuid::read(c, "table id")?;
    let version = Uuid::read(c, "schema version")?;
    let keyspace = string32(c, "keyspace name")?;
    let table = string32(c, "table name")?;
    let n = c.read_u32("column count")? as usize;
    if n.saturating_mul(9) > c.remaining() {
        return Err(c.invalid(format!("{n} columns do not fit the record")));
    }
    let mut columns = Vec::with_capacity(n);
    for _ in 0..n {
        let at = c.offset();
        let kind = match c.read_u8("column kind")? {
            1 => ColumnKind::PartitionKey,
            2 => ColumnKind::Clustering,
            3 => ColumnKind::Static,
            4 => ColumnKind::Regular,
            k => return Err(c.invalid_at(at, format!("unknown column kind {k}"))),
        };
        let name = string32(c, "column name")?;
        let type_at = c.offset();
        let type_string = string32(c, "column type")?;
        let ty = CqlType::parse_type_string(&type_string)
            .map_err(|e| c.invalid_at(type_at, e.to_string()))?;
        columns.push(ScyllaColumn {
            kind,
            name,
            type_string,
            ty,
        });
    }
    Ok(ScyllaSchema {
        table_id,
        version,
        keyspace,
        table,
        columns,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
    use super::*;

    fn rec(out: &mut Vec<u8>, tag: u32, body: &[u8]) {
        out.extend_from_slice(&tag.to_be_bytes());
        out.extend_from_slice(&(body.len() as u32).to_be_bytes());
        out.extend_from_slice(body);
    }

    fn s32(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&(s.len() as u32).to_be_bytes());
        out.extend_from_slice(s.as_bytes());
    }

    fn sample(with_digest: bool) -> Vec<u8> {
        let mut f = Vec::new();
        f.extend_from_slice(&(if with_digest { 5u32 } else { 4 }).to_be_bytes());
        rec(&mut f, 2, &0x7fu64.to_be_bytes());
        let mut o = Vec::new();
        s32(&mut o, "memtable");
        rec(&mut f, 6, &o);
        rec(&mut f, 99, b"future");
        let mut sc = Vec::new();
        sc.extend_from_slice(&[1u8; 16]);
        sc.extend_from_slice(&[2u8; 16]);
        s32(&mut sc, "ks");
        s32(&mut sc, "t");
        sc.extend_from_slice(&2u32.to_be_bytes());
        sc.push(1);
        s32(&mut sc, "pk");
        s32(&mut sc, "org.apache.cassandra.db.marshal.Int32Type");
        sc.push(4);
        s32(&mut sc, "v");
        s32(&mut sc, "ListType(UTF8Type)");
        rec(&mut f, 11, &sc);
        if with_digest {
            let mut d = Vec::new();
            d.extend_from_slice(&1u32.to_be_bytes());
            d.extend_from_slice(&7u32.to_be_bytes());
            d.extend_from_slice(&0xdeadbeefu32.to_be_bytes());
            rec(&mut f, 12, &d);
            let crc = crc32fast::hash(&f);
            f.extend_from_slice(&crc.to_be_bytes());
        }
        f
    }

    #[test]
    fn parses_records() {
        for with_digest in [false, true] {
            let m = ScyllaMetadata::parse(&sample(with_digest)).unwrap();
            assert!(m.has_feature(feature::CORRECT_UDTS_IN_COLLECTIONS));
            assert_eq!(m.origin.as_deref(), Some("memtable"));
            assert_eq!(m.record(99), Some(&b"future"[..]));
            let s = m.schema.unwrap();
            assert_eq!((s.keyspace.as_str(), s.table.as_str()), ("ks", "t"));
            assert_eq!(s.columns[0].kind, ColumnKind::PartitionKey);
            assert_eq!(s.columns[0].ty, CqlType::Int);
            assert_eq!(s.columns[1].ty.to_string(), "list<text>");
            assert_eq!(m.components_digests.is_some(), with_digest);
        }
    }

    #[test]
    fn truncated_and_corrupt() {
        let full = sample(true);
        for n in 0..full.len() {
            assert!(ScyllaMetadata::parse(&full[..n]).is_err(), "prefix {n}");
        }
        let mut bad = full.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(matches!(
            ScyllaMetadata::parse(&bad),
            Err(Error::ChecksumMismatch { .. })
        ));
        let mut bad = sample(false);
        bad[3] = 200; // record count far too large
        assert!(ScyllaMetadata::parse(&bad).is_err());
        let mut extra = sample(false);
        extra.push(0);
        assert!(ScyllaMetadata::parse(&extra).is_err());
    }
}
