//! Command-line parsing into a validated plan before any I/O, then dispatch.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::error::Error;

/// sstable-lake: read Cassandra and ScyllaDB SSTable backups without a cluster.
#[derive(Debug, Parser)]
#[command(name = "sstable-lake", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Describe every SSTable set found under the paths (version, sizes, timestamps, columns).
    Inspect(InspectArgs),
    /// Print the rows of the tables under the paths as JSON Lines (Cassandra's SELECT JSON).
    Dump(DumpArgs),
}

#[derive(Debug, Args)]
struct InspectArgs {
    /// Files or directories (searched recursively) holding SSTables.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Print one JSON object per set instead of text.
    #[arg(long)]
    json: bool,
    /// Check every chunk's checksum and the whole-file digest of Data.db, then decode every
    /// partition and row and check Cassandra's invariants (order, deletion times, TTLs, range
    /// tombstones).
    #[arg(long)]
    verify: bool,
    /// CQL file with CREATE TYPE / CREATE TABLE statements, needed by `--verify` to decode the
    /// rows of 2.x (ka/la/lb) sets that have no schema.cql beside them.
    #[arg(long, value_name = "FILE")]
    schema: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct DumpArgs {
    /// Files or directories (searched recursively) holding SSTables.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// CQL file with CREATE TYPE / CREATE TABLE statements (used when no schema.cql is beside
    /// the SSTables).
    #[arg(long, value_name = "FILE")]
    schema: Option<PathBuf>,
    /// Show what is on disk: every cell with its timestamp, TTL and deletion time, and every
    /// tombstone, instead of the live rows.
    #[arg(long)]
    raw: bool,
    /// The instant TTLs are evaluated at: RFC 3339 (`2018-09-08T04:31:40Z`), seconds since the
    /// epoch, or `snapshot` (each table's snapshot time: the manifest's `created_at`, else the
    /// newest SSTable file's modification time). Default: the time the run starts.
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
}

/// A validated `inspect` run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectPlan {
    /// Input paths.
    pub paths: Vec<PathBuf>,
    /// JSON output.
    pub json: bool,
    /// Verify checksums, digests and the rows.
    pub verify: bool,
    /// Schema file (for decoding 2.x rows under `--verify`).
    pub schema: Option<PathBuf>,
}

/// A validated `dump` run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpPlan {
    /// Input paths.
    pub paths: Vec<PathBuf>,
    /// Schema file.
    pub schema: Option<PathBuf>,
    /// On-disk view instead of live rows.
    pub raw: bool,
    /// When TTLs are evaluated.
    pub now: NowPlan,
}

/// The instant TTLs are evaluated at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NowPlan {
    /// Seconds since the epoch.
    At(i64),
    /// Each table's snapshot time.
    Snapshot,
}

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// `inspect`.
    Inspect(InspectPlan),
    /// `dump`.
    Dump(DumpPlan),
}

impl DumpPlan {
    /// The evaluation instant (seconds); `Snapshot` must have been resolved per table.
    pub fn at(&self) -> i64 {
        match self.now {
            NowPlan::At(t) => t,
            NowPlan::Snapshot => 0,
        }
    }
}

impl Cli {
    /// Validates the arguments into a plan. `start` is the run's start time (seconds).
    pub fn into_plan(self, start: i64) -> Result<Plan, Error> {
        Ok(match self.command {
            Command::Inspect(a) => Plan::Inspect(InspectPlan {
                paths: a.paths,
                json: a.json,
                verify: a.verify,
                schema: a.schema,
            }),
            Command::Dump(a) => Plan::Dump(DumpPlan {
                paths: a.paths,
                schema: a.schema,
                raw: a.raw,
                now: match a.now {
                    Some(t) if t == "snapshot" => NowPlan::Snapshot,
                    Some(t) => NowPlan::At(parse_instant(&t).ok_or_else(|| {
                        Error::Usage(format!(
                            "--now {t:?}: expected RFC 3339 like 2018-09-08T04:31:40Z or seconds since the epoch"
                        ))
                    })?),
                    None => NowPlan::At(start),
                },
            }),
        })
    }
}

/// Parses `2018-09-08T04:31:40Z` (optionally with fractional seconds, a space instead of `T`,
/// or a `+HH:MM` offset) or plain epoch seconds.
pub fn parse_instant(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<i64>() {
        return Some(secs);
    }
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = s.get(from..from + len)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    if b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || !matches!(b.get(10), Some(b'T' | b't' | b' '))
    {
        return None;
    }
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
        return None;
    }
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = s.get(19..)?;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        rest = frac.get(digits..)?;
    }
    let offset = match rest {
        "Z" | "z" | "" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let hh: i64 = rest.get(1..3)?.parse().ok()?;
            let mm: i64 = rest.get(4..6)?.parse().ok()?;
            sign * (hh * 3600 + mm * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Runs the command line.
pub fn run() -> Result<(), Error> {
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let plan = Cli::parse().into_plan(start)?;
    match plan {
        Plan::Inspect(p) => crate::inspect::run(&p)?,
        Plan::Dump(p) => crate::dump::run(&p)?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants() {
        assert_eq!(parse_instant("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_instant("2018-09-08T04:31:40Z"), Some(1_536_381_100));
        assert_eq!(
            parse_instant("2018-09-08 04:31:40.123+01:00"),
            Some(1_536_381_100 - 3600)
        );
        assert_eq!(parse_instant("1536381100"), Some(1_536_381_100));
        assert_eq!(parse_instant("2018-13-08T04:31:40Z"), None);
        assert_eq!(parse_instant("yesterday"), None);
    }

    #[test]
    fn plan_validation() {
        let cli = Cli::try_parse_from(["sstable-lake", "dump", "x", "--now", "bad"]).unwrap();
        assert!(cli.into_plan(0).is_err());
        let cli = Cli::try_parse_from(["sstable-lake", "dump", "x"]).unwrap();
        match cli.into_plan(42).unwrap() {
            Plan::Dump(p) => assert_eq!(p.now, NowPlan::At(42)),
            other => panic!("{other:?}"),
        }
        assert!(Cli::try_parse_from(["sstable-lake", "inspect"]).is_err());
        let cli = Cli::try_parse_from(["sstable-lake", "dump", "x", "--now", "snapshot"]).unwrap();
        match cli.into_plan(0).unwrap() {
            Plan::Dump(p) => assert_eq!(p.now, NowPlan::Snapshot),
            other => panic!("{other:?}"),
        }
        let cli = Cli::try_parse_from([
            "sstable-lake",
            "inspect",
            "--verify",
            "--schema",
            "s.cql",
            "x",
        ])
        .unwrap();
        match cli.into_plan(0).unwrap() {
            Plan::Inspect(p) => {
                assert!(p.verify);
                assert_eq!(p.schema, Some(PathBuf::from("s.cql")));
            }
            other => panic!("{other:?}"),
        }
    }
}
