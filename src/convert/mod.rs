//! Decoded CQL values into output form: Arrow column builders and the Arrow schema of a
//! table's output ([`arrow`], [`shape`]), the direct column path from serialized values into those builders
//! ([`direct`]), and Cassandra's JSON text ([`json`]).
pub mod arrow;
pub mod direct;
pub mod json;
pub mod shape;
