//! The `sstable-lake` command line.
fn main() -> anyhow::Result<()> {
    sstable_lake::cli::run()
}
