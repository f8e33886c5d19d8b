//! Stable-toolchain driver of the fuzz targets in `fuzz/src/targets.rs` (the same functions
//! the cargo-fuzz targets run under libFuzzer on nightly), and the seeder of their corpus.
//!
//! * `fuzz seed CORPUS OUT`: writes the inputs of every target built from the real SSTable
//!   corpus into `OUT/<target>/` (never committed: `fuzz/corpus/` is gitignored).
//! * `fuzz run OUT SECONDS [TARGET...]`: for each target, a deterministic mutation loop over
//!   its seeds for SECONDS: bit flips, byte sets, truncations, splices of two seeds, inserted
//!   and deleted runs, random bytes, interesting integers. A panic is a crash: the input is
//!   saved to `OUT/../artifacts/<target>/` and the run goes on. An execution that takes more
//!   than 10 s is a hang: the input is saved first, and a watchdog aborts the process. Prints
//!   executions, time and crashes per target; exits 1 if any target crashed.
//! * `fuzz replay TARGET FILE...`: runs files through a target (to reproduce a crash).
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command-line tool that reports on the terminal"
)]

#[path = "../../fuzz/src/targets.rs"]
#[allow(dead_code, reason = "pack helpers are shared with the seeder below")]
mod targets;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sstable_format::descriptor::{ComponentName, Descriptor};
use sstable_format::{CompressedSource, CompressionInfo, DataSource, Version};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map_or("", String::as_str);
    let rest = |i: usize| args.get(i..).unwrap_or_default();
    let code = match (arg(0), args.len()) {
        ("seed", 3) => seed(Path::new(arg(1)), Path::new(arg(2))),
        ("run", n) if n >= 3 => run(Path::new(arg(1)), arg(2).parse().unwrap_or(60), rest(3)),
        ("replay", n) if n >= 3 => replay(arg(1), rest(2)),
        _ => {
            eprintln!(
                "usage: fuzz seed CORPUS OUT | fuzz run OUT SECONDS [TARGET...] | \
                 fuzz replay TARGET FILE..."
            );
            2
        }
    };
    std::process::exit(code);
}

fn target(name: &str) -> Option<fn(&[u8])> {
    targets::TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, f)| *f)
}

// ----------------------------------------------------------------------------------------
// Seeding
// ----------------------------------------------------------------------------------------

fn walk_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk_files(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// The uncompressed Data.db of a set (decompressed when it has a CompressionInfo.db).
fn plain_data(data: &[u8], ci: Option<&[u8]>, v: Version) -> Option<Vec<u8>> {
    match ci {
        None => Some(data.to_vec()),
        Some(ci) => {
            let info = CompressionInfo::parse(ci, v).ok()?;
            let mut src =
                CompressedSource::new(data, &info, v, sstable_format::ChunkIndex(0), None).ok()?;
            let mut out = Vec::new();
            while src.fill(&mut out).ok()? {}
            Some(out)
        }
    }
}

fn seed(corpus: &Path, out: &Path) -> i32 {
    let mut files = Vec::new();
    walk_files(corpus, &mut files);
    // Group component files by set (directory + base name).
    let mut sets: std::collections::BTreeMap<(PathBuf, String), Vec<(ComponentName, PathBuf)>> =
        Default::default();
    let mut schemas: Vec<PathBuf> = Vec::new();
    for p in &files {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.ends_with(".cql") {
            schemas.push(p.clone());
            continue;
        }
        if let Ok(Some((d, c))) = Descriptor::parse_file_name(name) {
            let dir = p.parent().map(Path::to_path_buf).unwrap_or_default();
            sets.entry((dir, d.base_name()))
                .or_default()
                .push((c, p.clone()));
        }
    }
    let mut count = std::collections::BTreeMap::<&str, usize>::new();
    let mut put = |target: &'static str, bytes: &[u8]| {
        // Keep seeds small enough for fast executions.
        if bytes.len() > 256 * 1024 {
            return;
        }
        let dir = out.join(target);
        let _ = std::fs::create_dir_all(&dir);
        let n = count.entry(target).or_default();
        *n += 1;
        let _ = std::fs::write(dir.join(format!("seed-{n:05}")), bytes);
    };
    for p in &schemas {
        if let Ok(b) = std::fs::read(p) {
            put("cql_schema", &b);
        }
    }
    for ((dir, base), comps) in &sets {
        let Ok(Some((d, _))) = Descriptor::parse_file_name(&format!("{base}-Data.db")) else {
            continue;
        };
        let Ok(v) = d.require_version() else {
            continue;
        };
        let vb = targets::version_byte(v);
        let read = |c: &ComponentName| -> Option<Vec<u8>> {
            comps
                .iter()
                .find(|(x, _)| x == c)
                .and_then(|(_, p)| std::fs::read(p).ok())
        };
        let with_v = |b: &[u8]| {
            let mut o = vec![vb];
            o.extend_from_slice(b);
            o
        };
        let stats = read(&ComponentName::Statistics);
        let ci = read(&ComponentName::CompressionInfo);
        if let Some(b) = &stats {
            put("statistics", &with_v(b));
        }
        if let Some(b) = &ci {
            put("compression_info", &with_v(b));
        }
        if let Some(b) = read(&ComponentName::Summary) {
            put("summary", &with_v(&b));
        }
        if let Some(b) = read(&ComponentName::Index) {
            put("index", &with_v(&b));
        }
        if let Some(b) = read(&ComponentName::Partitions) {
            let rows = read(&ComponentName::Rows).unwrap_or_default();
            put("bti_partitions", &with_v(&targets::pack_two(&b, &rows)));
        }
        if let Some(b) = read(&ComponentName::Toc) {
            put("toc", &b);
        }
        if let Some(b) = read(&ComponentName::Scylla) {
            put("scylla", &b);
        }
        if let Some((_, p)) = comps
            .iter()
            .find(|(c, _)| matches!(c, ComponentName::Digest(_)))
        {
            if let Ok(b) = std::fs::read(p) {
                put("crc_digest", &with_v(&b));
            }
        }
        let data = read(&ComponentName::Data);
        if let (Some(crc), Some(data)) = (read(&ComponentName::Crc), &data) {
            put("crc_digest", &with_v(&targets::pack_two(&crc, data)));
        }
        let Some(plain) = data.and_then(|d| plain_data(&d, ci.as_deref(), v)) else {
            continue;
        };
        if v.is_legacy_layout() {
            // The schema beside the set (or above it), if any.
            let schema = [dir.join("schema.cql"), dir.join("../schema.cql")]
                .iter()
                .find_map(|p| std::fs::read(p).ok())
                .or_else(|| catalog_schema(corpus, dir, base));
            if let Some(s) = schema {
                put("data_legacy", &with_v(&targets::pack_two(&s, &plain)));
            }
        } else if let Some(s) = &stats {
            let target = if v == Version::Da {
                "data_bti"
            } else {
                "data_rows"
            };
            put(target, &with_v(&targets::pack_two(s, &plain)));
        }
    }
    for (t, n) in &count {
        println!("{t}: {n} seed(s)");
    }
    0
}

