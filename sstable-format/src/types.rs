//! CQL type trees: parsed from Cassandra's marshal type strings (the serialization header,
//! `TypeParser`) and printed as CQL. The schema module builds the same tree from CQL text.

use std::fmt;

use crate::error::{Component, Error, Result};

/// A user-defined type's definition.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UdtDef {
    /// Keyspace of the type.
    pub keyspace: String,
    /// Type name.
    pub name: String,
    /// Fields in declaration order.
    pub fields: Vec<(String, CqlType)>,
    /// `frozen<...>` (one value) rather than one cell per field.
    pub frozen: bool,
}

/// A CQL type (mirrors Cassandra's `AbstractType` subclasses).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CqlType {
    /// `ascii` (AsciiType).
    Ascii,
    /// `text`/`varchar` (UTF8Type).
    Text,
    /// `blob` (BytesType).
    Blob,
    /// `boolean` (BooleanType).
    Boolean,
    /// `tinyint` (ByteType).
    TinyInt,
    /// `smallint` (ShortType).
    SmallInt,
    /// `int` (Int32Type).
    Int,
    /// `bigint` (LongType).
    BigInt,
    /// `varint` (IntegerType).
    Varint,
    /// `float` (FloatType).
    Float,
    /// `double` (DoubleType).
    Double,
    /// `decimal` (DecimalType).
    Decimal,
    /// `uuid` (UUIDType; LexicalUUIDType reads the same).
    Uuid,
    /// `timeuuid` (TimeUUIDType).
    TimeUuid,
    /// `timestamp` (TimestampType, legacy DateType).
    Timestamp,
    /// `date` (SimpleDateType).
    Date,
    /// `time` (TimeType).
    Time,
    /// `inet` (InetAddressType).
    Inet,
    /// `duration` (DurationType).
    Duration,
    /// `counter` (CounterColumnType).
    Counter,
    /// The empty type of compact-storage value columns (EmptyType).
    Empty,
    /// `list<T>`.
    List {
        /// Element type.
        element: Box<CqlType>,
        /// One value instead of one cell per element.
        frozen: bool,
    },
    /// `set<T>`.
    Set {
        /// Element type.
        element: Box<CqlType>,
        /// One value instead of one cell per element.
        frozen: bool,
    },
    /// `map<K, V>`.
    Map {
        /// Key type.
        key: Box<CqlType>,
        /// Value type.
        value: Box<CqlType>,
        /// One value instead of one cell per entry.
        frozen: bool,
    },
    /// `tuple<...>` (always frozen).
    Tuple(Vec<CqlType>),
    /// A user-defined type.
    Udt(Box<UdtDef>),
    /// `vector<T, n>` (5.0).
    Vector {
        /// Element type.
        element: Box<CqlType>,
        /// Dimension.
        dimension: u32,
    },
    /// A DESC clustering column's type (ReversedType): values are stored as the inner type.
    Reversed(Box<CqlType>),
    /// A composite partition key or 2.x comparator (CompositeType).
    Composite(Vec<CqlType>),
    /// Any other class (custom types, DynamicCompositeType...): values are kept as bytes.
    Custom(String),
}

const MARSHAL_PREFIX: &str = "org.apache.cassandra.db.marshal.";

impl CqlType {
    /// Parses a marshal type string such as `MapType(UTF8Type,FrozenType(ListType(Int32Type)))`.
    pub fn parse_type_string(s: &str) -> Result<CqlType> {
        let mut p = TypeStringParser { s, pos: 0 };
        let t = p.parse(false)?;
        p.skip_ws();
        if p.pos != s.len() {
            return Err(p.err("trailing characters after type"));
        }
        Ok(t)
    }

    /// The type without a `ReversedType` wrapper.
    pub fn unreversed(&self) -> &CqlType {
        match self {
            CqlType::Reversed(inner) => inner.unreversed(),
            other => other,
        }
    }

