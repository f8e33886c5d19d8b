//! CQL values: turns the bytes of one cell (or the cells of one non-frozen collection) into a
//! typed [`Value`] that borrows text and byte strings from the input.
//!
//! Mirrors Cassandra's `serializers/*` (`CollectionSerializer`, `DecimalSerializer`,
//! `DurationSerializer`, `SimpleDateSerializer`...), `db/marshal/*` (`TupleType.split`,
//! `UserType.cellPathForField`, `VectorType`) and `db/context/CounterContext` (FORMAT-MAP §8).
//! Exact formatting of `varint` and `decimal` (no floats, any size) is here too, as
//! [`write_varint`] and [`write_decimal`].
//!
//! Empty byte strings are valid values of most types in Cassandra; they decode as
//! [`Value::Null`], except for `text`, `ascii` and `blob`, where they are the empty string.
//! Errors carry [`Component::Data`] and an offset relative to the start of the value.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::cursor::Cursor;
use crate::error::{Component, Error, Result};
use crate::types::CqlType;

/// A decoded CQL value. Text and byte strings borrow from the input.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value<'a> {
    /// No value: an empty value of a non-string type, a null element/field, an empty
    /// non-frozen collection.
    Null,
    /// `ascii`.
    Ascii(&'a str),
    /// `text` / `varchar`.
    Text(&'a str),
    /// `blob`.
    Blob(&'a [u8]),
    /// `boolean`.
    Boolean(bool),
    /// `tinyint`.
    TinyInt(i8),
    /// `smallint`.
    SmallInt(i16),
    /// `int`.
    Int(i32),
    /// `bigint`.
    BigInt(i64),
    /// `varint`: minimal two's-complement big-endian bytes (format with [`write_varint`]).
    Varint(&'a [u8]),
    /// `float`.
    Float(f32),
    /// `double`.
    Double(f64),
    /// `decimal`: `unscaled × 10^-scale` (format with [`write_decimal`]).
    Decimal {
        /// The scale (digits after the point; negative means trailing zeros).
        scale: i32,
        /// The unscaled value as a varint.
        unscaled: &'a [u8],
    },
    /// `uuid`.
    Uuid([u8; 16]),
    /// `timeuuid`.
    TimeUuid([u8; 16]),
    /// `timestamp`: milliseconds since the epoch.
    Timestamp(i64),
    /// `date`: the raw unsigned day count, where 2^31 is 1970-01-01.
    Date(u32),
    /// `time`: nanoseconds since midnight.
    Time(i64),
    /// `inet`.
    Inet(IpAddr),
    /// `duration`.
    Duration {
        /// Months.
        months: i32,
        /// Days.
        days: i32,
        /// Nanoseconds.
        nanos: i64,
    },
    /// `counter`: the total of the counter context.
    Counter(i64),
    /// `list<T>`.
    List(Vec<Value<'a>>),
    /// `set<T>`.
    Set(Vec<Value<'a>>),
    /// `map<K, V>`, in stored (key) order.
    Map(Vec<(Value<'a>, Value<'a>)>),
    /// `tuple<...>` (absent trailing components are `Null`); also composite keys.
    Tuple(Vec<Value<'a>>),
    /// A user-defined type: field names and values in declaration order.
    Udt(Vec<(String, Value<'a>)>),
    /// `vector<T, n>`.
    Vector(Vec<Value<'a>>),
    /// A value of a custom type, kept as bytes.
    Custom(&'a [u8]),
}

fn data_err(offset: u64, message: impl Into<String>) -> Error {
    Error::invalid(Component::Data, offset, message)
}

/// Decodes one whole cell value of type `ty` (frozen collections, tuples, UDTs included).
pub fn decode_value<'a>(ty: &CqlType, bytes: &'a [u8]) -> Result<Value<'a>> {
    decode_at(ty, bytes, 0)
}

fn fixed<const N: usize>(bytes: &[u8], base: u64, what: &str) -> Result<[u8; N]> {
    <[u8; N]>::try_from(bytes).map_err(|_| {
        data_err(
            base,
            format!("{what} value must be {N} bytes, got {}", bytes.len()),
        )
    })
}

fn decode_at<'a>(ty: &CqlType, bytes: &'a [u8], base: u64) -> Result<Value<'a>> {
    let text = |ascii: bool| -> Result<Value<'a>> {
        let s = std::str::from_utf8(bytes).map_err(|e| {
            data_err(
                base + e.valid_up_to() as u64,
                if ascii {
                    "ascii value is not valid"
                } else {
                    "text value is not valid UTF-8"
                },
            )
        })?;
        Ok(if ascii {
            Value::Ascii(s)
        } else {
            Value::Text(s)
        })
    };
    match ty {
        CqlType::Ascii => return text(true),
        CqlType::Text => return text(false),
        CqlType::Blob => return Ok(Value::Blob(bytes)),
        CqlType::Custom(_) => return Ok(Value::Custom(bytes)),
        CqlType::Reversed(inner) => return decode_at(inner, bytes, base),
        _ => {}
    }
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    Ok(match ty {
        CqlType::Boolean => Value::Boolean(fixed::<1>(bytes, base, "boolean")? != [0]),
        CqlType::TinyInt => Value::TinyInt(i8::from_be_bytes(fixed(bytes, base, "tinyint")?)),
        CqlType::SmallInt => Value::SmallInt(i16::from_be_bytes(fixed(bytes, base, "smallint")?)),
        CqlType::Int => Value::Int(i32::from_be_bytes(fixed(bytes, base, "int")?)),
        CqlType::BigInt => Value::BigInt(i64::from_be_bytes(fixed(bytes, base, "bigint")?)),
        CqlType::Varint => Value::Varint(bytes),
        CqlType::Float => Value::Float(f32::from_be_bytes(fixed(bytes, base, "float")?)),
        CqlType::Double => Value::Double(f64::from_be_bytes(fixed(bytes, base, "double")?)),
        CqlType::Decimal => {
            let mut c = Cursor::with_base(bytes, Component::Data, base);
            let scale = c.read_i32("decimal scale")?;
            let unscaled = c.rest();
            if unscaled.is_empty() {
                return Err(data_err(base + 4, "decimal without an unscaled value"));
            }
            Value::Decimal { scale, unscaled }
        }
        CqlType::Uuid => Value::Uuid(fixed(bytes, base, "uuid")?),
        CqlType::TimeUuid => Value::TimeUuid(fixed(bytes, base, "timeuuid")?),
        CqlType::Timestamp => {
            Value::Timestamp(i64::from_be_bytes(fixed(bytes, base, "timestamp")?))
        }
        CqlType::Date => Value::Date(u32::from_be_bytes(fixed(bytes, base, "date")?)),
        CqlType::Time => Value::Time(i64::from_be_bytes(fixed(bytes, base, "time")?)),
        CqlType::Inet => match bytes.len() {
            4 => Value::Inet(IpAddr::V4(Ipv4Addr::from(fixed::<4>(bytes, base, "inet")?))),
            16 => Value::Inet(IpAddr::V6(Ipv6Addr::from(fixed::<16>(
                bytes, base, "inet",
            )?))),
            n => {
                return Err(data_err(
                    base,
                    format!("inet value must be 4 or 16 bytes, got {n}"),
                ))
            }
        },
        CqlType::Duration => {
            let mut c = Cursor::with_base(bytes, Component::Data, base);
            let at = c.offset();
            let months = i32::try_from(c.read_svint("duration months")?)
                .map_err(|_| data_err(at, "duration months out of range"))?;
            let at = c.offset();
            let days = i32::try_from(c.read_svint("duration days")?)
                .map_err(|_| data_err(at, "duration days out of range"))?;
            let nanos = c.read_svint("duration nanoseconds")?;
            c.expect_end("duration")?;
            Value::Duration {
                months,
                days,
                nanos,
            }
        }
        CqlType::Counter => Value::Counter(CounterContext::parse_at(bytes, base)?.total()),
        CqlType::Empty => {
            return Err(data_err(
                base,
                "a value of the empty type must have no bytes",
            ));
        }
        CqlType::List { element, .. } => Value::List(collection(element, bytes, base)?),
        CqlType::Set { element, .. } => Value::Set(collection(element, bytes, base)?),
        CqlType::Map { key, value, .. } => {
            let mut c = Cursor::with_base(bytes, Component::Data, base);
            let n = c.read_len_i32("map size")?;
            let mut out = Vec::with_capacity(n.min(c.remaining() / 8));
            for _ in 0..n {
                let k = element(key, &mut c)?;
                let v = element(value, &mut c)?;
                out.push((k, v));
            }
            c.expect_end("map")?;
            Value::Map(out)
        }
        CqlType::Tuple(types) => Value::Tuple(tuple_fields(types.iter(), bytes, base)?),
        CqlType::Udt(def) => {
            let values = tuple_fields(def.fields.iter().map(|(_, t)| t), bytes, base)?;
            Value::Udt(
                def.fields
                    .iter()
                    .map(|(n, _)| n.clone())
                    .zip(values)
                    .collect(),
            )
        }
        CqlType::Vector { element, dimension } => {
            let dim = *dimension as usize;
            let mut c = Cursor::with_base(bytes, Component::Data, base);
            let mut out = Vec::with_capacity(dim.min(bytes.len()));
            match element.fixed_length() {
                Some(w) => {
                    if Some(bytes.len()) != w.checked_mul(dim) {
                        return Err(data_err(
                            base,
                            format!(
                                "vector of {dim} x {w}-byte elements must be {} bytes, got {}",
                                w.saturating_mul(dim),
                                bytes.len()
                            ),
                        ));
                    }
                    for _ in 0..dim {
                        let at = c.offset();
                        let b = c.read_bytes(w, "vector element")?;
                        out.push(decode_at(element, b, at)?);
                    }
                }
                None => {
                    for _ in 0..dim {
                        let len = c.read_uvint_len("vector element length")?;
                        let at = c.offset();
                        let b = c.read_bytes(len, "vector element")?;
                        out.push(decode_at(element, b, at)?);
                    }
                    c.expect_end("vector")?;
                }
            }
            Value::Vector(out)
        }
        CqlType::Composite(types) => {
            let mut c = Cursor::with_base(bytes, Component::Data, base);
            let mut out = Vec::with_capacity(types.len());
            for t in types {
                if c.is_empty() {
                    out.push(Value::Null);
                    continue;
                }
                let len = c.read_u16("composite component length")?;
                let at = c.offset();
                let b = c.read_bytes(usize::from(len), "composite component")?;
                out.push(decode_at(t, b, at)?);
                c.read_u8("composite end-of-component byte")?;
            }
            c.expect_end("composite")?;
            Value::Tuple(out)
        }
        // Handled above; listed for exhaustiveness.
        CqlType::Ascii
        | CqlType::Text
        | CqlType::Blob
        | CqlType::Custom(_)
        | CqlType::Reversed(_) => Value::Null,
    })
}

/// One int32-length-prefixed element of a frozen collection (−1 = null).
fn element<'a>(ty: &CqlType, c: &mut Cursor<'a>) -> Result<Value<'a>> {
    let at = c.offset();
    let len = c.read_i32("element length")?;
    if len < 0 {
        if len == -1 {
            return Ok(Value::Null);
        }
        return Err(data_err(at, format!("negative element length {len}")));
    }
    let start = c.offset();
    let b = c.read_bytes(len as usize, "element")?;
    decode_at(ty, b, start)
}

fn collection<'a>(ty: &CqlType, bytes: &'a [u8], base: u64) -> Result<Vec<Value<'a>>> {
    let mut c = Cursor::with_base(bytes, Component::Data, base);
    let n = c.read_len_i32("collection size")?;
    let mut out = Vec::with_capacity(n.min(c.remaining() / 4));
    for _ in 0..n {
        out.push(element(ty, &mut c)?);
    }
    c.expect_end("collection")?;
    Ok(out)
}

fn tuple_fields<'a, 't>(
    types: impl ExactSizeIterator<Item = &'t CqlType>,
    bytes: &'a [u8],
    base: u64,
) -> Result<Vec<Value<'a>>> {
    let mut c = Cursor::with_base(bytes, Component::Data, base);
    let mut out = Vec::with_capacity(types.len());
    for t in types {
        if c.is_empty() {
            out.push(Value::Null); // trailing fields may be absent
        } else {
            out.push(element(t, &mut c)?);
        }
    }
    c.expect_end("tuple or user type")?;
    Ok(out)
}

