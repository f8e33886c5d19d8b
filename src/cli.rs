//! Command-line parsing into a validated plan, then dispatch.
use clap::Parser;

/// sstable-lake: read Cassandra and ScyllaDB SSTable backups without a cluster.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {}

/// Runs the command line.
pub fn run() -> anyhow::Result<()> {
    let _cli = Cli::parse();
    Ok(())
}
