//! sstable-lake: discovery of SSTable backups, planning, and the commands (`inspect`, `dump`).
pub mod cli;
pub mod json;
pub mod discover;
pub mod error;