/// The schema column of `CATALOG.tsv` for the set `dir/base` (column 1 is the set's path
/// pattern relative to the corpus, `.../base-*`; column 11 its CQL), without `CREATE KEYSPACE`.
fn catalog_schema(corpus: &Path, dir: &Path, base: &str) -> Option<Vec<u8>> {
    let text = std::fs::read_to_string(corpus.join("CATALOG.tsv")).ok()?;
    let rel = dir.strip_prefix(corpus).ok()?.join(format!("{base}-*"));
    let rel = rel.to_str()?;
    let line = text.lines().find(|l| l.split('\t').next() == Some(rel))?;
    let cql = line.split('\t').nth(10)?;
    let kept: Vec<&str> = cql
        .split(';')
        .filter(|st| {
            !st.trim()
                .to_ascii_lowercase()
                .starts_with("create keyspace")
        })
        .collect();
    let out = kept.join(";");
    (!out.trim().is_empty()).then(|| out.into_bytes())
}

// ----------------------------------------------------------------------------------------
// Mutation loop
// ----------------------------------------------------------------------------------------

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const INTERESTING: [u64; 10] = [
    0,
    1,
    0x7f,
    0x80,
    0xff,
    0x7fff,
    0xffff,
    0x7fff_ffff,
    0xffff_ffff,
    u64::MAX,
];

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], input: &mut Vec<u8>) {
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        let len = input.len();
        match rng.below(9) {
            0 if len > 0 => {
                let i = rng.below(len * 8);
                if let Some(b) = input.get_mut(i / 8) {
                    *b ^= 1 << (i % 8);
                }
            }
            1 if len > 0 => {
                let i = rng.below(len);
                if let Some(b) = input.get_mut(i) {
                    *b = rng.next() as u8;
                }
            }
            2 => input.truncate(rng.below(len + 1)),
            3 => {
                // Splice: our head with another seed's tail.
                let other = seeds.get(rng.below(seeds.len())).map_or(&[][..], |s| s);
                let cut = rng.below(len + 1);
                let from = rng.below(other.len() + 1);
                input.truncate(cut);
                input.extend_from_slice(other.get(from..).unwrap_or_default());
            }
            4 => {
                let at = rng.below(len + 1);
                let n = 1 + rng.below(16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                input.splice(at..at, bytes);
            }
            5 if len > 0 => {
                let at = rng.below(len);
                let n = 1 + rng.below((len - at).min(64));
                input.drain(at..at + n);
            }
            6 if len > 0 => {
                // An interesting integer, big-endian, 1..8 bytes wide.
                let v = INTERESTING
                    .get(rng.below(INTERESTING.len()))
                    .copied()
                    .unwrap_or(0);
                let w = 1 + rng.below(8);
                let at = rng.below(len);
                let be = v.to_be_bytes();
                for (k, b) in be.get(8 - w..).unwrap_or_default().iter().enumerate() {
                    if let Some(x) = input.get_mut(at + k) {
                        *x = *b;
                    }
                }
            }
            7 if len > 0 => {
                // Duplicate a run.
                let at = rng.below(len);
                let n = 1 + rng.below((len - at).min(256));
                let run: Vec<u8> = input.get(at..at + n).unwrap_or_default().to_vec();
                let to = rng.below(len + 1);
                input.splice(to..to, run);
            }
            _ => {
                let n = rng.below(64);
                *input = (0..n).map(|_| rng.next() as u8).collect();
            }
        }
    }
}

