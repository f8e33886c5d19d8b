//! Cassandra's orderings: of serialized values of every CQL type, of clustering prefixes (rows,
//! range-tombstone bounds and boundaries, the static row) and of partitions. A merge of rows
//! across SSTables must follow exactly the order the writers used, so every rule here mirrors
//! the Java code rather than the "natural" order of the decoded values.
//!
//! Mirrors Cassandra's `db/marshal/*Type.compareCustom` (`AbstractType.compare`),
//! `db/ClusteringComparator.compare(ClusteringPrefix, ClusteringPrefix)` with
//! `db/ClusteringPrefix.Kind` (`comparison`, `comparedToClustering`), and
//! `db/DecoratedKey.compareTo` over the `dht` partitioners' tokens. The rules were read in the
//! 3.x (`ByteBuffer`) and 4.0+/5.0 (`ValueAccessor`) sources; where they differ it is said below.
//!
//! Per type ([`compare_values`]):
//! * empty values (`b""`) sort first for every type (for `Reversed`, last);
//! * `ascii`, `text`, `blob`, `inet`, `date` (`SimpleDateType`, unsigned days centred on 2^31),
//!   `time`, `duration` and custom types: unsigned bytes (`ComparisonType.BYTE_ORDER`); `counter`
//!   (`NOT_COMPARABLE`, never a clustering type) too;
//! * `tinyint`, `smallint`, `int`, `bigint`, `timestamp`: first byte signed, then the bytes
//!   unsigned (`LongType.compareLongs`, which is numeric order for values of the right width);
//! * `varint`: numeric (`IntegerType.compareIntegers`), any lengths, redundant sign bytes ignored;
//! * `decimal`: numeric, scale-insensitive (`BigDecimal.compareTo`: `1.0 == 1.00`), exact;
//! * `float`, `double`: `Float.compare`/`Double.compare`: `-0.0 < 0.0`, every NaN equal to every
//!   other NaN and greater than `+Infinity`;
//! * `boolean`: false (first byte 0) before true (anything else);
//! * `uuid` (`UUIDType`): version nibble, then for version 1 the 60-bit timestamp, otherwise the
//!   most significant 8 bytes unsigned; then the least significant 8 bytes unsigned;
//! * `timeuuid` (`TimeUUIDType`): the timestamp (as a signed long with the version nibble on
//!   top), then the least significant 8 bytes as **signed** bytes;
//! * frozen `list`/`set`: element by element with the element type, then the element count;
//!   `map`: key then value per entry, then the count;
//! * `tuple` and frozen UDTs (`TupleType.compareCustom`): field by field, a null field before
//!   any value; when one value runs out of fields, the other is greater only if one of its
//!   remaining fields has a non-empty value (so trailing nulls do not matter);
//! * `vector`: element by element; `CompositeType`: the static marker first, then component by
//!   component, each followed by its end-of-component byte (signed), then the longer one;
//! * `Reversed(inner)`: the reverse of `inner`; the `EmptyType`: all equal.
//!
//! **Malformed values never panic.** Where Cassandra would throw or assert (a `uuid` that is
//! not 16 bytes, a truncated frozen collection, a decimal without an unscaled part), the two
//! values are ordered by their raw bytes, unsigned. This is deterministic but only a total order
//! among well-formed values.
//!
//! Nothing here allocates, except a `decimal` comparison of two values whose scales differ and
//! whose unscaled parts exceed ~180 bytes (then one scratch buffer).

use std::cmp::Ordering;

use crate::data::{BoundKind, Unfiltered};
use crate::partitioner::{murmur3_token, random_token, Partitioner, Token};
use crate::types::CqlType;

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

/// Orders two serialized values of type `ty` as Cassandra's `AbstractType.compare` does (see
/// the module documentation for each type's rule). Collections are compared as their frozen
/// serialization. Malformed values are ordered by their raw bytes.
pub fn compare_values(ty: &CqlType, a: &[u8], b: &[u8]) -> Ordering {
    match ty {
        CqlType::Reversed(inner) => compare_values(inner, b, a),
        CqlType::Ascii
        | CqlType::Text
        | CqlType::Blob
        | CqlType::Inet
        | CqlType::Date
        | CqlType::Time
        | CqlType::Duration
        | CqlType::Counter
        | CqlType::Custom(_)
        | CqlType::Empty => a.cmp(b),
        _ => match (a.is_empty(), b.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => compare_non_empty(ty, a, b).unwrap_or_else(|| a.cmp(b)),
        },
    }
}

/// Two non-empty values; `None` when one is malformed where the comparison reads it.
fn compare_non_empty(ty: &CqlType, a: &[u8], b: &[u8]) -> Option<Ordering> {
    Some(match ty {
        CqlType::Boolean => (*a.first()? != 0).cmp(&(*b.first()? != 0)),
        CqlType::TinyInt
        | CqlType::SmallInt
        | CqlType::Int
        | CqlType::BigInt
        | CqlType::Timestamp => {
            let (x, y) = (*a.first()? as i8, *b.first()? as i8);
            x.cmp(&y).then_with(|| a.cmp(b))
        }
        CqlType::Varint => compare_varint(a, b),
        CqlType::Decimal => compare_decimal(a, b)?,
        CqlType::Float => java_float_cmp(
            f32::from_be_bytes(a.try_into().ok()?),
            f32::from_be_bytes(b.try_into().ok()?),
        ),
        CqlType::Double => java_double_cmp(
            f64::from_be_bytes(a.try_into().ok()?),
            f64::from_be_bytes(b.try_into().ok()?),
        ),
        CqlType::Uuid => compare_uuid(a.try_into().ok()?, b.try_into().ok()?),
        CqlType::TimeUuid => compare_timeuuid(a.try_into().ok()?, b.try_into().ok()?),
        CqlType::List { element, .. } | CqlType::Set { element, .. } => {
            compare_list(element, a, b)?
        }
        CqlType::Map { key, value, .. } => compare_map(key, value, a, b)?,
        CqlType::Tuple(types) => compare_tuple(types.iter(), a, b)?,
        CqlType::Udt(def) => compare_tuple(def.fields.iter().map(|(_, t)| t), a, b)?,
        CqlType::Vector { element, dimension } => compare_vector(element, *dimension, a, b)?,
        CqlType::Composite(types) => compare_composite(types, a, b)?,
        // Byte-ordered types and `Reversed` are handled by `compare_values`.
        _ => a.cmp(b),
    })
}

/// Compares two possibly-null values (`None` = null sorts first, as in `TupleType` and
/// `ClusteringComparator.compareComponent`).
fn compare_nullable(ty: &CqlType, a: Option<&[u8]>, b: Option<&[u8]>) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => compare_values(ty, x, y),
        (x, y) => x.is_some().cmp(&y.is_some()),
    }
}

// --- small readers over byte slices (no errors, no allocation) ---

fn take<'a>(s: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    let (head, tail) = s.split_at_checked(n)?;
    *s = tail;
    Some(head)
}

