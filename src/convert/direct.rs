//! The column path of `export`: serialized CQL values (cells, key and clustering components,
//! the cells of a non-frozen collection or UDT) decoded straight into the Arrow builders of
//! [`crate::convert::arrow`], without a [`Value`] in between and without an allocation per
//! value: text of `varint`, `decimal`, `uuid` (`--compat spark`) and `inet` is formatted into a
//! reused [`Scratch`] buffer or into the builder itself, frozen collections, tuples and UDTs are
//! walked in place (the `CollectionSerializer` and `TupleType.split` layouts that
//! [`sstable_format::value`] documents), and the cells of a multi-cell column go straight into
//! the child builders.
//!
//! The rows are exactly those of the `Value` path ([`ColumnBuilder::append`] after
//! [`decode_value`] / [`assemble_multi_cell`]), which stays for the rare types done that way
//! (`duration`, `counter`, `vector`, composites, and a builder whose shape does not match the
//! stored type) and for errors: a value that fails here is decoded again by the `Value` path,
//! so the error names the same offset inside the value as before. `tests/it/export.rs`
//! compares the two paths on every corpus table.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use sstable_format::value::{assemble_multi_cell, decode_value, write_varint, Value};
use sstable_format::CqlType;

use crate::convert::arrow::{
    push_offset, rescale_decimal, write_plain_decimal, ColumnBuilder, Kind,
};
use crate::error::Error;
use crate::read::live_rows::ColumnCells;

/// Buffers reused across values (one per sink).
#[derive(Debug, Default)]
pub struct Scratch {
    text: String,
    digits: String,
}

/// Whether an empty serialized value of `ty` is null (every type but the string types:
/// `AbstractType.isEmptyValueMeaningless` aside, [`decode_value`] reads them so).
pub fn empty_is_null(ty: &CqlType) -> bool {
    !matches!(
        ty.unreversed(),
        CqlType::Ascii | CqlType::Text | CqlType::Blob | CqlType::Custom(_)
    )
}

/// A failure of the direct path; the caller decodes the value again with [`decode_value`] for
/// the error that names the offset.
fn malformed(what: &str) -> Error {
    Error::Export(format!("malformed {what} value"))
}

/// The text form of a value of a type that maps to Utf8 (text, ascii, varint, decimal, inet,
/// uuid under `--compat spark`) into `out` (cleared first); `Ok(false)` for a null, `Ok(None)`
/// when `ty` is not such a type.
pub fn text_of(
    ty: &CqlType,
    bytes: &[u8],
    out: &mut String,
    digits: &mut String,
) -> Result<Option<bool>, Error> {
    out.clear();
    let ty = ty.unreversed();
    match ty {
        CqlType::Text | CqlType::Ascii => {
            out.push_str(std::str::from_utf8(bytes).map_err(|_| malformed("text"))?);
            return Ok(Some(true));
        }
        CqlType::Varint | CqlType::Decimal | CqlType::Inet | CqlType::Uuid | CqlType::TimeUuid => {}
        _ => return Ok(None),
    }
    if bytes.is_empty() {
        return Ok(Some(false));
    }
    match ty {
        CqlType::Varint => write_varint(out, bytes),
        CqlType::Decimal => {
            let (scale, unscaled) = decimal_parts(bytes)?;
            write_plain_decimal(out, digits, scale, unscaled);
        }
        CqlType::Inet => match bytes.len() {
            4 => {
                let a: [u8; 4] = bytes.try_into().map_err(|_| malformed("inet"))?;
                let _ = write!(out, "{}", std::net::IpAddr::V4(Ipv4Addr::from(a)));
            }
            16 => {
                let a: [u8; 16] = bytes.try_into().map_err(|_| malformed("inet"))?;
                let _ = write!(out, "{}", std::net::IpAddr::V6(Ipv6Addr::from(a)));
            }
            _ => return Err(malformed("inet")),
        },
        CqlType::Uuid | CqlType::TimeUuid => {
            if bytes.len() != 16 {
                return Err(malformed("uuid"));
            }
            for (i, b) in bytes.iter().enumerate() {
                if matches!(i, 4 | 6 | 8 | 10) {
                    out.push('-');
                }
                let _ = write!(out, "{b:02x}");
            }
        }
        _ => return Ok(None),
    }
    Ok(Some(true))
}

fn decimal_parts(bytes: &[u8]) -> Result<(i32, &[u8]), Error> {
    let (scale, unscaled) = bytes
        .split_first_chunk::<4>()
        .ok_or_else(|| malformed("decimal"))?;
    if unscaled.is_empty() {
        return Err(malformed("decimal"));
    }
    Ok((i32::from_be_bytes(*scale), unscaled))
}

