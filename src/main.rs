//! The `sstable-lake` command line: parses arguments, runs, and reports errors on one line.
use std::process::ExitCode;

fn main() -> ExitCode {
    match sstable_lake::cli::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One clear line (the error chain is already in the message), no backtrace.
            eprintln!("error: {:#}", anyhow::Error::from(e));
            ExitCode::FAILURE
        }
    }
}
