//! SSTable file names: which set a file belongs to (version, generation, format, keyspace and
//! table when the name carries them) and which component it is.
//!
//! Mirrors Cassandra's `io/sstable/Descriptor` (`fromFilename` in 2.1/2.2, `fromFileWithComponent`
//! and `filenameTokens` in 5.0), `SequenceBasedSSTableId`, `UUIDBasedSSTableId` and
//! `SSTableIdFactory.COMPARATOR`, plus ScyllaDB's `sstables/generation_type.hh`. Pure: it looks
//! at a file *name* (no directory, no I/O).
//!
//! Names recognised (tokens are separated by `-`, the component is the last token):
//! * 2.1 and older: `<ks>-<table>-[tmp-|tmplink-]<ver>-<int gen>-<Component>` (`ka`, `jb`, `ic`...),
//!   and 1.x's `<table>-[tmp-]<ver>-<gen>-<Component>`;
//! * 2.2+: `[tmp-|tmplink-]<ver>-<gen>-<big|bti>-<Component>`, where `<gen>` is an integer or,
//!   from 4.1, a 28-character base-36 id `DDDD_SSSS_NNNNNRRRRRRRRRRRRR` (trunk's 26-character
//!   ULIDs are accepted too). ScyllaDB uses the same forms (and says `big` for its trie-indexed
//!   `ms`/`mt`: ask [`Version::format_kind`] how to read a set, not [`Descriptor::format`]).

use std::cmp::Ordering;
use std::fmt;

use crate::error::{Component, Error, Result};
use crate::version::{FormatKind, Version};

/// The generation (sstable id) of a set: `SequenceBasedSSTableId` or `UUIDBasedSSTableId`.
///
/// Ordered as `SSTableIdFactory.COMPARATOR`: integers numerically and before every id; ids by
/// the time of their time-UUID, then by its low 64 bits (signed, as `TimeUUID.compareTo`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Generation {
    /// An integer generation (`SequenceBasedSSTableId`; ScyllaDB's int64 generations).
    Int(u64),
    /// A time-based id as written in the file name (`UUIDBasedSSTableId.asString`, 28 chars,
    /// lower-cased), or a trunk `ULIDBasedSSTableId` (26 chars, upper-cased).
    Uuid(String),
}

/// 100-ns intervals between the time-UUID epoch (1582-10-15) and the Unix epoch.
const UUID_EPOCH_OFFSET_100NS: u64 = 0x01b2_1dd2_1381_4000;

impl Generation {
    /// Parses the generation token of a file name; `None` when it is neither form.
    pub fn parse(token: &str) -> Option<Generation> {
        if !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit()) {
            return token.parse::<u64>().ok().map(Generation::Int);
        }
        if parse_uuid_id(token).is_some() {
            return Some(Generation::Uuid(token.to_ascii_lowercase()));
        }
        if parse_ulid(token).is_some() {
            return Some(Generation::Uuid(token.to_ascii_uppercase()));
        }
        None
    }

    /// For an id, its time in 100-ns units since 1582-10-15 (the time-UUID timestamp) and the
    /// low 64 bits that order ids of the same instant. `None` for integers.
    pub fn uuid_parts(&self) -> Option<(u64, i64)> {
        match self {
            Generation::Int(_) => None,
            Generation::Uuid(s) => parse_uuid_id(s).or_else(|| parse_ulid(s)),
        }
    }

    /// For an id, the Unix time in milliseconds at which it was made.
    pub fn unix_millis(&self) -> Option<i64> {
        let (ts, _) = self.uuid_parts()?;
        let millis = i128::from(ts / 10_000) - i128::from(UUID_EPOCH_OFFSET_100NS / 10_000);
        i64::try_from(millis).ok()
    }
}

