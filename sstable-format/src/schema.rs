//! CQL schemas: what a table looks like, parsed from the CQL text of a snapshot's `schema.cql` or
//! a user's `--schema` file, so that cells can be named and typed without a cluster.
//!
//! Mirrors Cassandra's `schema/TableMetadata` (the result) and the statements that build it,
//! `cql3/statements/schema/CreateTableStatement`, `CreateTypeStatement` and `AlterTableStatement`
//! (`DROP col USING TIMESTAMP n`, `ADD col type`), plus the `DROPPED COLUMN RECORD` table option
//! that Cassandra 4.1+ writes into `schema.cql` (`SchemaCQLHelper`). Statements that do not
//! describe tables or types (`CREATE KEYSPACE`, `CREATE INDEX`, views, functions...) are skipped.
//!
//! Types are built as [`CqlType`] trees. A clustering column's order is kept in
//! [`ColumnDef::clustering_order`]; [`CqlType::Reversed`] is never used here. Every type nested in
//! another (collection elements, map keys and values, tuple components, UDT fields, vector
//! elements) is frozen, as in Cassandra's serialization headers. A UDT without a keyspace in its
//! `CREATE TYPE` gets an empty [`UdtDef::keyspace`].

use crate::error::{Component, Error, Result};
use crate::types::{CqlType, UdtDef};

/// Every table and type defined by a CQL text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Schema {
    /// User-defined types, in definition order.
    pub types: Vec<UdtDef>,
    /// Tables, in definition order (after applying `ALTER TABLE`s).
    pub tables: Vec<TableSchema>,
}

/// One table (mirrors `TableMetadata`).
#[derive(Debug, Clone, PartialEq)]
pub struct TableSchema {
    /// Keyspace, if the statement named one (or a `USE` preceded it).
    pub keyspace: Option<String>,
    /// Table name.
    pub name: String,
    /// All live columns in definition order.
    pub columns: Vec<ColumnDef>,
    /// Partition key columns, in key order.
    pub partition_key: Vec<ColumnDef>,
    /// Clustering columns, in key order, each with its clustering order.
    pub clustering: Vec<ColumnDef>,
    /// `WITH COMPACT STORAGE`.
    pub compact_storage: bool,
    /// `gc_grace_seconds`, when given.
    pub gc_grace_seconds: Option<i64>,
    /// Dropped columns (`ALTER TABLE ... DROP ... USING TIMESTAMP` or `DROPPED COLUMN RECORD`).
    pub dropped: Vec<DroppedColumn>,
    /// The table id (`WITH ID = ...`), as written.
    pub id: Option<String>,
}

/// What part of the primary key (if any) a column is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnKind {
    /// Part of the partition key.
    PartitionKey,
    /// A clustering column.
    Clustering,
    /// A static column.
    Static,
    /// A regular column.
    Regular,
}

/// The order of a clustering column (`WITH CLUSTERING ORDER BY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ClusteringOrder {
    /// Ascending (the default).
    #[default]
    Asc,
    /// Descending: stored as `ReversedType` in headers.
    Desc,
}

/// One column of a table (mirrors `ColumnMetadata`).
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDef {
    /// Column name (unquoted identifiers lower-cased, quoted ones as written).
    pub name: String,
    /// Column type (never `CqlType::Reversed`).
    pub ty: CqlType,
    /// Partition key, clustering, static or regular.
    pub kind: ColumnKind,
    /// The clustering order; `Asc` for columns that are not clustering columns.
    pub clustering_order: ClusteringOrder,
}

/// A dropped column (mirrors `schema/DroppedColumn`).
#[derive(Debug, Clone, PartialEq)]
pub struct DroppedColumn {
    /// Column name.
    pub name: String,
    /// The type it had, when known.
    pub ty: Option<CqlType>,
    /// When it was dropped, in microseconds since the epoch: cells written before are ignored.
    pub dropped_at_micros: i64,
}

impl Schema {
    /// Parses a CQL text of `;`-separated statements.
    pub fn parse(text: &str) -> Result<Schema> {
        let tokens = tokenize(text)?;
        let mut p = Parser {
            text,
            toks: tokens,
            i: 0,
            schema: Schema::default(),
            current_keyspace: None,
        };
        p.statements()?;
        Ok(p.schema)
    }

    /// The table `name` in `keyspace` (any keyspace when `None`; the first match wins).
    pub fn table(&self, keyspace: Option<&str>, name: &str) -> Option<&TableSchema> {
        self.tables
            .iter()
            .find(|t| t.name == name && keyspace.is_none_or(|k| t.keyspace.as_deref() == Some(k)))
    }

    /// The table, if the text defines exactly one.
    pub fn only_table(&self) -> Option<&TableSchema> {
        match self.tables.as_slice() {
            [t] => Some(t),
            _ => None,
        }
    }

    /// The user-defined type `name` (in `keyspace` when given).
    pub fn udt(&self, keyspace: Option<&str>, name: &str) -> Option<&UdtDef> {
        self.types
            .iter()
            .find(|u| u.name == name && keyspace.is_none_or(|k| u.keyspace == k))
    }
}