/// Assembles the cells of one non-frozen collection or UDT column, given as
/// `(cell path, cell value)` pairs in storage order (for lists, the element order).
///
/// List paths are the elements' timeuuids; set paths are the elements (values empty); map
/// paths are the keys; UDT paths are 2-byte big-endian field indexes. No cells (or a UDT with
/// no fields) give [`Value::Null`], as an empty collection is null in CQL.
pub fn assemble_multi_cell<'a>(
    ty: &CqlType,
    cells: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
) -> Result<Value<'a>> {
    let cells = cells.into_iter();
    let out = match ty.unreversed() {
        CqlType::List { element, .. } => {
            let mut out = Vec::with_capacity(cells.size_hint().0);
            for (path, value) in cells {
                if path.len() != 16 {
                    return Err(data_err(
                        0,
                        format!(
                            "list cell path must be a 16-byte timeuuid, got {} bytes",
                            path.len()
                        ),
                    ));
                }
                out.push(decode_value(element, value)?);
            }
            (!out.is_empty()).then_some(Value::List(out))
        }
        CqlType::Set { element, .. } => {
            let mut out = Vec::with_capacity(cells.size_hint().0);
            for (path, _) in cells {
                out.push(decode_value(element, path)?);
            }
            (!out.is_empty()).then_some(Value::Set(out))
        }
        CqlType::Map { key, value, .. } => {
            let mut out = Vec::with_capacity(cells.size_hint().0);
            for (path, v) in cells {
                out.push((decode_value(key, path)?, decode_value(value, v)?));
            }
            (!out.is_empty()).then_some(Value::Map(out))
        }
        CqlType::Udt(def) => {
            let mut values: Vec<Value<'a>> = vec![Value::Null; def.fields.len()];
            let mut any = false;
            for (path, v) in cells {
                let idx = <[u8; 2]>::try_from(path).map_err(|_| {
                    data_err(
                        0,
                        format!(
                            "UDT cell path must be a 2-byte field index, got {} bytes",
                            path.len()
                        ),
                    )
                })?;
                let idx = usize::from(u16::from_be_bytes(idx));
                let (slot, (_, fty)) =
                    values
                        .get_mut(idx)
                        .zip(def.fields.get(idx))
                        .ok_or_else(|| {
                            data_err(
                                0,
                                format!(
                                    "UDT field index {idx} beyond the {} fields of {}",
                                    def.fields.len(),
                                    def.name
                                ),
                            )
                        })?;
                *slot = decode_value(fty, v)?;
                any = true;
            }
            any.then(|| {
                Value::Udt(
                    def.fields
                        .iter()
                        .map(|(n, _)| n.clone())
                        .zip(values)
                        .collect(),
                )
            })
        }
        other => {
            return Err(data_err(
                0,
                format!("{other} is not a multi-cell (non-frozen collection or UDT) type"),
            ));
        }
    };
    Ok(out.unwrap_or(Value::Null))
}