fn take_u8(s: &mut &[u8]) -> Option<u8> {
    let (first, tail) = s.split_first()?;
    *s = tail;
    Some(*first)
}

fn take_i32(s: &mut &[u8]) -> Option<i32> {
    let (head, tail) = s.split_first_chunk::<4>()?;
    *s = tail;
    Some(i32::from_be_bytes(*head))
}

/// A frozen-collection or tuple element: an int32 length (negative = null) and the bytes.
fn take_element<'a>(s: &mut &'a [u8]) -> Option<Option<&'a [u8]>> {
    let len = take_i32(s)?;
    if len < 0 {
        return Some(None);
    }
    take(s, len as usize).map(Some)
}

/// Cassandra's unsigned vint (`VIntCoding.readUnsignedVInt`).
fn take_uvint(s: &mut &[u8]) -> Option<u64> {
    let first = take_u8(s)?;
    let extra = first.leading_ones() as usize;
    let mut value = if extra >= 8 {
        0
    } else {
        u64::from(first & (0xffu8 >> extra))
    };
    for &b in take(s, extra)? {
        value = (value << 8) | u64::from(b);
    }
    Some(value)
}

// --- numbers ---

/// Two's-complement big-endian integers of any (non-zero) lengths, numerically.
fn compare_varint(a: &[u8], b: &[u8]) -> Ordering {
    let neg = |v: &[u8]| v.first().is_some_and(|f| f & 0x80 != 0);
    let (na, nb) = (neg(a), neg(b));
    if na != nb {
        return if na {
            Ordering::Less
        } else {
            Ordering::Greater
        };
    }
    // Same sign: sign-extend the shorter one; the excess bytes of the longer one decide unless
    // they are all padding, then the rest compares as unsigned bytes.
    let pad = if na { 0xffu8 } else { 0 };
    if a.len() >= b.len() {
        let (head, tail) = a.split_at(a.len() - b.len());
        match head.iter().find(|x| **x != pad) {
            Some(x) => x.cmp(&pad),
            None => tail.cmp(b),
        }
    } else {
        compare_varint(b, a).reverse()
    }
}

/// `Float.compare`: numeric, then `floatToIntBits` (one canonical NaN) as signed ints, which
/// puts `-0.0` before `0.0` and NaN after everything.
fn java_float_cmp(x: f32, y: f32) -> Ordering {
    match x.partial_cmp(&y) {
        Some(o @ (Ordering::Less | Ordering::Greater)) => o,
        _ => {
            let bits = |f: f32| {
                if f.is_nan() {
                    0x7fc0_0000i32
                } else {
                    f.to_bits() as i32
                }
            };
            bits(x).cmp(&bits(y))
        }
    }
}

/// `Double.compare` (see [`java_float_cmp`]).
fn java_double_cmp(x: f64, y: f64) -> Ordering {
    match x.partial_cmp(&y) {
        Some(o @ (Ordering::Less | Ordering::Greater)) => o,
        _ => {
            let bits = |f: f64| {
                if f.is_nan() {
                    0x7ff8_0000_0000_0000i64
                } else {
                    f.to_bits() as i64
                }
            };
            bits(x).cmp(&bits(y))
        }
    }
}

fn signum(unscaled: &[u8]) -> i8 {
    match unscaled.first() {
        Some(f) if f & 0x80 != 0 => -1,
        _ if unscaled.iter().all(|b| *b == 0) => 0,
        _ => 1,
    }
}

/// `BigDecimal.compareTo` of two `DecimalType` values (int32 scale, then the unscaled varint);
/// `None` if one has no unscaled part.
fn compare_decimal(a: &[u8], b: &[u8]) -> Option<Ordering> {
    let (sa, ua) = split_decimal(a)?;
    let (sb, ub) = split_decimal(b)?;
    if sa == sb {
        return Some(compare_varint(ua, ub));
    }
    let (ga, gb) = (signum(ua), signum(ub));
    if ga != gb || ga == 0 {
        return Some(ga.cmp(&gb));
    }
    // Same non-zero sign: compare magnitudes |ua|·10^-sa and |ub|·10^-sb.
    let d = i64::from(sb) - i64::from(sa);
    let mag = if d > 0 {
        scaled_magnitude_cmp(ua, ub, d.unsigned_abs())
    } else {
        scaled_magnitude_cmp(ub, ua, d.unsigned_abs()).reverse()
    };
    Some(if ga < 0 { mag.reverse() } else { mag })
}

/// A decimal's scale and unscaled part (`None` without an unscaled part).
fn split_decimal(v: &[u8]) -> Option<(i32, &[u8])> {
    let (scale, unscaled) = v.split_first_chunk::<4>()?;
    (!unscaled.is_empty()).then_some((i32::from_be_bytes(*scale), unscaled))
}

const STACK_LIMBS: usize = 24;

/// A zeroed scratch buffer of `n` limbs: on the stack when it fits.
fn scratch<'s>(
    stack: &'s mut [u64; STACK_LIMBS],
    heap: &'s mut Vec<u64>,
    n: usize,
) -> &'s mut [u64] {
    if let Some(s) = stack.get_mut(..n) {
        return s;
    }
    heap.clear();
    heap.resize(n, 0);
    heap.as_mut_slice()
}

/// Loads the magnitude of a two's-complement big-endian integer into little-endian limbs
/// (`out` must be zeroed and hold `len / 8 + 2` limbs); returns the number of limbs used.
fn load_magnitude(bytes: &[u8], out: &mut [u64]) -> usize {
    let neg = bytes.first().is_some_and(|f| f & 0x80 != 0);
    for (i, &byte) in bytes.iter().rev().enumerate() {
        let v = if neg { !byte } else { byte };
        if let Some(limb) = out.get_mut(i / 8) {
            *limb |= u64::from(v) << ((i % 8) * 8);
        }
    }
    if neg {
        for limb in out.iter_mut() {
            let (sum, carry) = limb.overflowing_add(1);
            *limb = sum;
            if !carry {
                break;
            }
        }
    }
    out.iter().rposition(|l| *l != 0).map_or(0, |i| i + 1)
}

fn bit_len(limbs: &[u64], len: usize) -> u64 {
    match len.checked_sub(1).and_then(|top| limbs.get(top)) {
        Some(top) => 64 * (len as u64 - 1) + u64::from(64 - top.leading_zeros()),
        None => 0,
    }
}

fn cmp_limbs(a: &[u64], la: usize, b: &[u64], lb: usize) -> Ordering {
    la.cmp(&lb)
        .then_with(|| a.iter().take(la).rev().cmp(b.iter().take(lb).rev()))
}

/// Multiplies the first `len` limbs by `m` in place; `None` if the buffer is too small.
fn mul_small(limbs: &mut [u64], len: usize, m: u64) -> Option<usize> {
    let mut carry = 0u128;
    for limb in limbs.iter_mut().take(len) {
        let p = u128::from(*limb) * u128::from(m) + carry;
        *limb = p as u64;
        carry = p >> 64;
    }
    if carry == 0 {
        return Some(len);
    }
    *limbs.get_mut(len)? = carry as u64;
    Some(len + 1)
}