    /// Whether values of a column of this type are stored as several cells (a non-frozen
    /// collection or UDT).
    pub fn is_multi_cell(&self) -> bool {
        match self.unreversed() {
            CqlType::List { frozen, .. }
            | CqlType::Set { frozen, .. }
            | CqlType::Map { frozen, .. } => !frozen,
            CqlType::Udt(u) => !u.frozen,
            _ => false,
        }
    }

    /// Whether the type is a counter.
    pub fn is_counter(&self) -> bool {
        matches!(self.unreversed(), CqlType::Counter)
    }

    /// The same type marked frozen (collections and UDTs); other types are returned as is.
    pub fn frozen(mut self) -> CqlType {
        self.set_frozen(true);
        self
    }

    fn set_frozen(&mut self, f: bool) {
        match self {
            CqlType::List { frozen, .. }
            | CqlType::Set { frozen, .. }
            | CqlType::Map { frozen, .. } => *frozen = f,
            CqlType::Udt(u) => u.frozen = f,
            CqlType::Reversed(inner) => inner.set_frozen(f),
            _ => {}
        }
    }

    /// The fixed serialized width of values in 3.0+ cells and clustering, if the type has
    /// one (`AbstractType.valueLengthIfFixed`).
    pub fn fixed_length(&self) -> Option<usize> {
        match self {
            CqlType::Boolean => Some(1),
            CqlType::Int | CqlType::Float => Some(4),
            CqlType::BigInt | CqlType::Double | CqlType::Timestamp => Some(8),
            CqlType::Uuid | CqlType::TimeUuid => Some(16),
            CqlType::Empty => Some(0),
            CqlType::Reversed(inner) => inner.fixed_length(),
            CqlType::Vector { element, dimension } => element
                .fixed_length()
                .and_then(|w| w.checked_mul(*dimension as usize)),
            _ => None,
        }
    }

    /// The Cassandra marshal type string of the type, as `AbstractType.toString()` writes it in
    /// serialization headers (class names with the `org.apache.cassandra.db.marshal.` prefix):
    /// the inverse of [`CqlType::parse_type_string`]. A frozen collection or UDT is wrapped in
    /// `FrozenType(...)` unless it sits inside a frozen parent or a tuple, where the freezing is
    /// implied (`ListType.toString(boolean ignoreFreezing)`, `UserType`, `TupleType`).
    pub fn to_type_string(&self) -> String {
        let mut out = String::new();
        self.write_type_string(false, &mut out);
        out
    }

