//! CQL types → Arrow types, and builders that append decoded CQL values
//! ([`sstable_format::value::Value`]) to Arrow arrays. The mapping is lossless by default;
//! `docs/parquet-mapping.md` describes it and what each engine reads.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::Arc;

use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, Date32Builder, Decimal128Builder, FixedSizeBinaryBuilder,
    Float32Builder, Float64Builder, Int16Builder, Int32Builder, Int64Builder, Int8Builder,
    StringBuilder, Time64NanosecondBuilder, TimestampMillisecondBuilder,
};
use arrow_array::{ArrayRef, FixedSizeListArray, ListArray, MapArray, NullArray, StructArray};
use arrow_buffer::{NullBufferBuilder, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, FieldRef, Fields, TimeUnit};
use sstable_format::value::{write_varint, Value};
use sstable_format::CqlType;

use crate::error::Error;

/// Options of the mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MapOptions {
    /// `--decimal P,S`: `decimal` as Decimal128(P, S), failing on a value that does not fit.
    pub decimal: Option<(u8, i8)>,
    /// `--compat spark`: only types Spark 4 reads.
    pub spark: bool,
}

/// The Arrow field metadata key of extension types, and the UUID extension's name (which the
/// parquet crate writes as Parquet's UUID logical type).
pub const EXTENSION_NAME_KEY: &str = "ARROW:extension:name";
/// The canonical UUID extension type name.
pub const UUID_EXTENSION: &str = "arrow.uuid";

/// The Arrow field of a CQL column.
pub fn field(name: &str, ty: &CqlType, opts: MapOptions) -> Field {
    let f = Field::new(name, data_type(ty, opts), true);
    if is_uuid(ty) && !opts.spark {
        f.with_metadata([(EXTENSION_NAME_KEY.to_string(), UUID_EXTENSION.to_string())].into())
    } else {
        f
    }
}

fn is_uuid(ty: &CqlType) -> bool {
    matches!(ty.unreversed(), CqlType::Uuid | CqlType::TimeUuid)
}

/// The Arrow type of a CQL type.
pub fn data_type(ty: &CqlType, opts: MapOptions) -> DataType {
    match ty.unreversed() {
        CqlType::Ascii | CqlType::Text | CqlType::Inet | CqlType::Varint => DataType::Utf8,
        CqlType::Decimal => match opts.decimal {
            Some((p, s)) => DataType::Decimal128(p, s),
            None => DataType::Utf8,
        },
        CqlType::Blob | CqlType::Custom(_) | CqlType::Composite(_) => DataType::Binary,
        CqlType::Empty => DataType::Null,
        CqlType::Boolean => DataType::Boolean,
        CqlType::TinyInt => DataType::Int8,
        CqlType::SmallInt => DataType::Int16,
        CqlType::Int => DataType::Int32,
        CqlType::BigInt | CqlType::Counter => DataType::Int64,
        CqlType::Float => DataType::Float32,
        CqlType::Double => DataType::Float64,
        CqlType::Timestamp => DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
        CqlType::Date => DataType::Date32,
        CqlType::Time if opts.spark => DataType::Int64,
        CqlType::Time => DataType::Time64(TimeUnit::Nanosecond),
        CqlType::Uuid | CqlType::TimeUuid if opts.spark => DataType::Utf8,
        CqlType::Uuid | CqlType::TimeUuid => DataType::FixedSizeBinary(16),
        CqlType::Duration => DataType::Struct(duration_fields()),
        CqlType::List { element, .. } | CqlType::Set { element, .. } => {
            DataType::List(Arc::new(field("element", element, opts)))
        }
        CqlType::Map { key, value, .. } => DataType::Map(map_entries(key, value, opts), false),
        CqlType::Tuple(items) => DataType::Struct(
            items
                .iter()
                .enumerate()
                .map(|(i, t)| field(&format!("f{i}"), t, opts))
                .collect(),
        ),
        CqlType::Udt(u) => {
            DataType::Struct(u.fields.iter().map(|(n, t)| field(n, t, opts)).collect())
        }
        CqlType::Vector { element, dimension } => DataType::FixedSizeList(
            Arc::new(field("element", element, opts)),
            i32::try_from(*dimension).unwrap_or(i32::MAX),
        ),
        CqlType::Reversed(inner) => data_type(inner, opts),
        _ => DataType::Binary,
    }
}

