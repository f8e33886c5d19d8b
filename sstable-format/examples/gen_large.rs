//! Writes one large LZ4-compressed `nb` SSTable set of the synthetic table
//! ([`sstable_format::synth`]) to `OUT/bench/events-<id>/nb-1-big-*`, streaming `Data.db` and
//! `Index.db` to disk with memory bounded by the largest partition (a few MB).
//!
//! Run: `cargo run --release -p sstable-format --example gen_large -- OUT SIZE [SEED]`, SIZE the
//! stored `Data.db` size to aim at (`4GiB`, `512MiB`, `100000000`; the result is within a few
//! percent). Deterministic: the same SIZE and SEED give the same files. `BIG_ROWS=LO..HI` sets
//! the rows of the big partitions (default `5000..40000`).
#![allow(clippy::expect_used, reason = "a generator run by hand")]

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use sstable_format::sstable_writer::{write_sstable_streaming, WriterOptions};
use sstable_format::synth::{self, Synthetic};

fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let num: f64 = num.parse().ok()?;
    let mult = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1u64,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        _ => return None,
    };
    Some((num * mult as f64) as u64)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(out), Some(size)) = (args.first(), args.get(1).and_then(|s| parse_size(s))) else {
        eprintln!("usage: gen_large OUT SIZE [SEED]   (SIZE: 4GiB, 512MiB, bytes...)");
        return ExitCode::from(2);
    };
    let seed = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let big_rows = std::env::var("BIG_ROWS")
        .ok()
        .and_then(|v| {
            let (lo, hi) = v.split_once("..")?;
            Some((lo.parse().ok()?, hi.parse().ok()?))
        })
        .unwrap_or(synth::BIG_ROWS);
    let dir = PathBuf::from(out)
        .join("bench")
        .join("events-0b5e7c10a1b211eeb9620242ac120002");
    fs::create_dir_all(&dir).expect("create the output directory");

    let started = Instant::now();
    let partitions = Synthetic::for_stored_bytes(seed, size, big_rows);
    let count = partitions.len();
    let mut options = WriterOptions::nb(1);
    options.encoding_stats = Some(synth::encoding_stats());
    let mut files: BTreeMap<String, BufWriter<File>> = BTreeMap::new();
    let (mut written, mut next_report) = (0u64, 1u64 << 30);
    let set = write_sstable_streaming(
        &synth::table(),
        partitions,
        count,
        &options,
        |name, bytes| -> Result<(), Box<dyn std::error::Error>> {
            let file = match files.entry(name.to_string()) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(e) => e.insert(
                    BufWriter::with_capacity(1 << 20, File::create(dir.join(name))?),
                ),
            };
            written += bytes.len() as u64;
            if written >= next_report {
                next_report += 1 << 30;
                eprintln!(
                    "  {} GiB written, {:.0} s",
                    written >> 30,
                    started.elapsed().as_secs_f64()
                );
            }
            Ok(file.write_all(bytes)?)
        },
    )
    .expect("write the set");
    for (_, mut f) in files {
        f.flush().expect("flush");
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "wrote {}: {} partitions, Data.db {} bytes stored ({} uncompressed, ratio {:.3}) in \
         {secs:.1} s ({:.0} MiB/s stored)",
        dir.display(),
        set.partitions,
        set.stored_length,
        set.data_length,
        set.stored_length as f64 / set.data_length.max(1) as f64,
        set.stored_length as f64 / (1 << 20) as f64 / secs.max(1e-9),
    );
    ExitCode::SUCCESS
}
