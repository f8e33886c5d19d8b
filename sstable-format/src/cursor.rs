//! The one reader of untrusted bytes: a cursor with checked reads, Cassandra's vints, and
//! `split` to bound nested structures. Every error carries the component and absolute offset.

use crate::error::{Component, Error, Result};

/// A checked reader over a byte slice.
///
/// `base` is the absolute offset of the slice's first byte within its component, so that
/// errors from sub-cursors still report positions in the file.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    base: u64,
    component: Component,
}

impl<'a> Cursor<'a> {
    /// A cursor over `data`, whose first byte is at offset 0 of `component`.
    pub fn new(data: &'a [u8], component: Component) -> Self {
        Self::with_base(data, component, 0)
    }

    /// A cursor over `data`, whose first byte is at offset `base` of `component`.
    pub fn with_base(data: &'a [u8], component: Component, base: u64) -> Self {
        Cursor {
            data,
            pos: 0,
            base,
            component,
        }
    }

    /// The component being read.
    pub fn component(&self) -> Component {
        self.component
    }

    /// The absolute offset of the next byte.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Position relative to the start of this cursor's slice.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    /// Whether no bytes are left.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The bytes not yet read.
    pub fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or(&[])
    }

    /// An [`Error::Invalid`] at the current offset.
    pub fn invalid(&self, message: impl Into<String>) -> Error {
        Error::invalid(self.component, self.offset(), message)
    }

    /// An [`Error::Invalid`] at `offset` (absolute).
    pub fn invalid_at(&self, offset: u64, message: impl Into<String>) -> Error {
        Error::invalid(self.component, offset, message)
    }

    fn truncated(&self, needed: usize, what: &'static str) -> Error {
        Error::Truncated {
            component: self.component,
            offset: self.offset(),
            needed: needed.saturating_sub(self.remaining()) as u64,
            what,
        }
    }

    /// Reads `n` bytes, borrowing them.
    pub fn read_bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or_else(|| self.truncated(n, what))?;
        let out = self
            .data
            .get(self.pos..end)
            .ok_or_else(|| self.truncated(n, what))?;
        self.pos = end;
        Ok(out)
    }

    /// Reads a fixed-size array.
    pub fn read_array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N]> {
        let b = self.read_bytes(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(b);
        Ok(out)
    }

    /// Skips `n` bytes.
    pub fn skip(&mut self, n: usize, what: &'static str) -> Result<()> {
        self.read_bytes(n, what).map(|_| ())
    }

    /// Splits off the next `len` bytes as their own cursor (same component and absolute
    /// offsets) and advances past them.
    pub fn split(&mut self, len: usize, what: &'static str) -> Result<Cursor<'a>> {
        let base = self.offset();
        let data = self.read_bytes(len, what)?;
        Ok(Cursor::with_base(data, self.component, base))
    }

    /// Looks at the next byte without consuming it.
    pub fn peek_u8(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    /// Reads a byte.
    pub fn read_u8(&mut self, what: &'static str) -> Result<u8> {
        Ok(self.read_array::<1>(what)?[0])
    }

    /// Reads a Java boolean (one byte, non-zero is true).
    pub fn read_bool(&mut self, what: &'static str) -> Result<bool> {
        Ok(self.read_u8(what)? != 0)
    }

    /// Reads a big-endian u16.
    pub fn read_u16(&mut self, what: &'static str) -> Result<u16> {
        Ok(u16::from_be_bytes(self.read_array(what)?))
    }

    /// Reads a big-endian i16.
    pub fn read_i16(&mut self, what: &'static str) -> Result<i16> {
        Ok(i16::from_be_bytes(self.read_array(what)?))
    }

    /// Reads a big-endian u32.
    pub fn read_u32(&mut self, what: &'static str) -> Result<u32> {
        Ok(u32::from_be_bytes(self.read_array(what)?))
    }

    /// Reads a big-endian i32.
    pub fn read_i32(&mut self, what: &'static str) -> Result<i32> {
        Ok(i32::from_be_bytes(self.read_array(what)?))
    }

    /// Reads a little-endian i32 (Summary.db offsets).
    pub fn read_i32_le(&mut self, what: &'static str) -> Result<i32> {
        Ok(i32::from_le_bytes(self.read_array(what)?))
    }

    /// Reads a big-endian u64.
    pub fn read_u64(&mut self, what: &'static str) -> Result<u64> {
        Ok(u64::from_be_bytes(self.read_array(what)?))
    }

    /// Reads a big-endian i64.
    pub fn read_i64(&mut self, what: &'static str) -> Result<i64> {
        Ok(i64::from_be_bytes(self.read_array(what)?))
    }

    /// Reads a little-endian i64 (Summary.db positions).
    pub fn read_i64_le(&mut self, what: &'static str) -> Result<i64> {
        Ok(i64::from_le_bytes(self.read_array(what)?))
    }

    /// Reads a big-endian IEEE double.
    pub fn read_f64(&mut self, what: &'static str) -> Result<f64> {
        Ok(f64::from_be_bytes(self.read_array(what)?))
    }

    /// Reads a non-negative big-endian i32 used as a length or count.
    pub fn read_len_i32(&mut self, what: &'static str) -> Result<usize> {
        let at = self.offset();
        let v = self.read_i32(what)?;
        usize::try_from(v).map_err(|_| self.invalid_at(at, format!("negative {what}: {v}")))
    }

    /// Reads a u16-length-prefixed byte string.
    pub fn read_short_bytes(&mut self, what: &'static str) -> Result<&'a [u8]> {
        let n = self.read_u16(what)?;
        self.read_bytes(usize::from(n), what)
    }

    /// Reads Java's `writeUTF`: a u16 length and modified UTF-8 (decoded leniently).
    pub fn read_utf(&mut self, what: &'static str) -> Result<String> {
        let at = self.offset();
        let b = self.read_short_bytes(what)?;
        String::from_utf8(b.to_vec())
            .map_err(|_| self.invalid_at(at, format!("{what} is not UTF-8")))
    }

    /// Reads Cassandra's unsigned vint (`VIntCoding.readUnsignedVInt`).
    pub fn read_uvint(&mut self, what: &'static str) -> Result<u64> {
        let first = self.read_u8(what)?;
        let extra = first.leading_ones() as usize;
        if extra == 0 {
            return Ok(u64::from(first));
        }
        let mut value: u64 = if extra >= 8 {
            0
        } else {
            u64::from(first & (0xffu8 >> extra))
        };
        for &b in self.read_bytes(extra, what)? {
            value = (value << 8) | u64::from(b);
        }
        Ok(value)
    }

    /// Reads Cassandra's signed (zig-zag) vint.
    pub fn read_svint(&mut self, what: &'static str) -> Result<i64> {
        let n = self.read_uvint(what)?;
        Ok(((n >> 1) as i64) ^ -((n & 1) as i64))
    }

    /// Reads an unsigned vint that must fit a `usize` length and the remaining input.
    pub fn read_uvint_len(&mut self, what: &'static str) -> Result<usize> {
        let at = self.offset();
        let v = self.read_uvint(what)?;
        match usize::try_from(v) {
            Ok(n) if n <= self.remaining() => Ok(n),
            _ => Err(Error::Truncated {
                component: self.component,
                offset: at,
                needed: v.saturating_sub(self.remaining() as u64),
                what,
            }),
        }
    }

    /// Reads an unsigned vint that is a 32-bit value (`readUnsignedVInt32`): Cassandra
    /// sign-extends negative ints, so the u64 is truncated.
    pub fn read_uvint32(&mut self, what: &'static str) -> Result<i32> {
        Ok(self.read_uvint(what)? as i32)
    }

    /// Reads a uvint-length-prefixed byte string.
    pub fn read_vint_bytes(&mut self, what: &'static str) -> Result<&'a [u8]> {
        let n = self.read_uvint_len(what)?;
        self.read_bytes(n, what)
    }

    /// Fails unless the cursor is exhausted.
    pub fn expect_end(&self, what: &'static str) -> Result<()> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.invalid(format!(
                "{} unexpected trailing byte(s) after {what}",
                self.remaining()
            )))
        }
    }
}