fn load_seeds(dir: &Path) -> Vec<Vec<u8>> {
    let mut files = Vec::new();
    walk_files(dir, &mut files);
    let mut seeds: Vec<Vec<u8>> = files.iter().filter_map(|p| std::fs::read(p).ok()).collect();
    if seeds.is_empty() {
        seeds.push(Vec::new());
    }
    seeds
}

fn run(out: &Path, secs: u64, only: &[String]) -> i32 {
    let artifacts = out.parent().unwrap_or(out).join("artifacts");
    let hang_secs = 10;
    // The input being run, for the watchdog.
    let current: Arc<Mutex<(String, Vec<u8>)>> = Arc::default();
    let started = Arc::new(AtomicU64::new(u64::MAX));
    {
        let current = Arc::clone(&current);
        let started = Arc::clone(&started);
        let artifacts = artifacts.clone();
        let origin = Instant::now();
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(500));
            let s = started.load(Ordering::SeqCst);
            let now = origin.elapsed().as_millis() as u64;
            if s != u64::MAX && now.saturating_sub(s) > hang_secs * 1000 {
                if let Ok(c) = current.lock() {
                    let dir = artifacts.join(&c.0);
                    let _ = std::fs::create_dir_all(&dir);
                    let p = dir.join("hang");
                    let _ = std::fs::write(&p, &c.1);
                    eprintln!("HANG in {}: input saved to {}", c.0, p.display());
                }
                std::process::abort();
            }
        });
    }
    let origin = Instant::now();
    std::panic::set_hook(Box::new(|_| {}));
    let mut any_crash = false;
    println!(
        "{:<18} {:>10} {:>8} {:>8} {:>7}",
        "target", "execs", "secs", "crashes", "seeds"
    );
    for (name, f) in targets::TARGETS {
        if !only.is_empty() && !only.iter().any(|o| o == name) {
            continue;
        }
        let seeds = load_seeds(&out.join(name));
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ name.len() as u64);
        let t0 = Instant::now();
        let (mut execs, mut crashes) = (0u64, 0u64);
        let mut input = Vec::new();
        // Every seed once as is, then mutants.
        let mut i = 0usize;
        while t0.elapsed().as_secs() < secs {
            input.clear();
            input.extend_from_slice(seeds.get(i % seeds.len()).map_or(&[][..], |s| s));
            if i >= seeds.len() {
                mutate(&mut rng, &seeds, &mut input);
            }
            i += 1;
            if let Ok(mut c) = current.lock() {
                c.0 = name.to_string();
                c.1.clone_from(&input);
            }
            started.store(origin.elapsed().as_millis() as u64, Ordering::SeqCst);
            let r = std::panic::catch_unwind(|| f(&input));
            started.store(u64::MAX, Ordering::SeqCst);
            execs += 1;
            if r.is_err() {
                crashes += 1;
                let dir = artifacts.join(name);
                let _ = std::fs::create_dir_all(&dir);
                let p = dir.join(format!("crash-{crashes:03}"));
                let _ = std::fs::write(&p, &input);
                if crashes <= 3 {
                    eprintln!("CRASH in {name}: input saved to {}", p.display());
                }
            }
        }
        any_crash |= crashes > 0;
        println!(
            "{:<18} {:>10} {:>8.1} {:>8} {:>7}",
            name,
            execs,
            t0.elapsed().as_secs_f64(),
            crashes,
            seeds.len()
        );
    }
    i32::from(any_crash)
}

fn replay(name: &str, files: &[String]) -> i32 {
    let Some(f) = target(name) else {
        eprintln!("unknown target {name}");
        return 2;
    };
    for p in files {
        match std::fs::read(p) {
            Ok(b) => {
                let t = Instant::now();
                f(&b);
                println!("{p}: ok in {:?}", t.elapsed());
            }
            Err(e) => eprintln!("{p}: {e}"),
        }
    }
    0
}