/// Parses `DDDD_SSSS_NNNNNRRRRRRRRRRRRR` (`UUIDBasedSSTableId.Builder.fromString`).
fn parse_uuid_id(s: &str) -> Option<(u64, i64)> {
    let b = s.as_bytes();
    if b.len() != 28 || b.get(4) != Some(&b'_') || b.get(9) != Some(&b'_') {
        return None;
    }
    let part = |from: usize, to: usize| -> Option<u64> {
        let t = s.get(from..to)?;
        if !t.bytes().all(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        u64::from_str_radix(t, 36).ok()
    };
    let days = part(0, 4)?;
    let seconds = part(5, 9)?;
    let nanos = part(10, 15)?;
    let lsb = part(15, 28)?;
    let ts = days
        .checked_mul(86_400)?
        .checked_add(seconds)?
        .checked_mul(10_000_000)?
        .checked_add(nanos)?;
    Some((ts, lsb as i64))
}

/// Parses a 26-character Crockford base-32 ULID into an approximate time-UUID timestamp and
/// its low 64 random bits.
fn parse_ulid(s: &str) -> Option<(u64, i64)> {
    if s.len() != 26 {
        return None;
    }
    let mut value: u128 = 0;
    for c in s.bytes() {
        let d = match c.to_ascii_uppercase() {
            c @ b'0'..=b'9' => c - b'0',
            b'O' => 0,
            b'I' | b'L' => 1,
            c @ b'A'..=b'H' => c - b'A' + 10,
            c @ b'J'..=b'K' => c - b'J' + 18,
            c @ b'M'..=b'N' => c - b'M' + 20,
            c @ b'P'..=b'T' => c - b'P' + 22,
            c @ b'V'..=b'Z' => c - b'V' + 27,
            _ => return None,
        };
        value = value.checked_mul(32)?.checked_add(u128::from(d))?;
    }
    let millis = (value >> 80) as u64;
    let ts = millis
        .checked_mul(10_000)?
        .checked_add(UUID_EPOCH_OFFSET_100NS)?;
    Some((ts, value as u64 as i64))
}

impl Ord for Generation {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Generation::Int(a), Generation::Int(b)) => a.cmp(b),
            (Generation::Int(_), Generation::Uuid(_)) => Ordering::Less,
            (Generation::Uuid(_), Generation::Int(_)) => Ordering::Greater,
            (Generation::Uuid(a), Generation::Uuid(b)) => self
                .uuid_parts()
                .cmp(&other.uuid_parts())
                .then_with(|| a.cmp(b)),
        }
    }
}

impl PartialOrd for Generation {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Generation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Generation::Int(n) => write!(f, "{n}"),
            Generation::Uuid(s) => f.write_str(s),
        }
    }
}

/// One component of a set, from the last token of the file name (`Component.Type`,
/// `BtiFormat.Components.Types`, ScyllaDB's `component_type`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ComponentName {
    /// `Data.db`.
    Data,
    /// `Index.db` (BIG).
    Index,
    /// `Summary.db` (BIG).
    Summary,
    /// `Filter.db`.
    Filter,
    /// `CompressionInfo.db`.
    CompressionInfo,
    /// `Statistics.db`.
    Statistics,
    /// `Digest.<algorithm>`: holds what follows `Digest.` (`sha1`, `adler32`, `crc32`).
    Digest(String),
    /// `CRC.db`.
    Crc,
    /// `TOC.txt`.
    Toc,
    /// `Scylla.db` (ScyllaDB only).
    Scylla,
    /// `Partitions.db` (BTI).
    Partitions,
    /// `Rows.db` (BTI).
    Rows,
    /// Anything else, as written: `SI_<index>.db`, SAI's `SAI+...+<part>.db`, ScyllaDB's
    /// `TemporaryTOC.txt`, unknown components.
    Other(String),
}