    fn write_type_string(&self, ignore_freezing: bool, out: &mut String) {
        fn class(out: &mut String, name: &str) {
            out.push_str(MARSHAL_PREFIX);
            out.push_str(name);
        }
        fn params(out: &mut String, items: &[&CqlType], ignore_freezing: bool) {
            out.push('(');
            for (i, t) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                t.write_type_string(ignore_freezing, out);
            }
            out.push(')');
        }
        fn hex(out: &mut String, s: &str) {
            for b in s.as_bytes() {
                out.push_str(&format!("{b:02x}"));
            }
        }
        // Wraps a collection or UDT in FrozenType when it is frozen and not inside a frozen
        // parent; returns the freezing its children are printed with.
        let frozen_open = |out: &mut String, frozen: bool| {
            let wrap = frozen && !ignore_freezing;
            if wrap {
                class(out, "FrozenType(");
            }
            (wrap, ignore_freezing || frozen)
        };
        match self {
            CqlType::Ascii => class(out, "AsciiType"),
            CqlType::Text => class(out, "UTF8Type"),
            CqlType::Blob => class(out, "BytesType"),
            CqlType::Boolean => class(out, "BooleanType"),
            CqlType::TinyInt => class(out, "ByteType"),
            CqlType::SmallInt => class(out, "ShortType"),
            CqlType::Int => class(out, "Int32Type"),
            CqlType::BigInt => class(out, "LongType"),
            CqlType::Varint => class(out, "IntegerType"),
            CqlType::Float => class(out, "FloatType"),
            CqlType::Double => class(out, "DoubleType"),
            CqlType::Decimal => class(out, "DecimalType"),
            CqlType::Uuid => class(out, "UUIDType"),
            CqlType::TimeUuid => class(out, "TimeUUIDType"),
            CqlType::Timestamp => class(out, "TimestampType"),
            CqlType::Date => class(out, "SimpleDateType"),
            CqlType::Time => class(out, "TimeType"),
            CqlType::Inet => class(out, "InetAddressType"),
            CqlType::Duration => class(out, "DurationType"),
            CqlType::Counter => class(out, "CounterColumnType"),
            CqlType::Empty => class(out, "EmptyType"),
            CqlType::List { element, frozen } | CqlType::Set { element, frozen } => {
                let (wrap, inner) = frozen_open(out, *frozen);
                let name = if matches!(self, CqlType::List { .. }) {
                    "ListType"
                } else {
                    "SetType"
                };
                class(out, name);
                params(out, &[element], inner);
                if wrap {
                    out.push(')');
                }
            }
            CqlType::Map { key, value, frozen } => {
                let (wrap, inner) = frozen_open(out, *frozen);
                class(out, "MapType");
                params(out, &[key, value], inner);
                if wrap {
                    out.push(')');
                }
            }
            CqlType::Tuple(items) => {
                class(out, "TupleType");
                params(out, &items.iter().collect::<Vec<_>>(), true);
            }
            CqlType::Udt(u) => {
                let (wrap, inner) = frozen_open(out, u.frozen);
                class(out, "UserType(");
                out.push_str(&u.keyspace);
                out.push(',');
                hex(out, &u.name);
                for (name, ty) in &u.fields {
                    out.push(',');
                    hex(out, name);
                    out.push(':');
                    ty.write_type_string(inner, out);
                }
                out.push(')');
                if wrap {
                    out.push(')');
                }
            }
            CqlType::Vector { element, dimension } => {
                class(out, "VectorType(");
                element.write_type_string(true, out);
                out.push_str(&format!(" , {dimension})"));
            }
            CqlType::Reversed(inner) => {
                class(out, "ReversedType(");
                inner.write_type_string(false, out);
                out.push(')');
            }
            CqlType::Composite(items) => {
                class(out, "CompositeType");
                params(out, &items.iter().collect::<Vec<_>>(), false);
            }
            CqlType::Custom(s) => out.push_str(s),
        }
    }

    /// The CQL name of the type (`frozen<map<text, int>>`).
    pub fn cql_name(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for CqlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn frozen_wrap(
            f: &mut fmt::Formatter<'_>,
            frozen: bool,
            body: impl FnOnce(&mut fmt::Formatter<'_>) -> fmt::Result,
        ) -> fmt::Result {
            if frozen {
                f.write_str("frozen<")?;
                body(f)?;
                f.write_str(">")
            } else {
                body(f)
            }
        }
        match self {
            CqlType::Ascii => f.write_str("ascii"),
            CqlType::Text => f.write_str("text"),
            CqlType::Blob => f.write_str("blob"),
            CqlType::Boolean => f.write_str("boolean"),
            CqlType::TinyInt => f.write_str("tinyint"),
            CqlType::SmallInt => f.write_str("smallint"),
            CqlType::Int => f.write_str("int"),
            CqlType::BigInt => f.write_str("bigint"),
            CqlType::Varint => f.write_str("varint"),
            CqlType::Float => f.write_str("float"),
            CqlType::Double => f.write_str("double"),
            CqlType::Decimal => f.write_str("decimal"),
            CqlType::Uuid => f.write_str("uuid"),
            CqlType::TimeUuid => f.write_str("timeuuid"),
            CqlType::Timestamp => f.write_str("timestamp"),
            CqlType::Date => f.write_str("date"),
            CqlType::Time => f.write_str("time"),
            CqlType::Inet => f.write_str("inet"),
            CqlType::Duration => f.write_str("duration"),
            CqlType::Counter => f.write_str("counter"),
            CqlType::Empty => f.write_str("empty"),
            CqlType::List { element, frozen } => {
                frozen_wrap(f, *frozen, |f| write!(f, "list<{element}>"))
            }
            CqlType::Set { element, frozen } => {
                frozen_wrap(f, *frozen, |f| write!(f, "set<{element}>"))
            }
            CqlType::Map { key, value, frozen } => {
                frozen_wrap(f, *frozen, |f| write!(f, "map<{key}, {value}>"))
            }
            CqlType::Tuple(items) => {
                f.write_str("tuple<")?;
                for (i, t) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str(">")
            }
            CqlType::Udt(u) => frozen_wrap(f, u.frozen, |f| write!(f, "{}", u.name)),
            CqlType::Vector { element, dimension } => write!(f, "vector<{element}, {dimension}>"),
            CqlType::Reversed(inner) => write!(f, "{inner}"),
            CqlType::Composite(items) => {
                f.write_str("composite<")?;
                for (i, t) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str(">")
            }
            CqlType::Custom(class) => write!(f, "'{class}'"),
        }
    }
}

