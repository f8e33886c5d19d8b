//! `plan` and sharded `dump` on the three-node sample backup: the shards of a table together
//! give exactly the rows of a plain dump (as a multiset), whichever way the shard is named.

use std::process::{Command, Output};

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/sample");
const NOW: &str = "2024-01-01T00:00:00Z";

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sstable-lake"));
    c.args(args);
    for v in [
        "JOB_COMPLETION_INDEX",
        "AWS_BATCH_JOB_ARRAY_INDEX",
        "SSTABLE_LAKE_SHARDS",
    ] {
        c.env_remove(v);
    }
    c.envs(env.iter().copied());
    let o = c.output().expect("run sstable-lake");
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn sorted_lines(o: &Output) -> Vec<String> {
    let mut v: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

fn plain(raw: bool) -> Vec<String> {
    let mut args = vec!["dump", SAMPLE, "--now", NOW];
    if raw {
        args.push("--raw");
    }
    let rows = sorted_lines(&run(&args, &[]));
    assert!(rows.len() > 5);
    rows
}

#[test]
fn four_shards_give_the_rows_of_a_plain_dump() {
    let all = plain(false);
    let mut union = Vec::new();
    for k in 0..4 {
        let shard = format!("{k}/4");
        union.extend(sorted_lines(&run(
            &["dump", SAMPLE, "--now", NOW, "--shard", &shard],
            &[],
        )));
    }
    union.sort();
    assert_eq!(union, all);
}

#[test]
fn splits_and_environment_shards_agree() {
    let all = plain(false);
    // `--split K/N`.
    let mut union = Vec::new();
    for k in 0..3 {
        let split = format!("{k}/3");
        union.extend(sorted_lines(&run(
            &["dump", SAMPLE, "--now", NOW, "--split", &split],
            &[],
        )));
    }
    union.sort();
    assert_eq!(union, all);
    // Kubernetes indexed Job, more splits than shards; AWS Batch array job.
    for (var, splits) in [
        ("JOB_COMPLETION_INDEX", "5"),
        ("AWS_BATCH_JOB_ARRAY_INDEX", "2"),
    ] {
        let mut union = Vec::new();
        for k in 0..2 {
            let index = k.to_string();
            union.extend(sorted_lines(&run(
                &["dump", SAMPLE, "--now", NOW, "--splits", splits],
                &[(var, &index), ("SSTABLE_LAKE_SHARDS", "2")],
            )));
        }
        union.sort();
        assert_eq!(union, all, "{var}");
    }
}

#[test]
fn raw_shards_give_what_is_on_disk() {
    let all = plain(true);
    let mut union = Vec::new();
    for k in 0..4 {
        union.extend(sorted_lines(&run(
            &["dump", SAMPLE, "--now", NOW, "--raw", "--shards", "4"],
            &[("JOB_COMPLETION_INDEX", &k.to_string())],
        )));
    }
    union.sort();
    assert_eq!(union, all);
}

#[test]
fn bad_shards_are_usage_errors() {
    let bin = env!("CARGO_BIN_EXE_sstable-lake");
    for (args, env) in [
        (vec!["dump", SAMPLE, "--shard", "4/4"], vec![]),
        (vec!["dump", SAMPLE, "--shard", "x"], vec![]),
        (vec!["dump", SAMPLE, "--shards", "3"], vec![]),
        (
            vec!["dump", SAMPLE],
            vec![("SSTABLE_LAKE_SHARDS", "2"), ("JOB_COMPLETION_INDEX", "2")],
        ),
        (vec!["plan", SAMPLE, "--splits", "0"], vec![]),
    ] {
        let mut c = Command::new(bin);
        c.args(&args).env_remove("JOB_COMPLETION_INDEX");
        c.env_remove("AWS_BATCH_JOB_ARRAY_INDEX")
            .env_remove("SSTABLE_LAKE_SHARDS");
        c.envs(env);
        let o = c.output().unwrap();
        assert!(!o.status.success(), "{args:?} should fail");
        assert!(o.stdout.is_empty(), "{args:?}: nothing read");
    }
}

#[test]
fn plan_json_covers_every_partition_once() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("plan.json");
    run(
        &[
            "plan",
            SAMPLE,
            "--splits",
            "3",
            "--json",
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let tables = v["tables"].as_array().unwrap();
    assert_eq!(tables.len(), 3);
    for t in tables {
        let splits = t["splits"].as_array().unwrap();
        assert_eq!(splits.len(), 3);
        for (j, s) in t["sstables"].as_array().unwrap().iter().enumerate() {
            let mut at = 0;
            let mut parts = 0;
            for sp in splits {
                let r = &sp["sstables"][j];
                assert_eq!(r["data_start"].as_u64().unwrap(), at, "contiguous");
                at = r["data_end"].as_u64().unwrap();
                parts += r["partitions"].as_u64().unwrap();
            }
            assert_eq!(at, s["data_length"].as_u64().unwrap());
            assert_eq!(parts, s["partitions"].as_u64().unwrap());
        }
        assert!(splits[0]["start"].is_null());
        assert!(splits
            .iter()
            .any(|s| !s["empty"].as_bool().unwrap() && s["end"].is_null()));
    }
    let text = run(&["plan", SAMPLE, "--splits", "2"], &[]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("shop.products:"), "{text}");
    assert!(text.contains("split 1: tokens ("), "{text}");
}

/// A 2.x (ka) set: `LegacyReader` reads each shard's chunks and stops at its end.
#[test]
fn legacy_shards_give_the_rows_of_a_plain_dump() {
    let corpus = std::env::var_os("SSTABLE_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus"))
        });
    let dir = corpus.join("cassandra/legacy-sstables/ka/legacy_tables/legacy_ka_clust");
    if !dir.is_dir() {
        eprintln!("corpus not found at {}: skipping", corpus.display());
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let schema = tmp.path().join("schema.cql");
    std::fs::write(
        &schema,
        "CREATE TABLE legacy_tables.legacy_ka_clust (pk text, ck text, val text, PRIMARY KEY (pk, ck));",
    )
    .unwrap();
    let (dir, schema) = (dir.to_str().unwrap(), schema.to_str().unwrap());
    let all = sorted_lines(&run(&["dump", dir, "--schema", schema, "--now", NOW], &[]));
    assert_eq!(all.len(), 250);
    let mut union = Vec::new();
    let mut non_empty = 0;
    for k in 0..4 {
        let shard = format!("{k}/4");
        let part = sorted_lines(&run(
            &[
                "dump", dir, "--schema", schema, "--now", NOW, "--shard", &shard,
            ],
            &[],
        ));
        non_empty += usize::from(!part.is_empty());
        union.extend(part);
    }
    union.sort();
    assert_eq!(union, all);
    assert!(
        non_empty >= 3,
        "the 5 partitions are spread over the shards"
    );
}