fn duration_fields() -> Fields {
    Fields::from(vec![
        Field::new("months", DataType::Int32, false),
        Field::new("days", DataType::Int32, false),
        Field::new("nanoseconds", DataType::Int64, false),
    ])
}

fn map_entries(key: &CqlType, value: &CqlType, opts: MapOptions) -> FieldRef {
    let k = field("key", key, opts).with_nullable(false);
    let v = field("value", value, opts);
    Arc::new(Field::new(
        "key_value",
        DataType::Struct(Fields::from(vec![k, v])),
        false,
    ))
}

/// A builder for one column of one CQL type.
#[derive(Debug)]
pub enum ColumnBuilder {
    /// Text, ascii, inet, varint, decimal (exact string), uuid under `--compat spark`.
    Utf8(StringBuilder, Kind),
    /// Blob and custom types.
    Binary(BinaryBuilder),
    /// The empty type of compact-storage values: always null.
    Null(usize),
    /// boolean.
    Bool(BooleanBuilder),
    /// tinyint.
    I8(Int8Builder),
    /// smallint.
    I16(Int16Builder),
    /// int.
    I32(Int32Builder),
    /// bigint, counter; time under `--compat spark`.
    I64(Int64Builder),
    /// float.
    F32(Float32Builder),
    /// double.
    F64(Float64Builder),
    /// timestamp.
    Timestamp(TimestampMillisecondBuilder),
    /// date.
    Date(Date32Builder),
    /// time.
    Time(Time64NanosecondBuilder),
    /// uuid, timeuuid.
    Uuid(FixedSizeBinaryBuilder),
    /// decimal under `--decimal P,S`.
    Decimal(Decimal128Builder, u8, i8),
    /// Struct children (duration, tuple, UDT) and its validity.
    Struct(Fields, Vec<ColumnBuilder>, NullBufferBuilder, Kind),
    /// list, set.
    List(FieldRef, Vec<i32>, NullBufferBuilder, Box<ColumnBuilder>),
    /// map.
    Map(
        FieldRef,
        Vec<i32>,
        NullBufferBuilder,
        Box<ColumnBuilder>,
        Box<ColumnBuilder>,
    ),
    /// vector.
    FixedList(FieldRef, i32, NullBufferBuilder, Box<ColumnBuilder>),
}

/// What a `Utf8` or `Struct` builder holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Plain.
    Plain,
    /// Exact decimal text of a `decimal`.
    Decimal,
    /// A `duration` struct.
    Duration,
    /// A tuple (positional fields).
    Tuple,
}