// ---------------------------------------------------------------------------------------------
// Counters
// ---------------------------------------------------------------------------------------------

/// One shard from two versions of the same counter id (`CounterContext.merge`).
fn merge_shards(x: &CounterShard, y: &CounterShard) -> CounterShard {
    use ShardKind::{Global, Local, Remote};
    let newer = |x: &CounterShard, y: &CounterShard| {
        if (x.clock, x.count) >= (y.clock, y.count) {
            *x
        } else {
            *y
        }
    };
    match (x.kind, y.kind) {
        (Global, Global) | (Remote, Remote) => newer(x, y),
        (Global, _) => *x,
        (_, Global) => *y,
        (Local, Local) => CounterShard {
            kind: Local,
            counter_id: x.counter_id,
            clock: x.clock.wrapping_add(y.clock),
            count: x.count.wrapping_add(y.count),
        },
        (Local, Remote) => *x,
        (Remote, Local) => *y,
    }
}

/// The kind of a counter shard (`CounterContext`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShardKind {
    /// A global shard (header index `i + Short.MIN_VALUE`): the current kind.
    Global,
    /// A legacy local shard (non-negative header index).
    Local,
    /// A shard not listed in the header.
    Remote,
}

/// One shard of a counter context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CounterShard {
    /// Global, local or remote.
    pub kind: ShardKind,
    /// The counter id (a node's 16-byte id).
    pub counter_id: [u8; 16],
    /// The logical clock.
    pub clock: i64,
    /// The count.
    pub count: i64,
}

