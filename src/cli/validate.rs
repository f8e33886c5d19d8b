//! Validation of the parsed arguments into a [`Plan`] (ripgrep's lowargs -> hiargs): sizes,
//! destinations, instants, shards and the store flags are checked here, before any I/O.

use std::path::PathBuf;

use crate::config::{
    CommitPlan, Destination, DumpPlan, ExportPlan, InspectPlan, PartitionBy, Plan, ReadOptions,
    RemoteStore, RowGroupSize, ShardPlan, SplitsPlan, StoreOptions,
};
use crate::error::Error;

use super::values::{bound_splits, parse_destination, parse_now, parse_size, shard_plan};
use super::{Cli, Command, ExportArgs, ReadArgs, StoreArgs};

impl StoreArgs {
    fn into_options(self) -> StoreOptions {
        StoreOptions {
            endpoint: self.endpoint,
            region: self.region,
            allow_http: self.allow_http,
            s3_url_style: self.s3_url_style,
            gcs_service_account: self.gcs_service_account,
            upload_part_size: 8 << 20,
        }
    }
}

impl ReadArgs {
    fn into_options(self) -> Result<ReadOptions, Error> {
        let block_size = parse_size(&self.read_block_size)
            .filter(|n| (1..=1 << 30).contains(n))
            .ok_or_else(|| {
                Error::Usage(format!(
                    "--read-block-size {:?}: expected a size like 8MiB, at most 1GiB",
                    self.read_block_size
                ))
            })?;
        Ok(ReadOptions {
            block_size,
            read_ahead: self.read_ahead,
            retries: self.read_retries,
        })
    }
}

/// The object stores among the input paths.
fn input_stores(paths: &[PathBuf]) -> Vec<RemoteStore> {
    paths
        .iter()
        .filter_map(|p| match crate::io::Location::of(p) {
            crate::io::Location::Object { store, .. } => Some(store),
            crate::io::Location::Local(_) => None,
        })
        .collect()
}

/// Checks that every store flag given applies to one of `stores` (the inputs' and the
/// destination's), and the endpoint's scheme. `what` names the URLs for messages.
fn check_store_flags(
    store: &StoreOptions,
    stores: &[RemoteStore],
    what: &str,
) -> Result<(), Error> {
    let any = !stores.is_empty();
    let s3 = stores.contains(&RemoteStore::S3);
    let gcs = stores.contains(&RemoteStore::Gcs);
    let misplaced = [
        ("--endpoint", store.endpoint.is_some(), any),
        ("--allow-http", store.allow_http, any),
        ("--region", store.region.is_some(), s3),
        ("--s3-url-style", store.s3_url_style.is_some(), s3),
        (
            "--gcs-service-account",
            store.gcs_service_account.is_some(),
            gcs,
        ),
    ];
    if let Some((flag, _, _)) = misplaced.iter().find(|(_, given, fits)| *given && !*fits) {
        return Err(Error::Usage(format!("{flag} does not apply to {what}")));
    }
    if let Some(e) = &store.endpoint {
        if !(e.starts_with("https://") || e.starts_with("http://")) {
            return Err(Error::Usage(format!(
                "--endpoint {e}: expected an http:// or https:// URL"
            )));
        }
        if e.starts_with("http://") && !store.allow_http {
            return Err(Error::Usage(format!(
                "--endpoint {e}: plain HTTP needs --allow-http"
            )));
        }
    }
    Ok(())
}