fn be<const N: usize>(bytes: &[u8]) -> Result<[u8; N], Error> {
    bytes.try_into().map_err(|_| malformed("fixed-width"))
}

/// A cursor over the elements of a frozen collection, tuple or UDT value.
struct Elements<'a> {
    rest: &'a [u8],
}

impl<'a> Elements<'a> {
    fn i32(&mut self) -> Result<i32, Error> {
        let (n, rest) = self
            .rest
            .split_first_chunk::<4>()
            .ok_or_else(|| malformed("collection"))?;
        self.rest = rest;
        Ok(i32::from_be_bytes(*n))
    }

    /// The next int32-length-prefixed element (`None`: length −1, a null).
    fn element(&mut self) -> Result<Option<&'a [u8]>, Error> {
        let len = self.i32()?;
        if len < 0 {
            return if len == -1 {
                Ok(None)
            } else {
                Err(malformed("collection element"))
            };
        }
        let len = len as usize;
        if self.rest.len() < len {
            return Err(malformed("collection element"));
        }
        let (e, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(Some(e))
    }
}

impl ColumnBuilder {
    /// Appends a text value (a cached key text, the token's or the sources' text).
    pub fn append_str(&mut self, text: &str) -> Result<(), Error> {
        match self {
            ColumnBuilder::Utf8(b, _) => {
                b.append_value(text);
                Ok(())
            }
            other => other.append(&Value::Text(text)),
        }
    }

    /// Appends one serialized value of `ty` (the type that lays out the bytes), as
    /// [`ColumnBuilder::append`] of its [`decode_value`] would.
    pub fn append_bytes(
        &mut self,
        ty: &CqlType,
        bytes: &[u8],
        s: &mut Scratch,
    ) -> Result<(), Error> {
        match self.put(ty, bytes, s) {
            Ok(()) => Ok(()),
            Err(e) => Err(match decode_value(ty, bytes) {
                Err(d) => Error::Decode(d),
                Ok(_) => e,
            }),
        }
    }

    /// Appends the value of a multi-cell column (a non-frozen collection or UDT), as
    /// [`ColumnBuilder::append`] of its [`assemble_multi_cell`] would.
    pub fn append_cells(&mut self, cells: &ColumnCells<'_>, s: &mut Scratch) -> Result<(), Error> {
        match self.put_cells(cells, s) {
            Ok(true) => Ok(()),
            Ok(false) => {
                let v = assemble_multi_cell(
                    cells.ty,
                    cells.iter().map(|c| (c.path.unwrap_or(&[]), c.value)),
                )
                .map_err(Error::Decode)?;
                self.append(&v)
            }
            Err(e) => Err(
                match assemble_multi_cell(
                    cells.ty,
                    cells.iter().map(|c| (c.path.unwrap_or(&[]), c.value)),
                ) {
                    Err(d) => Error::Decode(d),
                    Ok(_) => e,
                },
            ),
        }
    }

    /// Appends a null (`None`) or the value of `bytes`.
    fn put_opt(
        &mut self,
        ty: &CqlType,
        bytes: Option<&[u8]>,
        s: &mut Scratch,
    ) -> Result<(), Error> {
        match bytes {
            Some(b) => self.put(ty, b, s),
            None => {
                self.append_null();
                Ok(())
            }
        }
    }

