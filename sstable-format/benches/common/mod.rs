#![allow(
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    reason = "benchmark setup"
)]
//! Shared generators of the benchmarks: synthetic Data.db files written with the project's
//! writer, and LZ4 compression into checksummed chunks.
#![allow(dead_code, reason = "each benchmark uses a subset")]

use sstable_format::chunks::compress_chunk;
use sstable_format::compression_info::{write_compression_info, Codec, CompressionInfo};
use sstable_format::data::{Cell, CellKind, DeletionTime, Layout, LivenessInfo, Row};
use sstable_format::writer::DataWriter;
use sstable_format::{CqlType, DataOffset, Version};

pub const CHUNK: usize = 16 * 1024;

pub fn layout() -> Layout {
    let regs = [
        CqlType::Text,
        CqlType::Int,
        CqlType::BigInt,
        CqlType::Double,
        CqlType::Text,
        CqlType::Boolean,
        CqlType::Timestamp,
        CqlType::Uuid,
    ];
    Layout::new(
        Version::Nb,
        (1_600_000_000_000_000, 1_600_000_000, 0),
        &[CqlType::Int],
        &[],
        &regs.iter().collect::<Vec<_>>(),
    )
    .expect("layout")
}

/// An uncompressed Data.db of `partitions` x `rows` rows with 8 columns each.
pub fn synthetic(partitions: u32, rows: u32) -> Vec<u8> {
    synthetic_at(partitions, rows, 0)
}

/// Like [`synthetic`], with every timestamp shifted by `ts_shift` (a later replica's overwrite).
pub fn synthetic_at(partitions: u32, rows: u32, ts_shift: i64) -> Vec<u8> {
    let mut w = DataWriter::new(layout());
    let text = b"some text value of about forty bytes....";
    let ints: Vec<[u8; 4]> = (0..rows).map(|i| i.to_be_bytes()).collect();
    for p in 0..partitions {
        let key = p.to_be_bytes();
        w.start_partition(&key, DeletionTime::LIVE)
            .expect("partition");
        for (r, ck) in ints.iter().enumerate() {
            let ts = 1_600_000_000_000_000 + i64::from(p) * 1000 + r as i64 + ts_shift;
            let big = (ts as u64).to_be_bytes();
            let dbl = (r as f64 * 1.5).to_be_bytes();
            let uuid = [7u8; 16];
            let values: [&[u8]; 8] = [&text[..], ck, &big, &dbl, &text[..20], &[1], &big, &uuid];
            let cells = values
                .iter()
                .enumerate()
                .map(|(i, v)| Cell {
                    column: i as u32,
                    timestamp: ts,
                    kind: CellKind::Live,
                    path: None,
                    value: v,
                })
                .collect();
            let row = Row {
                is_static: false,
                clustering: vec![Some(&ck[..])],
                liveness: LivenessInfo {
                    timestamp: Some(ts),
                    ttl: None,
                },
                deletion: DeletionTime::LIVE,
                deletion_is_shadowable: false,
                scylla_shadowable_deletion: None,
                complex_deletions: vec![],
                cells,
                offset: DataOffset(0),
            };
            w.write_row(&row).expect("row");
        }
        w.end_partition().expect("end");
    }
    w.finish()
}

/// Compresses `data` into LZ4 chunks with CRC32s; returns (Data.db, CompressionInfo).
pub fn compress(data: &[u8]) -> (Vec<u8>, CompressionInfo) {
    let mut file = Vec::new();
    let mut offsets = Vec::new();
    for chunk in data.chunks(CHUNK) {
        offsets.push(file.len() as u64);
        let start = file.len();
        compress_chunk(&Codec::Lz4, chunk, &mut file).expect("compress");
        let crc = crc32fast::hash(&file[start..]);
        file.extend_from_slice(&crc.to_be_bytes());
    }
    let mut info = Vec::new();
    write_compression_info(
        "LZ4Compressor",
        &[],
        CHUNK as u32,
        Some(i32::MAX as u32),
        data.len() as u64,
        &offsets,
        &mut info,
    );
    (
        file,
        CompressionInfo::parse(&info, Version::Nb).expect("info"),
    )
}