impl ComponentName {
    /// The component of a file-name suffix such as `Data.db` or `Digest.crc32`.
    pub fn parse(suffix: &str) -> ComponentName {
        match suffix {
            "Data.db" => ComponentName::Data,
            "Index.db" => ComponentName::Index,
            "Summary.db" => ComponentName::Summary,
            "Filter.db" => ComponentName::Filter,
            "CompressionInfo.db" => ComponentName::CompressionInfo,
            "Statistics.db" => ComponentName::Statistics,
            "CRC.db" => ComponentName::Crc,
            "TOC.txt" => ComponentName::Toc,
            "Scylla.db" => ComponentName::Scylla,
            "Partitions.db" => ComponentName::Partitions,
            "Rows.db" => ComponentName::Rows,
            other => match other.strip_prefix("Digest.") {
                Some(alg) if !alg.is_empty() => ComponentName::Digest(alg.to_string()),
                _ => ComponentName::Other(other.to_string()),
            },
        }
    }

    /// The file-name suffix (`Data.db`, `Digest.crc32`...).
    pub fn suffix(&self) -> String {
        match self {
            ComponentName::Digest(alg) => format!("Digest.{alg}"),
            ComponentName::Other(s) => s.clone(),
            known => known.known_suffix().unwrap_or_default().to_string(),
        }
    }

    fn known_suffix(&self) -> Option<&'static str> {
        Some(match self {
            ComponentName::Data => "Data.db",
            ComponentName::Index => "Index.db",
            ComponentName::Summary => "Summary.db",
            ComponentName::Filter => "Filter.db",
            ComponentName::CompressionInfo => "CompressionInfo.db",
            ComponentName::Statistics => "Statistics.db",
            ComponentName::Crc => "CRC.db",
            ComponentName::Toc => "TOC.txt",
            ComponentName::Scylla => "Scylla.db",
            ComponentName::Partitions => "Partitions.db",
            ComponentName::Rows => "Rows.db",
            ComponentName::Digest(_) | ComponentName::Other(_) => return None,
        })
    }

    /// The error-reporting [`Component`] of a known component.
    pub fn component(&self) -> Option<Component> {
        Some(match self {
            ComponentName::Data => Component::Data,
            ComponentName::Index => Component::Index,
            ComponentName::Summary => Component::Summary,
            ComponentName::Filter => Component::Filter,
            ComponentName::CompressionInfo => Component::CompressionInfo,
            ComponentName::Statistics => Component::Statistics,
            ComponentName::Digest(_) => Component::Digest,
            ComponentName::Crc => Component::Crc,
            ComponentName::Toc => Component::Toc,
            ComponentName::Scylla => Component::Scylla,
            ComponentName::Partitions => Component::Partitions,
            ComponentName::Rows => Component::Rows,
            ComponentName::Other(_) => return None,
        })
    }
}

impl fmt::Display for ComponentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.suffix())
    }
}

/// What a file name says about its set (`Descriptor`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Descriptor {
    /// The version letters as written (`nb`, `ka`, `ic`...), kept even when unknown.
    pub version_str: String,
    /// The parsed version; `None` when the letters are not a version this crate reads
    /// ([`Descriptor::require_version`] gives the reason).
    pub version: Option<Version>,
    /// The generation.
    pub generation: Generation,
    /// The format token of the name (`big`/`bti`; names without one, 2.1 and older, are
    /// `Big`). ScyllaDB's `ms`/`mt` say `big` but carry tries: read with
    /// [`Descriptor::reading_format`].
    pub format: FormatKind,
    /// Keyspace, when the name carries it (2.1 and older).
    pub keyspace: Option<String>,
    /// Table, when the name carries it (2.1 and older; a 2.1 secondary index is `table.index`).
    pub table: Option<String>,
    /// A `tmp-`/`tmplink-` file (an unfinished write or a temporary link: never read).
    pub temporary: bool,
}