/// Compares `|x|·10^d` with `|y|` (both non-zero, `d > 0`).
fn scaled_magnitude_cmp(x: &[u8], y: &[u8], d: u64) -> Ordering {
    let (mut stack_y, mut heap_y) = ([0u64; STACK_LIMBS], Vec::new());
    let ybuf = scratch(&mut stack_y, &mut heap_y, y.len() / 8 + 2);
    let ly = load_magnitude(y, ybuf);
    let by = bit_len(ybuf, ly);
    // Room for x and for any product that the screening below leaves undecided (< by + 8
    // bits).
    let n = (x.len() / 8 + 2).max(by as usize / 64 + 3);
    let (mut stack_x, mut heap_x) = ([0u64; STACK_LIMBS], Vec::new());
    let xbuf = scratch(&mut stack_x, &mut heap_x, n);
    let mut lx = load_magnitude(x, xbuf);
    let bx = bit_len(xbuf, lx);
    // 2^(bx-1) <= x < 2^bx and 2^lo <= 10^d <= 2^hi, with lo/hi bracketing d·log2(10).
    let lo = u128::from(d) * 3_321_928_094 / 1_000_000_000;
    let hi = (u128::from(d) * 3_321_928_095).div_ceil(1_000_000_000);
    let (bx, by) = (u128::from(bx), u128::from(by));
    if bx.saturating_sub(1) + lo >= by {
        return Ordering::Greater; // x·10^d >= 2^by > y
    }
    if bx + hi < by {
        return Ordering::Less; // x·10^d < 2^(bx+hi) <= 2^(by-1) <= y
    }
    // Here d·log2(10) < by, so d is small: multiply exactly.
    let mut rem = d;
    while rem > 0 {
        let step = rem.min(19);
        match mul_small(xbuf, lx, 10u64.pow(step as u32)) {
            Some(l) => lx = l,
            // Cannot happen given the bounds above; a product this large exceeds y.
            None => return Ordering::Greater,
        }
        rem -= step;
    }
    cmp_limbs(xbuf, lx, ybuf, ly)
}

// --- uuids ---

fn halves(v: &[u8; 16]) -> (u64, u64) {
    let (msb, lsb) = v.split_at(8);
    let get = |s: &[u8]| s.try_into().map(u64::from_be_bytes).unwrap_or(0);
    (get(msb), get(lsb))
}

/// `TimeUUIDType.reorderTimestampBytes`: version and time_hi, time_mid, time_low.
fn reorder_timestamp(msb: u64) -> u64 {
    (msb << 48) | ((msb << 16) & 0xFFFF_0000_0000) | (msb >> 32)
}

/// `UUIDType.compareCustom`.
fn compare_uuid(a: &[u8; 16], b: &[u8; 16]) -> Ordering {
    let ((ma, la), (mb, lb)) = (halves(a), halves(b));
    let (va, vb) = ((ma >> 12) & 0xf, (mb >> 12) & 0xf);
    va.cmp(&vb)
        .then_with(|| {
            if va == 1 {
                (reorder_timestamp(ma) as i64).cmp(&(reorder_timestamp(mb) as i64))
            } else {
                ma.cmp(&mb)
            }
        })
        .then_with(|| la.cmp(&lb))
}

/// `TimeUUIDType.compareCustom`: timestamp, then the low 8 bytes as signed bytes
/// (`signedBytesToNativeLong`).
fn compare_timeuuid(a: &[u8; 16], b: &[u8; 16]) -> Ordering {
    let ((ma, la), (mb, lb)) = (halves(a), halves(b));
    let signed = |l: u64| (l ^ 0x0080_8080_8080_8080) as i64;
    (reorder_timestamp(ma) as i64)
        .cmp(&(reorder_timestamp(mb) as i64))
        .then_with(|| signed(la).cmp(&signed(lb)))
}

// --- collections, tuples, vectors, composites ---

/// `ListType.compareListOrSet` (frozen lists and sets).
fn compare_list(element: &CqlType, mut a: &[u8], mut b: &[u8]) -> Option<Ordering> {
    let (na, nb) = (take_i32(&mut a)?, take_i32(&mut b)?);
    for _ in 0..na.min(nb).max(0) {
        let (x, y) = (take_element(&mut a)?, take_element(&mut b)?);
        let o = compare_nullable(element, x, y);
        if o.is_ne() {
            return Some(o);
        }
    }
    Some(na.cmp(&nb))
}

/// `MapType.compareMaps` (frozen maps).
fn compare_map(key: &CqlType, value: &CqlType, mut a: &[u8], mut b: &[u8]) -> Option<Ordering> {
    let (na, nb) = (take_i32(&mut a)?, take_i32(&mut b)?);
    for _ in 0..na.min(nb).max(0) {
        let (x, y) = (take_element(&mut a)?, take_element(&mut b)?);
        let o = compare_nullable(key, x, y);
        if o.is_ne() {
            return Some(o);
        }
        let (x, y) = (take_element(&mut a)?, take_element(&mut b)?);
        let o = compare_nullable(value, x, y);
        if o.is_ne() {
            return Some(o);
        }
    }
    Some(na.cmp(&nb))
}

/// `TupleType.compareCustom` (tuples and UDTs), with its trailing-null rule. Fields beyond the
/// known types compare as bytes.
fn compare_tuple<'t>(
    mut types: impl Iterator<Item = &'t CqlType>,
    mut a: &[u8],
    mut b: &[u8],
) -> Option<Ordering> {
    while !a.is_empty() && !b.is_empty() {
        let ty = types.next();
        let (x, y) = (take_element(&mut a)?, take_element(&mut b)?);
        let o = match (ty, x, y) {
            (Some(t), x, y) => compare_nullable(t, x, y),
            (None, x, y) => x.cmp(&y),
        };
        if o.is_ne() {
            return Some(o);
        }
    }
    // Remaining fields count only if one of them has a non-empty value (`size > 0`).
    let has_value = |mut s: &[u8]| -> Option<bool> {
        while !s.is_empty() {
            if take_i32(&mut s)? > 0 {
                return Some(true);
            }
        }
        Some(false)
    };
    if has_value(a)? {
        return Some(Ordering::Greater);
    }
    if has_value(b)? {
        return Some(Ordering::Less);
    }
    Some(Ordering::Equal)
}

/// `VectorType` (fixed-width elements back to back, or uvint-length-prefixed ones).
fn compare_vector(
    element: &CqlType,
    dimension: u32,
    mut a: &[u8],
    mut b: &[u8],
) -> Option<Ordering> {
    let width = element.fixed_length();
    if width == Some(0) {
        return Some(Ordering::Equal);
    }
    for _ in 0..dimension {
        let (x, y) = match width {
            Some(w) => (take(&mut a, w)?, take(&mut b, w)?),
            None => {
                let (la, lb) = (take_uvint(&mut a)?, take_uvint(&mut b)?);
                (
                    take(&mut a, usize::try_from(la).ok()?)?,
                    take(&mut b, usize::try_from(lb).ok()?)?,
                )
            }
        };
        let o = compare_values(element, x, y);
        if o.is_ne() {
            return Some(o);
        }
    }
    Some(Ordering::Equal)
}