impl ColumnBuilder {
    /// A builder for values of `ty`.
    pub fn new(ty: &CqlType, opts: MapOptions) -> Self {
        let cap = 1024;
        match (ty.unreversed(), data_type(ty, opts)) {
            (CqlType::Decimal, DataType::Utf8) => {
                ColumnBuilder::Utf8(StringBuilder::with_capacity(cap, cap * 8), Kind::Decimal)
            }
            (_, DataType::Utf8) => {
                ColumnBuilder::Utf8(StringBuilder::with_capacity(cap, cap * 16), Kind::Plain)
            }
            (_, DataType::Binary) => {
                ColumnBuilder::Binary(BinaryBuilder::with_capacity(cap, cap * 16))
            }
            (_, DataType::Null) => ColumnBuilder::Null(0),
            (_, DataType::Boolean) => ColumnBuilder::Bool(BooleanBuilder::with_capacity(cap)),
            (_, DataType::Int8) => ColumnBuilder::I8(Int8Builder::with_capacity(cap)),
            (_, DataType::Int16) => ColumnBuilder::I16(Int16Builder::with_capacity(cap)),
            (_, DataType::Int32) => ColumnBuilder::I32(Int32Builder::with_capacity(cap)),
            (_, DataType::Int64) => ColumnBuilder::I64(Int64Builder::with_capacity(cap)),
            (_, DataType::Float32) => ColumnBuilder::F32(Float32Builder::with_capacity(cap)),
            (_, DataType::Float64) => ColumnBuilder::F64(Float64Builder::with_capacity(cap)),
            (_, DataType::Timestamp(..)) => ColumnBuilder::Timestamp(
                TimestampMillisecondBuilder::with_capacity(cap).with_timezone("UTC"),
            ),
            (_, DataType::Date32) => ColumnBuilder::Date(Date32Builder::with_capacity(cap)),
            (_, DataType::Time64(_)) => {
                ColumnBuilder::Time(Time64NanosecondBuilder::with_capacity(cap))
            }
            (_, DataType::FixedSizeBinary(_)) => {
                ColumnBuilder::Uuid(FixedSizeBinaryBuilder::with_capacity(cap, 16))
            }
            (_, DataType::Decimal128(p, s)) => ColumnBuilder::Decimal(
                Decimal128Builder::with_capacity(cap)
                    .with_precision_and_scale(p, s)
                    .unwrap_or_default(),
                p,
                s,
            ),
            (CqlType::Duration, DataType::Struct(fields)) => ColumnBuilder::Struct(
                fields,
                vec![
                    ColumnBuilder::I32(Int32Builder::with_capacity(cap)),
                    ColumnBuilder::I32(Int32Builder::with_capacity(cap)),
                    ColumnBuilder::I64(Int64Builder::with_capacity(cap)),
                ],
                NullBufferBuilder::new(cap),
                Kind::Duration,
            ),
            (CqlType::Tuple(items), DataType::Struct(fields)) => ColumnBuilder::Struct(
                fields,
                items.iter().map(|t| ColumnBuilder::new(t, opts)).collect(),
                NullBufferBuilder::new(cap),
                Kind::Tuple,
            ),
            (CqlType::Udt(u), DataType::Struct(fields)) => ColumnBuilder::Struct(
                fields,
                u.fields
                    .iter()
                    .map(|(_, t)| ColumnBuilder::new(t, opts))
                    .collect(),
                NullBufferBuilder::new(cap),
                Kind::Plain,
            ),
            (CqlType::List { element, .. } | CqlType::Set { element, .. }, DataType::List(f)) => {
                ColumnBuilder::List(
                    f,
                    vec![0],
                    NullBufferBuilder::new(cap),
                    Box::new(ColumnBuilder::new(element, opts)),
                )
            }
            (CqlType::Map { key, value, .. }, DataType::Map(f, _)) => ColumnBuilder::Map(
                f,
                vec![0],
                NullBufferBuilder::new(cap),
                Box::new(ColumnBuilder::new(key, opts)),
                Box::new(ColumnBuilder::new(value, opts)),
            ),
            (CqlType::Vector { element, .. }, DataType::FixedSizeList(f, n)) => {
                ColumnBuilder::FixedList(
                    f,
                    n,
                    NullBufferBuilder::new(cap),
                    Box::new(ColumnBuilder::new(element, opts)),
                )
            }
            // Unreachable by construction of `data_type`; keep the bytes.
            _ => ColumnBuilder::Binary(BinaryBuilder::new()),
        }
    }

    /// Appends a null.
    pub fn append_null(&mut self) {
        match self {
            ColumnBuilder::Utf8(b, _) => b.append_null(),
            ColumnBuilder::Binary(b) => b.append_null(),
            ColumnBuilder::Null(n) => *n += 1,
            ColumnBuilder::Bool(b) => b.append_null(),
            ColumnBuilder::I8(b) => b.append_null(),
            ColumnBuilder::I16(b) => b.append_null(),
            ColumnBuilder::I32(b) => b.append_null(),
            ColumnBuilder::I64(b) => b.append_null(),
            ColumnBuilder::F32(b) => b.append_null(),
            ColumnBuilder::F64(b) => b.append_null(),
            ColumnBuilder::Timestamp(b) => b.append_null(),
            ColumnBuilder::Date(b) => b.append_null(),
            ColumnBuilder::Time(b) => b.append_null(),
            ColumnBuilder::Uuid(b) => b.append_null(),
            ColumnBuilder::Decimal(b, ..) => b.append_null(),
            ColumnBuilder::Struct(_, children, nulls, kind) => {
                for c in children.iter_mut() {
                    if *kind == Kind::Duration {
                        c.append_zero();
                    } else {
                        c.append_null();
                    }
                }
                nulls.append_null();
            }
            ColumnBuilder::List(_, offsets, nulls, _)
            | ColumnBuilder::Map(_, offsets, nulls, ..) => {
                let last = offsets.last().copied().unwrap_or(0);
                offsets.push(last);
                nulls.append_null();
            }
            ColumnBuilder::FixedList(_, n, nulls, child) => {
                for _ in 0..*n {
                    child.append_null();
                }
                nulls.append_null();
            }
        }
    }