impl ExportArgs {
    fn into_plan(
        self,
        start: i64,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ExportPlan, Error> {
        let target_file_size = parse_size(&self.target_file_size).ok_or_else(|| {
            Error::Usage(format!(
                "--target-file-size {:?}: expected a size like 256MiB",
                self.target_file_size
            ))
        })?;
        let upload_part_size = parse_size(&self.upload_part_size)
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| *n <= 5 << 30)
            .ok_or_else(|| {
                Error::Usage(format!(
                    "--upload-part-size {:?}: expected a size like 8MiB, at most 5GiB",
                    self.upload_part_size
                ))
            })?;
        let rg = self.row_group_size.trim();
        let row_group_size = if !rg.is_empty() && rg.bytes().all(|b| b.is_ascii_digit()) {
            match rg.parse::<usize>() {
                Ok(n) if n > 0 => RowGroupSize::Rows(n),
                _ => {
                    return Err(Error::Usage(format!(
                        "--row-group-size {rg:?}: expected rows > 0"
                    )))
                }
            }
        } else {
            RowGroupSize::Bytes(parse_size(rg).ok_or_else(|| {
                Error::Usage(format!(
                    "--row-group-size {rg:?}: expected a row count (100000) or a size (128MiB)"
                ))
            })?)
        };
        let partition_by = match self.partition_by.as_deref().map(str::trim) {
            None => None,
            Some(p) => {
                let inner = p
                    .strip_prefix("date(")
                    .and_then(|r| r.strip_suffix(')'))
                    .map(str::trim);
                match inner {
                    Some(c) if !c.is_empty() => Some(PartitionBy::Date(c.to_string())),
                    Some(_) => {
                        return Err(Error::Usage(format!("--partition-by {p:?}: no column")))
                    }
                    None if p.is_empty() || p.contains(['(', ')', '/', '=']) => {
                        return Err(Error::Usage(format!(
                            "--partition-by {p:?}: expected COL or date(COL)"
                        )))
                    }
                    None => Some(PartitionBy::Column(p.to_string())),
                }
            }
        };
        let decimal = match self.decimal.as_deref() {
            None => None,
            Some(d) => {
                let bad = || {
                    Error::Usage(format!(
                        "--decimal {d:?}: expected P,S with 1 <= P <= 38, 0 <= S <= P"
                    ))
                };
                let (p, s) = d.split_once(',').ok_or_else(bad)?;
                let p: u8 = p.trim().parse().map_err(|_| bad())?;
                let s: i8 = s.trim().parse().map_err(|_| bad())?;
                if !(1..=38).contains(&p) || s < 0 || s as u8 > p {
                    return Err(bad());
                }
                Some((p, s))
            }
        };
        let out = parse_destination(&self.out)?;
        let store = StoreOptions {
            upload_part_size,
            ..self.store.into_options()
        };
        let mut stores = input_stores(&self.paths);
        if let Destination::Remote { store, .. } = &out {
            stores.push(*store);
        }
        check_store_flags(
            &store,
            &stores,
            &format!("--out {} or the inputs", self.out),
        )?;
        let read = self.read.into_options()?;
        let threads = match self.threads {
            Some(0) => return Err(Error::Usage("--threads must be at least 1".into())),
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        let (shard, commit, splits) = if self.commit {
            let count = match self.shards {
                Some(n) => n,
                None => match env("SSTABLE_LAKE_SHARDS").filter(|v| !v.trim().is_empty()) {
                    Some(v) => v.trim().parse::<usize>().map_err(|_| {
                        Error::Usage(format!("SSTABLE_LAKE_SHARDS={v:?}: expected a number"))
                    })?,
                    None => {
                        return Err(Error::Usage(
                            "--commit needs the number of shards: --shards N".into(),
                        ))
                    }
                },
            };
            bound_splits("--shards", count)?;
            let splits = bound_splits("--splits", self.splits.unwrap_or(count))?;
            if count == 0 || splits == 0 {
                return Err(Error::Usage(
                    "--shards and --splits must be at least 1".into(),
                ));
            }
            (None, Some(CommitPlan { count, splits }), None)
        } else {
            if let Some(n) = self.splits {
                bound_splits("--splits", n)?;
            }
            let shard = shard_plan(None, self.shard, self.shards, None, env)?;
            let shard = shard.map(|s| ShardPlan {
                splits: self.splits.unwrap_or(s.count),
                ..s
            });
            if self.splits == Some(0) {
                return Err(Error::Usage("--splits must be at least 1".into()));
            }
            let splits = if shard.is_some() { None } else { self.splits };
            (shard, None, splits)
        };
        Ok(ExportPlan {
            paths: self.paths,
            out,
            store,
            read,
            schema: self.schema,
            now: parse_now(self.now, start)?,
            target_file_size,
            row_group_size,
            compression: self.compression,
            bloom_filter: self.bloom_filter,
            partition_by,
            decimal,
            compat: self.compat,
            with_writetime: self.with_writetime,
            with_ttl: self.with_ttl,
            with_token: self.with_token,
            with_source: self.with_source,
            report: self.report,
            fail_after_parts: self.fail_after_parts,
            on_error: self.on_error,
            shard,
            commit,
            splits,
            threads,
        })
    }
}

impl Cli {
    /// Validates the arguments into a plan. `start` is the run's start time (seconds).
    pub fn into_plan(self, start: i64) -> Result<Plan, Error> {
        self.into_plan_with_env(start, &|name| std::env::var(name).ok())
    }

