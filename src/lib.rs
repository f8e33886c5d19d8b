//! sstable-lake: discovery of SSTable backups, planning, and the commands (`inspect`, `dump`).
pub mod cli;
pub mod discover;
pub mod dump;
pub mod error;
pub mod inspect;
pub mod json;
pub mod plan;
pub mod sstable;
pub mod table;
