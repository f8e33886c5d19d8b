//! sstable-lake: turns Cassandra and ScyllaDB SSTable backups (local, or read in place from S3
//! and GCS) into Parquet, without a cluster.
//!
//! The modules follow the pipeline, each one importing only those before it in this list
//! (`scripts/check-layers.sh` checks it; `docs/architecture.md` explains the layout):
//!
//! 0. [`error`], [`config`] (the validated plan of a run), [`time`]: leaves, used by all;
//! 1. [`io`]: local files and object stores, one [`io::Io`] handle per run;
//! 2. [`discover`]: SSTable sets under the inputs, grouped by table, and their components
//!    opened;
//! 3. [`plan`]: token-range splits of a table and the shards that share them;
//! 4. [`read`]: a table opened for reading (schema, readers, merge) and its live rows;
//! 5. [`convert`]: CQL values to Arrow columns and to JSON text;
//! 6. [`mod@write`]: the Parquet sink, object uploads, the publish/commit protocol, reports;
//! 7. [`commands`]: `inspect`, `dump`, `plan`, `export`, each a thin orchestration;
//! 8. [`cli`]: the command line parsed and validated into a [`config::Plan`].
pub mod cli;
pub mod commands;
pub mod config;
pub mod convert;
pub mod discover;
pub mod error;
pub mod io;
pub mod plan;
pub mod read;
pub mod time;
pub mod write;
