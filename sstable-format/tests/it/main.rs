//! The integration and golden tests of `sstable-format`, in one binary: chunk reading and
//! metadata of every corpus version, DataStax's trie-indexed versions, schemas, 2.x rows,
//! Cassandra's ordering, partition indexes, split planning, the writer against Scylla's golden
//! files, and the property tests of the merge.
#![allow(
    clippy::panic,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests: a failed expectation is a test failure"
)]

mod chunks;
mod common;
mod datastax;
mod index;
mod legacy;
mod merge_props;
mod metadata;
mod order;
mod quirks;
mod schema;
mod split;
mod writer;
