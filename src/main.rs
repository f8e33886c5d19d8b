//! The `sstable-lake` command line: parses arguments, runs, and reports errors on one line.
use std::process::ExitCode;

fn main() -> ExitCode {
    match sstable_lake::cli::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One clear line, no backtrace: every message already names the file, the
            // component and the byte offset.
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