impl TableSchema {
    /// The live column called `name`.
    pub fn column(&self, name: &str) -> Option<&ColumnDef> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Static columns in definition order.
    pub fn static_columns(&self) -> impl Iterator<Item = &ColumnDef> {
        self.columns.iter().filter(|c| c.kind == ColumnKind::Static)
    }

    /// Regular columns in definition order.
    pub fn regular_columns(&self) -> impl Iterator<Item = &ColumnDef> {
        self.columns
            .iter()
            .filter(|c| c.kind == ColumnKind::Regular)
    }

    /// The dropped-column record for `name`, if any.
    pub fn dropped_column(&self, name: &str) -> Option<&DroppedColumn> {
        self.dropped.iter().find(|d| d.name == name)
    }
}

// ---------------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// Unquoted identifier or keyword, as written.
    Word,
    /// `"quoted identifier"` with `""` unescaped.
    Quoted(String),
    /// `'string'` or `$$string$$`.
    Str(String),
    /// A number (`-12`, `0.01`, `1e5`...).
    Number,
    /// Any other single character.
    Sym(u8),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    start: usize,
    end: usize,
}

fn schema_err(offset: usize, message: impl Into<String>) -> Error {
    Error::invalid(Component::Schema, offset as u64, message)
}

fn tokenize(text: &str) -> Result<Vec<Token>> {
    let b = text.as_bytes();
    let at = |i: usize| b.get(i).copied();
    let mut out = Vec::new();
    let mut i = 0usize;
    while let Some(c) = at(i) {
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
        } else if (c == b'-' && at(i + 1) == Some(b'-')) || (c == b'/' && at(i + 1) == Some(b'/')) {
            while at(i).is_some_and(|c| c != b'\n') {
                i += 1;
            }
        } else if c == b'/' && at(i + 1) == Some(b'*') {
            i += 2;
            loop {
                match at(i) {
                    None => return Err(schema_err(start, "unterminated /* comment")),
                    Some(b'*') if at(i + 1) == Some(b'/') => {
                        i += 2;
                        break;
                    }
                    Some(_) => i += 1,
                }
            }
        } else if c == b'"' || c == b'\'' {
            let mut s = String::new();
            i += 1;
            let mut seg = i;
            loop {
                match at(i) {
                    None => return Err(schema_err(start, "unterminated quoted text")),
                    Some(q) if q == c => {
                        s.push_str(text.get(seg..i).unwrap_or(""));
                        if at(i + 1) == Some(c) {
                            s.push(c as char);
                            i += 2;
                            seg = i;
                        } else {
                            i += 1;
                            break;
                        }
                    }
                    Some(_) => i += 1,
                }
            }
            let tok = if c == b'"' {
                Tok::Quoted(s)
            } else {
                Tok::Str(s)
            };
            out.push(Token { tok, start, end: i });
        } else if c == b'$' && at(i + 1) == Some(b'$') {
            let body = text.get(i + 2..).unwrap_or("");
            let Some(n) = body.find("$$") else {
                return Err(schema_err(start, "unterminated $$ string"));
            };
            let s = body.get(..n).unwrap_or("").to_string();
            i += 2 + n + 2;
            out.push(Token {
                tok: Tok::Str(s),
                start,
                end: i,
            });
        } else if c.is_ascii_digit() || (c == b'-' && at(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            i += 1;
            while at(i).is_some_and(|d| d.is_ascii_alphanumeric() || d == b'.' || d == b'_') {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Number,
                start,
                end: i,
            });
        } else if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            while at(i).is_some_and(|d| d.is_ascii_alphanumeric() || d == b'_' || d >= 0x80) {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Word,
                start,
                end: i,
            });
        } else {
            i += 1;
            out.push(Token {
                tok: Tok::Sym(c),
                start,
                end: i,
            });
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------

struct Parser<'t> {
    text: &'t str,
    toks: Vec<Token>,
    i: usize,
    schema: Schema,
    current_keyspace: Option<String>,
}

/// Column names (with their offsets) of the partition key and of the clustering.
type KeyClause = (Vec<(String, usize)>, Vec<(String, usize)>);

/// A column as declared, before the primary key is known.
struct Declared {
    name: String,
    ty: CqlType,
    is_static: bool,
    offset: usize,
}

impl<'t> Parser<'t> {
    fn peek_at(&self, k: usize) -> Option<&Token> {
        self.toks.get(self.i + k)
    }

    fn offset(&self) -> usize {
        self.peek_at(0).map_or(self.text.len(), |t| t.start)
    }

    fn err(&self, message: impl Into<String>) -> Error {
        schema_err(self.offset(), message)
    }

    fn describe_next(&self) -> String {
        match self.peek_at(0) {
            None => "end of text".to_string(),
            Some(t) => format!("{:?}", self.text.get(t.start..t.end).unwrap_or("")),
        }
    }