struct TypeStringParser<'s> {
    s: &'s str,
    pos: usize,
}

impl<'s> TypeStringParser<'s> {
    fn err(&self, msg: &str) -> Error {
        Error::invalid(
            Component::TypeString,
            self.pos as u64,
            format!("{msg} in type string {:?}", self.s),
        )
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<()> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.err(&format!("expected '{}'", c as char)))
        }
    }

    /// An identifier as TypeParser reads it: letters, digits and `_ - + . &`.
    fn ident(&mut self) -> Result<&'s str> {
        self.skip_ws();
        let start = self.pos;
        while self.peek().is_some_and(|c| {
            c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'+' | b'.' | b'&')
        }) {
            self.pos += 1;
        }
        if start == self.pos {
            return Err(self.err("expected a name"));
        }
        self.s
            .get(start..self.pos)
            .ok_or_else(|| self.err("bad name"))
    }

    /// The raw text of a balanced parameter list, for types we keep as opaque.
    fn raw_params(&mut self) -> Result<&'s str> {
        let start = self.pos;
        let mut depth = 0usize;
        loop {
            match self.peek() {
                None => return Err(self.err("unbalanced parentheses")),
                Some(b'(') => depth += 1,
                Some(b')') => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        self.pos += 1;
                        return self
                            .s
                            .get(start..self.pos)
                            .ok_or_else(|| self.err("bad params"));
                    }
                }
                _ => {}
            }
            self.pos += 1;
        }
    }

    fn params(&mut self, frozen_ctx: bool) -> Result<Vec<CqlType>> {
        self.expect(b'(')?;
        let mut out = Vec::new();
        if self.eat(b')') {
            return Ok(out);
        }
        loop {
            out.push(self.parse(frozen_ctx)?);
            if self.eat(b')') {
                return Ok(out);
            }
            self.expect(b',')?;
        }
    }

    fn hex_string(&self, hex: &str) -> Result<String> {
        let bytes = decode_hex(hex).ok_or_else(|| self.err("bad hex name"))?;
        String::from_utf8(bytes).map_err(|_| self.err("hex name is not UTF-8"))
    }

    fn parse(&mut self, frozen_ctx: bool) -> Result<CqlType> {
        let full = self.ident()?;
        let name = full.strip_prefix(MARSHAL_PREFIX).unwrap_or(full);
        self.skip_ws();
        let has_params = self.peek() == Some(b'(');
        let simple = |t: CqlType| Ok(t);
        match (name, has_params) {
            ("AsciiType", false) => simple(CqlType::Ascii),
            ("UTF8Type", false) => simple(CqlType::Text),
            ("BytesType", false) => simple(CqlType::Blob),
            ("BooleanType", false) => simple(CqlType::Boolean),
            ("ByteType", false) => simple(CqlType::TinyInt),
            ("ShortType", false) => simple(CqlType::SmallInt),
            ("Int32Type", false) => simple(CqlType::Int),
            ("LongType", false) => simple(CqlType::BigInt),
            ("IntegerType", false) => simple(CqlType::Varint),
            ("FloatType", false) => simple(CqlType::Float),
            ("DoubleType", false) => simple(CqlType::Double),
            ("DecimalType", false) => simple(CqlType::Decimal),
            ("UUIDType", false) | ("LexicalUUIDType", false) => simple(CqlType::Uuid),
            ("TimeUUIDType", false) => simple(CqlType::TimeUuid),
            ("TimestampType", false) | ("DateType", false) => simple(CqlType::Timestamp),
            ("SimpleDateType", false) => simple(CqlType::Date),
            ("TimeType", false) => simple(CqlType::Time),
            ("InetAddressType", false) => simple(CqlType::Inet),
            ("DurationType", false) => simple(CqlType::Duration),
            ("CounterColumnType", false) => simple(CqlType::Counter),
            ("EmptyType", false) => simple(CqlType::Empty),
            ("FrozenType", true) => {
                let mut p = self.params(true)?;
                match (p.pop(), p.is_empty()) {
                    (Some(inner), true) => Ok(inner.frozen()),
                    _ => Err(self.err("FrozenType takes one parameter")),
                }
            }
            ("ReversedType", true) => {
                let mut p = self.params(frozen_ctx)?;
                match (p.pop(), p.is_empty()) {
                    (Some(inner), true) => Ok(CqlType::Reversed(Box::new(inner))),
                    _ => Err(self.err("ReversedType takes one parameter")),
                }
            }
            ("ListType", true) | ("SetType", true) => {
                let mut p = self.params(frozen_ctx)?;
                let element = match (p.pop(), p.is_empty()) {
                    (Some(e), true) => Box::new(e),
                    _ => return Err(self.err("collection takes one parameter")),
                };
                Ok(if name == "ListType" {
                    CqlType::List {
                        element,
                        frozen: frozen_ctx,
                    }
                } else {
                    CqlType::Set {
                        element,
                        frozen: frozen_ctx,
                    }
                })
            }
            ("MapType", true) => {
                let mut p = self.params(frozen_ctx)?.into_iter();
                match (p.next(), p.next(), p.next()) {
                    (Some(k), Some(v), None) => Ok(CqlType::Map {
                        key: Box::new(k),
                        value: Box::new(v),
                        frozen: frozen_ctx,
                    }),
                    _ => Err(self.err("MapType takes two parameters")),
                }
            }
            ("TupleType", true) => Ok(CqlType::Tuple(self.params(true)?)),
            ("CompositeType", true) => Ok(CqlType::Composite(self.params(frozen_ctx)?)),
            ("UserType", true) => {
                // UserType(ks,hexname,hexfield:type,...)
                self.expect(b'(')?;
                let keyspace = self.ident()?.to_string();
                self.expect(b',')?;
                let hex = self.ident()?;
                let name = self.hex_string(hex)?;
                let mut fields = Vec::new();
                while self.eat(b',') {
                    let hex = self.ident()?;
                    let fname = self.hex_string(hex)?;
                    self.expect(b':')?;
                    let ftype = self.parse(true)?;
                    fields.push((fname, ftype));
                }
                self.expect(b')')?;
                Ok(CqlType::Udt(Box::new(UdtDef {
                    keyspace,
                    name,
                    fields,
                    frozen: frozen_ctx,
                })))
            }
            ("VectorType", true) => {
                self.expect(b'(')?;
                let element = self.parse(true)?;
                self.expect(b',')?;
                self.skip_ws();
                let digits = self.ident()?;
                let dimension = digits
                    .parse::<u32>()
                    .map_err(|_| self.err("bad vector dimension"))?;
                self.expect(b')')?;
                Ok(CqlType::Vector {
                    element: Box::new(element),
                    dimension,
                })
            }
            (_, true) => {
                let raw = self.raw_params()?;
                Ok(CqlType::Custom(format!("{full}{raw}")))
            }
            (_, false) => Ok(CqlType::Custom(full.to_string())),
        }
    }
}