    fn put(&mut self, ty: &CqlType, bytes: &[u8], s: &mut Scratch) -> Result<(), Error> {
        let ty = ty.unreversed();
        if let ColumnBuilder::Utf8(b, _) = self {
            if let Some(present) = text_of(ty, bytes, &mut s.text, &mut s.digits)? {
                if present {
                    b.append_value(&s.text);
                } else {
                    b.append_null();
                }
                return Ok(());
            }
        }
        if let (ColumnBuilder::Binary(b), CqlType::Blob | CqlType::Custom(_)) = (&mut *self, ty) {
            b.append_value(bytes);
            return Ok(());
        }
        if bytes.is_empty() && empty_is_null(ty) {
            self.append_null();
            return Ok(());
        }
        match (self, ty) {
            (ColumnBuilder::Bool(b), CqlType::Boolean) => b.append_value(be::<1>(bytes)? != [0]),
            (ColumnBuilder::I8(b), CqlType::TinyInt) => {
                b.append_value(i8::from_be_bytes(be(bytes)?))
            }
            (ColumnBuilder::I16(b), CqlType::SmallInt) => {
                b.append_value(i16::from_be_bytes(be(bytes)?))
            }
            (ColumnBuilder::I32(b), CqlType::Int) => b.append_value(i32::from_be_bytes(be(bytes)?)),
            (ColumnBuilder::I64(b), CqlType::BigInt | CqlType::Time) => {
                b.append_value(i64::from_be_bytes(be(bytes)?))
            }
            (ColumnBuilder::F32(b), CqlType::Float) => {
                b.append_value(f32::from_be_bytes(be(bytes)?))
            }
            (ColumnBuilder::F64(b), CqlType::Double) => {
                b.append_value(f64::from_be_bytes(be(bytes)?))
            }
            (ColumnBuilder::Timestamp(b), CqlType::Timestamp) => {
                b.append_value(i64::from_be_bytes(be(bytes)?))
            }
            (ColumnBuilder::Date(b), CqlType::Date) => {
                // The raw day count has 1970-01-01 at 2^31: every value fits an i32.
                let d = u32::from_be_bytes(be(bytes)?);
                b.append_value((i64::from(d) - (1_i64 << 31)) as i32)
            }
            (ColumnBuilder::Time(b), CqlType::Time) => {
                b.append_value(i64::from_be_bytes(be(bytes)?))
            }
            (ColumnBuilder::Uuid(b), CqlType::Uuid | CqlType::TimeUuid) => b
                .append_value(be::<16>(bytes)?)
                .map_err(|e| Error::Export(format!("uuid: {e}")))?,
            (ColumnBuilder::Decimal(b, p, sc), CqlType::Decimal) => {
                let (scale, unscaled) = decimal_parts(bytes)?;
                b.append_value(rescale_decimal(unscaled, scale, *p, *sc)?)
            }
            (
                ColumnBuilder::List(_, offsets, nulls, child),
                CqlType::List { element, .. } | CqlType::Set { element, .. },
            ) => {
                let mut c = Elements { rest: bytes };
                let n = c.i32()?;
                if n < 0 {
                    return Err(malformed("collection size"));
                }
                for _ in 0..n {
                    let e = c.element()?;
                    child.put_opt(element, e, s)?;
                }
                if !c.rest.is_empty() {
                    return Err(malformed("collection"));
                }
                push_offset(offsets, n as usize)?;
                nulls.append_non_null();
            }
            (
                ColumnBuilder::Map(_, offsets, nulls, keys, values),
                CqlType::Map { key, value, .. },
            ) => {
                let mut c = Elements { rest: bytes };
                let n = c.i32()?;
                if n < 0 {
                    return Err(malformed("map size"));
                }
                for _ in 0..n {
                    let k = c.element()?;
                    if k.is_none_or(|k| k.is_empty() && empty_is_null(key)) {
                        return Err(Error::Export("a map has a null (empty) key".into()));
                    }
                    keys.put_opt(key, k, s)?;
                    let v = c.element()?;
                    values.put_opt(value, v, s)?;
                }
                if !c.rest.is_empty() {
                    return Err(malformed("map"));
                }
                push_offset(offsets, n as usize)?;
                nulls.append_non_null();
            }
            (
                ColumnBuilder::Struct(_, children, nulls, Kind::Tuple | Kind::Plain),
                CqlType::Tuple(types),
            ) if children.len() == types.len() => {
                put_fields(children, types.iter(), bytes, s)?;
                nulls.append_non_null();
            }
            (
                ColumnBuilder::Struct(_, children, nulls, Kind::Tuple | Kind::Plain),
                CqlType::Udt(def),
            ) if children.len() == def.fields.len() => {
                put_fields(children, def.fields.iter().map(|(_, t)| t), bytes, s)?;
                nulls.append_non_null();
            }
            // duration, counter, vector, composites, and shapes that differ: the Value path.
            (b, ty) => b.append(&decode_value(ty, bytes).map_err(Error::Decode)?)?,
        }
        Ok(())
    }