impl Descriptor {
    /// Parses a file name (no directory). `Ok(None)` when it is not an sstable file name;
    /// `Err` when it has a `big`/`bti` format token and a version but a malformed generation.
    pub fn parse_file_name(name: &str) -> Result<Option<(Descriptor, ComponentName)>> {
        let mut tokens: Vec<&str> = name.split('-').collect();
        let component = match tokens.pop() {
            Some(c) if !c.is_empty() => ComponentName::parse(c),
            _ => return Ok(None),
        };
        let Some(mut tok) = tokens.pop() else {
            return Ok(None);
        };
        let format = match tok {
            "big" => Some(FormatKind::Big),
            "bti" => Some(FormatKind::Bti),
            _ => None,
        };
        if format.is_some() {
            let Some(t) = tokens.pop() else {
                return Ok(None);
            };
            tok = t;
        }
        let gen_token = tok;
        let Some(version_str) = tokens.pop() else {
            return Ok(None);
        };
        if !is_version_token(version_str) {
            return Ok(None);
        }
        let generation = match Generation::parse(gen_token) {
            Some(g) => g,
            None if format.is_some() => {
                return Err(Error::invalid(
                    component.component().unwrap_or(Component::Data),
                    0,
                    format!(
                        "file name {name:?}: generation {gen_token:?} is neither an integer nor a sstable id"
                    ),
                ))
            }
            None => return Ok(None),
        };
        let temporary = matches!(tokens.last(), Some(&"tmp") | Some(&"tmplink"));
        if temporary {
            tokens.pop();
        }
        let (keyspace, table) = match (format, tokens.as_slice()) {
            (Some(_), []) => (None, None),
            (None, [ks, table]) if is_name(ks) && is_name(table) => {
                (Some((*ks).to_string()), Some((*table).to_string()))
            }
            (None, [table]) if is_name(table) => (None, Some((*table).to_string())),
            _ => return Ok(None),
        };
        if matches!(generation, Generation::Uuid(_)) && format.is_none() {
            return Ok(None);
        }
        let version = version_str.parse::<Version>().ok();
        Ok(Some((
            Descriptor {
                version_str: version_str.to_string(),
                version,
                generation,
                format: format.unwrap_or(FormatKind::Big),
                keyspace,
                table,
                temporary,
            },
            component,
        )))
    }

    /// The version, or [`Error::UnsupportedVersion`] saying why it cannot be read.
    pub fn require_version(&self) -> Result<Version> {
        self.version_str.parse::<Version>()
    }

    /// How the set must be read: the version decides (ScyllaDB `ms`/`mt` are BTI although
    /// their names say `big`). `None` for an unknown version.
    pub fn reading_format(&self) -> Option<FormatKind> {
        self.version.map(Version::format_kind)
    }

    /// Whether the name uses the 2.2+ form (`<ver>-<gen>-<format>-...`).
    pub fn has_new_file_name(&self) -> bool {
        self.keyspace.is_none() && self.table.is_none()
    }

    /// Whether a 2.1-style name denotes a secondary-index table (`table.index`).
    pub fn is_legacy_secondary_index(&self) -> bool {
        self.table.as_deref().is_some_and(|t| t.contains('.'))
    }

    /// The file-name prefix shared by all components of the set, without the trailing `-`
    /// (`nb-1-big`, `ks-tbl-ka-1`, `tmp-nb-1-big`): what a transaction log record names.
    pub fn base_name(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(ks) = &self.keyspace {
            parts.push(ks.clone());
        }
        if let Some(t) = &self.table {
            parts.push(t.clone());
        }
        if self.temporary {
            parts.push("tmp".to_string());
        }
        parts.push(self.version_str.clone());
        parts.push(self.generation.to_string());
        if self.has_new_file_name() {
            parts.push(self.format.to_string());
        }
        parts.join("-")
    }

    /// The file name of one component of the set (`nb-1-big-Data.db`).
    pub fn file_name(&self, component: &ComponentName) -> String {
        format!("{}-{}", self.base_name(), component)
    }
}

/// Version letters: two lower-case ASCII letters (`Version.validate`: `[a-z]+`; every format
/// Cassandra and ScyllaDB wrote since 1.0 uses two).
fn is_version_token(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_lowercase())
}