    /// A zero in a non-nullable child (the parts of a null duration).
    fn append_zero(&mut self) {
        match self {
            ColumnBuilder::I32(b) => b.append_value(0),
            ColumnBuilder::I64(b) => b.append_value(0),
            other => other.append_null(),
        }
    }

    /// Appends one value; `Value::Null` appends a null.
    pub fn append(&mut self, v: &Value<'_>) -> Result<(), Error> {
        match (self, v) {
            (b, Value::Null) => b.append_null(),
            (ColumnBuilder::Utf8(b, _), Value::Ascii(s) | Value::Text(s)) => b.append_value(s),
            (ColumnBuilder::Utf8(b, _), Value::Inet(ip)) => {
                write_inet(b, ip);
            }
            (ColumnBuilder::Utf8(b, _), Value::Varint(bytes)) => {
                let mut s = String::new();
                write_varint(&mut s, bytes);
                b.append_value(&s);
            }
            (ColumnBuilder::Utf8(b, _), Value::Decimal { scale, unscaled }) => {
                b.append_value(plain_decimal(*scale, unscaled));
            }
            (ColumnBuilder::Utf8(b, _), Value::Uuid(u) | Value::TimeUuid(u)) => {
                b.append_value(format_uuid(u));
            }
            (ColumnBuilder::Binary(b), Value::Blob(x) | Value::Custom(x)) => b.append_value(x),
            (ColumnBuilder::Null(n), _) => *n += 1,
            (ColumnBuilder::Bool(b), Value::Boolean(x)) => b.append_value(*x),
            (ColumnBuilder::I8(b), Value::TinyInt(x)) => b.append_value(*x),
            (ColumnBuilder::I16(b), Value::SmallInt(x)) => b.append_value(*x),
            (ColumnBuilder::I32(b), Value::Int(x)) => b.append_value(*x),
            (ColumnBuilder::I64(b), Value::BigInt(x) | Value::Counter(x) | Value::Time(x)) => {
                b.append_value(*x)
            }
            (ColumnBuilder::F32(b), Value::Float(x)) => b.append_value(*x),
            (ColumnBuilder::F64(b), Value::Double(x)) => b.append_value(*x),
            (ColumnBuilder::Timestamp(b), Value::Timestamp(x)) => b.append_value(*x),
            (ColumnBuilder::Date(b), Value::Date(d)) => {
                // The raw day count has 1970-01-01 at 2^31: every value fits an i32.
                b.append_value((i64::from(*d) - (1_i64 << 31)) as i32)
            }
            (ColumnBuilder::Time(b), Value::Time(x)) => b.append_value(*x),
            (ColumnBuilder::Uuid(b), Value::Uuid(u) | Value::TimeUuid(u)) => b
                .append_value(u)
                .map_err(|e| Error::Export(format!("uuid: {e}")))?,
            (ColumnBuilder::Decimal(b, p, s), Value::Decimal { scale, unscaled }) => {
                b.append_value(rescale_decimal(unscaled, *scale, *p, *s)?)
            }
            (
                ColumnBuilder::Struct(_, children, nulls, Kind::Duration),
                Value::Duration {
                    months,
                    days,
                    nanos,
                },
            ) => {
                let mut it = children.iter_mut();
                if let Some(ColumnBuilder::I32(b)) = it.next() {
                    b.append_value(*months);
                }
                if let Some(ColumnBuilder::I32(b)) = it.next() {
                    b.append_value(*days);
                }
                if let Some(ColumnBuilder::I64(b)) = it.next() {
                    b.append_value(*nanos);
                }
                nulls.append_non_null();
            }
            (ColumnBuilder::Struct(_, children, nulls, _), Value::Tuple(items)) => {
                let mut items = items.iter();
                for c in children.iter_mut() {
                    match items.next() {
                        Some(v) => c.append(v)?,
                        None => c.append_null(),
                    }
                }
                nulls.append_non_null();
            }
            (ColumnBuilder::Struct(_, children, nulls, _), Value::Udt(fields)) => {
                let mut fields = fields.iter();
                for c in children.iter_mut() {
                    match fields.next() {
                        Some((_, v)) => c.append(v)?,
                        None => c.append_null(),
                    }
                }
                nulls.append_non_null();
            }
            (
                ColumnBuilder::List(_, offsets, nulls, child),
                Value::List(items) | Value::Set(items),
            ) => {
                for v in items {
                    child.append(v)?;
                }
                push_offset(offsets, items.len())?;
                nulls.append_non_null();
            }
            (ColumnBuilder::Map(_, offsets, nulls, keys, values), Value::Map(entries)) => {
                for (k, v) in entries {
                    if matches!(k, Value::Null) {
                        return Err(Error::Export("a map has a null (empty) key".into()));
                    }
                    keys.append(k)?;
                    values.append(v)?;
                }
                push_offset(offsets, entries.len())?;
                nulls.append_non_null();
            }
            (ColumnBuilder::FixedList(_, n, nulls, child), Value::Vector(items)) => {
                if items.len() != usize::try_from(*n).unwrap_or(0) {
                    return Err(Error::Export(format!(
                        "a vector has {} elements, its type {n}",
                        items.len()
                    )));
                }
                for v in items {
                    child.append(v)?;
                }
                nulls.append_non_null();
            }
            (b, v) => {
                return Err(Error::Export(format!(
                    "value {v:?} does not match the column's Arrow type {}",
                    b.type_name()
                )))
            }
        }
        Ok(())
    }

