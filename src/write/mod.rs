//! Writing `export`'s output: the destination store and its multipart uploads, the Parquet
//! sink that routes rows to Hive directories and rolls files, the publish/commit protocol
//! with its `_manifest.json`, and the run report.
pub mod commit;
pub mod manifest;
pub mod report;
pub mod sink;
pub mod store;
pub mod table_job;
