//! Parsers of single flag values: sizes (`256MiB`), destinations (`s3://b/p`), instants
//! (`--now`), `K/N` shards.

use std::path::PathBuf;

use crate::config::{Destination, NowPlan, RemoteStore, ShardPlan};
use crate::error::Error;
use crate::time::parse_instant;

/// Parses `256MiB`, `1GB`, `64k`, `1000` (bytes).
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let num: f64 = num.parse().ok()?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mib" => 1024.0 * 1024.0,
        "g" | "gb" => 1e9,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let v = num * mult;
    (1.0..1e18).contains(&v).then_some(v as u64)
}

pub(super) fn parse_destination(s: &str) -> Result<Destination, Error> {
    if let Some((scheme, rest)) = s.split_once("://") {
        let remote = |store: RemoteStore| {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(Error::Usage(format!("--out {s}: no bucket name")));
            }
            let prefix = prefix.trim_matches('/');
            if !prefix.is_empty()
                && prefix
                    .split('/')
                    .any(|p| p.is_empty() || p == "." || p == "..")
            {
                return Err(Error::Usage(format!(
                    "--out {s}: the key prefix has an empty, . or .. segment"
                )));
            }
            Ok(Destination::Remote {
                store,
                bucket: bucket.to_string(),
                prefix: prefix.to_string(),
            })
        };
        return match scheme {
            "file" => Ok(Destination::Local(PathBuf::from(rest))),
            "s3" => remote(RemoteStore::S3),
            "gs" => remote(RemoteStore::Gcs),
            "gcs" | "az" | "abfs" | "abfss" => Err(Error::Usage(format!(
                "--out {s}: {scheme}:// destinations are not supported (local paths, file://, s3:// and gs://)"
            ))),
            _ => Err(Error::Usage(format!("--out {s}: unknown scheme {scheme}://"))),
        };
    }
    if s.is_empty() {
        return Err(Error::Usage("--out: empty destination".into()));
    }
    Ok(Destination::Local(PathBuf::from(s)))
}

pub(super) fn parse_now(now: Option<String>, start: i64) -> Result<NowPlan, Error> {
    Ok(match now {
        Some(t) if t == "snapshot" => NowPlan::Snapshot,
        Some(t) => NowPlan::At(parse_instant(&t).ok_or_else(|| {
            Error::Usage(format!(
                "--now {t:?}: expected RFC 3339 like 2018-09-08T04:31:40Z or seconds since the epoch"
            ))
        })?),
        None => NowPlan::At(start),
    })
}

/// The most splits (and shards) a table may be cut into.
///
/// A split is a token range of whole partitions, read as whole compression chunks (16 KiB
/// by default, 4 KiB at least in practice; 64 KiB CRC slices when uncompressed): a split
/// smaller than one chunk or one partition reads what its neighbour reads, or nothing. Each
/// also costs the plan a byte range per SSTable, a seek per SSTable and a Parquet part of its
/// own. 65,536 splits already cut an 8 TiB table into 128 MiB pieces (the size `export`
/// aims for by default) and a 1 GiB one into 16 KiB ones, a chunk each. Beyond that, a
/// count is a mistake, and 10^8 or 10^9 of them would take gigabytes (or hours) to plan
/// before reading a byte: a usage error instead.
pub const MAX_SPLITS: usize = 65_536;

/// Refuses a number of splits or shards above [`MAX_SPLITS`] (`what` names the flag).
pub(super) fn bound_splits(what: &str, n: usize) -> Result<usize, Error> {
    if n > MAX_SPLITS {
        return Err(Error::Usage(format!(
            "{what} {n}: at most {MAX_SPLITS} per table (a split holds whole partitions and \
             reads whole compression chunks; more would be smaller than a chunk)"
        )));
    }
    Ok(n)
}

/// Parses `K/N` (`0 <= K < N`).
fn parse_k_of_n(flag: &str, s: &str) -> Result<(usize, usize), Error> {
    let bad = || {
        Error::Usage(format!(
            "{flag} {s:?}: expected K/N with 0 <= K < N, like 0/4"
        ))
    };
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let k: usize = k.trim().parse().map_err(|_| bad())?;
    let n: usize = n.trim().parse().map_err(|_| bad())?;
    if n == 0 || k >= n {
        return Err(bad());
    }
    Ok((k, n))
}

/// The shard of a `dump`: `--split K/N`, `--shard K/N`, or `--shards N` / SSTABLE_LAKE_SHARDS
/// with K from JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX.
pub(super) fn shard_plan(
    split: Option<String>,
    shard: Option<String>,
    shards: Option<usize>,
    splits: Option<usize>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<ShardPlan>, Error> {
    if let Some(s) = split {
        if splits.is_some() {
            return Err(Error::Usage(
                "--splits goes with --shard, not --split".into(),
            ));
        }
        let (index, count) = parse_k_of_n("--split", &s)?;
        bound_splits("--split K/N: N =", count)?;
        return Ok(Some(ShardPlan {
            index,
            count,
            splits: count,
        }));
    }
    let (index, count) = if let Some(s) = shard {
        parse_k_of_n("--shard", &s)?
    } else {
        let count = match shards {
            Some(n) => Some(n),
            None => match env("SSTABLE_LAKE_SHARDS").filter(|v| !v.trim().is_empty()) {
                Some(v) => Some(v.trim().parse::<usize>().map_err(|_| {
                    Error::Usage(format!("SSTABLE_LAKE_SHARDS={v:?}: expected a number"))
                })?),
                None => None,
            },
        };
        let Some(count) = count else {
            if splits.is_some() {
                return Err(Error::Usage("--splits needs --shard or --shards".into()));
            }
            return Ok(None);
        };
        if count == 0 {
            return Err(Error::Usage(
                "the number of shards must be at least 1".into(),
            ));
        }
        let (var, value) = ["JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"]
            .into_iter()
            .find_map(|v| env(v).filter(|x| !x.trim().is_empty()).map(|x| (v, x)))
            .ok_or_else(|| {
                Error::Usage(format!(
                    "{count} shards but no shard index: give --shard K/{count}, or set \
                     JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX"
                ))
            })?;
        let index: usize = value
            .trim()
            .parse()
            .map_err(|_| Error::Usage(format!("{var}={value:?}: expected a shard index")))?;
        if index >= count {
            return Err(Error::Usage(format!(
                "{var}={index} is not a shard of {count} (0..{count})"
            )));
        }
        (index, count)
    };
    bound_splits("the number of shards", count)?;
    let splits = bound_splits("--splits", splits.unwrap_or(count))?;
    if splits == 0 {
        return Err(Error::Usage("--splits must be at least 1".into()));
    }
    Ok(Some(ShardPlan {
        index,
        count,
        splits,
    }))
}