/// A counter cell's value (mirrors `db/context/CounterContext`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CounterContext {
    /// Shards in stored order.
    pub shards: Vec<CounterShard>,
}

impl CounterContext {
    /// Parses a counter context: an int16 header count, that many int16 indices, then 32-byte
    /// shards (16-byte id, int64 clock, int64 count).
    pub fn parse(bytes: &[u8]) -> Result<CounterContext> {
        Self::parse_at(bytes, 0)
    }

    fn parse_at(bytes: &[u8], base: u64) -> Result<CounterContext> {
        let mut c = Cursor::with_base(bytes, Component::Data, base);
        // A negative count means "clear the legacy local shards": its magnitude is the count.
        let header = c.read_i16("counter header count")?;
        let n_header = usize::from(header.unsigned_abs());
        let mut header_idx = Vec::with_capacity(n_header.min(c.remaining() / 2));
        for _ in 0..n_header {
            header_idx.push(c.read_i16("counter header index")?);
        }
        if !c.remaining().is_multiple_of(32) {
            return Err(c.invalid(format!(
                "counter shards take {} bytes, not a multiple of 32",
                c.remaining()
            )));
        }
        let n = c.remaining() / 32;
        let mut shards = Vec::with_capacity(n);
        for i in 0..n {
            let counter_id = c.read_array::<16>("counter id")?;
            let clock = c.read_i64("counter clock")?;
            let count = c.read_i64("counter count")?;
            let kind = header_idx
                .iter()
                .find_map(|&h| {
                    if h < 0 && usize::from(h.wrapping_sub(i16::MIN) as u16) == i {
                        Some(ShardKind::Global)
                    } else if h >= 0 && h as usize == i {
                        Some(ShardKind::Local)
                    } else {
                        None
                    }
                })
                .unwrap_or(ShardKind::Remote);
            shards.push(CounterShard {
                kind,
                counter_id,
                clock,
                count,
            });
        }
        for &h in &header_idx {
            let i = if h < 0 {
                usize::from(h.wrapping_sub(i16::MIN) as u16)
            } else {
                h as usize
            };
            if i >= n {
                return Err(data_err(
                    base,
                    format!("counter header names shard {i} of {n}"),
                ));
            }
        }
        Ok(CounterContext { shards })
    }

    /// The counter's value: the sum of all counts (wrapping like Java's `long`).
    pub fn total(&self) -> i64 {
        self.shards
            .iter()
            .fold(0i64, |acc, s| acc.wrapping_add(s.count))
    }

    /// Merges two versions of a counter shard by shard (`CounterContext.merge`): for the same
    /// counter id, global beats local and remote, local beats remote; two globals or two
    /// remotes keep the higher clock (then the higher count, as Cassandra does for the invalid
    /// equal-clock case); two legacy locals are summed. Shards are kept ordered by counter id.
    pub fn merge(&self, other: &CounterContext) -> CounterContext {
        let mut a: Vec<&CounterShard> = self.shards.iter().collect();
        let mut b: Vec<&CounterShard> = other.shards.iter().collect();
        a.sort_by_key(|x| x.counter_id);
        b.sort_by_key(|x| x.counter_id);
        let (mut i, mut j) = (0, 0);
        let mut shards = Vec::with_capacity(a.len().max(b.len()));
        loop {
            match (a.get(i), b.get(j)) {
                (None, None) => break,
                (Some(x), None) => {
                    shards.push(**x);
                    i += 1;
                }
                (None, Some(y)) => {
                    shards.push(**y);
                    j += 1;
                }
                (Some(x), Some(y)) => match x.counter_id.cmp(&y.counter_id) {
                    std::cmp::Ordering::Less => {
                        shards.push(**x);
                        i += 1;
                    }
                    std::cmp::Ordering::Greater => {
                        shards.push(**y);
                        j += 1;
                    }
                    std::cmp::Ordering::Equal => {
                        shards.push(merge_shards(x, y));
                        i += 1;
                        j += 1;
                    }
                },
            }
        }
        CounterContext { shards }
    }