    fn word_at(&self, k: usize) -> Option<&'t str> {
        let t = self.peek_at(k)?;
        match t.tok {
            Tok::Word => self.text.get(t.start..t.end),
            _ => None,
        }
    }

    fn is_kw_at(&self, k: usize, kw: &str) -> bool {
        self.word_at(k).is_some_and(|w| w.eq_ignore_ascii_case(kw))
    }

    /// Consumes the keywords if they all follow.
    fn accept_kws(&mut self, kws: &[&str]) -> bool {
        if kws.iter().enumerate().all(|(k, kw)| self.is_kw_at(k, kw)) {
            self.i += kws.len();
            true
        } else {
            false
        }
    }

    fn expect_kws(&mut self, kws: &[&str]) -> Result<()> {
        if self.accept_kws(kws) {
            Ok(())
        } else {
            Err(self.err(format!(
                "expected {}, found {}",
                kws.join(" ").to_uppercase(),
                self.describe_next()
            )))
        }
    }

    fn is_sym(&self, c: u8) -> bool {
        matches!(self.peek_at(0), Some(Token { tok: Tok::Sym(s), .. }) if *s == c)
    }

    fn accept_sym(&mut self, c: u8) -> bool {
        if self.is_sym(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect_sym(&mut self, c: u8) -> Result<()> {
        if self.accept_sym(c) {
            Ok(())
        } else {
            Err(self.err(format!(
                "expected '{}', found {}",
                c as char,
                self.describe_next()
            )))
        }
    }

    /// An identifier: unquoted ones are lower-cased.
    fn ident(&mut self, what: &str) -> Result<String> {
        let t = self
            .peek_at(0)
            .ok_or_else(|| self.err(format!("expected {what}, found end of text")))?;
        let out = match &t.tok {
            Tok::Word => self
                .text
                .get(t.start..t.end)
                .unwrap_or("")
                .to_ascii_lowercase(),
            Tok::Quoted(s) => s.clone(),
            _ => {
                return Err(self.err(format!("expected {what}, found {}", self.describe_next())));
            }
        };
        self.i += 1;
        Ok(out)
    }

    /// `[ks.]name`.
    fn qualified(&mut self, what: &str) -> Result<(Option<String>, String)> {
        let first = self.ident(what)?;
        if self.accept_sym(b'.') {
            let second = self.ident(what)?;
            Ok((Some(first), second))
        } else {
            Ok((self.current_keyspace.clone(), first))
        }
    }

    fn integer(&mut self, what: &str) -> Result<i64> {
        match self.peek_at(0) {
            Some(
                t @ Token {
                    tok: Tok::Number, ..
                },
            ) => {
                let s = self.text.get(t.start..t.end).unwrap_or("");
                let v = s
                    .parse::<i64>()
                    .map_err(|_| self.err(format!("{what} is not an integer: {s:?}")))?;
                self.i += 1;
                Ok(v)
            }
            _ => Err(self.err(format!(
                "expected {what} (an integer), found {}",
                self.describe_next()
            ))),
        }
    }

    /// Skips to the end of the current statement (a `;` outside brackets, or the end).
    fn skip_statement(&mut self) {
        let mut depth = 0usize;
        while let Some(t) = self.peek_at(0) {
            match t.tok {
                Tok::Sym(b'(') | Tok::Sym(b'{') | Tok::Sym(b'[') => depth += 1,
                Tok::Sym(b')') | Tok::Sym(b'}') | Tok::Sym(b']') => depth = depth.saturating_sub(1),
                Tok::Sym(b';') if depth == 0 => return,
                _ => {}
            }
            self.i += 1;
        }
    }

    fn end_statement(&mut self) -> Result<()> {
        if self.peek_at(0).is_none() || self.accept_sym(b';') {
            Ok(())
        } else {
            Err(self.err(format!(
                "expected ';' or the end of the statement, found {}",
                self.describe_next()
            )))
        }
    }

    fn statements(&mut self) -> Result<()> {
        while self.peek_at(0).is_some() {
            if self.accept_sym(b';') {
                continue;
            }
            if self.accept_kws(&["create", "type"]) {
                self.create_type()?;
                self.end_statement()?;
            } else if self.accept_kws(&["create", "table"])
                || self.accept_kws(&["create", "columnfamily"])
            {
                self.create_table()?;
                self.end_statement()?;
            } else if self.accept_kws(&["alter", "table"])
                || self.accept_kws(&["alter", "columnfamily"])
            {
                self.alter_table()?;
                self.end_statement()?;
            } else if self.is_kw_at(0, "use") && self.peek_at(1).is_some() {
                self.i += 1;
                self.current_keyspace = Some(self.ident("keyspace name")?);
                self.end_statement()?;
            } else {
                self.skip_statement();
            }
        }
        Ok(())
    }

    fn create_type(&mut self) -> Result<()> {
        self.accept_kws(&["if", "not", "exists"]);
        let offset = self.offset();
        let (keyspace, name) = self.qualified("type name")?;
        let keyspace = keyspace.unwrap_or_default();
        if self.schema.udt(Some(&keyspace), &name).is_some() {
            return Err(schema_err(offset, format!("type {name} is defined twice")));
        }
        self.expect_sym(b'(')?;
        let mut fields: Vec<(String, CqlType)> = Vec::new();
        loop {
            let foffset = self.offset();
            let fname = self.ident("field name")?;
            if fields.iter().any(|(n, _)| *n == fname) {
                return Err(schema_err(foffset, format!("duplicate field {fname}")));
            }
            let fty = self.cql_type(Some(&keyspace), true)?;
            fields.push((fname, fty));
            if self.accept_sym(b',') {
                continue;
            }
            self.expect_sym(b')')?;
            break;
        }
        self.schema.types.push(UdtDef {
            keyspace,
            name,
            fields,
            frozen: false,
        });
        Ok(())
    }

    /// A CQL type. `nested` freezes the result (and everything in it).
    fn cql_type(&mut self, keyspace: Option<&str>, nested: bool) -> Result<CqlType> {
        let offset = self.offset();
        if let Some(Token {
            tok: Tok::Str(class),
            ..
        }) = self.peek_at(0)
        {
            let class = class.clone();
            self.i += 1;
            let t = CqlType::parse_type_string(&class)
                .map_err(|e| schema_err(offset, format!("bad custom type '{class}': {e}")))?;
            return Ok(if nested { deep_frozen(t) } else { t });
        }
        let first = self.ident("a type")?;
        let (ks, name) = if self.accept_sym(b'.') {
            (Some(first), self.ident("a type name")?)
        } else {
            (None, first)
        };
        let simple = |t: CqlType| Ok(t);
        let t = match (ks.is_none(), name.as_str()) {
            (true, "ascii") => simple(CqlType::Ascii),
            (true, "bigint") => simple(CqlType::BigInt),
            (true, "blob") => simple(CqlType::Blob),
            (true, "boolean") => simple(CqlType::Boolean),
            (true, "counter") => simple(CqlType::Counter),
            (true, "date") => simple(CqlType::Date),
            (true, "decimal") => simple(CqlType::Decimal),
            (true, "double") => simple(CqlType::Double),
            (true, "duration") => simple(CqlType::Duration),
            (true, "float") => simple(CqlType::Float),
            (true, "inet") => simple(CqlType::Inet),
            (true, "int") => simple(CqlType::Int),
            (true, "smallint") => simple(CqlType::SmallInt),
            (true, "text") | (true, "varchar") => simple(CqlType::Text),
            (true, "time") => simple(CqlType::Time),
            (true, "timestamp") => simple(CqlType::Timestamp),
            (true, "timeuuid") => simple(CqlType::TimeUuid),
            (true, "tinyint") => simple(CqlType::TinyInt),
            (true, "uuid") => simple(CqlType::Uuid),
            (true, "varint") => simple(CqlType::Varint),
            (true, "frozen") if self.is_sym(b'<') => {
                self.expect_sym(b'<')?;
                let inner = self.cql_type(keyspace, true)?;
                self.expect_sym(b'>')?;
                Ok(inner)
            }
            (true, "list") | (true, "set") if self.is_sym(b'<') => {
                self.expect_sym(b'<')?;
                let element = Box::new(self.cql_type(keyspace, true)?);
                self.expect_sym(b'>')?;
                Ok(if name == "list" {
                    CqlType::List {
                        element,
                        frozen: false,
                    }
                } else {
                    CqlType::Set {
                        element,
                        frozen: false,
                    }
                })
            }
            (true, "map") if self.is_sym(b'<') => {
                self.expect_sym(b'<')?;
                let key = Box::new(self.cql_type(keyspace, true)?);
                self.expect_sym(b',')?;
                let value = Box::new(self.cql_type(keyspace, true)?);
                self.expect_sym(b'>')?;
                Ok(CqlType::Map {
                    key,
                    value,
                    frozen: false,
                })
            }
            (true, "tuple") if self.is_sym(b'<') => {
                self.expect_sym(b'<')?;
                let mut items = Vec::new();
                loop {
                    items.push(self.cql_type(keyspace, true)?);
                    if self.accept_sym(b',') {
                        continue;
                    }
                    self.expect_sym(b'>')?;
                    break;
                }
                Ok(CqlType::Tuple(items))
            }
            (true, "vector") if self.is_sym(b'<') => {
                self.expect_sym(b'<')?;
                let element = Box::new(self.cql_type(keyspace, true)?);
                self.expect_sym(b',')?;
                let doffset = self.offset();
                let d = self.integer("vector dimension")?;
                let dimension = u32::try_from(d)
                    .ok()
                    .filter(|d| *d > 0)
                    .ok_or_else(|| schema_err(doffset, format!("bad vector dimension {d}")))?;
                self.expect_sym(b'>')?;
                Ok(CqlType::Vector { element, dimension })
            }
            _ => self.udt_reference(ks.as_deref(), &name, keyspace, offset),
        }?;
        Ok(if nested { deep_frozen(t) } else { t })
    }

    fn udt_reference(
        &self,
        ks: Option<&str>,
        name: &str,
        context_keyspace: Option<&str>,
        offset: usize,
    ) -> Result<CqlType> {
        let candidates: Vec<&UdtDef> = self
            .schema
            .types
            .iter()
            .filter(|u| u.name == name && ks.is_none_or(|k| u.keyspace == k))
            .collect();
        let chosen = match candidates.as_slice() {
            [] => None,
            [one] => Some(*one),
            many => many
                .iter()
                .find(|u| Some(u.keyspace.as_str()) == context_keyspace)
                .or_else(|| many.iter().find(|u| u.keyspace.is_empty()))
                .copied(),
        };
        match chosen {
            Some(u) => Ok(CqlType::Udt(Box::new(u.clone()))),
            None if candidates.len() > 1 => Err(schema_err(
                offset,
                format!("type {name} is ambiguous: qualify it with its keyspace"),
            )),
            None => Err(schema_err(
                offset,
                format!(
                    "unknown type {}{name}: not a CQL type, and no CREATE TYPE before this point defines it",
                    ks.map(|k| format!("{k}.")).unwrap_or_default()
                ),
            )),
        }
    }

    fn create_table(&mut self) -> Result<()> {
        self.accept_kws(&["if", "not", "exists"]);
        let table_offset = self.offset();
        let (keyspace, name) = self.qualified("table name")?;
        self.expect_sym(b'(')?;
        let mut declared: Vec<Declared> = Vec::new();
        let mut pk: Option<KeyClause> = None;
        loop {
            if self.is_kw_at(0, "primary") && self.is_kw_at(1, "key") {
                let offset = self.offset();
                self.i += 2;
                if pk.is_some() {
                    return Err(schema_err(offset, "more than one PRIMARY KEY"));
                }
                pk = Some(self.primary_key_clause()?);
            } else {
                let offset = self.offset();
                let cname = self.ident("column name")?;
                if declared.iter().any(|d| d.name == cname) {
                    return Err(schema_err(offset, format!("duplicate column {cname}")));
                }
                let ty = self.cql_type(keyspace.as_deref(), false)?;
                let mut is_static = false;
                loop {
                    if self.accept_kws(&["static"]) {
                        is_static = true;
                    } else if self.is_kw_at(0, "primary") && self.is_kw_at(1, "key") {
                        let at = self.offset();
                        self.i += 2;
                        if pk.is_some() {
                            return Err(schema_err(at, "more than one PRIMARY KEY"));
                        }
                        pk = Some((vec![(cname.clone(), offset)], Vec::new()));
                    } else {
                        break;
                    }
                }
                declared.push(Declared {
                    name: cname,
                    ty,
                    is_static,
                    offset,
                });
            }
            if self.accept_sym(b',') {
                if self.accept_sym(b')') {
                    break; // tolerate a trailing comma
                }
                continue;
            }
            self.expect_sym(b')')?;
            break;
        }
        let Some((pk_names, ck_names)) = pk else {
            return Err(schema_err(
                table_offset,
                format!("table {name} has no PRIMARY KEY"),
            ));
        };
        let mut table = TableSchema {
            keyspace,
            name,
            columns: Vec::new(),
            partition_key: Vec::new(),
            clustering: Vec::new(),
            compact_storage: false,
            gc_grace_seconds: None,
            dropped: Vec::new(),
            id: None,
        };
        for d in &declared {
            let kind = if pk_names.iter().any(|(n, _)| *n == d.name) {
                ColumnKind::PartitionKey
            } else if ck_names.iter().any(|(n, _)| *n == d.name) {
                ColumnKind::Clustering
            } else if d.is_static {
                ColumnKind::Static
            } else {
                ColumnKind::Regular
            };
            if d.is_static && kind != ColumnKind::Static {
                return Err(schema_err(
                    d.offset,
                    format!("primary key column {} cannot be static", d.name),
                ));
            }
            table.columns.push(ColumnDef {
                name: d.name.clone(),
                ty: d.ty.clone(),
                kind,
                clustering_order: ClusteringOrder::Asc,
            });
        }
        for (list, out) in [
            (&pk_names, &mut table.partition_key),
            (&ck_names, &mut table.clustering),
        ] {
            for (n, offset) in list {
                let c = table.columns.iter().find(|c| c.name == *n).ok_or_else(|| {
                    schema_err(*offset, format!("primary key column {n} is not defined"))
                })?;
                if out.iter().any(|o: &ColumnDef| o.name == *n) {
                    return Err(schema_err(
                        *offset,
                        format!("column {n} repeated in PRIMARY KEY"),
                    ));
                }
                out.push(c.clone());
            }
        }
        if ck_names
            .iter()
            .any(|(n, _)| pk_names.iter().any(|(p, _)| p == n))
        {
            return Err(schema_err(
                table_offset,
                "a column is both partition key and clustering",
            ));
        }
        if self.accept_kws(&["with"]) {
            self.table_options(&mut table)?;
        }
        // Keep `columns` in step with the clustering orders set by the options.
        for c in &mut table.columns {
            if let Some(k) = table.clustering.iter().find(|k| k.name == c.name) {
                c.clustering_order = k.clustering_order;
            }
        }
        self.schema.tables.push(table);
        Ok(())
    }

    /// After `PRIMARY KEY`: `((a, b), c, d)` or `(a, c)`.
    fn primary_key_clause(&mut self) -> Result<KeyClause> {
        self.expect_sym(b'(')?;
        let mut partition = Vec::new();
        if self.accept_sym(b'(') {
            loop {
                let o = self.offset();
                partition.push((self.ident("partition key column")?, o));
                if self.accept_sym(b',') {
                    continue;
                }
                self.expect_sym(b')')?;
                break;
            }
        } else {
            let o = self.offset();
            partition.push((self.ident("partition key column")?, o));
        }
        let mut clustering = Vec::new();
        while self.accept_sym(b',') {
            let o = self.offset();
            clustering.push((self.ident("clustering column")?, o));
        }
        self.expect_sym(b')')?;
        Ok((partition, clustering))
    }

    fn table_options(&mut self, table: &mut TableSchema) -> Result<()> {
        loop {
            if self.accept_kws(&["clustering", "order", "by"]) {
                self.expect_sym(b'(')?;
                loop {
                    let offset = self.offset();
                    let cname = self.ident("clustering column")?;
                    let order = if self.accept_kws(&["desc"]) {
                        ClusteringOrder::Desc
                    } else {
                        self.accept_kws(&["asc"]);
                        ClusteringOrder::Asc
                    };
                    let c = table
                        .clustering
                        .iter_mut()
                        .find(|c| c.name == cname)
                        .ok_or_else(|| {
                            schema_err(
                                offset,
                                format!(
                                    "CLUSTERING ORDER BY names {cname}, not a clustering column"
                                ),
                            )
                        })?;
                    c.clustering_order = order;
                    if self.accept_sym(b',') {
                        continue;
                    }
                    self.expect_sym(b')')?;
                    break;
                }
            } else if self.accept_kws(&["compact", "storage"]) {
                table.compact_storage = true;
            } else if self.accept_kws(&["dropped", "column", "record"]) {
                let name = self.ident("dropped column name")?;
                let ty = self.cql_type(table.keyspace.clone().as_deref(), false)?;
                self.accept_kws(&["static"]);
                self.expect_kws(&["using", "timestamp"])?;
                let ts = self.integer("drop timestamp")?;
                table.dropped.push(DroppedColumn {
                    name,
                    ty: Some(ty),
                    dropped_at_micros: ts,
                });
            } else {
                let offset = self.offset();
                let key = self.ident("table option")?;
                self.expect_sym(b'=')?;
                let (vstart, vend) = self.option_value()?;
                let raw = self.text.get(vstart..vend).unwrap_or("").trim();
                let unquoted = raw
                    .strip_prefix('\'')
                    .and_then(|r| r.strip_suffix('\''))
                    .unwrap_or(raw);
                match key.as_str() {
                    "id" => table.id = Some(unquoted.to_string()),
                    "gc_grace_seconds" => {
                        table.gc_grace_seconds = Some(unquoted.parse().map_err(|_| {
                            schema_err(offset, format!("gc_grace_seconds is not an integer: {raw}"))
                        })?);
                    }
                    _ => {}
                }
            }
            if !self.accept_kws(&["and"]) {
                return Ok(());
            }
        }
    }

    /// Skips one option value (a literal, a `{...}` map, a bare UUID...), returning its span.
    fn option_value(&mut self) -> Result<(usize, usize)> {
        let start = self.offset();
        let mut end = start;
        let mut depth = 0usize;
        while let Some(t) = self.peek_at(0) {
            match t.tok {
                Tok::Sym(b'(') | Tok::Sym(b'{') | Tok::Sym(b'[') => depth += 1,
                Tok::Sym(b')') | Tok::Sym(b'}') | Tok::Sym(b']') => {
                    if depth == 0 {
                        break;
                    }
                    depth -= 1;
                }
                Tok::Sym(b';') if depth == 0 => break,
                Tok::Word if depth == 0 && end > start && self.is_kw_at(0, "and") => break,
                _ => {}
            }
            end = t.end;
            self.i += 1;
        }
        if end == start {
            return Err(self.err("missing option value"));
        }
        Ok((start, end))
    }

    fn alter_table(&mut self) -> Result<()> {
        let offset = self.offset();
        let (keyspace, name) = self.qualified("table name")?;
        let idx = self
            .schema
            .tables
            .iter()
            .position(|t| t.name == name && (keyspace.is_none() || t.keyspace == keyspace))
            .ok_or_else(|| {
                schema_err(
                    offset,
                    format!("ALTER TABLE of {name}, which no earlier CREATE TABLE defines"),
                )
            })?;
        let ks = self.schema.tables.get(idx).and_then(|t| t.keyspace.clone());
        if self.accept_kws(&["drop"]) {
            let mut names = Vec::new();
            if self.accept_sym(b'(') {
                loop {
                    let o = self.offset();
                    names.push((self.ident("column name")?, o));
                    if self.accept_sym(b',') {
                        continue;
                    }
                    self.expect_sym(b')')?;
                    break;
                }
            } else {
                let o = self.offset();
                names.push((self.ident("column name")?, o));
            }
            let ts = if self.accept_kws(&["using", "timestamp"]) {
                self.integer("drop timestamp")?
            } else {
                i64::MAX
            };
            let table = self
                .schema
                .tables
                .get_mut(idx)
                .ok_or_else(|| schema_err(offset, "table vanished"))?;
            for (n, o) in names {
                let pos = table.columns.iter().position(|c| c.name == n);
                let ty = match pos {
                    Some(p) => {
                        let c = table.columns.remove(p);
                        if matches!(c.kind, ColumnKind::PartitionKey | ColumnKind::Clustering) {
                            return Err(schema_err(
                                o,
                                format!("cannot drop primary key column {n}"),
                            ));
                        }
                        Some(c.ty)
                    }
                    None => None,
                };
                table.dropped.retain(|d| d.name != n);
                table.dropped.push(DroppedColumn {
                    name: n,
                    ty,
                    dropped_at_micros: ts,
                });
            }
        } else if self.accept_kws(&["add"]) {
            let paren = self.accept_sym(b'(');
            loop {
                let o = self.offset();
                let cname = self.ident("column name")?;
                let ty = self.cql_type(ks.as_deref(), false)?;
                let kind = if self.accept_kws(&["static"]) {
                    ColumnKind::Static
                } else {
                    ColumnKind::Regular
                };
                let table = self
                    .schema
                    .tables
                    .get_mut(idx)
                    .ok_or_else(|| schema_err(offset, "table vanished"))?;
                if table.column(&cname).is_some() {
                    return Err(schema_err(o, format!("column {cname} already exists")));
                }
                table.columns.push(ColumnDef {
                    name: cname,
                    ty,
                    kind,
                    clustering_order: ClusteringOrder::Asc,
                });
                if paren && self.accept_sym(b',') {
                    continue;
                }
                break;
            }
            if paren {
                self.expect_sym(b')')?;
            }
        } else {
            // WITH / RENAME / ALTER ... TYPE: nothing that changes how cells are read here.
            self.skip_statement();
        }
        Ok(())
    }
}

/// The type with every collection and UDT inside it (and itself) frozen.
fn deep_frozen(t: CqlType) -> CqlType {
    match t {
        CqlType::List { element, .. } => CqlType::List {
            element: Box::new(deep_frozen(*element)),
            frozen: true,
        },
        CqlType::Set { element, .. } => CqlType::Set {
            element: Box::new(deep_frozen(*element)),
            frozen: true,
        },
        CqlType::Map { key, value, .. } => CqlType::Map {
            key: Box::new(deep_frozen(*key)),
            value: Box::new(deep_frozen(*value)),
            frozen: true,
        },
        CqlType::Tuple(items) => CqlType::Tuple(items.into_iter().map(deep_frozen).collect()),
        CqlType::Udt(mut u) => {
            u.frozen = true;
            u.fields = std::mem::take(&mut u.fields)
                .into_iter()
                .map(|(n, t)| (n, deep_frozen(t)))
                .collect();
            CqlType::Udt(u)
        }
        CqlType::Vector { element, dimension } => CqlType::Vector {
            element: Box::new(deep_frozen(*element)),
            dimension,
        },
        CqlType::Reversed(inner) => CqlType::Reversed(Box::new(deep_frozen(*inner))),
        other => other,
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

    fn one(text: &str) -> TableSchema {
        Schema::parse(text).unwrap().only_table().unwrap().clone()
    }

    fn err_offset(text: &str) -> (u64, String) {
        match Schema::parse(text).unwrap_err() {
            Error::Invalid {
                component: Component::Schema,
                offset,
                message,
            } => (offset, message),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn composite_keys_and_order() {
        let t = one(
            "CREATE TABLE IF NOT EXISTS ks.t (a int, b text, c timeuuid, d bigint, s int STATIC, v \
             map<text, frozen<list<int>>>, PRIMARY KEY ((a, b), c, d)) WITH CLUSTERING ORDER BY \
             (c DESC, d ASC) AND compaction = {'class': 'X', 'n': '4'} AND gc_grace_seconds = 10 \
             AND ID = 5a1c395e-b41f-11e5-9f22-ba0be0483c18 AND comment = 'a;b'",
        );
        assert_eq!(t.keyspace.as_deref(), Some("ks"));
        assert_eq!(t.name, "t");
        let names = |v: &[ColumnDef]| v.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&t.partition_key), ["a", "b"]);
        assert_eq!(names(&t.clustering), ["c", "d"]);
        assert_eq!(t.clustering[0].clustering_order, ClusteringOrder::Desc);
        assert_eq!(t.clustering[1].clustering_order, ClusteringOrder::Asc);
        assert_eq!(
            t.column("c").unwrap().clustering_order,
            ClusteringOrder::Desc
        );
        assert_eq!(t.static_columns().count(), 1);
        assert_eq!(t.regular_columns().next().unwrap().name, "v");
        assert_eq!(t.gc_grace_seconds, Some(10));
        assert_eq!(
            t.id.as_deref(),
            Some("5a1c395e-b41f-11e5-9f22-ba0be0483c18")
        );
        let v = &t.column("v").unwrap().ty;
        assert!(v.is_multi_cell());
        assert_eq!(v.to_string(), "map<text, frozen<list<int>>>");
    }

    #[test]
    fn inline_primary_key_quoted_names_comments() {
        let t = one(
            "-- a comment\n/* block ; comment */ create table \"My\"\"Tab\" (\"Key\" int primary key, \
             VALUE Blob, // trailing\n x 'org.apache.cassandra.db.marshal.Int32Type', y \
             'com.example.Foo') with compact storage;",
        );
        assert_eq!(t.keyspace, None);
        assert_eq!(t.name, "My\"Tab");
        assert_eq!(t.partition_key[0].name, "Key");
        assert_eq!(t.column("value").unwrap().ty, CqlType::Blob);
        assert_eq!(t.column("x").unwrap().ty, CqlType::Int);
        assert_eq!(
            t.column("y").unwrap().ty,
            CqlType::Custom("com.example.Foo".into())
        );
        assert!(t.compact_storage);
    }

    #[test]
    fn udts_resolved_and_frozen() {
        let s = Schema::parse(
            "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1};\
             CREATE TYPE ks.addr (street text, zip int);\
             CREATE TYPE IF NOT EXISTS ks.person (name text, home frozen<addr>, tags set<text>);\
             CREATE TABLE ks.t (k int PRIMARY KEY, p person, f frozen<ks.person>, \
             l list<frozen<addr>>, tu tuple<int, addr>, vec vector<float, 3>);\
             CREATE INDEX ON ks.t (p);",
        )
        .unwrap();
        assert_eq!(s.types.len(), 2);
        let t = s.table(Some("ks"), "t").unwrap();
        match &t.column("p").unwrap().ty {
            CqlType::Udt(u) => {
                assert!(!u.frozen);
                assert_eq!(u.keyspace, "ks");
                assert_eq!(u.fields[1].0, "home");
                assert!(matches!(&u.fields[1].1, CqlType::Udt(a) if a.frozen && a.name == "addr"));
                assert!(!u.fields[2].1.is_multi_cell(), "nested set is frozen");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(&t.column("f").unwrap().ty, CqlType::Udt(u) if u.frozen));
        assert_eq!(
            t.column("vec").unwrap().ty,
            CqlType::Vector {
                element: Box::new(CqlType::Float),
                dimension: 3
            }
        );
        assert!(t.column("l").unwrap().ty.is_multi_cell());
        assert!(s.table(None, "t").is_some());
        assert!(s.table(Some("other"), "t").is_none());
    }

    #[test]
    fn dropped_and_readded_columns() {
        let s = Schema::parse(
            "CREATE TABLE ks.t (k int, c int, v1 int, v2 text, PRIMARY KEY (k, c)) \
             WITH DROPPED COLUMN RECORD old set<int> USING TIMESTAMP 5 AND comment = '';\
             ALTER TABLE ks.t DROP v1 USING TIMESTAMP 1234;\
             ALTER TABLE ks.t DROP (v2) USING TIMESTAMP 99;\
             ALTER TABLE ks.t ADD v2 blob;\
             ALTER TABLE ks.t WITH comment = 'x';",
        )
        .unwrap();
        let t = s.only_table().unwrap();
        assert!(t.column("v1").is_none());
        assert_eq!(t.column("v2").unwrap().ty, CqlType::Blob);
        let d = t.dropped_column("v1").unwrap();
        assert_eq!(d.dropped_at_micros, 1234);
        assert_eq!(d.ty, Some(CqlType::Int));
        assert_eq!(t.dropped_column("v2").unwrap().ty, Some(CqlType::Text));
        assert_eq!(t.dropped_column("old").unwrap().dropped_at_micros, 5);
    }

    #[test]
    fn skips_unknown_statements() {
        let s = Schema::parse(
            "USE ks; CREATE FUNCTION f (a int) RETURNS NULL ON NULL INPUT RETURNS int LANGUAGE java AS $$ return a; $$;\
             CREATE MATERIALIZED VIEW mv AS SELECT * FROM t WHERE k IS NOT NULL PRIMARY KEY (k);\
             CREATE TABLE t (k int PRIMARY KEY);",
        )
        .unwrap();
        assert_eq!(s.tables.len(), 1);
        assert_eq!(s.tables[0].keyspace.as_deref(), Some("ks"));
    }

    #[test]
    fn errors_with_offsets() {
        let text = "CREATE TABLE t (k int PRIMARY KEY, v addr)";
        let (off, msg) = err_offset(text);
        assert_eq!(off as usize, text.find("addr").unwrap());
        assert!(msg.contains("unknown type addr"), "{msg}");
        // A UDT used before its CREATE TYPE.
        let (_, msg) =
            err_offset("CREATE TABLE t (k int PRIMARY KEY, v frozen<a>); CREATE TYPE a (x int);");
        assert!(msg.contains("unknown type a"), "{msg}");
        let (_, msg) = err_offset("CREATE TABLE t (k int, v int)");
        assert!(msg.contains("no PRIMARY KEY"), "{msg}");
        let (off, msg) = err_offset("CREATE TABLE t (k int, PRIMARY KEY (k, zz))");
        assert_eq!(off, 39);
        assert!(msg.contains("zz"), "{msg}");
        for bad in [
            "CREATE TABLE t (k int PRIMARY KEY",
            "CREATE TABLE t (k list<int PRIMARY KEY)",
            "CREATE TABLE t (k int PRIMARY KEY) WITH CLUSTERING ORDER BY (k DESC)",
            "CREATE TABLE t (k int PRIMARY KEY, k text)",
            "CREATE TABLE t (k int PRIMARY KEY) garbage",
            "CREATE TABLE t (k int PRIMARY KEY, v vector<float, 0>)",
            "CREATE TABLE t (k 'Broken(' PRIMARY KEY)",
            "ALTER TABLE nope DROP x",
            "CREATE TABLE t (k int PRIMARY KEY) /* unterminated",
            "CREATE TABLE 't",
        ] {
            assert!(Schema::parse(bad).is_err(), "{bad}");
        }
    }
}
