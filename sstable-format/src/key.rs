//! Partition keys: splitting a serialized key into its columns' values.
//!
//! Mirrors `db/marshal/CompositeType` (`split`, `build`): a multi-column partition key is stored
//! as, per component, a u16 length, the bytes and an end-of-component byte.

use crate::cursor::Cursor;
use crate::error::{Component, Result};

/// Splits a serialized partition key into `columns` values. A single-column key is the value
/// itself; a composite key is decoded as `CompositeType`.
pub fn split_partition_key(key: &[u8], columns: usize) -> Result<Vec<&[u8]>> {
    if columns <= 1 {
        return Ok(vec![key]);
    }
    let mut c = Cursor::new(key, Component::Data);
    let mut out = Vec::with_capacity(columns);
    while !c.is_empty() {
        let value = c.read_short_bytes("composite key component")?;
        c.read_u8("composite key end-of-component")?;
        out.push(value);
    }
    if out.len() != columns {
        return Err(c.invalid_at(
            0,
            format!(
                "partition key has {} components, the table has {columns} key columns",
                out.len()
            ),
        ));
    }
    Ok(out)
}

/// Builds a composite key (for writers and tests).
pub fn build_composite(values: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in values {
        out.extend_from_slice(&(v.len() as u16).to_be_bytes());
        out.extend_from_slice(v);
        out.push(0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_roundtrip() {
        let key = build_composite(&[b"ab", b"", b"xyz"]);
        assert_eq!(
            split_partition_key(&key, 3).unwrap(),
            vec![&b"ab"[..], b"", b"xyz"]
        );
        assert_eq!(split_partition_key(b"raw", 1).unwrap(), vec![&b"raw"[..]]);
    }

    #[test]
    fn split_errors() {
        let key = build_composite(&[b"ab", b"cd"]);
        assert!(split_partition_key(&key, 3).is_err());
        assert!(split_partition_key(&key[..key.len() - 2], 2).is_err());
    }
}