    /// Serializes the context (header of global and local shard indices, then the shards).
    pub fn write(&self, out: &mut Vec<u8>) {
        let listed: Vec<i16> = self
            .shards
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s.kind {
                ShardKind::Global => Some(i16::MIN.wrapping_add(i as i16)),
                ShardKind::Local => Some(i as i16),
                ShardKind::Remote => None,
            })
            .collect();
        out.extend_from_slice(&(listed.len() as i16).to_be_bytes());
        for h in listed {
            out.extend_from_slice(&h.to_be_bytes());
        }
        for s in &self.shards {
            out.extend_from_slice(&s.counter_id);
            out.extend_from_slice(&s.clock.to_be_bytes());
            out.extend_from_slice(&s.count.to_be_bytes());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Exact number formatting
// ---------------------------------------------------------------------------------------------

/// Appends the decimal digits of the magnitude of a two's-complement big-endian integer, and
/// returns whether it is negative. Empty input is zero.
fn write_magnitude(out: &mut String, bytes: &[u8]) -> bool {
    let negative = bytes.first().is_some_and(|b| b & 0x80 != 0);
    if bytes.len() <= 16 {
        let mut v: i128 = if negative { -1 } else { 0 };
        for &b in bytes {
            v = (v << 8) | i128::from(b);
        }
        let _ = write!(out, "{}", v.unsigned_abs());
        return negative;
    }
    // Magnitude as little-endian u32 limbs.
    let mut mag: Vec<u8> = bytes.to_vec();
    if negative {
        // two's complement negate: invert and add one
        for b in mag.iter_mut() {
            *b = !*b;
        }
        for b in mag.iter_mut().rev() {
            let (nb, carry) = b.overflowing_add(1);
            *b = nb;
            if !carry {
                break;
            }
        }
    }
    let mut limbs: Vec<u32> = mag
        .rchunks(4)
        .map(|ch| ch.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b)))
        .collect();
    // Repeated division by 10^9, collecting base-10^9 digits (least significant first).
    const BASE: u64 = 1_000_000_000;
    let mut parts: Vec<u32> = Vec::new();
    while limbs.last() == Some(&0) {
        limbs.pop();
    }
    while !limbs.is_empty() {
        let mut rem: u64 = 0;
        for limb in limbs.iter_mut().rev() {
            let cur = (rem << 32) | u64::from(*limb);
            *limb = (cur / BASE) as u32;
            rem = cur % BASE;
        }
        parts.push(rem as u32);
        while limbs.last() == Some(&0) {
            limbs.pop();
        }
    }
    let mut iter = parts.iter().rev();
    match iter.next() {
        None => out.push('0'),
        Some(first) => {
            let _ = write!(out, "{first}");
            for p in iter {
                let _ = write!(out, "{p:09}");
            }
        }
    }
    negative
}

/// Appends a `varint` (two's-complement big-endian bytes, any length) in decimal.
pub fn write_varint(out: &mut String, bytes: &[u8]) {
    let start = out.len();
    if write_magnitude(out, bytes) {
        out.insert(start, '-');
    }
}