    fn type_name(&self) -> &'static str {
        match self {
            ColumnBuilder::Utf8(..) => "Utf8",
            ColumnBuilder::Binary(_) => "Binary",
            ColumnBuilder::Null(_) => "Null",
            ColumnBuilder::Bool(_) => "Boolean",
            ColumnBuilder::I8(_) => "Int8",
            ColumnBuilder::I16(_) => "Int16",
            ColumnBuilder::I32(_) => "Int32",
            ColumnBuilder::I64(_) => "Int64",
            ColumnBuilder::F32(_) => "Float32",
            ColumnBuilder::F64(_) => "Float64",
            ColumnBuilder::Timestamp(_) => "Timestamp",
            ColumnBuilder::Date(_) => "Date32",
            ColumnBuilder::Time(_) => "Time64",
            ColumnBuilder::Uuid(_) => "FixedSizeBinary(16)",
            ColumnBuilder::Decimal(..) => "Decimal128",
            ColumnBuilder::Struct(..) => "Struct",
            ColumnBuilder::List(..) => "List",
            ColumnBuilder::Map(..) => "Map",
            ColumnBuilder::FixedList(..) => "FixedSizeList",
        }
    }

    /// Finishes the values so far into an array, leaving the builder empty.
    pub fn finish(&mut self) -> Result<ArrayRef, Error> {
        let arrow = |e: arrow_schema::ArrowError| Error::Export(e.to_string());
        Ok(match self {
            ColumnBuilder::Utf8(b, _) => Arc::new(b.finish()),
            ColumnBuilder::Binary(b) => Arc::new(b.finish()),
            ColumnBuilder::Null(n) => Arc::new(NullArray::new(std::mem::take(n))),
            ColumnBuilder::Bool(b) => Arc::new(b.finish()),
            ColumnBuilder::I8(b) => Arc::new(b.finish()),
            ColumnBuilder::I16(b) => Arc::new(b.finish()),
            ColumnBuilder::I32(b) => Arc::new(b.finish()),
            ColumnBuilder::I64(b) => Arc::new(b.finish()),
            ColumnBuilder::F32(b) => Arc::new(b.finish()),
            ColumnBuilder::F64(b) => Arc::new(b.finish()),
            ColumnBuilder::Timestamp(b) => Arc::new(b.finish()),
            ColumnBuilder::Date(b) => Arc::new(b.finish()),
            ColumnBuilder::Time(b) => Arc::new(b.finish()),
            ColumnBuilder::Uuid(b) => Arc::new(b.finish()),
            ColumnBuilder::Decimal(b, ..) => Arc::new(b.finish()),
            ColumnBuilder::Struct(fields, children, nulls, _) => {
                let arrays = children
                    .iter_mut()
                    .map(|c| c.finish())
                    .collect::<Result<Vec<_>, _>>()?;
                let len = nulls.len();
                let nulls = nulls.finish();
                if fields.is_empty() {
                    Arc::new(StructArray::new_empty_fields(len, nulls))
                } else {
                    Arc::new(StructArray::try_new(fields.clone(), arrays, nulls).map_err(arrow)?)
                }
            }
            ColumnBuilder::List(f, offsets, nulls, child) => {
                let values = child.finish()?;
                let offsets = take_offsets(offsets);
                Arc::new(
                    ListArray::try_new(f.clone(), offsets, values, nulls.finish())
                        .map_err(arrow)?,
                )
            }
            ColumnBuilder::Map(f, offsets, nulls, keys, values) => {
                let (k, v) = (keys.finish()?, values.finish()?);
                let DataType::Struct(entry_fields) = f.data_type() else {
                    return Err(Error::Export("map entries are not a struct".into()));
                };
                let entries =
                    StructArray::try_new(entry_fields.clone(), vec![k, v], None).map_err(arrow)?;
                let offsets = take_offsets(offsets);
                Arc::new(
                    MapArray::try_new(f.clone(), offsets, entries, nulls.finish(), false)
                        .map_err(arrow)?,
                )
            }
            ColumnBuilder::FixedList(f, n, nulls, child) => {
                let values = child.finish()?;
                Arc::new(
                    FixedSizeListArray::try_new(f.clone(), *n, values, nulls.finish())
                        .map_err(arrow)?,
                )
            }
        })
    }

    /// The number of values appended since the last finish.
    pub fn len(&self) -> usize {
        use arrow_array::builder::ArrayBuilder;
        match self {
            ColumnBuilder::Utf8(b, _) => b.len(),
            ColumnBuilder::Binary(b) => b.len(),
            ColumnBuilder::Null(n) => *n,
            ColumnBuilder::Bool(b) => b.len(),
            ColumnBuilder::I8(b) => b.len(),
            ColumnBuilder::I16(b) => b.len(),
            ColumnBuilder::I32(b) => b.len(),
            ColumnBuilder::I64(b) => b.len(),
            ColumnBuilder::F32(b) => b.len(),
            ColumnBuilder::F64(b) => b.len(),
            ColumnBuilder::Timestamp(b) => b.len(),
            ColumnBuilder::Date(b) => b.len(),
            ColumnBuilder::Time(b) => b.len(),
            ColumnBuilder::Uuid(b) => b.len(),
            ColumnBuilder::Decimal(b, ..) => b.len(),
            ColumnBuilder::Struct(_, _, nulls, _)
            | ColumnBuilder::List(_, _, nulls, _)
            | ColumnBuilder::Map(_, _, nulls, ..)
            | ColumnBuilder::FixedList(_, _, nulls, _) => nulls.len(),
        }
    }

    /// Whether nothing was appended since the last finish.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

