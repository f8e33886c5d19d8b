//! sstable-lake: discovery of SSTable backups (local, or read in place from S3 and GCS: see
//! [`store`]), planning, and the commands (`inspect`, `dump`, `plan`, `export`).
pub mod arrow_map;
pub mod cli;
pub mod discover;
pub mod dump;
pub mod error;
pub mod export;
pub mod input;
pub mod inspect;
pub mod json;
pub mod plan;
pub mod rows;
pub mod sstable;
pub mod store;
pub mod table;
