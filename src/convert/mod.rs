//! Decoded CQL values into output form: Arrow column builders and the Arrow schema of a
//! table's output ([`arrow`], [`shape`]), and Cassandra's JSON text ([`json`]).
pub mod arrow;
pub mod json;
pub mod shape;