pub(crate) fn push_offset(offsets: &mut Vec<i32>, n: usize) -> Result<(), Error> {
    let last = offsets.last().copied().unwrap_or(0);
    let next = i32::try_from(n)
        .ok()
        .and_then(|n| last.checked_add(n))
        .ok_or_else(|| Error::Export("more than 2^31 collection elements in a batch".into()))?;
    offsets.push(next);
    Ok(())
}

fn take_offsets(offsets: &mut Vec<i32>) -> OffsetBuffer<i32> {
    let taken = std::mem::replace(offsets, vec![0]);
    OffsetBuffer::new(ScalarBuffer::from(taken))
}

fn write_inet(b: &mut StringBuilder, ip: &IpAddr) {
    let _ = write!(b, "{ip}");
    b.append_value("");
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, lower case.
pub fn format_uuid(u: &[u8; 16]) -> String {
    let mut s = String::with_capacity(36);
    for (i, b) in u.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The exact value of `unscaled × 10^-scale` in plain notation (Java's `toPlainString`): every
/// engine casts it to its decimal or double type.
pub fn plain_decimal(scale: i32, unscaled: &[u8]) -> String {
    let (mut out, mut digits) = (String::new(), String::new());
    write_plain_decimal(&mut out, &mut digits, scale, unscaled);
    out
}

/// [`plain_decimal`] appended to `out`, with `digits` as scratch space (no allocation once the
/// buffers have grown).
pub fn write_plain_decimal(out: &mut String, digits: &mut String, scale: i32, unscaled: &[u8]) {
    digits.clear();
    write_varint(digits, unscaled);
    let (negative, digits) = match digits.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, digits.as_str()),
    };
    if negative {
        out.push('-');
    }
    if scale <= 0 {
        out.push_str(digits);
        if digits != "0" {
            out.extend(std::iter::repeat_n('0', scale.unsigned_abs() as usize));
        }
        return;
    }
    let scale = scale as usize;
    if digits.len() > scale {
        let (int, frac) = digits.split_at(digits.len() - scale);
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    } else {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', scale - digits.len()));
        out.push_str(digits);
    }
}

/// The unscaled value at scale `s` of a decimal, if it fits precision `p` exactly.
pub fn rescale_decimal(unscaled: &[u8], scale: i32, p: u8, s: i8) -> Result<i128, Error> {
    let text = || plain_decimal(scale, unscaled);
    let fail = |why: &str| {
        Error::Export(format!(
            "decimal {} does not fit --decimal {p},{s} ({why})",
            text()
        ))
    };
    let mut v = varint_i128(unscaled).ok_or_else(|| fail("more than 38 digits"))?;
    let shift = i64::from(s) - i64::from(scale);
    if shift > 0 {
        for _ in 0..shift {
            v = v
                .checked_mul(10)
                .ok_or_else(|| fail("more than 38 digits"))?;
        }
    } else {
        for _ in 0..shift.unsigned_abs() {
            if v % 10 != 0 {
                return Err(fail("it would be rounded"));
            }
            v /= 10;
        }
    }
    let limit = 10_i128.checked_pow(u32::from(p)).unwrap_or(i128::MAX);
    if v.unsigned_abs() >= limit.unsigned_abs() {
        return Err(fail("too many digits"));
    }
    Ok(v)
}

/// A big-endian two's-complement integer as an i128, if it fits.
fn varint_i128(bytes: &[u8]) -> Option<i128> {
    let negative = bytes.first().is_some_and(|b| b & 0x80 != 0);
    let fill = if negative { 0xff } else { 0 };
    let start = bytes
        .iter()
        .position(|&b| b != fill)
        .unwrap_or(bytes.len())
        .saturating_sub(1);
    let bytes = bytes.get(start..).unwrap_or(&[]);
    if bytes.len() > 16 {
        return None;
    }
    let mut buf = [fill; 16];
    let off = 16 - bytes.len();
    buf.get_mut(off..)?.copy_from_slice(bytes);
    let v = i128::from_be_bytes(buf);
    // A positive value whose top kept byte has the sign bit set needs its leading zero.
    if (v < 0) != negative {
        return None;
    }
    Some(v)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
    use super::*;
    use arrow_array::Array;

    #[test]
    fn plain_decimals() {
        assert_eq!(plain_decimal(2, &[0x02, 0x21]), "5.45");
        assert_eq!(plain_decimal(0, &[0x7b]), "123");
        assert_eq!(plain_decimal(-3, &[0x01]), "1000");
        assert_eq!(plain_decimal(5, &[0xff]), "-0.00001");
        assert_eq!(plain_decimal(1, &[0x00]), "0.0");
    }

    #[test]
    fn decimals_rescale_or_fail() {
        // 5.45 into (10, 4) = 54500.
        assert_eq!(rescale_decimal(&[0x02, 0x21], 2, 10, 4).unwrap(), 54_500);
        // 5.45 into (10, 1) would round.
        assert!(rescale_decimal(&[0x02, 0x21], 2, 10, 1).is_err());
        // 5.40 into (10, 1) = 54.
        assert_eq!(rescale_decimal(&[0x02, 0x1c], 2, 10, 1).unwrap(), 54);
        // 12345 into (4, 0) has too many digits.
        assert!(rescale_decimal(&[0x30, 0x39], 0, 4, 0).is_err());
        // -1 and a 17-byte value.
        assert_eq!(rescale_decimal(&[0xff], 0, 38, 0).unwrap(), -1);
        let big = [&[0x01][..], &[0u8; 16][..]].concat();
        assert!(rescale_decimal(&big, 0, 38, 0).is_err());
        assert_eq!(varint_i128(&[0x00, 0x80]), Some(128));
        assert_eq!(varint_i128(&[0xff, 0x7f]), Some(-129));
    }

    #[test]
    fn builders_nest() {
        let ty = CqlType::parse_type_string(
            "MapType(UTF8Type,FrozenType(ListType(TupleType(Int32Type,UUIDType))))",
        )
        .unwrap();
        let mut b = ColumnBuilder::new(&ty, MapOptions::default());
        b.append(&Value::Map(vec![(
            Value::Text("a"),
            Value::List(vec![Value::Tuple(vec![
                Value::Int(1),
                Value::Uuid([7; 16]),
            ])]),
        )]))
        .unwrap();
        b.append_null();
        let a = b.finish().unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(a.data_type(), &data_type(&ty, MapOptions::default()));
        assert!(a.is_null(1));
    }
}