/// `AbstractCompositeType.compareCustom` for `CompositeType`.
fn compare_composite(types: &[CqlType], mut a: &[u8], mut b: &[u8]) -> Option<Ordering> {
    const STATIC_MARKER: [u8; 2] = [0xff, 0xff];
    let strip = |s: &mut &[u8]| match s.strip_prefix(&STATIC_MARKER[..]) {
        Some(rest) => {
            *s = rest;
            true
        }
        None => false,
    };
    let (sa, sb) = (strip(&mut a), strip(&mut b));
    if sa != sb {
        return Some(sb.cmp(&sa));
    }
    let mut i = 0;
    while !a.is_empty() && !b.is_empty() {
        let take_short = |s: &mut &[u8]| -> Option<usize> {
            let (len, tail) = s.split_first_chunk::<2>()?;
            *s = tail;
            Some(usize::from(u16::from_be_bytes(*len)))
        };
        let (la, lb) = (take_short(&mut a)?, take_short(&mut b)?);
        let (x, y) = (take(&mut a, la)?, take(&mut b, lb)?);
        let o = match types.get(i) {
            Some(t) => compare_values(t, x, y),
            None => x.cmp(y),
        };
        if o.is_ne() {
            return Some(o);
        }
        let (ea, eb) = (take_u8(&mut a)? as i8, take_u8(&mut b)? as i8);
        if ea != eb {
            return Some(ea.cmp(&eb));
        }
        i += 1;
    }
    Some((!a.is_empty()).cmp(&!b.is_empty()))
}

// ---------------------------------------------------------------------------------------------
// Clusterings
// ---------------------------------------------------------------------------------------------

/// A position in a partition's clustering order: the static row, a row, or a range-tombstone
/// bound or boundary. Values are the decoded prefixes of [`crate::data`] and
/// [`crate::legacy`] (`None` = null).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position<'a> {
    /// The static row. It sorts before everything (Cassandra keeps it out of the unfiltered
    /// stream and emits it first; `Kind.compare` alone would put a start bound with an empty
    /// prefix before `STATIC_CLUSTERING`).
    Static,
    /// A row's full clustering.
    Row(&'a [Option<&'a [u8]>]),
    /// A bound or boundary with its (possibly shorter) prefix.
    Bound(BoundKind, &'a [Option<&'a [u8]>]),
}

impl<'a> Position<'a> {
    /// The position of a decoded row or marker.
    pub fn of(unfiltered: &'a Unfiltered<'_>) -> Position<'a> {
        match unfiltered {
            Unfiltered::Row(r) if r.is_static => Position::Static,
            Unfiltered::Row(r) => Position::Row(&r.clustering),
            Unfiltered::Marker(m) => Position::Bound(m.kind, &m.values),
        }
    }

    /// Values, `Kind.comparison` and `Kind.comparedToClustering` (for a row shorter than the
    /// other prefix, which only malformed input has: before it).
    fn parts(&self) -> (&'a [Option<&'a [u8]>], u8, Ordering) {
        match *self {
            Position::Static => (&[], 1, Ordering::Less),
            Position::Row(v) => (v, 2, Ordering::Less),
            Position::Bound(kind, v) => {
                let before = matches!(
                    kind,
                    BoundKind::ExclEndBound
                        | BoundKind::InclStartBound
                        | BoundKind::ExclEndInclStartBoundary
                );
                if before {
                    (v, 0, Ordering::Less)
                } else {
                    (v, 3, Ordering::Greater)
                }
            }
        }
    }
}

/// Orders clusterings of one table (`ClusteringComparator`): component by component with the
/// clustering types (a null component first, whatever the type's direction), then by kind.
///
/// How bounds and rows with **equal values on the common prefix** order
/// (`ClusteringPrefix.Kind`, `comparison` and `comparedToClustering`):
/// * same length (a bound as long as the clustering, or two bounds of one length): the kinds
///   `EXCL_END_BOUND`, `INCL_START_BOUND` and `EXCL_END_INCL_START_BOUNDARY` (comparison 0) sort
///   before the row (2), and `INCL_END_EXCL_START_BOUNDARY`, `INCL_END_BOUND` and
///   `EXCL_START_BOUND` (3) after it. So `[a` and `a]` enclose row `a`, while `a)` ends
///   before it and `(a` starts after it. Two bounds of the same group compare **equal**
///   (`a)` == `[a`): a writer merges them into one boundary;
/// * different lengths: the shorter prefix decides by its kind alone: the first group sorts
///   before every clustering it prefixes, the second after all of them (so `(a` on a prefix
///   is after every row `(a, ...)`, and `a)` before every one).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClusteringComparator {
    types: Vec<CqlType>,
}

impl ClusteringComparator {
    /// A comparator over the clustering types of a serialization header (`ReversedType` for
    /// DESC columns). Components beyond the types compare as unsigned bytes.
    pub fn new(types: Vec<CqlType>) -> Self {
        ClusteringComparator { types }
    }

    /// The clustering types.
    pub fn types(&self) -> &[CqlType] {
        &self.types
    }

    /// Compares the `index`-th components (`compareComponent`): null first, then the type's
    /// order.
    pub fn compare_component(&self, index: usize, a: Option<&[u8]>, b: Option<&[u8]>) -> Ordering {
        match (a, b, self.types.get(index)) {
            (Some(x), Some(y), Some(t)) => compare_values(t, x, y),
            (x, y, _) => x.cmp(&y),
        }
    }

