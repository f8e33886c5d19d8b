//! The integration tests of `sstable-lake`, in one binary (one link; helpers shared through
//! `common`): the CLI end to end on bad and good input, `inspect --verify` over the corpus,
//! 2.x schemas from system tables, split planning, and `export` to a folder, S3 and GCS, read
//! back by DuckDB and PySpark.
#![allow(
    clippy::panic,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests: a failed expectation is a test failure"
)]

mod cli;
mod column_path;
mod common;
mod discovery;
mod export;
mod export_remote;
mod faults;
mod independent_writer;
mod inspect_verify;
mod legacy_system_schema;
mod plan;
mod quirks;
mod remote_faults;
mod sweep;
