#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sstable_lake_fuzz::scylla(data));
