//! Partitioners and tokens, exactly as Cassandra computes them: the order of partitions in every
//! SSTable, and the token ranges that splits and shards are cut along.
//!
//! Mirrors `dht/Murmur3Partitioner` (with `utils/MurmurHash.hash3_x64_128`, including its
//! sign extension of tail bytes), `dht/RandomPartitioner` and `dht/ByteOrderedPartitioner`.

use std::cmp::Ordering;
use std::fmt;

use crate::error::{Component, Error, Result};

/// A partitioner named in Statistics.db.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Partitioner {
    /// `org.apache.cassandra.dht.Murmur3Partitioner` (the default since 1.2).
    Murmur3,
    /// `org.apache.cassandra.dht.RandomPartitioner` (MD5).
    Random,
    /// `org.apache.cassandra.dht.ByteOrderedPartitioner` (raw key bytes).
    ByteOrdered,
    /// `org.apache.cassandra.dht.OrderPreservingPartitioner` (keys as UTF-8, byte order).
    OrderPreserving,
    /// `org.apache.cassandra.dht.LocalPartitioner` (secondary indexes; ordered by the key type).
    Local,
}

impl Partitioner {
    /// Parses the class name stored in Statistics.db (full or simple name).
    pub fn from_class_name(name: &str) -> Result<Partitioner> {
        let simple = name.rsplit('.').next().unwrap_or(name);
        let simple = simple.split('(').next().unwrap_or(simple);
        Ok(match simple {
            "Murmur3Partitioner" => Partitioner::Murmur3,
            "RandomPartitioner" => Partitioner::Random,
            "ByteOrderedPartitioner" => Partitioner::ByteOrdered,
            "OrderPreservingPartitioner" => Partitioner::OrderPreserving,
            "LocalPartitioner" => Partitioner::Local,
            _ => {
                return Err(Error::invalid(
                    Component::Statistics,
                    0,
                    format!("unknown partitioner {name:?}"),
                ))
            }
        })
    }

    /// The simple class name.
    pub fn class_name(self) -> &'static str {
        match self {
            Partitioner::Murmur3 => "Murmur3Partitioner",
            Partitioner::Random => "RandomPartitioner",
            Partitioner::ByteOrdered => "ByteOrderedPartitioner",
            Partitioner::OrderPreserving => "OrderPreservingPartitioner",
            Partitioner::Local => "LocalPartitioner",
        }
    }

    /// The token of a serialized partition key.
    pub fn token(self, key: &[u8]) -> Token {
        match self {
            Partitioner::Murmur3 => Token::Long(murmur3_token(key)),
            Partitioner::Random => Token::Big(random_token(key)),
            Partitioner::ByteOrdered | Partitioner::OrderPreserving | Partitioner::Local => {
                Token::Bytes(key.to_vec())
            }
        }
    }
}

/// A token. Tokens of one partitioner compare in ring order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Token {
    /// Murmur3 token.
    Long(i64),
    /// RandomPartitioner token, 0..=2^127.
    Big(u128),
    /// Byte-ordered token: the key itself.
    Bytes(Vec<u8>),
}

impl PartialOrd for Token {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Token {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Token::Long(a), Token::Long(b)) => a.cmp(b),
            (Token::Big(a), Token::Big(b)) => a.cmp(b),
            (Token::Bytes(a), Token::Bytes(b)) => a.cmp(b),
            // Mixed partitioners never meet in one table; order by kind to stay total.
            (a, b) => a.rank().cmp(&b.rank()),
        }
    }
}

impl Token {
    fn rank(&self) -> u8 {
        match self {
            Token::Long(_) => 0,
            Token::Big(_) => 1,
            Token::Bytes(_) => 2,
        }
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Long(v) => write!(f, "{v}"),
            Token::Big(v) => write!(f, "{v}"),
            Token::Bytes(b) => {
                for x in b {
                    write!(f, "{x:02x}")?;
                }
                Ok(())
            }
        }
    }
}

const C1: u64 = 0x87c3_7b91_1142_53d5;
const C2: u64 = 0x4cf5_ad43_2745_937f;

