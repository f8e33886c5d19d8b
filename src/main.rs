//! The `sstable-lake` command line: parses the arguments into a validated plan, runs its
//! command, and reports errors on one line.
use std::process::ExitCode;

use sstable_lake::config::Plan;
use sstable_lake::error::Error;
use sstable_lake::io::Io;
use sstable_lake::{cli, commands};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of our output went away (`dump ... | head`): what it read is all it
        // wanted, so this is not a failure, and there is no one to tell.
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            // One clear line, no backtrace: every message already names the file, the
            // component and the byte offset.
            // Never a credential: URL user info and credential variables are redacted.
            eprintln!(
                "error: {}",
                sstable_lake::io::secrets::redact(&e.to_string())
            );
            // 2 for a command line that can never work (as clap's own usage errors), so that
            // schedulers can tell it from a failure worth retrying.
            if matches!(e, Error::Usage(_)) {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn run() -> Result<(), Error> {
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let plan = cli::Cli::parse_plan(start)?;
    let (store, read) = plan.io_options();
    let io = Io::new(store.clone(), read);
    match plan {
        Plan::Inspect(p) => commands::inspect::run(&io, &p),
        Plan::Dump(p) => commands::dump::run(&io, &p),
        Plan::Splits(p) => commands::plan::run(&io, &p),
        Plan::Export(p) => commands::export::run(&io, &p),
    }
}