    fn compare_common(&self, a: &[Option<&[u8]>], b: &[Option<&[u8]>]) -> Ordering {
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            let o = self.compare_component(i, *x, *y);
            if o.is_ne() {
                return o;
            }
        }
        Ordering::Equal
    }

    /// Orders two rows' clusterings (equal lengths; a shorter malformed one sorts before the
    /// longer one it prefixes).
    pub fn compare(&self, a: &[Option<&[u8]>], b: &[Option<&[u8]>]) -> Ordering {
        self.compare_common(a, b)
            .then_with(|| a.len().cmp(&b.len()))
    }

    /// Orders a row against a range-tombstone bound or boundary (see the type documentation
    /// for equal prefixes).
    pub fn compare_row_to_bound(
        &self,
        row: &[Option<&[u8]>],
        kind: BoundKind,
        bound: &[Option<&[u8]>],
    ) -> Ordering {
        self.compare_positions(&Position::Row(row), &Position::Bound(kind, bound))
    }

    /// Orders two bounds or boundaries.
    pub fn compare_bounds(
        &self,
        a_kind: BoundKind,
        a: &[Option<&[u8]>],
        b_kind: BoundKind,
        b: &[Option<&[u8]>],
    ) -> Ordering {
        self.compare_positions(&Position::Bound(a_kind, a), &Position::Bound(b_kind, b))
    }

    /// Orders any two positions (`ClusteringComparator.compare(ClusteringPrefix,
    /// ClusteringPrefix)`, with the static row first).
    pub fn compare_positions(&self, a: &Position<'_>, b: &Position<'_>) -> Ordering {
        match (a, b) {
            (Position::Static, Position::Static) => return Ordering::Equal,
            (Position::Static, _) => return Ordering::Less,
            (_, Position::Static) => return Ordering::Greater,
            _ => {}
        }
        let ((va, ra, ca), (vb, rb, cb)) = (a.parts(), b.parts());
        self.compare_common(va, vb)
            .then_with(|| match va.len().cmp(&vb.len()) {
                Ordering::Equal => ra.cmp(&rb),
                Ordering::Less => ca,
                Ordering::Greater => cb.reverse(),
            })
    }

    /// Orders two decoded rows or markers of one partition.
    pub fn compare_unfiltered(&self, a: &Unfiltered<'_>, b: &Unfiltered<'_>) -> Ordering {
        self.compare_positions(&Position::of(a), &Position::of(b))
    }
}

// ---------------------------------------------------------------------------------------------
// Partitions
// ---------------------------------------------------------------------------------------------

/// Orders two serialized partition keys as `DecoratedKey.compareTo`: by token, then by the key
/// bytes (unsigned). Murmur3 and Random tokens are computed on every call (no allocation); a
/// merge should cache them and use [`compare_partitions_by_token`].
///
/// `ByteOrderedPartitioner` tokens are the keys; `OrderPreservingPartitioner` tokens are the
/// keys as Java strings (UTF-16 order; bytes if not UTF-8). `LocalPartitioner` (secondary-index
/// tables) really orders by the indexed column's type: here, by unsigned bytes.
pub fn compare_partitions(partitioner: Partitioner, a_key: &[u8], b_key: &[u8]) -> Ordering {
    match partitioner {
        Partitioner::Murmur3 => murmur3_token(a_key).cmp(&murmur3_token(b_key)),
        Partitioner::Random => random_token(a_key).cmp(&random_token(b_key)),
        Partitioner::OrderPreserving => compare_java_strings(a_key, b_key),
        Partitioner::ByteOrdered | Partitioner::Local => Ordering::Equal,
    }
    .then_with(|| a_key.cmp(b_key))
}

/// [`compare_partitions`] with tokens already computed by [`Partitioner::token`].
pub fn compare_partitions_by_token(
    partitioner: Partitioner,
    a_token: &Token,
    a_key: &[u8],
    b_token: &Token,
    b_key: &[u8],
) -> Ordering {
    compare_tokens(partitioner, a_token, b_token).then_with(|| a_key.cmp(b_key))
}

/// Orders two tokens of `partitioner` (`Token.compareTo`).
pub fn compare_tokens(partitioner: Partitioner, a: &Token, b: &Token) -> Ordering {
    match (partitioner, a, b) {
        (Partitioner::OrderPreserving, Token::Bytes(x), Token::Bytes(y)) => {
            compare_java_strings(x, y)
        }
        _ => a.cmp(b),
    }
}

