//! The `sstable-lake` command line: parses arguments, runs, and reports errors on one line.
use std::process::ExitCode;

fn main() -> ExitCode {
    match sstable_lake::cli::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One clear line, no backtrace: every message already names the file, the
            // component and the byte offset.
            eprintln!("error: {e}");
            // 2 for a command line that can never work (as clap's own usage errors), so that
            // schedulers can tell it from a failure worth retrying.
            if matches!(e, sstable_lake::error::Error::Usage(_)) {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