    /// [`Cli::into_plan`] with the environment given (`env` returns a variable's value).
    pub fn into_plan_with_env(
        self,
        start: i64,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Plan, Error> {
        Ok(match self.command {
            Command::Plan(a) => {
                if a.splits == 0 {
                    return Err(Error::Usage("--splits must be at least 1".into()));
                }
                bound_splits("--splits", a.splits)?;
                let (store, read) = input_options(&a.paths, a.store, a.read)?;
                Plan::Splits(SplitsPlan {
                    paths: a.paths,
                    store,
                    read,
                    splits: a.splits,
                    json: a.json,
                    out: a.out,
                })
            }
            Command::Inspect(a) => {
                let (store, read) = input_options(&a.paths, a.store, a.read)?;
                Plan::Inspect(InspectPlan {
                    paths: a.paths,
                    store,
                    read,
                    json: a.json,
                    verify: a.verify,
                    schema: a.schema,
                })
            }
            Command::Dump(a) => {
                let (store, read) = input_options(&a.paths, a.store, a.read)?;
                Plan::Dump(DumpPlan {
                    paths: a.paths,
                    store,
                    read,
                    schema: a.schema,
                    raw: a.raw,
                    now: parse_now(a.now, start)?,
                    shard: shard_plan(a.split, a.shard, a.shards, a.splits, env)?,
                })
            }
            Command::Export(a) => Plan::Export(Box::new(a.into_plan(start, env)?)),
        })
    }
}

/// The validated store and read options of a command's inputs.
fn input_options(
    paths: &[PathBuf],
    store: StoreArgs,
    read: ReadArgs,
) -> Result<(StoreOptions, ReadOptions), Error> {
    let store = store.into_options();
    check_store_flags(&store, &input_stores(paths), "local inputs")?;
    Ok((store, read.into_options()?))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic, reason = "tests")]
mod tests {
    use super::*;
    use crate::config::{Compression, NowPlan};
    use clap::Parser;

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