fn fmix(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

/// Cassandra's `MurmurHash.hash3_x64_128(key, 0, len, 0)`, returning `(h1, h2)`. The tail bytes
/// are sign-extended as Java's `(long) byte` does, unlike the reference implementation.
pub fn murmur3_x64_128_cassandra(key: &[u8]) -> (u64, u64) {
    let mut h1: u64 = 0;
    let mut h2: u64 = 0;
    let mut blocks = key.chunks_exact(16);
    for block in &mut blocks {
        let mut lo = [0u8; 8];
        let mut hi = [0u8; 8];
        lo.copy_from_slice(block.get(..8).unwrap_or(&[0; 8]));
        hi.copy_from_slice(block.get(8..).unwrap_or(&[0; 8]));
        let mut k1 = u64::from_le_bytes(lo);
        let mut k2 = u64::from_le_bytes(hi);
        k1 = k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2);
        h1 ^= k1;
        h1 = h1
            .rotate_left(27)
            .wrapping_add(h2)
            .wrapping_mul(5)
            .wrapping_add(0x52dc_e729);
        k2 = k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1);
        h2 ^= k2;
        h2 = h2
            .rotate_left(31)
            .wrapping_add(h1)
            .wrapping_mul(5)
            .wrapping_add(0x3849_5ab5);
    }
    let tail = blocks.remainder();
    let signed = |i: usize| tail.get(i).map_or(0u64, |b| i64::from(*b as i8) as u64);
    let mut k1: u64 = 0;
    let mut k2: u64 = 0;
    for i in (8..tail.len()).rev() {
        k2 ^= signed(i) << ((i - 8) * 8);
    }
    if tail.len() > 8 {
        k2 = k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1);
        h2 ^= k2;
    }
    for i in (0..tail.len().min(8)).rev() {
        k1 ^= signed(i) << (i * 8);
    }
    if !tail.is_empty() {
        k1 = k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2);
        h1 ^= k1;
    }
    let len = key.len() as u64;
    h1 ^= len;
    h2 ^= len;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix(h1);
    h2 = fmix(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    (h1, h2)
}

/// The Murmur3Partitioner token of a key (`Murmur3Partitioner.getToken`).
pub fn murmur3_token(key: &[u8]) -> i64 {
    if key.is_empty() {
        return i64::MIN;
    }
    let token = murmur3_x64_128_cassandra(key).0 as i64;
    if token == i64::MIN {
        i64::MAX
    } else {
        token
    }
}

/// The RandomPartitioner token: `abs(BigInteger(md5(key)))`.
pub fn random_token(key: &[u8]) -> u128 {
    use md5::Digest;
    let digest: [u8; 16] = md5::Md5::digest(key).into();
    let v = i128::from_be_bytes(digest);
    v.unsigned_abs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur3_known_tokens() {
        // Values from Cassandra: SELECT token(k) for int keys 1..3 (4-byte BE keys).
        assert_eq!(murmur3_token(&1i32.to_be_bytes()), -4069959284402364209);
        assert_eq!(murmur3_token(&2i32.to_be_bytes()), -3248873570005575792);
        assert_eq!(murmur3_token(&3i32.to_be_bytes()), 9010454139840013625);
        assert_eq!(murmur3_token(b""), i64::MIN);
    }

    #[test]
    fn murmur3_sign_extension_quirk() {
        // Tail bytes >= 0x80 are sign-extended: the result differs from a zero-extended hash.
        let key = [0xffu8, 0x01, 0x80];
        let quirky = murmur3_x64_128_cassandra(&key);
        let ascii = murmur3_x64_128_cassandra(b"abc");
        assert_ne!(quirky, ascii);
    }

    #[test]
    fn partitioner_names() {
        assert_eq!(
            Partitioner::from_class_name("org.apache.cassandra.dht.Murmur3Partitioner").unwrap(),
            Partitioner::Murmur3
        );
        assert!(Partitioner::from_class_name("Nope").is_err());
        assert!(matches!(Partitioner::Random.token(b"a"), Token::Big(_)));
        assert!(Token::Long(-1) < Token::Long(1));
    }
}
