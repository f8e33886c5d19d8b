//! `TOC.txt`: the list of an sstable's components, one file-name suffix per line.
//!
//! Mirrors Cassandra's `io/sstable/format/TOCComponent` (`loadTOC`, `appendTOC`). Unknown names
//! (custom or SAI components, later formats) are kept as they are.

use crate::error::{Component, Error, Result};

/// One line of `TOC.txt`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TocEntry {
    /// The component suffix as written (`Data.db`, `Digest.crc32`, `SAI+...`).
    pub name: String,
    /// The component this crate knows it as, if any.
    pub component: Option<Component>,
}

/// A parsed `TOC.txt`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Toc {
    /// Entries in file order (blank lines dropped, surrounding whitespace trimmed).
    pub entries: Vec<TocEntry>,
}

/// The known component of a TOC name.
pub fn component_of(name: &str) -> Option<Component> {
    Some(match name {
        "Data.db" => Component::Data,
        "Index.db" => Component::Index,
        "Summary.db" => Component::Summary,
        "Filter.db" => Component::Filter,
        "CompressionInfo.db" => Component::CompressionInfo,
        "Statistics.db" => Component::Statistics,
        "CRC.db" => Component::Crc,
        "TOC.txt" => Component::Toc,
        "Scylla.db" => Component::Scylla,
        "Partitions.db" => Component::Partitions,
        "Rows.db" => Component::Rows,
        n if n.starts_with("Digest.") => Component::Digest,
        _ => return None,
    })
}

impl Toc {
    /// Parses the text of a `TOC.txt` (UTF-8, `\n` or `\r\n` line ends).
    pub fn parse(bytes: &[u8]) -> Result<Toc> {
        let text = std::str::from_utf8(bytes).map_err(|e| {
            Error::invalid(
                Component::Toc,
                e.valid_up_to() as u64,
                "TOC.txt is not UTF-8",
            )
        })?;
        let entries = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|name| TocEntry {
                name: name.to_string(),
                component: component_of(name),
            })
            .collect();
        Ok(Toc { entries })
    }

    /// Whether the TOC lists a component named exactly `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.entries.iter().any(|e| e.name == name)
    }

    /// Whether the TOC lists `component`.
    pub fn has(&self, component: Component) -> bool {
        self.entries.iter().any(|e| e.component == Some(component))
    }

    /// The names this crate does not know.
    pub fn unknown(&self) -> impl Iterator<Item = &str> {
        self.entries
            .iter()
            .filter(|e| e.component.is_none())
            .map(|e| e.name.as_str())
    }

    /// The name of the Digest component, if listed (`Digest.crc32`...).
    pub fn digest_name(&self) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| e.component == Some(Component::Digest))
            .map(|e| e.name.as_str())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn parses_and_keeps_unknown() {
        let t = Toc::parse(b"Data.db\r\nDigest.crc32\n\nSAI+aa+x.db\nTOC.txt\n").unwrap();
        assert_eq!(t.entries.len(), 4);
        assert!(t.has(Component::Data));
        assert_eq!(t.digest_name(), Some("Digest.crc32"));
        assert_eq!(t.unknown().collect::<Vec<_>>(), vec!["SAI+aa+x.db"]);
        assert!(t.contains("TOC.txt"));
        assert!(!t.has(Component::Index));
    }

    #[test]
    fn empty_and_invalid() {
        assert!(Toc::parse(b"").unwrap().entries.is_empty());
        let e = Toc::parse(b"Data.db\n\xff\xfe").unwrap_err();
        assert_eq!(e.component(), Some(Component::Toc));
        assert!(matches!(e, Error::Invalid { offset: 8, .. }));
    }
}