/// The CI-sized form of `scripts/bench-split.sh` (issue 7): one generated LZ4 `nb` set of about
/// 64 MiB of Data.db, skewed partition sizes (90% of 1..20 rows, 9.5% of 100..1,000, 0.5% of
/// 1,000..3,000 — the script's 4 GiB set has 5,000..40,000, the same proportion to a split),
/// cut into 16 splits whose compressed byte ranges are within a factor of 2 of each other.
#[test]
fn a_large_generated_set_splits_evenly() {
    use std::io::Write;

    use sstable_format::sstable_writer::{write_sstable_streaming, WriterOptions};
    use sstable_format::synth::{self, Synthetic};

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp
        .path()
        .join("bench/events-0b5e7c10a1b211eeb9620242ac120002");
    std::fs::create_dir_all(&dir).unwrap();
    let parts = Synthetic::for_stored_bytes(11, 64 << 20, (1_000, 3_000));
    let count = parts.len();
    let mut options = WriterOptions::nb(1);
    options.encoding_stats = Some(synth::encoding_stats());
    let mut files = std::collections::BTreeMap::new();
    let set = write_sstable_streaming(
        &synth::table(),
        parts,
        count,
        &options,
        |name, bytes| -> Result<(), Box<dyn std::error::Error>> {
            let f = match files.entry(name.to_string()) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(e) => e.insert(std::io::BufWriter::new(
                    std::fs::File::create(dir.join(name))?,
                )),
            };
            Ok(f.write_all(bytes)?)
        },
    )
    .unwrap();
    for (_, mut f) in files {
        f.flush().unwrap();
    }
    assert!(set.stored_length > 48 << 20, "{set:?}");

    let out = run(
        &[
            "plan",
            tmp.path().to_str().unwrap(),
            "--splits",
            "16",
            "--json",
        ],
        &[],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let splits = v["tables"][0]["splits"].as_array().unwrap();
    assert_eq!(splits.len(), 16);
    let sizes: Vec<u64> = splits
        .iter()
        .map(|s| {
            s["sstables"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["file_end"].as_u64().unwrap() - r["file_start"].as_u64().unwrap())
                .sum()
        })
        .collect();
    let partitions: u64 = splits
        .iter()
        .map(|s| s["partitions"].as_u64().unwrap())
        .sum();
    assert_eq!(partitions, set.partitions);
    // The chunk ranges cover the file: neighbours share at most their boundary chunk.
    let total: u64 = sizes.iter().sum();
    assert!(
        total >= set.stored_length,
        "{total} < {}",
        set.stored_length
    );
    let (min, max) = (*sizes.iter().min().unwrap(), *sizes.iter().max().unwrap());
    assert!(min > 0 && max <= 2 * min, "split sizes {sizes:?}");
}
