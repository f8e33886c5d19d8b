//! The output shape of a table: which value each output column holds (key, clustering,
//! regular column, writetime, ttl, token, source), the Arrow schema, and the column that
//! `--partition-by` routes on.

use std::sync::Arc;

use arrow_schema::{Field, Schema as ArrowSchema, SchemaRef};
use sstable_format::partitioner::{Partitioner, Token};
use sstable_format::CqlType;

use crate::config::{ExportPlan, PartitionBy};
use crate::convert::arrow::{self, MapOptions};
use crate::error::Error;
use crate::read::table_view::{OutColumn, TableView};

/// Makes the [`Source`] of the i-th column of a group.
type SourceOf = fn(usize) -> Source;

/// What one output column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A partition key component.
    Key(usize),
    /// A clustering column.
    Clustering(usize),
    /// A regular or static column.
    Column(usize),
    /// `writetime(col)` of a column.
    WriteTime(usize),
    /// `ttl(col)` of a column.
    Ttl(usize),
    /// The partition's token.
    Token,
    /// The SSTables the table was read from.
    Sources,
}

/// The output columns of a table: what each holds, and the Arrow schema.
#[derive(Debug)]
pub struct OutputShape {
    /// What each output column holds.
    pub sources: Vec<Source>,
    /// The Arrow schema of the output.
    pub schema: SchemaRef,
    /// CQL type per output column (for builders).
    pub types: Vec<CqlType>,
    /// Where `--partition-by` takes its value, its type, whether by date, the directory key.
    pub partition: Option<(Source, CqlType, bool, String)>,
}

fn token_type(p: Partitioner) -> CqlType {
    match p.token(&[]) {
        Token::Long(_) => CqlType::BigInt,
        Token::Big(_) => CqlType::Varint,
        Token::Bytes(_) => CqlType::Blob,
    }
}

/// The output columns of `view` under `plan`'s options (`--partition-by`, `--with-*`).
pub fn output_shape(
    view: &TableView,
    partitioner: Partitioner,
    plan: &ExportPlan,
    opts: MapOptions,
) -> Result<OutputShape, Error> {
    let mut sources = Vec::new();
    let mut fields: Vec<Field> = Vec::new();
    let mut types = Vec::new();
    let find = |name: &str| -> Option<(Source, &CqlType)> {
        let groups: [(&[OutColumn], SourceOf); 3] = [
            (&view.partition_key, Source::Key),
            (&view.clustering, Source::Clustering),
            (&view.columns, Source::Column),
        ];
        groups.into_iter().find_map(|(cols, make)| {
            cols.iter()
                .enumerate()
                .find(|(_, c)| c.name == name)
                .map(|(i, c)| (make(i), &c.ty))
        })
    };
    let partition = match &plan.partition_by {
        None => None,
        Some(PartitionBy::Column(c)) | Some(PartitionBy::Date(c)) => {
            let by_date = matches!(plan.partition_by, Some(PartitionBy::Date(_)));
            let (src, ty) = find(c).ok_or_else(|| {
                Error::Usage(format!(
                    "--partition-by: {}.{} has no column {c}",
                    view.keyspace, view.table
                ))
            })?;
            let ok = if by_date {
                matches!(ty.unreversed(), CqlType::Timestamp | CqlType::Date)
            } else {
                !matches!(
                    ty.unreversed(),
                    CqlType::List { .. }
                        | CqlType::Set { .. }
                        | CqlType::Map { .. }
                        | CqlType::Udt(_)
                        | CqlType::Tuple(_)
                        | CqlType::Vector { .. }
                        | CqlType::Duration
                )
            };
            if !ok {
                return Err(Error::Usage(format!(
                    "--partition-by {}: column {c} is of type {ty:?}, {}",
                    if by_date { "date(..)" } else { "" },
                    if by_date {
                        "not timestamp or date"
                    } else {
                        "not a scalar"
                    }
                )));
            }
            let dir = if by_date {
                format!("{c}_date")
            } else {
                c.clone()
            };
            Some((src, ty.clone(), by_date, dir))
        }
    };
    let dropped = match &partition {
        Some((src, _, false, _)) => Some(*src),
        _ => None,
    };
    let mut push = |src: Source, name: String, ty: &CqlType, sources: &mut Vec<Source>| {
        if Some(src) == dropped {
            return;
        }
        fields.push(arrow::field(&name, ty, opts));
        types.push(ty.clone());
        sources.push(src);
    };
    for (i, c) in view.partition_key.iter().enumerate() {
        push(Source::Key(i), c.name.clone(), &c.ty, &mut sources);
    }
    for (i, c) in view.clustering.iter().enumerate() {
        push(Source::Clustering(i), c.name.clone(), &c.ty, &mut sources);
    }
    for (i, c) in view.columns.iter().enumerate() {
        push(Source::Column(i), c.name.clone(), &c.ty, &mut sources);
    }
    if plan.with_writetime {
        for (i, c) in view.columns.iter().enumerate() {
            push(
                Source::WriteTime(i),
                format!("writetime({})", c.name),
                &CqlType::BigInt,
                &mut sources,
            );
        }
    }
    if plan.with_ttl {
        for (i, c) in view.columns.iter().enumerate() {
            push(
                Source::Ttl(i),
                format!("ttl({})", c.name),
                &CqlType::Int,
                &mut sources,
            );
        }
    }
    if plan.with_token {
        push(
            Source::Token,
            "token".into(),
            &token_type(partitioner),
            &mut sources,
        );
    }
    if plan.with_source {
        push(
            Source::Sources,
            "source".into(),
            &CqlType::Text,
            &mut sources,
        );
    }
    let mut seen = std::collections::HashSet::new();
    for f in &fields {
        if !seen.insert(f.name().as_str()) {
            return Err(Error::Export(format!(
                "{}.{}: two output columns are named {:?} (a column clashes with --with-token/--with-source)",
                view.keyspace,
                view.table,
                f.name()
            )));
        }
    }
    Ok(OutputShape {
        sources,
        schema: Arc::new(ArrowSchema::new(fields)),
        types,
        partition,
    })
}