/// A keyspace or table name in a 2.1 file name: word characters, and `.` for index tables.
fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests"
)]
mod tests {
    use super::*;

    fn parse(name: &str) -> (Descriptor, ComponentName) {
        Descriptor::parse_file_name(name)
            .unwrap()
            .unwrap_or_else(|| panic!("{name} not recognised"))
    }

    #[test]
    fn cassandra_2_1_names() {
        // Real corpus names (cassandra/bloom-filter/ka, legacy-sstables/ka).
        let (d, c) = parse("foo-atable-ka-1-Data.db");
        assert_eq!(c, ComponentName::Data);
        assert_eq!(d.version, Some(Version::Ka));
        assert_eq!(d.generation, Generation::Int(1));
        assert_eq!(d.keyspace.as_deref(), Some("foo"));
        assert_eq!(d.table.as_deref(), Some("atable"));
        assert_eq!(d.format, FormatKind::Big);
        assert!(!d.temporary);
        assert_eq!(d.base_name(), "foo-atable-ka-1");
        let (d, c) = parse("legacy_tables-legacy_ka_compacted_multi_block_rt-ka-4-Digest.sha1");
        assert_eq!(c, ComponentName::Digest("sha1".into()));
        assert_eq!(d.generation, Generation::Int(4));
        assert_eq!(
            d.table.as_deref(),
            Some("legacy_ka_compacted_multi_block_rt")
        );
        let (d, _) = parse("ks-tbl-tmp-ka-12-Index.db");
        assert!(d.temporary);
        assert_eq!(d.base_name(), "ks-tbl-tmp-ka-12");
        let (d, _) = parse("ks-tbl-tmplink-ka-12-Index.db");
        assert!(d.temporary);
        // 2.1 secondary index sstables sit with their table, named `table.index`.
        let (d, _) = parse("ks-tbl.tbl_v_idx-ka-3-Data.db");
        assert!(d.is_legacy_secondary_index());
        assert_eq!(
            d.file_name(&ComponentName::Data),
            "ks-tbl.tbl_v_idx-ka-3-Data.db"
        );
    }

    #[test]
    fn older_and_unknown_versions_are_kept() {
        let (d, c) = parse("Keyspace1-Standard1-jb-0-Data.db");
        assert_eq!(d.version, Some(Version::Jb));
        assert_eq!(d.generation, Generation::Int(0));
        assert_eq!(c, ComponentName::Data);
        let (d, _) = parse("Keyspace1-Standard1-ic-0-Data.db");
        assert_eq!(d.version, Some(Version::Ic));
        let (d, _) = parse("Keyspace1-Standard1-ib-0-Data.db");
        assert_eq!(d.version, None);
        assert_eq!(d.version_str, "ib");
        assert!(matches!(
            d.require_version(),
            Err(Error::UnsupportedVersion { .. })
        ));
        assert_eq!(d.reading_format(), None);
        // 1.x: table only.
        let (d, _) = parse("Standard1-hd-7-Data.db");
        assert_eq!(d.keyspace, None);
        assert_eq!(d.table.as_deref(), Some("Standard1"));
        // A future version in a new-style name.
        let (d, _) = parse("pa-1-big-Data.db");
        assert_eq!(d.version, None);
        assert_eq!(d.version_str, "pa");
    }

