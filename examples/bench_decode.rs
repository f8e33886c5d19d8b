//! Decode-only floor of `scripts/bench-lake.sh` (issue 13): decodes every row of every 3.0+
//! `Data.db` under the given directories with [`sstable_format::data::DataReader`] (chunk
//! checksums verified and LZ4 decompressed as an export does, cells left as borrowed bytes),
//! one file after the other on one thread, and prints the CPU time of the whole run.
//!
//! Run: `cargo run --release --example bench_decode -- DIR...`. Prints one line:
//! `decode files=N partitions=P rows=R data_bytes=B cpu_s=S`.
#![allow(clippy::expect_used, reason = "a benchmark tool")]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use sstable_format::data::{DataReader, PartitionReader, Unfiltered};
use sstable_format::{
    ChunkIndex, CompressedSource, CompressionInfo, CrcDb, DataOffset, Statistics,
    UncompressedSource, Version,
};

/// CPU time (user + system) of this thread so far, in seconds (`/proc/thread-self/schedstat`,
/// nanosecond resolution).
fn thread_cpu() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0.0, |ns| ns as f64 / 1e9)
}

fn data_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            data_files(&p, out);
        } else if p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with("-big-Data.db"))
        {
            out.push(p);
        }
    }
}

fn component(data: &Path, name: &str) -> PathBuf {
    let file = data
        .file_name()
        .and_then(|n| n.to_str())
        .expect("file name");
    data.with_file_name(file.replace("Data.db", name))
}

/// Decodes every row of `reader`: (partitions, rows).
fn drain(mut reader: impl PartitionReader) -> (u64, u64) {
    let (mut partitions, mut rows) = (0, 0);
    while reader.next_partition().expect("partition").is_some() {
        partitions += 1;
        while let Some(u) = reader.next_unfiltered().expect("row") {
            if let Unfiltered::Row(r) = u {
                rows += 1;
                std::hint::black_box(&r);
            }
        }
    }
    (partitions, rows)
}

fn decode(data_path: &Path) -> (u64, u64, u64) {
    let name = data_path
        .file_name()
        .and_then(|n| n.to_str())
        .expect("file name");
    let version: Version = name
        .split('-')
        .next()
        .and_then(|v| v.parse().ok())
        .expect("version in the file name");
    let stats_bytes = std::fs::read(component(data_path, "Statistics.db")).expect("Statistics.db");
    let stats = Statistics::parse(&stats_bytes, version).expect("parse Statistics.db");
    let layout = stats
        .header
        .as_ref()
        .expect("serialization header")
        .layout(version)
        .expect("layout");
    let data = std::fs::read(data_path).expect("Data.db");
    let bytes: &[u8] = &data;
    let compression = std::fs::read(component(data_path, "CompressionInfo.db"))
        .ok()
        .map(|b| CompressionInfo::parse(&b, version).expect("CompressionInfo.db"));
    let crc = std::fs::read(component(data_path, "CRC.db"))
        .ok()
        .map(|b| CrcDb::parse(&b).expect("CRC.db"));
    let (p, r, len) = match &compression {
        Some(info) => {
            let src = CompressedSource::with_ranges(bytes, info, version, ChunkIndex(0), None)
                .expect("source");
            let (p, r) = drain(DataReader::new(src, layout));
            (p, r, info.data_length())
        }
        None => {
            let src =
                UncompressedSource::with_ranges(bytes, crc.as_ref(), version, DataOffset(0), None)
                    .expect("source");
            let (p, r) = drain(DataReader::new(src, layout));
            (p, r, data.len() as u64)
        }
    };
    (p, r, len)
}

fn main() -> ExitCode {
    let dirs: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    if dirs.is_empty() {
        eprintln!("usage: bench_decode DIR...");
        return ExitCode::from(2);
    }
    let mut files = Vec::new();
    for d in &dirs {
        data_files(d, &mut files);
    }
    let start = thread_cpu();
    let (mut partitions, mut rows, mut bytes) = (0, 0, 0);
    for f in &files {
        let (p, r, b) = decode(f);
        partitions += p;
        rows += r;
        bytes += b;
    }
    let cpu = thread_cpu() - start;
    println!(
        "decode files={} partitions={partitions} rows={rows} data_bytes={bytes} cpu_s={cpu:.3}",
        files.len()
    );
    ExitCode::SUCCESS
}
