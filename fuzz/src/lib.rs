//! The fuzz targets of sstable-lake's parsers, as a library: see [`targets`]. The cargo-fuzz
//! binaries in `fuzz_targets/` call these functions under libFuzzer (nightly); the stable
//! driver `sstable-format/examples/fuzz.rs` (run by `scripts/fuzz.sh`) includes the same file.

pub mod targets;
pub use targets::*;