    #[test]
    fn shards() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let shard = |args: &[&str], vars: &'static [(&'static str, &'static str)]| {
            let mut all = vec!["sstable-lake", "dump", "x"];
            all.extend_from_slice(args);
            let cli = Cli::try_parse_from(all).unwrap();
            cli.into_plan_with_env(0, &env(vars)).map(|p| match p {
                Plan::Dump(d) => d.shard,
                other => panic!("{other:?}"),
            })
        };
        let sp = |index, count, splits| {
            Some(ShardPlan {
                index,
                count,
                splits,
            })
        };
        assert_eq!(shard(&[], &[]).unwrap(), None);
        assert_eq!(shard(&[], &[("JOB_COMPLETION_INDEX", "1")]).unwrap(), None);
        assert_eq!(shard(&["--shard", "1/4"], &[]).unwrap(), sp(1, 4, 4));
        assert_eq!(shard(&["--split", "2/3"], &[]).unwrap(), sp(2, 3, 3));
        assert_eq!(
            shard(&["--shard", "1/4", "--splits", "16"], &[]).unwrap(),
            sp(1, 4, 16)
        );
        assert_eq!(
            shard(&["--shards", "4"], &[("JOB_COMPLETION_INDEX", "3")]).unwrap(),
            sp(3, 4, 4)
        );
        assert_eq!(
            shard(
                &[],
                &[
                    ("SSTABLE_LAKE_SHARDS", "8"),
                    ("AWS_BATCH_JOB_ARRAY_INDEX", "5")
                ]
            )
            .unwrap(),
            sp(5, 8, 8)
        );
        // The flag wins over the environment.
        assert_eq!(
            shard(&["--shard", "0/2"], &[("SSTABLE_LAKE_SHARDS", "8")]).unwrap(),
            sp(0, 2, 2)
        );
        for (args, vars) in [
            (&["--shard", "4/4"][..], &[][..]),
            (&["--shard", "1"], &[]),
            (&["--shard", "0/0"], &[]),
            (&["--shards", "4"], &[]),
            (&["--shards", "4"], &[("JOB_COMPLETION_INDEX", "4")]),
            (&["--shards", "0"], &[("JOB_COMPLETION_INDEX", "0")]),
            (
                &[],
                &[("SSTABLE_LAKE_SHARDS", "x"), ("JOB_COMPLETION_INDEX", "0")],
            ),
            (&["--splits", "3"], &[]),
            (&["--split", "0/2", "--splits", "3"], &[]),
            (&["--shard", "0/2", "--splits", "0"], &[]),
        ] as [(&[&str], &'static [(&'static str, &'static str)]); 10]
        {
            assert!(shard(args, vars).is_err(), "{args:?} {vars:?}");
        }
        assert!(Cli::try_parse_from([
            "sstable-lake",
            "dump",
            "x",
            "--split",
            "0/2",
            "--shard",
            "0/2"
        ])
        .is_err());
        let cli = Cli::try_parse_from(["sstable-lake", "plan", "x", "--splits", "0"]).unwrap();
        assert!(cli.into_plan(0).is_err());
        let cli =
            Cli::try_parse_from(["sstable-lake", "plan", "x", "--splits", "3", "--json"]).unwrap();
        assert!(matches!(
            cli.into_plan(0).unwrap(),
            Plan::Splits(SplitsPlan {
                splits: 3,
                json: true,
                ..
            })
        ));
    }

    #[test]
    fn input_store_flags() {
        let plan = |args: &[&str]| {
            let mut all = vec!["sstable-lake"];
            all.extend_from_slice(args);
            Cli::try_parse_from(all).unwrap().into_plan(0)
        };
        let Plan::Dump(d) = plan(&[
            "dump",
            "s3://b/backups",
            "--region",
            "eu-west-1",
            "--read-block-size",
            "4KiB",
            "--read-ahead",
            "0",
        ])
        .unwrap() else {
            panic!("not a dump")
        };
        assert_eq!(d.store.region.as_deref(), Some("eu-west-1"));
        assert_eq!(d.read.block_size, 4096);
        assert_eq!(d.read.read_ahead, 0);
        assert!(plan(&["dump", "/local", "--region", "x"]).is_err());
        assert!(plan(&["inspect", "s3://b/x", "--gcs-service-account", "k.json"]).is_err());
        assert!(plan(&[
            "plan",
            "gs://b/x",
            "--splits",
            "2",
            "--endpoint",
            "http://h"
        ])
        .is_err());
        assert!(plan(&["dump", "gs://b", "--read-block-size", "0"]).is_err());
        // export: a flag fits the destination or an input.
        assert!(plan(&["export", "s3://b/in", "--out", "/tmp/o", "--region", "r"]).is_ok());
        assert!(plan(&["export", "/in", "--out", "/tmp/o", "--region", "r"]).is_err());
    }

    fn export(args: &[&str]) -> Result<ExportPlan, Error> {
        let mut all = vec!["sstable-lake", "export", "x"];
        all.extend_from_slice(args);
        match Cli::try_parse_from(all).unwrap().into_plan(0)? {
            Plan::Export(p) => Ok(*p),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn export_plans() {
        let p = export(&["--out", "/tmp/d"]).unwrap();
        assert_eq!(p.out, Destination::Local("/tmp/d".into()));
        assert_eq!(p.target_file_size, 256 << 20);
        assert_eq!(p.row_group_size, RowGroupSize::Bytes(128 << 20));
        assert_eq!(p.compression, Compression::Zstd);
        let p = export(&[
            "--out",
            "file:///d",
            "--row-group-size",
            "5000",
            "--target-file-size",
            "1GB",
        ])
        .unwrap();
        assert_eq!(p.out, Destination::Local("/d".into()));
        assert_eq!(p.row_group_size, RowGroupSize::Rows(5000));
        assert_eq!(p.target_file_size, 1_000_000_000);
        let p = export(&[
            "--out",
            "d",
            "--partition-by",
            "date(ts)",
            "--decimal",
            "20,4",
        ])
        .unwrap();
        assert_eq!(p.partition_by, Some(PartitionBy::Date("ts".into())));
        assert_eq!(p.decimal, Some((20, 4)));
        assert_eq!(
            export(&["--out", "d", "--partition-by", "pk"])
                .unwrap()
                .partition_by,
            Some(PartitionBy::Column("pk".into()))
        );
        let p = export(&["--out", "s3://bucket/x/y/", "--region", "eu-west-1"]).unwrap();
        assert_eq!(
            p.out,
            Destination::Remote {
                store: RemoteStore::S3,
                bucket: "bucket".into(),
                prefix: "x/y".into()
            }
        );
        assert_eq!(p.out.to_string(), "s3://bucket/x/y");
        assert_eq!(p.store.region.as_deref(), Some("eu-west-1"));
        let p = export(&["--out", "gs://b", "--gcs-service-account", "k.json"]).unwrap();
        assert_eq!(p.out.to_string(), "gs://b");
        assert!(export(&["--out", "s3://"]).is_err());
        assert!(export(&["--out", "s3://b/x//y"]).is_err());
        assert!(export(&["--out", "az://b/x"]).is_err());
        assert!(export(&["--out", "d", "--endpoint", "http://h"]).is_err());
        assert!(export(&["--out", "s3://b", "--endpoint", "http://h"]).is_err());
        assert!(export(&["--out", "s3://b", "--endpoint", "http://h", "--allow-http"]).is_ok());
        assert!(export(&["--out", "s3://b", "--gcs-service-account", "k"]).is_err());
        assert!(export(&["--out", "gs://b", "--region", "r"]).is_err());
        assert!(export(&["--out", "d", "--decimal", "39,2"]).is_err());
        assert!(export(&["--out", "d", "--decimal", "10,11"]).is_err());
        assert!(export(&["--out", "d", "--target-file-size", "big"]).is_err());
        assert!(export(&["--out", "d", "--row-group-size", "0"]).is_err());
        assert!(export(&["--out", "d", "--partition-by", "a/b"]).is_err());
        assert_eq!(parse_size("64KiB"), Some(65536));
    }

    #[test]
    fn export_shards_commit_threads() {
        let p = export(&[
            "--out",
            "d",
            "--shard",
            "2/8",
            "--splits",
            "32",
            "--threads",
            "3",
        ])
        .unwrap();
        assert_eq!(
            p.shard,
            Some(ShardPlan {
                index: 2,
                count: 8,
                splits: 32
            })
        );
        assert_eq!((p.commit, p.splits, p.threads), (None, None, 3));
        let p = export(&["--out", "d", "--commit", "--shards", "8"]).unwrap();
        assert_eq!(
            p.commit,
            Some(CommitPlan {
                count: 8,
                splits: 8
            })
        );
        assert_eq!(p.shard, None);
        let p = export(&["--out", "d", "--splits", "5"]).unwrap();
        assert_eq!((p.shard, p.splits), (None, Some(5)));
        assert!(p.threads >= 1);
        assert!(export(&["--out", "d", "--commit"]).is_err());
        assert!(export(&["--out", "d", "--threads", "0"]).is_err());
        assert!(export(&["--out", "d", "--shard", "8/8"]).is_err());
        assert!(export(&["--out", "d", "--shards", "4"]).is_err());
        let plan = |vars: &'static [(&'static str, &'static str)]| {
            let cli = Cli::try_parse_from(["sstable-lake", "export", "x", "--out", "d"]).unwrap();
            match cli.into_plan_with_env(0, &|n| {
                vars.iter()
                    .find(|(k, _)| *k == n)
                    .map(|(_, v)| v.to_string())
            }) {
                Ok(Plan::Export(p)) => Ok(p.shard),
                Ok(other) => panic!("{other:?}"),
                Err(e) => Err(e),
            }
        };
        assert_eq!(
            plan(&[
                ("SSTABLE_LAKE_SHARDS", "4"),
                ("AWS_BATCH_JOB_ARRAY_INDEX", "3")
            ])
            .unwrap(),
            Some(ShardPlan {
                index: 3,
                count: 4,
                splits: 4
            })
        );
        assert_eq!(plan(&[("JOB_COMPLETION_INDEX", "3")]).unwrap(), None);
    }
}