    #[test]
    fn datastax_names() {
        // Real corpus names (datastax-cc/legacy-sstables/{aa,cb}).
        let (d, c) = parse("aa-1-bti-Statistics.db");
        assert_eq!(d.version, Some(Version::Aa));
        assert_eq!(d.generation, Generation::Int(1));
        assert_eq!(d.format, FormatKind::Bti);
        assert_eq!(d.reading_format(), Some(FormatKind::Bti));
        assert_eq!(c, ComponentName::Statistics);
        let (d, c) = parse("cb-3g3i_16ov_3sj4g2pdpcdz177rbj-bti-Data.db");
        assert_eq!(d.version, Some(Version::Cb));
        assert_eq!(
            d.generation,
            Generation::Uuid("3g3i_16ov_3sj4g2pdpcdz177rbj".into())
        );
        // 2023-02-15, when the corpus's cb set was written (its Statistics.db timestamps).
        assert_eq!(
            d.generation.unix_millis().map(|m| m / 86_400_000),
            Some(19_403)
        );
        assert_eq!(c, ComponentName::Data);
        assert_eq!(d.base_name(), "cb-3g3i_16ov_3sj4g2pdpcdz177rbj-bti");
        for v in ["ac", "ad", "ba", "bb", "ca"] {
            let (d, _) = parse(&format!("{v}-7-bti-Rows.db"));
            assert_eq!(d.version.map(Version::as_str), Some(v));
        }
        // A DataStax letter this crate does not read is kept, with a DataStax reason.
        let (d, _) = parse("cc-1-bti-Data.db");
        assert_eq!(d.version, None);
        match d.require_version() {
            Err(Error::UnsupportedVersion { reason, .. }) => assert!(reason.contains("DataStax")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn new_names() {
        let (d, c) = parse("la-1-big-Digest.adler32");
        assert_eq!(d.version, Some(Version::La));
        assert_eq!(c, ComponentName::Digest("adler32".into()));
        assert!(d.has_new_file_name());
        assert_eq!(d.base_name(), "la-1-big");
        let (d, c) = parse("mc-12-big-CompressionInfo.db");
        assert_eq!(d.generation, Generation::Int(12));
        assert_eq!(c, ComponentName::CompressionInfo);
        let (d, c) = parse("tmp-nb-3-big-Data.db");
        assert!(d.temporary);
        assert_eq!(c, ComponentName::Data);
        let (d, _) = parse("tmplink-me-3-big-Index.db");
        assert!(d.temporary);
        let (d, c) = parse("da-1-bti-Partitions.db");
        assert_eq!(d.format, FormatKind::Bti);
        assert_eq!(d.reading_format(), Some(FormatKind::Bti));
        assert_eq!(c, ComponentName::Partitions);
        assert_eq!(parse("da-1-bti-Rows.db").1, ComponentName::Rows);
        // ScyllaDB ms/mt: `big` in the name, BTI to read.
        let (d, c) = parse("ms-1-big-Rows.db");
        assert_eq!(d.format, FormatKind::Big);
        assert_eq!(d.reading_format(), Some(FormatKind::Bti));
        assert_eq!(c, ComponentName::Rows);
        assert_eq!(parse("mc-1-big-Scylla.db").1, ComponentName::Scylla);
        assert_eq!(parse("mc-1-big-TOC.txt").1, ComponentName::Toc);
        assert_eq!(parse("la-1-big-CRC.db").1, ComponentName::Crc);
        assert_eq!(
            parse("la-1-big-UNKNOWN.txt").1,
            ComponentName::Other("UNKNOWN.txt".into())
        );
        assert_eq!(
            parse("mc-1-big-Data.db.new").1,
            ComponentName::Other("Data.db.new".into())
        );
        assert_eq!(
            parse("mc-1-big-TemporaryTOC.txt").1,
            ComponentName::Other("TemporaryTOC.txt".into())
        );
    }

    #[test]
    fn index_components() {
        assert_eq!(
            parse("nb-5-big-SI_tbl_v_idx.db").1,
            ComponentName::Other("SI_tbl_v_idx.db".into())
        );
        let (d, c) = parse("da-3gdq_0bki_2cvk01yl83nj0tp5gh-bti-SAI+aa+tbl_v_idx+Meta.db");
        assert_eq!(c, ComponentName::Other("SAI+aa+tbl_v_idx+Meta.db".into()));
        assert!(matches!(d.generation, Generation::Uuid(_)));
    }

    #[test]
    fn uuid_ids() {
        let (d, c) = parse("nb-3gdq_0bki_2cvk01yl83nj0tp5gh-big-Data.db");
        assert_eq!(c, ComponentName::Data);
        assert_eq!(
            d.generation,
            Generation::Uuid("3gdq_0bki_2cvk01yl83nj0tp5gh".into())
        );
        assert_eq!(d.base_name(), "nb-3gdq_0bki_2cvk01yl83nj0tp5gh-big");
        // 3gdq days = 4.5e3 days after 1582 -> 2022 or so.
        let millis = d.generation.unix_millis().unwrap();
        assert!(
            millis > 1_600_000_000_000 && millis < 1_800_000_000_000,
            "{millis}"
        );
        // Upper case is accepted (the pattern is case-insensitive) and normalised.
        let (d, _) = parse("oa-3GDQ_0BKI_2CVK01YL83NJ0TP5GH-big-Data.db");
        assert_eq!(
            d.generation,
            Generation::Uuid("3gdq_0bki_2cvk01yl83nj0tp5gh".into())
        );
        // Trunk ULIDs.
        let (d, _) = parse("oa-01ARZ3NDEKTSV4RRFFQ69G5FAV-big-Data.db");
        assert!(matches!(d.generation, Generation::Uuid(_)));
        assert_eq!(d.generation.unix_millis(), Some(1_469_922_850_259));
    }

    #[test]
    fn generation_order() {
        let g = |s: &str| Generation::parse(s).unwrap();
        assert!(g("2") < g("10"));
        assert!(g("999999") < g("0000_0000_000000000000000000"));
        // Same day and second, later 100-ns remainder.
        assert!(g("3gdq_0bki_2cvk01yl83nj0tp5gh") < g("3gdq_0bki_2cvk11yl83nj0tp5gh"));
        // A later second beats a smaller remainder.
        assert!(g("3gdq_0bkj_000001yl83nj0tp5gh") > g("3gdq_0bki_5yc1r1yl83nj0tp5gh")); // 5yc1r = 9_999_999
                                                                                        // A later day beats everything else, although it is smaller as a string.
        assert!(g("3gdr_0000_000000000000000000") > g("3gdq_1unz_5yc1r1yl83nj0tp5gh"));
        // Same time: the low bits, compared signed.
        assert!(g("3gdq_0bki_2cvk00000000000001") < g("3gdq_0bki_2cvk00000000000002"));
        let mut v = [
            g("3gdq_0bki_2cvk11yl83nj0tp5gh"),
            g("7"),
            g("3gdq_0bki_2cvk01yl83nj0tp5gh"),
            g("1"),
        ];
        v.sort();
        assert_eq!(
            v.iter().map(ToString::to_string).collect::<Vec<_>>(),
            [
                "1",
                "7",
                "3gdq_0bki_2cvk01yl83nj0tp5gh",
                "3gdq_0bki_2cvk11yl83nj0tp5gh"
            ]
        );
    }

    #[test]
    fn not_sstable_names() {
        for name in [
            "manifest.json",
            "schema.cql",
            "C",
            "foo.cql",
            "legacyleveled.json",
            "nb_txn_compaction_0b4a1d30-7e1c-11ee-9a8f-0d3b4d8e2c11.log",
            "bti-da_txn_flush_0b4a1d30-7e1c-11ee-9a8f-0d3b4d8e2c11.log",
            "nb-1-big-",
            "-Data.db",
            "nb-1-xyz-Data.db",
            "NB-1-big-Data.db",
            "a-b-c-nb-1-big-Data.db",
            "ks-tbl-ka-3gdq_0bki_2cvk01yl83nj0tp5gh-Data.db",
            "ks-tbl-ka-x1-Data.db",
            "",
        ] {
            assert_eq!(Descriptor::parse_file_name(name).unwrap(), None, "{name}");
        }
        assert!(Descriptor::parse_file_name("nb-x1-big-Data.db").is_err());
        assert!(Descriptor::parse_file_name("nb--big-Data.db").is_err());
    }
}