/// `String.compareTo` of two UTF-8 byte strings (UTF-16 code units); bytes if one is not UTF-8.
fn compare_java_strings(a: &[u8], b: &[u8]) -> Ordering {
    match (std::str::from_utf8(a), std::str::from_utf8(b)) {
        (Ok(x), Ok(y)) => x.encode_utf16().cmp(y.encode_utf16()),
        _ => a.cmp(b),
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
    use crate::types::UdtDef;
    use Ordering::{Equal, Greater, Less};

    fn sorted_strictly(ty: &CqlType, values: &[Vec<u8>]) {
        for (i, a) in values.iter().enumerate() {
            for (j, b) in values.iter().enumerate() {
                assert_eq!(
                    compare_values(ty, a, b),
                    i.cmp(&j),
                    "{ty}: {a:02x?} vs {b:02x?}"
                );
            }
        }
    }

    fn varint(v: i128) -> Vec<u8> {
        // Minimal two's complement.
        let bytes = v.to_be_bytes();
        let mut start = 0;
        while start < 15 {
            let (b0, b1) = (bytes[start], bytes[start + 1]);
            if (b0 == 0 && b1 & 0x80 == 0) || (b0 == 0xff && b1 & 0x80 != 0) {
                start += 1;
            } else {
                break;
            }
        }
        bytes[start..].to_vec()
    }

    fn decimal(scale: i32, unscaled: &[u8]) -> Vec<u8> {
        let mut v = scale.to_be_bytes().to_vec();
        v.extend_from_slice(unscaled);
        v
    }

    fn element(out: &mut Vec<u8>, v: Option<&[u8]>) {
        match v {
            Some(b) => {
                out.extend_from_slice(&(b.len() as i32).to_be_bytes());
                out.extend_from_slice(b);
            }
            None => out.extend_from_slice(&(-1i32).to_be_bytes()),
        }
    }

    fn list(items: &[&[u8]]) -> Vec<u8> {
        let mut out = (items.len() as i32).to_be_bytes().to_vec();
        for i in items {
            element(&mut out, Some(i));
        }
        out
    }

    fn tuple(fields: &[Option<&[u8]>]) -> Vec<u8> {
        let mut out = Vec::new();
        for f in fields {
            element(&mut out, *f);
        }
        out
    }

    fn int(i: i32) -> Vec<u8> {
        i.to_be_bytes().to_vec()
    }

    /// A version-1 uuid with the given 60-bit timestamp and low bytes.
    fn timeuuid(ts: u64, lsb: [u8; 8]) -> Vec<u8> {
        let time_low = (ts & 0xffff_ffff) as u32;
        let time_mid = ((ts >> 32) & 0xffff) as u16;
        let time_hi = ((ts >> 48) & 0x0fff) as u16 | 0x1000;
        let mut v = time_low.to_be_bytes().to_vec();
        v.extend_from_slice(&time_mid.to_be_bytes());
        v.extend_from_slice(&time_hi.to_be_bytes());
        v.extend_from_slice(&lsb);
        v
    }

    #[test]
    fn empty_first_and_byte_types() {
        assert_eq!(compare_values(&CqlType::Int, &[], &int(i32::MIN)), Less);
        assert_eq!(compare_values(&CqlType::Uuid, &[], &[]), Equal);
        assert_eq!(compare_values(&CqlType::Text, b"b", b"ab"), Greater);
        assert_eq!(compare_values(&CqlType::Text, b"a", b"ab"), Less);
        assert_eq!(compare_values(&CqlType::Blob, &[0x80], &[0x7f]), Greater);
        assert_eq!(
            compare_values(&CqlType::Inet, &[10, 0, 0, 1], &[10; 16]),
            Less
        );
        // date: unsigned days with the epoch at 2^31.
        assert_eq!(
            compare_values(
                &CqlType::Date,
                &(1u32 << 31).to_be_bytes(),
                &[0x7f, 0xff, 0xff, 0xff]
            ),
            Greater
        );
        assert_eq!(compare_values(&CqlType::Empty, &[], &[]), Equal);
    }

    #[test]
    fn fixed_width_integers() {
        sorted_strictly(
            &CqlType::Int,
            &[int(i32::MIN), int(-1), int(0), int(1), int(i32::MAX)],
        );
        let l = |v: i64| v.to_be_bytes().to_vec();
        sorted_strictly(
            &CqlType::BigInt,
            &[l(i64::MIN), l(-256), l(-1), l(0), l(255), l(i64::MAX)],
        );
        sorted_strictly(&CqlType::Timestamp, &[l(-1), l(0), l(1_600_000_000_000)]);
        sorted_strictly(
            &CqlType::TinyInt,
            &[vec![0x80], vec![0xff], vec![0], vec![0x7f]],
        );
        sorted_strictly(
            &CqlType::SmallInt,
            &[vec![0x80, 0], vec![0xff, 0xff], vec![0, 1]],
        );
        sorted_strictly(&CqlType::Boolean, &[vec![], vec![0], vec![1]]);
        assert_eq!(compare_values(&CqlType::Boolean, &[1], &[7]), Equal);
    }

    #[test]
    fn varints_of_any_length() {
        let values: Vec<Vec<u8>> = [
            -(1i128 << 100),
            -70000,
            -129,
            -128,
            -1,
            0,
            1,
            127,
            128,
            255,
            256,
            70000,
            1i128 << 100,
        ]
        .iter()
        .map(|v| varint(*v))
        .collect();
        sorted_strictly(&CqlType::Varint, &values);
        // Redundant sign bytes do not matter.
        assert_eq!(compare_values(&CqlType::Varint, &[0, 0, 1], &[1]), Equal);
        assert_eq!(
            compare_values(&CqlType::Varint, &[0xff, 0xff], &[0xff]),
            Equal
        );
        assert_eq!(
            compare_values(&CqlType::Varint, &[0xff, 0x7f], &[0x80]),
            Less
        );
        assert_eq!(
            compare_values(&CqlType::Varint, &[0x80], &[0x00, 0x01]),
            Less
        );
        assert_eq!(
            compare_values(&CqlType::Varint, &[0x01, 0x00], &[0x7f]),
            Greater
        );
    }

    #[test]
    fn decimals_are_scale_insensitive() {
        let d = |scale: i32, unscaled: i128| decimal(scale, &varint(unscaled));
        // -1e20, -1.5, -1, -0.001, 0, 0.001, 0.5, 1, 1.0000001, 12.5, 1e20, 10^40 units
        let values = vec![
            d(-20, -1),
            d(1, -15),
            d(0, -1),
            d(3, -1),
            d(0, 0),
            d(3, 1),
            d(1, 5),
            d(0, 1),
            d(7, 10_000_001),
            d(2, 1250),
            d(-20, 1),
            d(-40, 1),
        ];
        sorted_strictly(&CqlType::Decimal, &values);
        let eq =
            |a: Vec<u8>, b: Vec<u8>| assert_eq!(compare_values(&CqlType::Decimal, &a, &b), Equal);
        eq(d(1, 10), d(2, 100)); // 1.0 == 1.00
        eq(d(0, 0), d(5, 0)); // 0 == 0.00000
        eq(d(-3, -7), d(0, -7000));
        eq(d(30, 1i128 << 80), d(40, (1i128 << 80) * 10_000_000_000));
        let c = |a: Vec<u8>, b: Vec<u8>| compare_values(&CqlType::Decimal, &a, &b);
        // Near misses that need the exact multiplication.
        assert_eq!(c(d(0, 999_999_999_999), d(3, 999_999_999_999_001)), Less);
        assert_eq!(
            c(d(0, -999_999_999_999), d(3, -999_999_999_999_001)),
            Greater
        );
        assert_eq!(c(d(40, 12345), d(-40, 1)), Less);
        // Extreme scales stay exact and fast.
        assert_eq!(c(d(i32::MIN, 1), d(i32::MAX, 1)), Greater);
        assert_eq!(c(d(i32::MAX, -1), d(i32::MIN, -1)), Greater);
        // Large unscaled values (heap scratch) with near misses: x = 2^2400.
        let x: Vec<u8> = std::iter::once(0x01)
            .chain(std::iter::repeat_n(0, 300))
            .collect();
        let times10 = |last: u8| -> Vec<u8> {
            let mut v = vec![0x0a];
            v.extend(std::iter::repeat_n(0, 299));
            v.push(last);
            v
        };
        assert_eq!(c(decimal(0, &x), decimal(1, &times10(0))), Equal);
        assert_eq!(c(decimal(0, &x), decimal(1, &times10(1))), Less);
        let mut below: Vec<u8> = vec![0x09];
        below.extend(std::iter::repeat_n(0xff, 300));
        assert_eq!(c(decimal(0, &x), decimal(1, &below)), Greater);
        assert_eq!(c(decimal(1, &below), decimal(0, &x)), Less);
        // Malformed: no unscaled part; bytes decide, no panic.
        assert_eq!(c(vec![0, 0, 0, 1], d(0, 1)), Greater);
    }

    #[test]
    fn floats_follow_java() {
        let f = |x: f32| x.to_be_bytes().to_vec();
        sorted_strictly(
            &CqlType::Float,
            &[
                f(f32::NEG_INFINITY),
                f(-1.5),
                f(-0.0),
                f(0.0),
                f(f32::MIN_POSITIVE),
                f(2.0),
                f(f32::INFINITY),
                f(f32::NAN),
            ],
        );
        let neg_nan = f32::from_bits(0xffc0_0001);
        assert_eq!(
            compare_values(&CqlType::Float, &f(neg_nan), &f(f32::NAN)),
            Equal
        );
        assert_eq!(
            compare_values(&CqlType::Float, &f(neg_nan), &f(f32::INFINITY)),
            Greater
        );
        let d = |x: f64| x.to_be_bytes().to_vec();
        sorted_strictly(
            &CqlType::Double,
            &[
                d(f64::NEG_INFINITY),
                d(-0.0),
                d(0.0),
                d(1e300),
                d(f64::INFINITY),
                d(f64::NAN),
            ],
        );
        assert_eq!(
            compare_values(&CqlType::Double, &d(-f64::NAN), &d(f64::NAN)),
            Equal
        );
        // Wrong width: bytes, no panic.
        assert_eq!(compare_values(&CqlType::Double, &[1, 2], &d(0.0)), Greater);
    }

    #[test]
    fn timeuuids_by_time_then_signed_bytes() {
        let t = CqlType::TimeUuid;
        // Time dominates the byte order of time_low.
        let early = timeuuid(0x0000_0001_ffff_ffff, [0; 8]);
        let late = timeuuid(0x0000_0002_0000_0000, [0; 8]);
        assert!(early > late); // unsigned bytes would disagree
        assert_eq!(compare_values(&t, &early, &late), Less);
        // Same time: the low bytes as signed bytes (0x80 < 0x7f).
        let a = timeuuid(5, [0x80, 0, 0, 0, 0, 0, 0, 0]);
        let b = timeuuid(5, [0x7f, 0, 0, 0, 0, 0, 0, 0]);
        let c = timeuuid(5, [0, 0x80, 0, 0, 0, 0, 0, 0]);
        let d = timeuuid(5, [0, 0x01, 0, 0, 0, 0, 0, 0]);
        sorted_strictly(&t, &[vec![], a, c, d, b]);
        // Reversed.
        let r = CqlType::Reversed(Box::new(t));
        assert_eq!(compare_values(&r, &early, &late), Greater);
        assert_eq!(compare_values(&r, &[], &late), Greater);
    }

    #[test]
    fn uuids_by_version_then_time_then_unsigned() {
        let u = CqlType::Uuid;
        let v4 = |first: u8, last: u8| {
            let mut v = vec![first, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0, 0, last];
            v[8] = 0x80;
            v
        };
        let v1_early = timeuuid(0x0000_0001_ffff_ffff, [0xff; 8]);
        let v1_late = timeuuid(0x0000_0002_0000_0000, [0; 8]);
        let v1_late_hi = timeuuid(0x0000_0002_0000_0000, [0x80, 0, 0, 0, 0, 0, 0, 0]);
        let nil = vec![0u8; 16];
        sorted_strictly(
            &u,
            &[
                vec![],
                nil,
                v1_early,
                v1_late,
                v1_late_hi, // unsigned low bytes: 0x80 after 0x00
                v4(0x00, 1),
                v4(0x00, 2),
                v4(0x80, 0), // unsigned high bytes
            ],
        );
        // Not 16 bytes: bytes, no panic.
        assert_eq!(compare_values(&u, &[1, 2, 3], &v4(0, 0)), Greater);
    }

    #[test]
    fn frozen_collections_nested() {
        let li = CqlType::List {
            element: Box::new(CqlType::Int),
            frozen: true,
        };
        let (m1, z, p1) = (int(-1), int(0), int(1));
        sorted_strictly(
            &li,
            &[
                vec![],
                list(&[]),
                list(&[&m1]),
                list(&[&m1, &p1]),
                list(&[&z]),
                list(&[&z, &m1]),
                list(&[&p1]),
            ],
        );
        // list<frozen<list<int>>>
        let outer = CqlType::List {
            element: Box::new(li.clone()),
            frozen: true,
        };
        let a = list(&[&list(&[&m1])]);
        let b = list(&[&list(&[&m1, &m1])]);
        let c = list(&[&list(&[&z])]);
        sorted_strictly(&outer, &[a, b, c]);
        // map<int, text>: key first, then value, then size.
        let m = CqlType::Map {
            key: Box::new(CqlType::Int),
            value: Box::new(CqlType::Text),
            frozen: true,
        };
        let map = |entries: &[(&[u8], &[u8])]| {
            let mut out = (entries.len() as i32).to_be_bytes().to_vec();
            for (k, v) in entries {
                element(&mut out, Some(k));
                element(&mut out, Some(v));
            }
            out
        };
        sorted_strictly(
            &m,
            &[
                map(&[(&m1, b"z")]),
                map(&[(&z, b"a")]),
                map(&[(&z, b"b")]),
                map(&[(&z, b"b"), (&p1, b"")]),
                map(&[(&p1, b"a")]),
            ],
        );
        // Truncated: bytes, no panic.
        let bad = list(&[&z])[..6].to_vec();
        let _ = compare_values(&li, &bad, &list(&[&z]));
        let set = CqlType::Set {
            element: Box::new(CqlType::Varint),
            frozen: true,
        };
        assert_eq!(
            compare_values(&set, &list(&[&[0, 1]]), &list(&[&[1]])),
            Equal
        );
    }

    #[test]
    fn tuples_and_udts() {
        let t = CqlType::Tuple(vec![CqlType::Int, CqlType::Text]);
        let (m1, z) = (int(-1), int(0));
        sorted_strictly(
            &t,
            &[
                vec![],
                tuple(&[None, Some(b"z")]),
                tuple(&[Some(&m1), Some(b"z")]),
                tuple(&[Some(&z), None]),
                tuple(&[Some(&z), Some(b"")]),
                tuple(&[Some(&z), Some(b"a")]),
            ],
        );
        // Missing trailing fields, trailing nulls and trailing empty values are all equal.
        let short = tuple(&[Some(&z)]);
        assert_eq!(compare_values(&t, &short, &tuple(&[Some(&z), None])), Equal);
        assert_eq!(
            compare_values(&t, &short, &tuple(&[Some(&z), Some(b"")])),
            Equal
        );
        assert_eq!(
            compare_values(&t, &short, &tuple(&[Some(&z), Some(b"a")])),
            Less
        );
        let udt = CqlType::Udt(Box::new(UdtDef {
            keyspace: "ks".into(),
            name: "u".into(),
            fields: vec![("a".into(), CqlType::Int), ("b".into(), t.clone())],
            frozen: true,
        }));
        let x = tuple(&[Some(&z), Some(&tuple(&[Some(&m1)]))]);
        let y = tuple(&[Some(&z), Some(&tuple(&[Some(&z)]))]);
        assert_eq!(compare_values(&udt, &x, &y), Less);
        // A field beyond the declared types: bytes.
        let extra = tuple(&[Some(&z), Some(b"a"), Some(&[1])]);
        let extra2 = tuple(&[Some(&z), Some(b"a"), Some(&[2])]);
        assert_eq!(compare_values(&t, &extra, &extra2), Less);
    }

    #[test]
    fn vectors_and_composites() {
        let v = CqlType::Vector {
            element: Box::new(CqlType::Float),
            dimension: 2,
        };
        let fv = |a: f32, b: f32| [a.to_be_bytes(), b.to_be_bytes()].concat();
        sorted_strictly(
            &v,
            &[fv(-1.0, 5.0), fv(-0.0, 0.0), fv(0.0, -1.0), fv(0.0, 0.0)],
        );
        let vt = CqlType::Vector {
            element: Box::new(CqlType::Varint),
            dimension: 2,
        };
        // uvint-prefixed elements: [-1, 5] < [1, 0]
        assert_eq!(compare_values(&vt, &[1, 0xff, 1, 5], &[1, 1, 1, 0]), Less);
        let c = CqlType::Composite(vec![CqlType::Int, CqlType::Text]);
        let comp = |parts: &[&[u8]], eoc: u8| {
            let mut out = Vec::new();
            for (i, p) in parts.iter().enumerate() {
                out.extend_from_slice(&(p.len() as u16).to_be_bytes());
                out.extend_from_slice(p);
                out.push(if i + 1 == parts.len() { eoc } else { 0 });
            }
            out
        };
        let (m1, z) = (int(-1), int(0));
        let mut stat = vec![0xff, 0xff];
        stat.extend(comp(&[b"s"], 0));
        sorted_strictly(
            &c,
            &[
                vec![],
                stat,
                comp(&[&m1], 0),
                comp(&[&z], 0xff), // start of prefix (eoc -1)
                comp(&[&z], 0),
                comp(&[&z, b"a"], 0),
                comp(&[&z], 1), // end of prefix
            ],
        );
    }

    fn v(values: &[Option<&[u8]>]) -> Vec<Option<Vec<u8>>> {
        values.iter().map(|x| x.map(<[u8]>::to_vec)).collect()
    }

    fn r(owned: &[Option<Vec<u8>>]) -> Vec<Option<&[u8]>> {
        owned.iter().map(|x| x.as_deref()).collect()
    }

    #[test]
    fn rows_with_nulls_and_reversed() {
        let cmp = ClusteringComparator::new(vec![
            CqlType::Int,
            CqlType::Reversed(Box::new(CqlType::Text)),
        ]);
        let (one, two) = (int(1), int(2));
        let rows = [
            v(&[None, Some(b"a")]),
            v(&[Some(&one), None]), // null first even in a DESC column
            v(&[Some(&one), Some(b"b")]),
            v(&[Some(&one), Some(b"a")]),
            v(&[Some(&one), Some(b"")]), // empty last in a DESC column
            v(&[Some(&two), Some(b"z")]),
        ];
        for (i, a) in rows.iter().enumerate() {
            for (j, b) in rows.iter().enumerate() {
                assert_eq!(cmp.compare(&r(a), &r(b)), i.cmp(&j), "{i} {j}");
            }
        }
    }

    #[test]
    fn bounds_against_rows_with_equal_prefixes() {
        use BoundKind::*;
        let cmp = ClusteringComparator::new(vec![CqlType::Int, CqlType::Int]);
        let (one, two) = (int(1), int(2));
        let full = v(&[Some(&one), Some(&two)]);
        let prefix = v(&[Some(&one)]);
        let row = r(&full);
        let before = [ExclEndBound, InclStartBound, ExclEndInclStartBoundary];
        let after = [InclEndExclStartBoundary, InclEndBound, ExclStartBound];
        for k in before {
            // Same length: before the row; shorter prefix: before every row it prefixes.
            assert_eq!(
                cmp.compare_row_to_bound(&row, k, &r(&full)),
                Greater,
                "{k:?}"
            );
            assert_eq!(
                cmp.compare_row_to_bound(&row, k, &r(&prefix)),
                Greater,
                "{k:?}"
            );
            assert_eq!(cmp.compare_row_to_bound(&row, k, &[]), Greater, "{k:?}");
        }
        for k in after {
            assert_eq!(cmp.compare_row_to_bound(&row, k, &r(&full)), Less, "{k:?}");
            assert_eq!(
                cmp.compare_row_to_bound(&row, k, &r(&prefix)),
                Less,
                "{k:?}"
            );
            assert_eq!(cmp.compare_row_to_bound(&row, k, &[]), Less, "{k:?}");
        }
        // A different value still decides first.
        let other = v(&[Some(&two)]);
        assert_eq!(
            cmp.compare_row_to_bound(&row, InclEndBound, &r(&other)),
            Less
        );
        assert_eq!(
            cmp.compare_row_to_bound(&row, ExclStartBound, &r(&v(&[Some(&int(0))]))),
            Greater
        );
        // Bounds among themselves: same group equal, groups ordered; shorter prefix by kind.
        for a in before {
            for b in before {
                assert_eq!(cmp.compare_bounds(a, &r(&full), b, &r(&full)), Equal);
            }
            for b in after {
                assert_eq!(cmp.compare_bounds(a, &r(&full), b, &r(&full)), Less);
                assert_eq!(cmp.compare_bounds(b, &r(&full), a, &r(&full)), Greater);
                // prefix start < full anything < prefix end
                assert_eq!(cmp.compare_bounds(a, &r(&prefix), b, &r(&full)), Less);
                assert_eq!(cmp.compare_bounds(a, &r(&prefix), a, &r(&full)), Less);
                assert_eq!(cmp.compare_bounds(b, &r(&prefix), a, &r(&full)), Greater);
                assert_eq!(cmp.compare_bounds(b, &r(&prefix), b, &r(&full)), Greater);
            }
        }
        // The static row precedes everything, even a start bound with an empty prefix.
        let s = Position::Static;
        assert_eq!(
            cmp.compare_positions(&s, &Position::Bound(InclStartBound, &[])),
            Less
        );
        assert_eq!(cmp.compare_positions(&Position::Row(&row), &s), Greater);
        assert_eq!(cmp.compare_positions(&s, &s), Equal);
        // Nulls in bounds sort first too.
        let null_prefix = v(&[None]);
        assert_eq!(
            cmp.compare_row_to_bound(&row, InclEndBound, &r(&null_prefix)),
            Greater
        );
    }

    #[test]
    fn partitions_by_token_then_key() {
        let keys: Vec<Vec<u8>> = (0..50i32).map(|i| i.to_be_bytes().to_vec()).collect();
        for p in [
            Partitioner::Murmur3,
            Partitioner::Random,
            Partitioner::ByteOrdered,
        ] {
            let mut sorted = keys.clone();
            sorted.sort_by(|a, b| compare_partitions(p, a, b));
            let mut by_token: Vec<(Token, Vec<u8>)> =
                keys.iter().map(|k| (p.token(k), k.clone())).collect();
            by_token.sort_by(|a, b| compare_partitions_by_token(p, &a.0, &a.1, &b.0, &b.1));
            let by_token: Vec<Vec<u8>> = by_token.into_iter().map(|(_, k)| k).collect();
            assert_eq!(sorted, by_token, "{p:?}");
        }
        // Murmur3: token order, not key order (ints 1, 2, 3 have tokens -4.0e18, -3.2e18, 9e18).
        let k = |i: i32| i.to_be_bytes();
        assert_eq!(compare_partitions(Partitioner::Murmur3, &k(1), &k(2)), Less);
        assert_eq!(
            compare_partitions(Partitioner::Murmur3, &k(3), &k(2)),
            Greater
        );
        assert_eq!(
            compare_partitions(Partitioner::Murmur3, &k(3), &k(3)),
            Equal
        );
        // Order-preserving: UTF-16 order puts U+FFFD after U+10000 (unlike UTF-8).
        let (bmp, astral) = ("\u{fffd}".as_bytes(), "\u{10000}".as_bytes());
        assert_eq!(
            compare_partitions(Partitioner::OrderPreserving, bmp, astral),
            Greater
        );
        assert_eq!(
            compare_partitions(Partitioner::ByteOrdered, bmp, astral),
            Less
        );
    }
}