/// Decodes lower- or upper-case hex.
pub fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    let b = hex.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    b.chunks_exact(2)
        .map(|pair| {
            let hi = (*pair.first()? as char).to_digit(16)?;
            let lo = (*pair.get(1)? as char).to_digit(16)?;
            u8::try_from(hi * 16 + lo).ok()
        })
        .collect()
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

    fn p(s: &str) -> CqlType {
        CqlType::parse_type_string(s).unwrap()
    }

    #[test]
    fn simple_and_qualified() {
        assert_eq!(p("Int32Type"), CqlType::Int);
        assert_eq!(p("org.apache.cassandra.db.marshal.UTF8Type"), CqlType::Text);
        assert_eq!(p("DateType"), CqlType::Timestamp);
    }

    #[test]
    fn collections_and_frozen() {
        assert_eq!(p("ListType(Int32Type)").to_string(), "list<int>");
        assert!(p("ListType(Int32Type)").is_multi_cell());
        let t = p("FrozenType(MapType(UTF8Type,ListType(Int32Type)))");
        assert_eq!(t.to_string(), "frozen<map<text, frozen<list<int>>>>");
        assert!(!t.is_multi_cell());
        let t = p("SetType(FrozenType(ListType(Int32Type)))");
        assert_eq!(t.to_string(), "set<frozen<list<int>>>");
        assert!(t.is_multi_cell());
    }

    #[test]
    fn udt_tuple_vector_reversed() {
        let t = p("UserType(ks,61646472657373,737472656574:UTF8Type,7a6970:Int32Type)");
        match &t {
            CqlType::Udt(u) => {
                assert_eq!(u.name, "address");
                assert_eq!(u.fields[0].0, "street");
                assert_eq!(u.fields[1].1, CqlType::Int);
                assert!(!u.frozen);
            }
            other => panic!("{other:?}"),
        }
        let t = p("TupleType(Int32Type,ListType(UTF8Type))");
        assert_eq!(t.to_string(), "tuple<int, frozen<list<text>>>");
        let t = p("org.apache.cassandra.db.marshal.VectorType(org.apache.cassandra.db.marshal.FloatType , 3)");
        assert_eq!(t.fixed_length(), Some(12));
        let t = p("ReversedType(Int32Type)");
        assert_eq!(t.unreversed(), &CqlType::Int);
        assert_eq!(t.fixed_length(), Some(4));
    }

    #[test]
    fn type_strings_round_trip() {
        for s in [
            "Int32Type",
            "ListType(Int32Type)",
            "FrozenType(MapType(UTF8Type,ListType(Int32Type)))",
            "SetType(FrozenType(ListType(Int32Type)))",
            "MapType(UTF8Type,FrozenType(UserType(ks,61,62:Int32Type,63:ListType(UTF8Type))))",
            "UserType(ks,61646472657373,737472656574:UTF8Type,7a6970:FrozenType(SetType(Int32Type)))",
            "FrozenType(UserType(ks,61,62:Int32Type,63:ListType(UTF8Type)))",
            "TupleType(Int32Type,ListType(UTF8Type),UserType(ks,61,62:Int32Type))",
            "ReversedType(TimeUUIDType)",
            "ReversedType(FrozenType(ListType(Int32Type)))",
            "CompositeType(UTF8Type,Int32Type,FrozenType(ListType(Int32Type)))",
            "VectorType(FloatType , 3)",
            "CounterColumnType",
        ] {
            let t = p(s);
            let full = t.to_type_string();
            assert_eq!(full.replace(MARSHAL_PREFIX, ""), s, "{s}");
            assert_eq!(p(&full), t, "{s}");
        }
    }

    #[test]
    fn custom_kept() {
        let t = p("DynamicCompositeType(a=>AsciiType,b=>BytesType)");
        assert!(matches!(t, CqlType::Custom(_)));
        let t = p("com.example.MyType");
        assert_eq!(t, CqlType::Custom("com.example.MyType".into()));
    }

    #[test]
    fn bad_strings() {
        for s in [
            "",
            "ListType(",
            "MapType(Int32Type)",
            "FrozenType()",
            "UserType(ks,zz)",
            "Int32Type)",
        ] {
            assert!(CqlType::parse_type_string(s).is_err(), "{s}");
        }
    }
}