/// Appends a `decimal` exactly as Java's `BigDecimal.toString` (what Cassandra prints): plain
/// notation when the scale is non-negative and the adjusted exponent is at least −6, else
/// scientific notation such as `1.23E+10` or `-5E-7`.
pub fn write_decimal(out: &mut String, scale: i32, unscaled: &[u8]) {
    let start = out.len();
    let negative = write_magnitude(out, unscaled);
    let ndigits = out.len() - start;
    let adjusted = -i64::from(scale) + (ndigits as i64 - 1);
    if scale >= 0 && adjusted >= -6 {
        let scale = scale as usize;
        if scale > 0 {
            if ndigits > scale {
                out.insert(start + ndigits - scale, '.');
            } else {
                let zeros = scale - ndigits;
                let mut prefix = String::with_capacity(zeros + 2);
                prefix.push_str("0.");
                prefix.extend(std::iter::repeat_n('0', zeros));
                out.insert_str(start, &prefix);
            }
        }
    } else {
        if ndigits > 1 {
            out.insert(start + 1, '.');
        }
        out.push('E');
        if adjusted >= 0 {
            out.push('+');
        }
        let _ = write!(out, "{adjusted}");
    }
    if negative {
        out.insert(start, '-');
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
    use crate::cursor::encode_svint;
    use crate::types::UdtDef;

    fn varint(b: &[u8]) -> String {
        let mut s = String::new();
        write_varint(&mut s, b);
        s
    }

    fn decimal(scale: i32, b: &[u8]) -> String {
        let mut s = String::new();
        write_decimal(&mut s, scale, b);
        s
    }

    /// Minimal two's-complement bytes of an i128 (like BigInteger.toByteArray).
    fn be(v: i128) -> Vec<u8> {
        let b = v.to_be_bytes();
        let mut i = 0;
        while i < 15
            && ((b[i] == 0 && b[i + 1] & 0x80 == 0) || (b[i] == 0xff && b[i + 1] & 0x80 != 0))
        {
            i += 1;
        }
        b[i..].to_vec()
    }

    #[test]
    fn scalars() {
        assert_eq!(
            decode_value(&CqlType::Int, &[0x80, 0, 0, 0]).unwrap(),
            Value::Int(i32::MIN)
        );
        assert_eq!(
            decode_value(&CqlType::BigInt, &i64::MAX.to_be_bytes()).unwrap(),
            Value::BigInt(i64::MAX)
        );
        assert_eq!(
            decode_value(&CqlType::TinyInt, &[0x80]).unwrap(),
            Value::TinyInt(-128)
        );
        assert_eq!(
            decode_value(&CqlType::SmallInt, &[0x7f, 0xff]).unwrap(),
            Value::SmallInt(32767)
        );
        assert_eq!(
            decode_value(&CqlType::Boolean, &[2]).unwrap(),
            Value::Boolean(true)
        );
        assert_eq!(
            decode_value(&CqlType::Text, "привет".as_bytes()).unwrap(),
            Value::Text("привет")
        );
        assert_eq!(decode_value(&CqlType::Text, b"").unwrap(), Value::Text(""));
        assert_eq!(decode_value(&CqlType::Blob, b"").unwrap(), Value::Blob(b""));
        assert_eq!(
            decode_value(&CqlType::Inet, &[192, 168, 0, 110]).unwrap(),
            Value::Inet("192.168.0.110".parse().unwrap())
        );
        assert_eq!(
            decode_value(&CqlType::Reversed(Box::new(CqlType::Int)), &[0, 0, 0, 7]).unwrap(),
            Value::Int(7)
        );
        assert_eq!(
            decode_value(&CqlType::Date, &[0x80, 0, 0, 0]).unwrap(),
            Value::Date(1 << 31)
        );
        let fb = 7.62f32.to_be_bytes();
        assert_eq!(
            decode_value(&CqlType::Float, &fb).unwrap(),
            Value::Float(7.62)
        );
    }

    #[test]
    fn empty_values_are_null() {
        for t in [
            CqlType::Int,
            CqlType::BigInt,
            CqlType::Boolean,
            CqlType::Varint,
            CqlType::Decimal,
            CqlType::Uuid,
            CqlType::Timestamp,
            CqlType::Date,
            CqlType::Duration,
            CqlType::Counter,
            CqlType::Empty,
            CqlType::Tuple(vec![CqlType::Int]),
            CqlType::List {
                element: Box::new(CqlType::Int),
                frozen: true,
            },
        ] {
            assert_eq!(decode_value(&t, &[]).unwrap(), Value::Null, "{t}");
        }
    }

    #[test]
    fn malformed_is_an_error() {
        let bad: Vec<(CqlType, Vec<u8>)> = vec![
            (CqlType::Int, vec![1, 2, 3]),
            (CqlType::BigInt, vec![1; 9]),
            (CqlType::Uuid, vec![0; 15]),
            (CqlType::Inet, vec![1, 2, 3, 4, 5]),
            (CqlType::Text, vec![0xff, 0xfe]),
            (CqlType::Decimal, vec![0, 0, 0]),
            (CqlType::Decimal, vec![0, 0, 0, 1]),
            (CqlType::Duration, vec![0x02]),
            (CqlType::Duration, vec![0, 0, 0, 0]),
            (CqlType::Counter, vec![0, 1, 0x80, 0]),
            (CqlType::Counter, vec![0, 1, 0, 5, 0, 0]),
            (CqlType::Empty, vec![1]),
            (
                CqlType::List {
                    element: Box::new(CqlType::Int),
                    frozen: true,
                },
                vec![0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 1],
            ),
            (
                CqlType::List {
                    element: Box::new(CqlType::Int),
                    frozen: true,
                },
                vec![0xff, 0xff, 0xff, 0xff],
            ),
            (
                CqlType::Set {
                    element: Box::new(CqlType::Int),
                    frozen: true,
                },
                vec![0x7f, 0xff, 0xff, 0xff],
            ),
            (
                CqlType::Map {
                    key: Box::new(CqlType::Int),
                    value: Box::new(CqlType::Int),
                    frozen: true,
                },
                vec![0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe],
            ),
            (
                CqlType::Tuple(vec![CqlType::Int]),
                vec![0, 0, 0, 4, 0, 0, 0, 1, 9],
            ),
            (
                CqlType::Vector {
                    element: Box::new(CqlType::Float),
                    dimension: 3,
                },
                vec![0; 11],
            ),
            (
                CqlType::Vector {
                    element: Box::new(CqlType::Text),
                    dimension: 2,
                },
                vec![1, b'a', 5, b'b'],
            ),
        ];
        for (t, b) in bad {
            let e = decode_value(&t, &b).unwrap_err();
            assert_eq!(e.component(), Some(Component::Data), "{t} {b:?}");
        }
        // Offsets are relative to the value start, nested ones included.
        let t = CqlType::List {
            element: Box::new(CqlType::Int),
            frozen: true,
        };
        match decode_value(&t, &[0, 0, 0, 1, 0, 0, 0, 3, 1, 2, 3]).unwrap_err() {
            Error::Invalid { offset, .. } => assert_eq!(offset, 8),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn frozen_collections_with_nulls() {
        let t = CqlType::List {
            element: Box::new(CqlType::Text),
            frozen: true,
        };
        let b = [
            0, 0, 0, 3, 0, 0, 0, 1, b'a', 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0,
        ];
        assert_eq!(
            decode_value(&t, &b).unwrap(),
            Value::List(vec![Value::Text("a"), Value::Null, Value::Text("")])
        );
        let t = CqlType::Map {
            key: Box::new(CqlType::Int),
            value: Box::new(CqlType::Text),
            frozen: true,
        };
        let b = [0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 9, 0, 0, 0, 2, b'h', b'i'];
        assert_eq!(
            decode_value(&t, &b).unwrap(),
            Value::Map(vec![(Value::Int(9), Value::Text("hi"))])
        );
    }

    #[test]
    fn tuples_udts_vectors_composites() {
        let t = CqlType::Tuple(vec![CqlType::Int, CqlType::Text, CqlType::Boolean]);
        let b = [0, 0, 0, 4, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(
            decode_value(&t, &b).unwrap(),
            Value::Tuple(vec![Value::Int(1), Value::Null, Value::Null])
        );
        let udt = CqlType::Udt(Box::new(UdtDef {
            keyspace: "ks".into(),
            name: "ut".into(),
            fields: vec![("a".into(), CqlType::Int), ("b".into(), CqlType::Text)],
            frozen: true,
        }));
        let b = [0, 0, 0, 4, 0, 0, 0, 1];
        assert_eq!(
            decode_value(&udt, &b).unwrap(),
            Value::Udt(vec![("a".into(), Value::Int(1)), ("b".into(), Value::Null)])
        );
        let v = CqlType::Vector {
            element: Box::new(CqlType::Float),
            dimension: 2,
        };
        let mut b = 1.5f32.to_be_bytes().to_vec();
        b.extend_from_slice(&(-2f32).to_be_bytes());
        assert_eq!(
            decode_value(&v, &b).unwrap(),
            Value::Vector(vec![Value::Float(1.5), Value::Float(-2.0)])
        );
        let v = CqlType::Vector {
            element: Box::new(CqlType::Text),
            dimension: 2,
        };
        assert_eq!(
            decode_value(&v, &[1, b'a', 0]).unwrap(),
            Value::Vector(vec![Value::Text("a"), Value::Text("")])
        );
        let c = CqlType::Composite(vec![CqlType::Int, CqlType::Text]);
        let b = [0, 4, 0, 0, 0, 5, 0, 0, 2, b'h', b'i', 0];
        assert_eq!(
            decode_value(&c, &b).unwrap(),
            Value::Tuple(vec![Value::Int(5), Value::Text("hi")])
        );
    }

    #[test]
    fn durations() {
        let mut b = Vec::new();
        encode_svint(-14, &mut b);
        encode_svint(-3, &mut b);
        encode_svint(-1_000, &mut b);
        assert_eq!(
            decode_value(&CqlType::Duration, &b).unwrap(),
            Value::Duration {
                months: -14,
                days: -3,
                nanos: -1000
            }
        );
        let mut b = Vec::new();
        encode_svint(i64::from(i32::MAX) + 1, &mut b);
        encode_svint(0, &mut b);
        encode_svint(0, &mut b);
        assert!(decode_value(&CqlType::Duration, &b).is_err());
    }

    #[test]
    fn counters() {
        // Header: 2 entries: global shard 0 (0 + MIN), local shard 2. Three shards.
        let mut b = vec![0, 2];
        b.extend_from_slice(&i16::MIN.to_be_bytes());
        b.extend_from_slice(&2i16.to_be_bytes());
        for (id, clock, count) in [(1u8, 5i64, 8i64), (2, 1, 3), (3, 9, -99)] {
            b.extend_from_slice(&[id; 16]);
            b.extend_from_slice(&clock.to_be_bytes());
            b.extend_from_slice(&count.to_be_bytes());
        }
        let ctx = CounterContext::parse(&b).unwrap();
        let kinds: Vec<_> = ctx.shards.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [ShardKind::Global, ShardKind::Remote, ShardKind::Local]
        );
        assert_eq!(ctx.total(), -88);
        assert_eq!(ctx.shards[2].clock, 9);
        assert_eq!(
            decode_value(&CqlType::Counter, &b).unwrap(),
            Value::Counter(-88)
        );
        // Header index beyond the shards.
        let mut bad = vec![0, 1, 0, 7];
        bad.extend_from_slice(&[0; 32]);
        assert!(CounterContext::parse(&bad).is_err());
        assert!(CounterContext::parse(&[0]).is_err());
    }

    #[test]
    fn varints_exact() {
        for v in [
            0i128,
            1,
            -1,
            127,
            128,
            -128,
            -129,
            123,
            i64::MIN as i128,
            i128::MAX,
            i128::MIN,
        ] {
            assert_eq!(varint(&be(v)), v.to_string(), "{v}");
        }
        assert_eq!(varint(&[]), "0");
        // 2^128 = 0x01 followed by 16 zero bytes, and its negation.
        let mut b = vec![1u8];
        b.extend_from_slice(&[0; 16]);
        assert_eq!(varint(&b), "340282366920938463463374607431768211456");
        let mut n = vec![0xffu8];
        n.extend_from_slice(&[0; 16]);
        assert_eq!(varint(&n), "-340282366920938463463374607431768211456");
        // 10^40
        let big = [
            0x1d, 0x63, 0x29, 0xf1, 0xc3, 0x5c, 0xa4, 0xbf, 0xab, 0xb9, 0xf5, 0x61, 0x00, 0x00,
            0x00, 0x00, 0x00,
        ];
        assert_eq!(varint(&big), format!("1{}", "0".repeat(40)));
    }

    #[test]
    fn decimals_like_bigdecimal_to_string() {
        assert_eq!(decimal(2, &be(545)), "5.45");
        assert_eq!(decimal(0, &be(-7)), "-7");
        assert_eq!(decimal(3, &be(5)), "0.005");
        assert_eq!(decimal(3, &be(-5)), "-0.005");
        assert_eq!(decimal(6, &be(1)), "0.000001");
        assert_eq!(decimal(7, &be(1)), "1E-7");
        assert_eq!(decimal(8, &be(-123)), "-0.00000123");
        assert_eq!(decimal(10, &be(-123)), "-1.23E-8");
        assert_eq!(decimal(-3, &be(1)), "1E+3");
        assert_eq!(decimal(-2, &be(123)), "1.23E+4");
        assert_eq!(decimal(0, &be(0)), "0");
        assert_eq!(decimal(2, &be(0)), "0.00");
        assert_eq!(decimal(i32::MIN, &be(1)), "1E+2147483648");
        assert_eq!(decimal(i32::MAX, &be(1)), "1E-2147483647");
        let mut huge = vec![0x01u8];
        huge.extend_from_slice(&[0; 16]);
        assert_eq!(
            decimal(30, &huge),
            "340282366.920938463463374607431768211456"
        );
        let d = decode_value(&CqlType::Decimal, &[0, 0, 0, 2, 0x02, 0x21]).unwrap();
        assert_eq!(
            d,
            Value::Decimal {
                scale: 2,
                unscaled: &[0x02, 0x21]
            }
        );
    }

    #[test]
    fn multi_cell() {
        let list = CqlType::List {
            element: Box::new(CqlType::Int),
            frozen: false,
        };
        let p1 = [1u8; 16];
        let p2 = [2u8; 16];
        let cells: Vec<(&[u8], &[u8])> = vec![(&p1, &[0, 0, 0, 2]), (&p2, &[0, 0, 0, 1])];
        assert_eq!(
            assemble_multi_cell(&list, cells).unwrap(),
            Value::List(vec![Value::Int(2), Value::Int(1)])
        );
        assert!(assemble_multi_cell(&list, vec![(&[1u8][..], &[0u8, 0, 0, 1][..])]).is_err());
        assert_eq!(assemble_multi_cell(&list, vec![]).unwrap(), Value::Null);
        let set = CqlType::Set {
            element: Box::new(CqlType::Text),
            frozen: false,
        };
        let cells: Vec<(&[u8], &[u8])> = vec![(b"a", b""), (b"b", b"")];
        assert_eq!(
            assemble_multi_cell(&set, cells).unwrap(),
            Value::Set(vec![Value::Text("a"), Value::Text("b")])
        );
        let map = CqlType::Map {
            key: Box::new(CqlType::Text),
            value: Box::new(CqlType::BigInt),
            frozen: false,
        };
        let one = 1i64.to_be_bytes();
        let cells: Vec<(&[u8], &[u8])> = vec![(b"k", &one)];
        assert_eq!(
            assemble_multi_cell(&map, cells).unwrap(),
            Value::Map(vec![(Value::Text("k"), Value::BigInt(1))])
        );
        let udt = CqlType::Udt(Box::new(UdtDef {
            keyspace: "ks".into(),
            name: "ut".into(),
            fields: vec![
                ("a".into(), CqlType::Int),
                ("b".into(), CqlType::Text),
                ("c".into(), CqlType::Boolean),
            ],
            frozen: false,
        }));
        let cells: Vec<(&[u8], &[u8])> = vec![(&[0, 2], &[1]), (&[0, 0], &[0, 0, 0, 5])];
        assert_eq!(
            assemble_multi_cell(&udt, cells).unwrap(),
            Value::Udt(vec![
                ("a".into(), Value::Int(5)),
                ("b".into(), Value::Null),
                ("c".into(), Value::Boolean(true))
            ])
        );
        assert!(assemble_multi_cell(&udt, vec![(&[0u8, 3][..], &[1u8][..])]).is_err());
        assert!(assemble_multi_cell(&udt, vec![(&[3u8][..], &[1u8][..])]).is_err());
        assert!(assemble_multi_cell(&CqlType::Int, vec![]).is_err());
    }
}