/// Encodes an unsigned vint (used by tests and the writer).
pub fn encode_uvint(value: u64, out: &mut Vec<u8>) {
    let size = uvint_size(value);
    let extra = size - 1;
    if extra == 8 {
        out.push(0xff);
        out.extend_from_slice(&value.to_be_bytes());
        return;
    }
    // The value fits the low 7*size bits; the top `extra` bits of the first byte are ones.
    let mut first = true;
    for i in (0..size).rev() {
        let mut b = (value >> (8 * i)) as u8;
        if first {
            b |= !(0xffu8 >> extra);
            first = false;
        }
        out.push(b);
    }
}

/// Encodes a signed (zig-zag) vint.
pub fn encode_svint(value: i64, out: &mut Vec<u8>) {
    encode_uvint(((value << 1) ^ (value >> 63)) as u64, out);
}

/// The number of bytes `encode_uvint` writes for `value`.
pub fn uvint_size(value: u64) -> usize {
    let magnitude = 64 - (value | 1).leading_zeros() as usize; // bits needed, at least 1
    if magnitude > 56 {
        9
    } else {
        // each byte of the encoding carries 7 bits
        magnitude.div_ceil(7)
    }
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

    fn roundtrip(v: u64) {
        let mut out = Vec::new();
        encode_uvint(v, &mut out);
        assert_eq!(out.len(), uvint_size(v), "size of {v}");
        let mut c = Cursor::new(&out, Component::Data);
        assert_eq!(c.read_uvint("v").unwrap(), v, "value {v} bytes {out:02x?}");
        assert!(c.is_empty());
    }

    #[test]
    fn uvint_roundtrips() {
        for v in [
            0u64,
            1,
            127,
            128,
            255,
            16383,
            16384,
            1 << 20,
            u32::MAX as u64,
            1 << 56,
            (1 << 56) - 1,
            u64::MAX,
        ] {
            roundtrip(v);
        }
        for shift in 0..64 {
            roundtrip(1u64 << shift);
            roundtrip((1u64 << shift) - 1);
        }
    }

    #[test]
    fn uvint_known_encodings() {
        // From Cassandra's VIntCoding: 128 needs two bytes, 0x80 0x80.
        let mut c = Cursor::new(&[0x80, 0x80], Component::Data);
        assert_eq!(c.read_uvint("v").unwrap(), 128);
        let mut c = Cursor::new(&[0xff, 0, 0, 0, 0, 0, 0, 0, 5], Component::Data);
        assert_eq!(c.read_uvint("v").unwrap(), 5);
    }

    #[test]
    fn svint_zigzag() {
        for v in [0i64, -1, 1, -64, 64, i64::MIN, i64::MAX, i32::MIN as i64] {
            let mut out = Vec::new();
            encode_svint(v, &mut out);
            let mut c = Cursor::new(&out, Component::Data);
            assert_eq!(c.read_svint("v").unwrap(), v);
        }
    }

    #[test]
    fn uvint32_sign_extension() {
        // writeUnsignedVInt32(-1) writes the sign-extended long: 9 bytes of 0xff.
        let mut out = Vec::new();
        encode_uvint(-1i64 as u64, &mut out);
        assert_eq!(out.len(), 9);
        let mut c = Cursor::new(&out, Component::Data);
        assert_eq!(c.read_uvint32("v").unwrap(), -1);
    }

    #[test]
    fn truncated_vint_reports_offset() {
        let mut c = Cursor::with_base(&[0xc0, 0x01], Component::Statistics, 100);
        let e = c.read_uvint("cell count").unwrap_err();
        match e {
            Error::Truncated {
                component,
                offset,
                needed,
                ..
            } => {
                assert_eq!(component, Component::Statistics);
                assert_eq!(offset, 101);
                assert_eq!(needed, 1);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn split_bounds_nested_reads() {
        let data = [0, 3, 1, 2, 3, 9];
        let mut c = Cursor::with_base(&data, Component::Index, 10);
        let n = c.read_u16("len").unwrap();
        let mut inner = c.split(usize::from(n), "body").unwrap();
        assert_eq!(inner.offset(), 12);
        assert_eq!(inner.read_bytes(3, "x").unwrap(), &[1, 2, 3]);
        assert!(inner.read_u8("past end").is_err());
        assert_eq!(c.read_u8("next").unwrap(), 9);
    }

    #[test]
    fn length_checks() {
        let mut c = Cursor::new(&[0xff, 0xff, 0xff, 0xff], Component::Data);
        assert!(c.read_len_i32("len").is_err());
        let mut c = Cursor::new(&[10, 1, 2], Component::Data);
        assert!(matches!(
            c.read_uvint_len("len"),
            Err(Error::Truncated { needed: 8, .. })
        ));
    }
}