    /// The cells of a multi-cell column; `Ok(false)` (nothing appended) for a type or builder
    /// shape left to the `Value` path.
    fn put_cells(&mut self, cells: &ColumnCells<'_>, s: &mut Scratch) -> Result<bool, Error> {
        let ty = cells.ty.unreversed();
        if cells.is_empty() {
            return Ok(false);
        }
        match (self, ty) {
            (ColumnBuilder::List(_, offsets, nulls, child), CqlType::List { element, .. }) => {
                for c in cells.iter() {
                    if c.path.map_or(0, <[u8]>::len) != 16 {
                        return Err(malformed("list cell path"));
                    }
                    child.put(element, c.value, s)?;
                }
                push_offset(offsets, cells.len())?;
                nulls.append_non_null();
            }
            (ColumnBuilder::List(_, offsets, nulls, child), CqlType::Set { element, .. }) => {
                for c in cells.iter() {
                    child.put(element, c.path.unwrap_or(&[]), s)?;
                }
                push_offset(offsets, cells.len())?;
                nulls.append_non_null();
            }
            (
                ColumnBuilder::Map(_, offsets, nulls, keys, values),
                CqlType::Map { key, value, .. },
            ) => {
                for c in cells.iter() {
                    let k = c.path.unwrap_or(&[]);
                    if k.is_empty() && empty_is_null(key) {
                        return Err(Error::Export("a map has a null (empty) key".into()));
                    }
                    keys.put(key, k, s)?;
                    values.put(value, c.value, s)?;
                }
                push_offset(offsets, cells.len())?;
                nulls.append_non_null();
            }
            (
                ColumnBuilder::Struct(_, children, nulls, Kind::Tuple | Kind::Plain),
                CqlType::Udt(def),
            ) if children.len() == def.fields.len() => {
                // Field cells come in path (field index) order; anything else (a repeated or
                // out-of-range index) is left to the Value path, which reports it.
                let mut next = 0usize;
                for c in cells.iter() {
                    let idx = c
                        .path
                        .and_then(|p| <[u8; 2]>::try_from(p).ok())
                        .map(|p| usize::from(u16::from_be_bytes(p)));
                    match idx {
                        Some(i) if i >= next && i < def.fields.len() => next = i + 1,
                        _ => return Ok(false),
                    }
                }
                let mut it = cells.iter().peekable();
                for (i, (child, (_, fty))) in children.iter_mut().zip(&def.fields).enumerate() {
                    let at = it
                        .peek()
                        .and_then(|c| c.path)
                        .and_then(|p| <[u8; 2]>::try_from(p).ok());
                    match at {
                        Some(p) if usize::from(u16::from_be_bytes(p)) == i => {
                            let value = it.next().map_or(&[][..], |c| c.value);
                            child.put(fty, value, s)?;
                        }
                        _ => child.append_null(),
                    }
                }
                nulls.append_non_null();
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// The fields of a frozen tuple or UDT (absent trailing fields are null).
fn put_fields<'t>(
    children: &mut [ColumnBuilder],
    types: impl Iterator<Item = &'t CqlType>,
    bytes: &[u8],
    s: &mut Scratch,
) -> Result<(), Error> {
    let mut c = Elements { rest: bytes };
    for (child, t) in children.iter_mut().zip(types) {
        if c.rest.is_empty() {
            child.append_null();
        } else {
            let e = c.element()?;
            child.put_opt(t, e, s)?;
        }
    }
    if !c.rest.is_empty() {
        return Err(malformed("tuple or user type"));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
    use super::*;
    use crate::convert::arrow::MapOptions;

    fn elements(items: &[Option<&[u8]>]) -> Vec<u8> {
        let mut out = (items.len() as i32).to_be_bytes().to_vec();
        for i in items {
            match i {
                Some(b) => {
                    out.extend((b.len() as i32).to_be_bytes());
                    out.extend(*b);
                }
                None => out.extend((-1_i32).to_be_bytes()),
            }
        }
        out
    }

    /// The direct path and the Value path give equal arrays, or the same error.
    fn same(ty: &str, values: &[&[u8]], opts: MapOptions) {
        let ty = CqlType::parse_type_string(ty).unwrap();
        let (mut a, mut b) = (ColumnBuilder::new(&ty, opts), ColumnBuilder::new(&ty, opts));
        let mut s = Scratch::default();
        for v in values {
            let direct = a.append_bytes(&ty, v, &mut s);
            let old = decode_value(&ty, v)
                .map_err(Error::Decode)
                .and_then(|x| b.append(&x));
            match (direct, old) {
                (Ok(()), Ok(())) => {}
                (Err(x), Err(y)) => {
                    assert_eq!(x.to_string(), y.to_string(), "{ty:?} {v:?}");
                    return;
                }
                (x, y) => panic!("{ty:?} {v:?}: direct {x:?}, value path {y:?}"),
            }
        }
        let (x, y) = (a.finish().unwrap(), b.finish().unwrap());
        assert_eq!(x.to_data(), y.to_data(), "{ty:?}");
    }

    #[test]
    fn scalars_equal_the_value_path() {
        for opts in [
            MapOptions::default(),
            MapOptions {
                spark: true,
                decimal: None,
            },
            MapOptions {
                spark: false,
                decimal: Some((20, 4)),
            },
        ] {
            same("Int32Type", &[&[0, 0, 1, 2], &[], &[255; 4]], opts);
            same("UTF8Type", &["héllo".as_bytes(), b""], opts);
            same("AsciiType", &[b"abc", b""], opts);
            same("BytesType", &[b"\x00\x01", b""], opts);
            same("BooleanType", &[&[1], &[0], &[]], opts);
            same("ByteType", &[&[0x80]], opts);
            same("ShortType", &[&[0x80, 1]], opts);
            same("LongType", &[&[1, 2, 3, 4, 5, 6, 7, 8]], opts);
            same("FloatType", &[&1.5_f32.to_be_bytes()], opts);
            same("DoubleType", &[&(-2.25_f64).to_be_bytes()], opts);
            same("TimestampType", &[&(-5_i64).to_be_bytes()], opts);
            same("SimpleDateType", &[&(1_u32 << 31).to_be_bytes()], opts);
            same("TimeType", &[&77_i64.to_be_bytes()], opts);
            same("UUIDType", &[&[0xab; 16], &[]], opts);
            same("TimeUUIDType", &[&[0x1c; 16]], opts);
            same("IntegerType", &[&[0xff, 0x00], &[0x7f; 20], &[]], opts);
            let d = |scale: i32, u: &[u8]| [&scale.to_be_bytes()[..], u].concat();
            same(
                "DecimalType",
                &[&d(2, &[0x02, 0x21]), &d(-3, &[1]), &d(5, &[0xff]), &[]],
                opts,
            );
            same("InetAddressType", &[&[127, 0, 0, 1], &[0; 16], &[]], opts);
            same("DurationType", &[&[2, 4, 6], &[]], opts);
        }
    }

    #[test]
    fn nested_values_equal_the_value_path() {
        let opts = MapOptions::default();
        let one: &[u8] = &[0, 0, 0, 1];
        let list = elements(&[Some(one), None, Some(&[])]);
        same(
            "FrozenType(ListType(Int32Type))",
            &[&list, &elements(&[])],
            opts,
        );
        same(
            "FrozenType(SetType(UTF8Type))",
            &[&elements(&[Some(b"a"), Some(b"")])],
            opts,
        );
        let map = elements(&[Some(b"k"), Some(one), Some(b""), None]);
        same("FrozenType(MapType(UTF8Type,Int32Type))", &[&map], opts);
        // A null key is an error on both paths.
        let null_key = elements(&[Some(&[]), Some(one)]);
        same(
            "FrozenType(MapType(Int32Type,Int32Type))",
            &[&null_key],
            opts,
        );
        // A tuple with its trailing field absent, and a nested list of UUIDs.
        let tuple = [&1_i32.to_be_bytes()[..], one].concat();
        same("TupleType(Int32Type,UTF8Type)", &[&tuple], opts);
        let inner = elements(&[Some(&[7; 16])]);
        let outer = elements(&[Some(&inner)]);
        same(
            "FrozenType(ListType(FrozenType(ListType(UUIDType))))",
            &[&outer],
            opts,
        );
    }

    #[test]
    fn bad_values_fail_like_the_value_path() {
        let opts = MapOptions::default();
        same("Int32Type", &[&[0, 0, 1]], opts);
        same("UTF8Type", &[&[0xff, 0xfe]], opts);
        same("UUIDType", &[&[1; 15]], opts);
        same("InetAddressType", &[&[1; 5]], opts);
        same("DecimalType", &[&[0, 0, 0, 1]], opts);
        same("DecimalType", &[&[0, 0]], opts);
        let mut list = elements(&[Some(&[0, 0, 0, 1])]);
        same(
            "FrozenType(ListType(Int32Type))",
            &[&list[..list.len() - 1]],
            opts,
        );
        list.push(0);
        same("FrozenType(ListType(Int32Type))", &[&list], opts);
        same(
            "FrozenType(ListType(Int32Type))",
            &[&[0xff, 0xff, 0xff, 0xfe]],
            opts,
        );
        same(
            "FrozenType(ListType(Int32Type))",
            &[&elements(&[Some(&[1, 2])])],
            opts,
        );
        same("TupleType(Int32Type,Int32Type)", &[&[0, 0, 0, 4, 1]], opts);
    }
}
